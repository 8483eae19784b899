//! `POST /__mock/sign-in` and `POST /__mock/sign-in-device`: the browser login as admin
//! routes, for tests in languages without the Rust `sign_in` helper.

mod common;

use common::*;
use pardot_mock::fixtures::*;
use pardot_mock::{Outcome, PardotMock, Route};
use serde_json::{Value, json};

fn authorize(base: &str, consumer_key: &str, extra: &str) -> String {
    format!(
        "{base}/services/oauth2/authorize?response_type=code&client_id={consumer_key}\
&redirect_uri={WEB_CALLBACK_URL}&state=st8{extra}"
    )
}

/// `POST /__mock/sign-in` as `username`, clicking `consent` if asked.
async fn sign_in(
    mock: &PardotMock,
    authorize_url: &str,
    (username, password): (&str, &str),
    consent: &str,
) -> (u16, Value) {
    let body = json!({
        "authorize_url": authorize_url,
        "username": username,
        "password": password,
        "consent": consent,
    });
    post_json(&mock.url(), "/__mock/sign-in", &body).await
}

/// [`sign_in`] that the route answers with 200: its answer.
async fn signed_in(
    mock: &PardotMock,
    authorize_url: &str,
    user: (&str, &str),
    consent: &str,
) -> Value {
    let (status, v) = sign_in(mock, authorize_url, user, consent).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// `POST /__mock/sign-in-device` with the code as `code_field` (`user_code` or
/// `verification_url`) as the unapproved user, clicking `consent`.
async fn sign_in_device(
    mock: &PardotMock,
    code_field: (&str, &str),
    consent: &str,
) -> (u16, Value) {
    let mut body = json!({
        "username": UNAPPROVED_USERNAME,
        "password": UNAPPROVED_PASSWORD,
        "consent": consent,
    });
    body[code_field.0] = json!(code_field.1);
    post_json(&mock.url(), "/__mock/sign-in-device", &body).await
}

const WEB_USER: (&str, &str) = (WEB_USERNAME, WEB_PASSWORD);
const UNAPPROVED_USER: (&str, &str) = (UNAPPROVED_USERNAME, UNAPPROVED_PASSWORD);

#[tokio::test]
async fn a_sign_in_answers_the_callback_with_a_code_the_token_endpoint_takes() {
    let mock = PardotMock::start().await;
    let url = authorize(&mock.url(), WEB_CONSUMER_KEY, "");
    let v = signed_in(&mock, &url, WEB_USER, "allow").await;
    let code = v["code"].as_str().unwrap();
    assert!(code.starts_with("aPrx"), "{v}");
    assert_eq!(v["state"], "st8");
    assert_eq!(v["error"], Value::Null);
    assert_eq!(
        (&v["login_shown"], &v["consent_shown"]),
        (&json!(true), &json!(false))
    );
    let redirect = v["redirect_url"].as_str().unwrap();
    assert!(
        redirect.starts_with(&format!("{WEB_CALLBACK_URL}?code=")),
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
    assert_counts(&mock, &[(Route::OAuthToken, Outcome::Ok, 1)]);
}

#[tokio::test]
async fn consent_deny_and_the_sandbox_host_go_through_the_same_pages() {
    let mock = PardotMock::start().await;
    let url = authorize(&mock.url(), WEB_CONSUMER_KEY, "");
    let v = signed_in(&mock, &url, UNAPPROVED_USER, "deny").await;
    assert_eq!(v["error"], "access_denied");
    assert_eq!(v["code"], Value::Null);
    assert_eq!(v["consent_shown"], true);

    // A production user cannot log in on the sandbox host: the page says so.
    let sandbox = authorize(&mock.sandbox_url(), WEB_CONSUMER_KEY, "");
    let (status, v) = sign_in(&mock, &sandbox, WEB_USER, "allow").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("login_refused")),
        "{v}"
    );
}

#[tokio::test]
async fn the_errors_of_sign_in_are_4xx_json() {
    let mock = PardotMock::start().await;
    let url = authorize(&mock.url(), WEB_CONSUMER_KEY, "");
    let (status, v) = sign_in(&mock, &url, (WEB_USERNAME, "wrong"), "allow").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("login_refused")),
        "{v}"
    );
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("Please check your username and password"),
        "{v}"
    );

    let unknown_app = authorize(&mock.url(), "3MVG9.nobody", "");
    let (status, v) = sign_in(&mock, &unknown_app, WEB_USER, "allow").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("error_page")),
        "{v}"
    );
    assert!(
        v["line"]
            .as_str()
            .unwrap()
            .starts_with("error=invalid_client_id&"),
        "{v}"
    );

    let (status, v) = sign_in(&mock, "not a url", WEB_USER, "allow").await;
    assert_eq!((status, v["error"].as_str()), (400, Some("bad_url")), "{v}");
    let nowhere = format!("{}/nowhere", mock.url());
    let (status, v) = sign_in(&mock, &nowhere, WEB_USER, "allow").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unexpected_page")),
        "{v}"
    );
    let (status, v) = sign_in(&mock, &url, WEB_USER, "maybe").await;
    assert_eq!(status, 400, "{v}");

    // An immediate redirect needs no login.
    let immediate = authorize(&mock.url(), WEB_CONSUMER_KEY, "&immediate=true");
    let v = signed_in(&mock, &immediate, ("", ""), "allow").await;
    assert_eq!(v["error"], "immediate_unsuccessful");
    assert_eq!(v["login_shown"], false);
}

/// The device grant's answer to one poll: status and body.
async fn poll(mock: &PardotMock, started: &Value) -> (u16, String) {
    let device_code = started["device_code"].as_str().unwrap();
    let form = [
        ("grant_type", "device"),
        ("code", device_code),
        ("client_id", WEB_CONSUMER_KEY),
    ];
    let (status, _, body) = token(&mock.url(), &form).await;
    (status, body)
}

#[tokio::test]
async fn a_device_code_is_approved_by_user_code_or_verification_url() {
    let mock = PardotMock::start().await;

    let started = start_device(&mock.url()).await;
    let user_code = started["user_code"].as_str().unwrap();
    let (status, v) = sign_in_device(&mock, ("user_code", user_code), "allow").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["consent_shown"], true);
    assert!(v["message"].as_str().unwrap().contains("connected"), "{v}");
    let (status, body) = poll(&mock, &started).await;
    assert_eq!(status, 200, "{body}");

    let started = start_device(&mock.url()).await;
    let url = format!(
        "{}?user_code={}",
        started["verification_uri"].as_str().unwrap(),
        started["user_code"].as_str().unwrap()
    );
    let (status, v) = sign_in_device(&mock, ("verification_url", &url), "deny").await;
    assert_eq!(status, 200, "{v}");
    assert!(v["message"].as_str().unwrap().contains("denied"), "{v}");
    let (status, body) = poll(&mock, &started).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("access_denied"), "{body}");

    let (status, v) = sign_in_device(&mock, ("user_code", "ZZZZZZZZ"), "allow").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unexpected_page")),
        "{v}"
    );
    let (status, v) = sign_in_device(&mock, ("neither", "x"), "allow").await;
    assert_eq!(status, 400, "{v}");
    let both = json!({"user_code": "A", "verification_url": "B", "username": "u", "password": "p"});
    let (status, v) = post_json(&mock.url(), "/__mock/sign-in-device", &both).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );
}
