//! [`Config`]: which flow to run and its settings, filled in code or from the environment.

mod env;
mod fleet;

use std::fmt;
use std::path::PathBuf;

use pardot_auth_core::secrecy::SecretString;
use pardot_auth_core::url::Url;
use pardot_auth_core::{BusinessUnitId, InsecureHttp, LoginHost, PardotHost};
use pardot_http::FailurePolicy;
use pardot_http::store::EncryptionKey;

use env::Vars;
#[cfg(test)]
use env::dotenv_error;
pub use fleet::{DayOffset, FleetConfig, GovernorKind, RedisUrl, StoreKind};

/// The default redirect URI of the web server flow (a desktop tool's loopback callback, as in
/// `docs/flows/web-server.md`).
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:7777/callback";

/// Why a configuration could not be built. Names the variable; never shows a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `PARDOT_AUTH_FLOW` is not set.
    #[error(
        "PARDOT_AUTH_FLOW is not set; choose one of: {}",
        Flow::NAMES.join(", ")
    )]
    NoFlow,
    /// `PARDOT_AUTH_FLOW` names no flow.
    #[error("PARDOT_AUTH_FLOW=`{value}` is not a flow; choose one of: {}", Flow::NAMES.join(", "))]
    UnknownFlow {
        /// The value given.
        value: String,
    },
    /// A variable the chosen flow needs is missing or empty.
    #[error("{variable} is required for the {flow} flow ({what})")]
    Missing {
        /// The variable's name.
        variable: &'static str,
        /// The flow that needs it.
        flow: Flow,
        /// What it holds.
        what: &'static str,
    },
    /// A variable has a value that cannot be used.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong (never the secret itself).
        reason: String,
    },
    /// A setting needs another one that is not set (`PARDOT_AUTH_STORE=redis` needs
    /// `PARDOT_AUTH_REDIS_URL`).
    #[error("{setting} needs {variable}")]
    Needs {
        /// The missing variable.
        variable: &'static str,
        /// The setting that needs it, with its value.
        setting: &'static str,
    },
    /// A variable is set under its current name and under its deprecated one (`SF_LOGIN_URL`
    /// and `SF_LOGIN_HOST`, `PARDOT_URL` and `PARDOT_HOST`): either could be the one meant.
    #[error("{variable} and its deprecated name {deprecated} are both set; keep only {variable}")]
    RenamedTwice {
        /// The current name.
        variable: &'static str,
        /// The deprecated name.
        deprecated: &'static str,
    },
    /// A setting needs a crate feature this build does not have.
    #[error("{setting} needs pardot-auth built with the `{feature}` feature")]
    NotBuiltWith {
        /// The setting, with its value.
        setting: &'static str,
        /// The cargo feature.
        feature: &'static str,
    },
}

/// The authentication routes, named as the CLI and `PARDOT_AUTH_FLOW` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flow {
    /// `jwt`: OAuth 2.0 JWT bearer (servers; no user interaction).
    JwtBearer,
    /// `password`: username-password (being retired by Salesforce; prefer `jwt`).
    Password,
    /// `web`: web server flow with PKCE and a loopback callback.
    WebServer,
    /// `refresh`: a stored refresh token.
    RefreshToken,
    /// `client-credentials`: client credentials on a My Domain host.
    ClientCredentials,
    /// `device`: device flow (a user approves on another screen).
    Device,
    /// `legacy`: the legacy Pardot email/password/user_key login.
    Legacy,
    /// `mci`: a Marketing Cloud Intelligence service account.
    Mci,
}

impl Flow {
    /// The names `PARDOT_AUTH_FLOW` and `pardot-auth login` accept.
    pub const NAMES: [&'static str; 8] = [
        "jwt",
        "password",
        "web",
        "refresh",
        "client-credentials",
        "device",
        "legacy",
        "mci",
    ];

    /// The flow's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::JwtBearer => "jwt",
            Self::Password => "password",
            Self::WebServer => "web",
            Self::RefreshToken => "refresh",
            Self::ClientCredentials => "client-credentials",
            Self::Device => "device",
            Self::Legacy => "legacy",
            Self::Mci => "mci",
        }
    }

    /// Parses a flow name: one of [`Flow::NAMES`], in any case, with `_` for `-`
    /// (`client_credentials`), or the OAuth grant's own name (`jwt-bearer`, `refresh_token`,
    /// `authorization_code`, `device_code`), since users type the grant they know.
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        let normalized = name.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match normalized.as_str() {
            "jwt" | "jwt-bearer" => Self::JwtBearer,
            "password" => Self::Password,
            "web" | "web-server" | "authorization-code" => Self::WebServer,
            "refresh" | "refresh-token" => Self::RefreshToken,
            "client-credentials" => Self::ClientCredentials,
            "device" | "device-code" => Self::Device,
            "legacy" => Self::Legacy,
            "mci" => Self::Mci,
            _ => {
                return Err(ConfigError::UnknownFlow {
                    value: name.trim().to_owned(),
                });
            }
        })
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A flow and the settings it needs.
#[derive(Clone)]
#[non_exhaustive]
pub enum FlowConfig {
    /// JWT bearer: the connected app signs an assertion for `username`.
    JwtBearer {
        /// Login host (audience and token endpoint).
        login: LoginHost,
        /// Connected app consumer key.
        client_id: String,
        /// Salesforce username to act as.
        username: String,
        /// PEM private key (PKCS#1 or PKCS#8) matching the app's certificate.
        private_key_file: PathBuf,
    },
    /// Username-password.
    Password {
        /// Login host.
        login: LoginHost,
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
        /// Salesforce username.
        username: String,
        /// Password followed by the security token.
        password: SecretString,
    },
    /// Web server flow with PKCE.
    WebServer {
        /// Login host.
        login: LoginHost,
        /// Consumer key.
        client_id: String,
        /// Consumer secret (absent for public PKCE apps).
        client_secret: Option<SecretString>,
        /// Loopback redirect URI registered on the app.
        redirect_uri: Url,
    },
    /// Refresh token.
    RefreshToken {
        /// Login host.
        login: LoginHost,
        /// Consumer key.
        client_id: String,
        /// Consumer secret, if the app has one.
        client_secret: Option<SecretString>,
        /// The refresh token.
        refresh_token: SecretString,
    },
    /// Client credentials (My Domain only).
    ClientCredentials {
        /// The My Domain login host.
        login: LoginHost,
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
    },
    /// Device flow.
    Device {
        /// Login host.
        login: LoginHost,
        /// Consumer key.
        client_id: String,
        /// Consumer secret, if the app has one.
        client_secret: Option<SecretString>,
    },
    /// Legacy Pardot login.
    Legacy {
        /// Pardot user email.
        email: String,
        /// Pardot password.
        password: SecretString,
        /// The account's 32-hex-character user key.
        user_key: SecretString,
    },
    /// Marketing Cloud Intelligence service account.
    Mci {
        /// Service account id.
        service_account_id: String,
        /// Discovery URL (`…/.well-known/openid-configuration`).
        discovery_url: Url,
        /// The service account's PEM private key.
        private_key_file: PathBuf,
    },
}

impl FlowConfig {
    /// Which flow this is.
    pub fn flow(&self) -> Flow {
        match self {
            Self::JwtBearer { .. } => Flow::JwtBearer,
            Self::Password { .. } => Flow::Password,
            Self::WebServer { .. } => Flow::WebServer,
            Self::RefreshToken { .. } => Flow::RefreshToken,
            Self::ClientCredentials { .. } => Flow::ClientCredentials,
            Self::Device { .. } => Flow::Device,
            Self::Legacy { .. } => Flow::Legacy,
            Self::Mci { .. } => Flow::Mci,
        }
    }
}

impl fmt::Debug for FlowConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are left out entirely; identifiers that are not secret help debugging.
        let mut d = f.debug_struct("FlowConfig");
        d.field("flow", &self.flow());
        match self {
            Self::JwtBearer {
                login,
                client_id,
                username,
                private_key_file,
            } => d
                .field("login", login)
                .field("client_id", client_id)
                .field("username", username)
                .field("private_key_file", private_key_file),
            Self::Password {
                login,
                client_id,
                username,
                ..
            } => d
                .field("login", login)
                .field("client_id", client_id)
                .field("username", username),
            Self::WebServer {
                login,
                client_id,
                redirect_uri,
                ..
            } => d
                .field("login", login)
                .field("client_id", client_id)
                .field("redirect_uri", &redirect_uri.as_str()),
            Self::RefreshToken {
                login, client_id, ..
            }
            | Self::ClientCredentials {
                login, client_id, ..
            }
            | Self::Device {
                login, client_id, ..
            } => d.field("login", login).field("client_id", client_id),
            Self::Legacy { email, .. } => d.field("email", email),
            Self::Mci {
                service_account_id,
                discovery_url,
                private_key_file,
            } => d
                .field("service_account_id", service_account_id)
                .field("discovery_url", &discovery_url.as_str())
                .field("private_key_file", private_key_file),
        };
        d.finish_non_exhaustive()
    }
}

/// Everything `connect` needs: the flow and where the Pardot API is.
///
/// Build one with [`Config::new`] and its setters, or read one with [`Config::from_env`];
/// more settings may come, so it cannot be written as a struct literal.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The flow and its settings.
    pub flow: FlowConfig,
    /// The Pardot host (`PARDOT_URL`; default production).
    pub pardot_host: PardotHost,
    /// The business unit (`PARDOT_BUSINESS_UNIT_ID`); required for every Salesforce flow.
    pub business_unit: Option<BusinessUnitId>,
    /// Where tokens are kept and how the request limits are shared (default: in this process).
    pub fleet: FleetConfig,
    /// Plain `http` to hosts other than loopback (`PARDOT_AUTH_ALLOW_INSECURE_HTTP=1`): only
    /// for tests against a mock reached by name; default [`InsecureHttp::Refuse`]. Read
    /// before the hosts are parsed, which honour it; `connect_mci` checks its base URL with it.
    pub insecure_http: InsecureHttp,
}

impl Config {
    /// A configuration for `flow` against production Pardot, without a business unit yet.
    pub fn new(flow: FlowConfig) -> Self {
        Self {
            flow,
            pardot_host: PardotHost::Production,
            business_unit: None,
            fleet: FleetConfig::default(),
            insecure_http: InsecureHttp::Refuse,
        }
    }

    pardot_auth_core::builder_setters! {
        /// Sets the Pardot host.
        pub fn pardot_host(host: PardotHost) => pardot_host = host;

        /// Sets the business unit.
        pub fn business_unit(bu: BusinessUnitId) => business_unit = Some(bu);

        /// Keeps tokens in `kind` of store (`PARDOT_AUTH_STORE`; default memory).
        pub fn store(kind: StoreKind) => fleet.store = kind;

        /// The file store's and the host governor's directory (`PARDOT_AUTH_STORE_DIR`; default
        /// [`default_store_dir`], the CLI's).
        pub fn store_dir(dir: impl Into<PathBuf>) => fleet.store_dir = Some(dir.into());

        /// The Redis server of the `redis` store and governor (`PARDOT_AUTH_REDIS_URL`).
        pub fn redis_url(url: RedisUrl) => fleet.redis_url = Some(url);

        /// Holds the request limits in `kind` of governor (`PARDOT_AUTH_GOVERNOR`; default
        /// process).
        pub fn governor(kind: GovernorKind) => fleet.governor = kind;

        /// Refuses to send more than `budget` requests a day (`PARDOT_AUTH_DAILY_BUDGET`).
        pub fn daily_budget(budget: u64) => fleet.daily_budget = Some(budget);

        /// The account's UTC offset, where the budget's day starts (`PARDOT_AUTH_DAY_OFFSET`).
        pub fn day_offset(offset: DayOffset) => fleet.day_offset = offset;

        /// The prefix of every Redis name (`PARDOT_AUTH_REDIS_PREFIX`; default `pardot-auth`).
        pub fn redis_prefix(prefix: impl Into<String>) =>
            fleet.redis_prefix = Some(prefix.into());

        /// What the `redis` governor does when Redis fails (`PARDOT_AUTH_REDIS_ON_FAILURE`).
        pub fn redis_on_failure(policy: FailurePolicy) => fleet.redis_on_failure = policy;

        /// Seals token records at rest in the file and Redis stores
        /// (`PARDOT_AUTH_STORE_ENCRYPTION_KEY`). This is a secret key;
        /// [`store_key`](Self::store_key) is the record's name.
        pub fn store_encryption_key(key: EncryptionKey) =>
            fleet.store_encryption_key = Some(key);
    }

    /// The directory of the file store and the host governor: `PARDOT_AUTH_STORE_DIR`, else
    /// [`default_store_dir`].
    pub fn effective_store_dir(&self) -> Result<PathBuf, ConfigError> {
        self.fleet
            .store_dir
            .clone()
            .or_else(default_store_dir)
            .ok_or(ConfigError::Needs {
                variable: "PARDOT_AUTH_STORE_DIR",
                setting: "a file store or host governor (XDG_CACHE_HOME, LOCALAPPDATA and HOME are unset)",
            })
    }

    /// Refuses a combination of settings that cannot work: a `redis` store or governor
    /// without `PARDOT_AUTH_REDIS_URL`, or in a build without the `redis` feature, or a bad
    /// Redis prefix. [`Config::from_env`] and `connect` check it.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.fleet.check(cfg!(feature = "redis"))
    }

    /// The name a token store keeps this credential's record under (not a secret, and not
    /// the [store encryption key](Self::store_encryption_key)): a readable part and a hash of
    /// everything that names the credential (flow family, login or Pardot host, consumer
    /// key, user), so changing any of them never picks up another credential's token.
    ///
    /// The web, device and refresh flows of one app on one login host share a key (they share
    /// a refresh token: `pardot-auth login web` serves a later `refresh` run or `connect`);
    /// JWT and password keys also name the user. Readable parts: `sf-{username}`,
    /// `sf-{consumer key prefix}`, `cc-…`, `legacy-{email}`, `mci-{service account}`, with
    /// characters a store key cannot hold replaced by `_`; then `-` and 16 hex digits.
    pub fn store_key(&self) -> String {
        let login = |l: &LoginHost| l.base_url().trim_end_matches('/').to_owned();
        let short = |s: &str| s.chars().take(24).collect::<String>();
        let (readable, identity) = match &self.flow {
            FlowConfig::JwtBearer {
                login: l,
                client_id,
                username,
                ..
            }
            | FlowConfig::Password {
                login: l,
                client_id,
                username,
                ..
            } => (
                format!("sf-{username}"),
                format!("sf|{}|{client_id}|{username}", login(l)),
            ),
            FlowConfig::WebServer {
                login: l,
                client_id,
                ..
            }
            | FlowConfig::RefreshToken {
                login: l,
                client_id,
                ..
            }
            | FlowConfig::Device {
                login: l,
                client_id,
                ..
            } => (
                format!("sf-{}", short(client_id)),
                format!("sf|{}|{client_id}", login(l)),
            ),
            FlowConfig::ClientCredentials {
                login: l,
                client_id,
                ..
            } => (
                format!("cc-{}", short(client_id)),
                format!("cc|{}|{client_id}", login(l)),
            ),
            FlowConfig::Legacy { email, .. } => (
                format!("legacy-{email}"),
                format!("legacy|{}|{email}", self.pardot_host.base_url()),
            ),
            FlowConfig::Mci {
                service_account_id,
                discovery_url,
                ..
            } => (
                format!("mci-{}", short(service_account_id)),
                format!("mci|{discovery_url}|{service_account_id}"),
            ),
        };
        let readable: String = readable
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        format!("{readable}-{:016x}", fnv1a(identity.as_bytes()))
    }
}

/// The token store directory used when `PARDOT_AUTH_STORE_DIR` is not set, by the CLI and by
/// `connect`: `$XDG_CACHE_HOME/pardot-auth`, else `%LOCALAPPDATA%\pardot-auth`, else
/// `~/.cache/pardot-auth`; `None` when none of these variables is set.
pub fn default_store_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("pardot-auth"))
}

/// 64-bit FNV-1a: a stable hash (the store keys it makes must not change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
