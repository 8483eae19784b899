//! Answers no honest server sends: numbers out of range and insecure endpoints. Each must
//! end in a classified error (or a bounded wait), never a panic.

mod common;

use std::sync::Arc;

use common::*;
use pardot_auth_core::{ErrorClass, ErrorKind, LoginHost, ManualClock, TokenSource};
use serde_json::json;
use sf_oauth::*;
use wiremock::{MockServer, ResponseTemplate};

fn host(server: &MockServer) -> LoginHost {
    LoginHost::custom(&server.uri()).unwrap()
}

#[tokio::test]
async fn mci_expires_in_beyond_any_date_is_an_invalid_response() {
    let server = MockServer::start().await;
    let answer = json!({"access_token":"eyJraWQ.mci","expires_in":u64::MAX});
    let answer = ResponseTemplate::new(200).set_body_json(answer);
    answer_with(&server, "POST", "/us1/token", answer).await;
    let clock = ManualClock::new();
    let flow = mci_without_discovery(&server, "/us1/token", "mci-service-account.key", &clock);
    let err = flow.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.to_string().contains("expires_in"), "{err}");
    assert!(!err.to_string().contains("eyJraWQ.mci"), "{err}");
}

#[tokio::test]
async fn mci_discovery_pointing_to_plain_http_on_a_public_host_is_refused() {
    let server = MockServer::start().await;
    let discovery = json!({"token_endpoint": "http://idp.example.com/us1/token"});
    let answer = ResponseTemplate::new(200).set_body_json(discovery);
    answer_with(
        &server,
        "GET",
        "/us1/.well-known/openid-configuration",
        answer,
    )
    .await;
    let clock = ManualClock::new();
    let flow = MciServiceAccount::new(
        format!("{}/us1/.well-known/openid-configuration", server.uri())
            .parse()
            .unwrap(),
        "sa",
        key("mci-service-account.key"),
    )
    .with_client(client(&clock));
    let err = flow.token().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::CallerBug, "{err}");
    assert!(err.to_string().contains("https"), "{err}");
    // Only the discovery document was read: nothing was posted to the plain-http endpoint.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn device_expires_in_beyond_any_date_is_an_invalid_response() {
    let server = device_server(device_start(5, u64::MAX), vec![pending()]).await;
    let clock = ManualClock::new();
    let flow = DeviceFlow::new(host(&server), "k").with_client(client(&clock));
    let err = flow.start().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.to_string().contains("expires_in"), "{err}");
}

#[tokio::test]
async fn device_interval_beyond_any_date_ends_in_a_timeout_without_polling() {
    let server = device_server(device_start(u64::MAX, 60), vec![pending()]).await;
    let clock = ManualClock::new();
    let flow = Arc::new(DeviceFlow::new(host(&server), "k").with_client(client(&clock)));
    let auth = flow.start().await.unwrap();
    let err = flow.poll(&auth).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn echoed_secrets_in_error_answers_are_redacted_and_bounded() {
    let refresh = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJ2Hdo4uXfAvUtr0fJdN9yVQ2qKV4xWz";
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIzTVZHOSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
    let long = "word ".repeat(10_000);
    for (status, body) in [
        // A proxy echoing the posted form.
        (
            400,
            format!("bad request: grant_type=refresh_token&refresh_token={refresh}"),
        ),
        // An OAuth error whose description echoes the assertion, and an overlong one.
        (
            400,
            json!({"error":"invalid_grant","error_description":format!("bad assertion {assertion}")})
                .to_string(),
        ),
        (
            400,
            json!({"error":"invalid_grant","error_description":long}).to_string(),
        ),
        (
            400,
            json!({"error":format!("x{refresh}"),"error_description":"d"}).to_string(),
        ),
    ] {
        let server = MockServer::start().await;
        let answer = ResponseTemplate::new(status).set_body_string(body);
        answer_with(&server, "POST", "/services/oauth2/token", answer).await;
        let clock = ManualClock::new();
        let flow = RefreshTokenFlow::new(host(&server), "k", RefreshToken::new(refresh))
            .with_client(client(&clock));
        let err = flow.token().await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("5Aep861TSESvWeug"), "{text}");
        assert!(!text.contains("c2lnbmF0dXJl"), "{text}");
        assert!(text.len() < 4096, "{} bytes", text.len());
    }
}

#[test]
fn a_private_key_file_is_read_only_up_to_a_bound() {
    let path = std::env::temp_dir().join(format!("sf-oauth-big-key-{}.pem", std::process::id()));
    let big = vec![b'A'; usize::try_from(MAX_PEM_FILE_BYTES).unwrap() + 1];
    std::fs::write(&path, big).unwrap();
    let err = PrivateKey::from_pem_file(&path).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    assert!(err.contains("larger than"), "{err}");
    // A real key still loads.
    PrivateKey::from_pem_file(format!(
        "{}/connected-app.key",
        pardot_mock::fixtures::KEYS_DIR
    ))
    .unwrap();
}

#[tokio::test]
async fn an_unusable_discovered_token_endpoint_is_quoted_bounded() {
    let server = MockServer::start().await;
    let discovery = json!({"token_endpoint": format!("not a url {}", "y ".repeat(20_000))});
    answer_with(
        &server,
        "GET",
        "/d",
        ResponseTemplate::new(200).set_body_json(discovery),
    )
    .await;
    let clock = ManualClock::new();
    let flow = MciServiceAccount::new(
        format!("{}/d", server.uri()).parse().unwrap(),
        "sa",
        key("mci-service-account.key"),
    )
    .with_client(client(&clock));
    let err = flow.token().await.unwrap_err().to_string();
    assert!(err.contains("token_endpoint"), "{err}");
    assert!(err.len() < 1024, "{} bytes", err.len());
}
