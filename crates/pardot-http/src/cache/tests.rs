use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pardot_auth_core::testing::CountingSource;
use pardot_auth_core::{
    AccessToken, Clock, Error, Expiry, ManualClock, TokenKind, TokenSource, provide_token_fn,
    refresh_grant_fn,
};
use secrecy::{ExposeSecret, SecretString};

use super::*;

/// A source handing out `tok-1`, `tok-2`, … living `lifetime` (a known expiry) on `clock`.
fn fake(clock: &ManualClock, lifetime: Duration) -> CountingSource {
    CountingSource::new(clock.shared())
        .lifetime(lifetime)
        .known_expiry()
}

fn secret(t: &AccessToken) -> String {
    t.secret().expose_secret().to_owned()
}

fn cache(fake: &CountingSource, clock: &ManualClock) -> CachedTokenSource {
    CachedTokenSource::builder(fake.shared())
        .clock(clock.shared())
        .jitter_source(Jitter::fixed(0.0))
        .backoff(Duration::from_secs(1), Duration::from_secs(1))
        .build()
}

/// `n` tasks, each asking `cache` for a token.
fn callers(
    cache: &CachedTokenSource,
    n: usize,
) -> Vec<tokio::task::JoinHandle<Result<AccessToken, Error>>> {
    let ask = |c: CachedTokenSource| async move { c.token().await };
    (0..n).map(|_| tokio::spawn(ask(cache.clone()))).collect()
}

/// Moves `clock` on by `secs`, asks `cache` for a token, and counts `source`'s fetches so far.
async fn fetches_after(
    secs: u64,
    clock: &ManualClock,
    cache: &CachedTokenSource,
    source: &CountingSource,
) -> u32 {
    clock.advance(Duration::from_secs(secs));
    cache.token().await.unwrap();
    source.fetches()
}

/// A clock, a [`fake`] source of tokens living `lifetime` on it, and a [`cache`] of both.
fn setup(lifetime: Duration) -> (ManualClock, CountingSource, CachedTokenSource) {
    let clock = ManualClock::new();
    let fake = fake(&clock, lifetime);
    let cache = cache(&fake, &clock);
    (clock, fake, cache)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_callers_cause_one_fetch() {
    let clock = ManualClock::new();
    let fake = fake(&clock, Duration::from_secs(3600)).gated();
    let cache = cache(&fake, &clock);
    let tasks = callers(&cache, 1000);
    fake.started().await;
    fake.release();
    for t in tasks {
        assert_eq!(secret(&t.await.unwrap().unwrap()), "tok-1");
    }
    assert_eq!(fake.fetches(), 1);
    assert_eq!(cache.metrics().fetches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_fetched_again_once() {
    let (clock, fake, cache) = setup(Duration::from_secs(300));
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-1");
    clock.advance(Duration::from_secs(301));
    let tasks = callers(&cache, 200);
    for t in tasks {
        assert_eq!(secret(&t.await.unwrap().unwrap()), "tok-2");
    }
    assert_eq!(fake.fetches(), 2);
    assert_eq!(cache.metrics().refreshes, 1);
}

// One thread: the 50 callers all take their first step (and so join the failing fetch) before
// the test opens the gate. On two threads a caller that starts after the failure rightly waits
// out the backoff on the manual clock, which this test never advances: it hung about 1 run in 6.
#[tokio::test]
async fn waiters_share_the_error_and_the_next_attempt_backs_off_on_the_clock() {
    let clock = ManualClock::new();
    let fake = fake(&clock, Duration::from_secs(3600)).gated();
    fake.fail(true);
    let cache = cache(&fake, &clock);
    let tasks = callers(&cache, 50);
    fake.started().await;
    fake.release();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("login server down (fetch 1)"), "{e}");
        assert!(e.is_retryable());
    }
    assert_eq!(fake.fetches(), 1);

    // The next attempt waits on the clock before fetching.
    fake.fail(false);
    let next = tokio::spawn({
        let c = cache.clone();
        async move { c.token().await }
    });
    clock.wait_for_sleepers(1).await;
    assert_eq!(fake.fetches(), 1, "no fetch before the backoff ends");
    clock.advance(Duration::from_secs(1));
    fake.started().await;
    fake.release();
    assert_eq!(secret(&next.await.unwrap().unwrap()), "tok-2");
    assert_eq!(cache.metrics().backoff_waits, 1);
    assert_eq!(cache.metrics().fetch_failures, 1);
}

#[tokio::test]
async fn refresh_ahead_uses_the_margin_and_soft_failure_keeps_the_old_token() {
    let (clock, fake, cache) = setup(Duration::from_secs(300));
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-1");
    // margin = min(5 min, 20% of 300 s) = 60 s; no jitter: refresh at 240 s.
    clock.advance(Duration::from_secs(239));
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-1");
    assert_eq!(fake.fetches(), 1);

    fake.fail(true);
    clock.advance(Duration::from_secs(2));
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-1");
    assert_eq!(fake.fetches(), 2);
    assert_eq!(cache.metrics().soft_refresh_failures, 1);
    // Within the backoff after the failure: the old token, no new fetch.
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-1");
    assert_eq!(fake.fetches(), 2);

    fake.fail(false);
    clock.advance(Duration::from_secs(2));
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-3");
    assert_eq!(cache.metrics().refreshes, 1);
}

#[tokio::test]
async fn a_refresh_that_returns_the_same_credential_is_not_repeated_before_expiry() {
    // Pardot's legacy login answers with the api_key it already issued while that key is live.
    let clock = ManualClock::new();
    let issued = clock.now();
    let fetches = Arc::new(AtomicU32::new(0));
    let source: Arc<dyn TokenSource> = Arc::new(provide_token_fn("same-key", {
        let clock = clock.clone();
        let fetches = fetches.clone();
        move || {
            let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let now = clock.now();
            let lifetime = Duration::from_secs(3600);
            // The same key until it expires, then a new one.
            let (secret, at) = if now < issued + lifetime {
                ("key-1".to_owned(), issued)
            } else {
                (format!("key-{n}"), now)
            };
            async move {
                Ok(AccessToken::new(
                    TokenKind::SalesforceBearer,
                    secret.into(),
                    at,
                    Expiry::Known(at + lifetime),
                ))
            }
        }
    }));
    let cache = CachedTokenSource::builder(source)
        .clock(clock.shared())
        .jitter(0.0)
        .build();
    assert_eq!(secret(&cache.token().await.unwrap()), "key-1");
    // Inside the 5-minute margin: one refresh attempt, which returns the same key...
    clock.advance(Duration::from_secs(58 * 60));
    assert_eq!(secret(&cache.token().await.unwrap()), "key-1");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // ...and later calls before expiry do not ask again.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(10));
        assert_eq!(secret(&cache.token().await.unwrap()), "key-1");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // At expiry, a new key.
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(secret(&cache.token().await.unwrap()), "key-3");
    assert_eq!(fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn jitter_moves_the_refresh_earlier_by_at_most_half_the_margin() {
    let clock = ManualClock::new();
    let fake = fake(&clock, Duration::from_secs(300));
    let cache = CachedTokenSource::builder(fake.shared())
        .clock(clock.shared())
        .jitter_source(Jitter::fixed(0.999_999))
        .build();
    cache.token().await.unwrap();
    assert_eq!(fetches_after(209, &clock, &cache, &fake).await, 1);
    assert_eq!(fetches_after(2, &clock, &cache, &fake).await, 2);
}

#[tokio::test]
async fn invalidate_drops_only_the_rejected_token() {
    let (_clock, fake, cache) = setup(Duration::from_secs(3600));
    let first = cache.token().await.unwrap();
    cache.invalidate(&first);
    let second = cache.token().await.unwrap();
    assert_eq!(secret(&second), "tok-2");
    // A slow rejection of the first token must not throw away the second.
    cache.invalidate(&first);
    assert_eq!(secret(&cache.token().await.unwrap()), "tok-2");
    assert_eq!(fake.fetches(), 2);
    assert_eq!(cache.metrics().invalidations, 1);
}

#[tokio::test]
async fn caches_sharing_a_store_share_one_token() {
    let clock = ManualClock::new();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let fake_a = fake(&clock, Duration::from_secs(3600));
    let fake_b = fake(&clock, Duration::from_secs(3600));
    let a = CachedTokenSource::builder(fake_a.shared())
        .clock(clock.shared())
        .store(store.clone())
        .build();
    let b = CachedTokenSource::builder(fake_b.shared())
        .clock(clock.shared())
        .store(store.clone())
        .build();
    let ta = a.token().await.unwrap();
    let tb = b.token().await.unwrap();
    assert!(ta.is_same_as(&tb));
    assert_eq!((fake_a.fetches(), fake_b.fetches()), (1, 0));
    assert_eq!(b.metrics().store_adoptions, 1);
    // A token rejected by the server is not adopted again from the store.
    b.invalidate(&tb);
    assert_eq!(secret(&b.token().await.unwrap()), "tok-1");
    assert_eq!(fake_b.fetches(), 1);
}

#[tokio::test]
async fn estimated_expiries_are_taken_as_the_token_says() {
    // The session estimate is made where the token is made (sf-oauth), not here.
    let clock = ManualClock::new();
    let tokens = CountingSource::new(clock.shared()).lifetime(Duration::from_secs(15 * 60));
    let cache = CachedTokenSource::builder(tokens.shared())
        .clock(clock.shared())
        .jitter(0.0)
        .build();
    let t = cache.token().await.unwrap();
    assert!(matches!(t.expiry(), Expiry::Estimated(_)));
    assert_eq!(t.lifetime(), Duration::from_secs(15 * 60));
    // margin = min(5 min, 3 min) = 3 min: refresh at 12 min.
    assert_eq!(fetches_after(12 * 60 - 1, &clock, &cache, &tokens).await, 1);
    assert_eq!(fetches_after(2, &clock, &cache, &tokens).await, 2);
}

#[tokio::test]
async fn a_hung_fetch_times_out_when_the_clock_passes_the_fetch_timeout() {
    // An hour on the runtime's timer would hang this test: only the manual clock can end it.
    let clock = ManualClock::new();
    let hung = fake(&clock, Duration::from_secs(3600)).gated();
    let cache = CachedTokenSource::builder(hung.shared())
        .clock(clock.shared())
        .fetch_timeout(Duration::from_secs(3600))
        .build();
    let waiting = tokio::spawn({
        let c = cache.clone();
        async move { c.token().await }
    });
    hung.started().await;
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(3599));
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "the deadline has not passed yet");
    clock.advance(Duration::from_secs(1));
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.kind(), pardot_auth_core::ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable());
    assert_eq!(cache.metrics().fetch_failures, 1);
}

#[tokio::test]
async fn refresh_grant_uses_and_keeps_the_rotated_refresh_token() {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::new());
    store
        .save("default", &StoredToken::refresh_only("rt-0".into()))
        .await
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let grant = {
        let (clock, seen) = (clock.clone(), seen.clone());
        refresh_grant_fn("rotating", move |rt: SecretString| {
            let mut seen = seen.lock().unwrap();
            seen.push(rt.expose_secret().to_owned());
            let n = seen.len();
            let now = clock.now();
            async move {
                Ok(AccessToken::new(
                    TokenKind::SalesforceBearer,
                    format!("tok-{n}").into(),
                    now,
                    Expiry::Known(now + Duration::from_secs(3600)),
                )
                .with_refresh_token(format!("rt-{n}").into()))
            }
        })
    };
    let never = provide_token_fn("never", || async {
        Err(Error::config("the source must not be called"))
    });
    let cache = CachedTokenSource::builder(Arc::new(never))
        .clock(clock.shared())
        .store(store.clone())
        .refresh_grant(Arc::new(grant))
        .build();
    let t1 = cache.token().await.unwrap();
    cache.invalidate(&t1);
    let t2 = cache.token().await.unwrap();
    assert_eq!(secret(&t2), "tok-2");
    assert_eq!(*seen.lock().unwrap(), vec!["rt-0", "rt-1"]);
    let stored = store.load("default").await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "rt-2");
}

#[tokio::test]
async fn debug_shows_no_secret() {
    let (_clock, _fake, cache) = setup(Duration::from_secs(3600));
    cache.token().await.unwrap();
    let text = format!("{cache:?}");
    assert!(!text.contains("tok-1"), "{text}");
    assert!(text.contains("redacted"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_during_a_refresh_waits_for_it_instead_of_fetching_again() {
    let (clock, fake, cache) = setup(Duration::from_secs(300));
    let first = cache.token().await.unwrap();

    // Inside the margin, one caller starts a refresh that the gate holds.
    let gated = fake.clone().gated();
    let cache = CachedTokenSource::builder(gated.shared())
        .clock(clock.shared())
        .jitter_source(Jitter::fixed(0.0))
        .store(cache.store().clone())
        .build();
    assert!(cache.token().await.unwrap().is_same_as(&first));
    clock.advance(Duration::from_secs(250));
    let refreshing = tokio::spawn({
        let c = cache.clone();
        async move { c.token().await }
    });
    fake.started().await;

    // Meanwhile the server rejects the old token: callers now wait for the refresh in flight.
    cache.invalidate(&first);
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let c = cache.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    gated.release();
    assert_eq!(secret(&refreshing.await.unwrap().unwrap()), "tok-2");
    for w in waiters {
        assert_eq!(secret(&w.await.unwrap().unwrap()), "tok-2");
    }
    assert_eq!(fake.fetches(), 2);
}

#[test]
fn caches_with_the_same_settings_share_them() {
    let clock = ManualClock::new();
    let build = |b: CachedTokenSourceBuilder| b.build().inner.config.clone();
    let source = || fake(&clock, Duration::from_secs(300)).shared();
    let default = build(CachedTokenSource::builder(source()));
    let also_default = build(CachedTokenSource::builder(source()).jitter(0.5));
    assert!(Arc::ptr_eq(&default, &also_default));
    let own = build(CachedTokenSource::builder(source()).jitter(0.0));
    assert!(!Arc::ptr_eq(&default, &own));
    assert_eq!(own.jitter_fraction, 0.0);
}
