//! The web server flow (authorization code with PKCE S256): send the user to Salesforce,
//! receive the code on the redirect URI, exchange it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::url::Url;
use pardot_auth_core::{AccessToken, Error, LoginHost, TokenSource};
use tracing::Instrument;

use crate::app::ConnectedApp;
use crate::callback::{CallbackReceiver, DEFAULT_CALLBACK_TIMEOUT};
use crate::client::OAuthClient;
use crate::types::{
    AuthorizationCode, ClientId, ClientSecret, CsrfState, PkceVerifier, RedirectUrl,
};

const CONTEXT: &str = "authorization code exchange";

/// Hands the authorize URL to a person (open a browser, print it).
pub type AuthorizeUrlHandler = Arc<dyn Fn(&Url) + Send + Sync>;

/// The web server flow for one connected app and redirect URI.
///
/// 1. [`authorize_url`](Self::authorize_url) builds the URL to send the user to
///    (`response_type=code`, `client_id`, `redirect_uri`, `scope`, a random `state`, and a PKCE
///    S256 `code_challenge`; optional `prompt` and `login_hint`). It returns the URL with its
///    [`CsrfState`], and the [`PkceVerifier`] that belongs to it.
/// 2. The redirect comes back to the redirect URI with `code` and `state`: on a loopback URI,
///    [`CallbackReceiver`] receives it and checks `state`.
/// 3. [`exchange_code`](Self::exchange_code) posts `grant_type=authorization_code` with the
///    `code_verifier`. A refresh token comes back when the scopes include `refresh_token` or
///    `offline_access`.
///
/// As a [`TokenSource`] (loopback redirect URIs only) it runs all three: it binds the
/// receiver, hands the URL to the handler set with
/// [`on_authorize_url`](Self::on_authorize_url) (by default, logs it), waits up to
/// [`with_callback_timeout`](Self::with_callback_timeout) (default 5 minutes, on the clock),
/// and exchanges the code.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use std::time::Duration;
/// use pardot_auth_core::LoginHost;
/// use sf_oauth::{CallbackReceiver, RedirectUrl, WebServerFlow};
///
/// let redirect = RedirectUrl::new("http://localhost:7777/callback")?;
/// let flow = WebServerFlow::new(LoginHost::Sandbox, "3MVG9...consumer-key", redirect.clone())
///     .with_scopes(["api", "pardot_api", "refresh_token"]);
/// let receiver = CallbackReceiver::bind(&redirect).await?;
/// let ((url, state), verifier) = flow.authorize_url().login_hint("me@example.com").build();
/// println!("Open {url}");
/// let code = receiver.receive(&state, Duration::from_secs(300), flow.client().clock().clone()).await?;
/// let token = flow.exchange_code(code, verifier).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebServerFlow {
    app: ConnectedApp,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    callback_timeout: Duration,
    handler: Option<AuthorizeUrlHandler>,
}

impl fmt::Debug for WebServerFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let own: [(&str, &dyn fmt::Debug); 3] = [
            ("redirect", &self.redirect),
            ("scopes", &self.scopes),
            ("callback_timeout", &self.callback_timeout),
        ];
        self.app.debug_as(f, "WebServerFlow", &own)
    }
}

/// Builds one authorize URL; see [`WebServerFlow::authorize_url`].
#[derive(Debug)]
pub struct AuthorizeUrlBuilder<'a> {
    flow: &'a WebServerFlow,
    redirect: Option<RedirectUrl>,
    state: Option<CsrfState>,
    prompt: Option<String>,
    login_hint: Option<String>,
}

impl AuthorizeUrlBuilder<'_> {
    pardot_auth_core::builder_setters! {
        /// `prompt` (`login`, `consent`, `select_account`, space-separated).
        pub fn prompt(prompt: impl Into<String>) => prompt = Some(prompt.into());

        /// `login_hint`: prefills the username.
        pub fn login_hint(username: impl Into<String>) => login_hint = Some(username.into());

        /// Uses this `state` instead of a random one.
        pub fn state(state: CsrfState) => state = Some(state);

        /// Uses this redirect URI for this request (e.g. a [`CallbackReceiver`]'s, with its real
        /// port); send the same to [`WebServerFlow::exchange_code_with_redirect`].
        pub fn redirect(redirect: RedirectUrl) => redirect = Some(redirect);
    }

    /// The URL with its `state`, and the verifier for the code exchange.
    pub fn build(self) -> ((Url, CsrfState), PkceVerifier) {
        let state = self.state.unwrap_or_else(CsrfState::new_random);
        let verifier = PkceVerifier::new_random();
        let redirect = self.redirect.as_ref().unwrap_or(&self.flow.redirect);
        let app = &self.flow.app;
        let mut url = app.host.authorize_url();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", app.client_id.as_str())
                .append_pair("redirect_uri", redirect.as_str());
            if !self.flow.scopes.is_empty() {
                q.append_pair("scope", &self.flow.scopes.join(" "));
            }
            q.append_pair("state", state.secret().expose_secret())
                .append_pair("code_challenge", &verifier.challenge())
                .append_pair("code_challenge_method", "S256");
            if let Some(prompt) = &self.prompt {
                q.append_pair("prompt", prompt);
            }
            if let Some(hint) = &self.login_hint {
                q.append_pair("login_hint", hint);
            }
        }
        ((url, state), verifier)
    }
}

impl WebServerFlow {
    /// The flow for the connected app `client_id` with the registered `redirect` URI.
    pub fn new(host: LoginHost, client_id: impl Into<ClientId>, redirect: RedirectUrl) -> Self {
        Self {
            app: ConnectedApp::new(host, client_id),
            redirect,
            scopes: Vec::new(),
            callback_timeout: DEFAULT_CALLBACK_TIMEOUT,
            handler: None,
        }
    }

    /// Sends the consumer secret with the exchange (needed unless the app turned off
    /// "Require Secret for Web Server Flow") and checks the answer's signature with it.
    pub fn with_client_secret(mut self, secret: ClientSecret) -> Self {
        self.app.client_secret = Some(secret);
        self
    }

    /// Scopes to ask for (`api`, `pardot_api`, `refresh_token`, …).
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    pardot_auth_core::builder_setters! {
        /// How long the [`TokenSource`] waits for the redirect (default 5 minutes).
        pub fn with_callback_timeout(timeout: Duration) => callback_timeout = timeout;

        /// Who shows the authorize URL when the flow runs as a [`TokenSource`].
        pub fn on_authorize_url(handler: impl Fn(&Url) + Send + Sync + 'static)
            => handler = Some(Arc::new(handler));

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => app.client = client;
    }

    /// The client (for its clock).
    pub fn client(&self) -> &OAuthClient {
        &self.app.client
    }

    /// The registered redirect URI.
    pub fn redirect_url(&self) -> &RedirectUrl {
        &self.redirect
    }

    /// Starts building an authorize URL.
    pub fn authorize_url(&self) -> AuthorizeUrlBuilder<'_> {
        AuthorizeUrlBuilder {
            flow: self,
            redirect: None,
            state: None,
            prompt: None,
            login_hint: None,
        }
    }

    /// Exchanges an authorization code (with the verifier of the same request) for tokens.
    pub async fn exchange_code(
        &self,
        code: AuthorizationCode,
        verifier: PkceVerifier,
    ) -> Result<AccessToken, Error> {
        let redirect = self.redirect.clone();
        self.exchange_code_with_redirect(code, verifier, &redirect)
            .await
    }

    /// Like [`exchange_code`](Self::exchange_code), for a request made with another
    /// redirect URI ([`AuthorizeUrlBuilder::redirect`]).
    pub async fn exchange_code_with_redirect(
        &self,
        code: AuthorizationCode,
        verifier: PkceVerifier,
        redirect: &RedirectUrl,
    ) -> Result<AccessToken, Error> {
        let app = &self.app;
        let span = tracing::info_span!("sf_oauth.code_exchange", host = %app.host, client_id = %app.client_id);
        let form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.secret().expose_secret()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.secret().expose_secret()),
        ];
        app.grant(form, CONTEXT).instrument(span).await
    }

    /// Runs the whole flow on a loopback redirect URI: receiver, URL handler, wait, exchange.
    pub async fn run_loopback(&self) -> Result<AccessToken, Error> {
        let receiver = CallbackReceiver::bind(&self.redirect).await?;
        let redirect = receiver.redirect_url().clone();
        let ((url, state), verifier) = self.authorize_url().redirect(redirect.clone()).build();
        match &self.handler {
            Some(handler) => handler(&url),
            None => tracing::warn!(%url, "open this URL in a browser to sign in"),
        }
        let code = receiver
            .receive(
                &state,
                self.callback_timeout,
                self.app.client.clock().clone(),
            )
            .await?;
        self.exchange_code_with_redirect(code, verifier, &redirect)
            .await
    }
}

#[async_trait::async_trait]
impl TokenSource for WebServerFlow {
    async fn token(&self) -> Result<AccessToken, Error> {
        self.run_loopback().await
    }
}
