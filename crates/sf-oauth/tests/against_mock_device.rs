//! The device flow against `pardot-mock` in-process: sf-oauth's `DeviceFlow` polls on a
//! `ManualClock` shared with the mock; the test moves the clock only once the flow is asleep
//! (`wait_for_sleepers`), and scripts the user's decision with `approve_device` /
//! `deny_device` (or drives the `/setup/connect` pages). No real sleeps.

mod common;
mod support;

use std::time::Duration;

use common::client;
use pardot_auth_core::{AccessToken, Clock, Error, ErrorKind, LoginHost, ManualClock, TokenSource};
use pardot_mock::sign_in::{Consent, sign_in_device};
use pardot_mock::{MockConfig, MockError, Outcome, PardotMock, Route, fixtures as fx};
use sf_oauth::*;
use support::{
    ACCESS_DENIED, NOT_ADMIN_APPROVED, UNAPPROVED_USER, assert_oauth_error, assert_token_counts,
    assert_token_refusal, mock, mock_with, oauth_source,
};
use tokio::task::JoinHandle;

const CTX: &str = "device flow authentication";
const ONE_SECOND: Duration = Duration::from_secs(1);

fn host(mock: &PardotMock) -> LoginHost {
    LoginHost::custom(&mock.url()).unwrap()
}

/// The web app's device flow (the fixture interval is 1 s), with its secret.
fn web_device(mock: &PardotMock, clock: &ManualClock, scopes: &[&str]) -> DeviceFlow {
    DeviceFlow::new(host(mock), fx::WEB_CONSUMER_KEY)
        .with_client_secret(ClientSecret::new(fx::WEB_CONSUMER_SECRET))
        .with_scopes(scopes.iter().copied())
        .with_client(client(clock))
}

/// Starts polling in a task.
fn poll(flow: DeviceFlow, auth: DeviceAuthorization) -> JoinHandle<Result<AccessToken, Error>> {
    tokio::spawn(async move { flow.poll(&auth).await })
}

/// Asserts that `token` is `username`'s, by the mock's userinfo.
async fn assert_user(mock: &PardotMock, clock: &ManualClock, token: &AccessToken, username: &str) {
    let me = client(clock).userinfo(&host(mock), token).await.unwrap();
    assert_eq!(me.preferred_username, username);
}

/// The web app's device flow (scope `api`) started and polling, past its first
/// `authorization_pending`: the poll task, the user code and the page that takes it.
async fn polling_web_device(
    mock: &PardotMock,
    clock: &ManualClock,
) -> (JoinHandle<Result<AccessToken, Error>>, String, String) {
    let flow = web_device(mock, clock, &["api"]);
    let auth = flow.start().await.unwrap();
    let user_code = auth.user_code.clone();
    let page_url = format!("{}?user_code={user_code}", auth.verification_uri);
    let polling = poll(flow, auth);
    tick(clock, ONE_SECOND).await;
    assert_eq!(
        answered(clock, mock, Outcome::AuthorizationPending).await,
        1
    );
    (polling, user_code, page_url)
}

/// Once the flow waits on the clock, moves the clock by `by` (which lets one poll go).
async fn tick(clock: &ManualClock, by: Duration) {
    clock.wait_for_sleepers(1).await;
    clock.advance(by);
}

/// Waits until the poll just let go has been answered with something to keep polling for
/// (the flow is asleep again), and returns the mock's counts of device polls so far.
async fn answered(clock: &ManualClock, mock: &PardotMock, outcome: Outcome) -> u64 {
    clock.wait_for_sleepers(1).await;
    mock.counts().get(Route::OAuthToken, outcome)
}

/// The web user approves `user_code` on the mock; the next poll, `wait` later, gets the token.
async fn approved(
    mock: &PardotMock,
    clock: &ManualClock,
    (user_code, polling): (&str, JoinHandle<Result<AccessToken, Error>>),
    wait: Duration,
) -> AccessToken {
    mock.approve_device(user_code, fx::WEB_USERNAME).unwrap();
    tick(clock, wait).await;
    polling.await.unwrap().unwrap()
}

/// [`answered`]: the mock has told the flow `authorization_pending` `n` times so far.
async fn assert_pending(clock: &ManualClock, mock: &PardotMock, n: u64) {
    assert_eq!(
        answered(clock, mock, Outcome::AuthorizationPending).await,
        n
    );
}

#[tokio::test]
async fn start_then_pending_then_approved_by_script() {
    let (mock, clock) = mock().await;
    let flow = web_device(&mock, &clock, &["api", "refresh_token"]);
    let auth = flow.start().await.unwrap();
    assert_eq!(auth.user_code.len(), 8);
    assert!(
        auth.user_code
            .bytes()
            .all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)),
        "{}",
        auth.user_code
    );
    assert_eq!(
        auth.verification_uri,
        format!("{}/setup/connect", mock.url())
    );
    assert_eq!(auth.interval, ONE_SECOND, "the fixture app's interval");
    // Salesforce sends no expires_in: the flow assumes the documented 10 minutes.
    assert_eq!(auth.expires_at, clock.now() + DEFAULT_DEVICE_CODE_LIFETIME);
    assert!(format!("{auth:?}").contains("device_code: \"[redacted]\""));
    let device_starts = mock.counts().token_requests_ok();
    assert_eq!(device_starts, 1, "{:?}", mock.counts());

    let user_code = auth.user_code.clone();
    let started = clock.now();
    let polling = poll(flow, auth);
    tick(&clock, ONE_SECOND).await;
    assert_pending(&clock, &mock, 1).await;
    tick(&clock, ONE_SECOND).await;
    assert_pending(&clock, &mock, 2).await;
    assert!(!polling.is_finished());

    let token = approved(&mock, &clock, (&user_code, polling), ONE_SECOND).await;
    assert_eq!(clock.now(), started + 3 * ONE_SECOND);
    assert_eq!(token.issued_at(), clock.now());
    assert!(token.refresh_token().is_some(), "refresh_token was asked");
    assert_user(&mock, &clock, &token, fx::WEB_USERNAME).await;
    // The device code is used up.
    assert!(matches!(
        mock.approve_device(&user_code, fx::WEB_USERNAME),
        Err(MockError::UnknownUserCode(_))
    ));
    let counts = mock.counts();
    assert_token_counts(
        &mock,
        &[(Outcome::Ok, 2), (Outcome::AuthorizationPending, 2)],
    );
    assert_eq!(counts.route_total(Route::OAuthToken), 4);
}

#[tokio::test]
async fn denied_by_script() {
    let (mock, clock) = mock().await;
    let (polling, user_code, _) = polling_web_device(&mock, &clock).await;
    mock.deny_device(&user_code).unwrap();
    tick(&clock, ONE_SECOND).await;
    let err = polling.await.unwrap().unwrap_err();
    assert_token_refusal(&err, CTX, ACCESS_DENIED, OAuthErrorCode::AccessDenied);
    // A decided code cannot be decided again.
    assert!(mock.approve_device(&user_code, fx::WEB_USERNAME).is_err());
    let counts = mock.counts();
    assert_token_counts(&mock, &[(Outcome::AccessDenied, 1)]);
    assert_eq!(
        counts.get(Route::OAuthToken, Outcome::Ok),
        1,
        "only the start"
    );
}

/// The mock with the web app's device interval set to `secs`.
async fn mock_with_interval(secs: u64) -> (PardotMock, ManualClock) {
    let mut config = MockConfig::defaults();
    config
        .apps
        .iter_mut()
        .find(|a| a.consumer_key == fx::WEB_CONSUMER_KEY)
        .unwrap()
        .device_interval_secs = secs;
    mock_with(config).await
}

#[tokio::test]
async fn polls_at_the_server_interval() {
    let (mock, clock) = mock_with_interval(10).await;
    let interval = Duration::from_secs(10);
    let flow = web_device(&mock, &clock, &["api"]);
    let auth = flow.start().await.unwrap();
    assert_eq!(auth.interval, interval);
    let user_code = auth.user_code.clone();
    let polling = poll(flow, auth);
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(9));
    assert_eq!(clock.pending_sleeps(), 1, "not yet");
    clock.advance(ONE_SECOND);
    assert_pending(&clock, &mock, 1).await;
    approved(&mock, &clock, (&user_code, polling), interval).await;
    assert_token_counts(&mock, &[(Outcome::SlowDown, 0)]);
}

#[tokio::test]
async fn slow_down_makes_the_flow_poll_less_often() {
    let (mock, clock) = mock_with_interval(10).await;
    let flow = web_device(&mock, &clock, &["api"]);
    let mut auth = flow.start().await.unwrap();
    let user_code = auth.user_code.clone();
    // A client that polls every second although the server asked for 10.
    auth.interval = ONE_SECOND;
    let polling = poll(flow, auth);

    // t+1: the first poll is never too soon.
    tick(&clock, ONE_SECOND).await;
    assert_pending(&clock, &mock, 1).await;
    // t+2: too soon; the flow adds 5 s (6 s).
    tick(&clock, ONE_SECOND).await;
    assert_eq!(answered(&clock, &mock, Outcome::SlowDown).await, 1);
    clock.advance(Duration::from_secs(5));
    assert_eq!(clock.pending_sleeps(), 1, "waits 6 s now, not 1");
    // t+8: still sooner than 10 s after t+2; the flow waits 11 s.
    clock.advance(ONE_SECOND);
    assert_eq!(answered(&clock, &mock, Outcome::SlowDown).await, 2);
    clock.advance(Duration::from_secs(10));
    assert_eq!(clock.pending_sleeps(), 1, "waits 11 s now");
    // t+19: 11 s since the last poll, enough.
    clock.advance(ONE_SECOND);
    assert_pending(&clock, &mock, 2).await;
    let slowed_interval = Duration::from_secs(11);
    approved(&mock, &clock, (&user_code, polling), slowed_interval).await;
    let counts = mock.counts();
    assert_token_counts(&mock, &[(Outcome::SlowDown, 2)]);
    assert_eq!(
        counts.get(Route::OAuthToken, Outcome::Ok),
        2,
        "start and tokens"
    );
}

#[tokio::test]
async fn device_code_expires_after_10_minutes_on_the_mock_clock() {
    let (mock, clock) = mock().await;
    let (polling, user_code, _) = polling_web_device(&mock, &clock).await;
    // The next poll happens at 600 s after issue: the mock has expired the code.
    clock.advance(Duration::from_secs(599));
    let err = polling.await.unwrap().unwrap_err();
    let expired = ("expired_token", "device code expired");
    assert_token_refusal(&err, CTX, expired, OAuthErrorCode::ExpiredToken);
    // The code is forgotten: nobody can approve it any more.
    assert!(matches!(
        mock.approve_device(&user_code, fx::WEB_USERNAME),
        Err(MockError::UnknownUserCode(_))
    ));
    assert_token_counts(&mock, &[(Outcome::ExpiredToken, 1)]);
}

#[tokio::test]
async fn stops_at_its_own_timeout_on_the_clock() {
    let (mock, clock) = mock().await;
    let flow = web_device(&mock, &clock, &["api"]).with_timeout(Duration::from_secs(3));
    let auth = flow.start().await.unwrap();
    let started = clock.now();
    let polling = poll(flow, auth);
    for n in 1..=2 {
        tick(&clock, ONE_SECOND).await;
        assert_eq!(
            answered(&clock, &mock, Outcome::AuthorizationPending).await,
            n
        );
    }
    // The third poll is the last that fits in 3 s.
    tick(&clock, ONE_SECOND).await;
    let err = polling.await.unwrap().unwrap_err();
    assert_eq!(clock.now(), started + Duration::from_secs(3));
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.context(), Some(CTX));
    assert!(err.to_string().contains("timed out after 3s"), "{err}");
    assert!(matches!(oauth_source(&err), OAuthError::Timeout(d) if *d == Duration::from_secs(3)));
    assert_token_counts(&mock, &[(Outcome::AuthorizationPending, 3)]);
}

#[tokio::test]
async fn as_a_token_source_with_a_prompt() {
    let (mock, clock) = mock().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let flow = web_device(&mock, &clock, &["api"]).with_prompt(move |auth| {
        tx.send((auth.user_code.clone(), auth.verification_uri.clone()))
            .unwrap();
    });
    let running = tokio::spawn(async move { flow.token().await });
    let (user_code, uri) = rx.recv().await.unwrap();
    assert_eq!(uri, format!("{}/setup/connect", mock.url()));
    // People type codes in lower case with a dash; the mock accepts that too.
    let typed = format!(
        "{}-{}",
        user_code[..4].to_lowercase(),
        user_code[4..].to_lowercase()
    );
    mock.approve_device(&typed, fx::INTEGRATION_USERNAME)
        .unwrap();
    tick(&clock, ONE_SECOND).await;
    let token = running.await.unwrap().unwrap();
    assert_user(&mock, &clock, &token, fx::INTEGRATION_USERNAME).await;
}

#[tokio::test]
async fn approved_on_the_setup_connect_pages() {
    let (mock, clock) = mock().await;
    let (polling, _, page_url) = polling_web_device(&mock, &clock).await;

    // The user code page, then the login page, then (for a user who never approved the
    // app) Allow/Deny.
    let approved = sign_in_device(
        &page_url,
        UNAPPROVED_USER.0,
        UNAPPROVED_USER.1,
        Consent::Allow,
    )
    .await
    .unwrap();
    assert!(approved.consent_shown, "{approved:?}");

    tick(&clock, ONE_SECOND).await;
    let token = polling.await.unwrap().unwrap();
    assert_user(&mock, &clock, &token, fx::UNAPPROVED_USERNAME).await;
    assert_eq!(
        mock.counts().get(Route::OAuthDevice, Outcome::Ok),
        1,
        "{:?}",
        mock.counts()
    );
}

#[tokio::test]
async fn unknown_client_wrong_secret_and_admin_approved_app() {
    let (mock, clock) = mock().await;

    let err = DeviceFlow::new(host(&mock), "3MVG9.unknown.consumer.key")
        .with_client(client(&clock))
        .start()
        .await
        .unwrap_err();
    assert_oauth_error(
        &err,
        CTX,
        ("invalid_client_id", "client identifier invalid"),
    );

    // The secret is sent with each poll: a wrong one ends the flow at the first poll.
    let flow = DeviceFlow::new(host(&mock), fx::WEB_CONSUMER_KEY)
        .with_client_secret(ClientSecret::new("not-the-secret"))
        .with_client(client(&clock));
    let auth = flow.start().await.unwrap();
    let polling = poll(flow, auth);
    tick(&clock, ONE_SECOND).await;
    let err = polling.await.unwrap().unwrap_err();
    assert_oauth_error(&err, CTX, ("invalid_client", "invalid client credentials"));
    assert!(!format!("{err:?}").contains("not-the-secret"));

    // The JWT app admits only pre-authorized users; its interval is the default 5 s.
    let flow = DeviceFlow::new(host(&mock), fx::JWT_CONSUMER_KEY)
        .with_scopes(["api"])
        .with_client(client(&clock));
    let auth = flow.start().await.unwrap();
    assert_eq!(auth.interval, DEFAULT_POLL_INTERVAL);
    mock.approve_device(&auth.user_code, fx::UNAPPROVED_USERNAME)
        .unwrap();
    let polling = poll(flow, auth);
    tick(&clock, DEFAULT_POLL_INTERVAL).await;
    let err = polling.await.unwrap().unwrap_err();
    assert_oauth_error(&err, CTX, NOT_ADMIN_APPROVED);
    assert!(err.help().unwrap().contains("administrator"));

    assert_token_counts(
        &mock,
        &[
            (Outcome::InvalidClientId, 1),
            (Outcome::InvalidClient, 1),
            (Outcome::InvalidAppAccess, 1),
        ],
    );
    let starts = mock.counts().token_requests_ok();
    assert_eq!(starts, 2, "the two starts");
}
