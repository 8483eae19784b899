//! The front door: pick a flow by configuration and get a ready Pardot client.
//!
//! - [`Config`] names a flow and its settings, filled in code or by [`Config::from_env`]
//!   (environment variables and `.env`; the names are in the README).
//! - [`connect`] turns it into a ready [`PardotClient`]: the flow (`sf_oauth` or
//!   [`pardot_legacy::LegacyLogin`]) as the token source, wrapped in `pardot-http`'s cache
//!   (refresh ahead, one fetch for many callers), on the configured Pardot host and business
//!   unit, after fetching the first token so bad credentials show up at once.
//! - [`connect_mci`] gives an [`MciClient`] for Marketing Cloud Intelligence.
//! - Where tokens are kept and how the request limits are shared are settings of the
//!   [`Config`] ([`FleetConfig`]: `PARDOT_AUTH_STORE` = `memory|file|redis`,
//!   `PARDOT_AUTH_GOVERNOR` = `process|host|redis`, and what they need); in memory and per
//!   process by default. Redis needs the `redis` feature.
//! - [`Connector`] sets what `connect` leaves at defaults: clock, a token store of your own,
//!   and hooks for the flows that need a person.
//! - [`diagnose`](fn@diagnose) checks a setup end to end with a fresh token and names the known mistake
//!   ([`Diagnosis`], with its fix); `pardot-auth whoami` prints it.
//!
//! **Flows that need a person** (web server, device) do not run unattended: `connect` uses
//! the refresh token that `pardot-auth login web|device` kept in the token store (with
//! `PARDOT_AUTH_STORE=file`, the CLI's files), or fails with [`ConnectError::NeedsLogin`]
//! saying so. With [`Connector::on_authorize_url`] or
//! [`Connector::on_device_code`] it asks the person instead.
//!
//! The member crates are re-exported whole ([`core`], [`sf_oauth`], [`pardot_legacy`],
//! [`pardot_http`]) and their key types at the root. With the `cli` feature, the crate also
//! builds the `pardot-auth` binary (`cargo install pardot-auth --features cli`).
//!
//! This example logs in by JWT bearer against an in-process `pardot-mock` and lists
//! prospects; against a real org, the same code takes its [`Config`] from
//! [`Config::from_env`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_auth::{BusinessUnitId, Config, FlowConfig, LoginHost, PardotHost, connect};
//! use pardot_mock::{PardotMock, fixtures};
//!
//! let mock = PardotMock::start().await;
//! # let dir = tempfile::tempdir()?;
//! # let key = dir.path().join("connected-app.key");
//! # std::fs::write(&key, fixtures::CONNECTED_APP_KEY_PEM)?;
//! let config = Config::new(FlowConfig::JwtBearer {
//!     login: LoginHost::custom(&mock.url())?,
//!     client_id: fixtures::JWT_CONSUMER_KEY.into(),
//!     username: fixtures::INTEGRATION_USERNAME.into(),
//!     private_key_file: key,
//! })
//! .pardot_host(PardotHost::custom(&mock.url())?)
//! .business_unit(BusinessUnitId::parse(fixtures::BUSINESS_UNIT_ID)?);
//! let client = connect(config).await?;
//! let page: serde_json::Value = client
//!     .get("/api/v5/objects/prospects")
//!     .query([("fields", "id,email")])
//!     .send()
//!     .await?
//!     .json()?;
//! assert!(page["values"].is_array());
//! # Ok(()) }
//! ```

mod config;
mod connect;
mod connect_error;
mod diagnose;
mod diagnose_check;
mod fleet;
mod mci;
#[cfg(feature = "test-util")]
pub mod testing;

pub use config::{
    Config, ConfigError, DEFAULT_REDIRECT_URI, DayOffset, FleetConfig, Flow, FlowConfig,
    GovernorKind, RedisUrl, StoreKind, default_store_dir,
};
pub use connect::{
    AuthorizeUrlHook, Connector, DEFAULT_INTERACTIVE_TIMEOUT, DeviceCodeHook, FirstToken,
    FlowSource, connect, connect_mci,
};
pub use connect_error::ConnectError;
pub use diagnose::{Diagnosis, PardotCall, TokenChecked};
pub use diagnose_check::diagnose;
pub use mci::{DEFAULT_MCI_MAX_BODY_BYTES, MciClient, MciResponse};

/// The vocabulary: ids, hosts, tokens, claims, the `TokenSource` trait, errors, clocks.
pub use pardot_auth_core as core;
/// The authenticated Pardot transport: client, cache, retry, governor, stores.
pub use pardot_http;
/// The legacy Pardot login and the v3/v4 envelope parser.
pub use pardot_legacy;
/// The Salesforce OAuth flows and the MCI service-account flow.
pub use sf_oauth;

pub use pardot_auth_core::{
    AccessToken, AuthScheme, BusinessUnitId, Clock, Error, ErrorClass, Expiry, LoginHost,
    ManualClock, PardotErrorCode, PardotHost, RefreshTokenGrant, SharedClock, SystemClock,
    TokenKind, TokenSource,
};
#[cfg(feature = "redis")]
pub use pardot_http::store::RedisTokenStore;
pub use pardot_http::store::{EncryptionKey, FileStore, MemoryStore, StoredToken, TokenStore};
pub use pardot_http::{
    CachedTokenSource, FailurePolicy, Governor, PardotClient, PardotError, PardotResponse,
};
pub use pardot_legacy::{LegacyCredentials, LegacyLogin};
pub use sf_oauth::{
    ClientCredentials, DeviceFlow, JwtBearer, MciServiceAccount, OAuthClient, PrivateKey,
    RefreshGrant, RefreshTokenFlow, UserInfo, UsernamePassword, WebServerFlow,
};

// The README's examples are compiled (and the runnable ones run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The guides under docs/ are compiled (and the runnable snippets run) as doctests too, so the
// snippets cannot drift from the crates. `cfg(doctest)` keeps them out of normal builds, and
// `in_repository` (build.rs) out of a packaged copy, which has no docs/ to read.
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadmeDoctests;

#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/choosing-a-flow.md")]
struct DocsChoosingAFlow;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/connected-app-setup.md")]
struct DocsConnectedAppSetup;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/fleet.md")]
struct DocsFleet;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/hosts.md")]
struct DocsHosts;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/migrating-from-legacy-login.md")]
struct DocsMigratingFromLegacyLogin;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/mock-guide.md")]
struct DocsMockGuide;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/troubleshooting.md")]
struct DocsTroubleshooting;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/client-credentials.md")]
struct DocsClientCredentials;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/device.md")]
struct DocsDevice;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/jwt-bearer.md")]
struct DocsJwtBearer;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/legacy-api-key.md")]
struct DocsLegacyApiKey;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/mci-service-account.md")]
struct DocsMciServiceAccount;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/refresh-token.md")]
struct DocsRefreshToken;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/username-password.md")]
struct DocsUsernamePassword;
#[cfg(all(doctest, in_repository))]
#[doc = include_str!("../../../docs/flows/web-server.md")]
struct DocsWebServer;
