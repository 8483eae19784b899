//! [`OAuthClient`]: the one HTTP client every flow shares: form POSTs to the token endpoint,
//! timeouts, bounded bodies; plus revoke and userinfo. Reading the answers (success and error
//! JSON, the signature check) is [`response`](crate::response)'s.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pardot_auth_core::body::{self, BodyError};
use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use pardot_auth_core::{
    AccessToken, DEFAULT_SALESFORCE_SESSION, Error, ErrorClass, Expiry, LoginHost, SharedClock,
    SystemClock, TokenKind,
};
use reqwest::header::ACCEPT;
use tracing::Instrument;

use crate::error::OAuthError;
use crate::response::{RawResponse, TokenResponse, UserInfo, error_from_response, parse_json};
use crate::types::{ClientId, ClientSecret};

/// Default bound on a response body: token answers are well under 4 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Default total time for one HTTP exchange.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the client authenticates itself to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields (the default).
    #[default]
    FormFields,
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
}

/// The HTTP client, clock and limits shared by every flow. Cheap to clone.
///
/// Defaults: the system clock, a 30 s request timeout (set on every request, so it holds for
/// a client given with [`OAuthClientBuilder::http_client`] too) and a 10 s connect timeout
/// (they bound network exchanges, while logical waits such as device polling and the callback
/// timeout run on the [`Clock`](pardot_auth_core::Clock)), responses bounded to 64 KiB, no
/// redirects followed, and a Salesforce session estimate of [`DEFAULT_SALESFORCE_SESSION`]
/// (2 h), since Salesforce never says when a token expires.
///
/// Without a client given, the `reqwest` client is built on the first request, not here:
/// building one loads the system root certificates, which dominates a short process's CPU,
/// and a flow built with [`OAuthClient::default`] then handed another client should not pay
/// for it.
///
/// ```
/// use std::time::Duration;
/// use pardot_auth_core::ManualClock;
/// use sf_oauth::OAuthClient;
///
/// let clock = ManualClock::new();
/// let client = OAuthClient::builder()
///     .clock(clock.shared())
///     .session_estimate(Duration::from_secs(15 * 60)) // the org's session timeout
///     .build()?;
/// assert_eq!(client.session_estimate(), Duration::from_secs(900));
/// # Ok::<(), pardot_auth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OAuthClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Filled at build time when a client was given, else on the first request.
    http: OnceLock<reqwest::Client>,
    connect_timeout: Duration,
    no_proxy: bool,
    timeout: Duration,
    clock: SharedClock,
    max_body_bytes: usize,
    session_estimate: Duration,
}

pardot_auth_core::debug_shows!(OAuthClient as this {
    clock: this.inner.clock,
    max_body_bytes: this.inner.max_body_bytes,
    session_estimate: this.inner.session_estimate,
});

impl Default for OAuthClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds an [`OAuthClient`]; see its defaults there.
#[derive(Debug, Default)]
pub struct OAuthClientBuilder {
    http: Option<reqwest::Client>,
    clock: Option<SharedClock>,
    max_body_bytes: Option<usize>,
    session_estimate: Option<Duration>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    no_proxy: bool,
}

impl OAuthClientBuilder {
    pardot_auth_core::builder_setters! {
        /// Uses your `reqwest` client (then the connect timeout and proxy settings here are not
        /// applied: configure them on your client, and do not let it follow redirects; the request
        /// timeout and body bound still are, per request).
        pub fn http_client(client: reqwest::Client) => http = Some(client);

        /// The clock for issue times, JWT claims and waits.
        pub fn clock(clock: SharedClock) => clock = Some(clock);

        /// Bound on any response body.
        pub fn max_body_bytes(bytes: usize) => max_body_bytes = Some(bytes);

        /// The assumed life of a Salesforce access token (the org's session timeout; default
        /// 2 h). This is the one place the estimate is made: tokens carry it as
        /// [`Expiry::Estimated`], and caches such as `pardot_http::CachedTokenSource` take it as
        /// given.
        pub fn session_estimate(session: Duration) => session_estimate = Some(session);

        /// Total time for one HTTP exchange.
        pub fn timeout(timeout: Duration) => timeout = Some(timeout);

        /// Time to establish a connection.
        pub fn connect_timeout(timeout: Duration) => connect_timeout = Some(timeout);

        /// Ignores proxy environment variables (useful against a local mock).
        pub fn no_proxy() => no_proxy = true;
    }

    /// Builds the client. Without [`http_client`](Self::http_client) the `reqwest` client is
    /// built on the first request (a failure to build it is that request's error).
    pub fn build(self) -> Result<OAuthClient, Error> {
        Ok(self.finish())
    }

    fn finish(self) -> OAuthClient {
        let http = self.http.map_or_else(OnceLock::new, OnceLock::from);
        OAuthClient {
            inner: Arc::new(Inner {
                http,
                connect_timeout: self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                no_proxy: self.no_proxy,
                timeout: self.timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
                clock: self.clock.unwrap_or_else(SystemClock::shared),
                max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                session_estimate: self.session_estimate.unwrap_or(DEFAULT_SALESFORCE_SESSION),
            }),
        }
    }
}

impl OAuthClient {
    /// A client with the defaults. Cheap: the `reqwest` client is built on the first request.
    pub fn new() -> Self {
        Self::builder().finish()
    }

    /// A builder.
    pub fn builder() -> OAuthClientBuilder {
        OAuthClientBuilder::default()
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The assumed life of a Salesforce access token.
    pub fn session_estimate(&self) -> Duration {
        self.inner.session_estimate
    }

    /// The bound on response bodies.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// Sends a request and reads the body up to the bound.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<RawResponse, OAuthError> {
        let response = request
            .timeout(self.inner.timeout)
            .send()
            .await
            .map_err(OAuthError::Transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let limit = self.inner.max_body_bytes;
        let announced = response.content_length();
        let next_chunk = async |mut response: reqwest::Response| {
            let chunk = response.chunk().await.map(|c| c.map(Vec::from));
            (response, chunk)
        };
        let body = body::read_bounded(response, announced, limit, next_chunk)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit } => OAuthError::BodyTooLarge { limit },
                BodyError::Read(e) => OAuthError::Transport(e),
            })?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// POSTs a form to `url` (which must be https or loopback) and returns the raw answer;
    /// non-2xx answers become [`OAuthError::Server`] / [`OAuthError::Http`].
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&ClientId, &ClientSecret)>,
    ) -> Result<RawResponse, OAuthError> {
        check_url(url)?;
        let mut request = self
            .http()?
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id.as_str(), Some(secret.secret().expose_secret()));
        }
        let raw = self.send(request).await?;
        if (200..300).contains(&raw.status) {
            Ok(raw)
        } else {
            Err(error_from_response(&raw))
        }
    }

    /// POSTs a token request and parses Salesforce's token JSON, checking `signature` when
    /// `secret` is given.
    pub(crate) async fn token_request(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&ClientId, &ClientSecret)>,
        secret: Option<&ClientSecret>,
    ) -> Result<TokenResponse, OAuthError> {
        let raw = self.post_form(url, form, basic).await?;
        let response = TokenResponse::parse(&raw.body)?;
        if let Some(secret) = secret {
            response.verify_signature(secret)?;
        }
        Ok(response)
    }

    /// The `reqwest` client, built now if none was given and no request has needed it yet.
    pub(crate) fn http(&self) -> Result<&reqwest::Client, OAuthError> {
        if let Some(h) = self.inner.http.get() {
            return Ok(h);
        }
        // Concurrent first requests may both build one; the loser's is dropped. Rare, and
        // cheaper than holding a lock across a TLS initialisation.
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.inner.connect_timeout)
            .user_agent(concat!("sf-oauth/", env!("CARGO_PKG_VERSION")));
        if self.inner.no_proxy {
            b = b.no_proxy();
        }
        let built = b
            .build()
            .map_err(|e| OAuthError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(self.inner.http.get_or_init(|| built))
    }

    /// Whether the `reqwest` client exists yet (tests check that building costs nothing).
    #[cfg(test)]
    pub(crate) fn http_built(&self) -> bool {
        self.inner.http.get().is_some()
    }

    /// Revokes an access or refresh token (`POST /services/oauth2/revoke`, `token=…`).
    /// Revoking a refresh token also revokes the access tokens issued from it.
    ///
    /// ```no_run
    /// # async fn demo(token: pardot_auth_core::AccessToken) -> Result<(), pardot_auth_core::Error> {
    /// use pardot_auth_core::LoginHost;
    /// use sf_oauth::OAuthClient;
    /// OAuthClient::new().revoke(&LoginHost::Production, token.secret()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, host: &LoginHost, token: &SecretString) -> Result<(), Error> {
        let span = tracing::info_span!("sf_oauth.revoke", host = %host);
        self.post_form(
            &host.revoke_url(),
            &[("token", token.expose_secret())],
            None,
        )
        .instrument(span)
        .await
        .map(|_| ())
        .map_err(|e| e.into_core("token revocation"))
    }

    /// Reads the OpenID Connect userinfo of the user a token belongs to
    /// (`GET /services/oauth2/userinfo`). A bad or expired token gives an error classified
    /// `RefreshAndRetry`.
    ///
    /// ```no_run
    /// # async fn demo(token: pardot_auth_core::AccessToken) -> Result<(), pardot_auth_core::Error> {
    /// use pardot_auth_core::LoginHost;
    /// use sf_oauth::OAuthClient;
    /// let me = OAuthClient::new().userinfo(&LoginHost::Production, &token).await?;
    /// println!("{} in org {}", me.preferred_username, me.organization_id);
    /// # Ok(()) }
    /// ```
    pub async fn userinfo(&self, host: &LoginHost, token: &AccessToken) -> Result<UserInfo, Error> {
        let context = "userinfo request";
        let url = host.userinfo_url();
        check_url(&url).map_err(|e| e.into_core(context))?;
        let request = self
            .http()
            .map_err(|e| e.into_core(context))?
            .get(url)
            .header(ACCEPT, "application/json")
            .bearer_auth(token.secret().expose_secret());
        let raw = self.send(request).await.map_err(|e| e.into_core(context))?;
        if !(200..300).contains(&raw.status) {
            let err = error_from_response(&raw).into_core(context);
            // Salesforce refuses a bad, expired or revoked token with 401/403 here: a fresh
            // token is the cure.
            return Err(if matches!(raw.status, 401 | 403) {
                err.with_class(ErrorClass::RefreshAndRetry)
            } else {
                err
            });
        }
        parse_json(&raw.body, "userinfo").map_err(|e| e.into_core(context))
    }

    /// Turns a token response into an [`AccessToken`] of kind `SalesforceBearer`, issued at
    /// the server's `issued_at` (or now), expiring (estimated) a session later.
    pub(crate) fn salesforce_token(&self, response: TokenResponse) -> AccessToken {
        let issued = response.issued_at.unwrap_or_else(|| self.inner.clock.now());
        let mut token = AccessToken::new(
            TokenKind::SalesforceBearer,
            response.access_token,
            issued,
            Expiry::Estimated(issued + self.inner.session_estimate),
        );
        if let Some(url) = response.instance_url {
            token = token.with_instance_url(url);
        }
        if let Some(id) = response.id {
            token = token.with_identity_url(id);
        }
        if let Some(scope) = response.scope {
            token = token.with_scopes(scope);
        }
        if let Some(refresh) = response.refresh_token {
            token = token.with_refresh_token(refresh);
        }
        token
    }
}

pub(crate) fn check_url(url: &Url) -> Result<(), OAuthError> {
    pardot_auth_core::ensure_secure(url).map_err(|e| OAuthError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback server answering every connection with `answer` (or holding it open,
    /// unanswered, when `None`).
    async fn loopback(answer: Option<&'static str>) -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                match answer {
                    Some(a) => {
                        let _ = socket.write_all(a.as_bytes()).await;
                    }
                    None => held.push(socket),
                }
            }
        });
        Url::parse(&format!("http://{addr}/services/oauth2/token")).unwrap()
    }

    #[test]
    fn building_costs_no_http_client_until_a_request() {
        // Every flow starts from OAuthClient::default(); building a reqwest client loads the
        // system root store, so none may exist before a request needs it.
        assert!(!OAuthClient::default().http_built());
        assert!(!OAuthClient::new().http_built());
        assert!(
            !OAuthClient::builder()
                .no_proxy()
                .build()
                .unwrap()
                .http_built()
        );
        let given = OAuthClient::builder()
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        assert!(given.http_built());
    }

    #[tokio::test]
    async fn the_lazy_client_is_built_once_and_follows_no_redirect() {
        let url = loopback(Some(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ))
        .await;
        let client = OAuthClient::builder().no_proxy().build().unwrap();
        let clone = client.clone();
        let Err(err) = client.post_form(&url, &[("a", "b")], None).await else {
            panic!("expected an error");
        };
        assert!(
            matches!(err, OAuthError::Http { status: 302, .. }),
            "{err:?}"
        );
        assert!(clone.http_built(), "clones share the built client");
        let first: *const reqwest::Client = client.http().unwrap();
        let second: *const reqwest::Client = clone.http().unwrap();
        assert_eq!(first, second);
    }

    #[tokio::test]
    async fn the_request_timeout_holds_for_a_given_client() {
        let url = loopback(None).await;
        // A client with no timeout of its own: the bound must come from OAuthClient.
        let client = OAuthClient::builder()
            .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let Err(err) = client.post_form(&url, &[("a", "b")], None).await else {
            panic!("expected an error");
        };
        match err {
            OAuthError::Transport(e) => assert!(e.is_timeout(), "{e:?}"),
            other => panic!("{other:?}"),
        }
    }
}
