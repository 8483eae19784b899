//! `POST /__mock/sign-in` and `POST /__mock/sign-in-device`: the browser login as admin
//! routes, for tests in languages without the Rust `sign_in` helper.

mod common;

use common::*;
use pardot_mock::fixtures::*;
use pardot_mock::{Outcome, PardotMock, Route};
use serde_json::{Value, json};

async fn post(mock: &PardotMock, path: &str, body: Value) -> (u16, Value) {
    let r = http()
        .post(format!("{}{path}", mock.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn authorize(base: &str, consumer_key: &str, extra: &str) -> String {
    format!(
        "{base}/services/oauth2/authorize?response_type=code&client_id={consumer_key}\
&redirect_uri={WEB_CALLBACK_URL}&state=st8{extra}"
    )
}

#[tokio::test]
async fn a_sign_in_answers_the_callback_with_a_code_the_token_endpoint_takes() {
    let mock = PardotMock::start().await;
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        json!({
            "authorize_url": authorize(&mock.url(), WEB_CONSUMER_KEY, ""),
            "username": WEB_USERNAME,
            "password": WEB_PASSWORD,
            "consent": "allow",
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let code = v["code"].as_str().unwrap();
    assert!(code.starts_with("aPrx"), "{v}");
    assert_eq!(v["state"], "st8");
    assert_eq!(v["error"], Value::Null);
    assert_eq!(
        (v["login_shown"].as_bool(), v["consent_shown"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(
        v["redirect_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{WEB_CALLBACK_URL}?code=")),
        "{v}"
    );
    // The code is a real one: the client's exchange works.
    let (status, _, body) = token(
        &mock.url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", WEB_CONSUMER_KEY),
            ("client_secret", WEB_CONSUMER_SECRET),
            ("redirect_uri", WEB_CALLBACK_URL),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(mock.counts().get(Route::OAuthToken, Outcome::Ok), 1);
}

#[tokio::test]
async fn consent_deny_and_the_sandbox_host_go_through_the_same_pages() {
    let mock = PardotMock::start().await;
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        json!({
            "authorize_url": authorize(&mock.url(), WEB_CONSUMER_KEY, ""),
            "username": UNAPPROVED_USERNAME,
            "password": UNAPPROVED_PASSWORD,
            "consent": "deny",
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["error"], "access_denied");
    assert_eq!(v["code"], Value::Null);
    assert_eq!(v["consent_shown"], true);

    // A production user is not a sandbox login: the page says so.
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        json!({
            "authorize_url": authorize(&mock.sandbox_url(), WEB_CONSUMER_KEY, ""),
            "username": WEB_USERNAME,
            "password": WEB_PASSWORD,
        }),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["error"], "login_refused");
}

#[tokio::test]
async fn the_errors_of_sign_in_are_4xx_json() {
    let mock = PardotMock::start().await;
    let sign_in = |authorize_url: String, password: &'static str| json!({"authorize_url": authorize_url, "username": WEB_USERNAME, "password": password});
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        sign_in(authorize(&mock.url(), WEB_CONSUMER_KEY, ""), "wrong"),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["error"], "login_refused");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Please check your username and password")
    );

    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        sign_in(authorize(&mock.url(), "3MVG9.nobody", ""), "x"),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"], "error_page");
    assert!(
        v["line"]
            .as_str()
            .unwrap()
            .starts_with("error=invalid_client_id&"),
        "{v}"
    );

    let (status, v) = post(&mock, "/__mock/sign-in", sign_in("not a url".into(), "x")).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("bad_url")), "{v}");
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        sign_in(format!("{}/nowhere", mock.url()), "x"),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unexpected_page")),
        "{v}"
    );
    let (status, v) = post(&mock, "/__mock/sign-in", json!({"authorize_url": "x"})).await;
    assert_eq!(status, 400, "{v}");

    // An immediate redirect needs no login.
    let (status, v) = post(
        &mock,
        "/__mock/sign-in",
        sign_in(
            authorize(&mock.url(), WEB_CONSUMER_KEY, "&immediate=true"),
            "",
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["error"], "immediate_unsuccessful");
    assert_eq!(v["login_shown"], false);
}

#[tokio::test]
async fn a_device_code_is_approved_by_user_code_or_verification_url() {
    let mock = PardotMock::start().await;
    let start = || async {
        let (status, _, body) = token(
            &mock.url(),
            &[
                ("response_type", "device_code"),
                ("client_id", WEB_CONSUMER_KEY),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        json_of(&body)
    };
    let poll = |device_code: String| {
        let url = mock.url();
        async move {
            token(
                &url,
                &[
                    ("grant_type", "device"),
                    ("code", device_code.as_str()),
                    ("client_id", WEB_CONSUMER_KEY),
                ],
            )
            .await
        }
    };

    let started = start().await;
    let (status, v) = post(
        &mock,
        "/__mock/sign-in-device",
        json!({
            "user_code": started["user_code"],
            "username": UNAPPROVED_USERNAME,
            "password": UNAPPROVED_PASSWORD,
            "consent": "allow",
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["consent_shown"], true);
    assert!(v["message"].as_str().unwrap().contains("connected"), "{v}");
    let (status, _, body) = poll(started["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "{body}");

    let started = start().await;
    let url = format!(
        "{}?user_code={}",
        started["verification_uri"].as_str().unwrap(),
        started["user_code"].as_str().unwrap()
    );
    let (status, v) = post(
        &mock,
        "/__mock/sign-in-device",
        json!({
            "verification_url": url,
            "username": UNAPPROVED_USERNAME,
            "password": UNAPPROVED_PASSWORD,
            "consent": "deny",
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["message"].as_str().unwrap().contains("denied"), "{v}");
    let (status, _, body) = poll(started["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("access_denied"), "{body}");

    let (status, v) = post(
        &mock,
        "/__mock/sign-in-device",
        json!({"user_code": "ZZZZZZZZ", "username": WEB_USERNAME, "password": WEB_PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unexpected_page")),
        "{v}"
    );
    let (status, v) = post(
        &mock,
        "/__mock/sign-in-device",
        json!({"username": WEB_USERNAME, "password": WEB_PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );
}
