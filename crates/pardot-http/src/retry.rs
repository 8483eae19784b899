//! [`RetryPolicy`]: how often and how long a throttled or failed request is tried again.

use std::time::Duration;

use crate::doubling::DoublingWaits;

/// Bounds on retrying a request after throttling (Pardot code 66, HTTP 429, HTTP 503) or a
/// transport failure. Expired credentials are handled separately: refreshed once, retried once.
///
/// Waits double from `initial_backoff` up to `max_backoff`, each jittered to between 50% and
/// 100% of its value (a server's `Retry-After` is honoured up to `max_backoff`), and happen on
/// the client's clock. A call stops retrying after `max_retries` retries or when the next
/// wait would end after `max_elapsed` from its start, whichever comes first.
///
/// Defaults: 5 retries, 500 ms initial, 20 s max, 60 s in all. With them a throttled call
/// waits about 0.5, 1, 2, 4 and 8 s (jittered) before giving up.
///
/// ```
/// use std::time::Duration;
/// use pardot_http::RetryPolicy;
/// let policy = RetryPolicy::default().max_retries(3).max_elapsed(Duration::from_secs(10));
/// assert_eq!(policy.get_max_retries(), 3);
/// assert_eq!(RetryPolicy::none().get_max_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    waits: DoublingWaits,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            waits: DoublingWaits::new(Duration::from_millis(500), Duration::from_secs(20)),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry throttling or transport failures (expired credentials are still refreshed
    /// and retried once).
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    pardot_auth_core::builder_setters! {
        /// The most retries per call.
        pub fn max_retries(n: u32) => max_retries = n;

        /// The first wait and the longest single wait.
        pub fn backoff(initial: Duration, max: Duration)
            => waits = DoublingWaits::new(initial, max);

        /// The longest a call may take, counting its waits.
        pub fn max_elapsed(d: Duration) => max_elapsed = d;
    }

    /// The configured most retries per call.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The configured bound on a call's total time.
    pub fn get_max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The wait before retry number `retry` (0-based), given a jitter value in `[0, 1)` and
    /// the server's `Retry-After`, if any.
    pub(crate) fn delay(&self, retry: u32, jitter: f64, server: Option<Duration>) -> Duration {
        let ours = self.waits.nth_jittered(retry, jitter);
        match server {
            Some(s) => s.min(self.waits.max()).max(ours),
            None => ours,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_are_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, 0.0, None), Duration::from_millis(250));
        assert_eq!(p.delay(0, 0.999_999, None).as_millis(), 499);
        assert_eq!(p.delay(3, 0.0, None), Duration::from_secs(2));
        assert_eq!(p.delay(30, 0.0, None), Duration::from_secs(10));
        assert_eq!(
            p.delay(0, 0.0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(0, 0.0, Some(Duration::from_secs(3600))),
            Duration::from_secs(20)
        );
    }
}
