//! [`Governor`]: at most N requests in flight per business unit, and an optional daily budget.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pardot_auth_core::SharedClock;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::PardotError;

/// Pardot's documented limit of concurrent requests per business unit.
pub const PARDOT_CONCURRENCY_LIMIT: usize = 5;

/// Keeps at most `max_concurrent` requests of one business unit in flight (Pardot answers
/// error 66 beyond 5) and, optionally, stops at a daily budget before Pardot's own quota
/// (error 122) is hit.
///
/// Clones share the slots and the count, so every clone of a client (and every client given
/// the same governor) is held to one limit. The day boundary for the budget is midnight UTC
/// plus the configured offset (set it to the account's time zone offset).
///
/// ```
/// use pardot_http::Governor;
/// let governor = Governor::new(Some(5)).with_daily_budget(20_000);
/// let usage = governor.usage();
/// assert_eq!((usage.limit, usage.budget, usage.used_today), (Some(5), Some(20_000), 0));
/// ```
#[derive(Clone)]
pub struct Governor {
    inner: Arc<Inner>,
}

struct Inner {
    semaphore: Option<Arc<Semaphore>>,
    limit: Option<usize>,
    budget: Option<u64>,
    day_offset: Duration,
    acquire_timeout: Duration,
    day: Mutex<DayCount>,
    in_flight: AtomicU64,
}

#[derive(Default)]
struct DayCount {
    day: u64,
    used: u64,
    warned: bool,
}

/// How much of its limits a [`Governor`] is using.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Requests in flight now.
    pub in_flight: u64,
    /// The concurrency limit (`None`: unlimited).
    pub limit: Option<usize>,
    /// Requests sent since the last day boundary.
    pub used_today: u64,
    /// The daily budget (`None`: no budget).
    pub budget: Option<u64>,
}

impl fmt::Debug for Governor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Governor")
            .field("usage", &self.usage())
            .finish()
    }
}

impl Default for Governor {
    fn default() -> Self {
        Self::new(Some(PARDOT_CONCURRENCY_LIMIT))
    }
}

/// A held slot; the request it was taken for is in flight until it is dropped.
pub(crate) struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
    inner: Arc<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Governor {
    /// A governor allowing `max_concurrent` requests in flight (`None`: no limit; `Some(0)`
    /// is taken as 1).
    pub fn new(max_concurrent: Option<usize>) -> Self {
        let limit = max_concurrent.map(|n| n.max(1));
        Self {
            inner: Arc::new(Inner {
                semaphore: limit.map(|n| Arc::new(Semaphore::new(n))),
                limit,
                budget: None,
                day_offset: Duration::ZERO,
                acquire_timeout: Duration::from_secs(300),
                day: Mutex::new(DayCount::default()),
                in_flight: AtomicU64::new(0),
            }),
        }
    }

    /// No concurrency limit and no budget.
    pub fn unlimited() -> Self {
        Self::new(None)
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            semaphore: self.inner.semaphore.clone(),
            limit: self.inner.limit,
            budget: self.inner.budget,
            day_offset: self.inner.day_offset,
            acquire_timeout: self.inner.acquire_timeout,
            day: Mutex::new(DayCount::default()),
            in_flight: AtomicU64::new(0),
        };
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Stops sending once `budget` requests were sent since the last day boundary: such
    /// requests fail with [`PardotError::BudgetExhausted`] without reaching Pardot. Set it a
    /// little under the account's daily allocation. (Configure before cloning.)
    pub fn with_daily_budget(self, budget: u64) -> Self {
        self.rebuild(|i| i.budget = Some(budget))
    }

    /// Moves the day boundary of the budget from midnight UTC to midnight UTC + `offset`
    /// (e.g. 5 h for US Eastern Standard Time, whose midnight is 05:00 UTC).
    pub fn with_day_offset(self, offset: Duration) -> Self {
        self.rebuild(|i| i.day_offset = offset)
    }

    /// The longest a request waits for a slot (default 5 minutes; on the runtime's timer).
    pub fn with_acquire_timeout(self, timeout: Duration) -> Self {
        self.rebuild(|i| i.acquire_timeout = timeout)
    }

    /// Current usage.
    pub fn usage(&self) -> Usage {
        let day = self.inner.day.lock().unwrap_or_else(|p| p.into_inner());
        Usage {
            in_flight: self.inner.in_flight.load(Ordering::Relaxed),
            limit: self.inner.limit,
            used_today: day.used,
            budget: self.inner.budget,
        }
    }

    fn day_of(&self, now: SystemTime) -> u64 {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .saturating_add(86_400)
            .saturating_sub(self.inner.day_offset.as_secs() % 86_400);
        secs / 86_400
    }

    /// Counts one request against the budget, or refuses it.
    fn charge(&self, now: SystemTime) -> Result<(), PardotError> {
        let today = self.day_of(now);
        let mut day = self.inner.day.lock().unwrap_or_else(|p| p.into_inner());
        if day.day != today {
            *day = DayCount {
                day: today,
                ..DayCount::default()
            };
        }
        if let Some(budget) = self.inner.budget {
            if day.used >= budget {
                return Err(PardotError::BudgetExhausted {
                    used: day.used,
                    budget,
                });
            }
            if !day.warned && day.used.saturating_mul(10) >= budget.saturating_mul(9) {
                day.warned = true;
                tracing::warn!(
                    used = day.used,
                    budget,
                    "90% of the daily request budget is used"
                );
            }
        }
        day.used += 1;
        Ok(())
    }

    /// Waits for a slot (counted as a throttled wait when it had to wait) and charges the
    /// budget.
    pub(crate) async fn acquire(
        &self,
        clock: &SharedClock,
        on_wait: impl FnOnce(),
    ) -> Result<Slot, PardotError> {
        let permit = match &self.inner.semaphore {
            None => None,
            Some(sem) => match sem.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    on_wait();
                    tracing::debug!("waiting for a concurrency slot");
                    let wait = self.inner.acquire_timeout;
                    match tokio::time::timeout(wait, sem.clone().acquire_owned()).await {
                        Ok(Ok(p)) => Some(p),
                        Ok(Err(_)) => {
                            return Err(PardotError::Config("the governor was closed".into()));
                        }
                        Err(_) => return Err(PardotError::Timeout(wait)),
                    }
                }
            },
        };
        self.charge(clock.now())?;
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            _permit: permit,
            inner: self.inner.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pardot_auth_core::ManualClock;

    #[tokio::test]
    async fn slots_are_limited_and_shared_by_clones() {
        let clock = ManualClock::new().shared();
        let g = Governor::new(Some(2));
        let clone = g.clone();
        let a = g.acquire(&clock, || {}).await.unwrap();
        let _b = clone.acquire(&clock, || {}).await.unwrap();
        assert_eq!(g.usage().in_flight, 2);
        let waited = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let third = tokio::spawn({
            let (g, clock, waited) = (g.clone(), clock.clone(), waited.clone());
            async move {
                g.acquire(&clock, || waited.store(true, Ordering::SeqCst))
                    .await
                    .map(|_| ())
            }
        });
        while !waited.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
        assert!(!third.is_finished());
        drop(a);
        third.await.unwrap().unwrap();
        assert_eq!(g.usage().used_today, 3);
    }

    #[tokio::test]
    async fn budget_stops_before_the_quota_and_resets_next_day() {
        let clock = ManualClock::new();
        let shared = clock.shared();
        let g = Governor::unlimited().with_daily_budget(2);
        g.acquire(&shared, || {}).await.unwrap();
        g.acquire(&shared, || {}).await.unwrap();
        let e = g.acquire(&shared, || {}).await.err().unwrap();
        assert!(matches!(
            e,
            PardotError::BudgetExhausted { used: 2, budget: 2 }
        ));
        assert!(e.to_string().contains("2 of 2"));
        clock.advance(Duration::from_secs(86_400));
        g.acquire(&shared, || {}).await.unwrap();
        assert_eq!(g.usage().used_today, 1);
    }

    #[test]
    fn day_offset_moves_the_boundary() {
        let g = Governor::unlimited().with_day_offset(Duration::from_secs(3600));
        let midnight = UNIX_EPOCH + Duration::from_secs(86_400 * 100);
        // With a 1 h offset, 00:30 UTC and 00:59 UTC are still in the previous day...
        assert_eq!(
            g.day_of(midnight + Duration::from_secs(1800)),
            g.day_of(midnight - Duration::from_secs(1800))
        );
        // ...and 01:00 UTC starts the next.
        assert_ne!(
            g.day_of(midnight + Duration::from_secs(3600)),
            g.day_of(midnight + Duration::from_secs(3599))
        );
    }
}
