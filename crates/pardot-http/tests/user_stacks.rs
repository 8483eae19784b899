//! The same auth, expiry handling and governor on stacks users build themselves: a
//! `reqwest-middleware` client and a `tower` stack over a `hyper-util` client.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use pardot_auth_core::ManualClock;
use pardot_auth_core::testing::CountingSource;
use pardot_http::{PardotAuthPolicy, PardotError};
use tower::{ServiceBuilder, ServiceExt};
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BU: &str = "0Uv5A000000PAuMSAW";
const ROUTE: &str = "/api/v5/objects/prospects";

/// `tok-1` is answered with an expired-token error (400 instead of 401), `tok-2` with 200.
async fn server_expiring_tok1() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(ROUTE))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("pardot-business-unit-id", BU))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            r#"{"code":184,"message":"access_token is invalid, unknown, or malformed: Inactive token"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(ROUTE))
        .and(header("authorization", "Bearer tok-2"))
        .and(header("pardot-business-unit-id", BU))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"values":[]}"#))
        .expect(1)
        .mount(&server)
        .await;
    server
}

/// A server answering every request on [`ROUTE`] with `answer`, expecting `times` of them.
async fn server_answering(answer: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(ROUTE))
        .respond_with(answer)
        .expect(times)
        .mount(&server)
        .await;
    server
}

/// A user's `reqwest-middleware` client with `policy`.
fn middleware_client(policy: PardotAuthPolicy) -> reqwest_middleware::ClientWithMiddleware {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    reqwest_middleware::ClientBuilder::new(client)
        .with(policy)
        .build()
}

/// The counting token source on a manual clock, and a policy for [`BU`] with both.
fn policy() -> (CountingSource, PardotAuthPolicy) {
    let clock = ManualClock::new();
    let tokens = CountingSource::new(clock.shared());
    let policy = PardotAuthPolicy::builder(tokens.shared())
        .business_unit(BU.parse().unwrap())
        .clock(clock.shared())
        .build();
    (tokens, policy)
}

#[tokio::test]
async fn reqwest_middleware_client_refreshes_once_and_retries_once() {
    let server = server_expiring_tok1().await;
    let (tokens, policy) = policy();
    let user_client = middleware_client(policy.clone());
    let resp = user_client
        .get(format!("{}{ROUTE}", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), r#"{"values":[]}"#);
    assert_eq!(tokens.fetches(), 2);
    let m = policy.metrics();
    assert_eq!((m.attempts, m.expiry_retries), (2, 1));
    server.verify().await;
}

#[tokio::test]
async fn reqwest_middleware_errors_are_typed() {
    let server = server_answering(
        ResponseTemplate::new(429)
            .set_body_string(r#"{"code":122,"message":"Daily API rate limit met"}"#),
        1,
    )
    .await;
    let user_client = middleware_client(policy().1);
    let err = user_client
        .get(format!("{}{ROUTE}", server.uri()))
        .send()
        .await
        .unwrap_err();
    let reqwest_middleware::Error::Middleware(inner) = err else {
        panic!("expected a middleware error");
    };
    let pardot = inner.downcast_ref::<PardotError>().unwrap();
    assert_eq!(pardot.pardot_code().map(|c| c.get()), Some(122));
}

#[tokio::test]
async fn tower_layer_over_a_hyper_client_refreshes_once_and_retries_once() {
    let server = server_expiring_tok1().await;
    let (tokens, policy) = policy();
    let hyper: HyperClient<_, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let service = ServiceBuilder::new().layer(policy.layer()).service(hyper);
    let request = http::Request::get(format!("{}{ROUTE}", server.uri()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = service.oneshot(request).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body().as_ref(), br#"{"values":[]}"#);
    assert_eq!(tokens.fetches(), 2);
    assert_eq!(policy.metrics().expiry_retries, 1);
    server.verify().await;
}

#[tokio::test]
async fn tower_layer_holds_the_governor_limit() {
    let slow = ResponseTemplate::new(200)
        .set_body_string("{}")
        .set_delay(Duration::from_millis(20));
    let server = server_answering(slow, 12).await;
    let clock = ManualClock::new();
    let policy = PardotAuthPolicy::builder(CountingSource::new(clock.shared()).shared())
        .business_unit(BU.parse().unwrap())
        .clock(clock.shared())
        .max_concurrent(Some(3))
        .build();
    let hyper: HyperClient<_, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let service = ServiceBuilder::new().layer(policy.layer()).service(hyper);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let svc = service.clone();
        let uri = format!("{}{ROUTE}", server.uri());
        tasks.push(tokio::spawn(async move {
            let req = http::Request::get(uri)
                .body(Full::new(Bytes::new()))
                .unwrap();
            svc.oneshot(req).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let m = policy.metrics();
    assert_eq!(m.attempts, 12);
    assert!(m.throttled_waits > 0, "{m:?}");
    assert_eq!(policy.governor().usage().in_flight, 0);
}
