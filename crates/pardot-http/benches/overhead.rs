//! Request overhead of `PardotClient` (cached token) against a raw `reqwest` GET with a fixed
//! header, on the same pardot-mock endpoint (a v5 prospects page). Run by `cargo xtask bench`
//! (or `cargo bench -p pardot-http`); the target is at most 5% slower per request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use pardot_auth_core::{AccessToken, Expiry, PardotHost, TokenKind, provide_token_fn};
use pardot_http::PardotClient;
use pardot_mock::{MockConfig, PardotMock, fixtures};

const QUERY: &str = "/api/v5/objects/prospects?fields=id,email,firstName,lastName&limit=200";

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (mock, secret) = runtime.block_on(async {
        let mut config = MockConfig::defaults();
        for bu in &mut config.business_units {
            // The bench measures the client, not the limits.
            bu.concurrency_limit = 1_000;
            bu.daily_budget = u64::MAX / 2;
        }
        let mock = PardotMock::builder()
            .config(config)
            .start()
            .await
            .expect("the mock starts");
        let secret = mock
            .issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)
            .expect("a token");
        (mock, secret)
    });
    let url = format!("{}{QUERY}", mock.url());

    let token_secret = secret.clone();
    let source = provide_token_fn("mock-issued", move || {
        let secret = token_secret.clone();
        async move {
            let now = SystemTime::now();
            Ok(AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + Duration::from_secs(7200)),
            ))
        }
    });
    let client = PardotClient::builder(
        Arc::new(source),
        PardotHost::custom(&mock.url()).expect("a loopback URL"),
    )
    .business_unit(fixtures::BUSINESS_UNIT_ID.parse().expect("a BU id"))
    .no_proxy()
    .build()
    .expect("a client");
    let raw = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client");

    // The same request by hand: the token and the business unit header, nothing else.
    let raw_get = || {
        raw.get(&url)
            .bearer_auth(&secret)
            .header("Pardot-Business-Unit-Id", fixtures::BUSINESS_UNIT_ID)
    };

    // Both must succeed before anything is measured.
    runtime.block_on(async {
        let ours = client
            .get(QUERY)
            .send()
            .await
            .expect("PardotClient request");
        let theirs = raw_get().send().await.expect("raw request");
        assert_eq!(theirs.status(), 200);
        assert_eq!(
            ours.bytes().len(),
            theirs.bytes().await.expect("body").len()
        );
    });

    let mut group = c.benchmark_group("authenticated_get_v5_prospects");
    group.bench_function("pardot_client_cached_token", |b| {
        b.to_async(&runtime).iter(|| async {
            let resp = client.get(QUERY).send().await.expect("request");
            std::hint::black_box(resp.into_bytes());
        });
    });
    group.bench_function("raw_reqwest_fixed_header", |b| {
        b.to_async(&runtime).iter(|| async {
            let resp = raw_get().send().await.expect("request");
            std::hint::black_box(resp.bytes().await.expect("body"));
        });
    });
    group.finish();
    drop(mock);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
