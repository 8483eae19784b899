//! The client credentials flow: the connected app logs in as its configured "Run As" user.

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{AccessToken, Error, LoginHost, TokenSource};
use tracing::Instrument;

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
    client: OAuthClient,
    host: LoginHost,
    client_id: ClientId,
    client_secret: ClientSecret,
    auth: ClientAuth,
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
            client: OAuthClient::default(),
            host,
            client_id: client_id.into(),
            client_secret,
            auth: ClientAuth::FormFields,
        }
    }

    /// How the id and secret are sent.
    pub fn with_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Uses this client (clock, HTTP, limits, session estimate).
    pub fn with_client(mut self, client: OAuthClient) -> Self {
        self.client = client;
        self
    }

    /// Logs in.
    pub async fn authenticate(&self) -> Result<AccessToken, Error> {
        let span = tracing::info_span!(
            "sf_oauth.client_credentials",
            host = %self.host,
            client_id = %self.client_id
        );
        async {
            let mut form = vec![("grant_type", "client_credentials")];
            let basic = match self.auth {
                ClientAuth::FormFields => {
                    form.push(("client_id", self.client_id.as_str()));
                    form.push(("client_secret", self.client_secret.secret().expose_secret()));
                    None
                }
                ClientAuth::Basic => Some((&self.client_id, &self.client_secret)),
            };
            self.client
                .salesforce_grant(
                    &self.host.token_url(),
                    &form,
                    basic,
                    Some(&self.client_secret),
                    CONTEXT,
                )
                .await
        }
        .instrument(span)
        .await
    }
}

#[async_trait::async_trait]
impl TokenSource for ClientCredentials {
    async fn token(&self) -> Result<AccessToken, Error> {
        self.authenticate().await
    }
}
