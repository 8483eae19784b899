//! [`MemoryStore`]: the default store, in this process only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::{StoreError, StoreLease, StoredToken, TokenStore, check_key};

/// Keeps records in memory. Clones share the same records and locks, so several caches given
/// one `MemoryStore` share one token and one refresh.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<HashMap<String, Slot>>>,
}

/// Everything about one key.
#[derive(Default)]
struct Slot {
    record: Option<StoredToken>,
    /// The newest fence granted.
    fence: u64,
    /// The record's revision.
    revision: u64,
    /// Wakes the waiters in `changed` with each new revision. Made by the first waiter: most
    /// keys never have one, and a watch channel is larger than the rest of the slot.
    waiters: Option<watch::Sender<u64>>,
    lease: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.slots().values().filter(|s| s.record.is_some()).count();
        f.debug_struct("MemoryStore").field("keys", &keys).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Every update under this lock is a few plain assignments, so a panic elsewhere cannot
        // leave a slot half-changed; a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on `key`'s slot (created if missing).
    fn with_slot<T>(&self, key: &str, f: impl FnOnce(&mut Slot) -> T) -> Result<T, StoreError> {
        check_key(key)?;
        Ok(f(self.slots().entry(key.to_owned()).or_default()))
    }
}

fn replace(slot: &mut Slot, record: Option<StoredToken>) {
    slot.record = record;
    slot.revision += 1;
    if let Some(waiters) = &slot.waiters {
        waiters.send_replace(slot.revision);
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        self.with_slot(key, |s| s.record.clone())
    }

    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        self.with_slot(key, |s| replace(s, Some(record.clone())))
    }

    async fn save_fenced(
        &self,
        lease: &StoreLease,
        record: &StoredToken,
    ) -> Result<(), StoreError> {
        self.with_slot(lease.key(), |s| {
            if s.fence != lease.fence() {
                return Err(StoreError::StaleLease {
                    key: lease.key().to_owned(),
                    fence: lease.fence(),
                    current: s.fence,
                });
            }
            replace(s, Some(record.clone()));
            Ok(())
        })?
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.with_slot(key, |s| {
            if s.record.is_some() {
                replace(s, None);
            }
        })
    }

    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError> {
        let mutex = self.with_slot(key, |s| s.lease.clone())?;
        match tokio::time::timeout(wait, mutex.lock_owned()).await {
            Ok(guard) => {
                let fence = self.with_slot(key, |s| {
                    s.fence += 1;
                    s.fence
                })?;
                Ok(StoreLease::new(key, fence, guard))
            }
            Err(_) => Err(StoreError::LockTimeout {
                key: key.to_owned(),
                waited: wait,
            }),
        }
    }

    async fn revision(&self, key: &str) -> Result<u64, StoreError> {
        self.with_slot(key, |s| s.revision)
    }

    async fn changed(&self, key: &str, since: u64, timeout: Duration) -> Result<u64, StoreError> {
        let mut revisions = self.with_slot(key, |s| {
            s.waiters
                .get_or_insert_with(|| watch::Sender::new(s.revision))
                .subscribe()
        })?;
        // The sender lives in the slot, which is never removed, so `wait_for` only ends by
        // a change or the timeout.
        let _ = tokio::time::timeout(timeout, revisions.wait_for(|r| *r != since)).await;
        let now = *revisions.borrow();
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::refresh_only;

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
        a.save("k", &refresh_only("rt")).await.unwrap();
        assert!(b.load("k").await.unwrap().is_some());
        b.remove("k").await.unwrap();
        assert!(a.load("k").await.unwrap().is_none());
        assert!(a.load("../etc").await.is_err());
    }

    #[tokio::test]
    async fn fenced_saves_and_revisions() {
        crate::store::contract::fenced_saves_and_revisions(&MemoryStore::new()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_save_wakes_the_waiters() {
        let store = MemoryStore::new();
        let waiter = tokio::spawn({
            let store = store.clone();
            async move { store.changed("k", 0, Duration::from_secs(3600)).await }
        });
        tokio::task::yield_now().await;
        store.save("k", &refresh_only("rt")).await.unwrap();
        // Woken by the write, not by the hour-long timeout (the paused clock has not moved).
        let started = tokio::time::Instant::now();
        assert_eq!(waiter.await.unwrap().unwrap(), 1);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_waiter_after_saves_sees_the_current_revision() {
        let store = MemoryStore::new();
        store.save("k", &refresh_only("rt-1")).await.unwrap();
        store.save("k", &refresh_only("rt-2")).await.unwrap();
        // No waiter existed during the saves: the first one still sees revision 2 at once.
        let started = tokio::time::Instant::now();
        let seen = store.changed("k", 1, Duration::from_secs(3600)).await;
        assert_eq!(seen.unwrap(), 2);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
