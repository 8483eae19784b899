//! The loopback callback receiver: binding, state checks, error redirects, timeouts.

mod common;

use std::time::Duration;

use common::{http, http_get};
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{Error, ErrorClass, ErrorKind, ManualClock};
use sf_oauth::{AuthorizationCode, CallbackReceiver, CsrfState, RedirectUrl};
use tokio::task::JoinHandle;

async fn bound(uri: &str) -> CallbackReceiver {
    CallbackReceiver::bind(&RedirectUrl::new(uri).unwrap())
        .await
        .unwrap()
}

/// The receiver got a redirect with `code`.
async fn assert_received(waiting: JoinHandle<Result<AuthorizationCode, Error>>, code: &str) {
    let received = waiting.await.unwrap().unwrap();
    assert_eq!(received.secret().expose_secret(), code);
}

/// `receiver` waiting (spawned) up to `timeout` on a manual clock for a redirect with the
/// state `state`.
fn waiting(
    receiver: CallbackReceiver,
    state: &str,
    timeout: Duration,
) -> (JoinHandle<Result<AuthorizationCode, Error>>, ManualClock) {
    let clock = ManualClock::new();
    let state = CsrfState::new(state);
    let received = tokio::spawn(receiver.receive(&state, timeout, clock.shared()));
    (received, clock)
}

#[tokio::test]
async fn localhost_binds_ipv4_loopback_and_reports_the_port() {
    let receiver = bound("http://localhost:0/oauth/callback").await;
    let url = receiver.redirect_url().url().clone();
    assert_eq!(url.host_str(), Some("localhost"));
    assert_eq!(url.path(), "/oauth/callback");
    let port = url.port().unwrap();
    assert_ne!(port, 0);
    // The socket is on 127.0.0.1 (not 0.0.0.0): connect there explicitly.
    let (waiting, _clock) = waiting(receiver, "s-1", Duration::from_secs(60));
    let page = http_get(format!(
        "http://127.0.0.1:{port}/oauth/callback?code=c%3D%3D&state=s-1"
    ))
    .await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("You can close this window")
    );
    assert_received(waiting, "c==").await;
}

#[tokio::test]
async fn ipv6_loopback_binds_ipv6() {
    let receiver = bound("http://[::1]:0/cb").await;
    let url = receiver.redirect_url().url().clone();
    assert_eq!(url.host_str(), Some("[::1]"));
    let (waiting, _clock) = waiting(receiver, "st", Duration::from_secs(60));
    let page = http_get(format!("{url}?code=abc&state=st")).await;
    assert_eq!(page.status(), 200);
    assert_received(waiting, "abc").await;
}

#[tokio::test]
async fn other_paths_do_not_count_and_state_must_match() {
    let receiver = bound("http://127.0.0.1:0/cb").await;
    let url = receiver.redirect_url().to_string();
    let (waiting, _clock) = waiting(receiver, "ours", Duration::from_secs(60));
    let base = url.trim_end_matches("/cb");
    let favicon = http_get(format!("{base}/favicon.ico")).await;
    assert_eq!(favicon.status(), 404);
    let forged = http_get(format!("{url}?code=stolen&state=not-ours")).await;
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("state mismatch"));
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    assert!(err.to_string().contains("state does not match"), "{err}");
    assert!(!err.to_string().contains("stolen"));
}

#[tokio::test]
async fn error_redirects_are_reported() {
    let receiver = bound("http://127.0.0.1:0/cb").await;
    let url = receiver.redirect_url().to_string();
    let (waiting, _clock) = waiting(receiver, "st", Duration::from_secs(60));
    let page = http_get(format!(
        "{url}?error=access_denied&error_description=end-user+denied+authorization&state=st"
    ))
    .await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("end-user denied authorization")
    );
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some("access_denied"));
    assert_eq!(
        err.to_string(),
        "web server flow callback failed: access_denied: end-user denied authorization"
    );
}

#[tokio::test]
async fn times_out_on_the_clock() {
    let receiver = bound("http://127.0.0.1:0/cb").await;
    let (waiting, clock) = waiting(receiver, "st", Duration::from_secs(300));
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(299));
    assert_eq!(clock.pending_sleeps(), 1);
    clock.advance(Duration::from_secs(1));
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn oversized_requests_are_refused_without_counting() {
    let receiver = bound("http://127.0.0.1:0/cb").await;
    let url = receiver.redirect_url().to_string();
    let (waiting, _clock) = waiting(receiver, "st", Duration::from_secs(60));
    let huge = "a".repeat(64 * 1024);
    let refused = http()
        .get(format!("{url}?code={huge}&state=st"))
        .send()
        .await;
    // hyper answers 431 or drops the connection: either way no code is taken from it.
    if let Ok(response) = refused {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let ok = http_get(format!("{url}?code=small&state=st")).await;
    assert_eq!(ok.status(), 200);
    assert_received(waiting, "small").await;
}

#[tokio::test]
async fn non_loopback_redirects_cannot_be_received() {
    for uri in ["https://app.example.com/cb", "https://localhost:8443/cb"] {
        let err = CallbackReceiver::bind(&RedirectUrl::new(uri).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::CallerBug, "{uri}: {err}");
    }
}
