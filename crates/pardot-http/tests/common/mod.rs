//! Test helpers: token sources that log in to pardot-mock over HTTP (so these tests do not
//! depend on sf-oauth), and client builders.

#![allow(dead_code)]

use std::fmt;
use std::time::Duration;

use pardot_auth_core::{
    AccessToken, Error, ErrorClass, Expiry, PardotHost, Scopes, SharedClock, TokenKind, TokenSource,
};
use pardot_http::RefreshTokenGrant;
use pardot_mock::{PardotMock, fixtures};
use secrecy::{ExposeSecret, SecretString};

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Reads a Salesforce token response into an `AccessToken` stamped on `clock`.
async fn read_token(resp: reqwest::Response, clock: &SharedClock) -> Result<AccessToken, Error> {
    let status = resp.status();
    let body: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| Error::invalid_response(e.to_string()))?;
    if !status.is_success() {
        let code = body["error"].as_str().unwrap_or("unknown").to_owned();
        let class = if status.is_server_error() {
            ErrorClass::RETRY
        } else {
            ErrorClass::NeverRetry
        };
        return Err(Error::server(
            class,
            code,
            body["error_description"].as_str().unwrap_or_default(),
        ));
    }
    let now = clock.now();
    let mut token = AccessToken::new(
        TokenKind::SalesforceBearer,
        SecretString::from(body["access_token"].as_str().unwrap_or_default().to_owned()),
        now,
        Expiry::Estimated(now + Duration::from_secs(7200)),
    );
    if let Some(scope) = body["scope"].as_str() {
        token = token.with_scopes(Scopes::parse(scope));
    }
    if let Some(rt) = body["refresh_token"].as_str() {
        token = token.with_refresh_token(SecretString::from(rt.to_owned()));
    }
    Ok(token)
}

/// The username-password grant against the mock (integration user, WEB app by default).
pub struct PasswordSource {
    pub http: reqwest::Client,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub clock: SharedClock,
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSource")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl PasswordSource {
    pub fn integration(base_url: &str, clock: SharedClock) -> Self {
        Self {
            http: http(),
            token_url: format!("{base_url}/services/oauth2/token"),
            client_id: fixtures::WEB_CONSUMER_KEY.into(),
            client_secret: fixtures::WEB_CONSUMER_SECRET.into(),
            username: fixtures::INTEGRATION_USERNAME.into(),
            password: format!(
                "{}{}",
                fixtures::INTEGRATION_PASSWORD,
                fixtures::INTEGRATION_SECURITY_TOKEN
            ),
            clock,
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for PasswordSource {
    async fn token(&self) -> Result<AccessToken, Error> {
        let form = [
            ("grant_type", "password"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("username", self.username.as_str()),
            ("password", self.password.as_str()),
        ];
        grant(&self.http, &self.token_url, &form, &self.clock).await
    }
}

/// POSTs a grant's `form` to `token_url` and reads the token answer.
async fn grant(
    http: &reqwest::Client,
    token_url: &str,
    form: &[(&str, &str)],
    clock: &SharedClock,
) -> Result<AccessToken, Error> {
    let resp = http
        .post(token_url)
        .form(form)
        .send()
        .await
        .map_err(Error::transport)?;
    read_token(resp, clock).await
}

/// The refresh-token grant against the mock.
pub struct RefreshGrant {
    pub http: reqwest::Client,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub clock: SharedClock,
}

impl fmt::Debug for RefreshGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshGrant").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl RefreshTokenGrant for RefreshGrant {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        grant(&self.http, &self.token_url, &form, &self.clock).await
    }
}

pub fn pardot_host(mock: &PardotMock) -> PardotHost {
    PardotHost::custom(&mock.url()).unwrap()
}

pub const V5_PROSPECTS: &str = "/api/v5/objects/prospects";
