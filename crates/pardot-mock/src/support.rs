//! Small building blocks: the mock's clock and a sharded map that keeps the hot path free of
//! one global lock.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use pardot_auth_core::{Clock, ManualClock, SharedClock, SystemClock};

/// The clock a mock judges time by: a test's [`ManualClock`], any [`SharedClock`], or the
/// system clock. `From` conversions let [`crate::MockBuilder::clock`] take either.
#[derive(Debug, Clone)]
pub enum ClockSource {
    /// A manual clock: `/__mock/clock/advance` moves it (and so every client sharing it).
    Manual(ManualClock),
    /// Any other clock: `/__mock/clock/advance` adds an offset the mock applies on top.
    Shared(SharedClock),
}

impl From<ManualClock> for ClockSource {
    fn from(c: ManualClock) -> Self {
        Self::Manual(c)
    }
}
impl From<&ManualClock> for ClockSource {
    fn from(c: &ManualClock) -> Self {
        Self::Manual(c.clone())
    }
}
impl From<SharedClock> for ClockSource {
    fn from(c: SharedClock) -> Self {
        Self::Shared(c)
    }
}
impl From<SystemClock> for ClockSource {
    fn from(c: SystemClock) -> Self {
        Self::Shared(std::sync::Arc::new(c))
    }
}

/// The mock's view of time.
#[derive(Debug)]
pub(crate) struct MockClock {
    source: ClockSource,
    offset_ms: AtomicU64,
}

impl MockClock {
    pub(crate) fn new(source: ClockSource) -> Self {
        Self {
            source,
            offset_ms: AtomicU64::new(0),
        }
    }

    pub(crate) fn now(&self) -> SystemTime {
        let base = match &self.source {
            ClockSource::Manual(c) => c.now(),
            ClockSource::Shared(c) => c.now(),
        };
        base + Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Puts the mock's time back to its source's (the offset advances added, to zero); a
    /// manual clock is its owner's and stays where it is.
    pub(crate) fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }

    /// Moves the mock's time forward: the manual clock itself, or an offset.
    pub(crate) fn advance(&self, by: Duration) {
        match &self.source {
            ClockSource::Manual(c) => c.advance(by),
            ClockSource::Shared(_) => {
                let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
                self.offset_ms.fetch_add(ms, Ordering::Relaxed);
            }
        }
    }
}

const SHARDS: usize = 32;

/// A hash map split into shards, each behind its own `RwLock`, so concurrent requests touching
/// different keys never wait for each other.
pub(crate) struct ShardedMap<K, V> {
    shards: Box<[RwLock<HashMap<K, V>>]>,
    hasher: RandomState,
}

impl<K: Eq + Hash, V> Default for ShardedMap<K, V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<K: Eq + Hash, V> ShardedMap<K, V> {
    fn shard_of<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        (self.hasher.hash_one(key) as usize) % self.shards.len()
    }

    pub(crate) fn read<Q: Hash + ?Sized>(&self, key: &Q) -> RwLockReadGuard<'_, HashMap<K, V>> {
        // A panic while holding a shard lock leaves the map usable (every update is a single
        // insert or remove), so poisoning is ignored.
        self.shards[self.shard_of(key)]
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn write<Q: Hash + ?Sized>(&self, key: &Q) -> RwLockWriteGuard<'_, HashMap<K, V>> {
        self.shards[self.shard_of(key)]
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on every shard in turn, with write access.
    pub(crate) fn for_each_shard(&self, mut f: impl FnMut(&mut HashMap<K, V>)) {
        for shard in &*self.shards {
            f(&mut shard.write().unwrap_or_else(|p| p.into_inner()));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub(crate) fn clear(&self) {
        self.for_each_shard(HashMap::clear);
    }
}

/// Random characters from `[0-9A-Za-z]`.
pub(crate) fn random_alnum(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Random lowercase hex.
pub(crate) fn random_hex(len: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_clock_advances() {
        let clock = MockClock::new(SystemClock.into());
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() >= before + Duration::from_secs(3600));
    }

    #[test]
    fn manual_clock_is_moved_itself() {
        let manual = ManualClock::new();
        let clock = MockClock::new((&manual).into());
        let t0 = manual.now();
        clock.advance(Duration::from_secs(5));
        assert_eq!(manual.now(), t0 + Duration::from_secs(5));
        assert_eq!(clock.now(), manual.now());
    }

    #[test]
    fn sharded_map_basics() {
        let m: ShardedMap<String, u32> = ShardedMap::default();
        m.write("a").insert("a".into(), 1);
        m.write("b").insert("b".into(), 2);
        assert_eq!(m.read("a").get("a"), Some(&1));
        assert_eq!(m.len(), 2);
        m.clear();
        assert_eq!(m.len(), 0);
        assert_eq!(random_alnum(20).len(), 20);
        assert!(
            random_hex(32)
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
