//! The mock's configuration: what `fixtures/mock.toml` and [`crate::MockBuilder`] describe.
//!
//! Every struct here maps one-to-one onto a TOML table; the crate README documents every
//! field. Unknown fields are rejected so a typo in a config file is an error, not a silently
//! ignored setting. Paths (certificates, public keys) are relative to the config file's
//! directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod objects;
mod server;

pub use objects::{CustomFieldConfig, GenerateConfig, ObjectFieldValue, PardotObjectConfig};
pub use server::{
    DEFAULT_BODY_READ_TIMEOUT_MS, DEFAULT_HEADER_READ_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS,
    ServerConfig,
};

/// The default audience of an MCI service account's client assertion.
pub const DEFAULT_MCI_AUDIENCE: &str = "https://idp.intelligence.salesforce.com";
/// The default session timeout (access-token life) of an org, in seconds: 2 hours.
pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 2 * 60 * 60;
/// The default size of the request journal ring.
pub const DEFAULT_JOURNAL_SIZE: usize = 10_000;
/// The default cap on live access tokens kept in memory.
pub const DEFAULT_MAX_TOKENS: usize = 200_000;
/// The default number of concurrent Pardot requests per business unit.
pub const DEFAULT_CONCURRENCY_LIMIT: u32 = 5;
/// The default daily Pardot request budget per business unit.
pub const DEFAULT_DAILY_BUDGET: u64 = 25_000;
/// The default device-flow polling interval, in seconds.
pub const DEFAULT_DEVICE_INTERVAL_SECS: u64 = 5;
/// The default time a v5 export spends in each of `Waiting` and `Processing`, in seconds.
pub const DEFAULT_EXPORT_STEP_SECS: u64 = 5;

/// The whole mock configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MockConfig {
    /// How many requests the journal ring keeps (oldest dropped first). Default 10,000.
    pub journal_size: usize,
    /// Most live access tokens kept; beyond it expired, then oldest, tokens are dropped.
    pub max_tokens: usize,
    /// Whether the `/__mock/...` admin routes are served. Default true.
    pub admin_routes: bool,
    /// The base URL the mock advertises in every absolute URL it writes, when clients reach
    /// it by another name than the one in their Host header (`scheme://host[:port]`; see
    /// [`crate::virtual_host::PublicUrl`]). Default: the URL each request was made to.
    pub public_url: Option<String>,
    /// How Pardot v3/v4 errors map to HTTP statuses (see [`PardotStatusMode`]).
    pub pardot_status_mode: PardotStatusMode,
    /// Seconds a v5 export spends `Waiting` once its turn comes, and again `Processing`,
    /// on the mock's clock (0: complete at once). Default 5.
    pub export_step_secs: u64,
    /// Read timeouts and the connection cap (`[server]`).
    pub server: ServerConfig,
    /// Salesforce orgs.
    pub orgs: Vec<OrgConfig>,
    /// Salesforce users.
    pub users: Vec<UserConfig>,
    /// Connected apps.
    pub apps: Vec<AppConfig>,
    /// Pardot business units.
    pub business_units: Vec<BusinessUnitConfig>,
    /// Legacy (Pardot-only) users of the v3/v4 login.
    pub legacy_users: Vec<LegacyUserConfig>,
    /// Pardot prospects.
    pub prospects: Vec<ProspectConfig>,
    /// Pardot campaigns (v3/v4 `campaign`).
    pub campaigns: Vec<PardotObjectConfig>,
    /// Pardot lists (v3/v4 `list`).
    pub lists: Vec<PardotObjectConfig>,
    /// Pardot list memberships (v3/v4 `listMembership`): a list and a prospect.
    pub list_memberships: Vec<PardotObjectConfig>,
    /// Pardot visitors (v3/v4 `visitor`), of a prospect or anonymous.
    pub visitors: Vec<PardotObjectConfig>,
    /// Pardot visits (v3/v4 `visit`): a visitor's (and its prospect's).
    pub visits: Vec<PardotObjectConfig>,
    /// The page views of visits (shown inside their visit).
    pub visitor_page_views: Vec<PardotObjectConfig>,
    /// Pardot visitor activities (v3/v4 `visitorActivity`): of a visitor and/or prospect,
    /// with a campaign and the thing acted on.
    pub visitor_activities: Vec<PardotObjectConfig>,
    /// Pardot users (v3/v4 `user`), as the API lists them; apart from the Salesforce
    /// `[[users]]` and the `[[legacy_users]]` that log in.
    pub pardot_users: Vec<PardotObjectConfig>,
    /// Pardot opportunities (v3/v4 `opportunity`): a campaign and a prospect.
    pub opportunities: Vec<PardotObjectConfig>,
    /// Pardot email clicks (v3/v4 `emailClick`): a prospect's click in an email.
    pub email_clicks: Vec<PardotObjectConfig>,
    /// Pardot prospect accounts (v3/v4 `prospectAccount`).
    pub prospect_accounts: Vec<PardotObjectConfig>,
    /// The volume generator: prospects, visitors and visitor activities made from a seed.
    pub generate: Option<GenerateConfig>,
    /// Custom fields of prospect accounts, per business unit (`do/describe` lists them; the
    /// accounts' entries set them by `name`).
    pub prospect_account_fields: Vec<CustomFieldConfig>,
    /// Marketing Cloud Intelligence service accounts.
    pub mci_service_accounts: Vec<MciServiceAccountConfig>,
    /// Refresh tokens that exist from the start.
    pub refresh_tokens: Vec<RefreshTokenConfig>,
    /// Where relative paths are resolved; set by the loader, not read from TOML.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
    /// Resolve the default fixture key names to their embedded copies (set by `defaults()`).
    #[serde(skip)]
    pub(crate) embedded_files: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            journal_size: DEFAULT_JOURNAL_SIZE,
            max_tokens: DEFAULT_MAX_TOKENS,
            admin_routes: true,
            public_url: None,
            pardot_status_mode: PardotStatusMode::default(),
            export_step_secs: DEFAULT_EXPORT_STEP_SECS,
            server: ServerConfig::default(),
            orgs: Vec::new(),
            users: Vec::new(),
            apps: Vec::new(),
            business_units: Vec::new(),
            legacy_users: Vec::new(),
            prospects: Vec::new(),
            campaigns: Vec::new(),
            lists: Vec::new(),
            list_memberships: Vec::new(),
            visitors: Vec::new(),
            visits: Vec::new(),
            visitor_page_views: Vec::new(),
            visitor_activities: Vec::new(),
            pardot_users: Vec::new(),
            opportunities: Vec::new(),
            prospect_accounts: Vec::new(),
            email_clicks: Vec::new(),
            prospect_account_fields: Vec::new(),
            generate: None,
            mci_service_accounts: Vec::new(),
            refresh_tokens: Vec::new(),
            base_dir: None,
            embedded_files: false,
        }
    }
}

/// The default configuration, `fixtures/mock.toml`, as text: the crate's own copy
/// (`crates/pardot-mock/fixtures/`, so the crate packages on its own), kept byte for byte
/// equal to the workspace's canonical file by `tests/self_contained.rs`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../fixtures/mock.toml");

/// Key files the default configuration names, embedded so the defaults work from any
/// directory (and without touching the disk).
pub(crate) const EMBEDDED_FILES: &[(&str, &str)] = &[
    (
        "keys/connected-app.crt",
        include_str!("../fixtures/keys/connected-app.crt"),
    ),
    (
        "keys/mci-service-account.pub.pem",
        include_str!("../fixtures/keys/mci-service-account.pub.pem"),
    ),
    (
        "keys/untrusted.crt",
        include_str!("../fixtures/keys/untrusted.crt"),
    ),
];

impl MockConfig {
    /// An empty configuration (no orgs, users or apps) with default settings.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in defaults: `fixtures/mock.toml`, with its key files embedded.
    pub fn defaults() -> Self {
        // The embedded text is checked by a unit test, so this cannot fail in a release.
        let mut config = Self::from_toml(DEFAULT_CONFIG_TOML).unwrap_or_default();
        config.embedded_files = true;
        config
    }

    /// Parses a TOML configuration. Relative paths are resolved against the current
    /// directory unless [`MockConfig::base_dir`] is set afterwards.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// Reads and parses a TOML file; relative paths inside are resolved against its directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut config = Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Toml(m) => ConfigError::Toml(format!("{}: {m}", path.display())),
            other => other,
        })?;
        config.base_dir = Some(
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        );
        Ok(config)
    }
}

/// How Pardot v3/v4 errors map to HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PardotStatusMode {
    /// Today's behaviour (`docs/reference/pardot-api.md#error-codes`): 401 for codes 1, 15 and 184, 400 otherwise.
    #[default]
    Modern,
    /// The older behaviour: HTTP 200 with `stat="fail"`, and 400 for an expired token.
    Legacy,
}

/// Whether an org is a production (or developer) org or a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// Logs in on `login.salesforce.com` (`{base}`) and its My Domain.
    #[default]
    Production,
    /// Logs in on `test.salesforce.com` (`{base}/sandbox`) and its My Domain.
    Sandbox,
}

/// A Salesforce org.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    /// Org id (`00D…`, 15 or 18 characters).
    pub id: String,
    /// A display name.
    #[serde(default)]
    pub name: String,
    /// Production or sandbox.
    #[serde(default)]
    pub kind: OrgKind,
    /// The My Domain name: `NAME` in `NAME.my.salesforce.com` and `{base}/my/NAME`.
    #[serde(default)]
    pub my_domain: Option<String>,
    /// The `instance_url` token responses carry; default: the mock's own `scheme://host:port`.
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Access-token life in seconds (the org's session timeout), 1 to one year. Default 7200
    /// (2 hours).
    #[serde(default = "default_session_timeout")]
    pub session_timeout_secs: u64,
    /// Whether the username-password flow is allowed. Default true.
    #[serde(default = "yes")]
    pub password_flow: bool,
    /// A locked, closed or suspended org: every login answers `inactive_org`.
    #[serde(default)]
    pub locked: bool,
    /// Most logins (token grants) per rolling hour on the mock clock; none when absent.
    #[serde(default)]
    pub logins_per_hour: Option<u32>,
}

impl OrgConfig {
    /// A production org with default settings.
    pub fn production(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: String::new(),
            kind: OrgKind::Production,
            my_domain: None,
            instance_url: None,
            session_timeout_secs: DEFAULT_SESSION_TIMEOUT_SECS,
            password_flow: true,
            locked: false,
            logins_per_hour: None,
        }
    }

    /// A sandbox org with default settings.
    pub fn sandbox(id: impl Into<String>) -> Self {
        Self {
            kind: OrgKind::Sandbox,
            ..Self::production(id)
        }
    }

    /// Sets the My Domain name.
    pub fn with_my_domain(mut self, name: impl Into<String>) -> Self {
        self.my_domain = Some(name.into());
        self
    }
}

/// A Salesforce user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// User id (`005…`, 15 or 18 characters).
    pub id: String,
    /// The login name (an email-like string, unique across orgs).
    pub username: String,
    /// The password (TEST ONLY values).
    #[serde(default)]
    pub password: String,
    /// The security token appended to the password unless `trusted_ip`.
    #[serde(default)]
    pub security_token: String,
    /// The user logs in from a trusted IP range: the security token is not needed.
    #[serde(default)]
    pub trusted_ip: bool,
    /// An inactive user cannot log in.
    #[serde(default = "yes")]
    pub active: bool,
    /// The org id this user belongs to.
    pub org: String,
    /// Email (default: the username).
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Pardot business unit ids (`0Uv…`) this user may call the Pardot API for.
    #[serde(default)]
    pub business_units: Vec<String>,
}

pardot_auth_core::debug_shows!(UserConfig as this {
    id: this.id,
    username: this.username,
    org: this.org,
    active: this.active,
    trusted_ip: this.trusted_ip,
    business_units: this.business_units,
});

impl UserConfig {
    /// An active user of `org` with a password and no security token.
    pub fn new(
        id: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
        org: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            password: password.into(),
            security_token: String::new(),
            trusted_ip: false,
            active: true,
            org: org.into(),
            email: None,
            first_name: String::new(),
            last_name: String::new(),
            business_units: Vec::new(),
        }
    }
}

/// Who may use a connected app ("Permitted Users" in Salesforce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermittedUsers {
    /// "All users may self-authorize": a user must have approved the app (listed in
    /// `approved_users`, or through a code/device flow) before the JWT flow works.
    #[default]
    All,
    /// "Admin approved users are pre-authorized": only `pre_authorized` users.
    AdminApproved,
}

/// A connected app.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// A display name.
    #[serde(default)]
    pub name: String,
    /// The consumer key (`client_id`).
    pub consumer_key: String,
    /// The consumer secret (`client_secret`).
    #[serde(default)]
    pub consumer_secret: String,
    /// Path of the X.509 certificate (PEM) for the JWT flow, relative to the config file.
    #[serde(default)]
    pub certificate: Option<String>,
    /// The certificate inline (PEM), instead of `certificate`.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// Callback URLs, compared exactly with `redirect_uri`.
    #[serde(default)]
    pub callback_urls: Vec<String>,
    /// The OAuth scopes the app grants (`api`, `pardot_api`, `refresh_token`, …).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The permitted-users policy.
    #[serde(default)]
    pub permitted_users: PermittedUsers,
    /// Usernames pre-authorized by an admin (profile or permission set assigned).
    #[serde(default)]
    pub pre_authorized: Vec<String>,
    /// Usernames that have already approved the app (as after a web login).
    #[serde(default)]
    pub approved_users: Vec<String>,
    /// The client-credentials "Run As" username.
    #[serde(default)]
    pub run_as: Option<String>,
    /// Whether the client-credentials flow is enabled (default: when `run_as` is set).
    #[serde(default)]
    pub client_credentials: Option<bool>,
    /// Refresh-token rotation: each refresh returns a new refresh token.
    #[serde(default)]
    pub refresh_token_rotation: bool,
    /// "Require Secret for Refresh Token Flow". Default true.
    #[serde(default = "yes")]
    pub require_secret_for_refresh: bool,
    /// A public PKCE app: the code exchange needs no secret.
    #[serde(default)]
    pub public_pkce: bool,
    /// Device-flow polling interval in seconds, 1 to one year. Default 5.
    #[serde(default = "default_device_interval")]
    pub device_interval_secs: u64,
}

pardot_auth_core::debug_shows!(AppConfig as this {
    name: this.name,
    consumer_key: this.consumer_key,
    scopes: this.scopes,
    permitted_users: this.permitted_users,
    run_as: this.run_as,
});

impl AppConfig {
    /// An app with a consumer key and secret, granting `api refresh_token`.
    pub fn new(consumer_key: impl Into<String>, consumer_secret: impl Into<String>) -> Self {
        Self {
            name: String::new(),
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            certificate: None,
            certificate_pem: None,
            callback_urls: Vec::new(),
            scopes: vec!["api".into(), "refresh_token".into()],
            permitted_users: PermittedUsers::All,
            pre_authorized: Vec::new(),
            approved_users: Vec::new(),
            run_as: None,
            client_credentials: None,
            refresh_token_rotation: false,
            require_secret_for_refresh: true,
            public_pkce: false,
            device_interval_secs: DEFAULT_DEVICE_INTERVAL_SECS,
        }
    }
}

/// Which Pardot host a business unit lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PardotHostKind {
    /// `pi.pardot.com` (`{base}`).
    #[default]
    Production,
    /// `pi.demo.pardot.com` (`{base}/demo`).
    Demo,
}

/// A Pardot business unit (an "account" in v3/v4 terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessUnitConfig {
    /// Business unit id (`0Uv…`, 15 or 18 characters).
    pub id: String,
    /// A display name.
    #[serde(default)]
    pub name: String,
    /// Production or demo host.
    #[serde(default)]
    pub host: PardotHostKind,
    /// An inactive BU answers "not found or inactive".
    #[serde(default = "yes")]
    pub active: bool,
    /// The org the BU belongs to (optional).
    #[serde(default)]
    pub org: Option<String>,
    /// Most concurrent API requests (error 66 beyond). Default 5.
    #[serde(default = "default_concurrency")]
    pub concurrency_limit: u32,
    /// Daily request budget (error 122 beyond), reset at midnight UTC on the mock clock.
    #[serde(default = "default_budget")]
    pub daily_budget: u64,
    /// The v3/v4 numeric account id (`account/do/read`).
    #[serde(default)]
    pub account_id: Option<u64>,
    /// The account's company name.
    #[serde(default)]
    pub company: String,
    /// The account's edition, e.g. `SFDC Ultimate Edition`.
    #[serde(default)]
    pub level: String,
    /// The account's website.
    #[serde(default)]
    pub website: String,
}

/// A legacy Pardot-only user (v3/v4 `login` with email, password and user key).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyUserConfig {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
    /// The 32-hex-character user key.
    pub user_key: String,
    /// The API version the account is set to (3 or 4).
    #[serde(default = "default_api_version")]
    pub api_version: u8,
    /// The business unit (account) this user belongs to, if any.
    #[serde(default)]
    pub business_unit: Option<String>,
}

pardot_auth_core::debug_shows!(LegacyUserConfig as this {
    email: this.email,
    api_version: this.api_version,
    business_unit: this.business_unit,
});

/// A Pardot prospect in a business unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProspectConfig {
    /// The business unit id it belongs to.
    pub business_unit: String,
    /// Numeric prospect id.
    pub id: u64,
    /// Email address.
    pub email: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Company.
    #[serde(default)]
    pub company: String,
    /// Score.
    #[serde(default)]
    pub score: i64,
    /// Grade, e.g. `B+`.
    #[serde(default)]
    pub grade: Option<String>,
    /// Created, `YYYY-MM-DD HH:MM:SS`.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated, `YYYY-MM-DD HH:MM:SS`.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Any other prospect field by its v3/v4 name (`job_title`, `city`, …).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The Pardot user (a `[[pardot_users]]` entry of the same business unit) the prospect is
    /// assigned to, by id (`"3002"`) or email; a reference to no such user is an error naming
    /// the prospect and the user.
    #[serde(default)]
    pub assigned_to: Option<String>,
}

impl ProspectConfig {
    /// A prospect of `business_unit` with an id and an email, every other field empty.
    pub fn new(business_unit: impl Into<String>, id: u64, email: impl Into<String>) -> Self {
        Self {
            business_unit: business_unit.into(),
            id,
            email: email.into(),
            first_name: String::new(),
            last_name: String::new(),
            company: String::new(),
            score: 0,
            grade: None,
            created_at: None,
            updated_at: None,
            fields: BTreeMap::new(),
            assigned_to: None,
        }
    }

    /// Assigns the prospect to the Pardot user with this id or email.
    pub fn with_assigned_to(mut self, user: impl Into<String>) -> Self {
        self.assigned_to = Some(user.into());
        self
    }
}

/// A Marketing Cloud Intelligence service account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MciServiceAccountConfig {
    /// The service account id (the OAuth client id, `iss` and `sub`).
    pub id: String,
    /// The region: `us1`, `us2`, `eu1` or `eu2`.
    pub region: String,
    /// Path of the public key (PEM, SPKI or PKCS#1 or a certificate), relative to the config.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The public key inline (PEM), instead of `public_key`.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// The `aud` the assertion must carry. Default `https://idp.intelligence.salesforce.com`.
    #[serde(default = "default_mci_audience")]
    pub audience: String,
}

/// A refresh token that exists from the start (as if issued by an earlier web login).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenConfig {
    /// The token value.
    pub token: String,
    /// Whose token it is.
    pub username: String,
    /// The app it was issued to.
    pub consumer_key: String,
    /// Granted scopes (default: the app's scopes).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

pardot_auth_core::debug_shows!(RefreshTokenConfig as this {
    username: this.username,
    consumer_key: this.consumer_key,
});

fn yes() -> bool {
    true
}
fn default_session_timeout() -> u64 {
    DEFAULT_SESSION_TIMEOUT_SECS
}
fn default_device_interval() -> u64 {
    DEFAULT_DEVICE_INTERVAL_SECS
}
fn default_concurrency() -> u32 {
    DEFAULT_CONCURRENCY_LIMIT
}
fn default_budget() -> u64 {
    DEFAULT_DAILY_BUDGET
}
fn default_api_version() -> u8 {
    4
}
fn default_mci_audience() -> String {
    DEFAULT_MCI_AUDIENCE.to_owned()
}

/// A configuration that cannot be used, with a message naming the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML text does not parse or has unknown fields.
    #[error("mock config: {0}")]
    Toml(String),
    /// A file could not be read.
    #[error("mock config: cannot read {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An entry is invalid (bad id, unknown reference, bad PEM, duplicate…).
    #[error("mock config: {0}")]
    Invalid(String),
}

pub(crate) fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

/// Reads a PEM given inline or by path (embedded files first for the default config).
pub(crate) fn load_pem(
    inline: Option<&str>,
    path: Option<&str>,
    base_dir: Option<&Path>,
    embedded: bool,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    match (inline, path) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "{what}: give either the inline PEM or the path, not both"
        ))),
        (Some(pem), None) => Ok(Some(pem.to_owned())),
        (None, None) => Ok(None),
        (None, Some(p)) => {
            if embedded && let Some((_, text)) = EMBEDDED_FILES.iter().find(|(name, _)| *name == p)
            {
                return Ok(Some((*text).to_owned()));
            }
            let full = match base_dir {
                Some(dir) => dir.join(p),
                None => PathBuf::from(p),
            };
            std::fs::read_to_string(&full)
                .map(Some)
                .map_err(|e| ConfigError::Io {
                    path: full,
                    message: format!("{what}: {e}"),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses() {
        let config = MockConfig::from_toml(DEFAULT_CONFIG_TOML).unwrap();
        assert!(!config.orgs.is_empty());
        assert!(!config.users.is_empty());
        assert_eq!(config.journal_size, DEFAULT_JOURNAL_SIZE);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = MockConfig::from_toml("journal_sise = 3").unwrap_err();
        assert!(err.to_string().contains("journal_sise"), "{err}");
    }

    #[test]
    fn debug_hides_secrets() {
        let mut user = UserConfig::new("005000000000001", "u@x.com", "hunter2-secret", "00D");
        user.security_token = "TOKENSECRET".into();
        let text = format!("{user:?}");
        assert!(!text.contains("hunter2-secret") && !text.contains("TOKENSECRET"));
        let app = AppConfig::new("key", "app-secret-value");
        assert!(!format!("{app:?}").contains("app-secret-value"));
        let legacy = LegacyUserConfig {
            email: "a@b".into(),
            password: "legacy-pass".into(),
            user_key: "userkeyvalue".into(),
            api_version: 4,
            business_unit: None,
        };
        let text = format!("{legacy:?}");
        assert!(!text.contains("legacy-pass") && !text.contains("userkeyvalue"));
    }
}
