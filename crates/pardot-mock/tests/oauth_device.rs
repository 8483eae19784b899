//! The device flow over plain HTTP: device code, polling answers on the mock clock, scripted
//! approval (Rust and admin routes), and the `/setup/connect` pages.

mod common;
mod web_support;

use std::time::Duration;

use common::*;
use pardot_mock::{MockError, Outcome, PardotMock, Route, fixtures};
use serde_json::{Value, json};
use web_support::{WEB_USER, browser, get};

const USER_CODE_ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Starts a device authorization for the web app (interval 1 s in the fixtures).
async fn start(base: &str, client_id: &str, scope: Option<&str>) -> Value {
    let mut form = vec![("response_type", "device_code"), ("client_id", client_id)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let (status, headers, body) = token(base, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
    assert_eq!(headers["cache-control"], common::TOKEN_CACHE_CONTROL);
    json_of(&body)
}

async fn poll(
    base: &str,
    client_id: &str,
    device_code: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    token(
        base,
        &[
            ("grant_type", "device"),
            ("client_id", client_id),
            ("code", device_code),
        ],
    )
    .await
}

/// The apps whose device codes the tests poll.
const WEB_APP: &str = fixtures::WEB_CONSUMER_KEY;
const JWT_APP: &str = fixtures::JWT_CONSUMER_KEY;
const CC_APP: &str = fixtures::CC_CONSUMER_KEY;

/// The refusals of a poll.
const PENDING: OAuthErr = ("authorization_pending", "authorization pending");
const SLOW_DOWN: OAuthErr = ("slow_down", "polling too quickly");
const DENIED: OAuthErr = ("access_denied", "end-user denied authorization");
const EXPIRED_CODE: OAuthErr = ("invalid_grant", "expired authorization code");
const EXPIRED_DEVICE_CODE: OAuthErr = ("expired_token", "device code expired");

/// Polls `device_code` of the app `client_id` on the mock's main host and asserts `refusal`.
async fn assert_poll(mock: &PardotMock, client_id: &str, device_code: &str, refusal: OAuthErr) {
    let answer = poll(&mock.url(), client_id, device_code).await;
    assert_oauth_error(&answer, refusal.0, refusal.1);
}

/// A device authorization of the app `client_id` on the mock's main host, without a scope:
/// the answer, its device code and its user code.
async fn started(mock: &PardotMock, client_id: &str) -> (Value, String, String) {
    let v = start(&mock.url(), client_id, None).await;
    let (device_code, user_code) = code_of(&v);
    (v, device_code, user_code)
}

fn code_of(v: &Value) -> (String, String) {
    (
        v["device_code"].as_str().unwrap().to_owned(),
        v["user_code"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn scripted_approval_from_start_to_tokens() {
    let (mock, clock) = mock().await;
    let v = start(
        &mock.url(),
        fixtures::WEB_CONSUMER_KEY,
        Some("api refresh_token"),
    )
    .await;
    assert_eq!(
        sorted_keys(&v),
        ["device_code", "interval", "user_code", "verification_uri"]
    );
    assert_eq!(
        v["verification_uri"],
        format!("{}/setup/connect", mock.url())
    );
    assert_eq!(v["interval"], 1);
    let (device_code, user_code) = code_of(&v);
    assert_eq!(user_code.len(), 8);
    assert!(
        user_code.chars().all(|c| USER_CODE_ALPHABET.contains(c)),
        "{user_code}"
    );

    assert_poll(&mock, WEB_APP, &device_code, PENDING).await;
    mock.approve_device(&user_code.to_lowercase(), fixtures::WEB_USERNAME)
        .unwrap();
    clock.advance(Duration::from_secs(1));
    let (status, _, body) = poll(&mock.url(), WEB_APP, &device_code).await;
    assert_eq!(status, 200, "{body}");
    let t = json_of(&body);
    assert_eq!(sorted_keys(&t), TOKEN_FIELDS_WITH_REFRESH);
    assert_eq!(t["scope"], "api refresh_token");
    assert_eq!(t["token_type"], "Bearer");
    let info = mock
        .lookup_access_token(t["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info.username, fixtures::WEB_USERNAME);

    // The device code is used up.
    clock.advance(Duration::from_secs(1));
    assert_poll(&mock, WEB_APP, &device_code, EXPIRED_CODE).await;
    // The refresh token works.
    let (status, _, body) = token(
        &mock.url(),
        &refresh_form(
            t["refresh_token"].as_str().unwrap(),
            fixtures::WEB_CONSUMER_KEY,
            fixtures::WEB_CONSUMER_SECRET,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // No refresh token without the scope.
    let v = start(&mock.url(), fixtures::WEB_CONSUMER_KEY, Some("api")).await;
    let (device_code, user_code) = code_of(&v);
    mock.approve_device(&user_code, fixtures::WEB_USERNAME)
        .unwrap();
    let (status, _, body) = poll(&mock.url(), WEB_APP, &device_code).await;
    assert_eq!(status, 200, "{body}");
    assert!(json_of(&body).get("refresh_token").is_none());
}

#[tokio::test]
async fn approval_through_the_html_pages() {
    let (mock, clock) = mock().await;
    let (v, device_code, user_code) = started(&mock, WEB_APP).await;
    let client = browser();
    let page = get(&client, v["verification_uri"].as_str().unwrap(), None).await;
    assert_eq!(page.status, 200);
    page.assert_html();
    assert!(page.body.contains("<label for=\"user_code\">Code</label>"));
    let form = page.form();
    assert_eq!(form.action, "/setup/connect");
    assert_eq!(form.labels, ["user_code"]);
    assert_eq!(form.field("step"), Some("code"));

    // A wrong code shows the page again with an error.
    let wrong = form
        .clone()
        .set("user_code", "ZZZZZZZZ")
        .submit(&client, &mock.url(), Some("connect"), None)
        .await;
    wrong.assert_shows(
        "error",
        "The code is invalid or has expired. Check the code on your device and try again.",
    );
    assert_eq!(wrong.form().field("user_code"), Some("ZZZZZZZZ"));

    // People type codes in lower case with a dash.
    let typed = format!("{}-{}", &user_code[..4], &user_code[4..]).to_lowercase();
    let login = form
        .set("user_code", &typed)
        .submit(&client, &mock.url(), Some("connect"), None)
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    login.assert_html();
    let login_form = login.form();
    assert_eq!(login_form.action, "/setup/connect");
    assert_eq!(login_form.labels, ["username", "password"]);
    assert_eq!(login_form.field("step"), Some("login"));
    let bad = login_form
        .log_in(&client, &mock.url(), (fixtures::WEB_USERNAME, "nope"))
        .await;
    assert_eq!(
        bad.text_of("error").as_deref(),
        Some(
            "Please check your username and password. If you still can't log in, contact your Salesforce administrator."
        )
    );
    let consent = login_form.log_in(&client, &mock.url(), WEB_USER).await;
    assert_eq!(consent.status, 200);
    let consent_form = consent.form();
    assert_eq!(consent_form.field("step"), Some("consent"));
    assert_poll(&mock, WEB_APP, &device_code, PENDING).await;
    let done = consent_form
        .submit(&client, &mock.url(), Some("oaapprove"), None)
        .await;
    done.assert_html();
    done.assert_shows(
        "message",
        "Your device is connected. You can close this window and return to your device.",
    );
    clock.advance(Duration::from_secs(1));
    let (status, _, body) = poll(&mock.url(), WEB_APP, &device_code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json_of(&body)["scope"],
        "api pardot_api refresh_token offline_access web openid id"
    );
    // The user code cannot be entered again.
    let reuse = get(&client, v["verification_uri"].as_str().unwrap(), None)
        .await
        .form()
        .set("user_code", &user_code)
        .submit(&client, &mock.url(), Some("connect"), None)
        .await;
    assert!(reuse.text_of("error").is_some());
    let expected = [(Outcome::CodePage, 2), (Outcome::InvalidUserCode, 2)];
    assert_route_counts(&mock, Route::OAuthDevice, &expected);
}

#[tokio::test]
async fn denial_scripted_over_http_and_through_the_page() {
    let (mock, clock) = mock().await;
    let (_, device_code, user_code) = started(&mock, WEB_APP).await;
    let r = common::post(&mock.url(), &format!("/__mock/device/{user_code}/deny"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_poll(&mock, WEB_APP, &device_code, DENIED).await;
    clock.advance(Duration::from_secs(1));
    assert_poll(&mock, WEB_APP, &device_code, DENIED).await;
    // A decided code cannot be approved any more.
    assert_eq!(
        mock.approve_device(&user_code, fixtures::WEB_USERNAME),
        Err(MockError::UnknownUserCode(user_code.clone()))
    );

    // Through the pages: Deny.
    let (v, device_code, user_code) = started(&mock, WEB_APP).await;
    let client = browser();
    let page = get(
        &client,
        &format!(
            "{}?user_code={user_code}",
            v["verification_uri"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let form = page.form();
    assert_eq!(form.field("user_code"), Some(user_code.as_str()));
    let login = form
        .submit(&client, &mock.url(), Some("connect"), None)
        .await;
    let consent = login.form().log_in(&client, &mock.url(), WEB_USER).await;
    let done = consent
        .form()
        .submit(&client, &mock.url(), Some("oadeny"), None)
        .await;
    done.assert_shows(
        "message",
        "You denied access. Your device was not connected.",
    );
    assert_poll(&mock, WEB_APP, &device_code, DENIED).await;
}

#[tokio::test]
async fn approval_over_the_admin_route() {
    let (mock, _clock) = mock().await;
    let (_, device_code, user_code) = started(&mock, WEB_APP).await;
    let url = format!("{}/__mock/device/{user_code}/approve", mock.url());
    let r = http_post_json(&url, &json!({"username": "nobody@acme.example"})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        json!({"error": "pardot-mock: unknown username `nobody@acme.example`"}).to_string()
    );
    let r = http_post_json(&url, &json!({"username": fixtures::WEB_USERNAME})).await;
    assert_eq!(r.status(), 204);
    let (status, _, body) = poll(&mock.url(), WEB_APP, &device_code).await;
    assert_eq!(status, 200, "{body}");
    let r = http_post_json(
        format!("{}/__mock/device/NOPE2345/approve", mock.url()),
        &json!({"username": fixtures::WEB_USERNAME}),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().await.unwrap(),
        json!({"error": "pardot-mock: unknown or expired user code `NOPE2345`"}).to_string()
    );
}

#[tokio::test]
async fn slow_down_is_judged_on_the_mock_clock() {
    let (mock, clock) = mock().await;
    let (_, device_code, _) = started(&mock, WEB_APP).await;
    assert_poll(&mock, WEB_APP, &device_code, PENDING).await;
    assert_poll(&mock, WEB_APP, &device_code, SLOW_DOWN).await;
    clock.advance(Duration::from_millis(999));
    assert_poll(&mock, WEB_APP, &device_code, SLOW_DOWN).await;
    clock.advance(Duration::from_secs(1));
    assert_poll(&mock, WEB_APP, &device_code, PENDING).await;

    // The default interval is 5 s (the client-credentials app does not set one).
    let v = start(&mock.url(), fixtures::CC_CONSUMER_KEY, None).await;
    assert_eq!(v["interval"], 5);
    let (device_code, _) = code_of(&v);
    let _ = poll(&mock.url(), CC_APP, &device_code).await;
    clock.advance(Duration::from_secs(4));
    assert_poll(&mock, CC_APP, &device_code, SLOW_DOWN).await;
    clock.advance(Duration::from_secs(5));
    assert_poll(&mock, CC_APP, &device_code, PENDING).await;
}

#[tokio::test]
async fn device_code_expires_after_10_minutes() {
    let (mock, clock) = mock().await;
    let (_, device_code, user_code) = started(&mock, WEB_APP).await;
    clock.advance(Duration::from_secs(10 * 60 - 1));
    assert_poll(&mock, WEB_APP, &device_code, PENDING).await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        mock.approve_device(&user_code, fixtures::WEB_USERNAME),
        Err(MockError::UnknownUserCode(user_code.clone()))
    );
    assert_eq!(
        mock.deny_device(&user_code),
        Err(MockError::UnknownUserCode(user_code))
    );
    assert_poll(&mock, WEB_APP, &device_code, EXPIRED_DEVICE_CODE).await;
    assert_poll(&mock, WEB_APP, &device_code, EXPIRED_CODE).await;
}

#[tokio::test]
async fn device_request_errors() {
    let (mock, _clock) = mock().await;
    let start = [("response_type", "device_code"), ("client_id", WEB_APP)];
    let invalid_scope = (
        "invalid_scope",
        "requested scope is invalid, unknown, or malformed",
    );
    for (changes, refusal) in [
        ([("client_id", Some("nope"))], INVALID_CLIENT_ID),
        ([("scope", Some("api full"))], invalid_scope),
        ([("client_secret", Some("wrong"))], INVALID_CLIENT),
    ] {
        let form = with_fields(&start, &changes);
        assert_token_error_in(refusal.0, &mock.url(), &form, refusal).await;
    }
    // Polling with another app's client id, or a made-up code.
    let (_, device_code, _) = started(&mock, WEB_APP).await;
    assert_poll(
        &mock,
        fixtures::ROTATING_CONSUMER_KEY,
        &device_code,
        EXPIRED_CODE,
    )
    .await;
    assert_poll(&mock, WEB_APP, "made-up", EXPIRED_CODE).await;
}

#[tokio::test]
async fn sandbox_verification_uri_and_admin_approved_apps() {
    let (mock, _clock) = mock().await;
    let v = start(&mock.sandbox_url(), fixtures::WEB_CONSUMER_KEY, None).await;
    assert_eq!(
        v["verification_uri"],
        format!("{}/sandbox/setup/connect", mock.url())
    );
    let page = get(&browser(), v["verification_uri"].as_str().unwrap(), None).await;
    assert_eq!(page.form().action, "/sandbox/setup/connect");

    // The JWT app is admin approved: an unassigned user's approval does not give tokens.
    let (_, device_code, user_code) = started(&mock, JWT_APP).await;
    mock.approve_device(&user_code, fixtures::UNAPPROVED_USERNAME)
        .unwrap();
    assert_poll(&mock, JWT_APP, &device_code, NOT_ADMIN_APPROVED).await;
}

#[tokio::test]
async fn sf_oauth_style_client_with_shared_clock() {
    // Drives the flow the way a polling client does: wait `interval` on the shared clock,
    // poll, and approve in between — every answer judged on the same ManualClock.
    let (mock, clock) = mock().await;
    let (v, device_code, user_code) = started(&mock, fixtures::PKCE_CONSUMER_KEY).await;
    let interval = Duration::from_secs(v["interval"].as_u64().unwrap());
    let mut answers = Vec::new();
    for round in 0..4 {
        clock.advance(interval);
        if round == 2 {
            mock.approve_device(&user_code, fixtures::WEB_USERNAME)
                .unwrap();
        }
        let (status, _, body) = poll(&mock.url(), fixtures::PKCE_CONSUMER_KEY, &device_code).await;
        answers.push((status, json_of(&body).get("error").cloned()));
        if status == 200 {
            break;
        }
    }
    assert_eq!(
        answers,
        [
            (400, Some(json!("authorization_pending"))),
            (400, Some(json!("authorization_pending"))),
            (200, None)
        ]
    );
}

#[tokio::test]
async fn a_logged_in_browser_goes_straight_to_allow() {
    let (mock, _clock) = mock().await;
    let (v, device_code, user_code) = started(&mock, WEB_APP).await;
    let client = browser();
    let verification = v["verification_uri"].as_str().unwrap();
    let login = get(&client, verification, None)
        .await
        .form()
        .set("user_code", &user_code)
        .submit(&client, &mock.url(), Some("connect"), None)
        .await;
    let consent = login.form().log_in(&client, &mock.url(), WEB_USER).await;
    let cookie = consent.session_cookie();
    consent
        .form()
        .submit(&client, &mock.url(), Some("oaapprove"), None)
        .await;
    let (status, _, _) = poll(&mock.url(), WEB_APP, &device_code).await;
    assert_eq!(status, 200);

    // Second device, same browser: no login page.
    let (_, _, user_code) = started(&mock, WEB_APP).await;
    let page = get(&client, verification, Some(&cookie))
        .await
        .form()
        .set("user_code", &user_code)
        .submit(&client, &mock.url(), Some("connect"), Some(&cookie))
        .await;
    page.assert_step("consent");
}

/// Approving a device code does not re-assign a user whose admin-approved access was revoked;
/// a device approved before a revoke gets no tokens.
#[tokio::test]
async fn revoked_approval_and_device_codes() {
    let (mock, _clock) = mock().await;
    mock.fault(pardot_mock::Fault::RevokeApproval {
        consumer_key: fixtures::JWT_CONSUMER_KEY.into(),
        username: Some(fixtures::INTEGRATION_USERNAME.into()),
    })
    .unwrap();
    let (_, device_code, user_code) = started(&mock, JWT_APP).await;
    mock.approve_device(&user_code, fixtures::INTEGRATION_USERNAME)
        .unwrap();
    assert_poll(&mock, JWT_APP, &device_code, NOT_ADMIN_APPROVED).await;
    let password = format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    );
    assert_token_error(
        &mock.url(),
        &[
            ("grant_type", "password"),
            ("client_id", fixtures::JWT_CONSUMER_KEY),
            ("client_secret", fixtures::JWT_CONSUMER_SECRET),
            ("username", fixtures::INTEGRATION_USERNAME),
            ("password", password.as_str()),
        ],
        NOT_ADMIN_APPROVED,
    )
    .await;

    // Self-authorize web app: approved, then the approval is revoked before the poll.
    let (_, device_code, user_code) = started(&mock, WEB_APP).await;
    mock.approve_device(&user_code, fixtures::WEB_USERNAME)
        .unwrap();
    mock.revoke_app_approval(fixtures::WEB_CONSUMER_KEY)
        .unwrap();
    assert_poll(&mock, WEB_APP, &device_code, EXPIRED_CODE).await;
}
