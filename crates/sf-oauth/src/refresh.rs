//! The refresh token flow, with refresh-token rotation, and the bare refresh-token grant a
//! token cache redeems its stored refresh token through.

use std::fmt;
use std::sync::Arc;

use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::{AccessToken, Error, LoginHost, RefreshTokenGrant, TokenSource};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::app::ConnectedApp;
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
    grant: RefreshGrant,
    current: Mutex<RefreshToken>,
    observer: Option<RotationObserver>,
}

pardot_auth_core::debug_shows!(RefreshTokenFlow as this {
    grant: this.grant,
    refresh_token: "[redacted]",
    observer: this.observer.is_some(),
});

impl RefreshTokenFlow {
    /// Refreshes with `refresh_token` through the connected app `client_id`.
    pub fn new(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        refresh_token: RefreshToken,
    ) -> Self {
        Self {
            grant: RefreshGrant::new(host, client_id),
            current: Mutex::new(refresh_token),
            observer: None,
        }
    }

    pardot_auth_core::builder_setters! {
        /// Sends the consumer secret (required unless the app turned off "Require Secret for
        /// Refresh Token Flow") and checks the answer's signature with it.
        pub fn with_client_secret(secret: ClientSecret) => forward grant;

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => forward grant;

        /// Calls `observer` with each new refresh token after a rotation.
        pub fn on_rotation(observer: impl Fn(&RefreshToken) + Send + Sync + 'static)
            => observer = Some(Arc::new(observer));
    }

    /// The refresh token the next call will use (the newest one after rotations).
    pub async fn current_refresh_token(&self) -> RefreshToken {
        self.current.lock().await.clone()
    }

    /// Exchanges the current refresh token for an access token.
    pub async fn refresh(&self) -> Result<(AccessToken, RefreshOutcome), Error> {
        let mut current = self.current.lock().await;
        let token = self.grant.redeem(current.secret()).await?;
        let rotated = token.refresh_token().is_some();
        if let Some(new) = token.refresh_token() {
            *current = RefreshToken::from(new.clone());
            tracing::info!("refresh token rotated");
            if let Some(observer) = &self.observer {
                observer(&current);
            }
        }
        Ok((token, RefreshOutcome { rotated }))
    }
}

#[async_trait::async_trait]
impl TokenSource for RefreshTokenFlow {
    async fn token(&self) -> Result<AccessToken, Error> {
        self.refresh().await.map(|(token, _)| token)
    }
}

/// The refresh-token grant of a connected app, redeeming whichever refresh token it is
/// given: the [`RefreshTokenGrant`] a token cache (`pardot_http::CachedTokenSource`) refreshes
/// through with the refresh token kept in its store.
///
/// Unlike [`RefreshTokenFlow`] it keeps no refresh token of its own: the returned
/// [`AccessToken::refresh_token`] is `Some` only when the server rotated the one given, and
/// keeping the new one is the caller's job.
///
/// ```
/// use std::sync::Arc;
/// use pardot_auth_core::{LoginHost, RefreshTokenGrant};
/// use sf_oauth::{ClientSecret, RefreshGrant};
///
/// let grant: Arc<dyn RefreshTokenGrant> = Arc::new(
///     RefreshGrant::new(LoginHost::Production, "3MVG9...")
///         .with_client_secret(ClientSecret::new("consumer-secret")),
/// );
/// assert!(!format!("{grant:?}").contains("consumer-secret"));
/// ```
#[derive(Clone)]
pub struct RefreshGrant {
    app: ConnectedApp,
}

impl fmt::Debug for RefreshGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.app.debug_as(f, "RefreshGrant", &[])
    }
}

impl RefreshGrant {
    /// Redeems refresh tokens of the connected app `client_id` at `host`.
    pub fn new(host: LoginHost, client_id: impl Into<ClientId>) -> Self {
        Self {
            app: ConnectedApp::new(host, client_id),
        }
    }

    pardot_auth_core::builder_setters! {
        /// Sends the consumer secret (required unless the app turned off "Require Secret for
        /// Refresh Token Flow") and checks the answer's signature with it.
        pub fn with_client_secret(secret: ClientSecret) => app.client_secret = Some(secret);

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => app.client = client;
    }

    /// Exchanges `refresh_token`; the token carries a refresh token only when it was rotated.
    async fn redeem(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        let app = &self.app;
        let span =
            tracing::info_span!("sf_oauth.refresh", host = %app.host, client_id = %app.client_id);
        async {
            let form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ];
            let mut response = app
                .token_request(form)
                .await
                .map_err(|e| e.into_core(CONTEXT))?;
            let rotated = response
                .refresh_token
                .as_ref()
                .is_some_and(|new| new.expose_secret() != refresh_token.expose_secret());
            if !rotated {
                // The same token echoed back is not news; keep `refresh_token()` meaning
                // "a new one to persist".
                response.refresh_token = None;
            }
            Ok(app.client.salesforce_token(response))
        }
        .instrument(span)
        .await
    }
}

#[async_trait::async_trait]
impl RefreshTokenGrant for RefreshGrant {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        self.redeem(refresh_token).await
    }
}
