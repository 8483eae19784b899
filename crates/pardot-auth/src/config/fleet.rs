//! The settings that let many processes share one token, one refresh and one limit: which
//! token store, which governor backend, and what they need (`docs/fleet.md`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use pardot_http::FailurePolicy;
use pardot_http::store::EncryptionKey;

use super::{ConfigError, Vars};

/// Where tokens are kept (`PARDOT_AUTH_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum StoreKind {
    /// `memory`: in this process only (the library's default: it writes no file unless asked).
    #[default]
    Memory,
    /// `file`: one `0600` file per credential in the store directory, shared by the processes
    /// of one machine and with the `pardot-auth` CLI (the CLI's default).
    File,
    /// `redis`: in Redis, shared by every process on every machine (feature `redis`).
    Redis,
}

/// Where the concurrency slots (and, for `redis`, the daily budget) are kept
/// (`PARDOT_AUTH_GOVERNOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum GovernorKind {
    /// `process`: in this process (the default).
    #[default]
    Process,
    /// `host`: OS file locks in the store directory, shared by the processes of one machine.
    Host,
    /// `redis`: leased permits and one budget counter in Redis, shared by every machine
    /// (feature `redis`).
    Redis,
}

/// Parses one of `choices` (a setting's value names), or says which ones there are.
fn choose<T: Copy>(
    variable: &'static str,
    text: &str,
    choices: &[(&'static str, T)],
) -> Result<T, ConfigError> {
    let text = text.trim();
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            ConfigError::Invalid {
                variable,
                reason: format!("`{text}` is not one of {}", names.join(", ")),
            }
        })
}

impl StoreKind {
    const CHOICES: [(&'static str, Self); 3] = [
        ("memory", Self::Memory),
        ("file", Self::File),
        ("redis", Self::Redis),
    ];

    /// Parses `memory`, `file` or `redis`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        choose(STORE, text, &Self::CHOICES)
    }
}

impl GovernorKind {
    const CHOICES: [(&'static str, Self); 3] = [
        ("process", Self::Process),
        ("host", Self::Host),
        ("redis", Self::Redis),
    ];

    /// Parses `process`, `host` or `redis`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        choose(GOVERNOR, text, &Self::CHOICES)
    }
}

/// Parses `fail_closed` or `fail_open` (`PARDOT_AUTH_REDIS_ON_FAILURE`).
fn parse_failure_policy(text: &str) -> Result<FailurePolicy, ConfigError> {
    choose(
        REDIS_ON_FAILURE,
        text,
        &[
            ("fail_closed", FailurePolicy::FailClosed),
            ("fail_open", FailurePolicy::FailOpen),
        ],
    )
}

/// The address of the Redis server (`PARDOT_AUTH_REDIS_URL`): `rediss://` (TLS) anywhere,
/// plain `redis://` to a loopback address, `unix://` for a socket.
///
/// The URL may hold a password: it is kept as a secret, and `Debug`, `Display` and every
/// error show the address without it.
#[derive(Clone)]
pub struct RedisUrl {
    full: SecretString,
    shown: String,
}

impl RedisUrl {
    /// Checks that `text` is a Redis URL. Whether plain text is allowed to its host is
    /// checked when connecting (pardot-http's transport rule).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            variable: REDIS_URL,
            reason,
        };
        // The parser's message never quotes the input, which may be all password.
        let url = Url::parse(text.trim()).map_err(|e| invalid(format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "redis" | "rediss" | "unix" | "redis+unix") {
            return Err(invalid(format!(
                "the scheme `{}` is not rediss://, redis:// or unix://",
                url.scheme()
            )));
        }
        let mut shown = url.clone();
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.set_fragment(None);
        Ok(Self {
            full: SecretString::from(text.trim()),
            shown: shown.to_string(),
        })
    }

    /// The address without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The whole URL, password included: for opening the connection only.
    pub fn expose_secret(&self) -> &str {
        self.full.expose_secret()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl").field(&self.shown).finish()
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The account's offset from UTC (`PARDOT_AUTH_DAY_OFFSET`), for the daily budget: the
/// budget's day starts at the account's local midnight.
///
/// Written `±HH:MM` as in ISO 8601 (`-08:00` for US Pacific Standard Time, `+05:30` for
/// India), from `-12:00` to `+14:00`; the sign is required. The default is UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DayOffset {
    minutes_east: i32,
}

impl DayOffset {
    /// UTC.
    pub const UTC: Self = Self { minutes_east: 0 };

    /// The offset `minutes_east` of UTC (negative west of it), from -720 to +840.
    pub fn from_minutes(minutes_east: i32) -> Result<Self, ConfigError> {
        if (-12 * 60..=14 * 60).contains(&minutes_east) {
            Ok(Self { minutes_east })
        } else {
            Err(ConfigError::Invalid {
                variable: DAY_OFFSET,
                reason: format!(
                    "{minutes_east} minutes is outside UTC-12:00..UTC+14:00, the offsets time zones use"
                ),
            })
        }
    }

    /// Parses `±HH:MM`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let invalid = || ConfigError::Invalid {
            variable: DAY_OFFSET,
            reason: format!("`{text}` is not a UTC offset written ±HH:MM (e.g. -08:00 or +05:30)"),
        };
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(invalid()),
        };
        let (hours, minutes) = rest.split_once(':').ok_or_else(invalid)?;
        let two_digits = |part: &str| {
            (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<i32>().ok())
                .flatten()
        };
        let (Some(hours), Some(minutes)) = (two_digits(hours), two_digits(minutes)) else {
            return Err(invalid());
        };
        if minutes >= 60 {
            return Err(invalid());
        }
        Self::from_minutes(sign * (hours * 60 + minutes))
    }

    /// Minutes east of UTC.
    pub fn minutes_east(self) -> i32 {
        self.minutes_east
    }

    /// How long after midnight UTC the account's day starts, as the governor takes it
    /// (local midnight at UTC-08:00 is 08:00 UTC; at UTC+02:00 it is 22:00 UTC).
    pub fn after_utc_midnight(self) -> Duration {
        let seconds = (-i64::from(self.minutes_east) * 60).rem_euclid(86_400);
        Duration::from_secs(seconds.unsigned_abs())
    }
}

pub(super) const STORE: &str = "PARDOT_AUTH_STORE";
pub(super) const STORE_DIR: &str = "PARDOT_AUTH_STORE_DIR";
pub(super) const REDIS_URL: &str = "PARDOT_AUTH_REDIS_URL";
pub(super) const GOVERNOR: &str = "PARDOT_AUTH_GOVERNOR";
pub(super) const DAILY_BUDGET: &str = "PARDOT_AUTH_DAILY_BUDGET";
pub(super) const DAY_OFFSET: &str = "PARDOT_AUTH_DAY_OFFSET";
pub(super) const REDIS_PREFIX: &str = "PARDOT_AUTH_REDIS_PREFIX";
pub(super) const REDIS_ON_FAILURE: &str = "PARDOT_AUTH_REDIS_ON_FAILURE";
pub(super) const STORE_ENCRYPTION_KEY: &str = "PARDOT_AUTH_STORE_ENCRYPTION_KEY";

/// The store and governor settings of a [`Config`](super::Config): how many processes share
/// one token, one refresh and one limit. Set them with the `Config` setters or the
/// environment; [`Config::check`](super::Config::check) refuses a combination that cannot work.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FleetConfig {
    /// `PARDOT_AUTH_STORE` (default [`StoreKind::Memory`]).
    pub store: StoreKind,
    /// `PARDOT_AUTH_STORE_DIR`: the file store's and the host governor's directory (default:
    /// [`default_store_dir`](super::default_store_dir), the CLI's).
    pub store_dir: Option<PathBuf>,
    /// `PARDOT_AUTH_REDIS_URL`: needed by the `redis` store and governor.
    pub redis_url: Option<RedisUrl>,
    /// `PARDOT_AUTH_GOVERNOR` (default [`GovernorKind::Process`]).
    pub governor: GovernorKind,
    /// `PARDOT_AUTH_DAILY_BUDGET`: requests allowed per day before the client refuses to send
    /// (default: none). Shared by the fleet with the `redis` governor, per process otherwise.
    pub daily_budget: Option<u64>,
    /// `PARDOT_AUTH_DAY_OFFSET`: when the budget's day starts (default UTC).
    pub day_offset: DayOffset,
    /// `PARDOT_AUTH_REDIS_PREFIX`: the prefix of every Redis name (default `pardot-auth`).
    pub redis_prefix: Option<String>,
    /// `PARDOT_AUTH_REDIS_ON_FAILURE`: what the `redis` governor does when Redis fails
    /// (default `fail_closed`).
    pub redis_on_failure: FailurePolicy,
    /// `PARDOT_AUTH_STORE_ENCRYPTION_KEY`: seals the token record at rest in the file and
    /// Redis stores (AES-256-GCM). Not to be confused with
    /// [`Config::store_key`](super::Config::store_key), the record's name.
    pub store_encryption_key: Option<EncryptionKey>,
}

impl FleetConfig {
    /// Reads the settings; each value is checked on its own (combinations by `check`).
    pub(super) fn read(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let parsed = |variable: &'static str| vars.get(variable).map(|text| (variable, text));
        Ok(Self {
            store: parsed(STORE)
                .map(|(_, t)| StoreKind::parse(&t))
                .transpose()?
                .unwrap_or_default(),
            store_dir: vars.get(STORE_DIR).map(PathBuf::from),
            redis_url: parsed(REDIS_URL)
                .map(|(_, t)| RedisUrl::parse(&t))
                .transpose()?,
            governor: parsed(GOVERNOR)
                .map(|(_, t)| GovernorKind::parse(&t))
                .transpose()?
                .unwrap_or_default(),
            daily_budget: parsed(DAILY_BUDGET)
                .map(|(variable, t)| {
                    t.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|b| *b > 0)
                        .ok_or_else(|| ConfigError::Invalid {
                            variable,
                            reason: format!("`{t}` is not a whole number of requests above 0"),
                        })
                })
                .transpose()?,
            day_offset: parsed(DAY_OFFSET)
                .map(|(_, t)| DayOffset::parse(&t))
                .transpose()?
                .unwrap_or_default(),
            redis_prefix: vars.get(REDIS_PREFIX).map(|p| p.trim().to_owned()),
            redis_on_failure: parsed(REDIS_ON_FAILURE)
                .map(|(_, t)| parse_failure_policy(&t))
                .transpose()?
                .unwrap_or_default(),
            store_encryption_key: parsed(STORE_ENCRYPTION_KEY)
                .map(|(variable, t)| {
                    // pardot-http's reasons name the length or encoding, never the key.
                    EncryptionKey::parse(&t).map_err(|e| ConfigError::Invalid {
                        variable,
                        reason: e.to_string(),
                    })
                })
                .transpose()?,
        })
    }

    /// Refuses a combination that cannot work. `redis_built`: whether this build has the
    /// `redis` feature.
    pub(super) fn check(&self, redis_built: bool) -> Result<(), ConfigError> {
        let redis_settings = [
            (self.store == StoreKind::Redis, "PARDOT_AUTH_STORE=redis"),
            (
                self.governor == GovernorKind::Redis,
                "PARDOT_AUTH_GOVERNOR=redis",
            ),
        ];
        for (chosen, setting) in redis_settings {
            if !chosen {
                continue;
            }
            if !redis_built {
                return Err(ConfigError::NotBuiltWith {
                    setting,
                    feature: "redis",
                });
            }
            if self.redis_url.is_none() {
                return Err(ConfigError::Needs {
                    variable: REDIS_URL,
                    setting,
                });
            }
        }
        if let Some(prefix) = &self.redis_prefix {
            pardot_http::store::check_prefix(prefix).map_err(|_| ConfigError::Invalid {
                variable: REDIS_PREFIX,
                reason: format!("`{prefix}` is not 1 to 64 letters, digits, `-`, `_`, `.` or `:`"),
            })?;
        }
        Ok(())
    }
}
