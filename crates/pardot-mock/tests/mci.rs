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

/// The service account's claims issued at `now`, with the `jti` of 32 times `jti_char`.
fn mci_claims(now: i64, jti_char: char) -> Value {
    let jti = jti_char.to_string().repeat(32);
    json!({
        "iss": MCI_SERVICE_ACCOUNT_ID,
        "sub": MCI_SERVICE_ACCOUNT_ID,
        "aud": "https://idp.intelligence.salesforce.com",
        "iat": now,
        "jti": jti,
    })
}

/// An assertion of [`mci_claims`] issued now on `clock`, signed with `key_pem`.
fn mci_assertion(clock: &ManualClock, key_pem: &str, jti_char: char) -> String {
    assertion(key_pem, &mci_claims(unix_seconds(clock.now()), jti_char))
}

/// The token endpoint of the Intelligence IdP's `region` on `mock`.
fn token_url(mock: &PardotMock, region: &str) -> String {
    format!("{}/{region}/token", mock.url())
}

/// The client credentials grant of the service account with `assertion`.
fn grant_form(assertion: &str) -> [(&str, &str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", MCI_SERVICE_ACCOUNT_ID),
        ("client_assertion", assertion),
        ("client_assertion_type", ASSERTION_TYPE),
    ]
}

async fn request(url: &str, assertion: &str) -> (u16, String) {
    let (status, _, body) = form_answer(url, &grant_form(assertion)).await;
    (status, body)
}

/// Posts `assertion` to `region`'s token endpoint and asserts the OAuth error answer.
async fn assert_refused(
    mock: &PardotMock,
    region: &str,
    assertion: &str,
    status: u16,
    (error, description): OAuthErr,
) {
    let (s, b) = request(&token_url(mock, region), assertion).await;
    assert_error_body((s, &b), status, error, description);
}

#[tokio::test]
async fn discovery_then_token() {
    let (mock, clock) = mock().await;
    let d: Value = http_get(mock.mci_discovery_url(MCI_REGION))
        .await
        .json()
        .await
        .unwrap();
    let endpoint = d["token_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(endpoint, token_url(&mock, "us1"));
    assert_eq!(d["issuer"], format!("{}/us1", mock.url()));
    assert!(d["jwks_uri"].is_string());

    let a = mci_assertion(&clock, MCI_PRIVATE_KEY_PEM, '0');
    let (s, body) = request(&endpoint, &a).await;
    assert_eq!(s, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(v["expires_in"], 300);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["access_token"].as_str().unwrap().starts_with("eyJ"));
    assert_counts(&mock, &[(Route::MciToken, Outcome::Ok, 1)]);
}

#[tokio::test]
async fn query_string_parameters_and_exp_are_accepted() {
    let (mock, clock) = mock().await;
    let now = unix_seconds(clock.now());
    let mut c = mci_claims(now, 'a');
    c["exp"] = json!(now + 60);
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let in_query = post(&mock.url(), "/us1/token").query(&grant_form(&a));
    assert_eq!(in_query.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn exp_at_the_end_of_time_is_not_an_overflow() {
    let (mock, clock) = mock().await;
    let now = unix_seconds(clock.now());
    let mut c = mci_claims(now, 'd');
    c["exp"] = json!(i64::MAX);
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let (s, b) = request(&token_url(&mock, "us1"), &a).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn replayed_jti_is_invalid_grant() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(&clock, MCI_PRIVATE_KEY_PEM, 'b');
    let url = token_url(&mock, "us1");
    assert_eq!(request(&url, &a).await.0, 200);
    let replayed = ("invalid_grant", "assertion already used (jti replayed)");
    assert_refused(&mock, "us1", &a, 400, replayed).await;
}

#[tokio::test]
async fn assertion_without_exp_expires_five_minutes_after_iat() {
    let (mock, clock) = mock().await;
    let a = mci_assertion(&clock, MCI_PRIVATE_KEY_PEM, 'c');
    clock.advance(Duration::from_secs(300 + 61));
    let expired = ("invalid_grant", "assertion expired");
    assert_refused(&mock, "us1", &a, 400, expired).await;
}

#[tokio::test]
async fn bad_signature_is_401_and_unknown_account_or_wrong_region_400_invalid_client() {
    let (mock, clock) = mock().await;
    for (case, key, jti, region, status, description) in [
        (
            "bad signature",
            UNTRUSTED_KEY_PEM,
            'd',
            "us1",
            401,
            "client assertion signature is invalid",
        ),
        (
            "wrong region",
            MCI_PRIVATE_KEY_PEM,
            'e',
            "eu1",
            400,
            "unknown service account",
        ),
    ] {
        let a = mci_assertion(&clock, key, jti);
        let (s, b) = request(&token_url(&mock, region), &a).await;
        let expected = json!({"error": "invalid_client", "error_description": description});
        assert_eq!((s, b), (status, expected.to_string()), "{case}");
    }
}

#[tokio::test]
async fn wrong_audience_is_invalid_grant() {
    let (mock, clock) = mock().await;
    let mut c = mci_claims(unix_seconds(clock.now()), 'f');
    c["aud"] = json!(token_url(&mock, "us1"));
    let a = assertion(MCI_PRIVATE_KEY_PEM, &c);
    let wrong_audience = ("invalid_grant", "audience is invalid");
    assert_refused(&mock, "us1", &a, 400, wrong_audience).await;
}

#[tokio::test]
async fn missing_parameter_and_wrong_grant_type() {
    let (mock, _clock) = mock().await;
    let url = token_url(&mock, "us1");
    let (status, _, body) = form_answer(&url, &[("grant_type", "client_credentials")]).await;
    let missing = ("invalid_request", "missing parameter: client_id");
    assert_error_body((status, &body), 400, missing.0, missing.1);
    let password = with_fields(&grant_form("x"), &[("grant_type", Some("password"))]);
    let (status, _, body) = form_answer(&url, &password).await;
    let (error, description) = UNSUPPORTED_GRANT_TYPE;
    assert_error_body((status, &body), 400, error, description);
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
    let r = http_get(format!(
        "{}/ap9/.well-known/openid-configuration",
        mock.url()
    ))
    .await;
    assert_eq!(r.status(), 404);
}
