//! `connect` with the store and governor settings (`PARDOT_AUTH_STORE`, `PARDOT_AUTH_GOVERNOR`
//! and the rest), against an in-process pardot-mock and, for Redis, a real `redis-server`
//! (skipped with a printed reason when it is not installed, except under CI).

use std::path::Path;

use pardot_auth::core::secrecy::ExposeSecret;
use pardot_auth::pardot_http::store::RedisTokenStore;
use pardot_auth::pardot_http::store::StoreError;
use pardot_auth::{
    Config, ConnectError, FileStore, Flow, PardotClient, PardotError, TokenStore, connect,
};
use pardot_http::testing::RedisServer;
use pardot_mock::{PardotMock, fixtures};

mod support;

use support::{config, key, seed_web_refresh_token, try_prospects};

const ENCRYPTION_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn web(mock: &PardotMock, extra: &[(&str, String)]) -> Config {
    let mut pairs = vec![
        ("PARDOT_AUTH_FLOW", "web".to_owned()),
        ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into()),
        ("SF_CLIENT_SECRET", fixtures::WEB_CONSUMER_SECRET.into()),
    ];
    pairs.extend_from_slice(extra);
    config(mock, &pairs).unwrap()
}

fn jwt(mock: &PardotMock, extra: &[(&str, String)]) -> Config {
    let mut pairs = vec![
        ("PARDOT_AUTH_FLOW", "jwt".to_owned()),
        ("SF_CLIENT_ID", fixtures::JWT_CONSUMER_KEY.into()),
        ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
        ("SF_PRIVATE_KEY_FILE", key("connected-app.key")),
    ];
    pairs.extend_from_slice(extra);
    config(mock, &pairs).unwrap()
}

fn dir_setting(dir: &Path) -> (&'static str, String) {
    ("PARDOT_AUTH_STORE_DIR", dir.display().to_string())
}

/// The access token a client holds now.
fn current_access_token(client: &PardotClient) -> String {
    let cache = client.token_cache().expect("connect builds a cache");
    let token = cache.cached().expect("connect fetched a token");
    token.secret().expose_secret().to_owned()
}

#[tokio::test]
async fn the_file_store_setting_reuses_the_refresh_token_the_cli_stored_and_seals_it() {
    let mock = PardotMock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = [
        ("PARDOT_AUTH_STORE", "file".to_owned()),
        dir_setting(dir.path()),
    ];
    // What `pardot-auth login web` leaves in its store directory: the refresh token under the
    // configuration's record name (in clear: the CLI ran without an encryption key).
    let record_name = web(&mock, &file).store_key();
    let cli_store = FileStore::new(dir.path()).unwrap();
    seed_web_refresh_token(&cli_store, &record_name).await;

    // Without the setting, the library's in-memory store has no refresh token.
    let e = connect(web(&mock, &[dir_setting(dir.path())]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ConnectError::NeedsLogin {
                flow: Flow::WebServer
            }
        ),
        "{e:?}"
    );

    // With it, connect() refreshes with the stored token; with a key, it seals the record.
    let mut sealed = file.to_vec();
    sealed.push((
        "PARDOT_AUTH_STORE_ENCRYPTION_KEY",
        ENCRYPTION_KEY.to_owned(),
    ));
    let client = connect(web(&mock, &sealed)).await.unwrap();
    assert_eq!(try_prospects(&client).await.unwrap(), 3);
    assert_eq!(mock.counts().token_requests_ok(), 1, "one refresh");

    let access = current_access_token(&client);
    let on_disk = std::fs::read(cli_store.path_of(&record_name).unwrap()).unwrap();
    let on_disk = String::from_utf8_lossy(&on_disk);
    assert!(!on_disk.contains(&access), "the access token is sealed");
    assert!(
        !on_disk.contains(fixtures::WEB_REFRESH_TOKEN),
        "the refresh token is sealed"
    );
    let e = cli_store.load(&record_name).await.unwrap_err();
    assert!(matches!(e, StoreError::Undecryptable { .. }), "{e}");

    // Another process with the same settings adopts the stored token: no fetch.
    let again = connect(web(&mock, &sealed)).await.unwrap();
    assert_eq!(try_prospects(&again).await.unwrap(), 3);
    assert_eq!(mock.counts().token_requests_ok(), 1);
}

#[tokio::test]
async fn the_host_governor_keeps_its_slots_in_the_store_directory() {
    let mock = PardotMock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = connect(jwt(
        &mock,
        &[
            ("PARDOT_AUTH_GOVERNOR", "host".to_owned()),
            dir_setting(dir.path()),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(try_prospects(&client).await.unwrap(), 3);
    // The request held one of the business unit's 5 lock files there.
    let bu = pardot_auth::BusinessUnitId::parse(fixtures::BUSINESS_UNIT_ID).unwrap();
    let prefix = format!("governor-{}-", bu.as_str());
    let slots: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(&prefix) && name.ends_with(".lock"))
        .collect();
    assert!(!slots.is_empty(), "no slot file in the store directory");
    assert_eq!(client.governor().usage().limit, Some(5));
}

#[tokio::test]
async fn an_unreachable_redis_is_a_store_error_without_the_password() {
    let mock = PardotMock::start().await;
    let e = connect(jwt(
        &mock,
        &[
            ("PARDOT_AUTH_STORE", "redis".to_owned()),
            // Port 1 on loopback: nothing listens, the connection is refused at once.
            (
                "PARDOT_AUTH_REDIS_URL",
                "redis://fleet:hunter2-pw@127.0.0.1:1".to_owned(),
            ),
        ],
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(e, ConnectError::Store(StoreError::Unavailable { .. })),
        "{e:?}"
    );
    let text = format!("{e} {e:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert_eq!(mock.counts().token_requests_ok(), 0);
}

#[tokio::test]
async fn redis_store_and_governor_make_two_processes_one_client() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mock = PardotMock::start().await;
    let settings = [
        ("PARDOT_AUTH_STORE", "redis".to_owned()),
        ("PARDOT_AUTH_GOVERNOR", "redis".to_owned()),
        ("PARDOT_AUTH_REDIS_URL", server.url()),
        ("PARDOT_AUTH_REDIS_PREFIX", "facade-test".to_owned()),
        ("PARDOT_AUTH_DAILY_BUDGET", "3".to_owned()),
        ("PARDOT_AUTH_DAY_OFFSET", "-08:00".to_owned()),
        (
            "PARDOT_AUTH_STORE_ENCRYPTION_KEY",
            ENCRYPTION_KEY.to_owned(),
        ),
    ];
    // Two connectors, each with its own Redis connection: two processes, as far as they know.
    let first = connect(jwt(&mock, &settings)).await.unwrap();
    let second = connect(jwt(&mock, &settings)).await.unwrap();
    assert_eq!(
        mock.counts().token_requests_ok(),
        1,
        "the second process adopted the first one's token from Redis"
    );
    assert_eq!(current_access_token(&first), current_access_token(&second));

    // One budget of 3 for both.
    assert_eq!(try_prospects(&first).await.unwrap(), 3);
    assert_eq!(try_prospects(&second).await.unwrap(), 3);
    assert_eq!(try_prospects(&first).await.unwrap(), 3);
    let e = try_prospects(&second).await.unwrap_err();
    assert!(
        matches!(e, PardotError::BudgetExhausted { used: 3, budget: 3 }),
        "{e:?}"
    );

    // The record in Redis is sealed: the raw value has no token, and a store without the key
    // cannot read it.
    let record_name = jwt(&mock, &settings).store_key();
    let raw = redis::Client::open(server.url()).unwrap();
    let mut raw = raw.get_multiplexed_async_connection().await.unwrap();
    let data: Vec<u8> = redis::cmd("HGET")
        .arg(format!("{{facade-test:{record_name}}}:record"))
        .arg("data")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(!data.is_empty(), "the record is where the names say");
    let access = current_access_token(&first);
    assert!(
        !String::from_utf8_lossy(&data).contains(&access),
        "the access token is sealed"
    );
    let keyless = RedisTokenStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix("facade-test")
        .unwrap();
    let e = keyless.load(&record_name).await.unwrap_err();
    assert!(matches!(e, StoreError::Undecryptable { .. }), "{e}");
}
