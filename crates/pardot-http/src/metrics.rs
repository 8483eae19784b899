//! Counters a user can read: how often tokens were fetched and refreshed, how often requests
//! were retried, and how often they had to wait.

use std::sync::atomic::{AtomicU64, Ordering};

/// Declares a snapshot struct of `u64` counts, the atomic counters it is read from (one per
/// count, each named once here), and `snapshot`, which reads them; the fields `and given`, if
/// any, are not counted here but passed to `snapshot`.
macro_rules! counters {
    (
        $(#[$attr:meta])*
        pub struct $snapshot:ident, counted in $counters:ident {
            $($(#[$doc:meta])* $count:ident,)*
        }
        $(and given {
            $($(#[$given_doc:meta])* $given:ident: $given_ty:ty,)*
        })?
    ) => {
        #[doc = concat!(
            "The live counters behind [`", stringify!($snapshot), "`], shared by clones."
        )]
        #[derive(Debug, Default)]
        pub(crate) struct $counters {
            $(pub(crate) $count: AtomicU64,)*
        }

        $(#[$attr])*
        pub struct $snapshot {
            $($(#[$doc])* pub $count: u64,)*
            $($($(#[$given_doc])* pub $given: $given_ty,)*)?
        }

        impl $counters {
            pub(crate) fn snapshot(&self $($(, $given: $given_ty)*)?) -> $snapshot {
                $snapshot {
                    $($count: self.$count.load(Ordering::Relaxed),)*
                    $($($given,)*)?
                }
            }
        }
    };
}

counters! {
    /// A snapshot of a token cache's counters.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct CacheMetrics, counted in CacheCounters {
        /// Calls to the wrapped token source (successful or not).
        fetches,
        /// Of those, the ones that failed.
        fetch_failures,
        /// Fetches that replaced a token (refresh ahead of expiry, or after a rejection).
        refreshes,
        /// Refreshes ahead of expiry that failed while the old token was still valid (the old
        /// token was kept).
        soft_refresh_failures,
        /// Times a token left in the store by another cache or process was used instead of
        /// fetching.
        store_adoptions,
        /// Times the cached token was dropped because the server rejected exactly that token.
        invalidations,
        /// Times a fetch waited (on the clock) because the previous one failed.
        backoff_waits,
    }
}

counters! {
    /// A snapshot of a client's counters.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Metrics, counted in RequestCounters {
        /// Calls made (each may send several HTTP requests).
        requests,
        /// HTTP requests sent.
        attempts,
        /// Requests sent again after the server rejected an expired credential.
        expiry_retries,
        /// Requests sent again after throttling (code 66, HTTP 429/503).
        throttle_retries,
        /// Requests sent again after a transport failure.
        transport_retries,
        /// Times a request waited for a concurrency slot of the governor.
        throttled_waits,
    }
    and given {
        /// The token cache's counters.
        token: CacheMetrics,
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
