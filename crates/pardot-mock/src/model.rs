//! The validated, indexed form of a [`MockConfig`]: what handlers look things up in.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use pardot_auth_core::{BusinessUnitId, SalesforceId};

use crate::config::{
    ConfigError, MockConfig, OrgKind, PardotHostKind, PermittedUsers, ProspectConfig, invalid,
    load_pem,
};

/// A Salesforce org, validated.
#[derive(Debug)]
pub(crate) struct Org {
    pub id: SalesforceId,
    pub kind: OrgKind,
    pub my_domain: Option<String>,
    pub instance_url: Option<String>,
    pub session_timeout: Duration,
    pub password_flow: bool,
    pub locked: bool,
    pub logins_per_hour: Option<u32>,
}

/// A Salesforce user, validated.
pub(crate) struct User {
    pub id: SalesforceId,
    pub username: String,
    pub password: String,
    pub security_token: String,
    pub trusted_ip: bool,
    pub active: bool,
    pub org: usize,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub business_units: HashSet<BusinessUnitId>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A connected app, validated. Runtime-mutable parts sit behind locks or atomics.
pub(crate) struct App {
    pub name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub certificate: Option<DecodingKey>,
    pub scopes: Vec<String>,
    pub permitted_users: PermittedUsers,
    pub pre_authorized: HashSet<usize>,
    pub approved_users: HashSet<usize>,
    pub run_as: Option<usize>,
    pub client_credentials: bool,
    pub require_secret_for_refresh: bool,
    pub public_pkce: bool,
    pub device_interval: Duration,
}

/// What a running mock may change about an app: callbacks registered at run time and the
/// refresh-token rotation fault. Each mock has its own; the rest of [`App`] is shared.
#[derive(Debug)]
pub(crate) struct AppRuntime {
    pub callback_urls: RwLock<Vec<String>>,
    pub rotation: AtomicBool,
}

impl AppRuntime {
    pub(crate) fn rotation(&self) -> bool {
        self.rotation.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

/// A Pardot business unit as configured (validated), for the Pardot API routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessUnit {
    /// Its id.
    pub id: BusinessUnitId,
    /// Display name.
    pub name: String,
    /// The Pardot host it lives on.
    pub host: PardotHostKind,
    /// Inactive units answer "not found or inactive".
    pub active: bool,
    /// The org it belongs to, if configured.
    pub org_id: Option<SalesforceId>,
    /// Most concurrent requests.
    pub concurrency_limit: u32,
    /// Daily request budget.
    pub daily_budget: u64,
    /// The v3/v4 account id.
    pub account_id: u64,
    /// Company name.
    pub company: String,
    /// Edition.
    pub level: String,
    /// Website.
    pub website: String,
}

/// An MCI service account, validated.
pub(crate) struct MciAccount {
    pub id: String,
    pub region: String,
    pub key: DecodingKey,
    pub audience: String,
}

impl std::fmt::Debug for MciAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MciAccount")
            .field("id", &self.id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The MCI regions the mock serves.
pub const MCI_REGIONS: [&str; 4] = ["us1", "us2", "eu1", "eu2"];

/// Everything from the config, indexed.
/// One mock's view of its configuration: the validated, indexed form (shared by every mock
/// started from an equal configuration) and what the mock may change at run time.
#[derive(Debug)]
pub(crate) struct Model {
    indexed: Arc<Indexed>,
    apps_runtime: Vec<AppRuntime>,
}

impl std::ops::Deref for Model {
    type Target = Indexed;
    fn deref(&self) -> &Indexed {
        &self.indexed
    }
}

/// The validated, indexed configuration: immutable once built.
#[derive(Debug)]
pub(crate) struct Indexed {
    /// The configuration without its `prospects`: [`Model::build`] hands them on to become
    /// the Pardot state (kept here too, they were as much memory again as the prospects).
    pub config: MockConfig,
    pub orgs: Vec<Org>,
    pub users: Vec<User>,
    pub apps: Vec<App>,
    pub business_units: Vec<BusinessUnit>,
    pub mci_accounts: Vec<MciAccount>,
    users_by_username: HashMap<String, usize>,
    users_by_id: HashMap<SalesforceId, usize>,
    orgs_by_my_domain: HashMap<String, usize>,
    apps_by_key: HashMap<String, usize>,
    bus_by_id: HashMap<BusinessUnitId, usize>,
}

/// The longest duration a configuration may give in seconds (one year): a session or a poll
/// interval longer than that is a typo, and each is added to the clock on every login, where a
/// value past any date would panic.
const MAX_CONFIG_SECS: u64 = 365 * 24 * 60 * 60;

impl Model {
    /// Validates and indexes a configuration; returns its prospects (validated) apart.
    ///
    /// Test suites start many mocks from the same configuration, and validating and indexing
    /// one (ids, URLs, certificates, lookup tables) was the largest part of a mock's start; so
    /// the last indexed form is kept and shared when the next configuration is equal and reads
    /// no files (a file may have changed since).
    pub(crate) fn build(config: MockConfig) -> Result<(Self, Vec<ProspectConfig>), ConfigError> {
        static RECENT: LazyLock<IndexCache> = LazyLock::new(IndexCache::default);
        Self::build_with(&RECENT, config)
    }

    fn build_with(
        cache: &IndexCache,
        mut config: MockConfig,
    ) -> Result<(Self, Vec<ProspectConfig>), ConfigError> {
        let prospects = std::mem::take(&mut config.prospects);
        let indexed = cache.indexed(config)?;
        indexed.check_prospects(&prospects)?;
        let apps_runtime = indexed
            .config
            .apps
            .iter()
            .map(|a| AppRuntime {
                callback_urls: RwLock::new(a.callback_urls.clone()),
                rotation: AtomicBool::new(a.refresh_token_rotation),
            })
            .collect();
        Ok((
            Self {
                indexed,
                apps_runtime,
            },
            prospects,
        ))
    }

    /// The run-time part of app `i` (an index from [`Indexed::app_by_key`]).
    pub(crate) fn app_runtime(&self, i: usize) -> &AppRuntime {
        &self.apps_runtime[i]
    }
}

/// The indexed forms of the last few configurations built.
#[derive(Default)]
struct IndexCache {
    recent: Mutex<VecDeque<Arc<Indexed>>>,
}

impl IndexCache {
    /// Configurations kept: a test suite typically alternates between a handful.
    const KEPT: usize = 4;

    fn indexed(&self, config: MockConfig) -> Result<Arc<Indexed>, ConfigError> {
        if reads_files(&config) {
            return Ok(Arc::new(Indexed::build(config)?));
        }
        let recent = || self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = recent().iter().find(|i| i.config == config) {
            return Ok(Arc::clone(known));
        }
        let indexed = Arc::new(Indexed::build(config)?);
        let mut recent = recent();
        if recent.len() >= Self::KEPT {
            recent.pop_front();
        }
        recent.push_back(Arc::clone(&indexed));
        Ok(indexed)
    }
}

/// Whether building `config` reads a PEM file (not inline, not one of the embedded fixtures).
fn reads_files(config: &MockConfig) -> bool {
    let from_file = |path: &Option<String>| {
        path.as_deref().is_some_and(|p| {
            !(config.embedded_files && crate::config::EMBEDDED_FILES.iter().any(|(n, _)| *n == p))
        })
    };
    config.apps.iter().any(|a| from_file(&a.certificate))
        || config
            .mci_service_accounts
            .iter()
            .any(|m| from_file(&m.public_key))
}

impl Indexed {
    pub(crate) fn user_by_username(&self, username: &str) -> Option<usize> {
        self.users_by_username
            .get(&username.to_ascii_lowercase())
            .copied()
    }
    pub(crate) fn user_by_id(&self, id: &SalesforceId) -> Option<usize> {
        self.users_by_id.get(id).copied()
    }
    pub(crate) fn org_by_my_domain(&self, name: &str) -> Option<usize> {
        self.orgs_by_my_domain
            .get(&name.to_ascii_lowercase())
            .copied()
    }
    pub(crate) fn app_by_key(&self, key: &str) -> Option<usize> {
        self.apps_by_key.get(key).copied()
    }
    pub(crate) fn bu_by_id(&self, id: &BusinessUnitId) -> Option<usize> {
        self.bus_by_id.get(id).copied()
    }
    pub(crate) fn mci_account(&self, id: &str) -> Option<&MciAccount> {
        self.mci_accounts.iter().find(|a| a.id == id)
    }

    /// Validates and indexes a configuration (its prospects are checked apart, by
    /// [`Indexed::check_prospects`]).
    fn build(config: MockConfig) -> Result<Self, ConfigError> {
        let base_dir = config.base_dir.clone();
        let embedded = config.embedded_files;
        if config.journal_size == 0 {
            return Err(invalid("journal_size must be at least 1"));
        }
        if config.max_tokens == 0 {
            return Err(invalid("max_tokens must be at least 1"));
        }

        let mut orgs = Vec::new();
        let mut orgs_by_id = HashMap::new();
        let mut orgs_by_my_domain = HashMap::new();
        for (i, o) in config.orgs.iter().enumerate() {
            let id = parse_id(&o.id, "00D", &format!("orgs[{i}].id"))?;
            if orgs_by_id.insert(id.clone(), orgs.len()).is_some() {
                return Err(invalid(format!("orgs[{i}]: duplicate org id `{}`", o.id)));
            }
            if let Some(name) = &o.my_domain {
                let ok = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !name.starts_with('-');
                if !ok {
                    return Err(invalid(format!(
                        "orgs[{i}].my_domain `{name}`: use letters, digits and `-` only"
                    )));
                }
                if orgs_by_my_domain
                    .insert(name.to_ascii_lowercase(), orgs.len())
                    .is_some()
                {
                    return Err(invalid(format!("orgs[{i}]: duplicate my_domain `{name}`")));
                }
            }
            if let Some(url) = &o.instance_url {
                url::Url::parse(url)
                    .map_err(|e| invalid(format!("orgs[{i}].instance_url `{url}`: {e}")))?;
            }
            if !(1..=MAX_CONFIG_SECS).contains(&o.session_timeout_secs) {
                return Err(invalid(format!(
                    "orgs[{i}].session_timeout_secs must be between 1 and {MAX_CONFIG_SECS}"
                )));
            }
            orgs.push(Org {
                id,
                kind: o.kind,
                my_domain: o.my_domain.clone(),
                instance_url: o
                    .instance_url
                    .as_ref()
                    .map(|u| u.trim_end_matches('/').to_owned()),
                session_timeout: Duration::from_secs(o.session_timeout_secs),
                password_flow: o.password_flow,
                locked: o.locked,
                logins_per_hour: o.logins_per_hour,
            });
        }

        let mut business_units = Vec::new();
        let mut bus_by_id = HashMap::new();
        for (i, b) in config.business_units.iter().enumerate() {
            let id = BusinessUnitId::parse(&b.id)
                .map_err(|e| invalid(format!("business_units[{i}].id: {e}")))?;
            if bus_by_id.insert(id.clone(), business_units.len()).is_some() {
                return Err(invalid(format!(
                    "business_units[{i}]: duplicate id `{}`",
                    b.id
                )));
            }
            let org_id = match &b.org {
                Some(o) => {
                    let index = org_ref(o, &orgs_by_id, &format!("business_units[{i}].org"))?;
                    Some(orgs[index].id.clone())
                }
                None => None,
            };
            business_units.push(BusinessUnit {
                id,
                name: b.name.clone(),
                host: b.host,
                active: b.active,
                org_id,
                concurrency_limit: b.concurrency_limit,
                daily_budget: b.daily_budget,
                account_id: b.account_id.unwrap_or(1000 + i as u64),
                company: b.company.clone(),
                level: b.level.clone(),
                website: b.website.clone(),
            });
        }

        let mut users = Vec::new();
        let mut users_by_username = HashMap::new();
        let mut users_by_id = HashMap::new();
        for (i, u) in config.users.iter().enumerate() {
            let id = parse_id(&u.id, "005", &format!("users[{i}].id"))?;
            if u.username.trim().is_empty() {
                return Err(invalid(format!("users[{i}].username is empty")));
            }
            if users_by_id.insert(id.clone(), users.len()).is_some() {
                return Err(invalid(format!("users[{i}]: duplicate user id `{}`", u.id)));
            }
            if users_by_username
                .insert(u.username.to_ascii_lowercase(), users.len())
                .is_some()
            {
                return Err(invalid(format!(
                    "users[{i}]: duplicate username `{}`",
                    u.username
                )));
            }
            let org = org_ref(&u.org, &orgs_by_id, &format!("users[{i}].org"))?;
            let mut bus = HashSet::new();
            for b in &u.business_units {
                let bu = BusinessUnitId::parse(b)
                    .map_err(|e| invalid(format!("users[{i}].business_units: {e}")))?;
                if !bus_by_id.contains_key(&bu) {
                    return Err(invalid(format!(
                        "users[{i}].business_units: unknown business unit `{b}`"
                    )));
                }
                bus.insert(bu);
            }
            users.push(User {
                id,
                username: u.username.clone(),
                password: u.password.clone(),
                security_token: u.security_token.clone(),
                trusted_ip: u.trusted_ip,
                active: u.active,
                org,
                email: u.email.clone().unwrap_or_else(|| u.username.clone()),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                business_units: bus,
            });
        }

        let user_ref = |name: &str, what: &str| -> Result<usize, ConfigError> {
            users_by_username
                .get(&name.to_ascii_lowercase())
                .copied()
                .ok_or_else(|| invalid(format!("{what}: unknown username `{name}`")))
        };

        let mut apps = Vec::new();
        let mut apps_by_key = HashMap::new();
        for (i, a) in config.apps.iter().enumerate() {
            let what = format!("apps[{i}] (`{}`)", a.consumer_key);
            if a.consumer_key.is_empty() {
                return Err(invalid(format!("apps[{i}].consumer_key is empty")));
            }
            if apps_by_key
                .insert(a.consumer_key.clone(), apps.len())
                .is_some()
            {
                return Err(invalid(format!("{what}: duplicate consumer_key")));
            }
            let pem = load_pem(
                a.certificate_pem.as_deref(),
                a.certificate.as_deref(),
                base_dir.as_deref(),
                embedded,
                &format!("{what}.certificate"),
            )?;
            let certificate = match pem {
                Some(pem) => Some(rsa_key(&pem, &format!("{what}.certificate"))?),
                None => None,
            };
            for url in &a.callback_urls {
                url::Url::parse(url)
                    .map_err(|e| invalid(format!("{what}.callback_urls `{url}`: {e}")))?;
            }
            let pre_authorized = a
                .pre_authorized
                .iter()
                .map(|u| user_ref(u, &format!("{what}.pre_authorized")))
                .collect::<Result<_, _>>()?;
            let approved_users = a
                .approved_users
                .iter()
                .map(|u| user_ref(u, &format!("{what}.approved_users")))
                .collect::<Result<_, _>>()?;
            let run_as = match &a.run_as {
                Some(u) => Some(user_ref(u, &format!("{what}.run_as"))?),
                None => None,
            };
            if !(1..=MAX_CONFIG_SECS).contains(&a.device_interval_secs) {
                return Err(invalid(format!(
                    "{what}.device_interval_secs must be between 1 and {MAX_CONFIG_SECS}"
                )));
            }
            apps.push(App {
                name: a.name.clone(),
                consumer_key: a.consumer_key.clone(),
                consumer_secret: a.consumer_secret.clone(),
                certificate,
                scopes: a.scopes.clone(),
                permitted_users: a.permitted_users,
                pre_authorized,
                approved_users,
                run_as,
                client_credentials: a.client_credentials.unwrap_or(a.run_as.is_some()),
                require_secret_for_refresh: a.require_secret_for_refresh,
                public_pkce: a.public_pkce,
                device_interval: Duration::from_secs(a.device_interval_secs),
            });
        }

        for (i, l) in config.legacy_users.iter().enumerate() {
            if l.api_version != 3 && l.api_version != 4 {
                return Err(invalid(format!(
                    "legacy_users[{i}].api_version must be 3 or 4, not {}",
                    l.api_version
                )));
            }
            if let Some(b) = &l.business_unit {
                bu_ref(b, &bus_by_id, &format!("legacy_users[{i}].business_unit"))?;
            }
            if config.legacy_users[..i]
                .iter()
                .any(|o| o.email.eq_ignore_ascii_case(&l.email))
            {
                return Err(invalid(format!(
                    "legacy_users[{i}]: duplicate email `{}`",
                    l.email
                )));
            }
        }
        let mut mci_accounts = Vec::new();
        for (i, m) in config.mci_service_accounts.iter().enumerate() {
            let what = format!("mci_service_accounts[{i}] (`{}`)", m.id);
            if m.id.is_empty() {
                return Err(invalid(format!("mci_service_accounts[{i}].id is empty")));
            }
            if !MCI_REGIONS.contains(&m.region.as_str()) {
                return Err(invalid(format!(
                    "{what}.region `{}`: use one of us1, us2, eu1, eu2",
                    m.region
                )));
            }
            if mci_accounts.iter().any(|a: &MciAccount| a.id == m.id) {
                return Err(invalid(format!("{what}: duplicate id")));
            }
            let pem = load_pem(
                m.public_key_pem.as_deref(),
                m.public_key.as_deref(),
                base_dir.as_deref(),
                embedded,
                &format!("{what}.public_key"),
            )?
            .ok_or_else(|| invalid(format!("{what}: public_key or public_key_pem is required")))?;
            mci_accounts.push(MciAccount {
                id: m.id.clone(),
                region: m.region.clone(),
                key: rsa_key(&pem, &format!("{what}.public_key"))?,
                audience: m.audience.trim_end_matches('/').to_owned(),
            });
        }

        for (i, r) in config.refresh_tokens.iter().enumerate() {
            if r.token.is_empty() {
                return Err(invalid(format!("refresh_tokens[{i}].token is empty")));
            }
            user_ref(&r.username, &format!("refresh_tokens[{i}].username"))?;
            if !apps_by_key.contains_key(&r.consumer_key) {
                return Err(invalid(format!(
                    "refresh_tokens[{i}].consumer_key: unknown app `{}`",
                    r.consumer_key
                )));
            }
        }

        Ok(Self {
            config,
            orgs,
            users,
            apps,
            business_units,
            mci_accounts,
            users_by_username,
            users_by_id,
            orgs_by_my_domain,
            apps_by_key,
            bus_by_id,
        })
    }

    /// Each prospect names a configured business unit and has an id unique in it.
    fn check_prospects(&self, prospects: &[ProspectConfig]) -> Result<(), ConfigError> {
        let mut prospect_ids = HashSet::new();
        for (i, p) in prospects.iter().enumerate() {
            let bu = bu_ref(
                &p.business_unit,
                &self.bus_by_id,
                &format!("prospects[{i}].business_unit"),
            )?;
            if !prospect_ids.insert((bu, p.id)) {
                return Err(invalid(format!(
                    "prospects[{i}]: duplicate id {} in its business unit",
                    p.id
                )));
            }
        }
        Ok(())
    }
}

fn parse_id(text: &str, prefix: &str, what: &str) -> Result<SalesforceId, ConfigError> {
    let id = SalesforceId::parse(text).map_err(|e| invalid(format!("{what}: {e}")))?;
    if id.key_prefix() != prefix {
        return Err(invalid(format!(
            "{what}: `{text}` must start with `{prefix}`"
        )));
    }
    Ok(id)
}

fn org_ref(
    text: &str,
    orgs: &HashMap<SalesforceId, usize>,
    what: &str,
) -> Result<usize, ConfigError> {
    let id = SalesforceId::parse(text).map_err(|e| invalid(format!("{what}: {e}")))?;
    orgs.get(&id)
        .copied()
        .ok_or_else(|| invalid(format!("{what}: unknown org `{text}`")))
}

fn bu_ref(
    text: &str,
    bus: &HashMap<BusinessUnitId, usize>,
    what: &str,
) -> Result<usize, ConfigError> {
    let id = BusinessUnitId::parse(text).map_err(|e| invalid(format!("{what}: {e}")))?;
    bus.get(&id)
        .copied()
        .ok_or_else(|| invalid(format!("{what}: unknown business unit `{text}`")))
}

/// An RSA public key from a certificate, an SPKI public key or a PKCS#1 public key (PEM).
fn rsa_key(pem: &str, what: &str) -> Result<DecodingKey, ConfigError> {
    if pem.contains("PRIVATE KEY") {
        return Err(invalid(format!(
            "{what}: this is a private key; give the certificate or public key"
        )));
    }
    // Tests start many mocks from the same few certificates; parsing one was half of building
    // the model. Keys by PEM text, bounded so a process building mocks from ever-new
    // certificates does not grow without end.
    const KEPT: usize = 64;
    static PARSED: LazyLock<Mutex<HashMap<String, DecodingKey>>> = LazyLock::new(Mutex::default);
    let lock = || PARSED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = lock().get(pem) {
        return Ok(key.clone());
    }
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
        invalid(format!(
            "{what}: not an RSA certificate or public key PEM ({e})"
        ))
    })?;
    let mut parsed = lock();
    if parsed.len() >= KEPT {
        parsed.clear();
    }
    parsed.insert(pem.to_owned(), key.clone());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AppConfig, OrgConfig, UserConfig};

    #[test]
    fn equal_configs_share_the_indexed_form_but_not_what_a_mock_changes() {
        let cache = IndexCache::default();
        let (a, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
        let (b, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
        assert!(Arc::ptr_eq(&a.indexed, &b.indexed));
        let app = a.app_by_key(crate::fixtures::WEB_CONSUMER_KEY).unwrap();
        a.app_runtime(app)
            .callback_urls
            .write()
            .unwrap()
            .push("http://127.0.0.1:9/cb".into());
        a.app_runtime(app).rotation.store(true, Ordering::Relaxed);
        assert_eq!(
            b.app_runtime(app).callback_urls.read().unwrap().len(),
            MockConfig::defaults().apps[app].callback_urls.len()
        );
        assert!(!b.app_runtime(app).rotation());
        let mut other = MockConfig::defaults();
        other.orgs[0].session_timeout_secs += 1;
        let (c, _) = Model::build_with(&cache, other).unwrap();
        assert!(!Arc::ptr_eq(&a.indexed, &c.indexed));
        // Four kept: the defaults are still known after three other configurations.
        for extra in 2..4 {
            let mut other = MockConfig::defaults();
            other.orgs[0].session_timeout_secs += extra;
            Model::build_with(&cache, other).unwrap();
        }
        let (d, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
        assert!(Arc::ptr_eq(&a.indexed, &d.indexed));
    }

    #[test]
    fn a_config_that_reads_files_is_indexed_anew_each_time() {
        let dir = std::env::temp_dir().join(format!(
            "pardot-mock-model-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        for (name, text) in crate::config::EMBEDDED_FILES {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut config = MockConfig::defaults();
        config.embedded_files = false;
        config.base_dir = Some(dir.clone());
        assert!(reads_files(&config));
        let (a, _) = Model::build(config.clone()).unwrap();
        assert_eq!(a.apps.len(), MockConfig::defaults().apps.len());
        // The file may change between two mocks: the second must read it again.
        std::fs::write(dir.join("keys/connected-app.crt"), "not a certificate").unwrap();
        let again = Model::build(config);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            again
                .unwrap_err()
                .to_string()
                .contains("not an RSA certificate")
        );
        assert!(!reads_files(&MockConfig::defaults()));
    }

    #[test]
    fn default_config_validates() {
        let (model, prospects) = Model::build(MockConfig::defaults()).unwrap();
        assert!(model.config.prospects.is_empty() && !prospects.is_empty());
        assert!(
            model
                .app_by_key("3MVG9mock.JWT.app.consumer.key.for.tests")
                .is_some()
        );
        assert!(model.org_by_my_domain("ACME").is_some());
    }

    #[test]
    fn errors_name_the_entry() {
        let mut c = MockConfig::empty();
        c.orgs.push(OrgConfig::production("00D000000000001"));
        c.users.push(UserConfig::new(
            "005000000000001",
            "a@b",
            "p",
            "00D000000000009",
        ));
        let err = Model::build(c.clone()).unwrap_err().to_string();
        assert!(
            err.contains("users[0].org") && err.contains("unknown org"),
            "{err}"
        );

        c.users[0].org = "00D000000000001".into();
        c.users[0].id = "001000000000001".into();
        let err = Model::build(c.clone()).unwrap_err().to_string();
        assert!(err.contains("must start with `005`"), "{err}");

        c.users[0].id = "005000000000001".into();
        let mut app = AppConfig::new("k", "s");
        app.certificate_pem =
            Some("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".into());
        c.apps.push(app);
        let err = Model::build(c).unwrap_err().to_string();
        assert!(err.contains("certificate"), "{err}");
    }

    #[test]
    fn durations_past_a_year_are_refused() {
        let mut c = MockConfig::defaults();
        c.orgs[0].session_timeout_secs = u64::MAX;
        let err = Model::build(c).unwrap_err().to_string();
        assert!(err.contains("orgs[0].session_timeout_secs"), "{err}");

        let mut c = MockConfig::defaults();
        c.apps[0].device_interval_secs = u64::MAX;
        let err = Model::build(c).unwrap_err().to_string();
        assert!(err.contains(".device_interval_secs"), "{err}");

        let mut c = MockConfig::defaults();
        c.orgs[0].session_timeout_secs = MAX_CONFIG_SECS;
        assert!(Model::build(c).is_ok());
    }
}
