//! Reading a [`Config`] from the environment, a `.env` file or any lookup: the variables of
//! each flow, the hosts and the business unit, and the errors that name the variable.

use pardot_auth_core::secrecy::SecretString;
use pardot_auth_core::url::Url;
use pardot_auth_core::{
    ALLOW_INSECURE_HTTP_ENV, BusinessUnitId, InsecureHttp, LoginHost, PardotHost,
    ensure_secure_with,
};

use super::{Config, ConfigError, DEFAULT_REDIRECT_URI, FleetConfig, Flow, FlowConfig};

impl Config {
    /// Reads the configuration from the environment, after loading a `.env` file from the
    /// current directory or its parents if there is one (variables already set win).
    ///
    /// Variables: `PARDOT_AUTH_FLOW` (`jwt|password|web|refresh|client-credentials|device|legacy|mci`;
    /// `_` for `-` and the grants' names such as `refresh_token` accepted too),
    /// `SF_LOGIN_URL` (default `https://login.salesforce.com`; `sandbox`/`production` accepted),
    /// `SF_CLIENT_ID`, `SF_CLIENT_SECRET`, `SF_USERNAME`, `SF_PASSWORD`, `SF_SECURITY_TOKEN`
    /// (appended to `SF_PASSWORD` unless it already ends with it), `SF_PRIVATE_KEY_FILE`,
    /// `SF_REDIRECT_URI` (default `http://localhost:7777/callback`), `SF_REFRESH_TOKEN`,
    /// `PARDOT_URL` (default `https://pi.pardot.com`), `PARDOT_BUSINESS_UNIT_ID`,
    /// `PARDOT_EMAIL`, `PARDOT_PASSWORD`, `PARDOT_USER_KEY`, `MCI_SERVICE_ACCOUNT_ID`,
    /// `MCI_DISCOVERY_URL`, `MCI_PRIVATE_KEY_FILE`. Variables the chosen flow does not use
    /// are ignored. The names used before, `SF_LOGIN_HOST` and `PARDOT_HOST`, still work with a
    /// WARN; setting both a name and its old one is [`ConfigError::RenamedTwice`].
    ///
    /// Store and governor: `PARDOT_AUTH_STORE` (`memory|file|redis`, default `memory`),
    /// `PARDOT_AUTH_STORE_DIR`, `PARDOT_AUTH_REDIS_URL`, `PARDOT_AUTH_GOVERNOR`
    /// (`process|host|redis`, default `process`), `PARDOT_AUTH_DAILY_BUDGET`,
    /// `PARDOT_AUTH_DAY_OFFSET` (`±HH:MM`), `PARDOT_AUTH_REDIS_PREFIX`,
    /// `PARDOT_AUTH_REDIS_ON_FAILURE` (`fail_closed|fail_open`),
    /// `PARDOT_AUTH_STORE_ENCRYPTION_KEY` (32 bytes as 64 hex digits or base64).
    ///
    /// Tests against a mock reached by name: `PARDOT_AUTH_ALLOW_INSECURE_HTTP=1` lets
    /// `SF_LOGIN_URL`, `PARDOT_URL` and `MCI_DISCOVERY_URL` be plain `http` to any host
    /// (logged as a WARN each time; never for real credentials).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(|_| None)
    }

    /// Like [`Config::from_env`], with `first` consulted before the environment and `.env`
    /// (command-line flags, say): a `Some` from it wins.
    pub fn from_env_with(first: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // A missing .env file is the normal case; a malformed one is reported.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(dotenv_error(&e)),
        }
        Self::from_lookup(|name| first(name).or_else(|| std::env::var(name).ok()))
    }

    /// Like [`Config::from_env`], reading variables through `lookup` (tests, other sources).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup: &lookup };
        let flow_name = vars.get("PARDOT_AUTH_FLOW").ok_or(ConfigError::NoFlow)?;
        let flow = Flow::parse(&flow_name)?;
        let insecure_http =
            InsecureHttp::from_env_value(vars.get(ALLOW_INSECURE_HTTP_ENV).as_deref());
        let need = |variable: &'static str, what: &'static str| {
            vars.get(variable).ok_or(ConfigError::Missing {
                variable,
                flow,
                what,
            })
        };
        let login_url = || vars.get_renamed("SF_LOGIN_URL", "SF_LOGIN_HOST");
        let parse_login = |text: String| {
            LoginHost::parse_with(&text, insecure_http).map_err(|e| ConfigError::Invalid {
                variable: "SF_LOGIN_URL",
                reason: e.to_string(),
            })
        };
        let login = || -> Result<LoginHost, ConfigError> {
            login_url()?.map_or(Ok(LoginHost::Production), parse_login)
        };
        let secret = |variable: &'static str, what: &'static str| {
            need(variable, what).map(SecretString::from)
        };
        let optional_secret = |variable: &'static str| vars.get(variable).map(SecretString::from);
        let client_id = || need("SF_CLIENT_ID", "the connected app's consumer key");
        let url = |variable: &'static str, text: String| {
            Url::parse(&text).map_err(|e| ConfigError::Invalid {
                variable,
                reason: format!("`{text}` is not a URL: {e}"),
            })
        };

        let flow_config = match flow {
            Flow::JwtBearer => FlowConfig::JwtBearer {
                login: login()?,
                client_id: client_id()?,
                username: need("SF_USERNAME", "the Salesforce username to act as")?,
                private_key_file: need(
                    "SF_PRIVATE_KEY_FILE",
                    "path of the PEM private key matching the app's certificate",
                )?
                .into(),
            },
            Flow::Password => FlowConfig::Password {
                login: login()?,
                client_id: client_id()?,
                client_secret: secret("SF_CLIENT_SECRET", "the connected app's consumer secret")?,
                username: need("SF_USERNAME", "the Salesforce username")?,
                password: with_security_token(
                    need(
                        "SF_PASSWORD",
                        "the password, with or without its security token",
                    )?,
                    vars.get("SF_SECURITY_TOKEN"),
                ),
            },
            Flow::WebServer => FlowConfig::WebServer {
                login: login()?,
                client_id: client_id()?,
                client_secret: optional_secret("SF_CLIENT_SECRET"),
                redirect_uri: url(
                    "SF_REDIRECT_URI",
                    vars.get("SF_REDIRECT_URI")
                        .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned()),
                )?,
            },
            Flow::RefreshToken => FlowConfig::RefreshToken {
                login: login()?,
                client_id: client_id()?,
                client_secret: optional_secret("SF_CLIENT_SECRET"),
                refresh_token: secret("SF_REFRESH_TOKEN", "the refresh token to exchange")?,
            },
            Flow::ClientCredentials => {
                let login = match login_url()? {
                    None => {
                        return Err(ConfigError::Missing {
                            variable: "SF_LOGIN_URL",
                            flow,
                            what: "the org's My Domain URL; client credentials do not work on login.salesforce.com",
                        });
                    }
                    Some(text) => parse_login(text)?,
                };
                if matches!(login, LoginHost::Production | LoginHost::Sandbox) {
                    return Err(ConfigError::Invalid {
                        variable: "SF_LOGIN_URL",
                        reason: format!(
                            "the client credentials flow needs the org's My Domain URL (https://NAME.my.salesforce.com), not {login}"
                        ),
                    });
                }
                FlowConfig::ClientCredentials {
                    login,
                    client_id: client_id()?,
                    client_secret: secret(
                        "SF_CLIENT_SECRET",
                        "the connected app's consumer secret",
                    )?,
                }
            }
            Flow::Device => FlowConfig::Device {
                login: login()?,
                client_id: client_id()?,
                client_secret: optional_secret("SF_CLIENT_SECRET"),
            },
            Flow::Legacy => FlowConfig::Legacy {
                email: need("PARDOT_EMAIL", "the Pardot user's email")?,
                password: secret("PARDOT_PASSWORD", "the Pardot user's password")?,
                user_key: secret("PARDOT_USER_KEY", "the account's 32-character user key")?,
            },
            Flow::Mci => FlowConfig::Mci {
                service_account_id: need("MCI_SERVICE_ACCOUNT_ID", "the service account id")?,
                discovery_url: url(
                    "MCI_DISCOVERY_URL",
                    need(
                        "MCI_DISCOVERY_URL",
                        "the service account's discovery endpoint",
                    )?,
                )
                .and_then(|discovery| {
                    // Opted in here, so the flow's own check before discovery passes; without
                    // the opt-in the flow refuses plain http as before.
                    if insecure_http == InsecureHttp::Allow {
                        ensure_secure_with(&discovery, insecure_http).map_err(|e| {
                            ConfigError::Invalid {
                                variable: "MCI_DISCOVERY_URL",
                                reason: e.to_string(),
                            }
                        })?;
                    }
                    Ok(discovery)
                })?,
                private_key_file: need(
                    "MCI_PRIVATE_KEY_FILE",
                    "path of the service account's PEM private key",
                )?
                .into(),
            },
        };

        let pardot_host = match vars.get_renamed("PARDOT_URL", "PARDOT_HOST")? {
            None => PardotHost::Production,
            Some(text) => {
                PardotHost::parse_with(&text, insecure_http).map_err(|e| ConfigError::Invalid {
                    variable: "PARDOT_URL",
                    reason: e.to_string(),
                })?
            }
        };
        let business_unit = match vars.get("PARDOT_BUSINESS_UNIT_ID") {
            None if matches!(flow, Flow::Legacy | Flow::Mci) => None,
            None => {
                return Err(ConfigError::Missing {
                    variable: "PARDOT_BUSINESS_UNIT_ID",
                    flow,
                    what: "the 18-character id starting with 0Uv, from Setup > Account Engagement > Business Unit Setup",
                });
            }
            Some(text) => Some(
                BusinessUnitId::parse(&text).map_err(|e| ConfigError::Invalid {
                    variable: "PARDOT_BUSINESS_UNIT_ID",
                    reason: e.to_string(),
                })?,
            ),
        };
        let config = Self {
            flow: flow_config,
            pardot_host,
            business_unit,
            fleet: FleetConfig::read(&vars)?,
            insecure_http,
        };
        config.check()?;
        Ok(config)
    }
}

/// Reads variables, treating an empty value as unset (a blank line in `.env` is not a value).
pub(super) struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// A renamed variable: `name`, or else its `deprecated` name with a WARN naming the new
    /// one (the examples once used the old names); both set is an error.
    fn get_renamed(
        &self,
        name: &'static str,
        deprecated: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        match (self.get(name), self.get(deprecated)) {
            (Some(_), Some(_)) => Err(ConfigError::RenamedTwice {
                variable: name,
                deprecated,
            }),
            (None, Some(value)) => {
                tracing::warn!("{deprecated} is deprecated: name it {name}");
                Ok(Some(value))
            }
            (value, None) => Ok(value),
        }
    }
}

/// The password the password flow sends: Salesforce wants the user's security token appended
/// to the password (unless the org trusts the caller's IP). `SF_SECURITY_TOKEN` is appended
/// unless `SF_PASSWORD` already ends with it, so a password set the old way, token included,
/// keeps working.
fn with_security_token(password: String, security_token: Option<String>) -> SecretString {
    match security_token {
        Some(token) if !password.ends_with(token.trim()) => {
            SecretString::from(format!("{password}{}", token.trim()))
        }
        _ => SecretString::from(password),
    }
}

/// A malformed `.env`, reported without the line's text: dotenvy's own message quotes the
/// whole line (and, for an unclosed quote, the rest of the file), which holds secrets.
pub(super) fn dotenv_error(e: &dotenvy::Error) -> ConfigError {
    let reason = match e {
        dotenvy::Error::LineParse(line, index) => {
            let line = line.trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let name = line.split('=').next().map(str::trim).filter(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            match name {
                Some(name) => format!(
                    "the line setting {name} cannot be parsed (at character {index}; its value is \
                     not shown: check its quotes)"
                ),
                None => {
                    format!("a line cannot be parsed (at character {index}; its text is not shown)")
                }
            }
        }
        other => other.to_string(),
    };
    ConfigError::Invalid {
        variable: ".env",
        reason,
    }
}
