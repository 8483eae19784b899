//! The validated, indexed form of a [`MockConfig`]: what handlers look things up in.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

use pardot_auth_core::{BusinessUnitId, SalesforceId};

use crate::config::{
    ConfigError, MockConfig, OrgKind, PardotHostKind, PermittedUsers, ProspectConfig,
};
use crate::rsa_key::Rs256Key;

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

pardot_auth_core::debug_shows!(User as this {
    id: this.id,
    username: this.username,
});

/// A connected app, validated. Runtime-mutable parts sit behind locks or atomics.
pub(crate) struct App {
    pub name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The consumer secret as the key of the token answers' `signature`.
    pub signature_key: crate::signature_key::SignatureKey,
    pub certificate: Option<Rs256Key>,
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

pardot_auth_core::debug_shows!(App as this {
    consumer_key: this.consumer_key,
});

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
    pub key: Rs256Key,
    pub audience: String,
}

pardot_auth_core::debug_shows!(MciAccount as this {
    id: this.id,
    region: this.region,
});

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
        Ok((Self::with_runtime(indexed), prospects))
    }

    /// The model of the default configuration (`MockConfig::defaults()`), validated and
    /// indexed once per process, and its prospects.
    pub(crate) fn of_defaults() -> Result<(Self, &'static [ProspectConfig]), ConfigError> {
        type Built = Result<(Arc<Indexed>, Vec<ProspectConfig>), ConfigError>;
        static DEFAULTS: LazyLock<Built> = LazyLock::new(|| {
            let mut config = MockConfig::defaults();
            let prospects = std::mem::take(&mut config.prospects);
            let indexed = Indexed::build(config)?;
            indexed.check_prospects(&prospects)?;
            Ok((Arc::new(indexed), prospects))
        });
        let (indexed, prospects) = DEFAULTS.as_ref().map_err(Clone::clone)?;
        Ok((Self::with_runtime(Arc::clone(indexed)), prospects))
    }

    /// A mock's own view of `indexed`: its apps' run-time parts as configured.
    fn with_runtime(indexed: Arc<Indexed>) -> Self {
        let apps_runtime = indexed
            .config
            .apps
            .iter()
            .map(|a| AppRuntime {
                callback_urls: RwLock::new(a.callback_urls.clone()),
                rotation: AtomicBool::new(a.refresh_token_rotation),
            })
            .collect();
        Self {
            indexed,
            apps_runtime,
        }
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
        // Usernames are indexed in lower case; most arrive so, and need no lowered copy.
        if !username.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.users_by_username.get(username).copied();
        }
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
}

mod build;
#[cfg(test)]
mod tests;
