//! What the transport logs: spans and events for fetch, refresh and retry, and no secret.
//! Alone in its binary so that the global subscriber sees every event.

use std::sync::Arc;
use std::time::Duration;

use pardot_auth_core::testing::{CountingSource, LogCapture};
use pardot_auth_core::{ManualClock, PardotHost};
use pardot_http::PardotClient;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "current_thread")]
async fn logs_tell_the_story_without_a_secret() {
    let captured = LogCapture::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start().await;
    Mock::given(path("/api/v5/objects/prospects"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(r#"{"code":184,"message":"access_token is invalid"}"#),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/v5/objects/prospects"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v5/objects/prospects"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"values":[]}"#))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let source = CountingSource::new(clock.shared());
    let c = PardotClient::builder(Arc::new(source), PardotHost::custom(&server.uri()).unwrap())
        .business_unit("0Uv5A000000PAuMSAW".parse().unwrap())
        .clock(clock.shared())
        .no_proxy()
        .build()
        .unwrap();
    let call = tokio::spawn({
        let c = c.clone();
        async move { c.get("/api/v5/objects/prospects").send().await }
    });
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(call.await.unwrap().unwrap().attempts(), 3);

    let text = captured.text();
    for expected in [
        "pardot_http.request",
        "pardot_http.token_fetch",
        "token fetched",
        "refreshing once and retrying once",
        "retrying after a wait",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains("tok-1") && !text.contains("tok-2"),
        "a token leaked:\n{text}"
    );
}
