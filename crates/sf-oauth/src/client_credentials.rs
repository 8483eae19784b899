//! The client credentials flow: the connected app logs in as its configured "Run As" user.

use pardot_auth_core::{AccessToken, Error, LoginHost};
use tracing::Instrument;

use crate::app::ConnectedApp;
use crate::client::{ClientAuth, OAuthClient};
use crate::types::{ClientId, ClientSecret};

const CONTEXT: &str = "client credentials authentication";

/// Logs in with the consumer key and secret alone (`grant_type=client_credentials`).
///
/// Salesforce only answers this on the org's **My Domain** host
/// (`LoginHost::my_domain("acme")`); login.salesforce.com answers `invalid_grant` /
/// "request not supported on this domain". The id and secret go as form fields by default, or
/// as HTTP Basic with [`ClientAuth::Basic`]. No refresh token is issued.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::{LoginHost, TokenSource};
/// use sf_oauth::{ClientAuth, ClientCredentials, ClientSecret};
///
/// let flow = ClientCredentials::new(
///     LoginHost::my_domain("acme")?,
///     "3MVG9...consumer-key",
///     ClientSecret::new("consumer-secret"),
/// )
/// .with_auth(ClientAuth::Basic);
/// let token = flow.token().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    app: ConnectedApp,
}

impl ClientCredentials {
    /// The flow for the connected app `client_id` / `client_secret` on `host` (My Domain).
    pub fn new(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        client_secret: ClientSecret,
    ) -> Self {
        if matches!(host, LoginHost::Production | LoginHost::Sandbox) {
            tracing::warn!(
                "the client credentials flow only works on a My Domain host, not {host}"
            );
        }
        Self {
            app: ConnectedApp::with_secret(host, client_id, client_secret),
        }
    }

    pardot_auth_core::builder_setters! {
        /// How the id and secret are sent.
        pub fn with_auth(auth: ClientAuth) => app.auth = auth;

        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => app.client = client;
    }

    /// Logs in.
    pub async fn authenticate(&self) -> Result<AccessToken, Error> {
        let span = tracing::info_span!(
            "sf_oauth.client_credentials",
            host = %self.app.host,
            client_id = %self.app.client_id
        );
        self.app
            .grant(vec![("grant_type", "client_credentials")], CONTEXT)
            .instrument(span)
            .await
    }
}

token_source_by_authenticate!(ClientCredentials);
