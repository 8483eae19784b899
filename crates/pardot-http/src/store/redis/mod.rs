//! [`RedisTokenStore`]: one token and one refresh for every process on every machine.

mod connection;
mod newest;
#[cfg(test)]
mod tests;

use std::time::Duration;

use redis::Script;

pub use connection::RedisConnection;
use newest::NewestRecords;

use super::record;
use super::{
    EncryptionKey, StoreError, StoreLease, StoredToken, TokenStore, check_key, check_prefix,
};

/// The lease's default lifetime: longer than the cache's default fetch timeout (60 s), so a
/// live holder keeps it, and short enough that a crashed one blocks others only this long.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(75);

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "pardot-auth";

/// Takes the lease (`SET NX PX`, expiring on Redis's clock) and, if taken, the next fence.
/// Returns `{fence, 0}`, or `{0, milliseconds the current lease still has}`.
const LOCK: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {redis.call('INCR', KEYS[2]), 0}
end
return {0, redis.call('PTTL', KEYS[1])}
";

/// Lets go of the lease if this holder still has it, and wakes the waiters.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
end
return 0
";

/// Writes the record (checking the fence when one is given, and refusing to replace a record
/// sealed with another key), bumps the revision and wakes the waiters, in one step.
/// Returns `{'ok', revision}`, `{'stale', newest fence}` or `{'wrongkey', 0}`.
const SAVE: &str = r"
if ARGV[1] ~= '' then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if current ~= tonumber(ARGV[1]) then return {'stale', current} end
end
local check = redis.call('HGET', KEYS[1], 'key_check')
if check and check ~= '' and check ~= ARGV[3] then return {'wrongkey', 0} end
local revision = redis.call('HINCRBY', KEYS[1], 'revision', 1)
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'data', 'key_check')
else
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'key_check', ARGV[3])
end
redis.call('PUBLISH', ARGV[4], revision)
return {'ok', revision}
";

/// Replaces a clear record by its sealed form if it is still the one read.
const UPGRADE: &str = r"
if redis.call('HGET', KEYS[1], 'data') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'key_check', ARGV[3])
  return 1
end
return 0
";

/// Keeps each key's record in Redis, shared by every process on every machine that uses the
/// same Redis and prefix.
///
/// Per store key `K`, under the prefix `P`, all in one Redis Cluster slot (hash tag `{P:K}`;
/// names are the prefix and the store key, never a secret):
///
/// - `{P:K}:record`, a hash: `data` (the record: access token and refresh token together, in
///   clear JSON or sealed with the [`EncryptionKey`]), `revision`, `key_check`. Every write is
///   one Lua script, so the access token and the refresh token it came with land together.
/// - `{P:K}:lease`: the refresh lease, `SET NX PX` with a random holder id; it expires on
///   Redis's clock, so a crashed holder blocks others at most the lease's lifetime, whatever
///   the callers' clocks say.
/// - `{P:K}:fence`: the fencing counter, `INCR`ed with every lease taken. A save under a lease
///   whose fence is no longer the newest is refused ([`StoreError::StaleLease`]).
/// - `{P:K}:changed`: the pub/sub channel every write and every release publishes on; waiters
///   for the lease or for a change subscribe to it, with a bounded wait.
///
/// After Redis lost writes (restarted without persistence, or away when a save was due), the
/// first holder of a lease whose handle knows a newer record than Redis's (by revision)
/// writes it back under that lease, so a rotated refresh token is not lost.
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: RedisConnection,
    prefix: String,
    lease_ttl: Duration,
    key: Option<EncryptionKey>,
    newest: NewestRecords,
}

pardot_auth_core::debug_shows!(
    RedisTokenStore as this,
    complete {
        url: this.connection.url(),
        prefix: this.prefix,
        lease_ttl: this.lease_ttl,
        encrypted: this.key.is_some(),
    }
);

/// The Redis names of one store key.
struct Names {
    record: String,
    lease: String,
    fence: String,
    channel: String,
}

impl RedisTokenStore {
    /// A store on `connection` under the default prefix, with the default lease lifetime and
    /// no encryption.
    pub fn new(connection: RedisConnection) -> Self {
        Self {
            connection,
            prefix: DEFAULT_PREFIX.to_owned(),
            lease_ttl: DEFAULT_LEASE_TTL,
            key: None,
            newest: NewestRecords::default(),
        }
    }

    /// Connects to `url` (see [`RedisConnection::open`]) and makes a store on it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(Self::new(RedisConnection::open(url).await?))
    }

    /// Puts every name under `prefix` (1 to 64 of letters, digits, `-`, `_`, `.`, `:`;
    /// default `pardot-auth`), so several applications can share one Redis.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self, StoreError> {
        let prefix = prefix.into();
        check_prefix(&prefix)?;
        self.prefix = prefix;
        Ok(self)
    }

    pardot_auth_core::builder_setters! {
        /// How long a lease lives unless let go first (default 75 s, `DEFAULT_LEASE_TTL`; keep it
        /// longer than the cache's fetch timeout). Taken as at least 1 ms.
        pub fn with_lease_ttl(ttl: Duration) => lease_ttl = ttl.max(Duration::from_millis(1));

        /// Seals every record written from now on with `key`; a record found in clear is
        /// rewritten sealed when read, and a sealed record that `key` does not open is an error
        /// (and is never overwritten).
        pub fn with_encryption_key(key: EncryptionKey) => key = Some(key);
    }

    /// The connection.
    pub fn connection(&self) -> &RedisConnection {
        &self.connection
    }

    fn names(&self, key: &str) -> Result<Names, StoreError> {
        check_key(key)?;
        let family = format!("{{{}:{key}}}", self.prefix);
        Ok(Names {
            record: format!("{family}:record"),
            lease: format!("{family}:lease"),
            fence: format!("{family}:fence"),
            channel: format!("{family}:changed"),
        })
    }

    async fn write(
        &self,
        key: &str,
        record: Option<&StoredToken>,
        fence: Option<u64>,
    ) -> Result<(), StoreError> {
        let names = self.names(key)?;
        let data = match record {
            // The revision lives in the hash; the one inside the data is not read.
            Some(record) => record::encode(record, 0, self.key.as_ref(), key)?,
            None => Vec::new(),
        };
        let check = self.key.as_ref().map_or("", |k| k.check());
        let fence_arg = &fence.map(|f| f.to_string()).unwrap_or_default();
        let (names, data) = (&names, &data);
        let saved = self
            .connection
            .query(move |mut m| async move {
                Script::new(SAVE)
                    .key(&names.record)
                    .key(&names.fence)
                    .arg(fence_arg)
                    .arg(data)
                    .arg(check)
                    .arg(&names.channel)
                    .invoke_async(&mut m)
                    .await
            })
            .await;
        let (outcome, number): (String, u64) = saved.inspect_err(|_| {
            if let Some(record) = record {
                self.newest.not_saved(key, record);
            }
        })?;
        match outcome.as_str() {
            "ok" => {
                match record {
                    Some(record) => self.newest.seen(key, number, record),
                    None => self.newest.forget(key),
                }
                Ok(())
            }
            "stale" => Err(StoreError::StaleLease {
                key: key.to_owned(),
                fence: fence.unwrap_or_default(),
                current: number,
            }),
            _ => Err(StoreError::Undecryptable {
                key: key.to_owned(),
                reason: "the stored record is sealed with another key than the configured one"
                    .to_owned(),
            }),
        }
    }
}

impl RedisTokenStore {
    /// Under a just-taken `lease`: if Redis holds an older revision of the key than this
    /// handle wrote or read (Redis lost writes), writes the newer record back, fenced.
    async fn write_back_if_lost(&self, lease: &StoreLease) -> Result<(), StoreError> {
        let key = lease.key();
        let stored = self.revision(key).await?;
        let Some(record) = self.newest.newer_than(key, stored) else {
            return Ok(());
        };
        self.save_fenced(lease, &record).await?;
        tracing::warn!(
            key,
            stored_revision = stored,
            "the token store held an older record than this process last saw (Redis lost writes); wrote the newer one back"
        );
        Ok(())
    }
}

/// Lets go of a Redis lease when dropped (on the runtime it was taken on; if there is none any
/// more, the lease simply expires).
struct RedisLease {
    connection: RedisConnection,
    lease: String,
    channel: String,
    holder: String,
}

/// How long an explicit [`TokenStore::release`] waits for Redis before leaving the lease to
/// expire.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

impl RedisLease {
    /// Runs the release script and waits for it (at most `RELEASE_WAIT`); the drop that
    /// follows then has nothing left to let go of.
    async fn release(mut self) {
        let (lease, holder, channel) = (
            std::mem::take(&mut self.lease),
            std::mem::take(&mut self.holder),
            std::mem::take(&mut self.channel),
        );
        let (lease, holder, channel) = (&lease, &holder, &channel);
        let ran = tokio::time::timeout(
            RELEASE_WAIT,
            self.connection.query(move |mut m| async move {
                Script::new(RELEASE)
                    .key(lease)
                    .arg(holder)
                    .arg(channel)
                    .invoke_async::<redis::Value>(&mut m)
                    .await
            }),
        )
        .await;
        match ran {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "a lease release failed; the lease will expire")
            }
            Err(_) => tracing::debug!("a lease release timed out; the lease will expire"),
        }
    }
}

impl Drop for RedisLease {
    fn drop(&mut self) {
        if self.lease.is_empty() {
            return; // released explicitly
        }
        let args = [
            std::mem::take(&mut self.holder),
            std::mem::take(&mut self.channel),
        ];
        self.connection
            .run_detached(RELEASE, std::mem::take(&mut self.lease), args);
    }
}

#[async_trait::async_trait]
impl TokenStore for RedisTokenStore {
    async fn release(&self, lease: StoreLease) {
        match lease.into_guard::<RedisLease>() {
            Ok(guard) => guard.release().await,
            Err(other) => drop(other),
        }
    }

    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        let names = self.names(key)?;
        let mut manager = self.connection.manager();
        let record_name = &names.record;
        let (data, revision): (Option<Vec<u8>>, Option<u64>) = self
            .connection
            .query(move |mut m| async move {
                redis::cmd("HMGET")
                    .arg(record_name)
                    .arg("data")
                    .arg("revision")
                    .query_async(&mut m)
                    .await
            })
            .await?;
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        let decoded = record::decode(&data, self.key.as_ref(), key, &names.record)?;
        self.newest
            .seen(key, revision.unwrap_or(0), &decoded.record);
        if let (true, Some(cipher)) = (decoded.was_clear, &self.key) {
            let sealed = record::encode(&decoded.record, 0, Some(cipher), key)?;
            let upgraded: i64 = Script::new(UPGRADE)
                .key(&names.record)
                .arg(&data)
                .arg(sealed)
                .arg(cipher.check())
                .invoke_async(&mut manager)
                .await
                .map_err(|e| self.connection.error(&e))?;
            if upgraded == 1 {
                tracing::info!(key, "a token record found in clear was rewritten encrypted");
            }
        }
        Ok(Some(decoded.record))
    }

    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        self.write(key, Some(record), None).await
    }

    async fn save_fenced(
        &self,
        lease: &StoreLease,
        record: &StoredToken,
    ) -> Result<(), StoreError> {
        self.write(lease.key(), Some(record), Some(lease.fence()))
            .await
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.write(key, None, None).await
    }

    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError> {
        let names = self.names(key)?;
        let holder = uuid::Uuid::new_v4().to_string();
        let ttl_ms = u64::try_from(self.lease_ttl.as_millis()).unwrap_or(u64::MAX);
        let deadline = tokio::time::Instant::now() + wait;
        let (lease_name, fence_name, holder_id) = (&names.lease, &names.fence, &holder);
        let try_take = async || -> Result<(u64, u64), StoreError> {
            self.connection
                .query(move |mut m| async move {
                    Script::new(LOCK)
                        .key(lease_name)
                        .key(fence_name)
                        .arg(holder_id)
                        .arg(ttl_ms)
                        .invoke_async(&mut m)
                        .await
                })
                .await
        };
        let mut taken = try_take().await?;
        while taken.0 == 0 {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::LockTimeout {
                    key: key.to_owned(),
                    waited: wait,
                });
            }
            // Woken by a release or a write; else when the holder's lease runs out (it may
            // have crashed). The extra millisecond covers PTTL's rounding.
            let until_expiry = Duration::from_millis(taken.1.saturating_add(1));
            let mut again = None;
            self.connection
                .wait_on(
                    &names.channel,
                    until_expiry.min(deadline - now),
                    async || {
                        // Retried once subscribed, so a release in between is not missed.
                        let t = try_take().await?;
                        let done = t.0 != 0;
                        again = Some(t);
                        Ok(done)
                    },
                )
                .await?;
            taken = match again {
                Some(t) if t.0 != 0 => t,
                _ => try_take().await?,
            };
        }
        let guard = RedisLease {
            connection: self.connection.clone(),
            lease: names.lease,
            channel: names.channel,
            holder,
        };
        let lease = StoreLease::new(key, taken.0, guard);
        self.write_back_if_lost(&lease).await?;
        Ok(lease)
    }

    async fn revision(&self, key: &str) -> Result<u64, StoreError> {
        let names = self.names(key)?;
        let record_name = &names.record;
        let revision: Option<u64> = self
            .connection
            .query(move |mut m| async move {
                redis::cmd("HGET")
                    .arg(record_name)
                    .arg("revision")
                    .query_async(&mut m)
                    .await
            })
            .await?;
        Ok(revision.unwrap_or(0))
    }

    async fn changed(&self, key: &str, since: u64, timeout: Duration) -> Result<u64, StoreError> {
        let names = self.names(key)?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut now_revision = since;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            self.connection
                .wait_on(&names.channel, remaining, async || {
                    now_revision = self.revision(key).await?;
                    Ok(now_revision != since)
                })
                .await?;
            if now_revision == since {
                now_revision = self.revision(key).await?;
            }
            if now_revision != since || tokio::time::Instant::now() >= deadline {
                return Ok(now_revision);
            }
        }
    }
}
