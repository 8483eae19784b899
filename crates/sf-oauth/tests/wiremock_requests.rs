//! Pins the exact request each flow sends (method, path, content type, every form field,
//! JWT claims) and how each reads the answer, against wiremock.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use common::*;
use hmac::{KeyInit, Mac};
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{
    Clock, ErrorClass, Expiry, LoginHost, ManualClock, TokenKind, TokenSource, clock::unix_seconds,
};
use serde_json::json;
use sf_oauth::*;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FORM: &str = "application/x-www-form-urlencoded";
const ID_URL: &str = "https://login.salesforce.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ";

fn sign(secret: &str, msg: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A signed Salesforce token answer (password, code, refresh, client credentials, device).
fn signed_body(secret: &str, issued_ms: u128, extra: serde_json::Value) -> serde_json::Value {
    let issued = issued_ms.to_string();
    let mut body = json!({
        "access_token": "00D50000000IZ3Z!AQgAQH0Yd9M5",
        "instance_url": "https://na1.salesforce.com",
        "id": ID_URL,
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": sign(secret, &format!("{ID_URL}{issued}")),
        "scope": "api pardot_api",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

async fn token_mock(server: &MockServer, status: u16, body: serde_json::Value) {
    let answer = ResponseTemplate::new(status).set_body_json(body);
    answer_with(server, "POST", "/services/oauth2/token", answer).await;
}

/// Starts the device flow of the app `k` on `server` and polls it to the end (spawned).
fn start_and_poll(
    server: &MockServer,
    clock: &ManualClock,
) -> tokio::task::JoinHandle<Result<pardot_auth_core::AccessToken, pardot_auth_core::Error>> {
    let flow = DeviceFlow::new(host(server), "k").with_client(client(clock));
    tokio::spawn(async move {
        let auth = flow.start().await?;
        flow.poll(&auth).await
    })
}

/// The password flow of the app `(key, secret)` for `(username, password)` on `server`.
fn password_flow(
    server: &MockServer,
    (key, secret): (&str, &str),
    (username, password): (&'static str, &'static str),
    clock: &ManualClock,
) -> UsernamePassword {
    let secret = ClientSecret::new(secret);
    UsernamePassword::new(host(server), key, secret, username, Password::new(password))
        .with_client(client(clock))
}

/// A login server answering every token request with `status` and `body`.
async fn token_server(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    token_mock(&server, status, body).await;
    server
}

async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

/// The one request the server got, a form POST to the token endpoint, and its form.
async fn only_token_request(server: &MockServer) -> (wiremock::Request, BTreeMap<String, String>) {
    let req = only_request(server).await;
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/services/oauth2/token");
    assert_eq!(content_type(&req), FORM);
    let f = form(&req.body);
    (req, f)
}

/// [`only_token_request`], carrying exactly `fields` (names and values).
async fn assert_only_token_request(server: &MockServer, fields: &[(&str, &str)]) {
    let (_, f) = only_token_request(server).await;
    let mut names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    assert_eq!(keys_of(&f), names);
    for (name, value) in fields {
        assert_eq!(f[*name], *value, "{name}");
    }
}

fn host(server: &MockServer) -> LoginHost {
    LoginHost::custom(&server.uri()).unwrap()
}

#[tokio::test]
async fn jwt_bearer_request_and_token() {
    let answer = json!({"access_token":"00Dxx!AR8AQ","scope":"web api pardot_api","instance_url":"https://acme.my.salesforce.com","id":ID_URL,"token_type":"Bearer"});
    let server = token_server(200, answer).await;
    let clock = ManualClock::new();
    let flow = JwtBearer::new(
        host(&server),
        "3MVG9-key",
        "api@example.com",
        key("connected-app.key"),
    )
    .with_client(client(&clock));
    let token = flow.token().await.unwrap();

    let (_, f) = only_token_request(&server).await;
    assert_eq!(keys_of(&f), ["assertion", "grant_type"]);
    assert_eq!(
        f["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let (header, claims) = decode_jwt(&f["assertion"], "connected-app.crt");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let now = unix_seconds(clock.now());
    assert_eq!(
        claims,
        json!({"iss":"3MVG9-key","sub":"api@example.com","aud":server.uri(),"exp":now + 180})
    );

    assert!(matches!(token.kind(), TokenKind::SalesforceBearer));
    assert_eq!(token.secret().expose_secret(), "00Dxx!AR8AQ");
    assert_eq!(token.issued_at(), clock.now());
    assert_eq!(
        token.expiry(),
        Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION)
    );
    assert_eq!(
        token.instance_url().unwrap().as_str(),
        "https://acme.my.salesforce.com/"
    );
    assert_eq!(token.identity_url(), Some(ID_URL));
    assert!(token.scopes().unwrap().allows_pardot());
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn jwt_bearer_pkcs1_key_audience_override_and_session_estimate() {
    let server = token_server(200, json!({"access_token":"tok","id":ID_URL})).await;
    let clock = ManualClock::new();
    let client = OAuthClient::builder()
        .clock(clock.shared())
        .no_proxy()
        .session_estimate(Duration::from_secs(900))
        .build()
        .unwrap();
    let flow = JwtBearer::new(
        host(&server),
        "k",
        "u@x.com",
        key("connected-app.pkcs1.key"),
    )
    .with_client(client)
    .with_audience("https://test.salesforce.com")
    .with_assertion_lifetime(Duration::from_secs(60));
    let token = flow.authenticate().await.unwrap();
    assert_eq!(token.lifetime(), Duration::from_secs(900));
    let f = form(&only_request(&server).await.body);
    let (_, claims) = decode_jwt(&f["assertion"], "connected-app.crt");
    assert_eq!(claims["aud"], "https://test.salesforce.com");
    assert_eq!(claims["exp"], unix_seconds(clock.now()) + 60);
}

#[tokio::test]
async fn jwt_bearer_known_errors_explain_the_fix() {
    for (description, hint) in [
        ("audience is invalid", "test.salesforce.com"),
        ("user hasn't approved this consumer", "pre-authorized"),
    ] {
        let server = token_server(
            400,
            json!({"error":"invalid_grant","error_description":description}),
        )
        .await;
        let clock = ManualClock::new();
        let flow = JwtBearer::new(host(&server), "k", "u@x.com", key("connected-app.key"))
            .with_client(client(&clock));
        let err = flow.token().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "JWT bearer authentication failed: invalid_grant: {description} ("
            )),
            "{text}"
        );
        assert!(err.help().unwrap().contains(hint), "{text}");
        assert_eq!(err.class(), ErrorClass::NeverRetry);
        let source = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<OAuthError>())
            .unwrap();
        assert_eq!(source.code(), Some(&OAuthErrorCode::InvalidGrant));
    }
}

#[tokio::test]
async fn username_password_request_and_signature_check() {
    let clock = ManualClock::new();
    let issued = pardot_auth_core::clock::unix_millis(clock.now()) - 1500;
    let server = token_server(200, signed_body("consumer-secret", issued, json!({}))).await;
    let app = ("3MVG9-key", "consumer-secret");
    let flow = password_flow(&server, app, ("api@example.com", "hunter2"), &clock)
        .with_security_token(Password::new("TOKEN123"));
    let token = flow.token().await.unwrap();
    assert_eq!(
        token.issued_at(),
        std::time::UNIX_EPOCH + Duration::from_millis(issued as u64)
    );

    assert_only_token_request(
        &server,
        &[
            ("grant_type", "password"),
            ("client_id", "3MVG9-key"),
            ("client_secret", "consumer-secret"),
            ("username", "api@example.com"),
            ("password", "hunter2TOKEN123"),
        ],
    )
    .await;

    // A signature made with another secret is refused.
    let server = token_server(200, signed_body("another-secret", issued, json!({}))).await;
    let flow = password_flow(&server, ("k", "consumer-secret"), ("u", "p"), &clock);
    let err = flow.token().await.unwrap_err();
    assert!(
        err.to_string().contains("signature does not match"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::NeverRetry);
}

#[tokio::test]
async fn web_server_authorize_url_and_code_exchange() {
    let server = MockServer::start().await;
    let clock = ManualClock::new();
    let issued = pardot_auth_core::clock::unix_millis(clock.now());
    token_mock(
        &server,
        200,
        signed_body(
            "s3",
            issued,
            json!({"refresh_token":"5Aep861-refresh","scope":"api refresh_token"}),
        ),
    )
    .await;
    let redirect = RedirectUrl::new("http://localhost:7777/callback").unwrap();
    let flow = WebServerFlow::new(host(&server), "3MVG9-key", redirect)
        .with_client_secret(ClientSecret::new("s3"))
        .with_scopes(["api", "refresh_token"])
        .with_client(client(&clock));
    let ((url, state), verifier) = flow
        .authorize_url()
        .prompt("login consent")
        .login_hint("me@example.com")
        .build();
    assert_eq!(url.path(), "/services/oauth2/authorize");
    assert!(url.as_str().starts_with(&server.uri()));
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query_names(&url),
        [&AUTHORIZE_FIELDS[..], &["prompt", "login_hint"]].concat()
    );
    let get = |k: &str| q.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("response_type"), "code");
    assert_eq!(get("client_id"), "3MVG9-key");
    assert_eq!(get("redirect_uri"), "http://localhost:7777/callback");
    assert_eq!(get("scope"), "api refresh_token");
    assert_eq!(get("state"), state.secret().expose_secret());
    assert_eq!(get("code_challenge"), verifier.challenge());
    assert_eq!(get("code_challenge_method"), "S256");
    assert_eq!(get("prompt"), "login consent");
    assert_eq!(get("login_hint"), "me@example.com");
    let verifier_text = verifier.secret().expose_secret().to_owned();

    let token = flow
        .exchange_code(AuthorizationCode::new("aPrx==code"), verifier)
        .await
        .unwrap();
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        "5Aep861-refresh"
    );
    assert_only_token_request(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", "aPrx==code"),
            ("client_id", "3MVG9-key"),
            ("client_secret", "s3"),
            ("redirect_uri", "http://localhost:7777/callback"),
            ("code_verifier", &verifier_text),
        ],
    )
    .await;
}

#[tokio::test]
async fn web_server_flow_as_token_source_over_the_loopback_receiver() {
    let server = token_server(200, json!({"access_token":"tok-web","id":ID_URL})).await;
    let clock = ManualClock::new();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let flow = WebServerFlow::new(
        host(&server),
        "k",
        RedirectUrl::new("http://127.0.0.1:0/cb").unwrap(),
    )
    .with_client(client(&clock))
    .on_authorize_url(move |url| {
        // Play the browser after Salesforce's redirect: echo state back with a code.
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let callback = format!("{}?code=the-code&state={}", q["redirect_uri"], q["state"]);
        *seen2.lock().unwrap() = Some(q["redirect_uri"].clone());
        tokio::spawn(async move {
            let page = http().get(callback).send().await.unwrap();
            assert_eq!(page.status(), 200);
            assert!(page.text().await.unwrap().contains("close this window"));
        });
    });
    let token = flow.token().await.unwrap();
    assert_eq!(token.secret().expose_secret(), "tok-web");
    let redirect = seen.lock().unwrap().clone().unwrap();
    assert!(redirect.starts_with("http://127.0.0.1:"));
    assert!(!redirect.starts_with("http://127.0.0.1:0/"));
    let f = form(&only_request(&server).await.body);
    assert_eq!(f["code"], "the-code");
    assert_eq!(f["redirect_uri"], redirect);
}

#[tokio::test]
async fn refresh_with_and_without_rotation() {
    let server = MockServer::start().await;
    let clock = ManualClock::new();
    let issued = pardot_auth_core::clock::unix_millis(clock.now());
    // `old-refresh` rotates to `new-refresh`, which then stays.
    for (refresh, extra) in [
        ("old-refresh", json!({"refresh_token":"new-refresh"})),
        ("new-refresh", json!({})),
    ] {
        Mock::given(method("POST"))
            .and(path("/services/oauth2/token"))
            .and(body_string_contains(format!("refresh_token={refresh}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(signed_body("s3", issued, extra)),
            )
            .mount(&server)
            .await;
    }
    let rotations = Rotations::default();
    let flow = RefreshTokenFlow::new(host(&server), "3MVG9-key", RefreshToken::new("old-refresh"))
        .with_client_secret(ClientSecret::new("s3"))
        .with_client(client(&clock))
        .on_rotation(rotations.observer());

    let (token, outcome) = flow.refresh().await.unwrap();
    assert!(outcome.rotated);
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        "new-refresh"
    );
    assert_eq!(rotations.seen(), ["new-refresh"]);
    assert_eq!(
        flow.current_refresh_token().await.secret().expose_secret(),
        "new-refresh"
    );
    let (token, outcome) = flow.refresh().await.unwrap();
    assert!(!outcome.rotated);
    assert!(token.refresh_token().is_none());
    assert_eq!(rotations.seen().len(), 1);

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for (req, expected) in requests.iter().zip(["old-refresh", "new-refresh"]) {
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(content_type(req), FORM);
        let f = form(&req.body);
        assert_eq!(
            keys_of(&f),
            ["client_id", "client_secret", "grant_type", "refresh_token"]
        );
        assert_eq!(f["grant_type"], "refresh_token");
        assert_eq!(f["refresh_token"], expected);
        assert_eq!(f["client_id"], "3MVG9-key");
        assert_eq!(f["client_secret"], "s3");
    }
}

#[tokio::test]
async fn client_credentials_form_fields_and_basic() {
    let clock = ManualClock::new();
    let issued = pardot_auth_core::clock::unix_millis(clock.now());
    for auth in [ClientAuth::FormFields, ClientAuth::Basic] {
        let server = token_server(200, signed_body("s3", issued, json!({}))).await;
        let flow = ClientCredentials::new(host(&server), "3MVG9-key", ClientSecret::new("s3"))
            .with_auth(auth)
            .with_client(client(&clock));
        flow.token().await.unwrap();
        let (req, f) = only_token_request(&server).await;
        let authorization = req
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        match auth {
            ClientAuth::FormFields => {
                assert_eq!(keys_of(&f), ["client_id", "client_secret", "grant_type"]);
                assert_eq!(f["client_id"], "3MVG9-key");
                assert_eq!(f["client_secret"], "s3");
                assert_eq!(authorization, None);
            }
            ClientAuth::Basic => {
                assert_eq!(keys_of(&f), ["grant_type"]);
                let expected = base64::engine::general_purpose::STANDARD.encode("3MVG9-key:s3");
                assert_eq!(authorization, Some(format!("Basic {expected}")));
            }
        }
        assert_eq!(f["grant_type"], "client_credentials");
    }
}

#[tokio::test]
async fn device_flow_requests_interval_and_slow_down() {
    let server = device_server(
        device_start(5, 60),
        vec![
            pending(),
            (
                400,
                json!({"error":"slow_down","error_description":"polling too quickly"}),
            ),
            (
                200,
                json!({"access_token":"tok-dev","refresh_token":"r","id":ID_URL}),
            ),
        ],
    )
    .await;
    let clock = ManualClock::new();
    let flow = Arc::new(
        DeviceFlow::new(host(&server), "3MVG9-key")
            .with_scopes(["api", "refresh_token"])
            .with_client(client(&clock)),
    );
    let auth = flow.start().await.unwrap();
    assert_eq!(auth.user_code, "AB12CD34");
    assert_eq!(auth.interval, Duration::from_secs(5));
    assert!(!format!("{auth:?}").contains("dev-code-1"));
    let polling = tokio::spawn({
        let flow = flow.clone();
        async move { flow.poll(&auth).await }
    });
    // First poll after 5 s, second after 5 s more, then (slow_down) 10 s.
    for step in [5, 5] {
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(step));
    }
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(9));
    assert_eq!(
        clock.pending_sleeps(),
        1,
        "slow_down must lengthen the interval"
    );
    clock.advance(Duration::from_secs(1));
    let token = polling.await.unwrap().unwrap();
    assert_eq!(token.secret().expose_secret(), "tok-dev");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let start = form(&requests[0].body);
    assert_eq!(keys_of(&start), ["client_id", "response_type", "scope"]);
    assert_eq!(start["response_type"], "device_code");
    assert_eq!(start["client_id"], "3MVG9-key");
    assert_eq!(start["scope"], "api refresh_token");
    for req in &requests[1..] {
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(content_type(req), FORM);
        let f = form(&req.body);
        assert_eq!(keys_of(&f), ["client_id", "code", "grant_type"]);
        assert_eq!(f["grant_type"], "device");
        assert_eq!(f["code"], "dev-code-1");
        assert_eq!(f["client_id"], "3MVG9-key");
    }
}

#[tokio::test]
async fn device_flow_stops_on_denial_and_on_expiry() {
    let server = device_server(device_start(5, 60), vec![
        pending(),
        (
            400,
            json!({"error":"access_denied","error_description":"end-user denied authorization"}),
        ),
    ])
    .await;
    let clock = ManualClock::new();
    let polling = start_and_poll(&server, &clock);
    for _ in 0..2 {
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(5));
    }
    let err = polling.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some("access_denied"));
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    assert!(
        err.to_string()
            .starts_with("device flow authentication failed")
    );

    // Pending forever: the device code (60 s) runs out; 12 polls then a timeout error.
    let server = device_server(device_start(5, 60), vec![pending(); 20]).await;
    let polling = start_and_poll(&server, &clock);
    let mut polling = polling;
    let outcome = loop {
        tokio::select! {
            biased;
            out = &mut polling => break out,
            () = clock.wait_for_sleepers(1) => clock.advance(Duration::from_secs(5)),
        }
    };
    let err = outcome.unwrap().unwrap_err();
    assert_eq!(err.kind(), pardot_auth_core::ErrorKind::Timeout);
    let polls = server.received_requests().await.unwrap().len() - 1;
    assert_eq!(polls, 12);
}

#[tokio::test]
async fn revoke_and_userinfo_requests() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/revoke"))
        .and(body_string_contains("token=good"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/revoke"))
        .and(body_string_contains("token=gone"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error":"invalid_token","error_description":"Token was invalid"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/oauth2/userinfo"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer tok-good",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": ID_URL, "user_id":"00550000001fg5OAAQ","organization_id":"00D50000000IZ3ZEAW",
            "preferred_username":"api@example.com","email":"api@example.com","locale":"en_US"
        })))
        .mount(&server)
        .await;
    let answer = ResponseTemplate::new(403).set_body_string("Bad_OAuth_Token");
    answer_with(&server, "GET", "/services/oauth2/userinfo", answer).await;
    let clock = ManualClock::new();
    let client = client(&clock);
    let h = host(&server);
    client.revoke(&h, &"good".into()).await.unwrap();
    let err = client.revoke(&h, &"gone".into()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "token revocation failed: invalid_token: Token was invalid"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].method.as_str(), "POST");
    assert_eq!(content_type(&requests[0]), FORM);
    assert_eq!(keys_of(&form(&requests[0].body)), ["token"]);

    let now = clock.now();
    let tok = |s: &str| {
        pardot_auth_core::AccessToken::new(
            TokenKind::SalesforceBearer,
            s.into(),
            now,
            Expiry::Estimated(now),
        )
    };
    let me = client.userinfo(&h, &tok("tok-good")).await.unwrap();
    assert_eq!(me.preferred_username, "api@example.com");
    assert_eq!(me.organization_id, "00D50000000IZ3ZEAW");
    assert_eq!(me.extra["locale"], "en_US");
    let err = client.userinfo(&h, &tok("tok-bad")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry);
    assert!(err.to_string().contains("Bad_OAuth_Token"), "{err}");
}

#[tokio::test]
async fn mci_discovery_assertion_and_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/us1/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": format!("{}/us1", server.uri()),
            "token_endpoint": format!("{}/us1/token", server.uri()),
            "jwks_uri": format!("{}/us1/jwks", server.uri()),
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/us1/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token":"eyJraWQ.mci","expires_in":300})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let discovery = format!("{}/us1/.well-known/openid-configuration", server.uri());
    let flow = MciServiceAccount::new(
        discovery.parse().unwrap(),
        "sa-0001",
        key("mci-service-account.key"),
    )
    .with_client(client(&clock));
    let token = flow.token().await.unwrap();
    assert!(matches!(token.kind(), TokenKind::MciBearer));
    assert_eq!(
        token.expiry(),
        Expiry::Known(clock.now() + Duration::from_secs(300))
    );
    clock.advance(Duration::from_secs(10));
    flow.token().await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3, "discovery is read once");
    let mut jtis = Vec::new();
    for (req, at) in requests[1..].iter().zip([0, 10]) {
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(req.url.path(), "/us1/token");
        assert_eq!(content_type(req), FORM);
        let f = form(&req.body);
        assert_eq!(
            keys_of(&f),
            [
                "client_assertion",
                "client_assertion_type",
                "client_id",
                "grant_type"
            ]
        );
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["client_id"], "sa-0001");
        assert_eq!(
            f["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        let (header, claims) = decode_jwt(&f["client_assertion"], "mci-service-account.pub.pem");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        let iat = unix_seconds(clock.now()) - 10 + at;
        assert_eq!(claims["iss"], "sa-0001");
        assert_eq!(claims["sub"], "sa-0001");
        assert_eq!(claims["aud"], "https://idp.intelligence.salesforce.com");
        assert_eq!(claims["iat"], iat);
        assert_eq!(claims["exp"], iat + 180);
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert_eq!(jti.len(), 32);
        assert!(
            jti.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        jtis.push(jti);
    }
    assert_ne!(jtis[0], jtis[1]);
}

#[tokio::test]
async fn mci_errors_and_audience_override() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(401).set_body_json(
        json!({"error":"invalid_client","error_description":"invalid client assertion signature"}),
    );
    answer_with(&server, "POST", "/eu1/token", answer).await;
    let clock = ManualClock::new();
    let flow = mci_without_discovery(&server, "/eu1/token", "untrusted.key", &clock)
        .with_audience("https://idp.example");
    let err = flow.token().await.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "MCI service account authentication failed: invalid_client: invalid client assertion signature"
        ),
        "{err}"
    );
    assert_eq!(err.code(), Some("invalid_client"));
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    let f = form(&only_request(&server).await.body);
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode(&f["client_assertion"])
            .unwrap()
            .claims;
    assert_eq!(claims["aud"], "https://idp.example");

    // Insecure discovery URLs are refused before any request.
    let flow = MciServiceAccount::new(
        "http://idp.example.com/us1/.well-known/openid-configuration"
            .parse()
            .unwrap(),
        "sa",
        key("mci-service-account.key"),
    );
    let err = flow.token().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::CallerBug);
    assert!(err.to_string().contains("https"), "{err}");
}

#[tokio::test]
async fn bodies_are_bounded_and_5xx_is_retryable() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(200).set_body_string("x".repeat(100_000));
    answer_with(&server, "POST", "/services/oauth2/token", answer).await;
    let clock = ManualClock::new();
    let flow = JwtBearer::new(host(&server), "k", "u", key("connected-app.key"))
        .with_client(client(&clock));
    let err = flow.token().await.unwrap_err();
    assert!(err.to_string().contains("larger than 65536 bytes"), "{err}");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "30")
                .set_body_string("down for maintenance"),
        )
        .mount(&server)
        .await;
    let flow = JwtBearer::new(host(&server), "k", "u", key("connected-app.key"))
        .with_client(client(&clock));
    let err = flow.token().await.unwrap_err();
    assert_eq!(
        err.class(),
        ErrorClass::RetryLater {
            after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn no_flow_shows_a_secret_in_debug() {
    let clock = ManualClock::new();
    let c = client(&clock);
    let h = LoginHost::Production;
    let texts = [
        format!(
            "{:?}",
            UsernamePassword::new(
                h.clone(),
                "k",
                ClientSecret::new("SECRET1"),
                "u",
                Password::new("SECRET2")
            )
            .with_security_token(Password::new("SECRET3"))
            .with_client(c.clone())
        ),
        format!(
            "{:?}",
            RefreshTokenFlow::new(h.clone(), "k", RefreshToken::new("SECRET4"))
                .with_client_secret(ClientSecret::new("SECRET5"))
        ),
        format!(
            "{:?}",
            ClientCredentials::new(
                LoginHost::my_domain("acme").unwrap(),
                "k",
                ClientSecret::new("SECRET6")
            )
        ),
        format!(
            "{:?}",
            WebServerFlow::new(
                h.clone(),
                "k",
                RedirectUrl::new("http://localhost/cb").unwrap()
            )
            .with_client_secret(ClientSecret::new("SECRET7"))
        ),
        format!(
            "{:?}",
            JwtBearer::new(h.clone(), "k", "u", key("connected-app.key"))
        ),
        format!(
            "{:?}",
            DeviceFlow::new(h, "k").with_client_secret(ClientSecret::new("SECRET8"))
        ),
        format!(
            "{:?}",
            MciServiceAccount::new(
                "https://idp.intelligence.salesforce.com/us1/x"
                    .parse()
                    .unwrap(),
                "sa",
                key("mci-service-account.key")
            )
        ),
    ];
    for text in texts {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
}

#[tokio::test]
async fn code_exchange_errors_are_named_and_explained() {
    let clock = ManualClock::new();
    for (code, description, help) in [
        (
            "invalid_grant",
            "expired authorization code",
            Some("single-use"),
        ),
        ("invalid_request", "invalid code verifier", None),
        (
            "redirect_uri_mismatch",
            "redirect_uri mismatch with remote access object",
            Some("Callback URLs exactly"),
        ),
    ] {
        let server = token_server(400, json!({"error":code,"error_description":description})).await;
        let flow = WebServerFlow::new(
            host(&server),
            "k",
            RedirectUrl::new("http://localhost:7777/callback").unwrap(),
        )
        .with_client(client(&clock));
        let (_, verifier) = flow.authorize_url().build();
        let err = flow
            .exchange_code(AuthorizationCode::new("SECRET-code"), verifier)
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "authorization code exchange failed: {code}: {description}"
            )),
            "{err}"
        );
        assert_eq!(err.help().is_some(), help.is_some(), "{err}");
        if let Some(h) = help {
            assert!(err.help().unwrap().contains(h), "{err}");
        }
        assert_eq!(err.class(), ErrorClass::NeverRetry);
        assert!(!format!("{err} {err:?}").contains("SECRET-code"));
    }

    // The device flow not enabled on the app: the start fails, named.
    let server = token_server(
        400,
        json!({"error":"unsupported_grant_type","error_description":"grant type not supported"}),
    )
    .await;
    let err = DeviceFlow::new(host(&server), "k")
        .with_client(client(&clock))
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "device flow authentication failed: unsupported_grant_type: grant type not supported"
        ),
        "{err}"
    );
}
