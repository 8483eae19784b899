//! Assertions for the typed errors of sf-oauth. (The mock's login pages are driven by
//! `pardot_mock::sign_in`.)
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use pardot_auth_core::{AccessToken, Clock, Error, ErrorClass, ErrorKind, LoginHost, ManualClock};
use pardot_mock::sign_in::{Callback, Consent, SignInError, sign_in};
use pardot_mock::{MockConfig, Outcome, PardotMock, Route, fixtures};
use sf_oauth::{
    ClientSecret, OAuthClient, OAuthError, OAuthErrorCode, RefreshToken, RefreshTokenFlow,
};

/// A mock on a manual clock the test shares with the client.
pub async fn mock() -> (PardotMock, ManualClock) {
    mock_with(MockConfig::defaults()).await
}

/// [`mock`] serving `config`.
pub async fn mock_with(config: MockConfig) -> (PardotMock, ManualClock) {
    let clock = ManualClock::new();
    let builder = PardotMock::builder().config(config).clock(&clock);
    (builder.start().await.unwrap(), clock)
}

/// A user of the mock's login pages: `(username, password)`.
pub type User = (&'static str, &'static str);
/// The web user, who approved the web app.
pub const WEB_USER: User = (fixtures::WEB_USERNAME, fixtures::WEB_PASSWORD);
/// A user who has not approved the web app: the consent page comes after the login.
pub const UNAPPROVED_USER: User = (fixtures::UNAPPROVED_USERNAME, fixtures::UNAPPROVED_PASSWORD);
/// The integration user.
pub const INTEGRATION_USER: User = (
    fixtures::INTEGRATION_USERNAME,
    fixtures::INTEGRATION_PASSWORD,
);
/// The sandbox user, who signs in on the sandbox host only.
pub const SANDBOX_USER: User = (fixtures::SANDBOX_USERNAME, fixtures::SANDBOX_PASSWORD);

/// Signs in as `user` on the mock's pages at `authorize` through `pardot_mock::sign_in`.
pub async fn sign_in_as(
    authorize: &str,
    (username, password): User,
    consent: Consent,
) -> Result<Callback, SignInError> {
    sign_in(authorize, username, password, consent).await
}

/// An OAuth error answer: its `error` code and its `error_description`.
pub type Refusal = (&'static str, &'static str);

/// The user said no on the consent page.
pub const ACCESS_DENIED: Refusal = ("access_denied", "end-user denied authorization");
/// A user an admin-approved app does not list.
pub const NOT_ADMIN_APPROVED: Refusal = (
    "invalid_app_access",
    "user is not admin approved to access this app",
);

/// Checks a core error that carries a server or redirect OAuth error that is never retried:
/// its text, code, message, class and kind, and that its `source()` is the typed
/// [`OAuthError`], which is returned for further matching.
pub fn assert_oauth_error<'a>(
    err: &'a Error,
    context: &str,
    (code, description): Refusal,
) -> &'a OAuthError {
    let class = ErrorClass::NeverRetry;
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{context} failed: {code}: {description}")),
        "{text}"
    );
    assert_eq!(err.code(), Some(code), "{text}");
    assert_eq!(err.message(), description, "{text}");
    assert_eq!(err.context(), Some(context), "{text}");
    assert_eq!(err.class(), class, "{text}");
    assert_eq!(err.kind(), ErrorKind::Server, "{text}");
    let source = std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<OAuthError>())
        .unwrap_or_else(|| panic!("source is an OAuthError: {err:?}"));
    assert_eq!(source.code().map(|c| c.as_str()), Some(code), "{source:?}");
    assert_eq!(source.class(), class);
    source
}

/// [`assert_oauth_error`] of an answer from the token endpoint: a `400` without
/// `Retry-After` carrying `code`; the typed error is returned for further matching.
#[track_caller]
pub fn assert_token_refusal<'a>(
    err: &'a Error,
    context: &str,
    refusal: Refusal,
    code: OAuthErrorCode,
) -> &'a OAuthError {
    let source = assert_oauth_error(err, context, refusal);
    assert!(
        matches!(
            source,
            OAuthError::Server { status: 400, error, retry_after: None, .. } if *error == code
        ),
        "{source:?}"
    );
    source
}

/// A token the client sees expire on the shared `clock`: accepted by the userinfo endpoint of
/// `host` until its last second, refused as a stale token from then on.
pub async fn assert_expires_on_the_clock(
    client: &OAuthClient,
    clock: &ManualClock,
    host: &LoginHost,
    token: &AccessToken,
) {
    clock.advance(token.lifetime() - Duration::from_secs(1));
    client.userinfo(host, token).await.unwrap();
    clock.advance(Duration::from_secs(1));
    assert!(token.is_expired(clock.now()));
    let err = client.userinfo(host, token).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry, "{err}");
}

/// The typed source of a core error.
pub fn oauth_source(err: &Error) -> &OAuthError {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<OAuthError>())
        .unwrap_or_else(|| panic!("source is an OAuthError: {err:?}"))
}

/// Asserts the mock's request counts, one `(route, outcome, expected)` a row, showing all the
/// counts when one differs.
#[track_caller]
pub fn assert_counts(mock: &PardotMock, expected: &[(Route, Outcome, u64)]) {
    let counts = mock.counts();
    for &(route, outcome, n) in expected {
        assert_eq!(
            counts.get(route, outcome),
            n,
            "{route:?} {outcome:?}: {counts:?}"
        );
    }
}

/// [`assert_counts`] of one route: `(outcome, expected)` a row.
#[track_caller]
pub fn assert_route_counts(mock: &PardotMock, route: Route, expected: &[(Outcome, u64)]) {
    let rows: Vec<_> = expected.iter().map(|&(o, n)| (route, o, n)).collect();
    assert_counts(mock, &rows);
}

/// [`assert_route_counts`] of the token endpoint.
#[track_caller]
pub fn assert_token_counts(mock: &PardotMock, expected: &[(Outcome, u64)]) {
    assert_route_counts(mock, Route::OAuthToken, expected);
}

/// A connected app's `(consumer key, secret)`.
pub type App = (&'static str, &'static str);
/// The web app, which keeps its refresh tokens.
pub const WEB_APP: App = (fixtures::WEB_CONSUMER_KEY, fixtures::WEB_CONSUMER_SECRET);
/// The app that rotates its refresh tokens.
pub const ROTATING_APP: App = (
    fixtures::ROTATING_CONSUMER_KEY,
    fixtures::ROTATING_CONSUMER_SECRET,
);

/// The refresh flow of `app` (with its secret) for `refresh_token` on `host`, through `client`.
pub fn refresh_flow(
    host: LoginHost,
    (consumer_key, secret): App,
    refresh_token: impl Into<String>,
    client: OAuthClient,
) -> RefreshTokenFlow {
    RefreshTokenFlow::new(host, consumer_key, RefreshToken::new(refresh_token.into()))
        .with_client_secret(ClientSecret::new(secret))
        .with_client(client)
}
