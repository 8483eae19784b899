//! Token stores: where a [`CachedTokenSource`](crate::CachedTokenSource) keeps its token and
//! the latest refresh token, so they survive a restart and can be shared.
//!
//! - [`MemoryStore`] (the default): one process; several caches sharing one store share one
//!   token and one refresh.
//! - [`FileStore`]: one JSON file per key, `0600`, written atomically (temp file + rename), with
//!   an OS file lock, so several processes on one machine share one token and one refresh.
//! - `RedisTokenStore` (feature `redis`): every process on every machine sharing one Redis
//!   shares one token and one refresh.
//!
//! The contract, the same for every store: the cache takes the key's *lease* (which carries a
//! *fence*, a number that grows with every lease ever granted on the key), re-reads the store
//! (another holder may have refreshed meanwhile), fetches only if it still has to, and saves
//! with [`TokenStore::save_fenced`], which the store refuses with
//! [`StoreError::StaleLease`] once a newer lease was granted: a holder whose lease expired
//! while it was fetching cannot overwrite a newer token. A record's access token and its
//! (rotated) refresh token are one record, written in one atomic write. Every write bumps the
//! key's *revision*; [`TokenStore::changed`] waits for the next one.
//!
//! With an [`EncryptionKey`], the file and Redis stores seal each record with AES-256-GCM;
//! without one they keep it in clear (see `docs/fleet.md`).

mod file;
mod memory;
mod record;
#[cfg(feature = "redis")]
pub(crate) mod redis;
mod sealed;

use std::any::Any;
use std::fmt;
use std::time::Duration;

use pardot_auth_core::{AccessToken, ErrorClass};
use secrecy::SecretString;

pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_PREFIX, RedisConnection, RedisTokenStore};
pub use sealed::EncryptionKey;

/// What a store keeps under one key: the current access token and the latest refresh token.
///
/// The refresh token is kept even when a newer access token came without one, so a rotated
/// refresh token is never lost and an older one never comes back.
#[derive(Clone, Default)]
pub struct StoredToken {
    /// The current access token, if any.
    pub access: Option<AccessToken>,
    /// The latest refresh token, if any.
    pub refresh_token: Option<SecretString>,
}

impl StoredToken {
    /// A record holding only a refresh token (e.g. one obtained by an interactive code flow),
    /// to seed a store with.
    pub fn refresh_only(refresh_token: SecretString) -> Self {
        Self {
            access: None,
            refresh_token: Some(refresh_token),
        }
    }

    /// The record after `token` was fetched: `token` becomes the access token, and its
    /// refresh token (if it has one) replaces the stored one.
    pub fn updated_with(&self, token: &AccessToken) -> Self {
        Self {
            access: Some(token.clone()),
            refresh_token: token
                .refresh_token()
                .cloned()
                .or_else(|| self.refresh_token.clone()),
        }
    }
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("access", &self.access)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A held lease on a key of a store: while it lives (and, for a store whose leases expire,
/// until it expires), no other holder (task or process) gets one for the same key. Dropping it
/// lets go.
///
/// Its [fence](Self::fence) is the number the store granted it; every later lease on the key
/// gets a larger one, and [`TokenStore::save_fenced`] refuses a save whose fence is no longer
/// the newest.
#[must_use = "the lease is released as soon as it is dropped"]
pub struct StoreLease {
    key: String,
    fence: u64,
    _guard: Box<dyn Any + Send + Sync>,
}

impl StoreLease {
    /// A lease on `key` with `fence`, released when `guard` is dropped (a file handle holding
    /// an OS lock, a mutex guard, or a value whose `Drop` releases a remote lease).
    pub fn new(key: impl Into<String>, fence: u64, guard: impl Any + Send + Sync) -> Self {
        Self {
            key: key.into(),
            fence,
            _guard: Box::new(guard),
        }
    }

    /// The key this lease is on.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fence the store granted this lease.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// The guard a store made this lease with, for a store whose
    /// [`release`](TokenStore::release) lets go more carefully than a drop can; the lease
    /// itself when the guard is of another type.
    pub fn into_guard<T: Any>(self) -> Result<T, Self> {
        let Self { key, fence, _guard } = self;
        match _guard.downcast::<T>() {
            Ok(guard) => Ok(*guard),
            Err(_guard) => Err(Self { key, fence, _guard }),
        }
    }
}

pardot_auth_core::debug_shows!(StoreLease as this {
    key: this.key,
    fence: this.fence,
});

/// A token store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading, writing or locking failed.
    #[error("token store I/O failed on {path}: {source}")]
    Io {
        /// The file (or resource) involved.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The stored record could not be read (corrupt or from an unknown version).
    #[error("the stored token at {path} could not be read: {reason}")]
    Corrupt {
        /// The file (or resource) involved.
        path: String,
        /// Why.
        reason: String,
    },
    /// The lease could not be had in time.
    #[error("the token store's lock on `{key}` was not free within {waited:?}")]
    LockTimeout {
        /// The key.
        key: String,
        /// How long we waited.
        waited: Duration,
    },
    /// A key that the store cannot use.
    #[error("`{0}` is not a valid store key (1 to 100 characters: letters, digits, `-`, `_`, `.`)")]
    InvalidKey(String),
    /// A save under a lease that is no longer the newest on its key: another holder took the
    /// key since (this one's lease expired). Nothing was written.
    #[error(
        "the token store refused a save on `{key}`: its lease (fence {fence}) was superseded by fence {current}"
    )]
    StaleLease {
        /// The key.
        key: String,
        /// The fence of the refused lease.
        fence: u64,
        /// The newest fence granted on the key.
        current: u64,
    },
    /// The stored record is sealed and does not open with the configured encryption key (or
    /// no key is configured). It is left as it is: nothing overwrites it.
    #[error(
        "the stored token `{key}` does not decrypt with the configured encryption key: {reason}"
    )]
    Undecryptable {
        /// The key.
        key: String,
        /// Why (never key material).
        reason: String,
    },
    /// An encryption key that cannot be used (never quoted).
    #[error("the token store encryption key is not usable: {0}")]
    InvalidEncryptionKey(String),
    /// A store address refused by the transport rule: plain `redis://` only to a loopback
    /// address, `rediss://` (TLS) anywhere.
    #[error(
        "refusing the plain-text token store address {url}: use rediss:// (TLS), or redis:// to a loopback address"
    )]
    Insecure {
        /// The address, without its password.
        url: String,
    },
    /// The store's server could not be reached or answered with an error.
    #[error("the token store at {url} failed: {reason}")]
    Unavailable {
        /// The address, without its password.
        url: String,
        /// What failed (never the password).
        reason: String,
    },
}

impl StoreError {
    /// What a caller should do about it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Io { .. }
            | Self::LockTimeout { .. }
            | Self::StaleLease { .. }
            | Self::Unavailable { .. } => ErrorClass::RETRY,
            Self::Corrupt { .. }
            | Self::InvalidKey(_)
            | Self::Undecryptable { .. }
            | Self::InvalidEncryptionKey(_)
            | Self::Insecure { .. } => ErrorClass::CallerBug,
        }
    }
}

impl From<StoreError> for pardot_auth_core::Error {
    fn from(e: StoreError) -> Self {
        let class = e.class();
        pardot_auth_core::Error::new(pardot_auth_core::ErrorKind::Config, class, e.to_string())
            .with_context("token store")
            .with_source(e)
    }
}

/// Where tokens are kept between fetches (and between processes, for shared stores).
///
/// Keys name one credential (one user of one connected app, say); the cache uses
/// `"default"` unless told otherwise.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The record under `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError>;

    /// Replaces the record under `key` without a lease: for seeding a store (a refresh token
    /// from an interactive login) and for tools. A cache saves with
    /// [`save_fenced`](Self::save_fenced).
    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError>;

    /// Replaces the record under `lease`'s key, if `lease` is still the newest lease granted
    /// on it; otherwise refuses with [`StoreError::StaleLease`] and changes nothing. The
    /// record (access token and refresh token together) is written in one atomic write.
    async fn save_fenced(&self, lease: &StoreLease, record: &StoredToken)
    -> Result<(), StoreError>;

    /// Deletes the record under `key` (absent is fine).
    async fn remove(&self, key: &str) -> Result<(), StoreError>;

    /// Takes the exclusive lease on `key`, waiting at most `wait` for it. The cache holds it
    /// while it re-reads, fetches and saves, so across every holder of the store exactly one
    /// refresh happens at a time.
    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError>;

    /// Lets go of `lease` and returns once the store knows (for a networked store: the
    /// release reached the server, within a short bound). Dropping a lease lets go too, but a
    /// remote store can only be told from a background task then, which a program that exits
    /// right after its refresh never runs: the next process would wait for the lease to
    /// expire. The default drops it, which is immediate for the memory and file stores.
    async fn release(&self, lease: StoreLease) {
        drop(lease);
    }

    /// The revision of the record under `key`: 0 when there is none, one more with every
    /// save.
    async fn revision(&self, key: &str) -> Result<u64, StoreError>;

    /// Waits until the revision of `key` differs from `since` or `timeout` passes, and returns
    /// the revision then. A writer wakes the waiters (memory, Redis); the file store polls its
    /// file a few times a second, as files give no portable change notification.
    async fn changed(&self, key: &str, since: u64, timeout: Duration) -> Result<u64, StoreError>;
}

/// Checks a store key: 1..=100 of `[A-Za-z0-9._-]`, not starting with `.`.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && !key.starts_with('.')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey(key.to_owned()))
    }
}

/// Checks a Redis key prefix: 1..=64 of `[A-Za-z0-9._:-]` (no braces: the prefix goes inside
/// the hash tag). Public so that configuration can refuse a bad prefix before connecting.
pub fn check_prefix(prefix: &str) -> Result<(), StoreError> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey(prefix.to_owned()))
    }
}

/// The same contract checks for every store: fencing, revisions and wake-ups.
#[cfg(test)]
pub(crate) mod contract {
    use super::*;

    /// A record holding only the refresh token `rt`.
    pub(crate) fn refresh_only(rt: &str) -> StoredToken {
        StoredToken::refresh_only(rt.into())
    }

    /// A lease's fence grows; a save under a superseded lease is refused and changes nothing;
    /// `changed` returns on the next save.
    pub(crate) async fn fenced_saves_and_revisions(store: &dyn TokenStore) {
        assert_eq!(store.revision("c").await.unwrap(), 0);
        let first = store.lock("c", Duration::from_secs(5)).await.unwrap();
        let stale_fence = first.fence();
        store
            .save_fenced(&first, &refresh_only("rt-1"))
            .await
            .unwrap();
        assert_eq!(store.revision("c").await.unwrap(), 1);
        drop(first);
        let second = store.lock("c", Duration::from_secs(5)).await.unwrap();
        assert!(second.fence() > stale_fence);
        // A holder that still believes in the first lease (its lease expired) is refused.
        let stale = StoreLease::new("c", stale_fence, ());
        let err = store
            .save_fenced(&stale, &refresh_only("rt-stale"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::StaleLease { .. }), "{err}");
        use secrecy::ExposeSecret;
        let kept = store.load("c").await.unwrap().unwrap();
        assert_eq!(kept.refresh_token.unwrap().expose_secret(), "rt-1");
        assert_eq!(store.revision("c").await.unwrap(), 1);
        // Nothing changes: `changed` times out with the same revision.
        assert_eq!(
            store
                .changed("c", 1, Duration::from_millis(30))
                .await
                .unwrap(),
            1
        );
        drop(second);
    }

    /// A store whose key does not open the record under `key` refuses to read it and to
    /// replace it, with or without a lease.
    pub(crate) async fn a_wrong_key_reads_and_writes_nothing(wrong: &dyn TokenStore, key: &str) {
        let err = wrong.load(key).await.unwrap_err();
        assert!(matches!(err, StoreError::Undecryptable { .. }), "{err}");
        let replacement = StoredToken::refresh_only("rt-replacement".into());
        let err = wrong.save(key, &replacement).await.unwrap_err();
        assert!(matches!(err, StoreError::Undecryptable { .. }), "{err}");
        let lease = wrong.lock(key, Duration::from_secs(5)).await.unwrap();
        let err = wrong.save_fenced(&lease, &replacement).await.unwrap_err();
        assert!(matches!(err, StoreError::Undecryptable { .. }), "{err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pardot_auth_core::{Expiry, TokenKind};
    use std::time::SystemTime;

    #[test]
    fn rotated_refresh_tokens_replace_and_missing_ones_keep() {
        let now = SystemTime::now();
        let base = StoredToken::refresh_only("rt-0".into());
        let t1 = AccessToken::new(
            TokenKind::SalesforceBearer,
            "tok-1".into(),
            now,
            Expiry::Estimated(now),
        )
        .with_refresh_token("rt-1".into());
        let r1 = base.updated_with(&t1);
        let t2 = AccessToken::new(
            TokenKind::SalesforceBearer,
            "tok-2".into(),
            now,
            Expiry::Estimated(now),
        );
        let r2 = r1.updated_with(&t2);
        use secrecy::ExposeSecret;
        assert_eq!(r1.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
        assert_eq!(r2.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
        let dbg = format!("{r2:?}");
        assert!(!dbg.contains("rt-1") && !dbg.contains("tok-2"), "{dbg}");
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_key("default").is_ok());
        assert!(check_key("acme.user-1_x").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", &"x".repeat(101)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
