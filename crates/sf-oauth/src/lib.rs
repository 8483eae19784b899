//! Salesforce OAuth 2.0 flows and the Marketing Cloud Intelligence service-account flow.
//!
//! One HTTP client ([`OAuthClient`]: clock, timeouts, bounded bodies, Salesforce's token JSON
//! and error JSON, `signature` checks) is shared by one small type per flow. Every flow
//! implements [`TokenSource`](pardot_auth_core::TokenSource) and returns an
//! [`AccessToken`](pardot_auth_core::AccessToken); every error is a core
//! [`Error`](pardot_auth_core::Error) whose message names the flow ("JWT bearer
//! authentication failed: invalid_grant: audience is invalid (…hint…)") and whose
//! `source()` is this crate's [`OAuthError`].
//!
//! | flow | type | grant |
//! |---|---|---|
//! | JWT bearer (recommended for integrations) | [`JwtBearer`] | `urn:ietf:params:oauth:grant-type:jwt-bearer` |
//! | username-password (being retired) | [`UsernamePassword`] | `password` |
//! | web server + PKCE | [`WebServerFlow`], [`CallbackReceiver`] | `authorization_code` |
//! | refresh (with rotation) | [`RefreshTokenFlow`] | `refresh_token` |
//! | client credentials (My Domain) | [`ClientCredentials`] | `client_credentials` |
//! | device | [`DeviceFlow`] | `device` |
//! | MCI service account | [`MciServiceAccount`] | `client_credentials` + client assertion |
//!
//! Plus [`OAuthClient::revoke`] and [`OAuthClient::userinfo`].
//!
//! Salesforce never says when an access token expires; tokens carry
//! `Expiry::Estimated(issued + session estimate)`, 2 hours unless
//! [`OAuthClientBuilder::session_estimate`] says otherwise. MCI tokens carry
//! `Expiry::Known` from `expires_in`. Flows never cache: wrap them in the transport's cache.
//!
//! # JWT bearer
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::{LoginHost, TokenSource};
//! use sf_oauth::{JwtBearer, PrivateKey};
//!
//! let key = PrivateKey::from_pem_file("connected-app.key")?; // PKCS#8 or PKCS#1
//! let flow = JwtBearer::new(LoginHost::Sandbox, "3MVG9...consumer-key", "api@example.com.uat", key);
//! let token = flow.token().await?;
//! # Ok(()) }
//! ```
//!
//! # Username-password (being retired; prefer JWT bearer)
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::{LoginHost, TokenSource};
//! use sf_oauth::{ClientSecret, Password, UsernamePassword};
//!
//! let flow = UsernamePassword::new(LoginHost::Production, "3MVG9...", ClientSecret::new("secret"),
//!     "api@example.com", Password::new("password"))
//!     .with_security_token(Password::new("security-token"));
//! let token = flow.token().await?;
//! # Ok(()) }
//! ```
//!
//! # Web server flow with PKCE
//!
//! ```
//! use pardot_auth_core::LoginHost;
//! use sf_oauth::{RedirectUrl, WebServerFlow};
//!
//! let flow = WebServerFlow::new(
//!     LoginHost::Production,
//!     "3MVG9...",
//!     RedirectUrl::new("http://localhost:7777/callback")?,
//! )
//! .with_scopes(["api", "refresh_token"]);
//! let ((url, _state), _verifier) = flow.authorize_url().prompt("login").build();
//! assert!(url.as_str().starts_with("https://login.salesforce.com/services/oauth2/authorize?response_type=code&"));
//! assert!(url.query().unwrap().contains("code_challenge_method=S256"));
//! // Then: CallbackReceiver::bind(..).receive(&state, ..) and flow.exchange_code(code, verifier),
//! // or simply `flow.token()` which does all of it on a loopback redirect URI.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Refresh token, with rotation
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::LoginHost;
//! use sf_oauth::{RefreshToken, RefreshTokenFlow};
//!
//! let flow = RefreshTokenFlow::new(LoginHost::Production, "3MVG9...", RefreshToken::new("5Aep861..."))
//!     .on_rotation(|new| { /* persist new.secret() */ });
//! let (token, outcome) = flow.refresh().await?;
//! # Ok(()) }
//! ```
//!
//! # Client credentials
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::{LoginHost, TokenSource};
//! use sf_oauth::{ClientCredentials, ClientSecret};
//!
//! let flow = ClientCredentials::new(LoginHost::my_domain("acme")?, "3MVG9...", ClientSecret::new("secret"));
//! let token = flow.token().await?;
//! # Ok(()) }
//! ```
//!
//! # Device flow
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::LoginHost;
//! use sf_oauth::DeviceFlow;
//!
//! let flow = DeviceFlow::new(LoginHost::Production, "3MVG9...");
//! let auth = flow.start().await?;
//! eprintln!("Open {} and enter {}", auth.verification_uri, auth.user_code);
//! let token = flow.poll(&auth).await?;
//! # Ok(()) }
//! ```
//!
//! # Marketing Cloud Intelligence service account
//!
//! ```no_run
//! # async fn demo() -> Result<(), pardot_auth_core::Error> {
//! use pardot_auth_core::TokenSource;
//! use sf_oauth::{MciServiceAccount, PrivateKey};
//!
//! let flow = MciServiceAccount::new(
//!     "https://idp.intelligence.salesforce.com/us1/.well-known/openid-configuration".parse().unwrap(),
//!     "service-account-id",
//!     PrivateKey::from_pem_file("service-account.key")?,
//! );
//! let token = flow.token().await?;
//! # Ok(()) }
//! ```

// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// `TokenSource` for a flow whose `authenticate()` logs in afresh on every call (the flows
/// keep no token: caching is the transport's).
macro_rules! token_source_by_authenticate {
    ($flow:ty) => {
        #[async_trait::async_trait]
        impl pardot_auth_core::TokenSource for $flow {
            async fn token(
                &self,
            ) -> Result<pardot_auth_core::AccessToken, pardot_auth_core::Error> {
                self.authenticate().await
            }
        }
    };
}

mod app;
mod callback;
mod client;
mod client_credentials;
mod device;
mod error;
mod jwt;
mod mci;
mod password;
#[cfg(test)]
mod props;
mod refresh;
mod response;
mod types;
mod web;

pub use callback::{CallbackReceiver, DEFAULT_CALLBACK_TIMEOUT};
pub use client::{
    ClientAuth, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT,
    OAuthClient, OAuthClientBuilder,
};
pub use client_credentials::ClientCredentials;
pub use device::{
    DEFAULT_DEVICE_CODE_LIFETIME, DEFAULT_POLL_INTERVAL, DeviceAuthorization, DeviceFlow,
    DevicePrompt, SLOW_DOWN_STEP,
};
pub use error::{OAuthError, OAuthErrorCode};
pub use jwt::{DEFAULT_ASSERTION_LIFETIME, JWT_BEARER_GRANT, JwtBearer};
pub use mci::{
    DEFAULT_MCI_ASSERTION_LIFETIME, JWT_CLIENT_ASSERTION_TYPE, MCI_AUDIENCE, MciServiceAccount,
};
pub use password::UsernamePassword;
pub use refresh::{RefreshGrant, RefreshOutcome, RefreshTokenFlow, RotationObserver};
pub use response::{TokenResponse, UserInfo};
pub use types::{
    AuthorizationCode, ClientId, ClientSecret, CsrfState, MAX_PEM_FILE_BYTES, Password,
    PkceVerifier, PrivateKey, RedirectUrl, RefreshToken, Username,
};
pub use web::{AuthorizeUrlBuilder, AuthorizeUrlHandler, WebServerFlow};
