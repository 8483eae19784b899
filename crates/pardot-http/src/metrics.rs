//! Counters a user can read: how often tokens were fetched and refreshed, how often requests
//! were retried, and how often they had to wait.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a [`CachedTokenSource`](crate::CachedTokenSource), shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct CacheCounters {
    pub(crate) fetches: AtomicU64,
    pub(crate) fetch_failures: AtomicU64,
    pub(crate) refreshes: AtomicU64,
    pub(crate) soft_refresh_failures: AtomicU64,
    pub(crate) store_adoptions: AtomicU64,
    pub(crate) invalidations: AtomicU64,
    pub(crate) backoff_waits: AtomicU64,
}

/// A snapshot of a token cache's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheMetrics {
    /// Calls to the wrapped token source (successful or not).
    pub fetches: u64,
    /// Of those, the ones that failed.
    pub fetch_failures: u64,
    /// Fetches that replaced a token (refresh ahead of expiry, or after a rejection).
    pub refreshes: u64,
    /// Refreshes ahead of expiry that failed while the old token was still valid (the old
    /// token was kept).
    pub soft_refresh_failures: u64,
    /// Times a token left in the store by another cache or process was used instead of
    /// fetching.
    pub store_adoptions: u64,
    /// Times the cached token was dropped because the server rejected exactly that token.
    pub invalidations: u64,
    /// Times a fetch waited (on the clock) because the previous one failed.
    pub backoff_waits: u64,
}

impl CacheCounters {
    pub(crate) fn snapshot(&self) -> CacheMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheMetrics {
            fetches: get(&self.fetches),
            fetch_failures: get(&self.fetch_failures),
            refreshes: get(&self.refreshes),
            soft_refresh_failures: get(&self.soft_refresh_failures),
            store_adoptions: get(&self.store_adoptions),
            invalidations: get(&self.invalidations),
            backoff_waits: get(&self.backoff_waits),
        }
    }
}

/// Counters of the request path, shared by clones of a client.
#[derive(Debug, Default)]
pub(crate) struct RequestCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) attempts: AtomicU64,
    pub(crate) expiry_retries: AtomicU64,
    pub(crate) throttle_retries: AtomicU64,
    pub(crate) transport_retries: AtomicU64,
    pub(crate) throttled_waits: AtomicU64,
}

/// A snapshot of a client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Calls made (each may send several HTTP requests).
    pub requests: u64,
    /// HTTP requests sent.
    pub attempts: u64,
    /// Requests sent again after the server rejected an expired credential.
    pub expiry_retries: u64,
    /// Requests sent again after throttling (code 66, HTTP 429/503).
    pub throttle_retries: u64,
    /// Requests sent again after a transport failure.
    pub transport_retries: u64,
    /// Times a request waited for a concurrency slot of the governor.
    pub throttled_waits: u64,
    /// The token cache's counters.
    pub token: CacheMetrics,
}

impl RequestCounters {
    pub(crate) fn snapshot(&self, token: CacheMetrics) -> Metrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Metrics {
            requests: get(&self.requests),
            attempts: get(&self.attempts),
            expiry_retries: get(&self.expiry_retries),
            throttle_retries: get(&self.throttle_retries),
            transport_retries: get(&self.transport_retries),
            throttled_waits: get(&self.throttled_waits),
            token,
        }
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
