//! The OAuth 2.0 JWT bearer flow: a server-to-server login with a signed assertion and no
//! password, the route Salesforce recommends for integrations.

use std::time::Duration;

use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::{AccessToken, Error, JwtBearerClaims, LoginHost};
use tracing::Instrument;

use crate::client::OAuthClient;
use crate::types::{ClientId, PrivateKey, Username};

/// `grant_type` of the JWT bearer flow.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Default life of an assertion: Salesforce documents "within 3 minutes".
pub const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(3 * 60);

const CONTEXT: &str = "JWT bearer authentication";

/// Logs in as `username` with an assertion signed by the connected app's private key.
///
/// The assertion's claims are `iss` = consumer key, `sub` = username, `aud` = the login
/// host's audience ([`LoginHost::jwt_audience`]: `https://login.salesforce.com`,
/// `https://test.salesforce.com` for sandboxes, or the My Domain URL) unless overridden, and
/// `exp` = now + 3 minutes on the client's clock. The answer has no refresh token (sign a new
/// assertion instead), no `issued_at` (the issue time is the clock's now) and no signature.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::{LoginHost, TokenSource};
/// use sf_oauth::{JwtBearer, PrivateKey};
///
/// let key = PrivateKey::from_pem_file("connected-app.key")?;
/// let flow = JwtBearer::new(LoginHost::Production, "3MVG9...consumer-key", "api@example.com", key);
/// let token = flow.token().await?;
/// println!("instance: {:?}", token.instance_url());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct JwtBearer {
    client: OAuthClient,
    host: LoginHost,
    client_id: ClientId,
    username: Username,
    key: PrivateKey,
    audience: Option<String>,
    lifetime: Duration,
}

impl JwtBearer {
    /// The flow for `username` through the connected app `client_id`, signing with `key`.
    pub fn new(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        username: impl Into<Username>,
        key: PrivateKey,
    ) -> Self {
        Self {
            client: OAuthClient::default(),
            host,
            client_id: client_id.into(),
            username: username.into(),
            key,
            audience: None,
            lifetime: DEFAULT_ASSERTION_LIFETIME,
        }
    }

    pardot_auth_core::builder_setters! {
        /// Uses this client (clock, HTTP, limits, session estimate).
        pub fn with_client(client: OAuthClient) => client = client;

        /// Overrides `aud` (e.g. an Experience Cloud site URL).
        pub fn with_audience(audience: impl Into<String>) => audience = Some(audience.into());

        /// How far ahead of now `exp` is (default 3 minutes).
        pub fn with_assertion_lifetime(lifetime: Duration) => lifetime = lifetime;
    }

    /// The login host.
    pub fn host(&self) -> &LoginHost {
        &self.host
    }

    /// The claims the next assertion will carry.
    pub fn claims(&self) -> JwtBearerClaims {
        let now = self.client.clock().now();
        JwtBearerClaims {
            iss: self.client_id.to_string(),
            sub: self.username.to_string(),
            aud: self
                .audience
                .clone()
                .unwrap_or_else(|| self.host.jwt_audience()),
            exp: pardot_auth_core::clock::unix_seconds(now + self.lifetime),
        }
    }

    /// A freshly signed assertion (RS256, header `{"alg":"RS256","typ":"JWT"}`).
    pub fn assertion(&self) -> Result<SecretString, Error> {
        self.key
            .sign_rs256(&self.claims())
            .map_err(|e| e.into_core(CONTEXT))
    }

    /// Signs an assertion and exchanges it for an access token.
    pub async fn authenticate(&self) -> Result<AccessToken, Error> {
        let span = tracing::info_span!(
            "sf_oauth.jwt_bearer",
            host = %self.host,
            client_id = %self.client_id,
            user = %self.username
        );
        async {
            let assertion = self.assertion()?;
            let form = [
                ("grant_type", JWT_BEARER_GRANT),
                ("assertion", assertion.expose_secret()),
            ];
            let response = self
                .client
                .token_request(&self.host.token_url(), &form, None, None)
                .await
                .map_err(|e| e.into_core(CONTEXT))?;
            Ok(self.client.salesforce_token(response))
        }
        .instrument(span)
        .await
    }
}

token_source_by_authenticate!(JwtBearer);
