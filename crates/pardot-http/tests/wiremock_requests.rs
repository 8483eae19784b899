//! The exact requests `PardotClient` sends, and what it does with each kind of answer, pinned
//! with wiremock.

use std::sync::Arc;
use std::time::Duration;

use pardot_auth_core::testing::CountingSource;
use pardot_auth_core::{
    AccessToken, BusinessUnitId, ErrorClass, Expiry, ManualClock, PardotErrorCode, PardotHost,
    TokenKind, provide_token_fn,
};
use pardot_http::{NewCache, PardotClient, PardotClientBuilder, PardotError, RetryPolicy};
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BU: &str = "0Uv5A000000PAuMSAW";

/// Hands out `tok-1`, `tok-2`, … (Salesforce bearer, 2 h estimated).
fn tokens(clock: &ManualClock) -> CountingSource {
    CountingSource::new(clock.shared())
}

fn client(server: &MockServer, tokens: &CountingSource, clock: &ManualClock) -> PardotClient {
    builder(&server.uri(), tokens, clock).build().unwrap()
}

/// A clock, the counting token source on it, and a [`client`] of `server` with both.
fn setup(server: &MockServer) -> (ManualClock, CountingSource, PardotClient) {
    let clock = ManualClock::new();
    let tokens = tokens(&clock);
    let c = client(server, &tokens, &clock);
    (clock, tokens, c)
}

/// A client on `url` for the test business unit, on `clock`, for settings beyond [`client`]'s.
fn builder(
    url: &str,
    tokens: &CountingSource,
    clock: &ManualClock,
) -> PardotClientBuilder<NewCache> {
    PardotClient::builder(tokens.shared(), PardotHost::custom(url).unwrap())
        .business_unit(BU.parse::<BusinessUnitId>().unwrap())
        .clock(clock.shared())
        .no_proxy()
}

/// Lets `times` waits of the client (throttling or transport backoff) pass on `clock`.
async fn let_waits_pass(clock: &ManualClock, times: usize) {
    for _ in 0..times {
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(30));
    }
}

/// A server with `mocks` mounted.
async fn serving(mocks: impl IntoIterator<Item = Mock>) -> MockServer {
    let server = MockServer::start().await;
    for mock in mocks {
        mock.mount(&server).await;
    }
    server
}

/// A 200 answer with a JSON body.
fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

const XML_184: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsp stat="fail" version="1.0">
    <err code="184">access_token is invalid, unknown, or malformed</err>
</rsp>"#;

#[tokio::test]
async fn v5_get_sends_bearer_and_business_unit() {
    let server = serving([Mock::given(method("GET"))
        .and(path("/api/v5/objects/prospects"))
        .and(query_param("fields", "id,email"))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("pardot-business-unit-id", BU))
        .respond_with(json(
            r#"{"values":[{"id":1,"email":"a@b.c"}],"nextPageToken":null,"nextPageUrl":null}"#,
        ))
        .expect(1)])
    .await;
    let (_clock, _tokens, c) = setup(&server);
    let resp = c
        .get("/api/v5/objects/prospects")
        .query([("fields", "id,email")])
        .send()
        .await
        .unwrap();
    let page: serde_json::Value = resp.json().unwrap();
    assert_eq!(page["values"][0]["id"], 1);
    assert_eq!(resp.attempts(), 1);
    assert_eq!(c.metrics().requests, 1);
}

#[tokio::test]
async fn legacy_post_form_and_envelope() {
    let server = serving([Mock::given(method("POST"))
        .and(path("/api/prospect/version/4/do/create/email/a@b.c"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("first_name=Ada&format=json"))
        .respond_with(json(
            r#"{"@attributes":{"stat":"ok","version":1},"prospect":{"id":7,"email":"a@b.c"}}"#,
        ))
        .expect(1)])
    .await;
    let (_clock, _tokens, c) = setup(&server);
    let resp = c
        .post("/api/prospect/version/4/do/create/email/a@b.c")
        .form([("first_name", "Ada"), ("format", "json")])
        .send()
        .await
        .unwrap();
    assert!(resp.envelope().unwrap().is_ok());
}

/// Answers `expired` to `tok-1` and 200 to `tok-2`.
async fn expire_first_token(server: &MockServer, route: &str, expired: ResponseTemplate, ok: &str) {
    Mock::given(path(route))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(expired)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path(route))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_string(ok))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn expiry_in_every_shape_refreshes_once_and_retries_once() {
    let legacy_ok = r#"<rsp stat="ok" version="1.0"><account><id>1</id></account></rsp>"#;
    let cases: Vec<(&str, ResponseTemplate, &str)> = vec![
        (
            "/api/account/version/4/do/read",
            ResponseTemplate::new(401).set_body_string(XML_184),
            legacy_ok,
        ),
        // 400 instead of 401.
        (
            "/api/account/version/4/do/read",
            ResponseTemplate::new(400).set_body_string(XML_184),
            legacy_ok,
        ),
        // The old behaviour: 200 with stat="fail".
        (
            "/api/account/version/3/do/read",
            ResponseTemplate::new(200).set_body_string(XML_184),
            legacy_ok,
        ),
        (
            "/api/account/version/4/do/read",
            ResponseTemplate::new(401).set_body_string(
                r#"{"@attributes":{"stat":"fail","version":1,"err_code":184},"err":"access_token is invalid, unknown, or malformed: Inactive token"}"#,
            ),
            r#"{"@attributes":{"stat":"ok","version":1},"account":{"id":1}}"#,
        ),
        (
            "/api/v5/objects/prospects",
            ResponseTemplate::new(401).set_body_string(
                r#"{"code":184,"message":"access_token is invalid, unknown, or malformed: Inactive token"}"#,
            ),
            r#"{"values":[]}"#,
        ),
        (
            "/api/v5/objects/prospects",
            ResponseTemplate::new(400).set_body_string(
                r#"{"code":184,"message":"access_token is invalid, unknown, or malformed"}"#,
            ),
            r#"{"values":[]}"#,
        ),
        (
            "/services/data/v60.0/query",
            ResponseTemplate::new(401).set_body_string(
                r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
            ),
            r#"{"records":[]}"#,
        ),
    ];
    for (i, (route, expired, ok)) in cases.into_iter().enumerate() {
        let server = MockServer::start().await;
        expire_first_token(&server, route, expired, ok).await;
        let (_clock, tokens, c) = setup(&server);
        let resp = c
            .get(route)
            .send()
            .await
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(resp.attempts(), 2, "case {i}");
        assert_eq!(tokens.fetches(), 2, "case {i}");
        let m = c.metrics();
        assert_eq!((m.expiry_retries, m.token.refreshes), (1, 1), "case {i}");
        server.verify().await;
    }
}

#[tokio::test]
async fn a_second_184_after_a_refresh_is_a_scope_error_not_a_loop() {
    let server = serving([Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"code":184,"message":"access_token is invalid, unknown, or malformed"}"#,
        ))
        .expect(2)])
    .await;
    let (_clock, tokens, c) = setup(&server);
    let e = c.get("/api/v5/objects/prospects").send().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("token invalid or lacks the pardot_api scope"),
        "{e}"
    );
    assert_eq!(e.pardot_code(), Some(PardotErrorCode(184)));
    assert_eq!(e.class(), ErrorClass::NeverRetry);
    assert_eq!(tokens.fetches(), 2);
}

#[tokio::test]
async fn a_token_without_pardot_scope_fails_before_any_request() {
    let server = serving([Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)])
    .await;
    let clock = ManualClock::new();
    let tokens = tokens(&clock).scopes("api refresh_token");
    let c = client(&server, &tokens, &clock);
    let e = c.get("/api/v5/objects/prospects").send().await.unwrap_err();
    assert!(matches!(e, PardotError::MissingScope { .. }), "{e}");
    assert!(e.to_string().contains("pardot_api"));
}

#[tokio::test]
async fn throttling_is_retried_after_a_wait_on_the_clock() {
    let server = serving([
        Mock::given(path("/api/prospect/version/4/do/query"))
            .respond_with(ResponseTemplate::new(400).set_body_string(
                r#"<rsp stat="fail" version="1.0"><err code="66">You have exceeded your concurrent request limit.  Please wait, before trying again</err></rsp>"#,
            ))
            .up_to_n_times(1)
            .expect(1),
        Mock::given(path("/api/prospect/version/4/do/query"))
            .respond_with(ResponseTemplate::new(200).set_body_string(
                r#"<rsp stat="ok" version="1.0"><result><total_results>0</total_results></result></rsp>"#,
            ))
            .expect(1),
    ])
    .await;
    let (clock, _tokens, c) = setup(&server);
    // POST: not idempotent, but code 66 proves the request was refused.
    let call = tokio::spawn({
        let c = c.clone();
        async move {
            c.post("/api/prospect/version/4/do/query")
                .form([("limit", "1")])
                .send()
                .await
        }
    });
    let_waits_pass(&clock, 1).await;
    let resp = call.await.unwrap().unwrap();
    assert_eq!(resp.attempts(), 2);
    assert_eq!(c.metrics().throttle_retries, 1);
}

#[tokio::test]
async fn throttling_gives_up_within_the_bounds() {
    let server = serving([Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(429).set_body_string(r#"{"code":66,"message":"x"}"#))
        .expect(3)])
    .await;
    let clock = ManualClock::new();
    let tokens = tokens(&clock);
    let c = builder(&server.uri(), &tokens, &clock)
        .retry_policy(RetryPolicy::default().max_retries(2))
        .build()
        .unwrap();
    let call = tokio::spawn({
        let c = c.clone();
        async move { c.get("/api/v5/objects/prospects").send().await }
    });
    let_waits_pass(&clock, 2).await;
    let e = call.await.unwrap().unwrap_err();
    assert!(
        matches!(e, PardotError::Throttled { attempts: 3, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn never_retry_errors_take_exactly_one_request() {
    let cases = [
        (
            "/api/account/version/4/do/read",
            400,
            r#"<rsp stat="fail" version="1.0"><err code="122">Daily API rate limit met</err></rsp>"#,
            122,
        ),
        (
            "/api/v5/objects/prospects",
            403,
            r#"{"code":201,"message":"Business Unit specified in Pardot-Business-Unit-Id header not found or inactive."}"#,
            201,
        ),
        (
            "/api/account/version/4/do/read",
            400,
            r#"{"@attributes":{"stat":"fail","version":1,"err_code":49},"err":"Access Denied"}"#,
            49,
        ),
    ];
    for (route, status, body, code) in cases {
        let server = MockServer::start().await;
        Mock::given(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
        let (_clock, _tokens, c) = setup(&server);
        let e = c.get(route).send().await.unwrap_err();
        assert_eq!(e.pardot_code(), Some(PardotErrorCode(code)), "{e}");
        assert_eq!(e.class(), ErrorClass::NeverRetry, "{e}");
        assert!(matches!(e, PardotError::Api { help: Some(_), .. }), "{e}");
        server.verify().await;
    }
}

#[tokio::test]
async fn a_gateway_error_is_not_retried_for_a_post_but_is_for_a_get() {
    let server = serving([
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(502))
            .expect(1),
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1)
            .expect(1),
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .expect(1),
    ])
    .await;
    let (clock, _tokens, c) = setup(&server);
    let e = c
        .post("/api/v5/objects/prospects")
        .json(&serde_json::json!({"email": "a@b.c"}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, PardotError::Http { .. }), "{e}");
    let get = tokio::spawn({
        let c = c.clone();
        async move { c.get("/api/v5/objects/prospects").send().await }
    });
    let_waits_pass(&clock, 1).await;
    assert_eq!(get.await.unwrap().unwrap().attempts(), 2);
}

#[tokio::test]
async fn bodies_are_bounded() {
    let server = serving([Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2048)))])
    .await;
    let clock = ManualClock::new();
    let tokens = tokens(&clock);
    let c = PardotClient::builder(tokens.shared(), PardotHost::custom(&server.uri()).unwrap())
        .business_unit(BU.parse().unwrap())
        .max_response_bytes(1024)
        .no_proxy()
        .build()
        .unwrap();
    let e = c.get("/api/v5/objects/prospects").send().await.unwrap_err();
    assert!(
        matches!(e, PardotError::BodyTooLarge { limit: 1024 }),
        "{e}"
    );
}

#[tokio::test]
async fn the_token_is_never_sent_to_another_host() {
    let server = MockServer::start().await;
    let (_clock, tokens, c) = setup(&server);
    let e = c
        .request_url(
            http::Method::GET,
            "http://127.0.0.2:1/api/v5/objects/prospects",
        )
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, PardotError::Config(_)), "{e}");
    assert_eq!(tokens.fetches(), 0);
    assert!(!format!("{c:?}").contains("tok-"));
}

#[tokio::test]
async fn a_legacy_api_key_goes_in_the_pardot_header() {
    let server = serving([Mock::given(path("/api/account/version/3/do/read"))
        // wiremock's `header` matcher splits values at commas, so compare the raw value.
        .and(|req: &wiremock::Request| {
            req.headers.get("authorization").map(|v| v.as_bytes())
                == Some(&b"Pardot api_key=5a1698a233e73d7c8ccd60d775fbc68a, user_key=c0ffee"[..])
                && req.headers.get("pardot-business-unit-id").is_none()
        })
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"<rsp stat="ok" version="1.0"></rsp>"#),
        )
        .expect(1)])
    .await;
    let source = provide_token_fn("legacy", || async {
        let now = std::time::SystemTime::now();
        Ok(AccessToken::new(
            TokenKind::LegacyApiKey {
                user_key: "c0ffee".into(),
            },
            "5a1698a233e73d7c8ccd60d775fbc68a".into(),
            now,
            Expiry::Known(now + Duration::from_secs(3600)),
        ))
    });
    let c = PardotClient::builder(Arc::new(source), PardotHost::custom(&server.uri()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    c.get("/api/account/version/3/do/read")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post_within_the_bounds() {
    // A port nobody listens on: the connection is refused, so the request never left.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::new();
    let tokens = tokens(&clock);
    let c = builder(&format!("http://127.0.0.1:{port}"), &tokens, &clock)
        .retry_policy(RetryPolicy::default().max_retries(2))
        .build()
        .unwrap();
    let call = tokio::spawn({
        let c = c.clone();
        async move {
            c.post("/api/v5/objects/prospects")
                .json(&serde_json::json!({"email": "a@b.c"}))
                .send()
                .await
        }
    });
    let_waits_pass(&clock, 2).await;
    let e = call.await.unwrap().unwrap_err();
    assert!(matches!(e, PardotError::Transport(_)), "{e}");
    let m = c.metrics();
    assert_eq!((m.attempts, m.transport_retries), (3, 2));
}

#[tokio::test]
async fn the_daily_budget_stops_before_the_server_is_asked() {
    let server = serving([Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(2)])
    .await;
    let clock = ManualClock::new();
    let tokens = tokens(&clock);
    let c = builder(&server.uri(), &tokens, &clock)
        .daily_budget(2)
        .build()
        .unwrap();
    for _ in 0..2 {
        c.get("/api/v5/objects/prospects").send().await.unwrap();
    }
    let e = c.get("/api/v5/objects/prospects").send().await.unwrap_err();
    assert!(
        matches!(e, PardotError::BudgetExhausted { used: 2, budget: 2 }),
        "{e}"
    );
    assert_eq!(c.governor().usage().used_today, 2);
    // The next day (on the client's clock) the budget is fresh.
    server.verify().await;
    clock.advance(Duration::from_secs(86_400));
    server.reset().await;
    Mock::given(path("/api/v5/objects/prospects"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    c.get("/api/v5/objects/prospects").send().await.unwrap();
}
