//! The username-password flow.
//!
//! **Being retired.** Salesforce blocks this flow by default in new orgs (since Summer '23)
//! and recommends against it: the password and security token travel with every login. Prefer
//! [`JwtBearer`](crate::JwtBearer). It is kept for users migrating old integrations; the first
//! use in a process logs a `tracing` warning.

use std::sync::Once;

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{AccessToken, Error, LoginHost};
use tracing::Instrument;

use crate::app::ConnectedApp;
use crate::client::OAuthClient;
use crate::types::{ClientId, ClientSecret, Password, Username};

const CONTEXT: &str = "username-password authentication";

static RETIREMENT_WARNING: Once = Once::new();

/// Logs in with username, password and security token (`grant_type=password`).
///
/// The `password` form field is the password followed by the security token (leave the
/// token out when the caller's IP is trusted by the org). The answer's `signature` is checked
/// with the consumer secret. No refresh token is issued.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::{LoginHost, TokenSource};
/// use sf_oauth::{ClientSecret, Password, UsernamePassword};
///
/// let flow = UsernamePassword::new(
///     LoginHost::Production,
///     "3MVG9...consumer-key",
///     ClientSecret::new("consumer-secret"),
///     "api@example.com",
///     Password::new("hunter2"),
/// )
/// .with_security_token(Password::new("AbCdEfSecurityToken"));
/// let token = flow.token().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct UsernamePassword {
    app: ConnectedApp,
    username: Username,
    password: Password,
    security_token: Option<Password>,
}

impl UsernamePassword {
    /// The flow for `username` through the connected app `client_id` / `client_secret`.
    pub fn new(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        client_secret: ClientSecret,
        username: impl Into<Username>,
        password: Password,
    ) -> Self {
        Self {
            app: ConnectedApp::with_secret(host, client_id, client_secret),
            username: username.into(),
            password,
            security_token: None,
        }
    }

    pardot_auth_core::builder_setters! {
        /// Appends the user's security token to the password on the wire.
        pub fn with_security_token(token: Password) => security_token = Some(token);

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => app.client = client;
    }

    /// Logs in.
    pub async fn authenticate(&self) -> Result<AccessToken, Error> {
        RETIREMENT_WARNING.call_once(|| {
            tracing::warn!(
                "the OAuth username-password flow is being retired by Salesforce and is blocked \
                 by default in new orgs; move to the JWT bearer flow (sf_oauth::JwtBearer)"
            );
        });
        let span = tracing::info_span!(
            "sf_oauth.password",
            host = %self.app.host,
            client_id = %self.app.client_id,
            user = %self.username
        );
        async {
            let mut password = self.password.secret().expose_secret().to_owned();
            if let Some(token) = &self.security_token {
                password.push_str(token.secret().expose_secret());
            }
            let password = Password::new(password);
            let form = vec![
                ("grant_type", "password"),
                ("username", self.username.as_str()),
                ("password", password.secret().expose_secret()),
            ];
            self.app.grant(form, CONTEXT).await
        }
        .instrument(span)
        .await
    }
}

token_source_by_authenticate!(UsernamePassword);
