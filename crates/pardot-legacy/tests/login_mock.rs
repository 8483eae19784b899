//! The legacy login against `pardot-mock` (its default fixture users, see fixtures/mock.toml):
//! success, `<version>4`, each login error the mock produces, and the api_key's 60-minute life
//! on a `ManualClock` shared by the client and the mock.

mod support;

use std::time::Duration;
use support::Query;

use pardot_auth_core::{
    AuthScheme, Clock, ErrorClass, Expiry, LEGACY_API_KEY_LIFETIME, ManualClock, PardotErrorCode,
    PardotHost, TokenKind, TokenSource,
};
use pardot_legacy::envelope::{self, Format};
use pardot_legacy::{ApiVersion, LegacyCredentials, LegacyError, LegacyLogin};
use pardot_mock::PardotMock;
use secrecy::ExposeSecret;

const V3_EMAIL: &str = "legacy-v3@acme.example";
const V3_PASSWORD: &str = "mock-legacy-password-3";
const V3_USER_KEY: &str = "0123456789abcdef0123456789abcdef";
const V4_EMAIL: &str = "legacy-v4@acme.example";
const V4_PASSWORD: &str = "mock-legacy-password-4";
const V4_USER_KEY: &str = "fedcba9876543210fedcba9876543210";

/// A mock on a manual clock it shares with the test.
async fn mock() -> (PardotMock, ManualClock) {
    mock_with(pardot_mock::MockConfig::defaults()).await
}

/// [`mock`] serving `config`.
async fn mock_with(config: pardot_mock::MockConfig) -> (PardotMock, ManualClock) {
    let clock = ManualClock::new();
    let builder = PardotMock::builder().config(config).clock(&clock);
    (builder.start().await.expect("the mock starts"), clock)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// The login of the fixture v3 user, built.
fn v3_user(mock: &PardotMock, clock: &ManualClock) -> LegacyLogin {
    login_v3_user(mock, clock).build().unwrap()
}

/// The login of the fixture v4 user, built.
fn v4_user(mock: &PardotMock, clock: &ManualClock) -> LegacyLogin {
    login_v4_user(mock, clock).build().unwrap()
}

fn login_v3_user(mock: &PardotMock, clock: &ManualClock) -> pardot_legacy::LegacyLoginBuilder {
    login(mock, clock, V3_EMAIL, V3_PASSWORD, V3_USER_KEY)
}

fn login_v4_user(mock: &PardotMock, clock: &ManualClock) -> pardot_legacy::LegacyLoginBuilder {
    login(mock, clock, V4_EMAIL, V4_PASSWORD, V4_USER_KEY)
}

fn login(
    mock: &PardotMock,
    clock: &ManualClock,
    email: &str,
    password: &str,
    user_key: &str,
) -> pardot_legacy::LegacyLoginBuilder {
    LegacyLogin::builder(LegacyCredentials::new(email, password, user_key).unwrap())
        .host(PardotHost::custom(&mock.url()).unwrap())
        .http_client(http())
        .clock(clock.shared())
}

/// GETs the v3/v4 `(object, action)` with `query` and the token's Pardot header, as a v3/v4
/// caller would: the body.
async fn call(
    mock: &PardotMock,
    token: &pardot_auth_core::AccessToken,
    version: ApiVersion,
    (object, action): (&str, &str),
    query: &[(&str, &str)],
) -> Vec<u8> {
    let headers = AuthScheme::for_pardot(token, None)
        .unwrap()
        .headers(token)
        .unwrap();
    let url = PardotHost::custom(&mock.url())
        .unwrap()
        .endpoint(&version.path(object, action));
    let answer = http().get(url).query(query).headers(headers).send().await;
    answer.unwrap().bytes().await.unwrap().to_vec()
}

/// Reads the account with the token; the envelope decides.
async fn account_read(
    mock: &PardotMock,
    token: &pardot_auth_core::AccessToken,
    version: ApiVersion,
) -> Result<envelope::Envelope, envelope::ApiError> {
    let body = call(mock, token, version, ("account", "read"), &[]).await;
    envelope::parse(&body).unwrap().into_result()
}

#[tokio::test]
async fn a_v3_user_logs_in_and_calls_the_api() {
    let (mock, clock) = mock().await;
    let login = v3_user(&mock, &clock);
    let session = login.login().await.unwrap();
    assert_eq!(session.api_version, ApiVersion::V3);
    let key = session.api_key.expose_secret();
    assert_eq!(key.len(), 32);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(session.issued_at, clock.now());
    assert_eq!(login.api_version(), Some(ApiVersion::V3));
    let journal = mock.journal();
    let entry = journal.last().expect("the login is journaled");
    assert_eq!(
        (entry.method.as_str(), entry.path.as_str(), entry.status),
        ("POST", "/api/login/version/3", 200)
    );
    assert_eq!(entry.param("email"), Some(V3_EMAIL));

    let token = login.token().await.unwrap();
    assert!(matches!(token.kind(), TokenKind::LegacyApiKey { .. }));
    let account = account_read(&mock, &token, ApiVersion::V3).await.unwrap();
    assert!(account.is_ok());
}

#[tokio::test]
async fn a_v4_account_says_version_4() {
    let (mock, clock) = mock().await;
    // Detected: logs in at /version/3 and reads <version>4</version>.
    let detected = v4_user(&mock, &clock);
    assert_eq!(detected.login().await.unwrap().api_version, ApiVersion::V4);
    // Fixed at /version/4, with JSON answers.
    let json = login_v4_user(&mock, &clock)
        .api_version(ApiVersion::V4)
        .format(Format::Json)
        .build()
        .unwrap();
    let token = json.token().await.unwrap();
    assert_eq!(json.api_version(), Some(ApiVersion::V4));
    assert!(
        account_read(&mock, &token, ApiVersion::V4)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn wrong_credentials_are_code_15() {
    let (mock, clock) = mock().await;
    for (email, password, user_key) in [
        (V3_EMAIL, "wrong-password", V3_USER_KEY),
        (V3_EMAIL, V3_PASSWORD, V4_USER_KEY),
        ("nobody@acme.example", V3_PASSWORD, V3_USER_KEY),
    ] {
        for format in [Format::Xml, Format::Json] {
            let err = login(&mock, &clock, email, password, user_key)
                .format(format)
                .build()
                .unwrap()
                .login()
                .await
                .unwrap_err();
            assert!(
                matches!(&err, LegacyError::LoginFailed { message } if message == "Login failed"),
                "{err:?}"
            );
            assert_eq!(err.class(), ErrorClass::NeverRetry);
            let core: pardot_auth_core::Error = err.into();
            assert_eq!(core.code(), Some("15"));
            assert!(!core.to_string().contains(password));
        }
        // Today's Pardot sends the authentication codes with 401; we read the body either way.
        assert!(mock.journal().iter().all(|e| e.status == 401));
        // Reset the failure count (and journal) so the lock (code 131) does not kick in.
        mock.reset();
    }
}

#[tokio::test]
async fn too_many_failures_lock_the_account_with_code_131() {
    let (mock, clock) = mock().await;
    let bad = login(&mock, &clock, V4_EMAIL, "wrong-password", V4_USER_KEY)
        .build()
        .unwrap();
    let mut codes = Vec::new();
    for _ in 0..10 {
        match bad.login().await.unwrap_err() {
            LegacyError::LoginFailed { .. } => codes.push(15),
            LegacyError::AccountLocked { message } => {
                assert!(message.contains("locked"), "{message}");
                codes.push(131);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(codes.last(), Some(&131), "{codes:?}");
    assert!(codes[..codes.len() - 1].iter().all(|&c| c == 15));
    // Locked: even the right password is refused until the account is reset.
    let good = v4_user(&mock, &clock);
    let err = good.login().await.unwrap_err();
    assert_eq!(err.code(), Some(PardotErrorCode::ACCOUNT_LOCKED));
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    mock.reset();
    assert!(good.login().await.is_ok());
}

#[tokio::test]
async fn the_api_key_expires_after_60_minutes_on_the_shared_clock() {
    let (mock, clock) = mock().await;
    let source = v3_user(&mock, &clock);
    let t0 = clock.now();
    let token = source.token().await.unwrap();
    assert_eq!(token.expiry(), Expiry::Known(t0 + LEGACY_API_KEY_LIFETIME));

    // Pardot hands out the same key while it lives; our expiry stays the server's.
    clock.advance(Duration::from_secs(10 * 60));
    let again = source.token().await.unwrap();
    assert_eq!(
        again.secret().expose_secret(),
        token.secret().expose_secret()
    );
    assert_eq!(again.expires_at(), t0 + LEGACY_API_KEY_LIFETIME);

    clock.advance(Duration::from_secs(49 * 60 + 59));
    assert!(!token.is_expired(clock.now()));
    assert!(account_read(&mock, &token, ApiVersion::V3).await.is_ok());

    clock.advance(Duration::from_secs(1));
    assert!(token.is_expired(clock.now()));
    let err = account_read(&mock, &token, ApiVersion::V3)
        .await
        .unwrap_err();
    assert_eq!(err.code, PardotErrorCode::INVALID_API_KEY);
    assert!(err.signals_expired_credential());
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry);

    // Logging in again gives a new key, valid for another 60 minutes.
    source.invalidate(&token);
    let fresh = source.token().await.unwrap();
    assert!(!fresh.is_same_as(&token));
    assert_eq!(fresh.issued_at(), clock.now());
    assert_eq!(fresh.expires_at(), clock.now() + LEGACY_API_KEY_LIFETIME);
    assert!(account_read(&mock, &fresh, ApiVersion::V3).await.is_ok());
}

#[tokio::test]
async fn the_reported_version_is_the_one_the_api_accepts() {
    let (mock, clock) = mock().await;
    let v3 = v3_user(&mock, &clock);
    let v3_token = v3.token().await.unwrap();
    let v4 = v4_user(&mock, &clock);
    let v4_token = v4.token().await.unwrap();
    assert_eq!(
        (v3.api_version(), v4.api_version()),
        (Some(ApiVersion::V3), Some(ApiVersion::V4))
    );
    // The other version is refused with 89 ("unable to use version 4") or 88 ("must use 4").
    let err = account_read(&mock, &v3_token, ApiVersion::V4)
        .await
        .unwrap_err();
    assert_eq!(err.code, PardotErrorCode::CANNOT_USE_V4);
    let err = account_read(&mock, &v4_token, ApiVersion::V3)
        .await
        .unwrap_err();
    assert_eq!(err.code, PardotErrorCode::MUST_USE_V4);
    assert_eq!(err.class(), ErrorClass::CallerBug);
}

#[tokio::test]
async fn the_older_200_with_stat_fail_is_read_the_same() {
    let mut config = pardot_mock::MockConfig::defaults();
    config.pardot_status_mode = pardot_mock::PardotStatusMode::Legacy;
    let (mock, clock) = mock_with(config).await;
    let login = login(&mock, &clock, V3_EMAIL, "wrong-password", V3_USER_KEY);
    let err = login.build().unwrap().login().await.unwrap_err();
    assert!(matches!(err, LegacyError::LoginFailed { .. }), "{err:?}");
    let statuses: Vec<u16> = mock.journal().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [200], "the mock answered with the old status");
}

#[tokio::test]
async fn prospect_queries_deserialize_from_both_formats() {
    let (mock, clock) = mock().await;
    let login = v3_user(&mock, &clock);
    let token = login.token().await.unwrap();
    let mut seen = Vec::new();
    for (format, limit) in [("xml", "1"), ("json", "1"), ("xml", "200"), ("json", "200")] {
        let query = [("format", format), ("limit", limit)];
        let body = call(&mock, &token, ApiVersion::V3, ("prospect", "query"), &query).await;
        let query: Query = envelope::parse(&body)
            .unwrap()
            .into_result()
            .unwrap()
            .deserialize()
            .unwrap_or_else(|e| panic!("{format}: {e}: {}", String::from_utf8_lossy(&body)));
        let expected = query.result.total_results.min(limit.parse().unwrap());
        assert_eq!(
            query.result.prospect.len() as u64,
            expected,
            "{format} limit {limit}"
        );
        assert!(
            query
                .result
                .prospect
                .iter()
                .all(|p| p.id > 0 && p.email.contains('@'))
        );
        seen.push(
            query
                .result
                .prospect
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>(),
        );
    }
    assert!(seen[2].len() > 1, "the fixture has several prospects");
    assert_eq!(
        seen[0], seen[1],
        "XML and JSON read the same first prospect"
    );
    assert_eq!(seen[2], seen[3]);
}
