//! [`Governor`]: at most N requests in flight per business unit, and an optional daily budget,
//! held in this process (`process`), by every process on this machine (`host`) or by every
//! process on every machine (`redis`).

#[cfg(feature = "redis")]
mod handoff;
mod host;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod released;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pardot_auth_core::SharedClock;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::PardotError;
use crate::store::StoreError;

#[cfg(feature = "redis")]
pub use redis::DEFAULT_PERMIT_TTL;

/// Pardot's documented limit of concurrent requests per business unit.
pub const PARDOT_CONCURRENCY_LIMIT: usize = 5;

/// Keeps at most `max_concurrent` requests of one business unit in flight (Pardot answers
/// error 66 beyond 5) and, optionally, stops at a daily budget before Pardot's own quota
/// (error 122) is hit.
///
/// Clones share the slots and the count, so every clone of a client (and every client given
/// the same governor) is held to one limit. The day boundary for the budget is midnight UTC
/// plus the configured offset (set it to the account's time zone offset), on the injected
/// clock.
///
/// Backends, one type:
///
/// - [`Governor::new`] (`process`): slots and budget in this process.
/// - [`Governor::host`]: slots are OS file locks in a directory, shared by every process on
///   the machine that uses it, and the budget is one count per business unit in that
///   directory, kept under a file lock.
/// - `Governor::redis` (feature `redis`): slots are leased permits in Redis that expire if
///   their process dies mid-request, and the budget is one counter per business unit and
///   day, shared by every process on every machine. When Redis fails, the
///   [`FailurePolicy`] decides.
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
    /// This process's slots: the `process` backend's, and the fallback of a `fail_open` one.
    semaphore: Option<Arc<Semaphore>>,
    limit: Option<usize>,
    budget: Option<u64>,
    day_offset: Duration,
    acquire_timeout: Duration,
    day: Mutex<DayCount>,
    in_flight: AtomicU64,
    backend: Backend,
    on_failure: FailurePolicy,
    /// Whether the fall-back to this process was logged (once).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fell_back: AtomicBool,
}

/// Where the slots (and, for `redis`, the budget) are kept.
#[derive(Clone)]
enum Backend {
    Process,
    Host(Arc<host::HostPermits>),
    #[cfg(feature = "redis")]
    Redis(Arc<redis::RedisPermits>),
}

/// What a shared governor does when its backend (Redis) fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Refuse the request with a typed error ([`PardotError::Store`]): the fleet's limit is
    /// never exceeded (the default).
    #[default]
    FailClosed,
    /// Fall back to this process's slots and budget (logged at WARN once): requests go on,
    /// and the fleet may exceed the limit while Redis is away.
    FailOpen,
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

pardot_auth_core::debug_shows!(
    Governor as this,
    complete {
        usage: this.usage(),
    }
);

impl Default for Governor {
    fn default() -> Self {
        Self::new(Some(PARDOT_CONCURRENCY_LIMIT))
    }
}

/// A held slot; the request it was taken for is in flight until it is dropped.
pub(crate) struct Slot {
    _permit: Permit,
    inner: Arc<Inner>,
}

/// What a slot holds, given back on drop.
enum Permit {
    Unlimited,
    Process(#[allow(dead_code, reason = "held for its Drop")] OwnedSemaphorePermit),
    Host(#[allow(dead_code, reason = "held for its Drop")] host::HostPermit),
    #[cfg(feature = "redis")]
    Redis(#[allow(dead_code, reason = "held for its Drop")] redis::RedisPermit),
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
        Self::with_backend(max_concurrent, Backend::Process)
    }

    fn with_backend(max_concurrent: Option<usize>, backend: Backend) -> Self {
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
                backend,
                on_failure: FailurePolicy::default(),
                fell_back: AtomicBool::new(false),
            }),
        }
    }

    /// A governor whose `max_concurrent` slots for `business_unit` are OS file locks in `dir`
    /// (created if missing), shared by every process on this machine that uses the same
    /// directory. A process that dies lets go of its slots with its files. The daily budget,
    /// when set, is one count per business unit and day in the same directory.
    pub fn host(
        dir: impl AsRef<Path>,
        business_unit: &str,
        max_concurrent: usize,
    ) -> Result<Self, StoreError> {
        let permits = host::HostPermits::new(dir.as_ref(), business_unit, max_concurrent)?;
        Ok(Self::with_backend(
            Some(max_concurrent),
            Backend::Host(Arc::new(permits)),
        ))
    }

    /// A governor whose `max_concurrent` slots for `business_unit` are permits in Redis (under
    /// `{prefix:governor:BU}`, e.g. prefix `pardot-auth`), shared by every process on every
    /// machine using the same Redis and prefix. A permit lives at most `permit_ttl` (see
    /// [`DEFAULT_PERMIT_TTL`]), so one held by a process that died comes back. The daily
    /// budget, when set, is one counter per business unit and day in Redis.
    #[cfg(feature = "redis")]
    pub fn redis(
        connection: crate::store::RedisConnection,
        prefix: &str,
        business_unit: &str,
        max_concurrent: usize,
        permit_ttl: Duration,
    ) -> Result<Self, StoreError> {
        let permits = redis::RedisPermits::new(
            connection,
            prefix,
            business_unit,
            max_concurrent,
            permit_ttl,
        )?;
        Ok(Self::with_backend(
            Some(max_concurrent),
            Backend::Redis(Arc::new(permits)),
        ))
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
            backend: self.inner.backend.clone(),
            on_failure: self.inner.on_failure,
            fell_back: AtomicBool::new(false),
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

    /// What to do when a shared backend fails (default [`FailurePolicy::FailClosed`]).
    pub fn with_failure_policy(self, policy: FailurePolicy) -> Self {
        self.rebuild(|i| i.on_failure = policy)
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

    /// Counts one request against the budget, or refuses it. `shared`: the count after it
    /// (or, `Err`, the count that refused it) as a shared counter gave it; `None` counts here.
    fn charge(&self, now: SystemTime, shared: Option<Result<u64, u64>>) -> Result<(), PardotError> {
        let today = self.day_of(now);
        let mut day = self.inner.day.lock().unwrap_or_else(|p| p.into_inner());
        if day.day != today {
            *day = DayCount {
                day: today,
                ..DayCount::default()
            };
        }
        // The count before this request.
        let used = match shared {
            None => day.used,
            Some(Ok(after)) => after.saturating_sub(1),
            Some(Err(used)) => used,
        };
        day.used = used;
        if let Some(budget) = self.inner.budget {
            if used >= budget {
                return Err(PardotError::BudgetExhausted { used, budget });
            }
            if !day.warned && used.saturating_mul(10) >= budget.saturating_mul(9) {
                day.warned = true;
                tracing::warn!(used, budget, "90% of the daily request budget is used");
            }
        }
        day.used += 1;
        Ok(())
    }

    /// Applies the failure policy to a failed shared backend: `Ok` to fall back to this
    /// process.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn on_backend_failure(&self, error: StoreError) -> Result<(), PardotError> {
        match self.inner.on_failure {
            FailurePolicy::FailClosed => Err(PardotError::Store(error)),
            FailurePolicy::FailOpen => {
                if !self.inner.fell_back.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %error,
                        "the shared governor failed; falling back to this process's limit and budget (fail_open)"
                    );
                }
                Ok(())
            }
        }
    }

    /// Waits for one of this process's slots.
    async fn process_slot(&self, on_wait: impl FnOnce()) -> Result<Permit, PardotError> {
        let Some(sem) = &self.inner.semaphore else {
            return Ok(Permit::Unlimited);
        };
        if let Ok(p) = sem.clone().try_acquire_owned() {
            return Ok(Permit::Process(p));
        }
        on_wait();
        tracing::debug!("waiting for a concurrency slot");
        let wait = self.inner.acquire_timeout;
        match tokio::time::timeout(wait, sem.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(Permit::Process(p)),
            Ok(Err(_)) => Err(PardotError::Config("the governor was closed".into())),
            Err(_) => Err(PardotError::Timeout(wait)),
        }
    }

    /// Waits for a slot of the configured backend; charges a shared budget. Returns the
    /// permit and what the shared budget said (`None`: count in this process).
    async fn backend_slot(
        &self,
        now: SystemTime,
        on_wait: impl FnOnce(),
    ) -> Result<(Permit, Option<Result<u64, u64>>), PardotError> {
        let wait = self.inner.acquire_timeout;
        match &self.inner.backend {
            Backend::Process => Ok((self.process_slot(on_wait).await?, None)),
            Backend::Host(permits) => {
                let permit = match permits.take(wait, on_wait).await {
                    Ok(Some(p)) => p,
                    Ok(None) => return Err(PardotError::Timeout(wait)),
                    Err(e) => return Err(PardotError::Store(e)),
                };
                let charged = match self.inner.budget {
                    Some(budget) => Some(
                        permits
                            .charge(self.day_of(now), budget, wait)
                            .await
                            .map_err(PardotError::Store)?,
                    ),
                    None => None,
                };
                Ok((Permit::Host(permit), charged))
            }
            #[cfg(feature = "redis")]
            Backend::Redis(permits) => {
                // Called at most once, whether the wait was for Redis or for the fallback.
                let mut on_wait = Some(on_wait);
                let mut note_wait = || {
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                };
                let shared = async {
                    let Some(permit) = permits.take(wait, &mut note_wait).await? else {
                        return Ok(None);
                    };
                    let charged = match self.inner.budget {
                        Some(budget) => Some(permits.charge(self.day_of(now), budget).await?),
                        None => None,
                    };
                    Ok::<_, StoreError>(Some((Permit::Redis(permit), charged)))
                };
                match shared.await {
                    Ok(Some(taken)) => Ok(taken),
                    Ok(None) => Err(PardotError::Timeout(wait)),
                    Err(e) => {
                        self.on_backend_failure(e)?;
                        Ok((self.process_slot(note_wait).await?, None))
                    }
                }
            }
        }
    }

    pub(crate) async fn acquire(
        &self,
        clock: &SharedClock,
        on_wait: impl FnOnce(),
    ) -> Result<Slot, PardotError> {
        let now = clock.now();
        let (permit, shared) = self.backend_slot(now, on_wait).await?;
        self.charge(now, shared)?;
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

    #[tokio::test]
    async fn host_slots_are_shared_through_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new().shared();
        // Two governors on one directory stand for two processes: each opens its own lock
        // files, and OS file locks conflict between open files, in one process or several.
        let a = Governor::host(dir.path(), "bu-1", 2).unwrap();
        let b = Governor::host(dir.path(), "bu-1", 2)
            .unwrap()
            .with_acquire_timeout(Duration::from_millis(100));
        let first = a.acquire(&clock, || {}).await.unwrap();
        let _second = b.acquire(&clock, || {}).await.unwrap();
        let waited = std::sync::atomic::AtomicBool::new(false);
        let e = b
            .acquire(&clock, || waited.store(true, Ordering::SeqCst))
            .await
            .err()
            .unwrap();
        assert!(matches!(e, PardotError::Timeout(_)), "{e}");
        assert!(waited.load(Ordering::SeqCst));
        // Another business unit has its own slots.
        let other = Governor::host(dir.path(), "bu-2", 1).unwrap();
        let _other = other.acquire(&clock, || {}).await.unwrap();
        drop(first);
        let _third = b.acquire(&clock, || {}).await.unwrap();
        assert!(Governor::host(dir.path(), "../x", 1).is_err());
    }

    #[tokio::test]
    async fn a_host_budget_is_one_count_for_every_process_of_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let manual = ManualClock::new();
        let clock = manual.shared();
        let a = Governor::host(dir.path(), "bu-1", 5)
            .unwrap()
            .with_daily_budget(3);
        let b = Governor::host(dir.path(), "bu-1", 5)
            .unwrap()
            .with_daily_budget(3);
        drop(a.acquire(&clock, || {}).await.unwrap());
        drop(a.acquire(&clock, || {}).await.unwrap());
        drop(b.acquire(&clock, || {}).await.unwrap());
        for g in [&a, &b] {
            let e = g.acquire(&clock, || {}).await.err().unwrap();
            assert!(
                matches!(e, PardotError::BudgetExhausted { used: 3, budget: 3 }),
                "{e}"
            );
        }
        // Another business unit counts apart; the next day starts from zero.
        let other = Governor::host(dir.path(), "bu-2", 5)
            .unwrap()
            .with_daily_budget(1);
        drop(other.acquire(&clock, || {}).await.unwrap());
        manual.advance(Duration::from_secs(86_400));
        drop(b.acquire(&clock, || {}).await.unwrap());
        drop(a.acquire(&clock, || {}).await.unwrap());
        assert_eq!(
            a.usage().used_today,
            2,
            "a counts on from what b sent today"
        );
    }
}
