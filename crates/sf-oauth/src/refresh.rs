//! The refresh token flow, with refresh-token rotation.

use std::fmt;
use std::sync::Arc;

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{AccessToken, Error, LoginHost, TokenSource};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::client::OAuthClient;
use crate::types::{ClientId, ClientSecret, RefreshToken};

const CONTEXT: &str = "refresh token exchange";

/// Called with the new refresh token whenever the server rotates it, so the caller can
/// persist it (the old one no longer works).
pub type RotationObserver = Arc<dyn Fn(&RefreshToken) + Send + Sync>;

/// What a refresh did besides giving an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// True when the answer carried a new refresh token, which replaced the old one.
    pub rotated: bool,
}

/// Exchanges a refresh token for access tokens (`grant_type=refresh_token`).
///
/// **Rotation.** When the connected app rotates refresh tokens, each answer carries a new
/// `refresh_token` and the old one dies (reusing it revokes the whole chain). This flow then
/// keeps the new one for the next call, returns it on the [`AccessToken`]
/// ([`AccessToken::refresh_token`] is `Some` only after a rotation), reports
/// [`RefreshOutcome::rotated`], and calls the observer set with
/// [`on_rotation`](Self::on_rotation) so you can persist it. Refreshes through one
/// `RefreshTokenFlow` are serialised, so two callers never spend the same refresh token.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::LoginHost;
/// use pardot_auth_core::secrecy::ExposeSecret;
/// use sf_oauth::{ClientSecret, RefreshToken, RefreshTokenFlow};
///
/// let flow = RefreshTokenFlow::new(LoginHost::Production, "3MVG9...", RefreshToken::new("5Aep861..."))
///     .with_client_secret(ClientSecret::new("consumer-secret"))
///     .on_rotation(|new| {
///         // persist `new.secret().expose_secret()` in your secret store
///         let _ = new.secret().expose_secret();
///     });
/// let (token, outcome) = flow.refresh().await?;
/// if outcome.rotated { /* the observer already ran */ }
/// # Ok(()) }
/// ```
pub struct RefreshTokenFlow {
    client: OAuthClient,
    host: LoginHost,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    current: Mutex<RefreshToken>,
    observer: Option<RotationObserver>,
}

impl fmt::Debug for RefreshTokenFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenFlow")
            .field("host", &self.host)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("refresh_token", &"[redacted]")
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl RefreshTokenFlow {
    /// Refreshes with `refresh_token` through the connected app `client_id`.
    pub fn new(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        refresh_token: RefreshToken,
    ) -> Self {
        Self {
            client: OAuthClient::default(),
            host,
            client_id: client_id.into(),
            client_secret: None,
            current: Mutex::new(refresh_token),
            observer: None,
        }
    }

    /// Sends the consumer secret (required unless the app turned off "Require Secret for
    /// Refresh Token Flow") and checks the answer's signature with it.
    pub fn with_client_secret(mut self, secret: ClientSecret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Uses this client (clock, HTTP, limits, session estimate).
    pub fn with_client(mut self, client: OAuthClient) -> Self {
        self.client = client;
        self
    }

    /// Calls `observer` with each new refresh token after a rotation.
    pub fn on_rotation(mut self, observer: impl Fn(&RefreshToken) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The refresh token the next call will use (the newest one after rotations).
    pub async fn current_refresh_token(&self) -> RefreshToken {
        self.current.lock().await.clone()
    }

    /// Exchanges the current refresh token for an access token.
    pub async fn refresh(&self) -> Result<(AccessToken, RefreshOutcome), Error> {
        let span =
            tracing::info_span!("sf_oauth.refresh", host = %self.host, client_id = %self.client_id);
        async {
            let mut current = self.current.lock().await;
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", current.secret().expose_secret()),
                ("client_id", self.client_id.as_str()),
            ];
            if let Some(secret) = &self.client_secret {
                form.push(("client_secret", secret.secret().expose_secret()));
            }
            let mut response = self
                .client
                .token_request(
                    &self.host.token_url(),
                    &form,
                    None,
                    self.client_secret.as_ref(),
                )
                .await
                .map_err(|e| e.into_core(CONTEXT))?;
            let rotated = response
                .refresh_token
                .as_ref()
                .is_some_and(|new| new.expose_secret() != current.secret().expose_secret());
            if !rotated {
                // The same token echoed back is not news; keep `refresh_token()` meaning
                // "a new one to persist".
                response.refresh_token = None;
            }
            let token = self.client.salesforce_token(response);
            if rotated && let Some(new) = token.refresh_token() {
                *current = RefreshToken::from(new.clone());
                tracing::info!("refresh token rotated");
                if let Some(observer) = &self.observer {
                    observer(&current);
                }
            }
            Ok((token, RefreshOutcome { rotated }))
        }
        .instrument(span)
        .await
    }
}

#[async_trait::async_trait]
impl TokenSource for RefreshTokenFlow {
    async fn token(&self) -> Result<AccessToken, Error> {
        self.refresh().await.map(|(token, _)| token)
    }
}
