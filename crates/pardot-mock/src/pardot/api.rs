//! The Pardot API's state: business units with their limits, prospect stores and account
//! records, legacy users and their api_keys, and the test gate; built from the configuration
//! and kept in one of the mock state's extension slots.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use pardot_auth_core::BusinessUnitId;

use super::errors::StatusMode;
use super::gate;
use super::legacy::{LegacyAuth, LegacyUser};
use super::limits::Limits;
use super::objects::{ConfiguredUsers, ObjectSeed, Objects, Related};
use super::prospects::ProspectStore;
use super::seed::ProspectSeed;
use super::time;
use crate::config::{
    ConfigError, MockConfig, PardotHostKind, PardotStatusMode, ProspectConfig, invalid,
};
use crate::state::MockState;

/// The name the Pardot state is kept under in [`MockState`]'s extension slots.
const EXTENSION: &str = "pardot";

/// The slot of the configured prospects as converted at start (the configuration no longer
/// holds them): what a Pardot state rebuilt in its extension slot starts from.
const SEED_EXTENSION: &str = "pardot.seed";

/// The slot of the start time of a state whose Pardot state is built on first use (see
/// [`MockState::install_pardot_on_first_use`]).
const STARTED_EXTENSION: &str = "pardot.started";

impl MockState {
    /// Keeps the Pardot state built at start (by [`PardotApi::from_config`], so a bad Pardot
    /// config is an error then, and the account's creation time is the start time).
    pub(crate) fn install_pardot(&self, api: PardotApi) {
        self.set_extension(SEED_EXTENSION, api.seed());
        self.set_extension(EXTENSION, Arc::new(api));
    }

    /// Keeps what the Pardot state is built from on its first use instead of building it
    /// now: the prospects `built` was converted from, and the start time, which stamps the
    /// state as if it had been built at start. Only for a configuration `built` was built
    /// from (so it is known to build): the state is the same, its cost moves to the first
    /// Pardot request.
    pub(crate) fn install_pardot_on_first_use(&self, built: &PardotApi, started: SystemTime) {
        self.set_extension(SEED_EXTENSION, built.seed());
        self.set_extension(STARTED_EXTENSION, Arc::new(started));
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
        // The configuration no longer holds the prospects: they come from the seed kept at
        // start, restamped like a reset. Read before the write lock below, which may guard
        // the seed's slot too.
        let seed = self
            .extension(SEED_EXTENSION)
            .and_then(|s| s.downcast::<ProspectSeed>().ok())
            .unwrap_or_default();
        // Stamped with the start time when the start left the building to the first use.
        let started = self
            .extension(STARTED_EXTENSION)
            .and_then(|t| t.downcast::<SystemTime>().ok());
        // Built under the slot's write lock so concurrent first requests share one state.
        let mut slot = self.inner.extensions.write(&EXTENSION);
        if let Some(api) = slot
            .get(EXTENSION)
            .and_then(|a| Arc::clone(a).downcast::<PardotApi>().ok())
        {
            return api;
        }
        let now = started
            .as_deref()
            .copied()
            .unwrap_or_else(|| MockState::now(self));
        let api = match PardotApi::build(self.config(), Prospects::Seed(seed), now) {
            Ok(api) => api,
            Err(e) => {
                // The state was built at start from the same configuration, so this only
                // happens after a reset of a state whose extension slot was replaced.
                tracing::error!(error = %e, "pardot-mock: Pardot configuration unusable; serving none");
                let mut empty = MockConfig::empty();
                empty.pardot_status_mode = self.config().pardot_status_mode;
                PardotApi::build(&empty, Prospects::Seed(Arc::default()), now)
                    .unwrap_or_else(|_| PardotApi::empty(StatusMode::Modern))
            }
        };
        let api = Arc::new(api);
        slot.insert(
            EXTENSION,
            Arc::clone(&api) as Arc<dyn std::any::Any + Send + Sync>,
        );
        drop(slot);
        // Used once: a state rebuilt later (its slot replaced) is stamped with its own time.
        if started.is_some() {
            self.inner
                .extensions
                .write(&STARTED_EXTENSION)
                .remove(STARTED_EXTENSION);
        }
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
    /// The v3/v4 objects beside prospects (campaigns, lists, visitors, …).
    pub objects: Objects,
    pub account: Account,
}

impl Unit {
    /// The unit's records as the objects layer looks them up.
    pub(crate) fn related(&self) -> Related<'_> {
        Related {
            prospects: &self.prospects,
            objects: &self.objects,
        }
    }
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
    pub(super) status_mode: StatusMode,
    pub(super) units: Vec<Unit>,
    pub(super) by_id: HashMap<BusinessUnitId, usize>,
    pub(super) legacy: LegacyAuth,
    pub(super) gate: gate::Gate,
    /// The configured prospects, for [`PardotApi::reset`].
    pub(super) seed: Arc<ProspectSeed>,
    /// The configured records of the other objects, for [`PardotApi::reset`].
    pub(super) object_seed: Arc<ObjectSeed>,
}

pardot_auth_core::debug_shows!(PardotApi as this {
    status_mode: this.status_mode,
    units: this.units.len(),
    legacy: this.legacy,
});

/// Where a [`PardotApi`]'s prospects come from.
pub(crate) enum Prospects {
    /// The configured prospects, converted into a new seed (at start).
    Configured(Vec<ProspectConfig>),
    /// A seed converted earlier, restamped like a reset.
    Seed(Arc<ProspectSeed>),
}

impl PardotApi {
    /// Builds the Pardot state from the mock's configuration (already validated by the
    /// model: ids parse, references resolve) and its prospects, which the configuration no
    /// longer holds (`config.prospects` is not read). `now` stamps records without times.
    pub(crate) fn from_config(
        config: &MockConfig,
        prospects: Vec<ProspectConfig>,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        Self::build(config, Prospects::Configured(prospects), now)
    }

    /// Builds the Pardot state from `config` (for its business units and legacy users; its
    /// `prospects` are not read) and `prospects`.
    pub(crate) fn build(
        config: &MockConfig,
        prospects: Prospects,
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
            by_id.insert(id.clone(), units.len());
            units.push(Unit {
                id,
                host: b.host,
                active: b.active,
                limits: Arc::new(Limits::new(b.concurrency_limit, b.daily_budget)),
                prospects: ProspectStore::new(Vec::new()),
                objects: Objects::default(),
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
        let seed = match prospects {
            Prospects::Configured(mut list) => {
                if let Some(g) = &config.generate {
                    list.extend(super::objects::generate::prospects(g));
                }
                let users = ConfiguredUsers::new(config, &by_id);
                let seed = ProspectSeed::convert(list, &by_id, units.len(), &users, now)?;
                // Converted with `now`: the stores share the seed's prospects as they are.
                for (i, unit) in units.iter().enumerate() {
                    unit.prospects.replace_all(seed.initial(i));
                }
                Arc::new(seed)
            }
            Prospects::Seed(seed) => {
                for (i, unit) in units.iter().enumerate() {
                    unit.prospects.replace_all(seed.at(i, now));
                }
                seed
            }
        };
        // After the prospects: list memberships name them.
        let object_seed = ObjectSeed::convert(
            config,
            &by_id,
            units.len(),
            |unit, id| units[unit].prospects.by_id(id).is_some(),
            now,
        )?;
        for (i, unit) in units.iter().enumerate() {
            unit.objects.restore(&object_seed, i, now);
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
            seed,
            object_seed: Arc::new(object_seed),
        })
    }

    fn empty(status_mode: StatusMode) -> Self {
        Self {
            status_mode,
            units: Vec::new(),
            by_id: HashMap::new(),
            legacy: LegacyAuth::new(Vec::new()),
            gate: gate::Gate::default(),
            seed: Arc::default(),
            object_seed: Arc::default(),
        }
    }

    /// The configured prospects it restores on reset (kept by the mock's state, so a rebuilt
    /// Pardot state has them too).
    pub(crate) fn seed(&self) -> Arc<ProspectSeed> {
        Arc::clone(&self.seed)
    }

    /// Restores the configured state: prospects and the other objects, counters, api_keys and
    /// failed logins.
    /// Prospects without configured times get `now`, as at start.
    pub(crate) fn reset(&self, now: SystemTime) {
        for (i, unit) in self.units.iter().enumerate() {
            unit.prospects.replace_all(self.seed.at(i, now));
            unit.objects.restore(&self.object_seed, i, now);
            unit.limits.reset_daily();
            unit.limits.reset_concurrency();
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

    /// Records of a v3/v4 object (`campaign`, `visitorActivity`, …, by its URL name) a
    /// business unit holds, deleted ones included (`None` for an unknown unit or object).
    pub fn object_count(&self, business_unit: &BusinessUnitId, object: &str) -> Option<usize> {
        let kind = super::objects::Kind::from_url_name(object)?;
        self.unit(business_unit).map(|u| u.objects.count(kind))
    }

    fn unit(&self, id: &BusinessUnitId) -> Option<&Unit> {
        self.by_id.get(id).map(|&i| &self.units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_legacy_secret() {
        let config = MockConfig::defaults();
        let api = PardotApi::from_config(&config, config.prospects.clone(), SystemTime::UNIX_EPOCH)
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
        let err = PardotApi::from_config(&config, config.prospects.clone(), SystemTime::UNIX_EPOCH)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown prospect field `shoe_size`"),
            "{err}"
        );
        let mut config = MockConfig::defaults();
        config.prospects[0].created_at = Some("yesterday-ish".into());
        let err = PardotApi::from_config(&config, config.prospects.clone(), SystemTime::UNIX_EPOCH)
            .unwrap_err();
        assert!(err.to_string().contains("prospects[0].created_at"), "{err}");
    }

    fn prospect(id: u64, created: Option<&str>, updated: Option<&str>) -> ProspectConfig {
        ProspectConfig {
            created_at: created.map(str::to_owned),
            updated_at: updated.map(str::to_owned),
            ..ProspectConfig::new(
                crate::fixtures::BUSINESS_UNIT_ID,
                id,
                format!("p{id}@example.com"),
            )
        }
    }

    /// A reset restores the configured prospects: configured times stay, missing ones are
    /// the reset's time (as they were the start's), and every write since is undone.
    #[test]
    fn reset_restores_the_seed_and_restamps_missing_times() {
        use std::time::Duration;
        let mut config = MockConfig::defaults();
        config.prospects = vec![
            prospect(1, Some("2024-01-02 03:04:05"), Some("2024-02-03 04:05:06")),
            prospect(2, Some("2024-01-02 03:04:05"), None),
            prospect(3, None, Some("2024-02-03 04:05:06")),
            prospect(4, None, None),
        ];
        // The configured list memberships, visitors, visits, activities, opportunities and email
        // clicks name the default prospects, replaced here.
        config.list_memberships.clear();
        config.visitors.clear();
        config.visits.clear();
        config.visitor_page_views.clear();
        config.visitor_activities.clear();
        config.opportunities.clear();
        config.email_clicks.clear();
        let bu: BusinessUnitId = crate::fixtures::BUSINESS_UNIT_ID.parse().unwrap();
        let created = time::parse_datetime("2024-01-02 03:04:05").unwrap();
        let updated = time::parse_datetime("2024-02-03 04:05:06").unwrap();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let api = PardotApi::from_config(&config, config.prospects.clone(), start).unwrap();
        let store = &api.unit(&bu).unwrap().prospects;
        let times = |id| {
            let p = store.by_id(id).unwrap();
            (p.created_at, p.updated_at)
        };
        let expected = |now| {
            [
                (created, updated),
                (created, created),
                (now, updated),
                (now, now),
            ]
        };
        let all = |now| (1..=4).map(times).collect::<Vec<_>>() == expected(now);
        assert!(all(start));

        let later = start + Duration::from_secs(60);
        for id in 1..=4 {
            store
                .update_by_id(id, &[("city".into(), "Oslo".into())], later)
                .unwrap();
        }
        store.create("new@example.com", &[], false, later).unwrap();
        assert_eq!(store.count(), 5);

        let reset = start + Duration::from_secs(3600);
        api.reset(reset);
        assert!(all(reset));
        assert_eq!(store.count(), 4);
        assert!((1..=4).all(|id| store.by_id(id).unwrap().text("city").is_none()));
        // The seed itself is untouched by the writes and the restamping.
        api.reset(start);
        assert!(all(start));
    }

    /// A Pardot state rebuilt in its slot (the slot was replaced) still has the configured
    /// prospects, though the configuration no longer holds them.
    #[test]
    fn a_rebuilt_state_has_the_configured_prospects() {
        let config = MockConfig::defaults();
        let bu: BusinessUnitId = crate::fixtures::BUSINESS_UNIT_ID.parse().unwrap();
        let configured = config
            .prospects
            .iter()
            .filter(|p| p.business_unit == bu.as_str())
            .count();
        let state = MockState::new(config, pardot_auth_core::ManualClock::new()).unwrap();
        assert!(state.config().prospects.is_empty());
        assert_eq!(state.pardot().prospect_count(&bu), Some(configured));
        state.set_extension(EXTENSION, Arc::new(0_u8));
        assert_eq!(state.pardot().prospect_count(&bu), Some(configured));
        assert!(
            state
                .pardot()
                .unit(&bu)
                .unwrap()
                .prospects
                .by_id(1001)
                .is_some()
        );
    }
}
