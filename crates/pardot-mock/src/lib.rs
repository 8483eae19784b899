//! A faithful fake of the Salesforce login server (token endpoint, browser login pages, device
//! flow), the Pardot API (legacy login, v3/v4, v5) and the Marketing Cloud Intelligence
//! identity provider, for tests in any language.
//!
//! One server on `127.0.0.1:0` serves every virtual host from one base URL (see
//! [`virtual_host`]): production login at `{base}`, sandbox at `{base}/sandbox`, My Domain at
//! `{base}/my/NAME`, Pardot demo at `{base}/demo`, MCI at `{base}/{region}/…`, or the same
//! hosts by their real names in the `Host` header. Every time judgement goes through the
//! clock given to [`MockBuilder::clock`]; share one `ManualClock` with the client under test.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_mock::{Outcome, PardotMock, Route, fixtures};
//!
//! let mock = PardotMock::start().await; // fixtures/mock.toml, random port
//! let http = reqwest::Client::builder().no_proxy().build()?;
//! let password = format!("{}{}", fixtures::INTEGRATION_PASSWORD, fixtures::INTEGRATION_SECURITY_TOKEN);
//! let response = http
//!     .post(format!("{}/services/oauth2/token", mock.url()))
//!     .form(&[
//!         ("grant_type", "password"),
//!         ("client_id", fixtures::WEB_CONSUMER_KEY),
//!         ("client_secret", fixtures::WEB_CONSUMER_SECRET),
//!         ("username", fixtures::INTEGRATION_USERNAME),
//!         ("password", password.as_str()),
//!     ])
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 200);
//! let body: serde_json::Value = response.json().await?;
//! let token = body["access_token"].as_str().unwrap();
//! assert!(token.starts_with("00D5g00000AcmeP!"));
//! assert_eq!(mock.counts().get(Route::OAuthToken, Outcome::Ok), 1);
//!
//! // Tokens without a flow, for tests of other crates:
//! let direct = mock.issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)?;
//! assert_eq!(mock.lookup_access_token(&direct).unwrap().username, fixtures::INTEGRATION_USERNAME);
//! # Ok(()) }
//! ```

mod admin;
mod app;
pub mod config;
mod connections;
mod expect;
mod faults;
pub mod fixtures;
pub mod front_door;
#[cfg(feature = "cli")]
pub mod health;
mod issued_tokens;
mod journal;
mod lifecycle;
mod mci;
mod model;
pub mod oauth;
mod outcome;
mod pardot;
#[cfg(test)]
mod props;
pub mod request_params;
mod route;
mod rsa_key;
#[cfg(feature = "cli")]
pub mod serve;
pub mod sign_in;
mod signature_key;
mod state;
mod support;
pub mod virtual_host;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

pub use admin::HEALTH_PATH;
pub use app::{REQUEST_TIMEOUT, router};
pub use config::{
    AppConfig, BusinessUnitConfig, ConfigError, CustomFieldConfig, GenerateConfig,
    LegacyUserConfig, MciServiceAccountConfig, MockConfig, ObjectFieldValue, OrgConfig, OrgKind,
    PardotHostKind, PardotObjectConfig, PardotStatusMode, PermittedUsers, ProspectConfig,
    RefreshTokenConfig, UserConfig,
};
pub use connections::{MAX_HEADER_BYTES, MAX_HEADERS};
pub use expect::{Expectation, UnmetExpectation, VERIFY_JOURNAL_EXCERPT, VerifyError};
pub use faults::{Fault, MAX_LATENCY};
pub use journal::{Counts, JournalEntry, is_secret_name};
pub use model::{BusinessUnit, MCI_REGIONS};
pub use pardot::ConcurrencyStats;
pub use pardot::PardotApi;
pub use route::{Outcome, Route, RouteFilter, RouteGroup, UnknownName};
pub use state::{MockError, MockState, TokenInfo};
pub use support::ClockSource;
pub use virtual_host::PublicUrl;

/// The address the binary listens on by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8717";

fn default_config() -> &'static MockConfig {
    static DEFAULTS: OnceLock<MockConfig> = OnceLock::new();
    DEFAULTS.get_or_init(MockConfig::defaults)
}

/// A running mock server. Dropping it shuts the server down gracefully.
pub struct PardotMock {
    state: MockState,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    expectations: expect::Expectations,
}

pardot_auth_core::debug_shows!(PardotMock as this {
    url: this.url(),
});

impl PardotMock {
    /// Starts a mock with the default configuration (`fixtures/mock.toml`) and the system
    /// clock on `127.0.0.1:0`.
    ///
    /// # Panics
    /// When no loopback port can be bound (the environment is broken, not the input);
    /// use [`PardotMock::builder`] to get an error instead.
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(mock) => mock,
            Err(e) => panic!("pardot-mock failed to start: {e}"),
        }
    }

    /// A builder, starting from the default configuration.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:PORT` (production login, `pi.pardot.com`, MCI).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base the mock advertises in the URLs it writes: the public URL when one was set
    /// ([`MockBuilder::public_url`]), else [`PardotMock::url`].
    pub fn advertised_url(&self) -> String {
        self.state
            .public_url()
            .map_or_else(|| self.url(), |p| p.as_str().to_owned())
    }

    /// The sandbox login host, `{base}/sandbox` (`test.salesforce.com`).
    pub fn sandbox_url(&self) -> String {
        format!("{}/sandbox", self.url())
    }

    /// A My Domain host, `{base}/my/NAME` (`NAME.my.salesforce.com`).
    pub fn my_domain_url(&self, name: &str) -> String {
        format!("{}/my/{name}", self.url())
    }

    /// The Pardot demo host, `{base}/demo` (`pi.demo.pardot.com`).
    pub fn demo_url(&self) -> String {
        format!("{}/demo", self.url())
    }

    /// The MCI discovery URL of a region: `{base}/{region}/.well-known/openid-configuration`.
    pub fn mci_discovery_url(&self, region: &str) -> String {
        format!("{}/{region}/.well-known/openid-configuration", self.url())
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for [`router`]-level access and the lookups the Pardot API uses).
    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// Counters by route and outcome (never evicted).
    pub fn counts(&self) -> Counts {
        self.state.counts()
    }

    /// The journal: the last requests, oldest first, with values unmasked.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal()
    }

    /// The current time on the mock's clock.
    pub fn now(&self) -> SystemTime {
        self.state.now()
    }

    /// Moves the mock's clock forward (the shared `ManualClock` itself, if one was given).
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// Applies a [`Fault`] (same as `POST /__mock/faults`).
    pub fn fault(&self, fault: Fault) -> Result<(), MockError> {
        self.state.apply_fault(fault)
    }

    /// Expires every access token now.
    pub fn expire_all_tokens(&self) -> Result<(), MockError> {
        self.fault(Fault::ExpireTokens { username: None })
    }

    /// Expires one user's access tokens now.
    pub fn expire_user_tokens(&self, username: &str) -> Result<(), MockError> {
        self.fault(Fault::ExpireTokens {
            username: Some(username.to_owned()),
        })
    }

    /// The next `count` requests matching `route` (a [`Route`], a [`RouteGroup`] or
    /// [`RouteFilter::Any`]) get `status` and `body` instead of the real answer.
    pub fn fail_next(
        &self,
        route: impl Into<RouteFilter>,
        count: u32,
        status: u16,
        body: &str,
    ) -> Result<(), MockError> {
        self.fault(Fault::FailNext {
            route: route.into(),
            count,
            status,
            body: body.to_owned(),
            content_type: None,
            headers: Vec::new(),
        })
    }

    /// The next token-endpoint request gets this OAuth error (HTTP 400, the shape of `docs/reference/salesforce-oauth.md#token-endpoint-errors`).
    pub fn fail_next_token(&self, error: &str, description: &str) -> Result<(), MockError> {
        let body = serde_json::json!({"error": error, "error_description": description});
        self.fault(Fault::FailNext {
            route: Route::OAuthToken.into(),
            count: 1,
            status: 400,
            body: body.to_string(),
            content_type: Some(oauth::TOKEN_CONTENT_TYPE.to_owned()),
            headers: vec![
                (
                    "Cache-Control".to_owned(),
                    oauth::TOKEN_CACHE_CONTROL.to_owned(),
                ),
                (
                    "Expires".to_owned(),
                    "Thu, 01 Jan 1970 00:00:00 GMT".to_owned(),
                ),
            ],
        })
    }

    /// Adds real-time latency (capped at [`MAX_LATENCY`]) to requests matching `route`
    /// (all when `None`); `Duration::ZERO` removes it.
    pub fn set_latency(
        &self,
        latency: Duration,
        route: Option<RouteFilter>,
    ) -> Result<(), MockError> {
        self.fault(Fault::Latency {
            millis: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            route,
        })
    }

    /// Revokes an app's approval (all users) and every token issued to it.
    pub fn revoke_app_approval(&self, consumer_key: &str) -> Result<(), MockError> {
        self.fault(Fault::RevokeApproval {
            consumer_key: consumer_key.to_owned(),
            username: None,
        })
    }

    /// Turns refresh-token rotation on or off for an app.
    pub fn set_refresh_token_rotation(
        &self,
        consumer_key: &str,
        enabled: bool,
    ) -> Result<(), MockError> {
        self.fault(Fault::RefreshTokenRotation {
            consumer_key: consumer_key.to_owned(),
            enabled,
        })
    }

    /// Registers one more callback URL for an app at run time (same as
    /// `POST /__mock/apps/{consumer_key}/callbacks`), so a client can bind its loopback
    /// receiver on a random port first. Compared exactly with `redirect_uri`.
    pub fn add_callback_url(&self, consumer_key: &str, url: &str) -> Result<(), MockError> {
        self.state.add_callback_url(consumer_key, url)
    }

    /// Approves a pending device-flow user code as `username` (same as
    /// `POST /__mock/device/{user_code}/approve`); the next poll gets tokens.
    pub fn approve_device(&self, user_code: &str, username: &str) -> Result<(), MockError> {
        self.state.approve_device(user_code, username)
    }

    /// Denies a pending device-flow user code (same as `POST /__mock/device/{user_code}/deny`);
    /// the next poll gets `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> Result<(), MockError> {
        self.state.deny_device(user_code)
    }

    /// Forgets tokens, journal, counters and faults; re-seeds configured refresh tokens; puts
    /// the clock back to real time (a `ManualClock` given to the builder is the caller's and
    /// is not moved). Same as `POST /__mock/reset`.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// A live access token for `username` through the app `consumer_key`, without a flow.
    pub fn issue_access_token(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<String, MockError> {
        self.state.issue_access_token(username, consumer_key)
    }

    /// A live access token with explicit scopes (e.g. without `pardot_api`).
    pub fn issue_access_token_with_scopes(
        &self,
        username: &str,
        consumer_key: &str,
        scopes: &[&str],
    ) -> Result<String, MockError> {
        self.state
            .issue_access_token_with_scopes(username, consumer_key, scopes)
    }

    /// A new refresh token for `username` and `consumer_key`, as after a web login.
    pub fn seed_refresh_token(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<String, MockError> {
        self.state.seed_refresh_token(username, consumer_key)
    }

    /// What a live access token stands for, judged on the mock clock.
    pub fn lookup_access_token(&self, token: &str) -> Option<TokenInfo> {
        self.state.lookup_access_token(token)
    }

    /// Expects the number of requests to `route` (with `outcome`, or any outcome when `None`)
    /// to fall in `range` when the mock is dropped; a miss panics with the journal (unless
    /// the test is already panicking). See [`PardotMock::verify`] to check earlier.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use pardot_mock::{Outcome, PardotMock, Route};
    ///
    /// let mock = PardotMock::start().await;
    /// mock.expect(Route::OAuthToken, Some(Outcome::Ok), 0..=1);
    /// # }
    /// ```
    pub fn expect(
        &self,
        route: Route,
        outcome: Option<Outcome>,
        range: impl std::ops::RangeBounds<u64>,
    ) {
        self.expectations.add(route, outcome, range);
    }

    /// Checks the expectations now: `Err` lists every unmet expectation and the latest
    /// requests received.
    pub fn verify(&self) -> Result<(), VerifyError> {
        self.expectations.verify(&self.state)
    }

    /// Forgets every expectation.
    pub fn clear_expectations(&self) {
        self.expectations.clear();
    }

    /// Stops the server and waits until it has finished (Drop does the same without waiting).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PardotMock {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Like wiremock: a failed expectation fails the test, unless it is failing already.
        if !std::thread::panicking()
            && let Err(report) = self.expectations.verify(&self.state)
        {
            panic!("{report}");
        }
    }
}

/// Builds a [`PardotMock`]: configuration (the defaults, a [`MockConfig`], TOML text or a
/// file, plus programmatic additions), clock and address.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use pardot_auth_core::{Clock, ManualClock};
/// use pardot_mock::{PardotMock, fixtures};
///
/// let clock = ManualClock::new();
/// let mock = PardotMock::builder()
///     .clock(&clock)
///     .session_timeout(Duration::from_secs(15 * 60))
///     .start()
///     .await?;
/// let token = mock.issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)?;
/// clock.advance(Duration::from_secs(15 * 60));
/// assert!(mock.lookup_access_token(&token).is_none()); // the session ended
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MockBuilder {
    /// `None`: the default configuration, untouched. It is copied only when a setter edits
    /// it; untouched, the mock starts from the default's model built once per process.
    config: Result<Option<MockConfig>, ConfigError>,
    clock: ClockSource,
    session_timeout: Option<Duration>,
    addr: SocketAddr,
}

impl Default for MockBuilder {
    fn default() -> Self {
        Self {
            config: Ok(None),
            clock: ClockSource::from(pardot_auth_core::SystemClock),
            session_timeout: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl MockBuilder {
    /// Replaces the configuration.
    pub fn config(mut self, config: MockConfig) -> Self {
        self.config = Ok(Some(config));
        self
    }

    /// Replaces the configuration with TOML text (paths relative to the current directory).
    pub fn config_toml(mut self, toml: &str) -> Self {
        self.config = MockConfig::from_toml(toml).map(Some);
        self
    }

    /// Replaces the configuration with a TOML file (paths relative to its directory).
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Self {
        self.config = MockConfig::from_file(path).map(Some);
        self
    }

    fn edit(mut self, f: impl FnOnce(&mut MockConfig)) -> Self {
        if let Ok(c) = &mut self.config {
            f(c.get_or_insert_with(|| default_config().clone()));
        }
        self
    }

    /// The clock for every time judgement: a `ManualClock` (shared with the client under
    /// test) or any `SharedClock`. Default: the system clock.
    pub fn clock(mut self, clock: impl Into<ClockSource>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Sets every org's session timeout (access-token life).
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = Some(timeout);
        self
    }

    /// The address to bind (default `127.0.0.1:0`, a random port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The base URL to advertise instead of the one each request was made to
    /// (`scheme://host[:port]`), for clients that reach the mock by another name: in
    /// `instance_url`, identity URLs, discovery documents, `verification_uri` and
    /// `nextPageUrl`. Checked at start. Same as `public_url` in the config.
    pub fn public_url(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.edit(|c| c.public_url = Some(url))
    }

    /// Adds an org.
    pub fn org(self, org: OrgConfig) -> Self {
        self.edit(|c| c.orgs.push(org))
    }

    /// Adds a user.
    pub fn user(self, user: UserConfig) -> Self {
        self.edit(|c| c.users.push(user))
    }

    /// Adds a connected app.
    pub fn app(self, app: AppConfig) -> Self {
        self.edit(|c| c.apps.push(app))
    }

    /// Adds a business unit.
    pub fn business_unit(self, bu: BusinessUnitConfig) -> Self {
        self.edit(|c| c.business_units.push(bu))
    }

    /// Adds a legacy Pardot user.
    pub fn legacy_user(self, user: LegacyUserConfig) -> Self {
        self.edit(|c| c.legacy_users.push(user))
    }

    /// Adds a prospect (`[[prospects]]`); [`ProspectConfig::with_assigned_to`] assigns it to
    /// a Pardot user of [`MockBuilder::pardot_user`] (or of the configuration).
    pub fn prospect(self, prospect: ProspectConfig) -> Self {
        self.edit(|c| c.prospects.push(prospect))
    }

    /// Adds a campaign (`[[campaigns]]`, v3/v4 `campaign`): `name`, `cost`, `crm_fid`.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn campaign(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.campaigns.push(record))
    }

    /// Adds a list (`[[lists]]`, v3/v4 `list`): `name`, `title`, `is_public`, `is_dynamic`, …
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn list(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.lists.push(record))
    }

    /// Adds a list membership (`[[list_memberships]]`): `list_id` and `prospect_id` name a list and a prospect of the same business unit.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn list_membership(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.list_memberships.push(record))
    }

    /// Adds a visitor (`[[visitors]]`), of a prospect (`prospect_id`) or anonymous.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn visitor(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.visitors.push(record))
    }

    /// Adds a visit (`[[visits]]`) of a visitor (`visitor_id`, and its `prospect_id`).
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn visit(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.visits.push(record))
    }

    /// Adds a page view of a visit (`[[visitor_page_views]]`, shown inside its visit).
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn visitor_page_view(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.visitor_page_views.push(record))
    }

    /// Adds a visitor activity (`[[visitor_activities]]`): of a visitor and/or prospect, with a campaign and the thing acted on.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn visitor_activity(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.visitor_activities.push(record))
    }

    /// Adds a Pardot user as the v3/v4 `user` object lists it (`[[pardot_users]]`; apart from the Salesforce users of [`MockBuilder::user`]). A prospect's `assigned_to` names one.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn pardot_user(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.pardot_users.push(record))
    }

    /// Adds an opportunity (`[[opportunities]]`): a campaign (`campaign_id`) and a prospect (`prospect_id`).
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn opportunity(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.opportunities.push(record))
    }

    /// Adds an email click (`[[email_clicks]]`): a prospect's click in a list email.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn email_click(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.email_clicks.push(record))
    }

    /// Adds a prospect account (`[[prospect_accounts]]`): its fields, and the custom fields of [`MockBuilder::prospect_account_field`] by name.
    /// Checked at start like the TOML entry: an unknown field, a wrong type or an id that
    /// names no record is an error naming it.
    pub fn prospect_account(self, record: PardotObjectConfig) -> Self {
        self.edit(|c| c.prospect_accounts.push(record))
    }

    /// Adds a custom field of prospect accounts in one business unit
    /// (`[[prospect_account_fields]]`): `do/describe` lists it and the accounts set it by name.
    pub fn prospect_account_field(self, field: CustomFieldConfig) -> Self {
        self.edit(|c| c.prospect_account_fields.push(field))
    }

    /// Sets the volume generator (`[generate]`): records made from a seed in one business
    /// unit, after the configured ones; the same table gives byte-identical answers.
    pub fn generate(self, generate: GenerateConfig) -> Self {
        self.edit(|c| c.generate = Some(generate))
    }

    /// Adds an MCI service account.
    pub fn mci_service_account(self, account: MciServiceAccountConfig) -> Self {
        self.edit(|c| c.mci_service_accounts.push(account))
    }

    /// Adds a refresh token that exists from the start.
    pub fn refresh_token(self, token: RefreshTokenConfig) -> Self {
        self.edit(|c| c.refresh_tokens.push(token))
    }

    /// Sets the journal size.
    pub fn journal_size(self, size: usize) -> Self {
        self.edit(|c| c.journal_size = size)
    }

    /// How long a v5 export stays `Waiting` once its turn comes, and then `Processing`, on
    /// the mock's clock (default 5 seconds each; zero completes an export at once). Whole
    /// seconds: a fraction is dropped.
    pub fn export_step(self, step: Duration) -> Self {
        self.edit(|c| c.export_step_secs = step.as_secs())
    }

    /// Serves the `/__mock/…` admin routes or not.
    pub fn admin_routes(self, on: bool) -> Self {
        self.edit(|c| c.admin_routes = on)
    }

    /// Validates the configuration and builds the state without serving it (for [`router`]).
    pub fn build_state(self) -> Result<MockState, MockError> {
        let mut config = match self.config? {
            Some(config) => config,
            None if self.session_timeout.is_none() => {
                return MockState::of_defaults(self.clock);
            }
            None => default_config().clone(),
        };
        if let Some(t) = self.session_timeout {
            for org in &mut config.orgs {
                org.session_timeout_secs = t.as_secs().max(1);
            }
        }
        MockState::new(config, self.clock)
    }

    /// Validates the configuration, binds the address and serves on the current tokio runtime.
    pub async fn start(self) -> Result<PardotMock, MockError> {
        let addr = self.addr;
        let state = self.build_state()?;
        let running = app::spawn(state.clone(), addr).await?;
        if !running.addr.ip().is_loopback() {
            tracing::warn!(
                addr = %running.addr,
                "pardot-mock is listening on a non-loopback address: it accepts public test \
                 credentials; never expose it to a network"
            );
        }
        Ok(PardotMock {
            state,
            addr: running.addr,
            shutdown: running.shutdown,
            task: Some(running.task),
            expectations: expect::Expectations::default(),
        })
    }
}

// The README's examples are compiled (and, where they do not wait on requests, run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
