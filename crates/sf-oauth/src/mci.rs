//! The Marketing Cloud Intelligence (formerly Datorama) service-account flow: discovery,
//! then `client_credentials` with a signed client assertion (RFC 7523 §2.2).

use std::time::Duration;

use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use pardot_auth_core::{AccessToken, ClientAssertionClaims, Error, Expiry, TokenKind};
use reqwest::header::ACCEPT;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::client::{OAuthClient, check_url};
use crate::error::OAuthError;
use crate::response::{error_from_response, parse_json, seconds_after};
use crate::types::{ClientId, PrivateKey};

/// The default `aud` of an MCI client assertion.
pub const MCI_AUDIENCE: &str = "https://idp.intelligence.salesforce.com";
/// `client_assertion_type` of a JWT client assertion.
pub const JWT_CLIENT_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Default life of a client assertion (`exp` = `iat` + this).
pub const DEFAULT_MCI_ASSERTION_LIFETIME: Duration = Duration::from_secs(3 * 60);

const CONTEXT: &str = "MCI service account authentication";

#[derive(Deserialize)]
pub(crate) struct Discovery {
    pub(crate) token_endpoint: String,
}

#[derive(Deserialize)]
pub(crate) struct RawMciToken {
    pub(crate) access_token: SecretString,
    pub(crate) expires_in: u64,
}

/// Gets Marketing Cloud Intelligence tokens for a service account.
///
/// The first call reads the discovery document (`discoveryEndpoint`) for `token_endpoint` and
/// keeps it; each call then signs a fresh assertion (RS256; `iss` = `sub` = service account
/// id, `aud` = [`MCI_AUDIENCE`] unless overridden, `iat` = now, `exp` = now + 3 min,
/// `jti` = a new UUID v4 as 32 hex digits) and posts `grant_type=client_credentials`,
/// `client_id`, `client_assertion`, `client_assertion_type`. Tokens are
/// [`TokenKind::MciBearer`] with a known expiry from `expires_in` (300 s).
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use pardot_auth_core::TokenSource;
/// use sf_oauth::{MciServiceAccount, PrivateKey};
///
/// let flow = MciServiceAccount::new(
///     "https://idp.intelligence.salesforce.com/us1/.well-known/openid-configuration".parse().unwrap(),
///     "my-service-account-id",
///     PrivateKey::from_pem_file("service-account.key")?,
/// );
/// let token = flow.token().await?; // lives 5 minutes
/// # Ok(()) }
/// ```
pub struct MciServiceAccount {
    client: OAuthClient,
    discovery_url: Url,
    service_account_id: ClientId,
    key: PrivateKey,
    audience: String,
    lifetime: Duration,
    token_endpoint: OnceCell<Url>,
}

pardot_auth_core::debug_shows!(MciServiceAccount as this {
    discovery_url: this.discovery_url.as_str(),
    service_account_id: this.service_account_id,
    key: this.key,
    audience: this.audience,
    token_endpoint: this.token_endpoint.get().map(Url::as_str),
});

impl MciServiceAccount {
    /// The flow for `service_account_id`, discovering the token endpoint at `discovery_url`.
    pub fn new(
        discovery_url: Url,
        service_account_id: impl Into<ClientId>,
        key: PrivateKey,
    ) -> Self {
        Self {
            client: OAuthClient::default(),
            discovery_url,
            service_account_id: service_account_id.into(),
            key,
            audience: MCI_AUDIENCE.to_owned(),
            lifetime: DEFAULT_MCI_ASSERTION_LIFETIME,
            token_endpoint: OnceCell::new(),
        }
    }

    /// Skips discovery and posts to `token_endpoint`.
    pub fn with_token_endpoint(self, token_endpoint: Url) -> Self {
        Self {
            token_endpoint: OnceCell::new_with(Some(token_endpoint)),
            ..self
        }
    }

    pardot_auth_core::builder_setters! {
        /// Overrides `aud`.
        pub fn with_audience(audience: impl Into<String>) => audience = audience.into();

        /// How far after `iat` the assertion's `exp` is (default 3 minutes).
        pub fn with_assertion_lifetime(lifetime: Duration) => lifetime = lifetime;

        /// Uses this client (clock, HTTP, limits).
        pub fn with_client(client: OAuthClient) => client = client;
    }

    /// The claims of a new assertion (a fresh `jti` each call).
    pub fn claims(&self) -> ClientAssertionClaims {
        let now = self.client.clock().now();
        let iat = pardot_auth_core::clock::unix_seconds(now);
        ClientAssertionClaims {
            iss: self.service_account_id.to_string(),
            sub: self.service_account_id.to_string(),
            aud: self.audience.clone(),
            iat,
            exp: Some(pardot_auth_core::clock::unix_seconds(now + self.lifetime)),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// A freshly signed client assertion.
    pub fn assertion(&self) -> Result<SecretString, Error> {
        self.key
            .sign_rs256(&self.claims())
            .map_err(|e| e.into_core(CONTEXT))
    }

    /// The token endpoint, from discovery on first use.
    pub async fn token_endpoint(&self) -> Result<Url, Error> {
        self.token_endpoint
            .get_or_try_init(|| self.discover())
            .await
            .cloned()
            .map_err(|e| e.into_core("MCI discovery"))
    }

    async fn discover(&self) -> Result<Url, OAuthError> {
        check_url(&self.discovery_url)?;
        let request = self
            .client
            .http()?
            .get(self.discovery_url.clone())
            .header(ACCEPT, "application/json");
        let raw = self.client.send(request).await?;
        if !(200..300).contains(&raw.status) {
            return Err(error_from_response(&raw));
        }
        let doc: Discovery = parse_json(&raw.body, "discovery")?;
        let url = Url::parse(&doc.token_endpoint).map_err(|e| {
            OAuthError::Config(format!(
                "discovery gave an invalid token_endpoint `{}`: {e}",
                pardot_auth_core::redact::excerpt(doc.token_endpoint.as_bytes(), 200)
            ))
        })?;
        check_url(&url)?;
        tracing::debug!(token_endpoint = %url, "MCI token endpoint discovered");
        Ok(url)
    }

    /// Gets a token.
    pub async fn authenticate(&self) -> Result<AccessToken, Error> {
        let span = tracing::info_span!(
            "sf_oauth.mci",
            service_account = %self.service_account_id
        );
        async {
            let endpoint = self.token_endpoint().await?;
            let assertion = self.assertion()?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", self.service_account_id.as_str()),
                ("client_assertion", assertion.expose_secret()),
                ("client_assertion_type", JWT_CLIENT_ASSERTION_TYPE),
            ];
            let raw = self
                .client
                .post_form(&endpoint, &form, None)
                .await
                .map_err(|e| e.into_core(CONTEXT))?;
            let parsed: RawMciToken =
                parse_json(&raw.body, "MCI token").map_err(|e| e.into_core(CONTEXT))?;
            let now = self.client.clock().now();
            let expires_at = seconds_after(now, parsed.expires_in, "MCI token", "expires_in")
                .map_err(|e| e.into_core(CONTEXT))?;
            Ok(AccessToken::new(
                TokenKind::MciBearer,
                parsed.access_token,
                now,
                Expiry::Known(expires_at),
            ))
        }
        .instrument(span)
        .await
    }
}

token_source_by_authenticate!(MciServiceAccount);
