//! Small building blocks: the mock's clock and a sharded map that keeps the hot path free of
//! one global lock.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hash, Hasher};
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
/// different keys never wait for each other. `S` hashes the keys: SipHash with random keys
/// unless every key inserted is the mock's own (see [`MockKeyHash`]).
pub(crate) struct ShardedMap<K, V, S = RandomState> {
    shards: Box<[RwLock<HashMap<K, V, S>>]>,
    hasher: S,
}

impl<K: Eq + Hash, V, S: BuildHasher + Clone + Default> Default for ShardedMap<K, V, S> {
    fn default() -> Self {
        let hasher = S::default();
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_hasher(hasher.clone())))
                .collect(),
            hasher,
        }
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    fn shard_of<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        // Bits the shard's own table does not index by (it takes the low bits for the bucket
        // and the top seven for its control byte), so a hasher shared by every shard still
        // spreads a shard's keys over its buckets.
        ((self.hasher.hash_one(key) >> 32) as usize) % self.shards.len()
    }

    pub(crate) fn read<Q: Hash + ?Sized>(&self, key: &Q) -> RwLockReadGuard<'_, HashMap<K, V, S>> {
        // A panic while holding a shard lock leaves the map usable (every update is a single
        // insert or remove), so poisoning is ignored.
        self.shards[self.shard_of(key)]
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn write<Q: Hash + ?Sized>(
        &self,
        key: &Q,
    ) -> RwLockWriteGuard<'_, HashMap<K, V, S>> {
        self.shards[self.shard_of(key)]
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on every shard in turn, with write access.
    pub(crate) fn for_each_shard(&self, mut f: impl FnMut(&mut HashMap<K, V, S>)) {
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

/// Hashes keys the mock made itself from random characters (its tokens): a word-at-a-time
/// multiply instead of SipHash, which was most of the cost of inserting a token and of
/// rehashing the token table as it grew. SipHash's random keys defend a table against keys
/// chosen to collide; here every key inserted is random (or named by the configuration), so
/// a caller's choice reaches only lookups, whose cost does not depend on it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MockKeyHash;

impl BuildHasher for MockKeyHash {
    type Hasher = MockKeyHasher;
    fn build_hasher(&self) -> MockKeyHasher {
        MockKeyHasher(0)
    }
}

/// The hasher of [`MockKeyHash`].
#[derive(Debug)]
pub(crate) struct MockKeyHasher(u64);

impl MockKeyHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for MockKeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        // murmur3's finaliser: every output bit depends on every input bit, so the table's
        // low bits (its bucket) and top bits (its control byte) are both well mixed.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// `parts` joined into one string of exactly their length, for strings made on every
/// request (virtual hosts, identity URLs), which `format!` grows as it goes.
pub(crate) fn concat(parts: &[&str]) -> String {
    concat_with_room(parts, 0)
}

/// [`concat`] with room for `room` more bytes, so what is pushed next does not grow it.
fn concat_with_room(parts: &[&str], room: usize) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + room);
    parts.iter().for_each(|p| out.push_str(p));
    out
}

/// Random characters from `[0-9A-Za-z]`, each of the 62 equally likely: random bytes below
/// 248 (four times 62) taken modulo 62, the others drawn again. Drawing bytes in blocks was
/// a third of the cost of drawing a word per character (`Alphanumeric`) for a token.
pub(crate) fn random_alnum(len: usize) -> String {
    prefixed_random_alnum(&[], len)
}

/// The `prefix` parts followed by `len` random characters of [`random_alnum`], in one
/// allocation of exactly that size (a token is made on every grant: `format!` grew it twice).
pub(crate) fn prefixed_random_alnum(prefix: &[&str], len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = concat_with_room(prefix, len);
    let mut rng = rand::rng();
    let end = out.len() + len;
    let mut block = [0u8; 64];
    while out.len() < end {
        rng.fill_bytes(&mut block);
        for &b in &block {
            if b < 248 && out.len() < end {
                out.push(char::from(CHARS[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// Random lowercase hex.
pub(crate) fn random_hex(len: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
        .collect()
}

/// Writes `text` as a JSON string: what `serde_json` writes for it, byte for byte.
pub(crate) fn write_json_string(text: &str, out: &mut String) {
    // Escaped in place (no temporary String per value): `"`, `\\` and control characters, as
    // JSON requires; everything else, including non-ASCII, is written as is.
    out.push('"');
    // Almost every value needs no escape: a branch-free scan (the compiler vectorises it) and
    // one copy.
    let plain = text
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&text[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_json_string_escapes_as_serde_json() {
        let mut every_byte: String = (0u8..=0x7f).map(char::from).collect();
        every_byte.push_str("Ünïcødé 日本 🦀 \u{2028}\u{2029}");
        for text in ["", "plain", "\"", "\\", "a\"b\\c\nd", every_byte.as_str()] {
            let mut out = String::from("x");
            write_json_string(text, &mut out);
            assert_eq!(out, format!("x{}", serde_json::to_string(text).unwrap()));
        }
    }

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
