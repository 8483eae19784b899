//! Time bounds for requests that reuse their timers.
//!
//! `tokio::time::timeout` makes a new timer per call. When the runtime's timer driver is
//! parked with no timer pending (the usual state between two sequential requests), inserting
//! one wakes the driver's thread so it can shorten its sleep: a context switch per request,
//! measured at 2–3% of a whole loopback GET through [`PardotClient`](crate::PardotClient).
//! A timer that stays registered between requests and is only moved later never needs that
//! wake, because its new deadline is never earlier than the one the driver sleeps until.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Idle timers kept for reuse: enough for the concurrency a client usually sees; beyond it
/// timers are simply dropped.
const KEPT: usize = 32;

/// A pool of timers bounding futures.
#[derive(Default)]
pub(crate) struct Deadlines {
    idle: Mutex<Vec<Idle>>,
}

/// A timer kept for reuse, with the runtime it belongs to: a timer can only be polled on the
/// runtime that made it (one whose runtime has shut down would panic), and a client may outlive
/// a runtime (one client shared by several `#[tokio::test]`s).
struct Idle {
    runtime: tokio::runtime::Id,
    timer: Pin<Box<Sleep>>,
}

/// The bound passed before the future finished.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Elapsed;

impl Deadlines {
    /// Runs `fut` for at most `limit` (on tokio's clock, so paused test time applies).
    pub(crate) async fn bound<F: Future>(
        &self,
        limit: Duration,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        let deadline = Instant::now()
            .checked_add(limit)
            // A bound past the clock's range is no bound at all; a year is as good.
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        let kept = runtime.and_then(|id| {
            let mut idle = self.lock();
            // Timers of another runtime are of no use here (and hold that runtime's handle).
            idle.retain(|i| i.runtime == id);
            idle.pop()
        });
        let mut timer = match kept {
            Some(Idle { mut timer, .. }) => {
                timer.as_mut().reset(deadline);
                timer
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        };
        let mut fut = std::pin::pin!(fut);
        let outcome = std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(out));
            }
            timer.as_mut().poll(cx).map(|()| Err(Elapsed))
        })
        .await;
        if let Some(runtime) = runtime {
            let mut idle = self.lock();
            if idle.len() < KEPT {
                idle.push(Idle { runtime, timer });
            }
        }
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The vector is valid whatever panicked while it was held.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bounds four seconds of work that ends in `value` by five: the work must finish.
    async fn four_seconds_within_five(d: &Deadlines, value: u32) {
        let out = d
            .bound(Duration::from_secs(5), async {
                tokio::time::sleep(Duration::from_secs(4)).await;
                value
            })
            .await;
        assert_eq!(out, Ok(value));
    }

    /// Bounds a future that never ends by `bound`: it must be cut off, exactly then.
    async fn cut_off_after(d: &Deadlines, bound: Duration) {
        let started = Instant::now();
        let out = d.bound(bound, std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed));
        assert_eq!(started.elapsed(), bound);
    }

    #[tokio::test(start_paused = true)]
    async fn a_future_that_finishes_in_time_gives_its_output() {
        four_seconds_within_five(&Deadlines::default(), 7).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_future_past_its_bound_is_cut_off() {
        cut_off_after(&Deadlines::default(), Duration::from_secs(5)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_reused_timer_counts_from_the_new_start() {
        let d = Deadlines::default();
        assert_eq!(d.bound(Duration::from_secs(5), async { 1 }).await, Ok(1));
        // The kept timer was set for t+5 s; well past that, a new 5 s bound still allows 4 s.
        tokio::time::sleep(Duration::from_secs(60)).await;
        four_seconds_within_five(&d, 2).await;
        cut_off_after(&d, Duration::from_secs(3)).await;
        assert_eq!(d.lock().len(), 1, "one timer, reused each time");
    }

    #[test]
    fn a_timer_kept_from_a_runtime_that_ended_is_not_reused_by_the_next() {
        let d = Deadlines::default();
        for _ in 0..2 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let out = runtime.block_on(d.bound(Duration::from_secs(5), async { 3 }));
            assert_eq!(out, Ok(3));
            drop(runtime);
        }
        // A bound that must fire on the new runtime, with the old runtime's timer dropped.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let out =
            runtime.block_on(d.bound(Duration::from_millis(10), std::future::pending::<()>()));
        assert_eq!(out, Err(Elapsed));
        assert_eq!(d.lock().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_bounds_use_their_own_timers_and_keep_a_bounded_number() {
        let d = std::sync::Arc::new(Deadlines::default());
        let tasks: Vec<_> = (0..(KEPT as u64 + 8))
            .map(|i| {
                let d = d.clone();
                tokio::spawn(async move {
                    d.bound(Duration::from_secs(10), async move {
                        tokio::time::sleep(Duration::from_secs(1 + i % 3)).await;
                        i
                    })
                    .await
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), Ok(i as u64));
        }
        assert_eq!(d.lock().len(), KEPT);
    }
}
