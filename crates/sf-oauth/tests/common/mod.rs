//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use pardot_auth_core::ManualClock;
use sf_oauth::{OAuthClient, PrivateKey};

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

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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
