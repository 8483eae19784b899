//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use pardot_auth_core::ManualClock;
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::url::Url;
use serde_json::{Value, json};
use sf_oauth::{MciServiceAccount, OAuthClient, PrivateKey, RefreshToken};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The fixture keys: the mock's copies, inside its package.
pub use pardot_mock::fixtures::KEYS_DIR;

pub fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pem_file(format!("{KEYS_DIR}/{name}")).unwrap()
}

pub fn client(clock: &ManualClock) -> OAuthClient {
    OAuthClient::builder()
        .clock(clock.shared())
        .no_proxy()
        .build()
        .unwrap()
}

/// A client that follows no redirects: the one the mock's `sign_in` drives its pages with.
pub fn http() -> reqwest::Client {
    pardot_mock::sign_in::browser().expect("an HTTP client")
}

/// GETs `url` with [`http`] (no proxy, no redirects followed).
pub async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// A form body as a map (fails on a repeated field).
pub fn form(body: &[u8]) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap();
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        assert!(map.insert(k.clone(), v).is_none(), "field {k} repeated");
    }
    map
}

pub fn keys_of(map: &BTreeMap<String, String>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

/// Decodes a JWT's header and claims, verifying the RS256 signature with `public_pem`
/// (a certificate or SPKI public key).
pub fn decode_jwt(token: &str, public_pem: &str) -> (jsonwebtoken::Header, serde_json::Value) {
    let pem = std::fs::read(format!("{KEYS_DIR}/{public_pem}")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&pem).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).unwrap();
    (data.header, data.claims)
}

pub fn content_type(req: &wiremock::Request) -> String {
    req.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// What a rotation observer heard: each new refresh token, in order.
#[derive(Clone, Default)]
pub struct Rotations(Arc<Mutex<Vec<String>>>);

impl Rotations {
    /// An observer for `on_rotation` that records into this log.
    pub fn observer(&self) -> impl Fn(&RefreshToken) + Send + Sync + 'static {
        let log = self.0.clone();
        move |new| {
            log.lock()
                .unwrap()
                .push(new.secret().expose_secret().to_owned())
        }
    }

    /// The refresh tokens heard so far.
    pub fn seen(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The names of `url`'s query fields, in order.
pub fn query_names(url: &Url) -> Vec<String> {
    url.query_pairs()
        .map(|(name, _)| name.into_owned())
        .collect()
}

/// Answers every `verb` request to `at` on `server` with `answer`.
pub async fn answer_with(server: &MockServer, verb: &str, at: &str, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// A device authorization answer polled every `interval` seconds, expiring in `expires_in`.
pub fn device_start(interval: u64, expires_in: u64) -> Value {
    json!({
        "device_code": "dev-code-1",
        "user_code": "AB12CD34",
        "verification_uri": "https://login.salesforce.com/setup/connect",
        "interval": interval,
        "expires_in": expires_in,
    })
}

/// The token endpoint's answer while the user has not yet approved a device.
pub fn pending() -> (u16, Value) {
    (
        400,
        json!({"error":"authorization_pending","error_description":"authorization pending"}),
    )
}

/// A login server answering the device authorization with `start`, then each poll with the
/// next of `poll_answers`, in order.
pub async fn device_server(start: Value, poll_answers: Vec<(u16, Value)>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains("response_type=device_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(start))
        .mount(&server)
        .await;
    for (i, (status, body)) in poll_answers.into_iter().enumerate() {
        Mock::given(method("POST"))
            .and(path("/services/oauth2/token"))
            .and(body_string_contains("grant_type=device"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .up_to_n_times(1)
            .with_priority(u8::try_from(i + 1).unwrap())
            .mount(&server)
            .await;
    }
    server
}

/// The MCI service account `sa` signing with the fixture key `key_file`, posting straight to
/// `token_path` on `server` (its discovery URL is never read).
pub fn mci_without_discovery(
    server: &MockServer,
    token_path: &str,
    key_file: &str,
    clock: &ManualClock,
) -> MciServiceAccount {
    let unused = "https://idp.intelligence.salesforce.com/unused";
    MciServiceAccount::new(unused.parse().unwrap(), "sa", key(key_file))
        .with_token_endpoint(format!("{}{token_path}", server.uri()).parse().unwrap())
        .with_client(client(clock))
}

/// The query fields of every authorize URL sf-oauth builds, in order; the optional ones
/// (`prompt`, `login_hint`) follow.
pub const AUTHORIZE_FIELDS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];
