//! An authenticated transport for the Pardot (Account Engagement) API that stays
//! authenticated for days, under load, without hammering the login server and without loops.
//!
//! - [`PardotClient`]: `reqwest`-based client for the v3/v4 (`<rsp>` envelope, XML or JSON)
//!   and v5 (JSON) APIs. It puts the right headers on every request
//!   (`Authorization: Bearer …` + `Pardot-Business-Unit-Id`, or the legacy
//!   `Pardot api_key=…, user_key=…`), reads bounded bodies with timeouts, and returns typed
//!   answers or a typed [`PardotError`] that says what to do.
//! - [`CachedTokenSource`]: wraps any [`TokenSource`](pardot_auth_core::TokenSource):
//!   lazy refresh ahead of expiry (margin `min(5 min, 20%)` of the lifetime, jittered),
//!   single flight (N callers, one fetch), soft refresh (a failed early refresh keeps the
//!   still-valid token), backoff on the [`Clock`](pardot_auth_core::Clock) after failures.
//! - Expiry detection from the body (v3/v4 codes 1 and 184 in XML and JSON, v5 bodies,
//!   Salesforce `INVALID_SESSION_ID`, also when sent with 400 instead of 401): the client
//!   drops exactly the rejected token, fetches once, retries once. A second rejection in a
//!   row is an error, never a loop; 184 twice right after a refresh reads "token invalid or
//!   lacks the pardot_api scope". A token whose granted scopes lack `pardot_api`/`full`
//!   fails before its first call.
//! - [`RetryPolicy`]: code 66, HTTP 429 and 503 are retried with jittered backoff on the
//!   clock, bounded in attempts and in total time. Daily limit (122) and never-retry errors
//!   fail at once. Requests that are not idempotent (a v5 create) are only sent again when
//!   the answer proves the first one was not processed (66/429, expiry, connection refused);
//!   never after a 5xx (503 included), a dropped connection or a timeout.
//! - [`Governor`]: at most 5 requests in flight per business unit (configurable), shared by
//!   clones; an optional daily budget that stops before Pardot's quota error.
//! - [`store`]: [`MemoryStore`](store::MemoryStore) (default) and
//!   [`FileStore`](store::FileStore) (0600, atomic writes, an OS lock so processes share one
//!   token and one refresh); rotated refresh tokens are kept.
//! - [`Metrics`]: fetches, refreshes, retries, throttled waits. `tracing` spans
//!   `pardot_http.request` and `pardot_http.token_fetch`; no secret is ever recorded.
//! - Features: `middleware` ([`PardotAuthPolicy`] as a `reqwest-middleware` middleware) and
//!   `tower` (a `tower` layer), adding the same behaviour to a stack a user already has.
//!
//! Waits this crate chooses (backoff after throttling or failed fetches) go through the
//! [`Clock`](pardot_auth_core::Clock), so tests move a `ManualClock` instead of sleeping.
//! So does the deadline of a token fetch, so a test can time out a hung fetch by advancing
//! the clock. Deadlines that guard against hung I/O (HTTP timeouts, the wait for a governor
//! slot, a store lock) use the runtime's timer, since a manual clock would never fire them.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//! use pardot_auth_core::{provide_token_fn, AccessToken, Expiry, PardotHost, TokenKind};
//! use pardot_http::PardotClient;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Any TokenSource works: a JWT bearer flow from sf-oauth, a legacy login, or a closure.
//! let source = provide_token_fn("example", || async {
//!     let now = SystemTime::now();
//!     Ok(AccessToken::new(TokenKind::SalesforceBearer, "00D…!AQ…".into(), now,
//!         Expiry::Estimated(now + Duration::from_secs(7200))))
//! });
//! let client = PardotClient::builder(Arc::new(source), PardotHost::Production)
//!     .business_unit("0Uv5A000000PAuM".parse()?)
//!     .daily_budget(24_000)
//!     .build()?;
//!
//! let prospects = client
//!     .get("/api/v5/objects/prospects")
//!     .query([("fields", "id,email"), ("limit", "200")])
//!     .send()
//!     .await?;
//! let page: serde_json::Value = prospects.json()?;
//! println!("{} prospects; {:?}", page["values"].as_array().map_or(0, Vec::len), client.metrics());
//!
//! let account = client.get("/api/account/version/4/do/read").send().await?;
//! println!("account: {:?}", account.envelope());
//! # Ok(()) }
//! ```

mod cache;
mod classify;
mod client;
mod deadline;
mod doubling;
mod error;
mod export;
mod governor;
mod jitter;
mod metrics;
#[cfg(feature = "middleware")]
mod middleware;
mod policy;
mod retry;
pub mod store;
#[cfg(feature = "test-util")]
pub mod testing;
#[cfg(feature = "tower")]
mod tower_layer;

pub use cache::{CachedTokenSource, CachedTokenSourceBuilder};
pub use classify::ApiVersion;
pub use client::{PardotClient, PardotClientBuilder, PardotRequest, PardotResponse};
pub use error::PardotError;
pub use export::{ExportDone, ExportError, ExportPolling, ExportRequest};
#[cfg(feature = "redis")]
pub use governor::DEFAULT_PERMIT_TTL;
pub use governor::{FailurePolicy, Governor, PARDOT_CONCURRENCY_LIMIT, Usage};
pub use metrics::{CacheMetrics, Metrics};
/// Re-exported from `pardot-auth-core`, where the trait lives (flows such as
/// `sf_oauth::RefreshGrant` implement it without depending on this crate).
pub use pardot_auth_core::{FnRefreshGrant, RefreshTokenGrant, refresh_grant_fn};
pub use policy::{CacheChoice, GivenCache, NewCache, PardotAuthPolicy, PardotAuthPolicyBuilder};
pub use retry::RetryPolicy;
#[cfg(feature = "tower")]
pub use tower_layer::{PardotAuthLayer, PardotAuthService};

/// Re-exported: the envelope type [`PardotResponse::envelope`] returns.
pub use pardot_legacy::envelope::Envelope;

// The README's examples are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
