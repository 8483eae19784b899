//! Token stores: where a [`CachedTokenSource`](crate::CachedTokenSource) keeps its token and
//! the latest refresh token, so they survive a restart and can be shared.
//!
//! - [`MemoryStore`] (the default): one process; several caches sharing one store share one
//!   token and one refresh.
//! - [`FileStore`]: one JSON file per key, `0600`, written atomically (temp file + rename), with
//!   an OS file lock, so several processes on one machine share one token and one refresh.
//!
//! A store is an async trait with a lock/lease notion so a networked store (Redis, in a later
//! release) fits the same cache: the cache takes the lease, re-reads the store (another process
//! may have refreshed meanwhile), fetches only if it still has to, saves, and lets go.

mod file;
mod memory;

use std::any::Any;
use std::fmt;
use std::time::Duration;

use pardot_auth_core::{AccessToken, ErrorClass};
use secrecy::SecretString;

pub use file::FileStore;
pub use memory::MemoryStore;

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

/// A held lease on a key of a store: while it lives, no other holder (task or process) gets
/// one for the same key. Dropping it lets go.
#[must_use = "the lease is released as soon as it is dropped"]
pub struct StoreLease {
    _guard: Box<dyn Any + Send + Sync>,
}

impl StoreLease {
    /// A lease released when `guard` is dropped (a file handle holding an OS lock, a mutex
    /// guard, or a value whose `Drop` releases a remote lease).
    pub fn new(guard: impl Any + Send + Sync) -> Self {
        Self {
            _guard: Box::new(guard),
        }
    }
}

impl fmt::Debug for StoreLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreLease")
    }
}

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
}

impl StoreError {
    /// What a caller should do about it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Io { .. } | Self::LockTimeout { .. } => ErrorClass::RETRY,
            Self::Corrupt { .. } | Self::InvalidKey(_) => ErrorClass::CallerBug,
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

    /// Replaces the record under `key`.
    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError>;

    /// Deletes the record under `key` (absent is fine).
    async fn remove(&self, key: &str) -> Result<(), StoreError>;

    /// Takes the exclusive lease on `key`, waiting at most `wait` for it. The cache holds it
    /// while it re-reads, fetches and saves, so across every holder of the store exactly one
    /// refresh happens at a time.
    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError>;
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
