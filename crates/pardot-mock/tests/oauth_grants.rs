//! Password (errors), refresh token, client credentials, and the generic token-endpoint errors.

mod common;

use std::time::Duration;

use common::*;
use pardot_auth_core::ManualClock;
use pardot_mock::fixtures::*;
use pardot_mock::{AppConfig, OrgConfig, PardotMock, UserConfig};

// ---- generic errors ----

#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let (mock, _c) = mock().await;
    assert_token_error(
        &mock.url(),
        &[("grant_type", "magic")],
        UNSUPPORTED_GRANT_TYPE,
    )
    .await;
    assert_token_error(&mock.url(), &[], UNSUPPORTED_GRANT_TYPE).await;
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_invalid_request() {
    let (mock, _c) = mock().await;
    let r = http_get(format!(
        "{}/services/oauth2/token?grant_type=password",
        mock.url()
    ))
    .await;
    assert_oauth_error(&answer(r).await, "invalid_request", "must use HTTP POST");
}

/// A wrong client id, a wrong secret, or a scope the app lacks: each its own OAuth error,
/// whatever the grant.
#[tokio::test]
async fn client_and_scope_errors_of_a_valid_password_grant() {
    let (mock, _c) = mock().await;
    let pw = integration_password();
    let valid = password_form(INTEGRATION_USERNAME, &pw);
    for (change, error, description) in [
        (
            ("client_id", Some("3MVG9nope")),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            ("client_secret", Some("wrong")),
            "invalid_client",
            "invalid client credentials",
        ),
        (
            ("scope", Some("api chatter_api")),
            "invalid_scope",
            "requested scope is invalid, unknown, or malformed",
        ),
    ] {
        let form = with_fields(&valid, &[change]);
        assert_token_error(&mock.url(), &form, (error, description)).await;
    }
}

// ---- password ----

#[tokio::test]
async fn password_for_the_wrong_host_is_authentication_failure() {
    let (mock, _c) = mock().await;
    let pw = integration_password();
    assert_token_error(
        &mock.sandbox_url(),
        &password_form(INTEGRATION_USERNAME, &pw),
        AUTHENTICATION_FAILURE,
    )
    .await;
    // ... and the My Domain of the production org works.
    let (status, _, body) = token(
        &mock.my_domain_url(PRODUCTION_MY_DOMAIN),
        &password_form(INTEGRATION_USERNAME, &pw),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json_of(&body)["id"],
        integration_identity_url(&mock.my_domain_url(PRODUCTION_MY_DOMAIN))
    );
}

#[tokio::test]
async fn password_unknown_user_is_authentication_failure() {
    let (mock, _c) = mock().await;
    assert_token_error(
        &mock.url(),
        &password_form("nobody@acme.example", "x"),
        AUTHENTICATION_FAILURE,
    )
    .await;
}

#[tokio::test]
async fn password_inactive_user_is_inactive_user() {
    let (mock, _c) = mock().await;
    let pw = format!("{INACTIVE_PASSWORD}{INACTIVE_SECURITY_TOKEN}");
    assert_token_error(
        &mock.url(),
        &password_form(INACTIVE_USERNAME, &pw),
        ("inactive_user", "user is inactive"),
    )
    .await;
}

#[tokio::test]
async fn password_admin_approved_app_without_assignment_is_invalid_app_access() {
    let (mock, _c) = mock().await;
    let pw = format!("{UNAPPROVED_PASSWORD}{UNAPPROVED_SECURITY_TOKEN}");
    let f = vec![
        ("grant_type", "password"),
        ("client_id", JWT_CONSUMER_KEY),
        ("client_secret", JWT_CONSUMER_SECRET),
        ("username", UNAPPROVED_USERNAME),
        ("password", pw.as_str()),
    ];
    assert_token_error(&mock.url(), &f, NOT_ADMIN_APPROVED).await;
}

const ORG: &str = "00D000000000042";

async fn custom_org(org: OrgConfig) -> PardotMock {
    let mut user = UserConfig::new("005000000000042", "solo@org.example", "pw", ORG);
    user.trusted_ip = true;
    PardotMock::builder()
        .config(pardot_mock::MockConfig::empty())
        .org(org)
        .user(user)
        .app(AppConfig::new("key42", "secret42"))
        .start()
        .await
        .unwrap()
}

fn solo_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", "key42"),
        ("client_secret", "secret42"),
        ("username", "solo@org.example"),
        ("password", "pw"),
    ]
}

#[tokio::test]
async fn password_flow_blocked_by_the_org_is_authentication_failure() {
    let mut org = OrgConfig::production(ORG);
    org.password_flow = false;
    let mock = custom_org(org).await;
    assert_token_error(&mock.url(), &solo_form(), AUTHENTICATION_FAILURE).await;
}

#[tokio::test]
async fn locked_org_is_inactive_org() {
    let mut org = OrgConfig::production(ORG);
    org.locked = true;
    let mock = custom_org(org).await;
    assert_token_error(
        &mock.url(),
        &solo_form(),
        (
            "inactive_org",
            "organization is locked, closed, or suspended",
        ),
    )
    .await;
}

#[tokio::test]
async fn too_many_logins_is_rate_limit_exceeded() {
    let mut org = OrgConfig::production(ORG);
    org.logins_per_hour = Some(2);
    let mock = custom_org(org).await;
    for _ in 0..2 {
        assert_eq!(token(&mock.url(), &solo_form()).await.0, 200);
    }
    assert_token_error(
        &mock.url(),
        &solo_form(),
        ("rate_limit_exceeded", "number of logins exceeded"),
    )
    .await;
}

#[tokio::test]
async fn login_rate_limit_window_moves_with_the_clock() {
    let clock = ManualClock::new();
    let mut org = OrgConfig::production(ORG);
    org.logins_per_hour = Some(1);
    let mut user = UserConfig::new("005000000000042", "solo@org.example", "pw", ORG);
    user.trusted_ip = true;
    let mock = PardotMock::builder()
        .config(pardot_mock::MockConfig::empty())
        .clock(&clock)
        .org(org)
        .user(user)
        .app(AppConfig::new("key42", "secret42"))
        .start()
        .await
        .unwrap();
    assert_eq!(token(&mock.url(), &solo_form()).await.0, 200);
    assert_eq!(token(&mock.url(), &solo_form()).await.0, 400);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(token(&mock.url(), &solo_form()).await.0, 200);
}

// ---- refresh token ----

#[tokio::test]
async fn refresh_success_without_rotation() {
    let (mock, _c) = mock().await;
    let f = web_refresh_form();
    let (status, _, body) = token(&mock.url(), &f).await;
    assert_eq!(status, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(sorted_keys(&v), TOKEN_FIELDS);
    assert_eq!(v["scope"], "api pardot_api refresh_token");
    assert_eq!(
        v["id"],
        format!("{}/id/{PRODUCTION_ORG_ID}/0055g00000WebUsAAJ", mock.url())
    );
    // The same refresh token keeps working.
    assert_eq!(token(&mock.url(), &f).await.0, 200);
}

#[tokio::test]
async fn refresh_with_basic_auth() {
    let (mock, _c) = mock().await;
    let client = (WEB_CONSUMER_KEY, WEB_CONSUMER_SECRET);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", WEB_REFRESH_TOKEN),
    ];
    let (status, _, body) = token_basic(&mock.url(), client, &form).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn refresh_refusals_unknown_foreign_secretless_and_inactive() {
    let (mock, _c) = mock().await;
    let inactive = mock
        .seed_refresh_token(INACTIVE_USERNAME, WEB_CONSUMER_KEY)
        .unwrap();
    let web = |token| refresh_form(token, WEB_CONSUMER_KEY, WEB_CONSUMER_SECRET);
    let rotating = |token| refresh_form(token, ROTATING_CONSUMER_KEY, ROTATING_CONSUMER_SECRET);
    let no_secret = with_fields(&web_refresh_form(), &[("client_secret", None)]);
    for (case, form, refusal) in [
        ("an unknown token", web("5Aep861nope"), EXPIRED_TOKEN),
        (
            "another app's token",
            rotating(WEB_REFRESH_TOKEN),
            EXPIRED_TOKEN,
        ),
        ("a required secret left out", no_secret, INVALID_CLIENT),
        (
            "an inactive user's token",
            web(&inactive),
            ("invalid_grant", "inactive user"),
        ),
    ] {
        assert_token_error_in(case, &mock.url(), &form, refusal).await;
    }
}

#[tokio::test]
async fn rotation_issues_new_tokens_and_reuse_revokes_the_chain() {
    let (mock, _c) = mock().await;
    let f = refresh_form(
        ROTATING_REFRESH_TOKEN,
        ROTATING_CONSUMER_KEY,
        ROTATING_CONSUMER_SECRET,
    );
    let (status, _, body) = token(&mock.url(), &f).await;
    assert_eq!(status, 200, "{body}");
    let v = json_of(&body);
    let second = v["refresh_token"].as_str().unwrap().to_owned();
    assert!(second.starts_with("5Aep861") && second != ROTATING_REFRESH_TOKEN);
    let access1 = v["access_token"].as_str().unwrap().to_owned();

    let (status, _, body) = token(
        &mock.url(),
        &refresh_form(&second, ROTATING_CONSUMER_KEY, ROTATING_CONSUMER_SECRET),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let third = json_of(&body)["refresh_token"].as_str().unwrap().to_owned();
    assert!(mock.lookup_access_token(&access1).is_some());

    // Reusing the first (rotated) token revokes the whole chain.
    assert_token_error(&mock.url(), &f, EXPIRED_TOKEN).await;
    assert!(mock.lookup_access_token(&access1).is_none());
    assert_token_error(
        &mock.url(),
        &refresh_form(&third, ROTATING_CONSUMER_KEY, ROTATING_CONSUMER_SECRET),
        EXPIRED_TOKEN,
    )
    .await;
}

#[tokio::test]
async fn rotation_can_be_switched_on_at_run_time() {
    let (mock, _c) = mock().await;
    mock.set_refresh_token_rotation(WEB_CONSUMER_KEY, true)
        .unwrap();
    let f = web_refresh_form();
    let (_, _, body) = token(&mock.url(), &f).await;
    assert!(json_of(&body)["refresh_token"].is_string());
}

// ---- client credentials ----

#[tokio::test]
async fn client_credentials_on_my_domain_with_basic_auth_only() {
    let (mock, _c) = mock().await;
    let my_domain = mock.my_domain_url(PRODUCTION_MY_DOMAIN);
    let client = (CC_CONSUMER_KEY, CC_CONSUMER_SECRET);
    let form = [("grant_type", "client_credentials")];
    let (status, _, body) = token_basic(&my_domain, client, &form).await;
    assert_eq!(status, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(sorted_keys(&v), TOKEN_FIELDS);
    assert_eq!(v["scope"], "api pardot_api");
    let info = mock
        .lookup_access_token(v["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info.username, CC_RUN_AS_USERNAME);
}

/// The client credentials grant of the fixture client credentials app.
fn cc_form() -> [(&'static str, &'static str); 3] {
    cc_form_of(CC_CONSUMER_KEY, CC_CONSUMER_SECRET)
}

/// The client credentials grant of the app `key` with its `secret`.
fn cc_form_of<'a>(key: &'a str, secret: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", key),
        ("client_secret", secret),
    ]
}

#[tokio::test]
async fn client_credentials_refused_by_login_host_app_or_domain() {
    let (mock, _c) = mock().await;
    let login_host = mock.url();
    let production = mock.my_domain_url(PRODUCTION_MY_DOMAIN);
    let sandbox = mock.my_domain_url(SANDBOX_MY_DOMAIN);
    let not_here = ("invalid_grant", "request not supported on this domain");
    let web_app = cc_form_of(WEB_CONSUMER_KEY, WEB_CONSUMER_SECRET);
    for (case, url, form, refusal) in [
        ("on the login host", &login_host, cc_form(), not_here),
        (
            "an app without the flow",
            &production,
            web_app,
            UNSUPPORTED_GRANT_TYPE,
        ),
        (
            "on another org's domain",
            &sandbox,
            cc_form(),
            INVALID_CLIENT_ID,
        ),
    ] {
        assert_token_error_in(case, url, &form, refusal).await;
    }
}

#[tokio::test]
async fn client_credentials_without_run_as_user_and_without_scopes() {
    let mut no_user = AppConfig::new("cc-no-user", "s1");
    no_user.client_credentials = Some(true);
    let mut no_scope = AppConfig::new("cc-no-scope", "s2");
    no_scope.run_as = Some(CC_RUN_AS_USERNAME.to_owned());
    no_scope.scopes = vec!["refresh_token".into(), "web".into()];
    let mock = PardotMock::builder()
        .app(no_user)
        .app(no_scope)
        .start()
        .await
        .unwrap();
    let my = mock.my_domain_url(PRODUCTION_MY_DOMAIN);
    assert_token_error(
        &my,
        &cc_form_of("cc-no-user", "s1"),
        ("invalid_grant", "no client credentials user enabled"),
    )
    .await;
    assert_token_error(
        &my,
        &cc_form_of("cc-no-scope", "s2"),
        ("invalid_grant", "no valid scopes defined"),
    )
    .await;
}

#[tokio::test]
async fn unknown_my_domain_is_404() {
    let (mock, _c) = mock().await;
    let (status, _, body) = token(&mock.my_domain_url("nope"), &cc_form()).await;
    assert_eq!(status, 404);
    assert_eq!(body, "pardot-mock: no org has the My Domain `nope`");
}
