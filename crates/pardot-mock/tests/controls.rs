//! Journal, counters, faults, clock, reset and the admin routes.

mod common;

use std::time::Duration;

use common::*;
use pardot_auth_core::{Clock, ManualClock};
use pardot_mock::fixtures::*;
use pardot_mock::{Fault, Outcome, PardotMock, Route, RouteFilter};
use serde_json::{Value, json};

async fn admin_post(mock: &PardotMock, path: &str, body: Value) -> (u16, String) {
    let r = post(&mock.url(), path).json(&body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

/// POSTs `body` to the admin route `path`, which answers 200: its answer's body.
async fn admin_ok(mock: &PardotMock, path: &str, body: Value) -> String {
    let (status, answer) = admin_post(mock, path, body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Adds the fault `body` over the admin route, which accepts it (204).
async fn add_fault(mock: &PardotMock, body: Value) {
    let (status, answer) = admin_post(mock, "/__mock/faults", body).await;
    assert_eq!(status, 204, "{answer}");
}

async fn admin_get(mock: &PardotMock, path: &str) -> Value {
    http_get(format!("{}{path}", mock.url()))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn fail_next_from_rust_then_the_real_answer() {
    let (mock, _c) = mock().await;
    mock.fail_next(Route::OAuthToken, 2, 503, "Service Unavailable")
        .unwrap();
    let pw = integration_password();
    for _ in 0..2 {
        let (s, h, b) = token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
        assert_eq!((s, b.as_str()), (503, "Service Unavailable"));
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
    }
    let (status, _, body) = token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
    assert_eq!(status, 200, "{body}");
    let expected = [(Outcome::Fault, 2), (Outcome::Ok, 1)];
    assert_route_counts(&mock, Route::OAuthToken, &expected);
}

#[tokio::test]
async fn fail_next_token_with_a_spec_error() {
    let (mock, _c) = mock().await;
    mock.fail_next_token("invalid_grant", "expired access/refresh token")
        .unwrap();
    let r = integration_login(&mock.url()).await;
    assert_oauth_error(&r, "invalid_grant", "expired access/refresh token");
}

#[tokio::test]
async fn unknown_route_names_over_http_are_refused_not_ignored() {
    let (mock, _c) = mock().await;
    for fault in [
        json!({"kind": "fail_next", "route": "oauth.tokn", "count": 1, "status": 503}),
        json!({"kind": "latency", "millis": 5, "route": "pardot.v6"}),
    ] {
        let (s, body) = admin_post(&mock, "/__mock/faults", fault).await;
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("unknown route or route group"), "{body}");
        assert!(
            body.contains("oauth.token"),
            "the choices are listed: {body}"
        );
    }
    assert_eq!(
        integration_login(&mock.url()).await.0,
        200,
        "no fault was installed"
    );
}

#[tokio::test]
async fn fail_next_over_http_matches_a_route_group_only() {
    let (mock, _c) = mock().await;
    add_fault(&mock, json!({"kind": "fail_next", "route": "mci", "count": 1, "status": 500, "body": "{\"boom\":true}"})).await;
    // Not an MCI route: unaffected.
    assert_eq!(integration_login(&mock.url()).await.0, 200);
    let r = http_get(mock.mci_discovery_url("us1")).await;
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    assert_eq!(r.text().await.unwrap(), "{\"boom\":true}");
}

#[tokio::test]
async fn bad_fault_json_is_a_400_with_a_reason() {
    let (mock, _c) = mock().await;
    let (s, b) = admin_post(&mock, "/__mock/faults", json!({"kind": "explode"})).await;
    assert_eq!(s, 400);
    assert!(b.contains("explode"), "{b}");
    let (s, b) = admin_post(
        &mock,
        "/__mock/faults",
        json!({"kind": "expire_tokens", "username": "nobody@x"}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b.contains("unknown username"), "{b}");
}

#[tokio::test]
async fn expire_all_tokens_and_one_users_tokens() {
    let (mock, _c) = mock().await;
    let a = integration_token(&mock);
    let b = mock
        .issue_access_token(WEB_USERNAME, WEB_CONSUMER_KEY)
        .unwrap();
    add_fault(
        &mock,
        json!({"kind": "expire_tokens", "username": WEB_USERNAME}),
    )
    .await;
    assert!(mock.lookup_access_token(&a).is_some());
    assert!(mock.lookup_access_token(&b).is_none());
    mock.expire_all_tokens().unwrap();
    assert!(mock.lookup_access_token(&a).is_none());
    // Refresh tokens survive: the client can get a new session.
    let r = token(&mock.url(), &web_refresh_form()).await;
    assert_eq!(r.0, 200);
}

#[tokio::test]
async fn revoke_approval_over_http_kills_refresh_tokens() {
    let (mock, _c) = mock().await;
    add_fault(&mock, json!({"kind": "revoke_approval", "consumer_key": WEB_CONSUMER_KEY, "username": WEB_USERNAME})).await;
    assert_token_error(&mock.url(), &web_refresh_form(), EXPIRED_TOKEN).await;
}

#[tokio::test]
async fn latency_fault_applies_to_its_route_and_can_be_removed() {
    let (mock, _c) = mock().await;
    mock.fault(Fault::Latency {
        millis: 5,
        route: Some(Route::OAuthUserinfo.into()),
    })
    .unwrap();
    let t = integration_token(&mock);
    let r = http_get_bearer(format!("{}/services/oauth2/userinfo", mock.url()), &t).await;
    assert_eq!(r.status(), 200);
    mock.set_latency(Duration::ZERO, None).unwrap();
    mock.fault(Fault::Clear).unwrap();
}

#[tokio::test]
async fn clock_advance_over_http_moves_the_shared_manual_clock() {
    let (mock, clock) = mock().await;
    let t = integration_token(&mock);
    let before = clock.now();
    let b = admin_ok(&mock, "/__mock/clock/advance", json!({"seconds": 7200})).await;
    assert_eq!(clock.now(), before + Duration::from_secs(7200));
    let now_ms = json_of(&b)["now_ms"].as_u64().unwrap();
    assert_eq!(
        u128::from(now_ms),
        pardot_auth_core::clock::unix_millis(clock.now())
    );
    assert!(mock.lookup_access_token(&t).is_none());
    assert_eq!(admin_get(&mock, "/__mock/clock").await["now_ms"], now_ms);
}

#[tokio::test]
async fn clock_advance_past_any_date_is_a_bad_request_and_the_mock_keeps_serving() {
    let (mock, clock) = mock().await;
    let before = clock.now();
    for body in [
        json!({"seconds": u64::MAX, "millis": u64::MAX}),
        json!({"seconds": u64::MAX}),
        json!({"millis": u64::MAX}),
    ] {
        let (s, b) = admin_post(&mock, "/__mock/clock/advance", body).await;
        assert_eq!(s, 400, "{b}");
        assert!(b.contains("advance"), "{b}");
    }
    assert_eq!(clock.now(), before);
    let (s, _) = admin_post(&mock, "/__mock/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(s, 200);
    assert_eq!(clock.now(), before + Duration::from_secs(60));

    // The same through an offset (no manual clock).
    let mock = PardotMock::start().await;
    let (s, _) = admin_post(&mock, "/__mock/clock/advance", json!({"seconds": u64::MAX})).await;
    assert_eq!(s, 400);
    assert!(admin_get(&mock, "/__mock/clock").await["now_ms"].is_u64());
}

#[tokio::test]
async fn journal_masks_secrets_over_http_but_not_in_rust() {
    let (mock, _c) = mock().await;
    let pw = integration_password();
    token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
    let entries = mock.journal();
    let e = entries.last().unwrap();
    assert_eq!(e.param("password"), Some(pw.as_str()));
    assert_eq!(e.param("client_secret"), Some(WEB_CONSUMER_SECRET));
    assert_eq!(e.route, Route::OAuthToken);
    assert_eq!(e.vhost, "base");
    assert_eq!((e.status, e.outcome), (200, Outcome::Ok));
    assert!(!format!("{e:?}").contains(&pw));

    let j = admin_get(&mock, "/__mock/journal").await;
    let text = j.to_string();
    assert!(
        !text.contains(&pw) && !text.contains(WEB_CONSUMER_SECRET),
        "{text}"
    );
    let last = j["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["path"], "/services/oauth2/token");
    assert!(
        last["form"]
            .as_array()
            .unwrap()
            .contains(&json!(["password", "***"]))
    );
    assert!(
        last["form"]
            .as_array()
            .unwrap()
            .contains(&json!(["username", INTEGRATION_USERNAME]))
    );
}

#[tokio::test]
async fn journal_is_bounded_but_counters_are_not() {
    let mock = PardotMock::builder().journal_size(5).start().await.unwrap();
    for _ in 0..20 {
        token(&mock.url(), &[("grant_type", "nope")]).await;
    }
    assert!(mock.journal().len() <= 5);
    assert_counts(
        &mock,
        &[(Route::OAuthToken, Outcome::UnsupportedGrantType, 20)],
    );
    let c = admin_get(&mock, "/__mock/counts").await;
    assert_eq!(c["oauth.token"]["unsupported_grant_type"], 20);
}

#[tokio::test]
async fn reset_forgets_tokens_journal_counters_and_faults() {
    let (mock, _c) = mock().await;
    let t = integration_token(&mock);
    mock.fail_next(RouteFilter::Any, 5, 503, "x").unwrap();
    let (s, _) = admin_post(&mock, "/__mock/reset", json!({})).await;
    assert_eq!(s, 204);
    assert!(mock.lookup_access_token(&t).is_none());
    assert!(mock.journal().is_empty());
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 0);
    // Faults are gone and seeded refresh tokens are back.
    let r = token(&mock.url(), &web_refresh_form()).await;
    assert_eq!(r.0, 200, "{}", r.2);
}

#[tokio::test]
async fn tokens_over_http_for_other_languages() {
    let (mock, _c) = mock().await;
    let b = admin_ok(
        &mock,
        "/__mock/tokens",
        json!({"username": INTEGRATION_USERNAME, "consumer_key": JWT_CONSUMER_KEY}),
    )
    .await;
    let t = json_of(&b)["access_token"].as_str().unwrap().to_owned();
    let info = mock.lookup_access_token(&t).unwrap();
    assert!(info.has_scope("pardot_api"));
    assert_eq!(info.consumer_key.as_deref(), Some(JWT_CONSUMER_KEY));
    let narrow = mock
        .issue_access_token_with_scopes(INTEGRATION_USERNAME, JWT_CONSUMER_KEY, &["api"])
        .unwrap();
    let info = mock.lookup_access_token(&narrow).unwrap();
    assert_eq!(info.scopes, ["api"]);
    assert!(!info.has_scope("pardot_api"));
    let b = admin_ok(
        &mock,
        "/__mock/refresh_tokens",
        json!({"username": WEB_USERNAME, "consumer_key": WEB_CONSUMER_KEY}),
    )
    .await;
    assert!(
        json_of(&b)["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("5Aep861")
    );
}

#[tokio::test]
async fn admin_routes_can_be_disabled() {
    let mock = PardotMock::builder()
        .admin_routes(false)
        .start()
        .await
        .unwrap();
    let r = http_get(format!("{}/__mock/counts", mock.url())).await;
    assert_eq!(r.status(), 404);
    let (s, _) = admin_post(&mock, "/__mock/reset", json!({})).await;
    assert_eq!(s, 404);
    // Readiness probes work whatever the configuration.
    assert_eq!(
        admin_get(&mock, "/__mock/health").await,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn health_answers_ok_with_the_version() {
    let mock = PardotMock::start().await;
    let r = http_get(format!("{}/__mock/health", mock.url())).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

/// The mock's clock over HTTP, in milliseconds.
async fn mock_now_ms(mock: &PardotMock) -> u128 {
    u128::from(
        admin_get(mock, "/__mock/clock").await["now_ms"]
            .as_u64()
            .unwrap(),
    )
}

fn real_now_ms() -> u128 {
    pardot_auth_core::clock::unix_millis(std::time::SystemTime::now())
}

const HOUR_MS: u128 = 3_600_000;

#[tokio::test]
async fn clock_advance_without_a_manual_clock_is_an_offset_clock_reset_drops() {
    let mock = PardotMock::start().await;
    let t = integration_token(&mock);
    let (s, _) = admin_post(&mock, "/__mock/clock/advance", json!({"seconds": 7201})).await;
    assert_eq!(s, 200);
    assert!(mock.lookup_access_token(&t).is_none());
    assert!(mock_now_ms(&mock).await > real_now_ms() + HOUR_MS);

    let b = admin_ok(&mock, "/__mock/clock/reset", json!({})).await;
    let now_ms = u128::from(json_of(&b)["now_ms"].as_u64().unwrap());
    assert!(now_ms < real_now_ms() + HOUR_MS, "{b}");
    // Only the clock moved: the token issued before the advance is live again.
    assert!(mock.lookup_access_token(&t).is_some());
}

#[tokio::test]
async fn reset_over_http_and_from_rust_puts_the_clock_back_to_real_time() {
    let mock = PardotMock::start().await;
    for reset_over_http in [true, false] {
        mock.advance_clock(Duration::from_secs(7 * 24 * 3600));
        assert!(mock_now_ms(&mock).await > real_now_ms() + 24 * HOUR_MS);
        if reset_over_http {
            let (s, _) = admin_post(&mock, "/__mock/reset", json!({})).await;
            assert_eq!(s, 204);
        } else {
            mock.reset();
        }
        assert!(mock_now_ms(&mock).await < real_now_ms() + HOUR_MS);
        // A token signed now is judged on real time again.
        let (status, _, body) = integration_login(&mock.url()).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn reset_leaves_a_manual_clock_to_its_owner() {
    let (mock, clock) = mock().await;
    clock.advance(Duration::from_secs(3600));
    let moved = clock.now();
    mock.reset();
    admin_ok(&mock, "/__mock/clock/reset", json!({})).await;
    assert_eq!(clock.now(), moved);
    assert_eq!(mock.now(), moved);
}

#[tokio::test]
async fn counters_are_exact_under_1000_concurrent_requests() {
    let clock = ManualClock::new();
    let mock = PardotMock::builder().clock(&clock).start().await.unwrap();
    let client = http();
    let url = format!("{}/services/oauth2/token", mock.url());
    let pw = integration_password();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let client = client.clone();
        let url = url.clone();
        let pw = if i % 4 == 0 {
            "wrong".to_owned()
        } else {
            pw.clone()
        };
        tasks.spawn(async move {
            client
                .post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", WEB_CONSUMER_KEY),
                    ("client_secret", WEB_CONSUMER_SECRET),
                    ("username", INTEGRATION_USERNAME),
                    ("password", pw.as_str()),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let mut ok = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 750);
    let counts = mock.counts();
    assert_eq!(counts.get(Route::OAuthToken, Outcome::Ok), 750);
    assert_eq!(counts.get(Route::OAuthToken, Outcome::InvalidGrant), 250);
    assert_eq!(counts.route_total(Route::OAuthToken), 1000);
}

#[tokio::test]
async fn router_works_in_memory_with_oneshot() {
    use tower::ServiceExt;
    let state = PardotMock::builder().build_state().unwrap();
    let app = pardot_mock::router(state.clone());
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/sandbox/services/oauth2/token")
        .header("host", "127.0.0.1:1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("grant_type=nope"))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 400);
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    assert_eq!(
        &body[..],
        br#"{"error":"unsupported_grant_type","error_description":"grant type not supported"}"#
    );
    assert_eq!(state.journal()[0].vhost, "sandbox");
}

#[tokio::test]
async fn expectations_are_verified() {
    let (mock, _c) = mock().await;
    mock.expect(Route::OAuthToken, Some(Outcome::Ok), 1..=1);
    mock.expect(Route::OAuthToken, None, 1..);
    let err = mock.verify().unwrap_err();
    assert_eq!(err.unmet().len(), 2, "{err}");
    assert_eq!(err.unmet()[0].expected.outcome, Some(Outcome::Ok));
    assert_eq!(err.unmet()[0].actual, 0);
    let report = err.to_string();
    assert!(
        report.contains("expected oauth.token / ok in 1..=1, got 0"),
        "{report}"
    );
    assert!(
        report.contains("expected oauth.token in 1.., got 0"),
        "{report}"
    );

    // A wrong password counts, but not as `ok`: the one met expectation drops out of the
    // report, and the request shows in its excerpt without the password.
    let pw = integration_password();
    let wrong = password_form(INTEGRATION_USERNAME, "not-the-password");
    token(&mock.url(), &wrong).await;
    let err = mock.verify().unwrap_err();
    assert_eq!(err.unmet().len(), 1, "{err}");
    assert_eq!(err.recent_requests().len(), 1);
    let report = err.to_string();
    assert!(
        report.contains("POST base /services/oauth2/token -> 400 oauth.token invalid_grant"),
        "{report}"
    );
    assert!(!report.contains("not-the-password"), "{report}");

    mock.clear_expectations();
    mock.expect(Route::OAuthToken, Some(Outcome::Ok), 1..=1);
    mock.expect(Route::OAuthToken, None, 2..);
    token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
    mock.verify().unwrap();
    // Dropping with met expectations does not panic.
    drop(mock);
}

#[tokio::test]
#[should_panic(expected = "pardot-mock expectations failed")]
async fn unmet_expectation_panics_on_drop() {
    let mock = PardotMock::start().await;
    mock.expect(Route::MciToken, Some(Outcome::Ok), 1..);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let (mock, _c) = mock().await;
    let big = "a=".to_owned() + &"x".repeat(2 * 1024 * 1024);
    let r = http()
        .post(format!("{}/services/oauth2/token", mock.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(mock.counts().get(Route::OAuthToken, Outcome::Http(413)), 1);
}

/// `docs/reference/salesforce-oauth.md#approval-and-pre-authorization`: a revoked
/// self-authorization ("All users may self-authorize") stops the grants that rely on an earlier
/// approval (JWT: "user hasn't approved this consumer"; the refresh tokens die), while the password
/// grant never needed one and keeps working (`invalid_app_access` is for admin-approved apps only).
#[tokio::test]
async fn revoked_self_authorization_stops_jwt_and_refresh_not_the_password_grant() {
    let clock = ManualClock::new();
    let key = "3MVG9self.authorize.with.cert";
    let mut app = pardot_mock::AppConfig::new(key, "s3cret");
    app.certificate_pem = Some(CONNECTED_APP_CERT_PEM.to_owned());
    let mock = PardotMock::builder()
        .clock(&clock)
        .app(app)
        .start()
        .await
        .unwrap();
    // A refresh token (as after a web login) is the user's approval: JWT works.
    let refresh = mock.seed_refresh_token(WEB_USERNAME, key).unwrap();
    let mut c = claims(WEB_USERNAME, "https://login.salesforce.com", clock.now());
    c["iss"] = json!(key);
    let jwt = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", &assertion(CONNECTED_APP_KEY_PEM, &c)),
    ];
    assert_eq!(token(&mock.url(), &jwt).await.0, 200);

    add_fault(
        &mock,
        json!({"kind": "revoke_approval", "consumer_key": key, "username": WEB_USERNAME}),
    )
    .await;

    let password = [
        ("grant_type", "password"),
        ("client_id", key),
        ("client_secret", "s3cret"),
        ("username", WEB_USERNAME),
        ("password", WEB_PASSWORD),
    ];
    let (status, _, body) = token(&mock.url(), &password).await;
    assert_eq!(status, 200, "{body}");
    // The password grant records no approval: JWT stays refused.
    assert_token_error(
        &mock.url(),
        &jwt,
        ("invalid_grant", "user hasn't approved this consumer"),
    )
    .await;
    assert_token_error(
        &mock.url(),
        &refresh_form(refresh.as_str(), key, "s3cret"),
        EXPIRED_TOKEN,
    )
    .await;
}

#[tokio::test]
async fn revoking_the_fixture_web_app_for_everyone_keeps_its_password_grant() {
    let (mock, _c) = mock().await;
    mock.revoke_app_approval(WEB_CONSUMER_KEY).unwrap();
    let pw = integration_password();
    let (status, _, body) = token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
    assert_eq!(status, 200, "{body}");
    assert_counts(&mock, &[(Route::OAuthToken, Outcome::Ok, 1)]);
}

/// On an admin-approved app the same fault stands for the admin removing the user's
/// assignment: the password grant answers `invalid_app_access`.
#[tokio::test]
async fn revoked_assignment_on_an_admin_approved_app_is_invalid_app_access() {
    let (mock, _c) = mock().await;
    mock.fault(Fault::RevokeApproval {
        consumer_key: JWT_CONSUMER_KEY.into(),
        username: Some(INTEGRATION_USERNAME.into()),
    })
    .unwrap();
    let pw = integration_password();
    assert_token_error(
        &mock.url(),
        &[
            ("grant_type", "password"),
            ("client_id", JWT_CONSUMER_KEY),
            ("client_secret", JWT_CONSUMER_SECRET),
            ("username", INTEGRATION_USERNAME),
            ("password", pw.as_str()),
        ],
        NOT_ADMIN_APPROVED,
    )
    .await;
}
