//! [`MemoryStore`]: the default store, in this process only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{StoreError, StoreLease, StoredToken, TokenStore, check_key};

/// Keeps records in memory. Clones share the same records and locks, so several caches given
/// one `MemoryStore` share one token and one refresh.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    records: Mutex<HashMap<String, StoredToken>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &lock(&self.inner.records).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is a single insert/remove, so a panic elsewhere cannot
    // leave the map half-changed; a poisoned lock is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        check_key(key)?;
        Ok(lock(&self.inner.records).get(key).cloned())
    }

    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        check_key(key)?;
        lock(&self.inner.records).insert(key.to_owned(), record.clone());
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        lock(&self.inner.records).remove(key);
        Ok(())
    }

    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError> {
        check_key(key)?;
        let mutex = lock(&self.inner.locks)
            .entry(key.to_owned())
            .or_default()
            .clone();
        match tokio::time::timeout(wait, mutex.lock_owned()).await {
            Ok(guard) => Ok(StoreLease::new(guard)),
            Err(_) => Err(StoreError::LockTimeout {
                key: key.to_owned(),
                waited: wait,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn lease_is_exclusive_until_dropped() {
        let store = MemoryStore::new();
        let lease = store.lock("k", Duration::from_secs(1)).await.unwrap();
        let err = store.lock("k", Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, StoreError::LockTimeout { .. }));
        // Other keys are independent.
        let _other = store.lock("j", Duration::from_secs(1)).await.unwrap();
        drop(lease);
        let _again = store.lock("k", Duration::from_secs(1)).await.unwrap();
    }

    #[tokio::test]
    async fn clones_share_records() {
        let a = MemoryStore::new();
        let b = a.clone();
        a.save("k", &StoredToken::refresh_only("rt".into()))
            .await
            .unwrap();
        assert!(b.load("k").await.unwrap().is_some());
        b.remove("k").await.unwrap();
        assert!(a.load("k").await.unwrap().is_none());
        assert!(a.load("../etc").await.is_err());
    }
}
