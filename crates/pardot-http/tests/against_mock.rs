//! Behaviour against pardot-mock, in-process: expiry, single flight, throttling, never-retry
//! errors and rotation, each asserted on the mock's own counters.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{PasswordSource, RefreshGrant, V5_PROSPECTS, http, pardot_host};
use pardot_auth_core::{
    BusinessUnitId, ErrorClass, ManualClock, PardotErrorCode, SharedClock, SystemClock, TokenSource,
};
use pardot_http::store::{FileStore, MemoryStore, StoredToken, TokenStore};
use pardot_http::{CachedTokenSource, PardotClient, PardotError, PardotResponse, RetryPolicy};
use pardot_mock::{MockConfig, Outcome, PardotMock, PardotStatusMode, Route, fixtures};
use secrecy::ExposeSecret;

fn bu() -> BusinessUnitId {
    fixtures::BUSINESS_UNIT_ID.parse().unwrap()
}

async fn mock_with(clock: &ManualClock, config: MockConfig) -> PardotMock {
    PardotMock::builder()
        .config(config)
        .clock(clock)
        .start()
        .await
        .unwrap()
}

fn client(mock: &PardotMock, clock: SharedClock) -> PardotClient {
    let source = PasswordSource::integration(&mock.url(), clock.clone());
    client_of(source, mock, bu(), clock)
}

/// A client of `mock` for `bu` that takes its tokens from `source`.
fn client_of(
    source: impl TokenSource + 'static,
    mock: &PardotMock,
    bu: BusinessUnitId,
    clock: SharedClock,
) -> PardotClient {
    PardotClient::builder(Arc::new(source), pardot_host(mock))
        .business_unit(bu)
        .clock(clock)
        .no_proxy()
        .build()
        .unwrap()
}

/// The error of a prospects query that must fail.
/// The v5 prospects with `fields`, through `c`.
async fn prospects(c: &PardotClient, fields: &str) -> Result<PardotResponse, PardotError> {
    c.get(V5_PROSPECTS).query([("fields", fields)]).send().await
}

async fn prospects_error(c: &PardotClient) -> PardotError {
    prospects(c, "id").await.unwrap_err()
}

/// A source that cannot log in: the cache must use the stored refresh token.
fn refresh_only() -> impl TokenSource {
    pardot_auth_core::provide_token_fn("no login", || async {
        Err(pardot_auth_core::Error::config(
            "only the refresh token may be used",
        ))
    })
}

fn tokens_ok(mock: &PardotMock) -> u64 {
    mock.counts().token_requests_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_with_an_expired_token_cause_one_token_request() {
    let clock = ManualClock::new();
    let mock = mock_with(&clock, MockConfig::defaults()).await;
    let c = client(&mock, clock.shared());
    prospects(&c, "id,email").await.unwrap();
    assert_eq!(tokens_ok(&mock), 1);

    mock.expire_all_tokens().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { prospects(&c, "id,email").await }));
    }
    for t in tasks {
        let resp = t.await.unwrap().unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(
        tokens_ok(&mock),
        2,
        "exactly one token request for 1000 callers"
    );
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 2);
    let m = c.metrics();
    assert_eq!(m.token.fetches, 2);
    assert_eq!(m.requests, 1001);
    // Every request that raced the expiry was retried exactly once, none twice.
    assert_eq!(m.attempts, 1001 + m.expiry_retries);
    assert!(m.expiry_retries >= 1 && m.expiry_retries <= 5, "{m:?}");
}

#[tokio::test]
async fn forced_expiry_mid_run_refreshes_once_and_retries_once_for_every_version_and_format() {
    let cases: [(&str, Option<&str>, Route); 5] = [
        ("/api/account/version/4/do/read", None, Route::PardotV4),
        (
            "/api/account/version/4/do/read",
            Some("json"),
            Route::PardotV4,
        ),
        ("/api/prospect/version/3/do/query", None, Route::PardotV3),
        (
            "/api/prospect/version/3/do/query",
            Some("json"),
            Route::PardotV3,
        ),
        (V5_PROSPECTS, None, Route::PardotV5),
    ];
    for mode in [PardotStatusMode::Modern, PardotStatusMode::Legacy] {
        for (path, format, route) in cases {
            let clock = ManualClock::new();
            let mut config = MockConfig::defaults();
            config.pardot_status_mode = mode;
            let mock = mock_with(&clock, config).await;
            let c = client(&mock, clock.shared());
            let send = || {
                let mut req = c.get(path);
                if let Some(f) = format {
                    req = req.query([("format", f)]);
                }
                if path == V5_PROSPECTS {
                    req = req.query([("fields", "id,email")]);
                }
                req.send()
            };
            let what = format!("{mode:?} {path} {format:?}");
            let first = send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(first.attempts(), 1, "{what}");
            mock.expire_all_tokens().unwrap();
            let second = send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(second.attempts(), 2, "{what}");
            assert_eq!(tokens_ok(&mock), 2, "{what}: one refresh");
            assert_eq!(mock.counts().route_total(route), 3, "{what}: one retry");
            assert_eq!(c.metrics().expiry_retries, 1, "{what}");
        }
    }
}

/// A BU with 3,000 prospects, so a 1,000-prospect v5 page keeps the server busy long enough
/// for requests to overlap inside its concurrency gate.
fn busy_config() -> MockConfig {
    let mut config = MockConfig::defaults();
    let template = config.prospects[0].clone();
    for i in 0..3_000u64 {
        let mut p = template.clone();
        p.business_unit = fixtures::BUSINESS_UNIT_ID.into();
        p.id = 900_000 + i;
        p.email = format!("bulk{i}@example.com");
        p.first_name = format!("Bulk{i}");
        config.prospects.push(p);
    }
    config
}

async fn burst(c: &PardotClient, n: usize) -> Vec<Result<u32, PardotError>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.get(V5_PROSPECTS)
                .query([
                    ("fields", "id,email,firstName,lastName,company,score"),
                    ("limit", "1000"),
                ])
                .send()
                .await
                .map(|r| r.attempts())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// Many worker threads so the server's handlers really run at once (a BU allows 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 16)]
async fn the_governor_prevents_error_66_and_without_it_the_retry_policy_absorbs_it() {
    let mock = PardotMock::builder()
        .config(busy_config())
        .start()
        .await
        .unwrap();
    let clock = SystemClock::shared();

    let governed = client(&mock, clock.clone());
    for r in burst(&governed, 60).await {
        r.unwrap();
    }
    let counts = mock.counts();
    assert_eq!(counts.get(Route::PardotV5, Outcome::Ok), 60);
    assert_eq!(
        counts.route_total(Route::PardotV5),
        60,
        "no error 66: {counts:?}"
    );
    assert!(governed.metrics().throttled_waits > 0);
    assert_eq!(governed.metrics().throttle_retries, 0);

    // Without the governor, the same burst runs into error 66 (naturally, or scripted for
    // the first three answers so the test does not depend on thread timing); the retry
    // policy absorbs every one.
    mock.fail_next(
        Route::PardotV5,
        3,
        429,
        r#"{"code":66,"message":"You have exceeded your concurrent request limit.  Please wait, before trying again"}"#,
    ).unwrap();
    let source = PasswordSource::integration(&mock.url(), clock.clone());
    let ungoverned = PardotClient::builder(Arc::new(source), pardot_host(&mock))
        .business_unit(bu())
        .max_concurrent(None)
        .retry_policy(
            RetryPolicy::default()
                .max_retries(40)
                .backoff(Duration::from_millis(5), Duration::from_millis(100))
                .max_elapsed(Duration::from_secs(60)),
        )
        .no_proxy()
        .build()
        .unwrap();
    for r in burst(&ungoverned, 60).await {
        r.unwrap();
    }
    let counts = mock.counts();
    assert_eq!(counts.get(Route::PardotV5, Outcome::Ok), 120);
    let refused = counts.route_total(Route::PardotV5) - 120;
    assert!(refused >= 3, "{counts:?}");
    assert_eq!(ungoverned.metrics().throttle_retries, refused);
    println!("without the governor: {refused} answers were error 66 ({counts:?})");
}

#[tokio::test]
async fn never_retry_errors_take_exactly_one_request_each() {
    let clock = ManualClock::new();
    let mut config = MockConfig::defaults();
    config.business_units[0].daily_budget = 1;
    let mock = mock_with(&clock, config).await;
    let shared = clock.shared();

    // Daily limit (122): the first request uses the budget, the second is refused once.
    let c = client(&mock, shared.clone());
    prospects(&c, "id").await.unwrap();
    let e = prospects_error(&c).await;
    assert_eq!(e.pardot_code(), Some(PardotErrorCode::DAILY_LIMIT), "{e}");
    assert_eq!(e.class(), ErrorClass::NeverRetry);
    assert!(e.to_string().contains("resets at midnight"), "{e}");
    assert_eq!(mock.counts().route_total(Route::PardotV5), 2);

    // Inactive business unit (201) and a BU of the demo host called on production (201).
    for (bu, path) in [
        (
            fixtures::INACTIVE_BUSINESS_UNIT_ID,
            "/api/account/version/4/do/read",
        ),
        (
            fixtures::DEMO_BUSINESS_UNIT_ID,
            "/api/account/version/4/do/read",
        ),
    ] {
        let before = mock.counts().route_total(Route::PardotV4);
        let source = PasswordSource::integration(&mock.url(), shared.clone());
        let c = client_of(source, &mock, bu.parse().unwrap(), shared.clone());
        let e = c.get(path).send().await.unwrap_err();
        assert_eq!(
            e.pardot_code(),
            Some(PardotErrorCode::BUSINESS_UNIT_NOT_FOUND),
            "{e}"
        );
        assert_eq!(e.class(), ErrorClass::NeverRetry);
        assert!(e.to_string().contains("pi.demo.pardot.com"), "{e}");
        assert_eq!(
            mock.counts().route_total(Route::PardotV4),
            before + 1,
            "{bu}"
        );
    }

    // Bad credentials: one token request, no Pardot request, the source's error kept.
    let before_pardot = mock.counts().route_total(Route::PardotV5);
    let before_tokens = mock.counts().route_total(Route::OAuthToken);
    let mut bad = PasswordSource::integration(&mock.url(), shared.clone());
    bad.password = "wrong".into();
    let c = client_of(bad, &mock, bu(), shared.clone());
    let e = prospects_error(&c).await;
    assert!(matches!(e, PardotError::Token(_)), "{e}");
    assert_eq!(e.class(), ErrorClass::NeverRetry);
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    assert_eq!(
        mock.counts().route_total(Route::OAuthToken),
        before_tokens + 1
    );
    assert_eq!(mock.counts().route_total(Route::PardotV5), before_pardot);
}

#[tokio::test]
async fn rotated_refresh_tokens_are_persisted_and_the_old_one_is_never_reused() {
    let clock = ManualClock::new();
    let mock = mock_with(&clock, MockConfig::defaults()).await;
    let shared = clock.shared();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save(
            "rotating",
            &StoredToken::refresh_only(fixtures::ROTATING_REFRESH_TOKEN.into()),
        )
        .await
        .unwrap();
    let grant = || RefreshGrant {
        http: http(),
        token_url: format!("{}/services/oauth2/token", mock.url()),
        client_id: fixtures::ROTATING_CONSUMER_KEY.into(),
        client_secret: fixtures::ROTATING_CONSUMER_SECRET.into(),
        clock: shared.clone(),
    };
    let make_client = |store: Arc<dyn TokenStore>| {
        let cache = CachedTokenSource::builder(Arc::new(refresh_only()))
            .clock(shared.clone())
            .store(store)
            .store_key("rotating")
            .refresh_grant(Arc::new(grant()))
            .build();
        PardotClient::builder_with_cache(cache, pardot_host(&mock))
            .business_unit(bu())
            .clock(shared.clone())
            .no_proxy()
            .build()
            .unwrap()
    };
    // One call through `c`, then the refresh token the store holds.
    let call_then_stored_refresh_token = async |c: &PardotClient| {
        prospects(c, "id").await.unwrap();
        let record = store.load("rotating").await.unwrap().unwrap();
        record.refresh_token.unwrap()
    };
    let c = make_client(store.clone());
    let r1 = call_then_stored_refresh_token(&c).await;
    assert_ne!(r1.expose_secret(), fixtures::ROTATING_REFRESH_TOKEN);

    mock.expire_all_tokens().unwrap();
    let r2 = call_then_stored_refresh_token(&c).await;
    assert_ne!(r2.expose_secret(), r1.expose_secret());

    // A new process (new store handle, new cache) starts from the newest refresh token.
    mock.expire_all_tokens().unwrap();
    let c2 = make_client(Arc::new(FileStore::new(dir.path()).unwrap()));
    prospects(&c2, "id").await.unwrap();

    // Each refresh token was redeemed exactly once, in order; none was refused.
    let used: Vec<String> = mock
        .journal()
        .into_iter()
        .filter(|e| e.route == Route::OAuthToken)
        .filter_map(|e| {
            e.form
                .iter()
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(used.len(), 3, "{used:?}");
    assert_eq!(used[0], fixtures::ROTATING_REFRESH_TOKEN);
    assert_eq!(used[1], r1.expose_secret());
    assert_eq!(used[2], r2.expose_secret());
    assert_eq!(tokens_ok(&mock), 3);
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 3);
}

#[tokio::test]
async fn clients_sharing_a_memory_store_share_one_token() {
    let clock = ManualClock::new();
    let mock = mock_with(&clock, MockConfig::defaults()).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let make = || {
        let source = PasswordSource::integration(&mock.url(), clock.shared());
        PardotClient::builder(Arc::new(source), pardot_host(&mock))
            .business_unit(bu())
            .clock(clock.shared())
            .store(store.clone())
            .no_proxy()
            .build()
            .unwrap()
    };
    let (a, b) = (make(), make());
    prospects(&a, "id").await.unwrap();
    prospects(&b, "id").await.unwrap();
    assert_eq!(tokens_ok(&mock), 1);
    assert_eq!(b.metrics().token.store_adoptions, 1);
}

#[tokio::test]
async fn access_denied_and_a_missing_scope_fail_without_retrying() {
    let clock = ManualClock::new();
    let mut config = MockConfig::defaults();
    // A business unit the integration user has no access to (code 49).
    let foreign: BusinessUnitId = "0Uv5g00000Xtra1".parse().unwrap();
    let mut unit = config.business_units[0].clone();
    unit.id = foreign.as_str().to_owned();
    unit.account_id = Some(4242);
    config.business_units.push(unit);
    // An app granting `api` only (no `pardot_api`).
    let mut app = config
        .apps
        .iter()
        .find(|a| a.consumer_key == fixtures::WEB_CONSUMER_KEY)
        .unwrap()
        .clone();
    app.consumer_key = "3MVG9mock.API.only.app.for.pardot.http.tests".into();
    app.scopes = vec!["api".into()];
    config.apps.push(app);
    let mock = mock_with(&clock, config).await;
    let shared = clock.shared();

    let source = PasswordSource::integration(&mock.url(), shared.clone());
    let c = client_of(source, &mock, foreign, shared.clone());
    let e = prospects_error(&c).await;
    assert_eq!(e.pardot_code(), Some(PardotErrorCode::ACCESS_DENIED), "{e}");
    assert_eq!(e.class(), ErrorClass::NeverRetry);
    assert_eq!(mock.counts().route_total(Route::PardotV5), 1);

    let mut source = PasswordSource::integration(&mock.url(), shared.clone());
    source.client_id = "3MVG9mock.API.only.app.for.pardot.http.tests".into();
    let c = client_of(source, &mock, bu(), shared.clone());
    let e = prospects_error(&c).await;
    assert!(matches!(e, PardotError::MissingScope { .. }), "{e}");
    assert_eq!(
        mock.counts().route_total(Route::PardotV5),
        1,
        "no request was sent"
    );
}

#[tokio::test]
async fn an_expired_legacy_api_key_is_replaced_once() {
    use pardot_legacy::{LegacyCredentials, LegacyLogin};
    let clock = ManualClock::new();
    let mock = mock_with(&clock, MockConfig::defaults()).await;
    for (email, password, user_key, version) in [
        (
            fixtures::LEGACY_V3_EMAIL,
            fixtures::LEGACY_V3_PASSWORD,
            fixtures::LEGACY_V3_USER_KEY,
            3,
        ),
        (
            fixtures::LEGACY_V4_EMAIL,
            fixtures::LEGACY_V4_PASSWORD,
            fixtures::LEGACY_V4_USER_KEY,
            4,
        ),
    ] {
        let login =
            LegacyLogin::builder(LegacyCredentials::new(email, password, user_key).unwrap())
                .host(pardot_host(&mock))
                .http_client(http())
                .clock(clock.shared())
                .build()
                .unwrap();
        let c = PardotClient::builder(login.into_shared(), pardot_host(&mock))
            .clock(clock.shared())
            .no_proxy()
            .build()
            .unwrap();
        let path = format!("/api/account/version/{version}/do/read");
        let logins_ok = mock.counts().get(Route::PardotLogin, Outcome::Ok);
        c.get(&path).send().await.unwrap();
        mock.expire_all_tokens().unwrap();
        let resp = c
            .get(&path)
            .query([("format", "json")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.attempts(), 2, "v{version}");
        assert!(resp.envelope().unwrap().is_ok());
        assert_eq!(c.metrics().expiry_retries, 1, "v{version}");
        // One successful login for the first key, one after the expiry; nothing else.
        assert_eq!(
            mock.counts().get(Route::PardotLogin, Outcome::Ok) - logins_ok,
            2,
            "v{version}"
        );
        assert_eq!(c.metrics().token.fetches, 2, "v{version}");
    }
}

#[tokio::test]
async fn middleware_and_layer_on_user_built_clients_survive_a_forced_expiry() {
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper_util::client::legacy::Client as HyperClient;
    use hyper_util::rt::TokioExecutor;
    use pardot_http::PardotAuthPolicy;
    use tower::{ServiceBuilder, ServiceExt};

    let clock = ManualClock::new();
    let mock = mock_with(&clock, MockConfig::defaults()).await;
    let url = format!("{}{V5_PROSPECTS}?fields=id,email", mock.url());
    let policy = || {
        let source = PasswordSource::integration(&mock.url(), clock.shared());
        PardotAuthPolicy::builder(Arc::new(source))
            .business_unit(bu())
            .clock(clock.shared())
            .build()
    };

    let mw_policy = policy();
    let user_client = reqwest_middleware::ClientBuilder::new(http())
        .with(mw_policy.clone())
        .build();
    assert_eq!(user_client.get(&url).send().await.unwrap().status(), 200);
    mock.expire_all_tokens().unwrap();
    assert_eq!(user_client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(mw_policy.metrics().expiry_retries, 1);
    assert_eq!(tokens_ok(&mock), 2);

    let layer_policy = policy();
    let hyper: HyperClient<_, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let service = ServiceBuilder::new()
        .layer(layer_policy.layer())
        .service(hyper);
    let get = || {
        http::Request::get(url.as_str())
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    assert_eq!(service.clone().oneshot(get()).await.unwrap().status(), 200);
    mock.expire_all_tokens().unwrap();
    assert_eq!(service.clone().oneshot(get()).await.unwrap().status(), 200);
    assert_eq!(layer_policy.metrics().expiry_retries, 1);
    assert_eq!(tokens_ok(&mock), 4);
    assert_eq!(mock.counts().get(Route::PardotV5, Outcome::Ok), 4);
}
