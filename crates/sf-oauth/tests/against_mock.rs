//! Every flow against `pardot-mock` in-process (fixtures/mock.toml), sharing one ManualClock
//! between client and mock, asserting on the mock's counters.

mod common;
mod support;

use std::time::Duration;

use common::{client, key};
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{
    AccessToken, Clock, Error, ErrorClass, Expiry, LoginHost, ManualClock, TokenKind, TokenSource,
};
use pardot_mock::{Outcome, PardotMock, Route, fixtures as fx};
use sf_oauth::*;
use support::{
    ROTATING_APP, WEB_APP, assert_counts, assert_expires_on_the_clock, assert_token_counts, mock,
    mock_with, refresh_flow,
};

fn custom(url: &str) -> LoginHost {
    LoginHost::custom(url).unwrap()
}

/// A mock and its shared clock, with the mock's main login host.
async fn mock_on_main_host() -> (PardotMock, ManualClock, LoginHost) {
    let (mock, clock) = mock().await;
    let host = custom(&mock.url());
    (mock, clock, host)
}

fn jwt(host: LoginHost, user: &str, clock: &ManualClock) -> JwtBearer {
    jwt_app(
        host,
        (fx::JWT_CONSUMER_KEY, "connected-app.key"),
        user,
        clock,
    )
}

/// The JWT bearer flow of the app `(consumer key, fixture key file)` for `user`.
fn jwt_app(
    host: LoginHost,
    (consumer_key, key_file): (&str, &str),
    user: &str,
    clock: &ManualClock,
) -> JwtBearer {
    JwtBearer::new(host, consumer_key, user, key(key_file)).with_client(client(clock))
}

fn assert_server_error(err: &Error, context: &str, code: &str, description: &str) {
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{context} failed: {code}: {description}")),
        "{text}"
    );
    assert_eq!(err.code(), Some(code), "{text}");
}

/// Asks `source` for a token that the mock refuses; asserts the error and returns it.
async fn assert_refused(
    source: impl TokenSource,
    context: &str,
    code: &str,
    description: &str,
) -> Error {
    let err = source.token().await.unwrap_err();
    assert_server_error(&err, context, code, description);
    err
}

// ---------------------------------------------------------------------------------------------
// JWT bearer

/// The token `source` gets.
async fn token_of(source: impl TokenSource) -> AccessToken {
    source.token().await.unwrap()
}

/// The error `source` gets instead of a token.
async fn token_error_of(source: impl TokenSource) -> Error {
    source.token().await.unwrap_err()
}

#[tokio::test]
async fn jwt_bearer_production_sandbox_and_my_domain() {
    let (mock, clock) = mock().await;

    let token = token_of(jwt(custom(&mock.url()), fx::INTEGRATION_USERNAME, &clock)).await;
    assert!(matches!(token.kind(), TokenKind::SalesforceBearer));
    assert!(
        token
            .secret()
            .expose_secret()
            .starts_with("00D5g00000AcmeP!")
    );
    assert_eq!(token.issued_at(), clock.now());
    assert_eq!(
        token.expiry(),
        Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION)
    );
    assert!(token.refresh_token().is_none());
    assert!(token.identity_url().unwrap().ends_with(&format!(
        "/{}/{}",
        fx::PRODUCTION_ORG_ID,
        fx::INTEGRATION_USER_ID
    )));
    assert_eq!(
        token.instance_url().unwrap().as_str().trim_end_matches('/'),
        mock.url()
    );
    let me = client(&clock)
        .userinfo(&custom(&mock.url()), &token)
        .await
        .unwrap();
    assert_eq!(me.preferred_username, fx::INTEGRATION_USERNAME);

    token_of(jwt(
        custom(&mock.sandbox_url()),
        fx::SANDBOX_USERNAME,
        &clock,
    ))
    .await;
    token_of(jwt(
        custom(&mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN)),
        fx::INTEGRATION_USERNAME,
        &clock,
    ))
    .await;
    // The PKCS#1 form of the same key works too.
    token_of(jwt_app(
        custom(&mock.url()),
        (fx::JWT_CONSUMER_KEY, "connected-app.pkcs1.key"),
        fx::INTEGRATION_USERNAME,
        &clock,
    ))
    .await;
    assert_token_counts(&mock, &[(Outcome::Ok, 4)]);
}

#[tokio::test]
async fn jwt_bearer_errors() {
    let (mock, clock, prod) = mock_on_main_host().await;
    const CTX: &str = "JWT bearer authentication";

    // A client whose clock is 10 minutes behind signs an already expired assertion.
    let late = ManualClock::starting_at(clock.now() - Duration::from_secs(600));
    let integration = fx::INTEGRATION_USERNAME;
    // Each refusal, and what its help points to (where it has help).
    for (flow, code, description, help) in [
        // A production user on the sandbox login host: the audience is wrong for that org.
        (
            jwt(custom(&mock.sandbox_url()), integration, &clock),
            "invalid_grant",
            "audience is invalid",
            Some("https://test.salesforce.com"),
        ),
        (
            jwt(prod.clone(), fx::UNAPPROVED_USERNAME, &clock),
            "invalid_grant",
            "user hasn't approved this consumer",
            Some("permission set"),
        ),
        (
            jwt(prod.clone(), integration, &clock).with_audience("https://elsewhere.example.com"),
            "invalid_grant",
            "audience is invalid",
            None,
        ),
        (
            jwt_app(
                prod.clone(),
                (fx::JWT_CONSUMER_KEY, "untrusted.key"),
                integration,
                &clock,
            ),
            "invalid_grant",
            "invalid assertion",
            None,
        ),
        (
            jwt_app(
                prod.clone(),
                ("3MVG9.unknown.key", "connected-app.key"),
                integration,
                &clock,
            ),
            "invalid_client_id",
            "client identifier invalid",
            None,
        ),
        (
            jwt(prod.clone(), fx::INACTIVE_USERNAME, &clock),
            "inactive_user",
            "user is inactive",
            None,
        ),
        (
            jwt(prod.clone(), integration, &late),
            "invalid_grant",
            "expired authorization code",
            None,
        ),
    ] {
        let err = assert_refused(flow, CTX, code, description).await;
        assert_eq!(err.class(), ErrorClass::NeverRetry, "{err}");
        if let Some(help) = help {
            assert!(err.help().unwrap().contains(help), "{err}");
        }
    }

    // Scripted failures: a passing one is retryable, a 503 too.
    mock.fail_next_token("rate_limit_exceeded", "number of logins exceeded")
        .unwrap();
    let err = assert_refused(
        jwt(prod.clone(), fx::INTEGRATION_USERNAME, &clock),
        CTX,
        "rate_limit_exceeded",
        "number of logins exceeded",
    )
    .await;
    assert!(err.is_retryable());
    mock.fail_next(Route::OAuthToken, 1, 503, "Service Unavailable")
        .unwrap();
    let err = token_error_of(jwt(prod.clone(), fx::INTEGRATION_USERNAME, &clock)).await;
    assert!(err.is_retryable(), "{err}");

    let counts = mock.counts();
    assert_token_counts(
        &mock,
        &[
            (Outcome::Ok, 0),
            (Outcome::InvalidGrant, 5),
            (Outcome::InvalidClientId, 1),
            (Outcome::InactiveUser, 1),
            (Outcome::Fault, 2),
        ],
    );
    assert_eq!(counts.route_total(Route::OAuthToken), 9, "{counts:?}");
}

#[tokio::test]
async fn salesforce_tokens_expire_on_the_shared_clock() {
    let (_mock, clock, host) = mock_on_main_host().await;
    let token = token_of(jwt(host.clone(), fx::INTEGRATION_USERNAME, &clock)).await;
    assert_expires_on_the_clock(&client(&clock), &clock, &host, &token).await;
}

// ---------------------------------------------------------------------------------------------
// Username-password

fn password_flow(
    host: LoginHost,
    user: &str,
    password: &str,
    token: Option<&str>,
    clock: &ManualClock,
) -> UsernamePassword {
    let flow = UsernamePassword::new(
        host,
        fx::WEB_CONSUMER_KEY,
        ClientSecret::new(fx::WEB_CONSUMER_SECRET),
        user,
        Password::new(password),
    )
    .with_client(client(clock));
    match token {
        Some(t) => flow.with_security_token(Password::new(t)),
        None => flow,
    }
}

#[tokio::test]
async fn username_password_success_and_errors() {
    let (mock, clock, host) = mock_on_main_host().await;
    const CTX: &str = "username-password authentication";

    // Success; the mock signs the answer with the app's secret and the flow checks it.
    let token = token_of(password_flow(
        host.clone(),
        fx::INTEGRATION_USERNAME,
        fx::INTEGRATION_PASSWORD,
        Some(fx::INTEGRATION_SECURITY_TOKEN),
        &clock,
    ))
    .await;
    assert_eq!(token.issued_at(), clock.now());
    assert!(token.scopes().is_some());
    // A trusted-IP user logs in without the security token.
    token_of(password_flow(
        host.clone(),
        fx::WEB_USERNAME,
        fx::WEB_PASSWORD,
        None,
        &clock,
    ))
    .await;
    // Sandbox users on the sandbox host.
    token_of(password_flow(
        custom(&mock.sandbox_url()),
        fx::SANDBOX_USERNAME,
        fx::SANDBOX_PASSWORD,
        Some(fx::SANDBOX_SECURITY_TOKEN),
        &clock,
    ))
    .await;
    assert_token_counts(&mock, &[(Outcome::Ok, 3)]);

    // Missing security token, wrong password, wrong host: authentication failure.
    for (h, user, pw, tok) in [
        (
            host.clone(),
            fx::INTEGRATION_USERNAME,
            fx::INTEGRATION_PASSWORD,
            None,
        ),
        (
            host.clone(),
            fx::INTEGRATION_USERNAME,
            "wrong",
            Some(fx::INTEGRATION_SECURITY_TOKEN),
        ),
        (
            custom(&mock.sandbox_url()),
            fx::INTEGRATION_USERNAME,
            fx::INTEGRATION_PASSWORD,
            Some(fx::INTEGRATION_SECURITY_TOKEN),
        ),
    ] {
        let err = assert_refused(
            password_flow(h, user, pw, tok, &clock),
            CTX,
            "invalid_grant",
            "authentication failure",
        )
        .await;
        assert!(err.help().unwrap().contains("JWT bearer"));
        assert!(!err.to_string().contains(fx::INTEGRATION_PASSWORD));
    }

    assert_refused(
        password_flow(
            host.clone(),
            fx::INACTIVE_USERNAME,
            fx::INACTIVE_PASSWORD,
            Some(fx::INACTIVE_SECURITY_TOKEN),
            &clock,
        ),
        CTX,
        "inactive_user",
        "user is inactive",
    )
    .await;

    assert_refused(
        UsernamePassword::new(
            host.clone(),
            fx::WEB_CONSUMER_KEY,
            ClientSecret::new("not-the-secret"),
            fx::WEB_USERNAME,
            Password::new(fx::WEB_PASSWORD),
        )
        .with_client(client(&clock)),
        CTX,
        "invalid_client",
        "invalid client credentials",
    )
    .await;
    assert_token_counts(&mock, &[(Outcome::InvalidGrant, 3)]);
}

// ---------------------------------------------------------------------------------------------
// Refresh token

#[tokio::test]
async fn refresh_without_rotation_and_revocation() {
    let (mock, clock, host) = mock_on_main_host().await;
    let c = client(&clock);
    let flow = refresh_flow(host.clone(), WEB_APP, fx::WEB_REFRESH_TOKEN, c.clone());
    let (token, outcome) = flow.refresh().await.unwrap();
    assert!(!outcome.rotated);
    assert!(token.refresh_token().is_none());
    assert_eq!(
        c.userinfo(&host, &token).await.unwrap().preferred_username,
        fx::WEB_USERNAME
    );
    flow.token().await.unwrap();
    assert_token_counts(&mock, &[(Outcome::Ok, 2)]);

    // The app requires its secret for refreshes.
    let err = RefreshTokenFlow::new(
        host.clone(),
        fx::WEB_CONSUMER_KEY,
        RefreshToken::new(fx::WEB_REFRESH_TOKEN),
    )
    .with_client(c.clone())
    .token()
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some("invalid_client"), "{err}");

    // Revoking the refresh token kills it and the access tokens issued from it.
    c.revoke(&host, &fx::WEB_REFRESH_TOKEN.into())
        .await
        .unwrap();
    let err = flow.refresh().await.unwrap_err();
    assert_server_error(
        &err,
        "refresh token exchange",
        "invalid_grant",
        "expired access/refresh token",
    );
    assert!(err.help().unwrap().contains("authenticate again"));
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    let err = c.userinfo(&host, &token).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry);
    assert_counts(&mock, &[(Route::OAuthRevoke, Outcome::Ok, 1)]);
}

#[tokio::test]
async fn refresh_token_rotation_and_reuse_detection() {
    let (mock, clock, host) = mock_on_main_host().await;
    let rotations = common::Rotations::default();
    let flow = refresh_flow(
        host.clone(),
        ROTATING_APP,
        fx::ROTATING_REFRESH_TOKEN,
        client(&clock),
    )
    .on_rotation(rotations.observer());

    let (first, outcome) = flow.refresh().await.unwrap();
    assert!(outcome.rotated);
    let r1 = first.refresh_token().unwrap().expose_secret().to_owned();
    assert_ne!(r1, fx::ROTATING_REFRESH_TOKEN);
    let (second, outcome) = flow.refresh().await.unwrap();
    assert!(outcome.rotated);
    let r2 = second.refresh_token().unwrap().expose_secret().to_owned();
    assert_ne!(r2, r1);
    assert_eq!(rotations.seen(), [r1.clone(), r2.clone()]);
    assert_eq!(
        flow.current_refresh_token().await.secret().expose_secret(),
        r2
    );

    // Someone replays a rotated token: the whole chain is revoked.
    let replay = refresh_flow(host.clone(), ROTATING_APP, r1, client(&clock));
    assert_refused(
        replay,
        "refresh token exchange",
        "invalid_grant",
        "expired access/refresh token",
    )
    .await;
    let err = flow.token().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"));
    assert_token_counts(&mock, &[(Outcome::Ok, 2), (Outcome::InvalidGrant, 2)]);
}

// ---------------------------------------------------------------------------------------------
// Client credentials

#[tokio::test]
async fn client_credentials_on_my_domain_only() {
    let (mock, clock) = mock().await;
    let my_domain = custom(&mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN));
    let c = client(&clock);
    for auth in [ClientAuth::FormFields, ClientAuth::Basic] {
        let token = ClientCredentials::new(
            my_domain.clone(),
            fx::CC_CONSUMER_KEY,
            ClientSecret::new(fx::CC_CONSUMER_SECRET),
        )
        .with_auth(auth)
        .with_client(c.clone())
        .token()
        .await
        .unwrap();
        assert!(token.refresh_token().is_none());
        assert_eq!(
            c.userinfo(&my_domain, &token)
                .await
                .unwrap()
                .preferred_username,
            fx::CC_RUN_AS_USERNAME
        );
    }
    assert_token_counts(&mock, &[(Outcome::Ok, 2)]);

    const CTX: &str = "client credentials authentication";
    let err = assert_refused(
        ClientCredentials::new(
            custom(&mock.url()),
            fx::CC_CONSUMER_KEY,
            ClientSecret::new(fx::CC_CONSUMER_SECRET),
        )
        .with_client(c.clone()),
        CTX,
        "invalid_grant",
        "request not supported on this domain",
    )
    .await;
    assert!(err.help().unwrap().contains("My Domain"));

    assert_refused(
        ClientCredentials::new(
            my_domain.clone(),
            fx::CC_CONSUMER_KEY,
            ClientSecret::new("wrong"),
        )
        .with_auth(ClientAuth::Basic)
        .with_client(c.clone()),
        CTX,
        "invalid_client",
        "invalid client credentials",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Revoke and userinfo

#[tokio::test]
async fn revoke_access_token_then_userinfo_refuses_it() {
    let (mock, clock, host) = mock_on_main_host().await;
    let c = client(&clock);
    let token = token_of(jwt(host.clone(), fx::INTEGRATION_USERNAME, &clock)).await;
    let me = c.userinfo(&host, &token).await.unwrap();
    assert_eq!(me.organization_id, fx::PRODUCTION_ORG_ID);
    assert_eq!(me.user_id, fx::INTEGRATION_USER_ID);
    c.revoke(&host, token.secret()).await.unwrap();
    let err = c.userinfo(&host, &token).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry);
    let err = c.revoke(&host, token.secret()).await.unwrap_err();
    assert_server_error(
        &err,
        "token revocation",
        "invalid_token",
        "Token was invalid",
    );
    assert_counts(
        &mock,
        &[
            (Route::OAuthRevoke, Outcome::Ok, 1),
            (Route::OAuthUserinfo, Outcome::Ok, 1),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// MCI service account

fn mci(mock: &PardotMock, key_file: &str, clock: &ManualClock) -> MciServiceAccount {
    MciServiceAccount::new(
        mock.mci_discovery_url(fx::MCI_REGION).parse().unwrap(),
        fx::MCI_SERVICE_ACCOUNT_ID,
        key(key_file),
    )
    .with_client(client(clock))
}

#[tokio::test]
async fn mci_service_account_tokens_and_errors() {
    let (mock, clock) = mock().await;
    let flow = mci(&mock, "mci-service-account.key", &clock);
    let first = flow.token().await.unwrap();
    assert!(matches!(first.kind(), TokenKind::MciBearer));
    assert_eq!(
        first.expiry(),
        Expiry::Known(clock.now() + Duration::from_secs(300))
    );
    let second = flow.token().await.unwrap();
    assert_ne!(
        first.secret().expose_secret(),
        second.secret().expose_secret()
    );
    let counts = mock.counts();
    assert_eq!(
        counts.get(Route::MciDiscovery, Outcome::Ok),
        1,
        "discovery is cached"
    );
    assert_counts(&mock, &[(Route::MciToken, Outcome::Ok, 2)]);

    let err = assert_mci_refused(mci(&mock, "untrusted.key", &clock), "invalid_client").await;
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    let elsewhere =
        mci(&mock, "mci-service-account.key", &clock).with_audience("https://not-the-idp.example");
    let err = assert_mci_refused(elsewhere, "").await;
    assert!(!err.is_retryable());
    let unknown = MciServiceAccount::new(
        mock.mci_discovery_url(fx::MCI_REGION).parse().unwrap(),
        "mci-sa-unknown",
        key("mci-service-account.key"),
    )
    .with_client(client(&clock));
    assert_mci_refused(unknown, "invalid_client").await;
    assert_counts(&mock, &[(Route::MciToken, Outcome::Ok, 2)]);
}

/// Asks `flow` for a token it is refused; asserts the error's text starts with `what` after
/// the flow's context, and returns it.
async fn assert_mci_refused(flow: MciServiceAccount, what: &str) -> Error {
    let err = flow.token().await.unwrap_err();
    let start = format!("MCI service account authentication failed: {what}");
    assert!(err.to_string().starts_with(&start), "{err}");
    err
}

#[tokio::test]
async fn mci_tokens_are_judged_on_the_shared_clock() {
    let (mock, clock) = mock().await;
    // An assertion signed by a client whose clock runs 10 minutes late is already stale.
    let late = ManualClock::starting_at(clock.now() - Duration::from_secs(600));
    let err = mci(&mock, "mci-service-account.key", &late)
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"), "{err}");
    mci(&mock, "mci-service-account.key", &clock)
        .token()
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Org and user states that need a configuration change

#[tokio::test]
async fn org_policies_blocked_password_flow_locked_org_login_limit_inactive_refresh() {
    use pardot_mock::{MockConfig, OrgConfig, RefreshTokenConfig};

    let mut config = MockConfig::defaults();
    fn org<'a>(config: &'a mut MockConfig, id: &str) -> &'a mut OrgConfig {
        config.orgs.iter_mut().find(|o| o.id == id).unwrap()
    }
    let acme = org(&mut config, fx::PRODUCTION_ORG_ID);
    acme.password_flow = false;
    acme.logins_per_hour = Some(2);
    org(&mut config, fx::SANDBOX_ORG_ID).locked = true;
    config.refresh_tokens.push(RefreshTokenConfig {
        token: "5Aep861mock.inactive.user.refresh.token.000000000000000000000".into(),
        username: fx::INACTIVE_USERNAME.into(),
        consumer_key: fx::WEB_CONSUMER_KEY.into(),
        scopes: None,
    });
    let (mock, clock) = mock_with(config).await;
    let prod = custom(&mock.url());

    // The org blocks the username-password flow: right credentials, authentication failure.
    assert_refused(
        password_flow(
            prod.clone(),
            fx::INTEGRATION_USERNAME,
            fx::INTEGRATION_PASSWORD,
            Some(fx::INTEGRATION_SECURITY_TOKEN),
            &clock,
        ),
        "username-password authentication",
        "invalid_grant",
        "authentication failure",
    )
    .await;

    // A locked org.
    let err = assert_refused(
        jwt(custom(&mock.sandbox_url()), fx::SANDBOX_USERNAME, &clock),
        "JWT bearer authentication",
        "inactive_org",
        "organization is locked, closed, or suspended",
    )
    .await;
    assert_eq!(err.class(), ErrorClass::NeverRetry);

    // A refresh token of a deactivated user.
    assert_refused(
        refresh_flow(
            prod.clone(),
            WEB_APP,
            "5Aep861mock.inactive.user.refresh.token.000000000000000000000",
            client(&clock),
        ),
        "refresh token exchange",
        "invalid_grant",
        "inactive user",
    )
    .await;

    // Login limit per rolling hour: retry later, and it passes once the hour has moved on.
    let flow = jwt(prod.clone(), fx::INTEGRATION_USERNAME, &clock);
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(
            flow.token()
                .await
                .map_err(|e| (e.code().map(str::to_owned), e.is_retryable())),
        );
    }
    // Two logins per hour: the third and fourth are refused, retryable.
    assert!(outcomes[0].is_ok() && outcomes[1].is_ok(), "{outcomes:?}");
    for o in &outcomes[2..] {
        assert!(
            matches!(o, Err((Some(code), true)) if code == "rate_limit_exceeded"),
            "{outcomes:?}"
        );
    }
    clock.advance(Duration::from_secs(3601));
    flow.token().await.unwrap();
    assert_token_counts(&mock, &[(Outcome::RateLimitExceeded, 2)]);
}
