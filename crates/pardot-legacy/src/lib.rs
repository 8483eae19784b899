//! The legacy Pardot login (email, password, user_key -> api_key) and the one parser of the
//! Pardot v3/v4 `<rsp>` envelope.
//!
//! **Salesforce retired this login.** Since the Spring '21 release the Pardot (Account
//! Engagement) API authenticates Salesforce users through Salesforce OAuth only; the api_key
//! route below serves the remaining Pardot-only users and is not offered to new integrations.
//! This crate exists so that integrations still on it keep working while they move, and so that
//! moving is easy: read `docs/migrating-from-legacy-login.md` (JWT bearer flow for servers, web
//! server flow for interactive tools).
//!
//! - [`envelope`]: the parser of every v3/v4 answer (`<rsp stat="…">` XML and the `format=json`
//!   shape), used by `pardot-http` for OAuth-authenticated v3/v4 calls too.
//! - [`LegacyCredentials`] and [`LegacyLogin`]: `POST {host}/api/login/version/{3|4}` with
//!   `email`, `password` and `user_key`; the answer's api_key lives 60 minutes and tells which
//!   API version the account uses ([`ApiVersion`]).
//! - [`LegacyLogin`] is a core [`TokenSource`](pardot_auth_core::TokenSource): its tokens are
//!   [`TokenKind::LegacyApiKey`](pardot_auth_core::TokenKind) and go on the wire as
//!   `Authorization: Pardot api_key=…, user_key=…`.
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_auth_core::{AuthScheme, PardotHost, TokenSource};
//! use pardot_legacy::{LegacyCredentials, LegacyLogin};
//!
//! let credentials = LegacyCredentials::new(
//!     std::env::var("PARDOT_EMAIL")?,
//!     std::env::var("PARDOT_PASSWORD")?,
//!     std::env::var("PARDOT_USER_KEY")?,
//! )?;
//! let login = LegacyLogin::builder(credentials).host(PardotHost::Production).build()?;
//! let token = login.token().await?; // an AccessToken valid 60 minutes
//! let headers = AuthScheme::for_pardot(&token, None)?.headers(&token)?;
//! let version = login.api_version().expect("known after a login");
//! let url = PardotHost::Production.endpoint(&version.path("account", "read"));
//! let account = reqwest::Client::new().get(url).headers(headers).send().await?.bytes().await?;
//! let account = pardot_legacy::envelope::parse(&account)?.into_result()?;
//! # let _ = account; Ok(()) }
//! ```

pub mod envelope;

mod credentials;
mod error;
mod login;

pub use credentials::{LegacyCredentials, UserKey};
pub use error::LegacyError;
pub use login::{
    ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, LegacyLogin,
    LegacyLoginBuilder, LegacySession,
};

// Keeps the README's examples compiling (and the runnable ones passing).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
