//! The username-password grant: success and every error.

mod common;

use common::*;
use pardot_mock::fixtures::*;
use pardot_mock::{Outcome, Route};

#[tokio::test]
async fn success_has_the_spec_fields_and_a_valid_signature() {
    let (mock, _clock) = mock().await;
    let pw = integration_password();
    let (status, headers, body) =
        token(&mock.url(), &password_form(INTEGRATION_USERNAME, &pw)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], TOKEN_CACHE_CONTROL);
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
    let v = json_of(&body);
    assert_eq!(sorted_keys(&v), TOKEN_FIELDS);
    let token = v["access_token"].as_str().unwrap();
    assert!(token.starts_with("00D5g00000AcmeP!"), "{token}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["instance_url"], mock.url());
    assert_eq!(v["id"], integration_identity_url(&mock.url()));
    let issued_at = v["issued_at"].as_str().unwrap();
    assert_eq!(issued_at.len(), 13);
    let expected = pardot_mock::oauth::token_signature(
        WEB_CONSUMER_SECRET,
        v["id"].as_str().unwrap(),
        issued_at,
    );
    assert_eq!(v["signature"], expected);
    assert!(v.get("expires_in").is_none() && v.get("refresh_token").is_none());
    let info = mock.lookup_access_token(token).unwrap();
    assert_eq!(info.username, INTEGRATION_USERNAME);
    assert_counts(&mock, &[(Route::OAuthToken, Outcome::Ok, 1)]);
}

#[tokio::test]
async fn trusted_ip_user_needs_no_security_token_and_params_may_be_in_the_query() {
    let (mock, _clock) = mock().await;
    let form = password_form(WEB_USERNAME, WEB_PASSWORD);
    let in_query = post(&mock.url(), "/services/oauth2/token").query(&form);
    assert_eq!(in_query.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn wrong_password_is_authentication_failure() {
    let (mock, _clock) = mock().await;
    // Without the security token (not a trusted IP):
    assert_token_error(
        &mock.url(),
        &password_form(INTEGRATION_USERNAME, INTEGRATION_PASSWORD),
        AUTHENTICATION_FAILURE,
    )
    .await;
    assert_counts(&mock, &[(Route::OAuthToken, Outcome::InvalidGrant, 1)]);
}
