//! Helpers shared by the OAuth/MCI/control tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::SystemTime;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use pardot_auth_core::ManualClock;
use pardot_auth_core::clock::unix_seconds;
use pardot_mock::{PardotMock, fixtures};
use serde_json::{Value, json};

pub const TOKEN_CACHE_CONTROL: &str = "no-cache,must-revalidate,max-age=0,no-store,private";

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A mock on a shared manual clock.
pub async fn mock() -> (PardotMock, ManualClock) {
    let clock = ManualClock::new();
    let mock = PardotMock::builder().clock(&clock).start().await.unwrap();
    (mock, clock)
}

/// POSTs a form to `{url}/services/oauth2/token`; returns status, headers and body text.
pub async fn token(url: &str, form: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let r = http()
        .post(format!("{url}/services/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// Asserts an OAuth error answer: 400, exact body, the spec's headers.
pub fn assert_oauth_error(
    (status, headers, body): &(u16, reqwest::header::HeaderMap, String),
    error: &str,
    description: &str,
) {
    assert_eq!(*status, 400, "{body}");
    assert_eq!(
        body,
        &json!({"error": error, "error_description": description}).to_string()
    );
    assert_eq!(headers["cache-control"], TOKEN_CACHE_CONTROL);
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
}

pub fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

pub fn integration_password() -> String {
    format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    )
}

/// A JWT bearer assertion signed with `key_pem` (RS256).
pub fn assertion(key_pem: &str, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Standard JWT claims for `sub` with `aud`, expiring 3 minutes after `now`.
pub fn claims(sub: &str, aud: &str, now: SystemTime) -> Value {
    json!({
        "iss": fixtures::JWT_CONSUMER_KEY,
        "sub": sub,
        "aud": aud,
        "exp": unix_seconds(now) + 180,
    })
}

pub const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
