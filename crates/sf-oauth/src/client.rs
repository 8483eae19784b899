//! [`OAuthClient`]: the one HTTP client every flow shares: form POSTs to the token endpoint,
//! timeouts, bounded bodies, Salesforce's success and error JSON, signature checks; plus
//! revoke and userinfo.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{KeyInit, Mac};
use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use pardot_auth_core::{
    AccessToken, DEFAULT_SALESFORCE_SESSION, Error, ErrorClass, Expiry, LoginHost, Scopes,
    SharedClock, SystemClock, TokenKind, redact,
};
use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use tracing::Instrument;

use crate::error::{OAuthError, OAuthErrorCode};
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

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("clock", &self.inner.clock)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("session_estimate", &self.inner.session_estimate)
            .finish_non_exhaustive()
    }
}

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
    /// Uses your `reqwest` client (then the connect timeout and proxy settings here are not
    /// applied: configure them on your client, and do not let it follow redirects; the request
    /// timeout and body bound still are, per request).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The clock for issue times, JWT claims and waits.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Bound on any response body.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = Some(bytes);
        self
    }

    /// The assumed life of a Salesforce access token (the org's session timeout).
    pub fn session_estimate(mut self, session: Duration) -> Self {
        self.session_estimate = Some(session);
        self
    }

    /// Total time for one HTTP exchange.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time to establish a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Ignores proxy environment variables (useful against a local mock).
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
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

/// A raw HTTP answer, body already bounded.
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
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
        let mut response = request
            .timeout(self.inner.timeout)
            .send()
            .await
            .map_err(OAuthError::Transport)?;
        let limit = self.inner.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(OAuthError::BodyTooLarge { limit });
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(OAuthError::Transport)? {
            if body.len() + chunk.len() > limit {
                return Err(OAuthError::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
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
        serde_json::from_slice(&raw.body).map_err(|source| {
            OAuthError::Parse {
                what: "userinfo",
                source,
            }
            .into_core(context)
        })
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

/// `now` plus `secs` seconds a server gave (`expires_in`), or a parse error naming `field` when
/// the sum is past any representable date: adding it unchecked would panic.
pub(crate) fn seconds_after(
    now: SystemTime,
    secs: u64,
    what: &'static str,
    field: &str,
) -> Result<SystemTime, OAuthError> {
    now.checked_add(Duration::from_secs(secs))
        .ok_or_else(|| OAuthError::Parse {
            what,
            source: <serde_json::Error as serde::de::Error>::custom(format!(
                "{field} {secs} is out of range"
            )),
        })
}

pub(crate) fn check_url(url: &Url) -> Result<(), OAuthError> {
    pardot_auth_core::ensure_secure(url).map_err(|e| OAuthError::Config(e.to_string()))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads an error answer: the OAuth JSON body when there is one, else the status and the
/// start of the (error) body.
pub(crate) fn error_from_response(raw: &RawResponse) -> OAuthError {
    let retry_after = retry_after(&raw.headers);
    // Everything kept from an error answer is bounded and redacted: a proxy or a debugging
    // endpoint may echo the posted form (refresh token, assertion, client secret).
    let text = |t: &str, max_chars| redact::excerpt(t.as_bytes(), max_chars);
    if let Ok(body) = serde_json::from_slice::<ErrorBody>(&raw.body) {
        return OAuthError::Server {
            status: raw.status,
            error: OAuthErrorCode::parse(&text(&body.error, 100)),
            description: text(body.error_description.as_deref().unwrap_or_default(), 500),
            retry_after,
        };
    }
    let body = redact::excerpt(&raw.body, 200);
    OAuthError::Http {
        status: raw.status,
        body,
        retry_after,
    }
}

/// A Salesforce token-endpoint success answer.
///
/// `issued_at`, `signature` and `refresh_token` are optional: the JWT bearer grant sends none
/// of them.
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// `instance_url`: where the org's APIs live.
    pub instance_url: Option<Url>,
    /// `id`: the identity URL `https://login.salesforce.com/id/00D…/005…`.
    pub id: Option<String>,
    /// `token_type` (`Bearer`).
    pub token_type: Option<String>,
    /// `issued_at` (epoch milliseconds on the wire).
    pub issued_at: Option<SystemTime>,
    /// `issued_at` exactly as sent (the signature covers this text).
    pub issued_at_raw: Option<String>,
    /// `signature`: base64 HMAC-SHA256 of `id` + `issued_at` with the client secret.
    pub signature: Option<String>,
    /// `scope`: the granted scopes.
    pub scope: Option<Scopes>,
    /// `refresh_token`, when the grant and scopes give one.
    pub refresh_token: Option<SecretString>,
    /// `id_token`, when `openid` was granted.
    pub id_token: Option<SecretString>,
    /// `expires_in` in seconds (MCI sends it; Salesforce does not).
    pub expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("id", &self.id)
            .field("token_type", &self.token_type)
            .field("issued_at_raw", &self.issued_at_raw)
            .field("scope", &self.scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    Text(String),
    Number(u64),
}

impl StringOrNumber {
    fn text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: SecretString,
    #[serde(default)]
    instance_url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    issued_at: Option<StringOrNumber>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    id_token: Option<SecretString>,
    #[serde(default)]
    expires_in: Option<StringOrNumber>,
}

impl TokenResponse {
    /// Parses a token-endpoint success body.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let raw: RawToken = serde_json::from_slice(body).map_err(|source| OAuthError::Parse {
            what: "token",
            source,
        })?;
        let invalid = |msg: String| OAuthError::Parse {
            what: "token",
            source: <serde_json::Error as serde::de::Error>::custom(msg),
        };
        let instance_url = raw
            .instance_url
            .filter(|s| !s.is_empty())
            .map(|s| Url::parse(&s).map_err(|e| invalid(format!("instance_url: {e}"))))
            .transpose()?;
        let issued_at_raw = raw.issued_at.map(StringOrNumber::text);
        let issued_at = issued_at_raw
            .as_deref()
            .map(|s| {
                // Checked: on some platforms (Windows) SystemTime ends before u64 milliseconds.
                s.trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
                    .ok_or_else(|| {
                        invalid(format!(
                            "issued_at `{}` is not epoch milliseconds",
                            redact::excerpt(s.as_bytes(), 40)
                        ))
                    })
            })
            .transpose()?;
        let expires_in = raw
            .expires_in
            .map(|v| {
                let t = v.text();
                t.trim().parse::<u64>().map_err(|_| {
                    invalid(format!(
                        "expires_in `{}` is not a number of seconds",
                        redact::excerpt(t.as_bytes(), 40)
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            access_token: raw.access_token,
            instance_url,
            id: raw.id,
            token_type: raw.token_type,
            issued_at,
            issued_at_raw,
            signature: raw.signature,
            scope: raw.scope.as_deref().map(Scopes::parse),
            refresh_token: raw.refresh_token.filter(|t| !t.expose_secret().is_empty()),
            id_token: raw.id_token,
            expires_in,
        })
    }

    /// Checks `signature` = base64(HMAC-SHA256(client secret, `id` + `issued_at`)).
    ///
    /// Passes when the response carries no signature (the JWT bearer grant sends none);
    /// fails when a signature is present but `id` or `issued_at` is missing, or it differs.
    pub fn verify_signature(&self, secret: &ClientSecret) -> Result<(), OAuthError> {
        let Some(signature) = &self.signature else {
            return Ok(());
        };
        let (Some(id), Some(issued_at)) = (&self.id, &self.issued_at_raw) else {
            return Err(OAuthError::SignatureMismatch);
        };
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            return Err(OAuthError::SignatureMismatch);
        };
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.secret().expose_secret().as_bytes())
                .map_err(|_| OAuthError::SignatureMismatch)?;
        mac.update(id.as_bytes());
        mac.update(issued_at.as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| OAuthError::SignatureMismatch)
    }
}

/// The OpenID Connect userinfo of a Salesforce user (the fields clients rely on; the rest in
/// [`UserInfo::extra`]).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The identity URL.
    pub sub: String,
    /// The user id (`005…`).
    pub user_id: String,
    /// The org id (`00D…`).
    pub organization_id: String,
    /// The username.
    pub preferred_username: String,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, msg: &str) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(msg.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn parses_password_grant_example_and_checks_signature() {
        let id = "https://login.salesforce.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ";
        let sig = sign("s3cr3t", &format!("{id}1296509381665"));
        let body = format!(
            r#"{{"id":"{id}","issued_at":"1296509381665","instance_url":"https://na1.salesforce.com","signature":"{sig}","access_token":"00D50000000IZ3Z!AQgAQH0","token_type":"Bearer","scope":"api refresh_token"}}"#
        );
        let r = TokenResponse::parse(body.as_bytes()).unwrap();
        assert_eq!(
            r.issued_at,
            Some(UNIX_EPOCH + Duration::from_millis(1_296_509_381_665))
        );
        assert!(r.scope.as_ref().unwrap().allows_refresh());
        r.verify_signature(&ClientSecret::new("s3cr3t")).unwrap();
        assert!(matches!(
            r.verify_signature(&ClientSecret::new("other")),
            Err(OAuthError::SignatureMismatch)
        ));
        assert!(!format!("{r:?}").contains("AQgAQH0"));
    }

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

    #[test]
    fn jwt_grant_shape_has_no_optional_fields() {
        let r = TokenResponse::parse(
            br#"{"access_token":"00Dxx!AR8","scope":"web api","instance_url":"https://x.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert!(r.issued_at.is_none() && r.signature.is_none() && r.refresh_token.is_none());
        r.verify_signature(&ClientSecret::new("anything")).unwrap();
    }

    #[test]
    fn parse_errors_do_not_keep_the_body() {
        let e = TokenResponse::parse(br#"{"access_token":"SECRET-TOKEN","issued_at":"soon"}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("SECRET-TOKEN"), "{e}");
        assert!(TokenResponse::parse(b"<html>").is_err());

        // A field echoing a token is neither kept whole nor unbounded; an issued_at past what
        // SystemTime holds is an error, not a panic.
        let echo = format!("x {}", "Ab9.".repeat(5_000));
        let body = format!(r#"{{"access_token":"t","issued_at":"{echo}","expires_in":"{echo}"}}"#);
        let e = TokenResponse::parse(body.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("Ab9.Ab9.Ab9.Ab9.Ab9."), "{e}");
        assert!(e.len() < 200, "{e}");
        let body = format!(r#"{{"access_token":"t","issued_at":"{}"}}"#, u64::MAX);
        let _ = TokenResponse::parse(body.as_bytes());
    }

    #[test]
    fn error_bodies() {
        let raw = RawResponse {
            status: 400,
            headers: HeaderMap::new(),
            body: br#"{"error":"invalid_grant","error_description":"authentication failure"}"#
                .to_vec(),
        };
        match error_from_response(&raw) {
            OAuthError::Server {
                error, description, ..
            } => {
                assert_eq!(error, OAuthErrorCode::InvalidGrant);
                assert_eq!(description, "authentication failure");
            }
            other => panic!("{other:?}"),
        }
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        let raw = RawResponse {
            status: 503,
            headers,
            body: b"Service Unavailable".to_vec(),
        };
        let e = error_from_response(&raw);
        assert_eq!(
            e.class(),
            pardot_auth_core::ErrorClass::RetryLater {
                after: Some(Duration::from_secs(7))
            }
        );
    }
}
