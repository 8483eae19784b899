//! A small source of jitter: spreads refreshes and backoffs so a fleet does not act in
//! lockstep. Not for anything secret.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

/// Returns numbers in `[0, 1)`. Tests pin it with [`Jitter::fixed`].
#[derive(Clone)]
pub(crate) struct Jitter(Arc<dyn Fn() -> f64 + Send + Sync>);

impl std::fmt::Debug for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jitter")
    }
}

impl Default for Jitter {
    /// The process's jitter, shared by every cache and client: one counter spreads them all,
    /// and a cache does not carry a generator of its own.
    fn default() -> Self {
        static SHARED: LazyLock<Jitter> = LazyLock::new(|| {
            let seed = RandomState::new();
            let counter = AtomicU64::new(0);
            Jitter(Arc::new(move || {
                let mut h = seed.build_hasher();
                h.write_u64(counter.fetch_add(1, Ordering::Relaxed));
                // 53 random bits -> a uniform f64 in [0, 1).
                (h.finish() >> 11) as f64 / (1u64 << 53) as f64
            }))
        });
        SHARED.clone()
    }
}

impl Jitter {
    /// Always `value` (clamped into `[0, 1)`).
    #[cfg(test)]
    pub(crate) fn fixed(value: f64) -> Self {
        let v = value.clamp(0.0, 0.999_999);
        Self(Arc::new(move || v))
    }

    pub(crate) fn next(&self) -> f64 {
        (self.0)()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_in_range_and_vary() {
        let j = Jitter::default();
        let values: Vec<f64> = (0..100).map(|_| j.next()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.windows(2).any(|w| w[0] != w[1]));
        assert_eq!(Jitter::fixed(2.0).next(), 0.999_999);
    }
}
