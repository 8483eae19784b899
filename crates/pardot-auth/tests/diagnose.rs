//! `diagnose` against an in-process pardot-mock: each known setup mistake is named, the
//! credentials as configured are what is checked (not a token kept from an earlier run),
//! and the stored token is replaced only when a fresh one came.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pardot_auth::core::secrecy::{ExposeSecret, SecretString};
use pardot_auth::{
    AccessToken, Connector, Diagnosis, ErrorClass, Expiry, FileStore, Flow, ManualClock,
    MemoryStore, StoredToken, TokenChecked, TokenKind, TokenStore, diagnose,
};
use pardot_mock::{MockConfig, Outcome, PardotMock, Route, fixtures};

// The settings of each flow, shared with the CLI tests; the harness itself is not used here.
#[allow(dead_code)]
mod cli_support;
mod support;

use cli_support::{jwt_vars, legacy_vars, password_vars, with};
use support::{config, key, seed_web_refresh_token, web_app};

/// The legacy flow's settings for a user (the CLI tests pass the flow as a flag).
fn legacy(email: &str, password: &str, user_key: &str) -> Vec<(&'static str, String)> {
    with(
        legacy_vars(),
        &[
            ("PARDOT_AUTH_FLOW", "legacy".into()),
            ("PARDOT_EMAIL", email.into()),
            ("PARDOT_PASSWORD", password.into()),
            ("PARDOT_USER_KEY", user_key.into()),
        ],
    )
}

/// A connector for `vars` on `mock` (every host the mock), with `store`.
fn connector(mock: &PardotMock, vars: &[(&str, String)], store: Arc<dyn TokenStore>) -> Connector {
    Connector::new(config(mock, vars).unwrap()).store(store)
}

/// The diagnosis of `vars` on `mock`, with an empty store.
async fn check(mock: &PardotMock, vars: &[(&str, String)]) -> Diagnosis {
    diagnose(&connector(mock, vars, Arc::new(MemoryStore::new()))).await
}

/// The diagnosis of the JWT flow's settings with `extra` set over them.
async fn jwt_with(mock: &PardotMock, extra: &[(&'static str, String)]) -> Diagnosis {
    check(mock, &with(jwt_vars(), extra)).await
}

/// Asserts the variant and that the one-line report names the label and a fix.
macro_rules! assert_diagnosis {
    ($found:expr, $pattern:pat, $label:expr) => {{
        let found: &Diagnosis = &$found;
        assert!(matches!(found, $pattern), "{found:?}");
        let line = found.to_string();
        assert!(line.starts_with(&format!("{}: ", $label)), "{line}");
        assert!(!found.fix().is_empty(), "no fix: {line}");
    }};
}

fn v4_error(code: u32, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rsp stat="fail" version="1.0"><err code="{code}">{message}</err></rsp>"#
    )
}

/// A stored Salesforce token (the mock issued it) that a later run would find.
fn stored_salesforce_token(secret: String) -> StoredToken {
    let now = SystemTime::now();
    StoredToken {
        access: Some(AccessToken::new(
            TokenKind::SalesforceBearer,
            SecretString::from(secret),
            now,
            Expiry::Estimated(now + Duration::from_secs(3600)),
        )),
        refresh_token: None,
    }
}

fn stored_secret(record: &Option<StoredToken>) -> Option<String> {
    record
        .as_ref()
        .and_then(|r| r.access.as_ref())
        .map(|t| t.secret().expose_secret().to_owned())
}

#[tokio::test]
async fn a_wrong_password_is_named_even_with_a_valid_token_in_the_store() {
    let mock = PardotMock::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let good = password_vars(&format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    ));
    let ok = diagnose(&connector(&mock, &good, store.clone())).await;
    assert!(ok.is_ok(), "{ok}");
    assert!(
        ok.to_string().contains("checked with a fresh token"),
        "{ok}"
    );
    let key = Connector::new(config(&mock, &good).unwrap()).key();
    let earlier = stored_secret(&store.load(&key).await.unwrap());
    assert!(earlier.is_some(), "the fresh token was not kept");

    // The password changed in the environment; the store still holds a valid token.
    let wrong = password_vars("not-the-password");
    let found = diagnose(&connector(&mock, &wrong, store.clone())).await;
    assert_diagnosis!(found, Diagnosis::WrongPassword { .. }, "wrong password");
    assert!(found.to_string().contains("security token"), "{found}");
    assert_eq!(found.class(), Some(ErrorClass::NeverRetry));
    assert_eq!(
        stored_secret(&store.load(&key).await.unwrap()),
        earlier,
        "a failed check replaced the stored token"
    );
    assert_eq!(
        mock.counts().get(Route::OAuthToken, Outcome::InvalidGrant),
        1
    );
}

#[tokio::test]
async fn a_successful_check_replaces_the_stored_token() {
    let mock = PardotMock::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let connector = connector(&mock, &jwt_vars(), store.clone());
    let first = diagnose(&connector).await;
    let Diagnosis::Ok {
        user,
        pardot: Some(call),
        checked: TokenChecked::Fresh,
    } = &first
    else {
        panic!("{first:?}");
    };
    assert!(user.starts_with(fixtures::INTEGRATION_USERNAME), "{user}");
    assert_eq!(call.api_version, 4);
    assert_eq!(
        call.business_unit.as_ref().map(|b| b.as_str()),
        Some(fixtures::BUSINESS_UNIT_ID)
    );
    let one = stored_secret(&store.load(&connector.key()).await.unwrap());
    assert!(diagnose(&connector).await.is_ok());
    let two = stored_secret(&store.load(&connector.key()).await.unwrap());
    assert!(
        one.is_some() && two.is_some() && one != two,
        "not a fresh token each time"
    );
    assert_eq!(mock.counts().token_requests_ok(), 2);
}

#[tokio::test]
async fn login_server_refusals_name_the_mistake() {
    let mock = PardotMock::start().await;
    let url = mock.url();

    let found = jwt_with(&mock, &[("SF_CLIENT_ID", "3MVG9.no.such.app".into())]).await;
    assert_diagnosis!(
        found,
        Diagnosis::UnknownConsumerKey { .. },
        "unknown consumer key"
    );

    let found = check(
        &mock,
        &with(
            password_vars(&format!(
                "{}{}",
                fixtures::INTEGRATION_PASSWORD,
                fixtures::INTEGRATION_SECURITY_TOKEN
            )),
            &[("SF_CLIENT_SECRET", "not-the-secret".into())],
        ),
    )
    .await;
    assert_diagnosis!(found, Diagnosis::WrongClientSecret, "wrong client secret");

    let found = jwt_with(&mock, &[("SF_PRIVATE_KEY_FILE", key("untrusted.key"))]).await;
    assert_diagnosis!(
        found,
        Diagnosis::CertificateMismatch,
        "certificate mismatch"
    );

    let found = jwt_with(
        &mock,
        &[("SF_USERNAME", fixtures::UNAPPROVED_USERNAME.into())],
    )
    .await;
    assert_diagnosis!(found, Diagnosis::NotPreAuthorized { .. }, "not approved");

    // The production user on the sandbox login host.
    let found = jwt_with(&mock, &[("SF_LOGIN_URL", format!("{url}/sandbox"))]).await;
    assert_diagnosis!(found, Diagnosis::WrongLoginHost { .. }, "wrong audience");

    let found = jwt_with(
        &mock,
        &[("SF_USERNAME", fixtures::INACTIVE_USERNAME.into())],
    )
    .await;
    assert_diagnosis!(found, Diagnosis::InactiveUser, "inactive user");

    let cc = |login: String, client_id: &str, secret: &str| {
        vec![
            ("PARDOT_AUTH_FLOW", "client-credentials".into()),
            ("SF_LOGIN_URL", login),
            ("SF_CLIENT_ID", client_id.to_owned()),
            ("SF_CLIENT_SECRET", secret.to_owned()),
        ]
    };
    let found = check(
        &mock,
        &cc(
            url.clone(),
            fixtures::CC_CONSUMER_KEY,
            fixtures::CC_CONSUMER_SECRET,
        ),
    )
    .await;
    assert_diagnosis!(found, Diagnosis::MyDomainRequired, "My Domain required");
    let my_domain = mock.my_domain_url(fixtures::PRODUCTION_MY_DOMAIN);
    let found = check(
        &mock,
        &cc(
            my_domain.clone(),
            fixtures::CC_CONSUMER_KEY,
            fixtures::CC_CONSUMER_SECRET,
        ),
    )
    .await;
    assert!(found.is_ok(), "{found}");
    let found = check(
        &mock,
        &cc(
            my_domain,
            fixtures::JWT_CONSUMER_KEY,
            fixtures::JWT_CONSUMER_SECRET,
        ),
    )
    .await;
    assert_diagnosis!(
        found,
        Diagnosis::FlowNotEnabled {
            flow: Flow::ClientCredentials,
            ..
        },
        "flow not enabled"
    );

    let revoked = [("SF_REFRESH_TOKEN", "5Aep861.revoked.long.ago".into())];
    let found = check(&mock, &web_app("refresh", &revoked)).await;
    assert_diagnosis!(
        found,
        Diagnosis::RefreshTokenRejected {
            flow: Flow::RefreshToken
        },
        "refresh token rejected"
    );

    mock.fail_next_token("rate_limit_exceeded", "number of logins exceeded")
        .unwrap();
    let found = check(&mock, &jwt_vars()).await;
    assert_diagnosis!(found, Diagnosis::LoginRateLimited, "login rate limit");
    assert_eq!(found.class(), Some(ErrorClass::RETRY));

    mock.fail_next(Route::OAuthToken, 1, 503, "Service Unavailable")
        .unwrap();
    let found = check(&mock, &jwt_vars()).await;
    assert_diagnosis!(found, Diagnosis::ServerTrouble { .. }, "server trouble");
}

#[tokio::test]
async fn a_locked_org_is_named() {
    let mut config = MockConfig::defaults();
    config.orgs[0].locked = true;
    let mock = PardotMock::builder().config(config).start().await.unwrap();
    let found = check(&mock, &jwt_vars()).await;
    assert_diagnosis!(found, Diagnosis::OrgLocked, "org locked");
}

#[tokio::test]
async fn a_clock_behind_the_servers_is_named() {
    let mock = PardotMock::start().await;
    // Ten minutes behind: the assertion's `exp` (now + 3 min) is 7 minutes old to the server.
    let behind = ManualClock::starting_at(SystemTime::now() - Duration::from_secs(10 * 60));
    let connector =
        connector(&mock, &jwt_vars(), Arc::new(MemoryStore::new())).clock(behind.shared());
    let found = diagnose(&connector).await;
    assert_diagnosis!(found, Diagnosis::ClockSkew { .. }, "clock skew");
    assert!(found.to_string().contains("NTP"), "{found}");
}

#[tokio::test]
async fn a_token_without_pardot_api_is_named() {
    let mock = PardotMock::builder()
        .app(
            toml::from_str(&format!(
                "consumer_key = \"3MVG9.no.pardot.scope\"\ncertificate_pem = '''\n{}'''\n\
                 scopes = [\"api\"]\npermitted_users = \"admin_approved\"\n\
                 pre_authorized = [\"{}\"]\n",
                fixtures::CONNECTED_APP_CERT_PEM,
                fixtures::INTEGRATION_USERNAME
            ))
            .unwrap(),
        )
        .start()
        .await
        .unwrap();
    let found = jwt_with(&mock, &[("SF_CLIENT_ID", "3MVG9.no.pardot.scope".into())]).await;
    assert_diagnosis!(found, Diagnosis::MissingScope { .. }, "missing scope");
    assert!(found.to_string().contains("pardot_api"), "{found}");
    assert_eq!(
        mock.counts().route_total(Route::PardotV4),
        0,
        "Pardot was called"
    );
}

#[tokio::test]
async fn business_unit_mistakes_are_told_apart() {
    let mock = PardotMock::start().await;
    let url = mock.url();
    let found = jwt_with(
        &mock,
        &[(
            "PARDOT_BUSINESS_UNIT_ID",
            fixtures::INACTIVE_BUSINESS_UNIT_ID.into(),
        )],
    )
    .await;
    assert_diagnosis!(found, Diagnosis::BusinessUnitNotFound { .. }, "wrong BU");

    // The sandbox's business unit asked for on production is served by the demo host.
    let sandbox_on_production = with(
        jwt_vars(),
        &[
            ("SF_LOGIN_URL", format!("{url}/sandbox")),
            ("SF_USERNAME", fixtures::SANDBOX_USERNAME.into()),
            (
                "PARDOT_BUSINESS_UNIT_ID",
                fixtures::DEMO_BUSINESS_UNIT_ID.into(),
            ),
        ],
    );
    let found = check(&mock, &sandbox_on_production).await;
    assert_diagnosis!(
        found,
        Diagnosis::BusinessUnitOnOtherHost { demo: true, .. },
        "BU on demo host"
    );
    assert!(
        found
            .to_string()
            .contains(&format!("PARDOT_URL={url}/demo")),
        "{found}"
    );
    let production_on_demo = with(jwt_vars(), &[("PARDOT_URL", format!("{url}/demo"))]);
    let found = check(&mock, &production_on_demo).await;
    assert_diagnosis!(
        found,
        Diagnosis::BusinessUnitOnOtherHost { demo: false, .. },
        "BU on production host"
    );

    // The production user and the sandbox org's business unit, on its own host: the user
    // has no Account Engagement access there.
    let found = jwt_with(
        &mock,
        &[
            ("PARDOT_URL", format!("{url}/demo")),
            (
                "PARDOT_BUSINESS_UNIT_ID",
                fixtures::DEMO_BUSINESS_UNIT_ID.into(),
            ),
        ],
    )
    .await;
    assert_diagnosis!(found, Diagnosis::NoPardotAccess { .. }, "no Pardot access");

    let mut no_unit = config(&mock, &jwt_vars()).unwrap();
    no_unit.business_unit = None;
    let found = diagnose(&Connector::new(no_unit)).await;
    assert_diagnosis!(found, Diagnosis::Config { .. }, "configuration");
    assert_eq!(found.class(), Some(ErrorClass::CallerBug));
}

/// What `diagnose` says of `vars` when the next request on `route` is refused with a
/// Pardot error `code`.
async fn refused(
    mock: &PardotMock,
    route: Route,
    code: u32,
    message: &str,
    vars: &[(&str, String)],
) -> Diagnosis {
    mock.fail_next(route, 1, 400, &v4_error(code, message))
        .unwrap();
    check(mock, vars).await
}

/// A Pardot refusal of `account read` made with a fresh JWT token: what `diagnose` says.
async fn refused_with(mock: &PardotMock, code: u32, message: &str) -> Diagnosis {
    refused(mock, Route::PardotV4, code, message, &jwt_vars()).await
}

#[tokio::test]
async fn pardot_refusals_of_a_fresh_token_are_named() {
    let mock = PardotMock::start().await;
    let found = refused_with(&mock, 184, "access_token is invalid, unknown, or malformed").await;
    assert_diagnosis!(
        found,
        Diagnosis::TokenRejected {
            checked: TokenChecked::Fresh,
            ..
        },
        "token expired or revoked"
    );
    let cases = [
        (
            76,
            "API access was disabled",
            Diagnosis::ApiDisabled,
            "API disabled",
        ),
        (
            53,
            "Client IP address/location must be activated before accessing API",
            Diagnosis::IpNotActivated,
            "IP not activated",
        ),
        (
            46,
            "This API user lacks sufficient permissions for the requested operation",
            Diagnosis::InsufficientPermissions,
            "insufficient permissions",
        ),
        (
            66,
            "You have exceeded your concurrent request limit.  Please wait, before trying again",
            Diagnosis::ConcurrencyLimit,
            "concurrency limit",
        ),
    ];
    for (code, message, expected, label) in cases {
        let found = refused_with(&mock, code, message).await;
        assert_eq!(found, expected, "code {code}");
        assert!(
            found.to_string().starts_with(&format!("{label}: ")),
            "{found}"
        );
        assert!(!found.fix().is_empty(), "{found}");
    }
    assert_eq!(
        Diagnosis::ConcurrencyLimit.class(),
        Some(ErrorClass::RETRY),
        "66 passes"
    );
    // A code no diagnosis knows is passed on as it came.
    let found = refused_with(&mock, 999, "Something new").await;
    assert!(
        matches!(&found, Diagnosis::Other { detail, .. } if detail.contains("Pardot error 999: Something new")),
        "{found:?}"
    );
}

#[tokio::test]
async fn the_daily_limit_is_named() {
    let mut config = MockConfig::defaults();
    config.business_units[0].daily_budget = 1;
    let mock = PardotMock::builder().config(config).start().await.unwrap();
    assert!(check(&mock, &jwt_vars()).await.is_ok());
    let found = check(&mock, &jwt_vars()).await;
    assert_diagnosis!(found, Diagnosis::DailyLimit, "daily limit");
    assert_eq!(mock.counts().get(Route::PardotV4, Outcome::Pardot(122)), 1);
}

#[tokio::test]
async fn legacy_logins_are_checked_fresh() {
    let mock = PardotMock::start().await;
    let v3 = legacy(
        fixtures::LEGACY_V3_EMAIL,
        fixtures::LEGACY_V3_PASSWORD,
        fixtures::LEGACY_V3_USER_KEY,
    );
    let found = check(&mock, &v3).await;
    let Diagnosis::Ok {
        user,
        pardot: Some(call),
        ..
    } = &found
    else {
        panic!("{found:?}");
    };
    assert!(user.starts_with(fixtures::LEGACY_V3_EMAIL), "{user}");
    assert_eq!((call.api_version, call.business_unit.as_ref()), (3, None));

    let v4 = legacy(
        fixtures::LEGACY_V4_EMAIL,
        fixtures::LEGACY_V4_PASSWORD,
        fixtures::LEGACY_V4_USER_KEY,
    );
    let found = refused(
        &mock,
        Route::PardotV4,
        1,
        "Invalid API key or user key",
        &v4,
    )
    .await;
    assert_diagnosis!(
        found,
        Diagnosis::LegacyApiKeyExpired,
        "legacy api_key expired"
    );

    let found = refused(
        &mock,
        Route::PardotLogin,
        126,
        "Invalid authentication mechanism",
        &v4,
    )
    .await;
    assert_diagnosis!(found, Diagnosis::LegacyLoginRetired, "legacy login retired");

    let wrong = legacy(
        fixtures::LEGACY_V4_EMAIL,
        "not-the-password",
        fixtures::LEGACY_V4_USER_KEY,
    );
    for _ in 0..5 {
        let found = check(&mock, &wrong).await;
        assert_diagnosis!(
            found,
            Diagnosis::LegacyLoginFailed { .. },
            "legacy login failed"
        );
    }
    // Five failures in a row lock the account.
    let found = check(&mock, &wrong).await;
    assert_diagnosis!(
        found,
        Diagnosis::LegacyAccountLocked,
        "legacy account locked"
    );
}

/// What an `Ok` diagnosis checked; `None` for any other.
fn ok_checked(found: &Diagnosis) -> Option<TokenChecked> {
    match found {
        Diagnosis::Ok { checked, .. } => Some(*checked),
        _ => None,
    }
}

#[tokio::test]
async fn flows_that_need_a_person_check_what_the_store_holds() {
    let mock = PardotMock::start().await;
    let web = web_app("web", &[]);
    let found = check(&mock, &web).await;
    assert_diagnosis!(
        found,
        Diagnosis::NeedsLogin {
            flow: Flow::WebServer
        },
        "needs login"
    );

    // Only an access token kept from an earlier sign-in: checked, and said so.
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let c = connector(&mock, &web, store.clone());
    let secret = mock
        .issue_access_token(fixtures::WEB_USERNAME, fixtures::WEB_CONSUMER_KEY)
        .unwrap();
    store
        .save(&c.key(), &stored_salesforce_token(secret))
        .await
        .unwrap();
    let found = diagnose(&c).await;
    assert_eq!(
        ok_checked(&found),
        Some(TokenChecked::StoredOnly {
            flow: Flow::WebServer
        }),
        "{found:?}"
    );
    assert!(found.to_string().contains("stored token only"), "{found}");
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 0);

    // A stored refresh token is redeemed: the sign-in's result is checked fresh.
    seed_web_refresh_token(&*store, &c.key()).await;
    let found = diagnose(&c).await;
    assert_eq!(ok_checked(&found), Some(TokenChecked::Fresh), "{found:?}");
    assert_eq!(mock.counts().token_requests_ok(), 1);
}

#[tokio::test]
async fn an_mci_service_account_is_checked_up_to_its_token() {
    let mock = PardotMock::start().await;
    let found = check(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "mci".into()),
            (
                "MCI_SERVICE_ACCOUNT_ID",
                fixtures::MCI_SERVICE_ACCOUNT_ID.into(),
            ),
            (
                "MCI_DISCOVERY_URL",
                mock.mci_discovery_url(fixtures::MCI_REGION),
            ),
            ("MCI_PRIVATE_KEY_FILE", key("mci-service-account.key")),
        ],
    )
    .await;
    assert!(
        matches!(found, Diagnosis::Ok { pardot: None, .. }),
        "{found:?}"
    );
}

#[tokio::test]
async fn network_and_store_failures_are_named() {
    // A port nothing listens on: bound, then let go.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mock = PardotMock::start().await;
    let found = jwt_with(&mock, &[("SF_LOGIN_URL", closed.clone())]).await;
    assert_diagnosis!(found, Diagnosis::Unreachable { .. }, "unreachable");
    assert_eq!(found.class(), Some(ErrorClass::RETRY));
    let found = jwt_with(&mock, &[("PARDOT_URL", closed)]).await;
    assert_diagnosis!(
        found,
        Diagnosis::Unreachable { what: "Pardot", .. },
        "unreachable"
    );

    // A store record that is not a record: the store's error, and nothing overwritten.
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path()).unwrap();
    let c = Connector::new(config(&mock, &jwt_vars()).unwrap());
    let path = store.path_of(&c.key()).unwrap();
    std::fs::write(&path, "not a record").unwrap();
    let found = diagnose(&c.store(Arc::new(store))).await;
    assert_diagnosis!(found, Diagnosis::TokenStore { .. }, "token store");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a record");
}
