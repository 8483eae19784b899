//! The `redis` backend: permits and the daily budget shared by every process on every
//! machine, in Redis.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use super::handoff::{Baton, HandOff};
use super::released::ReleaseSignal;
use crate::store::{RedisConnection, StoreError};

/// How long a permit lives unless given back first: longer than any request should take, so a
/// permit of a process that died mid-request comes back after this.
pub const DEFAULT_PERMIT_TTL: Duration = Duration::from_secs(120);

/// Drops expired permits, then takes one if fewer than `limit` are held. Scores are expiry
/// times in milliseconds on Redis's clock (`TIME`), so callers' clocks do not matter.
/// Returns `{1, 0}`, or `{0, milliseconds until the soonest permit expires}`.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(first[2]) - now)}
";

/// Gives a permit back and wakes one waiter's search.
const GIVE_BACK: &str = r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', ARGV[2], 'released')
end
return 0
";

/// Renews a permit passed to another task of its process (its expiry restarts on Redis's
/// clock); a permit that expired meanwhile is not brought back.
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 0
";

/// Counts one request against the day's budget; the counter expires two days later.
/// Returns the count after it, or -1 (and counts nothing) when the budget is used up.
const CHARGE: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return {-1, used} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], 172800) end
return {used, used}
";

/// Permits and budget of one business unit, under `{PREFIX:governor:BU}`.
pub(super) struct RedisPermits {
    connection: RedisConnection,
    permits: String,
    channel: String,
    family: String,
    limit: usize,
    ttl: Duration,
    /// This process never holds more than `limit` permits, so no more than `limit` of its
    /// tasks ask Redis at once: the others wait here, without a Redis round trip each.
    local: Arc<Semaphore>,
    /// One task per process waits on Redis for a permit to come back; the others queue here.
    /// A give-back then wakes one waiter per process, not every waiting task of the fleet.
    waiting: Mutex<()>,
    /// Give-backs anywhere in the fleet, from one subscription.
    released: ReleaseSignal,
    /// Permits passed between this process's tasks.
    handoff: Arc<HandOff>,
}

/// A held permit, given back on drop (on the runtime it was taken on; otherwise it expires).
pub(super) struct RedisPermit {
    connection: RedisConnection,
    permits: String,
    channel: String,
    id: String,
    /// How many times it was passed since it was taken from Redis.
    handoffs: u32,
    handoff: Arc<HandOff>,
    _local: OwnedSemaphorePermit,
}

impl Drop for RedisPermit {
    fn drop(&mut self) {
        let baton = Baton {
            id: std::mem::take(&mut self.id),
            handoffs: self.handoffs + 1,
        };
        if let Err(baton) = self.handoff.offer(baton) {
            let args = [baton.id, std::mem::take(&mut self.channel)];
            self.connection
                .run_detached(GIVE_BACK, std::mem::take(&mut self.permits), args);
        }
    }
}

impl RedisPermits {
    pub(super) fn new(
        connection: RedisConnection,
        prefix: &str,
        business_unit: &str,
        limit: usize,
        ttl: Duration,
    ) -> Result<Self, StoreError> {
        crate::store::check_prefix(prefix)?;
        crate::store::check_key(business_unit)?;
        let family = format!("{{{prefix}:governor:{business_unit}}}");
        let released = ReleaseSignal::new(connection.clone(), format!("{family}:released"));
        Ok(Self {
            connection,
            permits: format!("{family}:permits"),
            channel: format!("{family}:released"),
            family,
            limit: limit.max(1),
            ttl: ttl.max(Duration::from_millis(1)),
            local: Arc::new(Semaphore::new(limit.max(1))),
            waiting: Mutex::new(()),
            released,
            handoff: Arc::default(),
        })
    }

    async fn try_take(&self, id: &str) -> Result<(bool, u64), StoreError> {
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let (taken, wait_ms): (i64, u64) = self
            .connection
            .query(move |mut m| async move {
                Script::new(TAKE)
                    .key(&self.permits)
                    .arg(self.limit)
                    .arg(id)
                    .arg(ttl_ms)
                    .invoke_async(&mut m)
                    .await
            })
            .await?;
        Ok((taken == 1, wait_ms))
    }

    /// A permit, waiting at most `wait` (woken when one is given back, or when the soonest
    /// one expires); `None` when none came free in time. `on_wait` runs once if it had to
    /// wait.
    pub(super) async fn take(
        &self,
        wait: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<Option<RedisPermit>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut on_wait = Some(on_wait);
        let mut note_wait = || {
            if let Some(f) = on_wait.take() {
                f();
            }
        };
        let local = match self.local.clone().try_acquire_owned() {
            Ok(local) => local,
            Err(_) => {
                note_wait();
                match tokio::time::timeout_at(deadline, self.local.clone().acquire_owned()).await {
                    Ok(Ok(local)) => local,
                    // The semaphore is never closed; a timeout is "none in time".
                    Ok(Err(_)) | Err(_) => return Ok(None),
                }
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        let (taken_at_once, _) = self.try_take(&id).await?;
        if taken_at_once {
            return Ok(Some(self.permit(id, 0, local)));
        }
        note_wait();
        let Ok(_waiting) = tokio::time::timeout_at(deadline, self.waiting.lock()).await else {
            return Ok(None);
        };
        self.released.listen().await?;
        let mut passed = self.handoff.expect();
        let outcome = self.wait_for_permit(&id, deadline, &mut passed).await;
        // A permit passed while the wait ended another way is given back.
        if let Some(extra) = self.handoff.stop(&mut passed) {
            self.give_back(extra.id);
        }
        Ok(match outcome? {
            Some(baton) => Some(self.permit(baton.id, baton.handoffs, local)),
            None => None,
        })
    }

    /// Waits (as the process's one Redis waiter) until a permit is taken from Redis or passed
    /// by a task of this process; `None` at the deadline.
    async fn wait_for_permit(
        &self,
        id: &str,
        deadline: tokio::time::Instant,
        passed: &mut tokio::sync::oneshot::Receiver<Baton>,
    ) -> Result<Option<Baton>, StoreError> {
        loop {
            // Registered before the attempt, so a give-back in between wakes it.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let (taken, wait_ms) = self.try_take(id).await?;
            if taken {
                return Ok(Some(Baton {
                    id: id.to_owned(),
                    handoffs: 0,
                }));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            // Woken by a give-back, or when the soonest permit expires (its holder may have
            // died), unless a task of this process passes its permit first.
            let bound = Duration::from_millis(wait_ms).min(deadline - now);
            tokio::select! {
                _ = tokio::time::timeout(bound, released) => {}
                baton = &mut *passed => match baton {
                    Ok(baton) => {
                        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
                        self.connection.run_detached(
                            RENEW,
                            self.permits.clone(),
                            [baton.id.clone(), ttl_ms.to_string()],
                        );
                        return Ok(Some(baton));
                    }
                    Err(_) => *passed = self.handoff.expect(),
                },
            }
        }
    }

    fn permit(&self, id: String, handoffs: u32, local: OwnedSemaphorePermit) -> RedisPermit {
        RedisPermit {
            connection: self.connection.clone(),
            permits: self.permits.clone(),
            channel: self.channel.clone(),
            id,
            handoffs,
            handoff: Arc::clone(&self.handoff),
            _local: local,
        }
    }

    fn give_back(&self, id: String) {
        self.connection
            .run_detached(GIVE_BACK, self.permits.clone(), [id, self.channel.clone()]);
    }

    /// Counts one request against `budget` for `day`: `Ok(used)` with the count after it, or
    /// `Err(used)` when the budget was used up already.
    pub(super) async fn charge(
        &self,
        day: u64,
        budget: u64,
    ) -> Result<Result<u64, u64>, StoreError> {
        let key = &format!("{}:budget:{day}", self.family);
        let (outcome, used): (i64, u64) = self
            .connection
            .query(move |mut m| async move {
                Script::new(CHARGE)
                    .key(key)
                    .arg(budget)
                    .invoke_async(&mut m)
                    .await
            })
            .await?;
        Ok(if outcome < 0 { Err(used) } else { Ok(used) })
    }
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use pardot_auth_core::ManualClock;
    use tokio::io::{AsyncBufReadExt, BufReader};

    use super::*;
    use crate::error::PardotError;
    use crate::governor::{FailurePolicy, Governor};
    use crate::testing::RedisServer;

    const URL_VAR: &str = "PARDOT_HTTP_TEST_PERMIT_HOLDER_URL";

    /// A bound for waits that must end by a wake-up or an expiry long before it.
    const WITHIN: Duration = Duration::from_secs(10);

    async fn governor(url: &str, limit: usize, ttl: Duration) -> Governor {
        let connection = RedisConnection::open(url).await.unwrap();
        Governor::redis(connection, "test", "0Uv5g000000XyzAB", limit, ttl).unwrap()
    }

    #[tokio::test]
    async fn permits_are_shared_and_a_given_back_one_wakes_a_waiter() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let clock = ManualClock::new().shared();
        let a = governor(&server.url(), 2, DEFAULT_PERMIT_TTL).await;
        let b = governor(&server.url(), 2, DEFAULT_PERMIT_TTL).await;
        let first = a.acquire(&clock, || {}).await.unwrap();
        let _second = b.acquire(&clock, || {}).await.unwrap();
        let short = b.clone().with_acquire_timeout(Duration::from_millis(100));
        assert!(matches!(
            short.acquire(&clock, || {}).await.err().unwrap(),
            PardotError::Timeout(_)
        ));
        let waited = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let third = tokio::spawn({
            let (b, clock, waited) = (b.clone(), clock.clone(), waited.clone());
            async move {
                b.acquire(&clock, || {
                    waited.store(true, std::sync::atomic::Ordering::SeqCst)
                })
                .await
                .map(|_| ())
            }
        });
        drop(first);
        // Woken by the give-back, long before the 120 s permit expiry.
        tokio::time::timeout(WITHIN, third)
            .await
            .expect("woken when a permit came back")
            .unwrap()
            .unwrap();
    }

    /// Two "processes" (governors with their own connections), many tasks each: permits
    /// passed between a process's tasks and given back through Redis never let more than
    /// the limit run at once across both, and every task gets its turn.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passed_and_given_back_permits_hold_the_fleet_limit() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let clock = ManualClock::new().shared();
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let g = governor(&server.url(), 2, DEFAULT_PERMIT_TTL).await;
            for _ in 0..8 {
                let (g, clock) = (g.clone(), clock.clone());
                let (running, peak) = (running.clone(), peak.clone());
                tasks.push(tokio::spawn(async move {
                    for _ in 0..10 {
                        let _slot = g.acquire(&clock, || {}).await.unwrap();
                        let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }));
            }
        }
        for task in tasks {
            tokio::time::timeout(WITHIN, task)
                .await
                .expect("every task got its permits")
                .unwrap();
        }
        let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "peak {peak}");
    }

    /// Run by `a_killed_holders_permit_expires` as a separate process: takes the only
    /// permit, says so, and holds it until killed.
    #[tokio::test]
    #[ignore = "a child process of a_killed_holders_permit_expires"]
    async fn permit_holder_child() {
        let Ok(url) = std::env::var(URL_VAR) else {
            return;
        };
        let clock = ManualClock::new().shared();
        let g = governor(&url, 1, Duration::from_secs(2)).await;
        let _slot = g.acquire(&clock, || {}).await.unwrap();
        println!("HOLDING");
        tokio::time::sleep(Duration::from_secs(120)).await;
    }

    #[tokio::test]
    async fn a_killed_holders_permit_expires() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "governor::redis::tests::permit_holder_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(URL_VAR, server.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        tokio::time::timeout(WITHIN, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("HOLDING") {
                    return;
                }
            }
            panic!("the child ended without taking the permit");
        })
        .await
        .expect("the child took the permit");
        let clock = ManualClock::new().shared();
        let g = governor(&server.url(), 1, DEFAULT_PERMIT_TTL).await;
        let short = g.clone().with_acquire_timeout(Duration::from_millis(100));
        assert!(
            matches!(
                short.acquire(&clock, || {}).await.err(),
                Some(PardotError::Timeout(_))
            ),
            "the child holds the only permit"
        );
        child.kill().await.unwrap();
        // Killed mid-request: nobody gives the permit back; it expires on Redis's clock.
        let slot = tokio::time::timeout(WITHIN, g.acquire(&clock, || {}))
            .await
            .expect("the dead holder's permit expired");
        slot.unwrap();
    }

    #[tokio::test]
    async fn the_budget_is_shared_and_resets_at_the_offset_day_boundary() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        // 04:59:59 UTC with the day starting at 05:00 UTC (US Eastern Standard Time).
        let day = 86_400 * 20_000;
        let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(day + 5 * 3600 - 1));
        let shared = clock.shared();
        let make = async || {
            governor(&server.url(), 5, DEFAULT_PERMIT_TTL)
                .await
                .with_daily_budget(3)
                .with_day_offset(Duration::from_secs(5 * 3600))
        };
        let (a, b) = (make().await, make().await);
        a.acquire(&shared, || {}).await.unwrap();
        b.acquire(&shared, || {}).await.unwrap();
        a.acquire(&shared, || {}).await.unwrap();
        for g in [&a, &b] {
            let e = g.acquire(&shared, || {}).await.err().unwrap();
            assert!(
                matches!(e, PardotError::BudgetExhausted { used: 3, budget: 3 }),
                "{e}"
            );
        }
        clock.advance(Duration::from_secs(1));
        b.acquire(&shared, || {}).await.unwrap();
        assert_eq!(b.usage().used_today, 1);
    }

    #[tokio::test]
    async fn losing_redis_fails_closed_by_default_or_falls_back_when_open() {
        let Some(mut server) = RedisServer::start() else {
            return;
        };
        let clock = ManualClock::new().shared();
        let closed = governor(&server.url(), 5, DEFAULT_PERMIT_TTL).await;
        let open = governor(&server.url(), 5, DEFAULT_PERMIT_TTL)
            .await
            .with_failure_policy(FailurePolicy::FailOpen);
        closed.acquire(&clock, || {}).await.unwrap();
        server.kill();
        let e = closed.acquire(&clock, || {}).await.err().unwrap();
        assert!(
            matches!(
                e,
                PardotError::Store(crate::store::StoreError::Unavailable { .. })
            ),
            "{e}"
        );
        let _slot = open.acquire(&clock, || {}).await.unwrap();
        let _second = open.acquire(&clock, || {}).await.unwrap();
        assert_eq!(open.usage().in_flight, 2);
    }
}
