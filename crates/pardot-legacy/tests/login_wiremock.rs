//! The exact request the legacy login sends, and how it reads each kind of answer
//! (wiremock: these tests pin the wire format; behaviour over time is tested against pardot-mock).

use std::time::Duration;

use pardot_auth_core::testing::LogCapture;
use pardot_auth_core::url::form_urlencoded;
use pardot_auth_core::{
    AuthScheme, Clock, ErrorClass, Expiry, LEGACY_API_KEY_LIFETIME, ManualClock, PardotHost,
    TokenKind, TokenSource,
};
use pardot_legacy::envelope::Format;
use pardot_legacy::{ApiVersion, LegacyCredentials, LegacyError, LegacyLogin};
use secrecy::ExposeSecret;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "api+sync@example.com";
const PASSWORD: &str = "p@ss w&rd=1";
const USER_KEY: &str = "c0ffee0123456789c0ffee0123456789";
const API_KEY: &str = "5a1698a233e73d7c8ccd60d775fbc68a";

fn ok_xml(version4: bool) -> String {
    let version = if version4 {
        "\n    <version>4</version>"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n    <api_key>{API_KEY}</api_key>{version}\n</rsp>\n"
    )
}

fn fail_xml(code: u32, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"fail\" version=\"1.0\">\n    <err code=\"{code}\">{message}</err>\n</rsp>\n"
    )
}

fn xml(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body, "text/xml; charset=utf-8")
}

/// Answers each login on `/api/login/version/{version}` with `answer`, expecting `times`.
async fn answer_login(server: &MockServer, version: u8, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path(format!("/api/login/version/{version}")))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// Code 88: the account must use version 4.
fn must_use_v4() -> ResponseTemplate {
    xml(
        400,
        fail_xml(88, "Your account must use version 4 of the API."),
    )
}

fn credentials() -> LegacyCredentials {
    LegacyCredentials::new(EMAIL, PASSWORD, USER_KEY).unwrap()
}

fn host(server: &MockServer) -> PardotHost {
    PardotHost::custom(&server.uri()).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn login(server: &MockServer) -> pardot_legacy::LegacyLoginBuilder {
    LegacyLogin::builder(credentials())
        .host(host(server))
        .http_client(client())
}

/// A server answering every POST with `answer`.
async fn answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// The session of the one login `builder` makes.
async fn session(builder: pardot_legacy::LegacyLoginBuilder) -> pardot_legacy::LegacySession {
    builder.build().unwrap().login().await.unwrap()
}

/// The error of the one login `builder` makes.
async fn login_error(builder: pardot_legacy::LegacyLoginBuilder) -> LegacyError {
    builder.build().unwrap().login().await.unwrap_err()
}

/// The form fields of the one request the server received, in order.
async fn received_form(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    form_urlencoded::parse(&requests[0].body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn sends_exactly_the_documented_request() {
    let server = MockServer::start().await;
    let expected_body = "email=api%2Bsync%40example.com&password=p%40ss+w%26rd%3D1&user_key=c0ffee0123456789c0ffee0123456789";
    Mock::given(method("POST"))
        .and(path("/api/login/version/3"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(expected_body))
        .respond_with(xml(200, ok_xml(false)))
        .expect(1)
        .mount(&server)
        .await;

    let session = session(login(&server).api_version(ApiVersion::V3)).await;
    assert_eq!(session.api_key.expose_secret(), API_KEY);
    assert_eq!(session.api_version, ApiVersion::V3);

    assert_eq!(
        received_form(&server).await,
        [
            ("email".to_owned(), EMAIL.to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
            ("user_key".to_owned(), USER_KEY.to_owned()),
        ]
    );
    let request = &server.received_requests().await.unwrap()[0];
    assert!(
        request.url.query().is_none(),
        "credentials never go in the query"
    );
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn version_4_with_json_format() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login/version/4"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}","version":4}}"#
            ),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let session = session(
        login(&server)
            .api_version(ApiVersion::V4)
            .format(Format::Json),
    )
    .await;
    assert_eq!(session.api_version, ApiVersion::V4);
    let form = received_form(&server).await;
    let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["email", "password", "user_key", "format"]);
    assert_eq!(form[3].1, "json");
}

#[tokio::test]
async fn detects_version_4_from_the_answer() {
    let server = MockServer::start().await;
    answer_login(&server, 3, xml(200, ok_xml(true)), 1).await;
    let login = login(&server).build().unwrap();
    assert_eq!(login.api_version(), None);
    let session = login.login().await.unwrap();
    assert_eq!(session.api_version, ApiVersion::V4);
    assert_eq!(login.api_version(), Some(ApiVersion::V4));
}

#[tokio::test]
async fn auto_version_moves_to_4_after_code_88() {
    let server = MockServer::start().await;
    answer_login(&server, 3, must_use_v4(), 1).await;
    answer_login(&server, 4, xml(200, ok_xml(true)), 1).await;
    let session = session(login(&server)).await;
    assert_eq!(session.api_version, ApiVersion::V4);
}

#[tokio::test]
async fn fixed_version_reports_code_88_instead_of_switching() {
    let server = MockServer::start().await;
    answer_login(&server, 3, must_use_v4(), 1).await;
    let err = login_error(login(&server).api_version(ApiVersion::V3)).await;
    assert!(matches!(err, LegacyError::WrongApiVersion(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::CallerBug);
}

#[tokio::test]
async fn login_errors_are_typed_whatever_the_status() {
    let cases: &[(u16, u32, &str)] = &[
        (401, 15, "Login failed"),
        (200, 15, "Login failed"),
        (
            400,
            131,
            "Your account is locked due to too many failed login attempts. Reset your password at https://pi.pardot.com/user/passwordReset",
        ),
        (400, 76, "API access was disabled"),
        (
            400,
            53,
            "Client IP address/location must be activated before accessing API",
        ),
        (401, 1, "Invalid API key or user key"),
    ];
    for &(status, code, message) in cases {
        let server = answering(xml(status, fail_xml(code, message))).await;
        let err = login_error(login(&server)).await;
        assert_eq!(err.code().map(|c| c.get()), Some(code), "{err:?}");
        match code {
            15 => assert!(matches!(err, LegacyError::LoginFailed { .. }), "{err:?}"),
            131 => assert!(matches!(err, LegacyError::AccountLocked { .. }), "{err:?}"),
            _ => assert!(matches!(err, LegacyError::Api(_)), "{err:?}"),
        }
        // A failed login is never "refresh and retry": logging in again is what failed.
        assert_eq!(err.class(), ErrorClass::NeverRetry, "{code}");
        let core: pardot_auth_core::Error = err.into();
        assert_eq!(core.code(), Some(code.to_string().as_str()));
        for secret in [PASSWORD, USER_KEY] {
            assert!(!core.to_string().contains(secret));
            assert!(!format!("{core:?}").contains(secret));
        }
    }
}

#[tokio::test]
async fn json_failure_answer() {
    let server = answering(ResponseTemplate::new(401).set_body_raw(
        r#"{"@attributes":{"stat":"fail","version":1,"err_code":15},"err":"Login failed"}"#,
        "application/json",
    ))
    .await;
    let err = login_error(login(&server).format(Format::Json)).await;
    assert!(
        matches!(&err, LegacyError::LoginFailed { message } if message == "Login failed"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_proxy_error_page_is_retryable_and_keeps_the_status() {
    let server = answering(ResponseTemplate::new(502).set_body_raw(
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
    ))
    .await;
    let err = login_error(login(&server)).await;
    assert!(
        matches!(err, LegacyError::Response { status: 502, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::RETRY);
}

#[tokio::test]
async fn answers_without_a_usable_key_or_version() {
    for (body, expected) in [
        (
            "<rsp stat=\"ok\" version=\"1.0\"></rsp>".to_owned(),
            "MissingApiKey",
        ),
        (
            "<rsp stat=\"ok\" version=\"1.0\"><api_key>has space</api_key></rsp>".to_owned(),
            "MissingApiKey",
        ),
        (
            format!(
                "<rsp stat=\"ok\" version=\"1.0\"><api_key>{API_KEY}</api_key><version>5</version></rsp>"
            ),
            "UnknownApiVersion",
        ),
    ] {
        let server = answering(xml(200, body)).await;
        let err = login_error(login(&server)).await;
        assert!(format!("{err:?}").starts_with(expected), "{err:?}");
        assert!(!err.to_string().contains(API_KEY));
    }
}

#[tokio::test]
async fn the_body_is_read_within_a_bound() {
    let server = answering(xml(200, format!("{}{}", ok_xml(false), " ".repeat(4096)))).await;
    let err = login_error(login(&server).max_body_bytes(1024)).await;
    assert!(
        matches!(err, LegacyError::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_timeout_runs_on_the_clock() {
    // Never answers within the test: only the manual clock can end the wait.
    let server = answering(xml(200, ok_xml(false)).set_delay(Duration::from_secs(3600))).await;
    let clock = ManualClock::new();
    let login = login(&server)
        .clock(clock.shared())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let attempt = tokio::spawn(async move { login.login().await });
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(20));
    let err = attempt.await.unwrap().unwrap_err();
    assert!(
        matches!(err, LegacyError::Timeout(d) if d == Duration::from_secs(20)),
        "{err:?}"
    );
    assert!(err.class() == ErrorClass::RETRY);
}

#[tokio::test]
async fn redirects_are_not_followed_by_the_default_client() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    // The client this crate builds (no `http_client`) must not carry the form to another host.
    let err = login_error(LegacyLogin::builder(credentials()).host(host(&server))).await;
    assert!(
        matches!(err, LegacyError::Response { status: 307, .. }),
        "{err:?}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn token_source_gives_a_60_minute_legacy_key_and_the_pardot_header() {
    let server = MockServer::start().await;
    answer_login(&server, 3, xml(200, ok_xml(false)), 2).await;
    let clock = ManualClock::new();
    let start = clock.now();
    let source = login(&server)
        .clock(clock.shared())
        .build()
        .unwrap()
        .into_shared();

    let token = source.token().await.unwrap();
    assert!(matches!(token.kind(), TokenKind::LegacyApiKey { .. }));
    assert_eq!(token.issued_at(), start);
    assert_eq!(
        token.expiry(),
        Expiry::Known(start + LEGACY_API_KEY_LIFETIME)
    );
    let scheme = AuthScheme::for_pardot(&token, None).unwrap();
    assert_eq!(scheme, AuthScheme::PardotApiKey);
    let headers = scheme.headers(&token).unwrap();
    assert_eq!(
        headers["authorization"],
        format!("Pardot api_key={API_KEY}, user_key={USER_KEY}").as_str()
    );

    // Pardot hands out the same key again while it lives: its expiry does not move.
    clock.advance(Duration::from_secs(10 * 60));
    let again = source.token().await.unwrap();
    assert_eq!(again.expires_at(), start + LEGACY_API_KEY_LIFETIME);
    assert!(again.is_same_as(&token));
}

#[tokio::test(flavor = "current_thread")]
async fn logs_and_spans_carry_no_secret() {
    let server = MockServer::start().await;
    answer_login(&server, 3, xml(200, ok_xml(true)), 1).await;
    let captured = LogCapture::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    login(&server).build().unwrap().login().await.unwrap();
    let text = captured.text();
    // (Span names are not asserted: tracing caches callsite interest per process, and other
    // tests running in parallel without a subscriber can disable a span callsite.)
    assert!(text.contains("legacy login succeeded"), "{text}");
    for secret in [API_KEY, PASSWORD, USER_KEY] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
