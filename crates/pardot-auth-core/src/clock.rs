//! Time, injectable: every wait and every timestamp in the pardot-auth crates goes through a
//! [`Clock`], so tests (and the mock) can move time instead of sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, oneshot};

/// A boxed future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of wall-clock time and of waits.
///
/// The libraries stamp times (JWT `exp`/`iat`, token issue times) with [`Clock::now`] and wait
/// (backoff, device polling, callback timeouts) with [`Clock::sleep`]. Share one clock between a
/// client and the mock in tests: `ManualClock` lets the test move it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;

    /// A future that completes once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// A clock shared between components.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock: `SystemTime::now()` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock as a [`SharedClock`]: one allocation, shared by every caller.
    pub fn shared() -> SharedClock {
        static SHARED: LazyLock<SharedClock> = LazyLock::new(|| Arc::new(SystemClock));
        SHARED.clone()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Seconds since the Unix epoch (negative before it), as JWT claims want them.
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Milliseconds since the Unix epoch, as Salesforce's `issued_at` carries them.
pub fn unix_millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

/// Runs `future` with a deadline measured on `clock`; `Err(Elapsed)` when it passes first.
pub async fn timeout<F: Future>(
    clock: &dyn Clock,
    duration: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    let sleep = clock.sleep(duration);
    tokio::select! {
        biased;
        out = future => Ok(out),
        () = sleep => Err(Elapsed(duration)),
    }
}

/// The deadline of [`timeout`] passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {0:?}")]
pub struct Elapsed(pub Duration);

struct Sleeper {
    deadline: SystemTime,
    wake: oneshot::Sender<()>,
}

struct ManualState {
    now: SystemTime,
    sleepers: Vec<Sleeper>,
}

struct ManualInner {
    state: Mutex<ManualState>,
    sleeper_added: Notify,
}

/// A clock that only moves when told to. Cheap to clone; clones share one time.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use pardot_auth_core::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// let sleeper = tokio::spawn({
///     let clock = clock.clone();
///     async move { clock.sleep(Duration::from_secs(30)).await }
/// });
/// clock.wait_for_sleepers(1).await; // the task is now waiting on the clock
/// clock.advance(Duration::from_secs(30));
/// sleeper.await.unwrap();
/// assert_eq!(clock.now(), start + Duration::from_secs(30));
/// # }
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("ManualClock")
            .field("now", &state.now)
            .field("pending_sleeps", &state.sleepers.len())
            .finish()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A manual clock starting at the current wall-clock time, truncated to whole seconds
    /// (JWT times are whole seconds, so round trips through claims compare equal).
    pub fn new() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::starting_at(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// A manual clock starting at `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            inner: Arc::new(ManualInner {
                state: Mutex::new(ManualState {
                    now: start,
                    sleepers: Vec::new(),
                }),
                sleeper_added: Notify::new(),
            }),
        }
    }

    /// This clock as a [`SharedClock`].
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        // A panic while holding this lock cannot leave the state inconsistent (every update is
        // a single assignment or retain), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the clock forward and wakes every sleep whose deadline has been reached.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.now += by;
        let now = state.now;
        let (due, waiting): (Vec<_>, Vec<_>) =
            state.sleepers.drain(..).partition(|s| s.deadline <= now);
        state.sleepers = waiting;
        drop(state);
        for sleeper in due {
            // The sleeper may have been dropped (e.g. lost a race with a response): fine.
            let _ = sleeper.wake.send(());
        }
    }

    /// Sleeps currently waiting on this clock (sleeps that were dropped are not counted).
    pub fn pending_sleeps(&self) -> usize {
        let mut state = self.lock();
        state.sleepers.retain(|s| !s.wake.is_closed());
        state.sleepers.len()
    }

    /// Waits until at least `n` sleeps are pending on this clock, so a test can advance
    /// time exactly when the code under test has started waiting.
    pub async fn wait_for_sleepers(&self, n: usize) {
        loop {
            let notified = self.inner.sleeper_added.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending_sleeps() >= n {
                return;
            }
            notified.await;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.lock().now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = self.lock();
        if duration.is_zero() {
            return Box::pin(std::future::ready(()));
        }
        // A wait past any representable date never ends (like tokio's far-future sleep)
        // instead of panicking on the addition.
        let Some(deadline) = state.now.checked_add(duration) else {
            return Box::pin(std::future::pending());
        };
        let (wake, woken) = oneshot::channel();
        state.sleepers.push(Sleeper { deadline, wake });
        drop(state);
        self.inner.sleeper_added.notify_waiters();
        Box::pin(async move {
            // An error means the clock was dropped: nothing will ever wake us, so end the wait
            // rather than hang forever.
            let _ = woken.await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_past_any_date_never_ends_and_does_not_panic() {
        let clock = ManualClock::new();
        let sleep = clock.sleep(Duration::MAX);
        clock.advance(Duration::from_secs(1_000_000));
        let handle = tokio::spawn({
            let clock = clock.clone();
            async move { timeout(&clock, Duration::from_secs(1), sleep).await }
        });
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(1));
        assert!(handle.await.unwrap().is_err(), "the far sleep ended");
    }

    #[tokio::test]
    async fn advance_wakes_only_due_sleepers() {
        let clock = ManualClock::new();
        let short = tokio::spawn({
            let c = clock.clone();
            async move { c.sleep(Duration::from_secs(5)).await }
        });
        let long = tokio::spawn({
            let c = clock.clone();
            async move { c.sleep(Duration::from_secs(60)).await }
        });
        clock.wait_for_sleepers(2).await;
        clock.advance(Duration::from_secs(5));
        short.await.unwrap();
        assert_eq!(clock.pending_sleeps(), 1);
        assert!(!long.is_finished());
        clock.advance(Duration::from_secs(55));
        long.await.unwrap();
        assert_eq!(clock.pending_sleeps(), 0);
    }

    #[tokio::test]
    async fn dropped_sleeps_are_not_pending() {
        let clock = ManualClock::new();
        let sleep = clock.sleep(Duration::from_secs(1));
        assert_eq!(clock.pending_sleeps(), 1);
        drop(sleep);
        assert_eq!(clock.pending_sleeps(), 0);
    }

    #[tokio::test]
    async fn timeout_uses_the_clock() {
        let clock = ManualClock::new();
        let waiting = tokio::spawn({
            let c = clock.clone();
            async move { timeout(&c, Duration::from_secs(10), std::future::pending::<()>()).await }
        });
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(10));
        assert_eq!(
            waiting.await.unwrap(),
            Err(Elapsed(Duration::from_secs(10)))
        );
        assert_eq!(
            timeout(&clock, Duration::from_secs(1), async { 7 }).await,
            Ok(7)
        );
    }

    #[test]
    fn unix_conversions() {
        let t = UNIX_EPOCH + Duration::from_millis(1_296_509_381_665);
        assert_eq!(unix_seconds(t), 1_296_509_381);
        assert_eq!(unix_millis(t), 1_296_509_381_665);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), -5);
    }

    #[test]
    fn clones_share_time() {
        let a = ManualClock::new();
        let b = a.clone();
        let before = b.now();
        a.advance(Duration::from_secs(3600));
        assert_eq!(b.now(), before + Duration::from_secs(3600));
    }
}
