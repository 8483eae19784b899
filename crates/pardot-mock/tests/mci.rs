//! The Marketing Cloud Intelligence identity provider: discovery, token, errors.

mod common;

use pardot_mock::{Outcome, PardotMock, Route};
use std::time::Duration;

use common::*;
use pardot_auth_core::clock::unix_seconds;
use pardot_auth_core::{Clock, ManualClock};
use pardot_mock::fixtures::*;
use serde_json::{Value, json};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn mci_claims(now: i64, jti: &str) -> Value {
    json!({
        "iss": MCI_SERVICE_ACCOUNT_ID,
        "sub": MCI_SERVICE_ACCOUNT_ID,
        "aud": "https://idp.intelligence.salesforce.com",
        "iat": now,
        "jti": jti,
    })
}

/// An assertion of [`mci_claims`] issued now on `clock`, signed with `key_pem`.
fn mci_assertion(clock: &ManualClock, key_pem: &str, jti: &str) -> String {
    assertion(key_pem, &mci_claims(unix_seconds(clock.now()), jti))
}

/// The token endpoint of the Intelligence IdP's `region` on `mock`.
fn token_url(mock: &PardotMock, region: &str) -> String {
    format!("{}/{region}/token", mock.url())
}

async fn request(url: &str, assertion: &str) -> (u16, String) {
    let r = http()
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", MCI_SERVICE_ACCOUNT_ID),
            ("client_assertion", assertion),
            ("client_assertion_type", ASSERTION_TYPE),
        ])
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

fn err(error: &str, description: &str) -> String {
    json!({"error": error, "error_description": description}).to_string()
}

#[tokio::test]
async fn discovery_then_token() {
    let (mock, clock) = mock().await;
    let d: Value = http()
        .get(mock.mci_discovery_url(MCI_REGION))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = d["token_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(endpoint, token_url(&mock, "us1"));
    assert_eq!(d["issuer"], format!("{}/us1", mock.url()));
    assert!(d["jwks_uri"].is_string());

    let a = mci_assertion(
        &clock,
        MCI_PRIVATE_KEY_PEM,
        "0123456789abcdef0123456789abcdef",
    );
    let (s, body) = request(&endpoint, &a).await;
    assert_eq!(s, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(v["expires_in"], 300);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["access_token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(mock.counts().get(Route::MciToken, Outcome::Ok), 1);
}

#[tokio::test]
async fn query_string_parameters_and_exp_are_accepted() {
    let (mock, clock) = mock().await;
    let now = unix_seconds(clock.now());
    let mut c = mci_claims(now, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    c["exp"] = json!(now + 60);
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let url = format!(
        "{}/us1/token?grant_type=client_credentials&client_assertion={a}&client_id={MCI_SERVICE_ACCOUNT_ID}&client_assertion_type={ASSERTION_TYPE}",
        mock.url()
    );
    let r = http().post(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn exp_at_the_end_of_time_is_not_an_overflow() {
    let (mock, clock) = mock().await;
    let now = unix_seconds(clock.now());
    let mut c = mci_claims(now, "dddddddddddddddddddddddddddddddd");
    c["exp"] = json!(i64::MAX);
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let (s, b) = request(&token_url(&mock, "us1"), &a).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn replayed_jti_is_invalid_grant() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(
        &clock,
        MCI_PRIVATE_KEY_PEM,
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    );
    let url = token_url(&mock, "us1");
    assert_eq!(request(&url, &a).await.0, 200);
    let (s, b) = request(&url, &a).await;
    assert_eq!(
        (s, b),
        (
            400,
            err("invalid_grant", "assertion already used (jti replayed)")
        )
    );
}

#[tokio::test]
async fn assertion_without_exp_expires_five_minutes_after_iat() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(
        &clock,
        MCI_PRIVATE_KEY_PEM,
        "cccccccccccccccccccccccccccccccc",
    );
    clock.advance(Duration::from_secs(300 + 61));
    let (s, b) = request(&token_url(&mock, "us1"), &a).await;
    assert_eq!((s, b), (400, err("invalid_grant", "assertion expired")));
}

#[tokio::test]
async fn bad_signature_is_401_invalid_client() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(
        &clock,
        UNTRUSTED_KEY_PEM,
        "dddddddddddddddddddddddddddddddd",
    );
    let (s, b) = request(&token_url(&mock, "us1"), &a).await;
    assert_eq!(
        (s, b),
        (
            401,
            err("invalid_client", "client assertion signature is invalid")
        )
    );
}

#[tokio::test]
async fn unknown_account_or_wrong_region_is_invalid_client() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(
        &clock,
        MCI_PRIVATE_KEY_PEM,
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
    );
    let (s, b) = request(&token_url(&mock, "eu1"), &a).await;
    assert_eq!(
        (s, b),
        (400, err("invalid_client", "unknown service account"))
    );
}

#[tokio::test]
async fn wrong_audience_is_invalid_grant() {
    let (mock, clock) = mock().await;
    let mut c = mci_claims(
        unix_seconds(clock.now()),
        "ffffffffffffffffffffffffffffffff",
    );
    c["aud"] = json!(token_url(&mock, "us1"));
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let (s, b) = request(&token_url(&mock, "us1"), &a).await;
    assert_eq!((s, b), (400, err("invalid_grant", "audience is invalid")));
}

#[tokio::test]
async fn missing_parameter_and_wrong_grant_type() {
    let (mock, _clock) = mock().await;
    let url = token_url(&mock, "us1");
    let r = http()
        .post(&url)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        err("invalid_request", "missing parameter: client_id")
    );
    let r = http()
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", MCI_SERVICE_ACCOUNT_ID),
            ("client_assertion", "x"),
            ("client_assertion_type", ASSERTION_TYPE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        err("unsupported_grant_type", "grant type not supported")
    );
}

#[tokio::test]
async fn real_idp_host_name_and_unknown_region() {
    let (mock, _clock) = mock().await;
    let r = http()
        .get(format!(
            "{}/us2/.well-known/openid-configuration",
            mock.url()
        ))
        .header("host", "idp.intelligence.salesforce.com")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["token_endpoint"],
        "https://idp.intelligence.salesforce.com/us2/token"
    );
    let r = http()
        .get(format!(
            "{}/ap9/.well-known/openid-configuration",
            mock.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
