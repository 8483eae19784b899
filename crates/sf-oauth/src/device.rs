//! The device flow: for a program without a browser (a CLI on a server). It shows a short
//! code, the user enters it at a Salesforce page on another device, and the program polls.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::{AccessToken, Error, LoginHost, TokenSource};
use serde::Deserialize;
use tracing::Instrument;

use crate::app::ConnectedApp;
use crate::client::OAuthClient;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::response::{parse_json, seconds_after};
use crate::types::{ClientId, ClientSecret};

const CONTEXT: &str = "device flow authentication";

/// Default life of a device code when the server does not say (Salesforce: 10 minutes).
pub const DEFAULT_DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Default poll interval when the server does not say (Salesforce: 5 s).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How much `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// What to show the user: go to `verification_uri` and enter `user_code`.
pub struct DeviceAuthorization {
    device_code: SecretString,
    /// The code the user types (e.g. `AB12CD34`).
    pub user_code: String,
    /// Where the user types it (`https://login.salesforce.com/setup/connect`).
    pub verification_uri: String,
    /// Seconds between polls.
    pub interval: Duration,
    /// When the device code stops working (clock time).
    pub expires_at: SystemTime,
}

pardot_auth_core::debug_shows!(
    DeviceAuthorization as this,
    complete {
        device_code: "[redacted]",
        user_code: this.user_code,
        verification_uri: this.verification_uri,
        interval: this.interval,
        expires_at: this.expires_at,
    }
);

#[derive(Deserialize)]
pub(crate) struct RawDevice {
    device_code: SecretString,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    interval: Option<u64>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Shows the user code to a person.
pub type DevicePrompt = Arc<dyn Fn(&DeviceAuthorization) + Send + Sync>;

/// The Salesforce device flow.
///
/// [`start`](Self::start) posts `response_type=device_code` to the token endpoint;
/// [`poll`](Self::poll) posts `grant_type=device` every `interval` (waiting on the client's
/// clock), adds 5 s on `slow_down`, and stops with an error on `access_denied`, on
/// `expired_token`, when the device code's life ends, or at the overall timeout
/// ([`with_timeout`](Self::with_timeout), default 10 minutes). As a [`TokenSource`] it does
/// both, handing the code to the prompt set with [`with_prompt`](Self::with_prompt) (by
/// default it is logged at `warn` level).
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::LoginHost;
/// use sf_oauth::DeviceFlow;
///
/// let flow = DeviceFlow::new(LoginHost::Production, "3MVG9...consumer-key")
///     .with_scopes(["api", "refresh_token"]);
/// let auth = flow.start().await?;
/// eprintln!("Go to {} and enter {}", auth.verification_uri, auth.user_code);
/// let token = flow.poll(&auth).await?;
/// # Ok(()) }
/// ```
pub struct DeviceFlow {
    app: ConnectedApp,
    scopes: Vec<String>,
    timeout: Duration,
    prompt: Option<DevicePrompt>,
}

impl fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let own: [(&str, &dyn fmt::Debug); 2] =
            [("scopes", &self.scopes), ("timeout", &self.timeout)];
        self.app.debug_as(f, "DeviceFlow", &own)
    }
}

impl DeviceFlow {
    /// The flow for the connected app `client_id` (device flow enabled on it).
    pub fn new(host: LoginHost, client_id: impl Into<ClientId>) -> Self {
        Self {
            app: ConnectedApp::new(host, client_id),
            scopes: Vec::new(),
            timeout: DEFAULT_DEVICE_CODE_LIFETIME,
            prompt: None,
        }
    }

    /// Scopes to ask for.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    pardot_auth_core::builder_setters! {
        /// Sends the consumer secret with each poll and checks the answer's signature with it.
        pub fn with_client_secret(secret: ClientSecret) => app.client_secret = Some(secret);

        /// The longest [`poll`](Self::poll) waits in total (default 10 minutes).
        pub fn with_timeout(timeout: Duration) => timeout = timeout;

        /// Who shows the user code when the flow runs as a [`TokenSource`].
        pub fn with_prompt(prompt: impl Fn(&DeviceAuthorization) + Send + Sync + 'static)
            => prompt = Some(Arc::new(prompt));

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => app.client = client;
    }

    /// Asks for a device code and user code.
    pub async fn start(&self) -> Result<DeviceAuthorization, Error> {
        let app = &self.app;
        let scope = self.scopes.join(" ");
        let mut form = vec![
            ("response_type", "device_code"),
            ("client_id", app.client_id.as_str()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope.as_str()));
        }
        let raw = app
            .client
            .post_form(&app.host.token_url(), &form, None)
            .await
            .map_err(|e| e.into_core(CONTEXT))?;
        let device: RawDevice =
            parse_json(&raw.body, "device authorization").map_err(|e| e.into_core(CONTEXT))?;
        let now = app.client.clock().now();
        let expires_at = seconds_after(
            now,
            device
                .expires_in
                .filter(|s| *s > 0)
                .map_or(DEFAULT_DEVICE_CODE_LIFETIME.as_secs(), |s| s),
            "device authorization",
            "expires_in",
        )
        .map_err(|e| e.into_core(CONTEXT))?;
        Ok(DeviceAuthorization {
            device_code: device.device_code,
            user_code: device.user_code,
            verification_uri: device.verification_uri,
            interval: device
                .interval
                .filter(|s| *s > 0)
                .map_or(DEFAULT_POLL_INTERVAL, Duration::from_secs),
            expires_at,
        })
    }

    /// Polls until the user approves (a token), denies, or time runs out (errors).
    pub async fn poll(&self, auth: &DeviceAuthorization) -> Result<AccessToken, Error> {
        let span = tracing::info_span!("sf_oauth.device_poll", host = %self.app.host, client_id = %self.app.client_id);
        self.poll_inner(auth).instrument(span).await
    }

    async fn poll_inner(&self, auth: &DeviceAuthorization) -> Result<AccessToken, Error> {
        let app = &self.app;
        let clock = app.client.clock();
        let started = clock.now();
        // A timeout too large to add to a date bounds nothing beyond the code's own expiry.
        let deadline = started
            .checked_add(self.timeout)
            .map_or(auth.expires_at, |t| t.min(auth.expires_at));
        let mut interval = auth.interval.max(Duration::from_secs(1));
        // Each round waits at least a second on the clock, so the deadline bounds the loop.
        loop {
            let now = clock.now();
            // The interval is the server's: one past any representable date never fits.
            if now.checked_add(interval).is_none_or(|t| t > deadline) {
                let waited = now.duration_since(started).unwrap_or_default();
                return Err(OAuthError::Timeout(waited).into_core(CONTEXT));
            }
            clock.sleep(interval).await;
            let form = vec![
                ("grant_type", "device"),
                ("code", auth.device_code.expose_secret()),
            ];
            match app.token_request(form).await {
                Ok(response) => return Ok(app.client.salesforce_token(response)),
                Err(OAuthError::Server {
                    error: OAuthErrorCode::AuthorizationPending,
                    ..
                }) => {}
                Err(OAuthError::Server {
                    error: OAuthErrorCode::SlowDown,
                    ..
                }) => {
                    interval = interval.saturating_add(SLOW_DOWN_STEP);
                    tracing::debug!(?interval, "device flow: slow_down");
                }
                Err(e) => return Err(e.into_core(CONTEXT)),
            }
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for DeviceFlow {
    async fn token(&self) -> Result<AccessToken, Error> {
        let auth = self.start().await?;
        match &self.prompt {
            Some(prompt) => prompt(&auth),
            None => tracing::warn!(
                user_code = %auth.user_code,
                verification_uri = %auth.verification_uri,
                "to sign in, open the verification URI and enter the user code"
            ),
        }
        self.poll(&auth).await
    }
}
