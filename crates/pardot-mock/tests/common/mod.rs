//! Helpers shared by the OAuth/MCI/control tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::SystemTime;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use pardot_auth_core::ManualClock;
use pardot_auth_core::clock::unix_seconds;
use pardot_mock::{Outcome, PardotMock, Route, fixtures};
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

/// A token endpoint's answer: status, headers, body text.
pub type TokenAnswer = (u16, reqwest::header::HeaderMap, String);

/// POSTs a form to `{url}/services/oauth2/token`; returns status, headers and body text.
pub async fn token(url: &str, form: &[(&str, &str)]) -> TokenAnswer {
    form_answer(&format!("{url}/services/oauth2/token"), form).await
}

/// [`token`] with the client `(key, secret)` in an HTTP Basic header instead of the form.
pub async fn token_basic(
    url: &str,
    (key, secret): (&str, &str),
    form: &[(&str, &str)],
) -> TokenAnswer {
    let r = post(url, "/services/oauth2/token").basic_auth(key, Some(secret));
    answer(r.form(form).send().await.unwrap()).await
}

/// POSTs a form to `url`; returns status, headers and body text.
pub async fn form_answer(url: &str, form: &[(&str, &str)]) -> TokenAnswer {
    answer(http_post_form(url, form).await).await
}

/// GETs `url` without a proxy.
pub async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// POSTs `body` as JSON to `url` without a proxy.
pub async fn http_post_json(url: impl reqwest::IntoUrl, body: &Value) -> reqwest::Response {
    http().post(url).json(body).send().await.unwrap()
}

/// POSTs `form` to `url` without a proxy.
pub async fn http_post_form(
    url: impl reqwest::IntoUrl,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http().post(url).form(form).send().await.unwrap()
}

/// GETs `url` with the bearer `token`, without a proxy.
pub async fn http_get_bearer(url: impl reqwest::IntoUrl, token: &str) -> reqwest::Response {
    http().get(url).bearer_auth(token).send().await.unwrap()
}

/// A POST to `{url}{path}` without a proxy.
pub fn post(url: &str, path: &str) -> reqwest::RequestBuilder {
    http().post(format!("{url}{path}"))
}

/// A response read whole: status, headers, body text.
pub async fn answer(r: reqwest::Response) -> TokenAnswer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// An access token of the integration user to the web app, issued without a grant.
pub fn integration_token(mock: &PardotMock) -> String {
    mock.issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::WEB_CONSUMER_KEY)
        .unwrap()
}

/// The identity URL of the integration user on the mock at `url`.
pub fn integration_identity_url(url: &str) -> String {
    format!(
        "{url}/id/{}/{}",
        fixtures::PRODUCTION_ORG_ID,
        fixtures::INTEGRATION_USER_ID
    )
}

/// Asserts an OAuth error answer: 400, exact body, the headers of the reference's token endpoint errors.
pub fn assert_oauth_error(answer: &TokenAnswer, error: &str, description: &str) {
    assert_oauth_error_in("", answer, error, description);
}

/// [`assert_oauth_error`] for the `case` of a table, which a failure names.
pub fn assert_oauth_error_in(
    case: &str,
    (status, headers, body): &TokenAnswer,
    error: &str,
    description: &str,
) {
    assert_eq!(*status, 400, "{case}: {body}");
    assert_eq!(
        body,
        &json!({"error": error, "error_description": description}).to_string(),
        "{case}"
    );
    assert_eq!(headers["cache-control"], TOKEN_CACHE_CONTROL, "{case}");
    assert_eq!(
        headers["content-type"], "application/json;charset=UTF-8",
        "{case}"
    );
}

/// Asserts an OAuth error answer's status and its exact JSON body.
#[track_caller]
pub fn assert_error_body(
    (status, body): (u16, &str),
    expected: u16,
    error: &str,
    description: &str,
) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(
        body,
        json!({"error": error, "error_description": description}).to_string()
    );
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

/// POSTs `form` to the token endpoint and asserts the OAuth error answer `(error, description)`.
pub async fn assert_token_error(url: &str, form: &[(&str, &str)], refusal: OAuthErr) {
    assert_token_error_in("", url, form, refusal).await;
}

/// [`assert_token_error`] for the `case` of a table, which a failure names.
pub async fn assert_token_error_in(
    case: &str,
    url: &str,
    form: &[(&str, &str)],
    (error, description): OAuthErr,
) {
    assert_oauth_error_in(case, &token(url, form).await, error, description);
}

/// An OAuth error answer: its `error` and its `error_description`.
pub type OAuthErr = (&'static str, &'static str);

/// An unknown, revoked or foreign refresh token.
pub const EXPIRED_TOKEN: OAuthErr = ("invalid_grant", "expired access/refresh token");
/// A wrong password, user or login host.
pub const AUTHENTICATION_FAILURE: OAuthErr = ("invalid_grant", "authentication failure");
/// A wrong or missing client secret.
pub const INVALID_CLIENT: OAuthErr = ("invalid_client", "invalid client credentials");
/// An unknown client id.
pub const INVALID_CLIENT_ID: OAuthErr = ("invalid_client_id", "client identifier invalid");
/// A grant type the endpoint does not know.
pub const UNSUPPORTED_GRANT_TYPE: OAuthErr = ("unsupported_grant_type", "grant type not supported");
/// A user an admin-approved app does not list.
pub const NOT_ADMIN_APPROVED: OAuthErr = (
    "invalid_app_access",
    "user is not admin approved to access this app",
);

/// `form` with each `(name, value)` of `changes` applied: a `Some` value replaces the field
/// (or adds it at the end), `None` drops it.
pub fn with_fields<'a>(
    form: &[(&'a str, &'a str)],
    changes: &[(&'a str, Option<&'a str>)],
) -> Vec<(&'a str, &'a str)> {
    let mut out = form.to_vec();
    for &(name, value) in changes {
        match (out.iter().position(|(n, _)| *n == name), value) {
            (Some(at), Some(v)) => out[at].1 = v,
            (Some(at), None) => {
                out.remove(at);
            }
            (None, Some(v)) => out.push((name, v)),
            (None, None) => {}
        }
    }
    out
}

/// The password grant of the web app (with its secret) for `username`.
pub fn password_form<'a>(username: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("client_secret", fixtures::WEB_CONSUMER_SECRET),
        ("username", username),
        ("password", password),
    ]
}

/// The refresh token grant of `token` to the app `key` with its `secret`.
pub fn refresh_form<'a>(token: &'a str, key: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", key),
        ("client_secret", secret),
    ]
}

/// The refresh token grant of the web app's seeded refresh token.
pub fn web_refresh_form() -> Vec<(&'static str, &'static str)> {
    refresh_form(
        fixtures::WEB_REFRESH_TOKEN,
        fixtures::WEB_CONSUMER_KEY,
        fixtures::WEB_CONSUMER_SECRET,
    )
}

/// The integration user's password grant (password and security token) to the web app.
pub async fn integration_login(url: &str) -> TokenAnswer {
    let password = integration_password();
    token(
        url,
        &password_form(fixtures::INTEGRATION_USERNAME, &password),
    )
    .await
}

/// The field names of a JSON object, sorted.
pub fn sorted_keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// The fields of a Salesforce token answer without a refresh token, sorted.
pub const TOKEN_FIELDS: [&str; 7] = [
    "access_token",
    "id",
    "instance_url",
    "issued_at",
    "scope",
    "signature",
    "token_type",
];

/// The fields of a Salesforce token answer with a refresh token, sorted.
pub const TOKEN_FIELDS_WITH_REFRESH: [&str; 8] = [
    "access_token",
    "id",
    "instance_url",
    "issued_at",
    "refresh_token",
    "scope",
    "signature",
    "token_type",
];

/// POSTs `body` as JSON to `{url}{path}`; the status and the answer as JSON.
pub async fn post_json(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = post(url, path).json(body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Starts a device authorization of the web app at `url`: its JSON answer (`device_code`,
/// `user_code`, `verification_uri`, …).
pub async fn start_device(url: &str) -> Value {
    let (status, _, body) = token(
        url,
        &[
            ("response_type", "device_code"),
            ("client_id", fixtures::WEB_CONSUMER_KEY),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    json_of(&body)
}

/// Asserts the mock's request counts, one `(route, outcome, expected)` a row: every row that
/// differs shows at once, with all the counts.
#[track_caller]
pub fn assert_counts(mock: &PardotMock, expected: &[(Route, Outcome, u64)]) {
    let counts = mock.counts();
    let got: Vec<_> = expected
        .iter()
        .map(|&(route, outcome, _)| (route, outcome, counts.get(route, outcome)))
        .collect();
    assert_eq!(got, expected, "{counts:?}");
}

/// [`assert_counts`] of one route: `(outcome, expected)` a row.
#[track_caller]
pub fn assert_route_counts(mock: &PardotMock, route: Route, expected: &[(Outcome, u64)]) {
    let rows: Vec<_> = expected.iter().map(|&(o, n)| (route, o, n)).collect();
    assert_counts(mock, &rows);
}
