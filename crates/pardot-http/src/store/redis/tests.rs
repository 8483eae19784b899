//! The Redis store against a real `redis-server`.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::store::contract::refresh_only;
use crate::testing::RedisServer;

/// A bound for waits that should end by a wake-up long before it: the test fails (rather than
/// passes slowly) when the wake-up does not come.
const WOKEN_WITHIN: Duration = Duration::from_secs(10);

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

async fn store(server: &RedisServer) -> RedisTokenStore {
    RedisTokenStore::connect(&server.url()).await.unwrap()
}

/// A store of `server` sealing with `key`.
async fn sealed_store(server: &RedisServer, key: &str) -> RedisTokenStore {
    let key = EncryptionKey::parse(key).unwrap();
    store(server).await.with_encryption_key(key)
}

async fn raw_data(store: &RedisTokenStore, key: &str) -> Option<Vec<u8>> {
    redis::cmd("HGET")
        .arg(store.names(key).unwrap().record)
        .arg("data")
        .query_async(&mut store.connection.manager())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_store_contract_holds() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    crate::store::contract::fenced_saves_and_revisions(&store(&server).await).await;
}

#[tokio::test]
async fn a_lease_expires_on_redis_time_and_the_late_holder_is_refused() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = store(&server)
        .await
        .with_lease_ttl(Duration::from_millis(300));
    let b = store(&server).await;
    let crashed = a.lock("k", Duration::from_secs(1)).await.unwrap();
    // B waits for the lease: nobody releases it, Redis expires it.
    let taken = tokio::time::timeout(WOKEN_WITHIN, b.lock("k", Duration::from_secs(30)))
        .await
        .expect("the expired lease was taken")
        .unwrap();
    assert!(taken.fence() > crashed.fence());
    b.save_fenced(&taken, &refresh_only("rt-new"))
        .await
        .unwrap();
    // The holder that came back late cannot overwrite the newer token.
    let err = a
        .save_fenced(&crashed, &refresh_only("rt-old"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::StaleLease { fence, current, .. } if fence < current),
        "{err}"
    );
    let kept = b.load("k").await.unwrap().unwrap();
    assert_eq!(kept.refresh_token.unwrap().expose_secret(), "rt-new");
    // Its late release does not free the newer holder's lease either.
    drop(crashed);
    let err = a.lock("k", Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
}

#[tokio::test]
async fn waiters_are_woken_by_the_write_and_by_the_release() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let writer = store(&server).await;
    let waiter = store(&server).await;
    let changed = tokio::spawn({
        let waiter = waiter.clone();
        async move { waiter.changed("k", 0, Duration::from_secs(120)).await }
    });
    let lease = writer.lock("k", Duration::from_secs(1)).await.unwrap();
    let second = tokio::spawn({
        let waiter = waiter.clone();
        async move {
            waiter
                .lock("k", Duration::from_secs(120))
                .await
                .map(|l| l.fence())
        }
    });
    writer
        .save_fenced(&lease, &refresh_only("rt"))
        .await
        .unwrap();
    let revision = tokio::time::timeout(WOKEN_WITHIN, changed)
        .await
        .expect("woken by the write, not the 120 s timeout")
        .unwrap()
        .unwrap();
    assert_eq!(revision, 1);
    let fence = lease.fence();
    drop(lease);
    let next = tokio::time::timeout(WOKEN_WITHIN, second)
        .await
        .expect("woken by the release, not the 75 s lease expiry")
        .unwrap()
        .unwrap();
    assert_eq!(next, fence + 1);
}

#[tokio::test]
async fn keys_share_one_slot_per_family_and_never_hold_a_secret() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await.with_prefix("acme:prod").unwrap();
    let names = store.names("user-1").unwrap();
    for name in [&names.record, &names.lease, &names.fence, &names.channel] {
        assert!(name.starts_with("{acme:prod:user-1}:"), "{name}");
    }
    assert!(store.clone().with_prefix("a{b}").is_err());
    store
        .save("user-1", &refresh_only("rt-secret"))
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut store.connection.manager())
        .await
        .unwrap();
    assert_eq!(keys, vec![names.record.clone()]);
    store.remove("user-1").await.unwrap();
    assert!(store.load("user-1").await.unwrap().is_none());
    assert_eq!(store.revision("user-1").await.unwrap(), 2);
}

#[tokio::test]
async fn sealed_round_trip_wrong_key_and_clear_upgrade() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let sealed = sealed_store(&server, KEY).await;
    sealed.save("k", &refresh_only("rt-secret")).await.unwrap();
    let before = raw_data(&sealed, "k").await.unwrap();
    assert!(!String::from_utf8_lossy(&before).contains("rt-secret"));
    let back = sealed.load("k").await.unwrap().unwrap();
    assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-secret");

    // Another key, or none: a typed error, and the record is never overwritten.
    let other = sealed_store(&server, OTHER_KEY).await;
    let clear = store(&server).await;
    for wrong in [&other, &clear] {
        crate::store::contract::a_wrong_key_reads_and_writes_nothing(wrong, "k").await;
    }
    assert_eq!(raw_data(&sealed, "k").await.unwrap(), before);

    // A record in clear is read once and rewritten sealed.
    clear.save("j", &refresh_only("rt-clear")).await.unwrap();
    assert!(String::from_utf8_lossy(&raw_data(&clear, "j").await.unwrap()).contains("rt-clear"));
    let back = sealed.load("j").await.unwrap().unwrap();
    assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-clear");
    let now = raw_data(&clear, "j").await.unwrap();
    assert!(!String::from_utf8_lossy(&now).contains("rt-clear"));
    assert_eq!(
        sealed
            .load("j")
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose_secret(),
        "rt-clear"
    );
    assert_eq!(sealed.revision("j").await.unwrap(), 1);
}

#[tokio::test]
async fn the_password_never_shows_and_an_unreachable_redis_is_named() {
    let Some(mut server) = RedisServer::start_with_password(Some("s3cret-pw")) else {
        return;
    };
    let store = store(&server).await;
    let shown = format!("{store:?}");
    assert!(
        !shown.contains("s3cret-pw") && shown.contains("127.0.0.1"),
        "{shown}"
    );

    let wrong = server.url().replace("s3cret-pw", "wr0ng-pw");
    let err = RedisConnection::open(&wrong).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(!err.to_string().contains("wr0ng-pw"), "{err}");

    let url = server.url();
    server.kill();
    let err = RedisConnection::open(&url).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{text}");
    assert!(
        text.contains("127.0.0.1") && !text.contains("s3cret-pw"),
        "{text}"
    );
    // Lost mid-run: a typed error, without the password.
    let err = store.load("k").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
}

#[tokio::test]
async fn plain_redis_to_another_host_is_refused() {
    let err = RedisConnection::open("redis://:pw-123@192.0.2.10:6379")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Insecure { .. }), "{err}");
    assert!(!err.to_string().contains("pw-123"), "{err}");
}

/// Retries `f` while Redis answers with `Unavailable`: the first command on a connection
/// that a restart broke fails, and the connection manager reconnects behind it.
async fn after_reconnect<T, F>(mut f: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Result<T, StoreError>>,
{
    for _ in 0..20 {
        match f().await {
            Ok(value) => return value,
            Err(StoreError::Unavailable { .. }) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("Redis did not come back");
}

/// A store of `server` whose key `k` holds only the refresh token `rt`.
async fn store_holding(server: &RedisServer, rt: &str) -> RedisTokenStore {
    let store = store(server).await;
    store.save("k", &refresh_only(rt)).await.unwrap();
    store
}

fn refresh_token_of(record: Option<StoredToken>) -> String {
    record
        .and_then(|r| r.refresh_token)
        .map(|t| t.expose_secret().to_owned())
        .unwrap_or_default()
}

/// Redis restarted without persistence loses the record; the first lease taken by a handle
/// that saw it writes it back, so the refresh token is not lost.
#[tokio::test]
async fn a_record_lost_by_redis_is_written_back_under_the_next_lease() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let a = store_holding(&server, "rt-1").await;
    server.restart().unwrap();
    let b = store(&server).await;
    assert!(b.load("k").await.unwrap().is_none(), "persistence is off");
    let lease = after_reconnect(|| a.lock("k", Duration::from_secs(5))).await;
    assert_eq!(refresh_token_of(b.load("k").await.unwrap()), "rt-1");
    drop(lease);
    // A handle that never saw the record has nothing to write back.
    let fresh = store(&server).await;
    fresh.remove("k").await.unwrap();
    drop(fresh.lock("k", Duration::from_secs(5)).await.unwrap());
    assert!(b.load("k").await.unwrap().is_none());
}

/// A save that failed while Redis was away (a rotated refresh token nobody else has) is
/// written back, fenced, by the next lease once Redis is back, over the older record it kept.
#[tokio::test]
async fn a_save_that_failed_while_redis_was_away_is_written_back() {
    let Some(mut server) = RedisServer::start_append_only() else {
        return;
    };
    let a = store_holding(&server, "rt-1").await;
    let lease = a.lock("k", Duration::from_secs(5)).await.unwrap();
    server.kill();
    let err = a
        .save_fenced(&lease, &refresh_only("rt-2"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    drop(lease);
    server.restart().unwrap();
    let b = store(&server).await;
    assert_eq!(refresh_token_of(b.load("k").await.unwrap()), "rt-1");
    // The next lease (once the old one is let go or expires) brings rt-2 back.
    let lease = after_reconnect(|| a.lock("k", Duration::from_secs(90))).await;
    assert_eq!(refresh_token_of(b.load("k").await.unwrap()), "rt-2");
    // Written under the lease: the revision moved on from the kept record's.
    assert_eq!(b.revision("k").await.unwrap(), 2);
    drop(lease);
}

/// A runtime that ends right after its work, as a short-lived program's does: whatever it
/// left to a background task never runs.
fn run_and_exit<T>(work: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

#[test]
fn an_explicit_release_reaches_redis_before_the_program_ends_and_a_dropped_lease_does_not() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let hold_and_exit = |release: bool| {
        let url = url.clone();
        run_and_exit(async move {
            let store = RedisTokenStore::connect(&url).await.unwrap();
            let lease = store.lock("k", Duration::from_secs(1)).await.unwrap();
            if release {
                store.release(lease).await;
            } else {
                drop(lease); // only a background release, which this runtime never runs
            }
        })
    };
    let can_take_at_once = || {
        let url = url.clone();
        run_and_exit(async move {
            let store = RedisTokenStore::connect(&url).await.unwrap();
            match store.lock("k", Duration::ZERO).await {
                Ok(lease) => {
                    store.release(lease).await;
                    true
                }
                Err(StoreError::LockTimeout { .. }) => false,
                Err(e) => panic!("{e}"),
            }
        })
    };
    hold_and_exit(true);
    assert!(can_take_at_once(), "the released lease is free");
    hold_and_exit(false);
    assert!(
        !can_take_at_once(),
        "a lease only dropped stays taken until it expires (what `release` is for)"
    );
}
