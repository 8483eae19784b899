//! The token store and the governor a [`Config`] names, opened: one Redis connection serves
//! both when both are `redis`.

use std::sync::Arc;

use pardot_http::store::{FileStore, MemoryStore, TokenStore};
use pardot_http::{Governor, PARDOT_CONCURRENCY_LIMIT};

use crate::config::{Config, ConfigError, GovernorKind, StoreKind};
use crate::connect_error::ConnectError;

/// What a configuration's store and governor stand on.
pub(crate) struct Backends {
    #[cfg(feature = "redis")]
    redis: Option<pardot_http::store::RedisConnection>,
}

impl Backends {
    /// Checks the configuration and connects to Redis when the store (unless `store_given`)
    /// or the governor is `redis`, failing with the URL without its password when Redis cannot
    /// be reached.
    pub(crate) async fn open(config: &Config, store_given: bool) -> Result<Self, ConnectError> {
        config.check()?;
        #[cfg(feature = "redis")]
        {
            let fleet = &config.fleet;
            let wanted = (fleet.store == StoreKind::Redis && !store_given)
                || fleet.governor == GovernorKind::Redis;
            let redis = match &fleet.redis_url {
                Some(url) if wanted => {
                    Some(pardot_http::store::RedisConnection::open(url.expose_secret()).await?)
                }
                _ => None,
            };
            Ok(Self { redis })
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = store_given;
            Ok(Self {})
        }
    }

    /// The configured token store, sealed with the store encryption key when one is set.
    pub(crate) fn store(&self, config: &Config) -> Result<Arc<dyn TokenStore>, ConnectError> {
        let fleet = &config.fleet;
        let key = fleet.store_encryption_key.clone();
        Ok(match fleet.store {
            StoreKind::Memory => Arc::new(MemoryStore::new()),
            StoreKind::File => {
                let store = FileStore::new(config.effective_store_dir()?)?;
                Arc::new(match key {
                    Some(key) => store.with_encryption_key(key),
                    None => store,
                })
            }
            StoreKind::Redis => self.redis_store(config)?,
        })
    }

    #[cfg(feature = "redis")]
    fn redis_store(&self, config: &Config) -> Result<Arc<dyn TokenStore>, ConnectError> {
        let fleet = &config.fleet;
        let mut store = pardot_http::store::RedisTokenStore::new(self.redis()?);
        if let Some(prefix) = &fleet.redis_prefix {
            store = store.with_prefix(prefix.as_str())?;
        }
        if let Some(key) = &fleet.store_encryption_key {
            store = store.with_encryption_key(key.clone());
        }
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "redis"))]
    fn redis_store(&self, _config: &Config) -> Result<Arc<dyn TokenStore>, ConnectError> {
        Err(not_built("PARDOT_AUTH_STORE=redis"))
    }

    #[cfg(feature = "redis")]
    fn redis(&self) -> Result<pardot_http::store::RedisConnection, ConfigError> {
        // `Config::check` made sure a URL is there whenever something is `redis`.
        self.redis.clone().ok_or(ConfigError::Needs {
            variable: "PARDOT_AUTH_REDIS_URL",
            setting: "a redis store or governor",
        })
    }

    /// The configured governor, with the budget, day offset and failure policy.
    pub(crate) fn governor(&self, config: &Config) -> Result<Governor, ConnectError> {
        let fleet = &config.fleet;
        let business_unit = |setting: &'static str| {
            config
                .business_unit
                .as_ref()
                .map(|bu| bu.as_str().to_owned())
                .ok_or(ConfigError::Needs {
                    variable: "PARDOT_BUSINESS_UNIT_ID",
                    setting,
                })
        };
        let limit = PARDOT_CONCURRENCY_LIMIT;
        let governor = match fleet.governor {
            GovernorKind::Process => Governor::new(Some(limit)),
            GovernorKind::Host => Governor::host(
                config.effective_store_dir()?,
                &business_unit("PARDOT_AUTH_GOVERNOR=host")?,
                limit,
            )?,
            GovernorKind::Redis => {
                self.redis_governor(config, &business_unit("PARDOT_AUTH_GOVERNOR=redis")?)?
            }
        };
        let governor = match fleet.daily_budget {
            Some(budget) => governor.with_daily_budget(budget),
            None => governor,
        };
        Ok(governor
            .with_day_offset(fleet.day_offset.after_utc_midnight())
            .with_failure_policy(fleet.redis_on_failure))
    }

    #[cfg(feature = "redis")]
    fn redis_governor(
        &self,
        config: &Config,
        business_unit: &str,
    ) -> Result<Governor, ConnectError> {
        let prefix = config
            .fleet
            .redis_prefix
            .as_deref()
            .unwrap_or(pardot_http::store::DEFAULT_PREFIX);
        Ok(Governor::redis(
            self.redis()?,
            prefix,
            business_unit,
            PARDOT_CONCURRENCY_LIMIT,
            pardot_http::DEFAULT_PERMIT_TTL,
        )?)
    }

    #[cfg(not(feature = "redis"))]
    fn redis_governor(
        &self,
        _config: &Config,
        _business_unit: &str,
    ) -> Result<Governor, ConnectError> {
        Err(not_built("PARDOT_AUTH_GOVERNOR=redis"))
    }
}

#[cfg(not(feature = "redis"))]
fn not_built(setting: &'static str) -> ConnectError {
    ConnectError::Config(ConfigError::NotBuiltWith {
        setting,
        feature: "redis",
    })
}
