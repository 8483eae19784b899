//! The fake Pardot API: the legacy login, the v3/v4 endpoints (XML and JSON), the v5
//! prospects endpoints, authentication checks with the real codes, per-business-unit limits
//! and the demo-host rule.
//!
//! All Pardot state (api_keys, the prospects' mutable stores, in-flight and daily counters,
//! failed-login counts) lives here, built from the mock's configuration at start-up; the rest
//! of the mock is reached through [`Backend`] (the clock, Salesforce tokens, users' business
//! units).

mod admin;
mod errors;
mod gate;
mod legacy;
mod limits;
mod prospects;
mod render;
mod time;
mod v34;
mod v5;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use pardot_auth_core::BusinessUnitId;

pub use errors::StatusMode;
pub(crate) use errors::{ACCESS_DENIED_FOR_BU, ApiError};
pub(crate) use legacy::{LegacyAuth, LegacyUser};
pub(crate) use limits::{InFlight, Limits};
pub(crate) use prospects::{Prospect, ProspectStore};

use crate::config::{ConfigError, MockConfig, PardotHostKind, PardotStatusMode, invalid};
use crate::state::MockState;

/// What a Salesforce access token means to the Pardot API.
#[derive(Debug, Clone)]
pub(crate) enum BearerCheck {
    /// Never issued (or removed: revoked, expired by a fault).
    Unknown,
    /// Issued, but expired on the mock's clock.
    Inactive,
    /// Live.
    Live {
        /// The token carries `pardot_api` or `full`.
        allows_pardot: bool,
        /// Its user.
        username: String,
    },
}

/// What the Pardot API needs from the rest of the mock.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Now, on the mock's clock.
    fn now(&self) -> SystemTime;
    /// Looks up a Salesforce access token.
    fn bearer(&self, token: &str) -> BearerCheck;
    /// Whether the user may call the Pardot API for the business unit.
    fn may_use_business_unit(&self, username: &str, bu: &BusinessUnitId) -> bool;
}

impl Backend for MockState {
    fn now(&self) -> SystemTime {
        MockState::now(self)
    }

    fn bearer(&self, token: &str) -> BearerCheck {
        match self.lookup_access_token(token) {
            Some(info) => BearerCheck::Live {
                allows_pardot: info.has_scope("pardot_api"),
                username: info.username,
            },
            // Expired records stay in the token map until pruned; revoked and fault-expired
            // ones are removed, so they read as unknown.
            None if self.inner.tokens.access.read(token).contains_key(token) => {
                BearerCheck::Inactive
            }
            None => BearerCheck::Unknown,
        }
    }

    fn may_use_business_unit(&self, username: &str, bu: &BusinessUnitId) -> bool {
        self.user_has_business_unit(username, bu)
    }
}

/// The name the Pardot state is kept under in [`MockState`]'s extension slots.
const EXTENSION: &str = "pardot";

impl MockState {
    /// Builds the Pardot state from the configuration (at start, so a bad Pardot config is
    /// an error then, and the account's creation time is the start time).
    pub(crate) fn init_pardot(&self) -> Result<(), ConfigError> {
        let api = PardotApi::from_config(Arc::clone(&self.model().config), MockState::now(self))?;
        self.set_extension(EXTENSION, Arc::new(api));
        Ok(())
    }

    /// The Pardot API's state (built from the configuration on first use): test hooks,
    /// counters and prospects.
    pub fn pardot(&self) -> Arc<PardotApi> {
        if let Some(api) = self
            .inner
            .extensions
            .read(&EXTENSION)
            .get(EXTENSION)
            .and_then(|a| Arc::clone(a).downcast::<PardotApi>().ok())
        {
            return api;
        }
        // Built under the slot's write lock so concurrent first requests share one state.
        let mut slot = self.inner.extensions.write(&EXTENSION);
        if let Some(api) = slot
            .get(EXTENSION)
            .and_then(|a| Arc::clone(a).downcast::<PardotApi>().ok())
        {
            return api;
        }
        let now = MockState::now(self);
        let api = match PardotApi::from_config(Arc::clone(&self.model().config), now) {
            Ok(api) => api,
            Err(e) => {
                // `init_pardot` runs when the mock starts, so this only happens after a reset of a
                // state whose extension slot was replaced.
                tracing::error!(error = %e, "pardot-mock: Pardot configuration unusable; serving none");
                let mut empty = MockConfig::empty();
                empty.pardot_status_mode = self.config().pardot_status_mode;
                PardotApi::from_config(Arc::new(empty), now)
                    .unwrap_or_else(|_| PardotApi::empty(StatusMode::Modern))
            }
        };
        let api = Arc::new(api);
        slot.insert(
            EXTENSION,
            Arc::clone(&api) as Arc<dyn std::any::Any + Send + Sync>,
        );
        api
    }
}

/// A business unit (a v3/v4 "account") as the Pardot API sees it.
#[derive(Debug)]
pub(crate) struct Unit {
    pub id: BusinessUnitId,
    pub host: PardotHostKind,
    pub active: bool,
    pub limits: Arc<Limits>,
    pub prospects: ProspectStore,
    pub account: Account,
}

/// The `account/do/read` record of a business unit.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: u64,
    pub company: String,
    pub level: String,
    pub website: String,
    pub created_at: SystemTime,
}

/// The Pardot API's state: business units with their limits and prospects, legacy users and
/// their api_keys. Reach it with [`MockState::pardot`] (`mock.state().pardot()`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use pardot_auth_core::BusinessUnitId;
/// use pardot_mock::{PardotMock, fixtures};
///
/// let mock = PardotMock::start().await;
/// let token = mock.issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)?;
/// let http = reqwest::Client::builder().no_proxy().build()?;
/// let answer = http
///     .get(format!("{}/api/account/version/4/do/read?format=json", mock.url()))
///     .bearer_auth(&token)
///     .header("Pardot-Business-Unit-Id", fixtures::BUSINESS_UNIT_ID)
///     .send()
///     .await?;
/// assert_eq!(answer.headers()["content-type"], "application/json");
/// let body: serde_json::Value = answer.json().await?;
/// assert_eq!(body["account"]["id"], 1001);
///
/// let bu: BusinessUnitId = fixtures::BUSINESS_UNIT_ID.parse()?;
/// let api = mock.state().pardot();
/// assert_eq!(api.daily_used(&bu, mock.now()), Some(1));
/// assert_eq!(api.in_flight(&bu), Some(0)); // the slot came back with the answer
/// # Ok(()) }
/// ```
pub struct PardotApi {
    status_mode: StatusMode,
    units: Vec<Unit>,
    by_id: HashMap<BusinessUnitId, usize>,
    legacy: LegacyAuth,
    gate: gate::Gate,
    /// The configuration it was built from, kept for [`PardotApi::reset`].
    seed: Arc<MockConfig>,
}

impl std::fmt::Debug for PardotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PardotApi")
            .field("status_mode", &self.status_mode)
            .field("units", &self.units.len())
            .field("legacy", &self.legacy)
            .finish_non_exhaustive()
    }
}

fn seed_prospects(
    config: &MockConfig,
    unit: &BusinessUnitId,
    now: SystemTime,
) -> Result<Vec<Arc<Prospect>>, ConfigError> {
    let mut out = Vec::new();
    for (i, p) in config.prospects.iter().enumerate() {
        let what = format!("prospects[{i}]");
        let bu = BusinessUnitId::parse(&p.business_unit)
            .map_err(|e| invalid(format!("{what}.business_unit: {e}")))?;
        if &bu != unit {
            continue;
        }
        let mut prospect = Prospect::new(p.id, &p.email, now);
        let parse_time =
            |field: &str, text: &Option<String>| -> Result<Option<SystemTime>, ConfigError> {
                text.as_deref()
                    .map(|t| {
                        time::parse_datetime(t).ok_or_else(|| {
                            invalid(format!(
                                "{what}.{field} `{t}`: use `YYYY-MM-DD HH:MM:SS` (UTC)"
                            ))
                        })
                    })
                    .transpose()
            };
        if let Some(t) = parse_time("created_at", &p.created_at)? {
            prospect.created_at = t;
            prospect.updated_at = t;
        }
        if let Some(t) = parse_time("updated_at", &p.updated_at)? {
            prospect.updated_at = t;
        }
        prospect.score = p.score;
        let mut set = |name: &str, value: &str| -> Result<(), ConfigError> {
            match prospect.set(name, value) {
                Ok(true) => Ok(()),
                Ok(false) if name == "deleted" => {
                    prospect.deleted = matches!(value, "true" | "1");
                    Ok(())
                }
                Ok(false) => Err(invalid(format!(
                    "{what}.fields: unknown prospect field `{name}`"
                ))),
                Err(e) => Err(invalid(format!(
                    "{what}.fields.{name} `{value}`: {}",
                    e.message
                ))),
            }
        };
        for (name, value) in [
            ("first_name", &p.first_name),
            ("last_name", &p.last_name),
            ("company", &p.company),
        ] {
            if !value.is_empty() {
                set(name, value)?;
            }
        }
        if let Some(grade) = &p.grade {
            set("grade", grade)?;
        }
        for (name, value) in &p.fields {
            set(name, value)?;
        }
        // Shared straight away: a temporary Vec of owned prospects, freed later, raised the
        // resident memory of a large store.
        out.push(Arc::new(prospect));
    }
    Ok(out)
}

impl PardotApi {
    /// Builds the Pardot state from the mock's configuration (already validated by the
    /// model: ids parse, references resolve). `now` stamps records without times.
    pub(crate) fn from_config(
        config: Arc<MockConfig>,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        let mut units = Vec::new();
        let mut by_id = HashMap::new();
        for (i, b) in config.business_units.iter().enumerate() {
            let id = BusinessUnitId::parse(&b.id)
                .map_err(|e| invalid(format!("business_units[{i}].id: {e}")))?;
            if b.concurrency_limit == 0 {
                return Err(invalid(format!(
                    "business_units[{i}].concurrency_limit must be at least 1"
                )));
            }
            let prospects = ProspectStore::new(seed_prospects(&config, &id, now)?);
            by_id.insert(id.clone(), units.len());
            units.push(Unit {
                id,
                host: b.host,
                active: b.active,
                limits: Arc::new(Limits::new(b.concurrency_limit, b.daily_budget)),
                prospects,
                account: Account {
                    id: b.account_id.unwrap_or(1000 + i as u64),
                    company: if b.company.is_empty() {
                        b.name.clone()
                    } else {
                        b.company.clone()
                    },
                    level: b.level.clone(),
                    website: b.website.clone(),
                    created_at: now,
                },
            });
        }
        let mut users = Vec::new();
        for (i, l) in config.legacy_users.iter().enumerate() {
            // A legacy user without a business unit belongs to the first one configured.
            let unit = match &l.business_unit {
                Some(text) => {
                    let id = BusinessUnitId::parse(text)
                        .map_err(|e| invalid(format!("legacy_users[{i}].business_unit: {e}")))?;
                    *by_id.get(&id).ok_or_else(|| {
                        invalid(format!("legacy_users[{i}].business_unit: unknown `{text}`"))
                    })?
                }
                None if units.is_empty() => {
                    return Err(invalid(format!(
                        "legacy_users[{i}]: a legacy user needs a business unit, and none is configured"
                    )));
                }
                None => 0,
            };
            users.push(LegacyUser::new(
                &l.email,
                &l.password,
                &l.user_key,
                l.api_version,
                unit,
            ));
        }
        Ok(Self {
            status_mode: match config.pardot_status_mode {
                PardotStatusMode::Modern => StatusMode::Modern,
                PardotStatusMode::Legacy => StatusMode::Legacy,
            },
            units,
            by_id,
            legacy: LegacyAuth::new(users),
            gate: gate::Gate::default(),
            seed: config,
        })
    }

    fn empty(status_mode: StatusMode) -> Self {
        Self {
            status_mode,
            units: Vec::new(),
            by_id: HashMap::new(),
            legacy: LegacyAuth::new(Vec::new()),
            gate: gate::Gate::default(),
            seed: Arc::new(MockConfig::empty()),
        }
    }

    /// Restores the configured state: prospects, counters, api_keys and failed logins.
    pub(crate) fn reset(&self, now: SystemTime) {
        for unit in &self.units {
            let seeded = seed_prospects(&self.seed, &unit.id, now).unwrap_or_default();
            unit.prospects.replace_all(seeded);
            unit.limits.reset_daily();
        }
        self.legacy.reset();
        self.gate.open();
    }

    /// Ends every legacy api_key now (with the mock's "expire tokens" fault).
    pub(crate) fn expire_api_keys(&self) {
        self.legacy.expire_all();
    }

    /// Test hook: from now on, Pardot requests that got an in-flight slot wait (holding the
    /// slot) until [`PardotApi::release_requests`]. With this a test keeps exactly N requests
    /// in flight and sees request N+1 refused with code 66, with no timing involved.
    pub fn hold_requests(&self) {
        self.gate.close();
    }

    /// Lets every held request finish (and stops holding new ones).
    pub fn release_requests(&self) {
        self.gate.open();
    }

    /// Waits until at least `n` requests are held by [`PardotApi::hold_requests`].
    pub async fn wait_for_held_requests(&self, n: usize) {
        self.gate.wait_for_parked(n).await;
    }

    /// Requests in flight for a business unit now (`None` for an unknown unit).
    pub fn in_flight(&self, business_unit: &BusinessUnitId) -> Option<u32> {
        self.unit(business_unit).map(|u| u.limits.in_flight())
    }

    /// Requests counted against a business unit's daily budget on the mock-clock day of `at`.
    pub fn daily_used(&self, business_unit: &BusinessUnitId, at: SystemTime) -> Option<u64> {
        self.unit(business_unit)
            .map(|u| u.limits.used_on(time::day_number(at)))
    }

    /// Prospects a business unit holds (deleted ones included).
    pub fn prospect_count(&self, business_unit: &BusinessUnitId) -> Option<usize> {
        self.unit(business_unit).map(|u| u.prospects.count())
    }

    fn unit(&self, id: &BusinessUnitId) -> Option<&Unit> {
        self.by_id.get(id).map(|&i| &self.units[i])
    }
}

/// The Pardot host a request was made to: the Host header when it names a real Pardot host,
/// else the path prefix (`{base}/demo/...` is the demo host).
pub(crate) fn called_host(headers: &HeaderMap, original_path: &str) -> PardotHostKind {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    match host.as_deref() {
        Some("pi.demo.pardot.com") => PardotHostKind::Demo,
        Some("pi.pardot.com") => PardotHostKind::Production,
        _ if original_path.starts_with("/demo/") => PardotHostKind::Demo,
        _ => PardotHostKind::Production,
    }
}

/// The base URL a client used to reach the Pardot host it called (for v5 `nextPageUrl`).
pub(crate) fn public_base(headers: &HeaderMap, original_path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let bare = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    if bare == "pi.pardot.com" || bare == "pi.demo.pardot.com" {
        format!("https://{host}")
    } else if original_path.starts_with("/demo/") {
        format!("http://{host}/demo")
    } else {
        format!("http://{host}")
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Caller {
    /// A Salesforce token for the unit.
    Bearer,
    /// A legacy api_key of this user.
    Legacy(usize),
}

/// An authenticated request that holds its unit's in-flight slot and was counted against the
/// daily budget.
pub(crate) struct Admitted<'a> {
    pub unit: &'a Unit,
    pub caller: Caller,
    _slot: InFlight,
}

impl PardotApi {
    /// Checks a Bearer token and business-unit header: 184, then 201, then 49.
    pub(crate) fn check_bearer<B: Backend>(
        &self,
        backend: &B,
        token: &str,
        bu_header: Option<&str>,
        host: PardotHostKind,
    ) -> Result<usize, ApiError> {
        let username = match backend.bearer(token) {
            BearerCheck::Unknown => return Err(ApiError::code(184)),
            BearerCheck::Inactive => return Err(ApiError::inactive_token()),
            BearerCheck::Live {
                allows_pardot: false,
                ..
            } => return Err(ApiError::code(184)),
            BearerCheck::Live { username, .. } => username,
        };
        // The mock compares the header exactly (18 characters, matching suffix).
        let unit = bu_header
            .and_then(|h| {
                BusinessUnitId::parse(h.trim())
                    .ok()
                    .filter(|id| id.as_str() == h.trim())
            })
            .and_then(|id| self.by_id.get(&id).copied())
            .filter(|&i| self.units[i].active && self.units[i].host == host)
            .ok_or_else(|| ApiError::code(201))?;
        if !backend.may_use_business_unit(&username, &self.units[unit].id) {
            return Err(ApiError::with_message(49, ACCESS_DENIED_FOR_BU));
        }
        Ok(unit)
    }

    /// Takes the unit's in-flight slot (66) and charges its daily budget (122), then waits at
    /// the test gate if a test closed it.
    pub(crate) async fn admit(
        &self,
        unit: usize,
        caller: Caller,
        now: SystemTime,
    ) -> Result<Admitted<'_>, ApiError> {
        let unit = &self.units[unit];
        let slot = unit.limits.enter()?;
        unit.limits.charge(time::day_number(now))?;
        self.gate.pass().await;
        Ok(Admitted {
            unit,
            caller,
            _slot: slot,
        })
    }
}

/// Tags a failure for the mock's counters (`pardot_<code>`).
pub(crate) fn outcome(
    mut response: axum::response::Response,
    error: &ApiError,
) -> axum::response::Response {
    response
        .extensions_mut()
        .insert(crate::vhost::Outcome(std::borrow::Cow::Owned(format!(
            "pardot_{}",
            error.code
        ))));
    response
}

/// The answer for a Pardot path on a virtual host that is not a Pardot host (the sandbox or
/// a My Domain login host).
pub(crate) fn not_a_pardot_host() -> axum::response::Response {
    crate::vhost::plain(
        axum::http::StatusCode::NOT_FOUND,
        "pardot-mock: the Pardot API is served on {base} (pi.pardot.com) and {base}/demo (pi.demo.pardot.com)",
        "http_404",
    )
}

/// The Pardot routes (paths inside the virtual host; the front door strips `/demo`).
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/login/version/{version}", any(v34::login))
        .route("/api/{object}/version/{version}/do/{op}", any(v34::call))
        .route(
            "/api/{object}/version/{version}/do/{op}/{id_field}/{id}",
            any(v34::call_with_id),
        )
        .route("/api/v5/objects/prospects", get(v5::query))
        .route("/api/v5/objects/prospects/{id}", get(v5::read))
        .route("/__mock/pardot", get(admin::status))
        .route("/__mock/pardot/hold", post(admin::hold))
        .route("/__mock/pardot/release", post(admin::release))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_legacy_secret() {
        let config = MockConfig::defaults();
        let api = PardotApi::from_config(Arc::new(config.clone()), SystemTime::UNIX_EPOCH)
            .expect("the default config builds");
        let text = format!("{api:?}");
        for user in &config.legacy_users {
            assert!(
                !text.contains(&user.password) && !text.contains(&user.user_key),
                "{text}"
            );
        }
        assert!(text.contains("legacy-v3@acme.example"), "{text}");
    }

    #[test]
    fn bad_pardot_config_is_an_error() {
        let mut config = MockConfig::defaults();
        config.prospects[0]
            .fields
            .insert("shoe_size".into(), "44".into());
        let err = PardotApi::from_config(Arc::new(config), SystemTime::UNIX_EPOCH).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown prospect field `shoe_size`"),
            "{err}"
        );
        let mut config = MockConfig::defaults();
        config.prospects[0].created_at = Some("yesterday-ish".into());
        let err = PardotApi::from_config(Arc::new(config), SystemTime::UNIX_EPOCH).unwrap_err();
        assert!(err.to_string().contains("prospects[0].created_at"), "{err}");
    }
}
