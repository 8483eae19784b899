//! [`DoublingWaits`]: waits that double from a first one up to a longest one, the shape of
//! every backoff in this crate (request retries, token fetches after failures, export polls).

use std::time::Duration;

/// Waits of `first`, `2 × first`, `4 × first` … never longer than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DoublingWaits {
    first: Duration,
    max: Duration,
}

impl DoublingWaits {
    /// From `first` up to `max` (a `max` below `first` is raised to it).
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max: max.max(first),
        }
    }

    /// The longest wait.
    pub(crate) fn max(&self) -> Duration {
        self.max
    }

    /// Wait number `n` (0-based): `first × 2ⁿ`, at most `max`.
    pub(crate) fn nth(&self, n: u32) -> Duration {
        let mut wait = self.first;
        // At most about 94 doublings reach any `max` from a non-zero `first`.
        for _ in 0..n {
            if wait >= self.max || wait.is_zero() {
                break;
            }
            wait = wait.saturating_mul(2);
        }
        wait.min(self.max)
    }

    /// Wait number `n` jittered to between 50% and 100% of it, by a `jitter` in `[0, 1)`, so
    /// that many clients failing together do not retry together.
    pub(crate) fn nth_jittered(&self, n: u32, jitter: f64) -> Duration {
        self.nth(n).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest() {
        let waits = DoublingWaits::new(Duration::from_secs(30), Duration::from_secs(100));
        let first: Vec<u64> = (0..4).map(|n| waits.nth(n).as_secs()).collect();
        assert_eq!(first, [30, 60, 100, 100]);
        assert_eq!(waits.nth(u32::MAX), Duration::from_secs(100));
        let tiny = DoublingWaits::new(Duration::from_nanos(1), Duration::from_secs(3600));
        assert_eq!(tiny.nth(u32::MAX), Duration::from_secs(3600));
        let none = DoublingWaits::new(Duration::ZERO, Duration::from_secs(1));
        assert_eq!(none.nth(u32::MAX), Duration::ZERO);
    }

    #[test]
    fn a_longest_below_the_first_is_raised_to_it() {
        let waits = DoublingWaits::new(Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(waits.max(), Duration::from_secs(5));
        assert_eq!(waits.nth(3), Duration::from_secs(5));
    }

    #[test]
    fn jitter_takes_between_half_and_all_of_the_wait() {
        let waits = DoublingWaits::new(Duration::from_secs(2), Duration::from_secs(60));
        assert_eq!(waits.nth_jittered(1, 0.0), Duration::from_secs(2));
        assert_eq!(waits.nth_jittered(1, 0.5), Duration::from_secs(3));
        assert_eq!(waits.nth_jittered(1, 7.0), Duration::from_secs(4));
    }
}
