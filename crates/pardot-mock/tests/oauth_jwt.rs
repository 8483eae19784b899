//! The JWT bearer grant: success on every accepted audience, and every error of
//! `docs/reference/salesforce-oauth.md#jwt-bearer-grant`.

mod common;

use std::time::Duration;

use common::*;
use pardot_auth_core::clock::unix_seconds;
use pardot_auth_core::{Clock, ManualClock};
use pardot_mock::fixtures::*;
use serde_json::{Value, json};

/// An assertion the mock cannot read or verify.
const INVALID_ASSERTION: OAuthErr = ("invalid_grant", "invalid assertion");
/// A user who has not approved the app (or is unknown to the org).
const NOT_APPROVED: OAuthErr = ("invalid_grant", "user hasn't approved this consumer");

async fn grant(url: &str, assertion: &str) -> TokenAnswer {
    token(url, &[("grant_type", JWT_GRANT), ("assertion", assertion)]).await
}

/// Claims for `sub` with the production login host as audience, on the clock's now.
fn production_claims(sub: &str, clock: &ManualClock) -> Value {
    claims(sub, "https://login.salesforce.com", clock.now())
}

/// Grants an assertion of `claims` signed with `key_pem`; asserts the OAuth error answer.
async fn assert_grant_error(url: &str, key_pem: &str, claims: &Value, expected: OAuthErr) {
    let (error, description) = expected;
    let answer = grant(url, &assertion(key_pem, claims)).await;
    assert_oauth_error(&answer, error, description);
}

#[tokio::test]
async fn success_carries_exactly_five_fields() {
    let (mock, clock) = mock().await;
    let a = assertion(
        CONNECTED_APP_KEY_PEM,
        &claims(
            INTEGRATION_USERNAME,
            "https://login.salesforce.com",
            clock.now(),
        ),
    );
    let (status, headers, body) = grant(&mock.url(), &a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], TOKEN_CACHE_CONTROL);
    let v = json_of(&body);
    assert_eq!(
        sorted_keys(&v),
        ["access_token", "id", "instance_url", "scope", "token_type"]
    );
    assert!(
        v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("00D5g00000AcmeP!")
    );
    assert_eq!(v["scope"], "api pardot_api refresh_token offline_access");
    assert_eq!(v["instance_url"], mock.url());
    assert_eq!(v["id"], integration_identity_url(&mock.url()));
    assert_eq!(v["token_type"], "Bearer");
}

#[tokio::test]
async fn every_accepted_audience_works() {
    let (mock, clock) = mock().await;
    let now = clock.now();
    let base = mock.url();
    let my = mock.my_domain_url(PRODUCTION_MY_DOMAIN);
    for (called, aud) in [
        (base.clone(), "https://login.salesforce.com".to_owned()),
        (base.clone(), format!("{base}/")), // one trailing slash is ignored
        (base.clone(), "https://acme.my.salesforce.com".to_owned()),
        // ASCII case does not count, on any form.
        (base.clone(), "HTTPS://Acme.My.Salesforce.com/".to_owned()),
        (base.clone(), "https://LOGIN.salesforce.com".to_owned()),
        (base.clone(), base.to_ascii_uppercase()),
        (
            base.clone(),
            "https://acme.sandbox.my.salesforce.com".to_owned(),
        ),
        (base.clone(), my.clone()),
        (base.clone(), format!("{}/", my.to_ascii_uppercase())),
        (my.clone(), my.clone()),
        (my.clone(), "https://login.salesforce.com".to_owned()),
    ] {
        let a = assertion(
            CONNECTED_APP_KEY_PEM,
            &claims(INTEGRATION_USERNAME, &aud, now),
        );
        let (status, _, body) = grant(&called, &a).await;
        assert_eq!(status, 200, "called {called} with aud {aud}: {body}");
    }
    // The sandbox org on the sandbox host, with test.salesforce.com or the URL it called.
    let sandbox = mock.sandbox_url();
    for aud in ["https://test.salesforce.com".to_owned(), sandbox.clone()] {
        let a = assertion(CONNECTED_APP_KEY_PEM, &claims(SANDBOX_USERNAME, &aud, now));
        let (status, _, body) = grant(&sandbox, &a).await;
        assert_eq!(status, 200, "{aud}: {body}");
        assert!(
            json_of(&body)["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{sandbox}/id/"))
        );
    }
}

#[tokio::test]
async fn exp_as_string_seven_days_ahead_and_prn_and_extra_client_fields_are_accepted() {
    let (mock, clock) = mock().await;
    let exp = (unix_seconds(clock.now()) + 7 * 24 * 3600).to_string();
    let a = assertion(
        CONNECTED_APP_KEY_PEM,
        &json!({"iss": JWT_CONSUMER_KEY, "prn": INTEGRATION_USERNAME, "aud": mock.url(), "exp": exp}),
    );
    let (status, _, body) = token(
        &mock.url(),
        &[
            ("grant_type", JWT_GRANT),
            ("assertion", &a),
            ("client_id", JWT_CONSUMER_KEY),
            ("client_secret", JWT_CONSUMER_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn exp_at_the_end_of_time_is_not_an_overflow() {
    let (mock, _clock) = mock().await;
    for exp in [json!(i64::MAX), json!(i64::MAX.to_string())] {
        let a = assertion(
            CONNECTED_APP_KEY_PEM,
            &json!({"iss": JWT_CONSUMER_KEY, "sub": INTEGRATION_USERNAME, "aud": mock.url(), "exp": exp}),
        );
        let (status, _, body) = grant(&mock.url(), &a).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn unknown_iss_is_invalid_client_id() {
    let (mock, clock) = mock().await;
    let mut c = production_claims(INTEGRATION_USERNAME, &clock);
    c["iss"] = json!("3MVG9unknown");
    assert_grant_error(&mock.url(), CONNECTED_APP_KEY_PEM, &c, INVALID_CLIENT_ID).await;
}

/// An audience that is not the login host's, and the production user on the sandbox host.
#[tokio::test]
async fn wrong_audience_is_audience_is_invalid() {
    let (mock, clock) = mock().await;
    let base = mock.url();
    for (login_url, audience) in [
        (base.clone(), "https://test.salesforce.com".to_owned()),
        (mock.sandbox_url(), mock.sandbox_url()),
        // Near misses of accepted audiences: one slash more, a part less or more.
        (base.clone(), format!("{base}//")),
        (
            base.clone(),
            "https://login.salesforce.com/services".to_owned(),
        ),
        (base.clone(), "https://acme.my.salesforce.co".to_owned()),
        (
            base.clone(),
            "https://acme.my.salesforce.com.example".to_owned(),
        ),
        (base.clone(), "https://acm.my.salesforce.com".to_owned()),
        (base.clone(), "http://acme.my.salesforce.com".to_owned()),
        (base.clone(), format!("{base}/my/acm")),
        (base.clone(), format!("{base}/my/acme-x")),
        (base.clone(), format!("{base}/my/")),
    ] {
        let c = claims(INTEGRATION_USERNAME, &audience, clock.now());
        let expected = ("invalid_grant", "audience is invalid");
        assert_grant_error(&login_url, CONNECTED_APP_KEY_PEM, &c, expected).await;
    }
}

#[tokio::test]
async fn untrusted_key_is_invalid_assertion() {
    let (mock, clock) = mock().await;
    let c = production_claims(INTEGRATION_USERNAME, &clock);
    assert_grant_error(&mock.url(), UNTRUSTED_KEY_PEM, &c, INVALID_ASSERTION).await;
}

#[tokio::test]
async fn malformed_assertion_is_invalid_assertion() {
    let (mock, _clock) = mock().await;
    let r = grant(&mock.url(), "this.is-not.a-jwt").await;
    assert_oauth_error(&r, INVALID_ASSERTION.0, INVALID_ASSERTION.1);
    // A private key sent as the assertion (a classic mistake):
    let r = grant(&mock.url(), CONNECTED_APP_KEY_PEM).await;
    assert_oauth_error(&r, INVALID_ASSERTION.0, INVALID_ASSERTION.1);
}

#[tokio::test]
async fn expired_assertion_is_expired_authorization_code_after_the_skew() {
    let (mock, clock) = mock().await;
    let c = production_claims(INTEGRATION_USERNAME, &clock);
    let a = assertion(CONNECTED_APP_KEY_PEM, &c); // exp = now + 180
    // exp + 180 s skew: still fine at exp + 180 s ...
    clock.advance(Duration::from_secs(360));
    let (status, _, _) = grant(&mock.url(), &a).await;
    assert_eq!(status, 200);
    // ... and refused one second later.
    clock.advance(Duration::from_secs(1));
    let r = grant(&mock.url(), &a).await;
    assert_oauth_error(&r, "invalid_grant", "expired authorization code");
}

/// A user who never approved the app, one the org does not know, and an inactive one.
#[tokio::test]
async fn users_who_may_not_use_the_app_are_refused() {
    let (mock, clock) = mock().await;
    for (sub, refusal) in [
        (UNAPPROVED_USERNAME, NOT_APPROVED),
        ("nobody@acme.example", NOT_APPROVED),
        (INACTIVE_USERNAME, ("inactive_user", "user is inactive")),
    ] {
        let c = production_claims(sub, &clock);
        assert_grant_error(&mock.url(), CONNECTED_APP_KEY_PEM, &c, refusal).await;
    }
}

#[tokio::test]
async fn revoked_approval_is_not_approved() {
    let (mock, clock) = mock().await;
    mock.revoke_app_approval(JWT_CONSUMER_KEY).unwrap();
    let c = production_claims(INTEGRATION_USERNAME, &clock);
    assert_grant_error(&mock.url(), CONNECTED_APP_KEY_PEM, &c, NOT_APPROVED).await;
}

#[tokio::test]
async fn app_without_certificate_is_invalid_assertion() {
    let (mock, clock) = mock().await;
    let mut c = production_claims(WEB_USERNAME, &clock);
    c["iss"] = json!(WEB_CONSUMER_KEY);
    assert_grant_error(&mock.url(), CONNECTED_APP_KEY_PEM, &c, INVALID_ASSERTION).await;
}

#[tokio::test]
async fn self_authorize_app_needs_a_prior_approval() {
    let clock = pardot_auth_core::ManualClock::new();
    let mut app = pardot_mock::AppConfig::new("3MVG9self.authorize", "s3cret");
    app.certificate_pem = Some(CONNECTED_APP_CERT_PEM.to_owned());
    let mock = pardot_mock::PardotMock::builder()
        .clock(&clock)
        .app(app)
        .start()
        .await
        .unwrap();
    let mut c = production_claims(UNAPPROVED_USERNAME, &clock);
    c["iss"] = json!("3MVG9self.authorize");
    let a = assertion(CONNECTED_APP_KEY_PEM, &c);
    let r = grant(&mock.url(), &a).await;
    assert_oauth_error(&r, NOT_APPROVED.0, NOT_APPROVED.1);
    // A refresh token (as after a web login) means the user approved the app.
    mock.seed_refresh_token(UNAPPROVED_USERNAME, "3MVG9self.authorize")
        .unwrap();
    let (status, _, body) = grant(&mock.url(), &a).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn access_token_expires_with_the_session_on_the_shared_clock() {
    let (mock, clock) = mock().await;
    let c = production_claims(INTEGRATION_USERNAME, &clock);
    let (_, _, body) = grant(&mock.url(), &assertion(CONNECTED_APP_KEY_PEM, &c)).await;
    let token = json_of(&body)["access_token"].as_str().unwrap().to_owned();
    clock.advance(Duration::from_secs(2 * 3600 - 1));
    assert!(mock.lookup_access_token(&token).is_some());
    clock.advance(Duration::from_secs(1));
    assert!(mock.lookup_access_token(&token).is_none());
}
