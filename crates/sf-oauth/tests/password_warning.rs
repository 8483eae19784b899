//! The username-password flow warns once per process that it is being retired.
//! (Its own test binary: the warning is process-wide.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use pardot_auth_core::{LoginHost, ManualClock};
use sf_oauth::{ClientSecret, Password, UsernamePassword};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn warns_once_per_process_and_logs_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .unwrap();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!(
            {"error":"invalid_grant","error_description":"authentication failure"}
        )))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let flow = UsernamePassword::new(
        LoginHost::custom(&server.uri()).unwrap(),
        "key",
        ClientSecret::new("SECRET-consumer"),
        "user@example.com",
        Password::new("SECRET-password"),
    )
    .with_security_token(Password::new("SECRET-token"))
    .with_client(common::client(&clock));
    for _ in 0..3 {
        flow.authenticate().await.unwrap_err();
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logs.matches("being retired").count(), 1, "{logs}");
    assert!(logs.contains("JWT bearer"), "{logs}");
    assert!(!logs.contains("SECRET"), "{logs}");
}
