//! Validating and indexing a configuration into an [`Indexed`], one named step per part: the
//! sizes, orgs, business units, users, apps, legacy users, MCI accounts and refresh tokens,
//! each checked against the parts before it.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use pardot_auth_core::{BusinessUnitId, SalesforceId};

use super::{App, BusinessUnit, Indexed, MCI_REGIONS, MciAccount, Org, User};
use crate::config::{ConfigError, MockConfig, ProspectConfig, invalid, load_pem};
use crate::rsa_key::Rs256Key;

/// The longest duration a configuration may give in seconds (one year): a session or a poll
/// interval longer than that is a typo, and each is added to the clock on every login, where a
/// value past any date would panic.
pub(super) const MAX_CONFIG_SECS: u64 = 365 * 24 * 60 * 60;

/// The orgs, by position, with their lookup tables.
struct Orgs {
    orgs: Vec<Org>,
    by_id: HashMap<SalesforceId, usize>,
    by_my_domain: HashMap<String, usize>,
}

/// The users, by position, with their lookup tables.
struct Users {
    users: Vec<User>,
    by_username: HashMap<String, usize>,
    by_id: HashMap<SalesforceId, usize>,
}

impl Indexed {
    /// Validates and indexes a configuration (its prospects are checked apart, by
    /// [`Indexed::check_prospects`]).
    pub(super) fn build(config: MockConfig) -> Result<Self, ConfigError> {
        check_sizes(&config)?;
        let orgs = index_orgs(&config)?;
        let (business_units, bus_by_id) = index_business_units(&config, &orgs)?;
        let users = index_users(&config, &orgs, &bus_by_id)?;
        let (apps, apps_by_key) = index_apps(&config, &users.by_username)?;
        check_legacy_users(&config, &bus_by_id)?;
        let mci_accounts = mci_accounts(&config)?;
        check_refresh_tokens(&config, &users.by_username, &apps_by_key)?;
        Ok(Self {
            config,
            orgs: orgs.orgs,
            users: users.users,
            apps,
            business_units,
            mci_accounts,
            users_by_username: users.by_username,
            users_by_id: users.by_id,
            orgs_by_my_domain: orgs.by_my_domain,
            apps_by_key,
            bus_by_id,
        })
    }

    /// Each prospect names a configured business unit and has an id unique in it.
    pub(super) fn check_prospects(&self, prospects: &[ProspectConfig]) -> Result<(), ConfigError> {
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

/// The journal and the token map hold at least one entry.
fn check_sizes(config: &MockConfig) -> Result<(), ConfigError> {
    if config.journal_size == 0 {
        return Err(invalid("journal_size must be at least 1"));
    }
    if config.max_tokens == 0 {
        return Err(invalid("max_tokens must be at least 1"));
    }
    if config.export_step_secs > MAX_CONFIG_SECS {
        return Err(invalid(format!(
            "export_step_secs must be at most {MAX_CONFIG_SECS}"
        )));
    }
    Ok(())
}

/// Orgs: ids unique, My Domain names well formed and unique, URLs and session timeouts valid.
fn index_orgs(config: &MockConfig) -> Result<Orgs, ConfigError> {
    let mut orgs = Vec::new();
    let mut by_id = HashMap::new();
    let mut by_my_domain = HashMap::new();
    for (i, o) in config.orgs.iter().enumerate() {
        let id = parse_id(&o.id, "00D", &format!("orgs[{i}].id"))?;
        if by_id.insert(id.clone(), orgs.len()).is_some() {
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
            if by_my_domain
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
    Ok(Orgs {
        orgs,
        by_id,
        by_my_domain,
    })
}

/// Business units: ids unique, each org known.
fn index_business_units(
    config: &MockConfig,
    orgs: &Orgs,
) -> Result<(Vec<BusinessUnit>, HashMap<BusinessUnitId, usize>), ConfigError> {
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
                let index = org_ref(o, &orgs.by_id, &format!("business_units[{i}].org"))?;
                Some(orgs.orgs[index].id.clone())
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
    Ok((business_units, bus_by_id))
}

/// Users: ids and usernames unique, each org and business unit known.
fn index_users(
    config: &MockConfig,
    orgs: &Orgs,
    bus_by_id: &HashMap<BusinessUnitId, usize>,
) -> Result<Users, ConfigError> {
    let mut users = Vec::new();
    let mut by_username = HashMap::new();
    let mut by_id = HashMap::new();
    for (i, u) in config.users.iter().enumerate() {
        let id = parse_id(&u.id, "005", &format!("users[{i}].id"))?;
        if u.username.trim().is_empty() {
            return Err(invalid(format!("users[{i}].username is empty")));
        }
        if by_id.insert(id.clone(), users.len()).is_some() {
            return Err(invalid(format!("users[{i}]: duplicate user id `{}`", u.id)));
        }
        if by_username
            .insert(u.username.to_ascii_lowercase(), users.len())
            .is_some()
        {
            return Err(invalid(format!(
                "users[{i}]: duplicate username `{}`",
                u.username
            )));
        }
        let org = org_ref(&u.org, &orgs.by_id, &format!("users[{i}].org"))?;
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
    Ok(Users {
        users,
        by_username,
        by_id,
    })
}

/// Apps: consumer keys unique, certificates readable, callback URLs valid, each user known.
fn index_apps(
    config: &MockConfig,
    users_by_username: &HashMap<String, usize>,
) -> Result<(Vec<App>, HashMap<String, usize>), ConfigError> {
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
        let certificate = configured_key(
            config,
            a.certificate_pem.as_deref(),
            a.certificate.as_deref(),
            &format!("{what}.certificate"),
        )?;
        for url in &a.callback_urls {
            url::Url::parse(url)
                .map_err(|e| invalid(format!("{what}.callback_urls `{url}`: {e}")))?;
        }
        let pre_authorized = a
            .pre_authorized
            .iter()
            .map(|u| user_ref(u, users_by_username, &format!("{what}.pre_authorized")))
            .collect::<Result<_, _>>()?;
        let approved_users = a
            .approved_users
            .iter()
            .map(|u| user_ref(u, users_by_username, &format!("{what}.approved_users")))
            .collect::<Result<_, _>>()?;
        let run_as = match &a.run_as {
            Some(u) => Some(user_ref(u, users_by_username, &format!("{what}.run_as"))?),
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
            signature_key: crate::signature_key::SignatureKey::new(&a.consumer_secret),
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
    Ok((apps, apps_by_key))
}

/// Legacy users: API version 3 or 4, business unit known, emails unique.
fn check_legacy_users(
    config: &MockConfig,
    bus_by_id: &HashMap<BusinessUnitId, usize>,
) -> Result<(), ConfigError> {
    for (i, l) in config.legacy_users.iter().enumerate() {
        if l.api_version != 3 && l.api_version != 4 {
            return Err(invalid(format!(
                "legacy_users[{i}].api_version must be 3 or 4, not {}",
                l.api_version
            )));
        }
        if let Some(b) = &l.business_unit {
            bu_ref(b, bus_by_id, &format!("legacy_users[{i}].business_unit"))?;
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
    Ok(())
}

/// MCI service accounts: ids unique, regions known, public keys readable.
fn mci_accounts(config: &MockConfig) -> Result<Vec<MciAccount>, ConfigError> {
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
        let key = configured_key(
            config,
            m.public_key_pem.as_deref(),
            m.public_key.as_deref(),
            &format!("{what}.public_key"),
        )?
        .ok_or_else(|| invalid(format!("{what}: public_key or public_key_pem is required")))?;
        mci_accounts.push(MciAccount {
            id: m.id.clone(),
            region: m.region.clone(),
            key,
            audience: m.audience.trim_end_matches('/').to_owned(),
        });
    }
    Ok(mci_accounts)
}

/// Configured refresh tokens: not empty, user and app known.
fn check_refresh_tokens(
    config: &MockConfig,
    users_by_username: &HashMap<String, usize>,
    apps_by_key: &HashMap<String, usize>,
) -> Result<(), ConfigError> {
    for (i, r) in config.refresh_tokens.iter().enumerate() {
        if r.token.is_empty() {
            return Err(invalid(format!("refresh_tokens[{i}].token is empty")));
        }
        user_ref(
            &r.username,
            users_by_username,
            &format!("refresh_tokens[{i}].username"),
        )?;
        if !apps_by_key.contains_key(&r.consumer_key) {
            return Err(invalid(format!(
                "refresh_tokens[{i}].consumer_key: unknown app `{}`",
                r.consumer_key
            )));
        }
    }
    Ok(())
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
    id_ref(text, SalesforceId::parse(text), orgs, what, "org")
}

fn user_ref(
    name: &str,
    users_by_username: &HashMap<String, usize>,
    what: &str,
) -> Result<usize, ConfigError> {
    users_by_username
        .get(&name.to_ascii_lowercase())
        .copied()
        .ok_or_else(|| invalid(format!("{what}: unknown username `{name}`")))
}

fn bu_ref(
    text: &str,
    bus: &HashMap<BusinessUnitId, usize>,
    what: &str,
) -> Result<usize, ConfigError> {
    id_ref(
        text,
        BusinessUnitId::parse(text),
        bus,
        what,
        "business unit",
    )
}

/// The index of the `kind` whose id `text` parsed to, for the config field `what`.
fn id_ref<Id: Eq + std::hash::Hash, E: std::fmt::Display>(
    text: &str,
    parsed: Result<Id, E>,
    index: &HashMap<Id, usize>,
    what: &str,
    kind: &str,
) -> Result<usize, ConfigError> {
    let id = parsed.map_err(|e| invalid(format!("{what}: {e}")))?;
    index
        .get(&id)
        .copied()
        .ok_or_else(|| invalid(format!("{what}: unknown {kind} `{text}`")))
}

/// An RSA public key from a certificate, an SPKI public key or a PKCS#1 public key (PEM).
/// The RSA public key `config` gives inline (`inline`) or by path (`path`), if it gives one, as
/// `what`.
fn configured_key(
    config: &MockConfig,
    inline: Option<&str>,
    path: Option<&str>,
    what: &str,
) -> Result<Option<Rs256Key>, ConfigError> {
    let base_dir = config.base_dir.as_deref();
    let pem = load_pem(inline, path, base_dir, config.embedded_files, what)?;
    pem.map(|pem| rsa_key(&pem, what)).transpose()
}

fn rsa_key(pem: &str, what: &str) -> Result<Rs256Key, ConfigError> {
    if pem.contains("PRIVATE KEY") {
        return Err(invalid(format!(
            "{what}: this is a private key; give the certificate or public key"
        )));
    }
    // Tests start many mocks from the same few certificates; parsing one was half of building
    // the model. Keys by PEM text, bounded so a process building mocks from ever-new
    // certificates does not grow without end.
    const KEPT: usize = 64;
    static PARSED: LazyLock<Mutex<HashMap<String, Rs256Key>>> = LazyLock::new(Mutex::default);
    let lock = || PARSED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = lock().get(pem) {
        return Ok(key.clone());
    }
    let key = Rs256Key::from_pem(pem).map_err(|e| {
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
