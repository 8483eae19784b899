//! Caches in separate "processes" (separate Redis connections, no shared memory) share one
//! token and one rotation through `RedisTokenStore`, against pardot-mock and a real
//! `redis-server`.

mod common;

use std::sync::Arc;

use common::{RefreshGrant, V5_PROSPECTS, http, pardot_host};
use pardot_auth_core::{BusinessUnitId, ManualClock, SharedClock, TokenSource};
use pardot_http::store::{EncryptionKey, RedisTokenStore, StoredToken, TokenStore};
use pardot_http::testing::RedisServer;
use pardot_http::{CachedTokenSource, PardotClient};
use pardot_mock::{MockConfig, PardotMock, Route, fixtures};
use secrecy::ExposeSecret;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// A source that cannot log in: the caches must use the stored refresh token.
fn refresh_only() -> impl TokenSource {
    pardot_auth_core::provide_token_fn("no login", || async {
        Err(pardot_auth_core::Error::config(
            "only the refresh token may be used",
        ))
    })
}

async fn process(mock: &PardotMock, redis_url: &str, clock: &SharedClock) -> PardotClient {
    let store = open_store(redis_url).await;
    let grant = RefreshGrant {
        http: http(),
        token_url: format!("{}/services/oauth2/token", mock.url()),
        client_id: fixtures::ROTATING_CONSUMER_KEY.into(),
        client_secret: fixtures::ROTATING_CONSUMER_SECRET.into(),
        clock: clock.clone(),
    };
    let cache = CachedTokenSource::builder(Arc::new(refresh_only()))
        .clock(clock.clone())
        .store(Arc::new(store))
        .store_key("rotating")
        .refresh_grant(Arc::new(grant))
        .build();
    let bu: BusinessUnitId = fixtures::BUSINESS_UNIT_ID.parse().unwrap();
    PardotClient::builder_with_cache(cache, pardot_host(mock))
        .business_unit(bu)
        .clock(clock.clone())
        .no_proxy()
        .build()
        .unwrap()
}

/// The store every "process" opens: the test's prefix and encryption key.
async fn open_store(redis_url: &str) -> RedisTokenStore {
    RedisTokenStore::connect(redis_url)
        .await
        .unwrap()
        .with_prefix("fleet-test")
        .unwrap()
        .with_encryption_key(EncryptionKey::parse(KEY).unwrap())
}

/// A `redis-server` (none when it is not installed), a mock on a manual clock with a store in
/// that Redis seeded with the rotating app's refresh token, and the clock.
async fn redis_and_mock() -> Option<(RedisServer, PardotMock, SharedClock)> {
    let server = RedisServer::start()?;
    let clock = ManualClock::new();
    let mock = mock_and_seeded_store(&clock, &server.url()).await;
    Some((server, mock, clock.shared()))
}

/// A mock on `clock`, and a Redis store seeded with the rotating app's refresh token.
async fn mock_and_seeded_store(clock: &ManualClock, redis_url: &str) -> PardotMock {
    let mock = PardotMock::builder()
        .config(MockConfig::defaults())
        .clock(clock)
        .start()
        .await
        .unwrap();
    open_store(redis_url)
        .await
        .save(
            "rotating",
            &StoredToken::refresh_only(fixtures::ROTATING_REFRESH_TOKEN.into()),
        )
        .await
        .unwrap();
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_redis_rotate_once_per_expiry_and_never_reuse_a_refresh_token() {
    let Some((server, mock, shared)) = redis_and_mock().await else {
        return;
    };
    let processes = [
        process(&mock, &server.url(), &shared).await,
        process(&mock, &server.url(), &shared).await,
        process(&mock, &server.url(), &shared).await,
    ];
    for round in 0..3 {
        if round > 0 {
            mock.expire_all_tokens().unwrap();
        }
        let mut calls = Vec::new();
        for client in &processes {
            for _ in 0..10 {
                let client = client.clone();
                calls.push(tokio::spawn(async move {
                    client
                        .get(V5_PROSPECTS)
                        .query([("fields", "id")])
                        .send()
                        .await
                }));
            }
        }
        for call in calls {
            call.await.unwrap().unwrap();
        }
    }
    // One refresh per expiry across every process. The mock kills the whole chain when a
    // rotated refresh token is reused, so every call succeeding on three token requests, all
    // answered, means none was reused.
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 3);
    assert_eq!(mock.counts().token_requests_ok(), 3);
    // The store moved on from the seeded refresh token.
    let newest = open_store(&server.url())
        .await
        .load("rotating")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        newest.refresh_token.unwrap().expose_secret(),
        fixtures::ROTATING_REFRESH_TOKEN
    );
}

/// A program that refreshes and exits at once (its runtime ends with its one call, so nothing
/// it left to a background task runs) leaves the refresh lease free for the next program,
/// instead of making it wait for the lease to expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_exits_right_after_its_refresh_leaves_the_lease_free() {
    let Some((server, mock, shared)) = redis_and_mock().await else {
        return;
    };
    let url = server.url();
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let client = process(&mock, &url, &shared).await;
                let cache = client.token_cache().expect("the client's own cache");
                cache.token().await.unwrap();
            });
        })
        .join()
        .unwrap();
    });
    assert_eq!(mock.counts().token_requests_ok(), 1);
    let next = open_store(&url).await;
    let lease = next
        .lock("rotating", std::time::Duration::ZERO)
        .await
        .expect("the lease is free the moment the first program is gone");
    next.release(lease).await;
}
