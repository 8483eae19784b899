//! `connect`, `connect_mci` and `Connector` against an in-process pardot-mock, per flow.

use std::sync::Arc;

use pardot_auth::core::secrecy::ExposeSecret;
use pardot_auth::core::url::Url;
use pardot_auth::{
    BusinessUnitId, Config, ConnectError, Connector, FirstToken, Flow, MemoryStore, TokenSource,
    TokenStore, connect, connect_mci,
};
use pardot_mock::{Outcome, PardotMock, Route, fixtures};

mod support;

use support::{config, key, prospects, seed_web_refresh_token, web_app};

fn jwt(mock: &PardotMock) -> Config {
    config(
        mock,
        &[
            ("PARDOT_AUTH_FLOW", "jwt".into()),
            ("SF_CLIENT_ID", fixtures::JWT_CONSUMER_KEY.into()),
            ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
            ("SF_PRIVATE_KEY_FILE", key("connected-app.key")),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn jwt_bearer_lists_prospects_with_one_login() {
    let mock = PardotMock::start().await;
    let client = connect(jwt(&mock)).await.unwrap();
    assert_eq!(
        mock.counts().token_requests_ok(),
        1,
        "connect fetched the first token"
    );
    assert_eq!(prospects(&client).await, 3);
    assert_eq!(prospects(&client).await, 3);
    assert_eq!(mock.counts().token_requests_ok(), 1, "the cache kept it");
    assert_eq!(
        client.business_unit().unwrap().as_str(),
        fixtures::BUSINESS_UNIT_ID
    );
}

#[tokio::test]
async fn password_client_credentials_and_refresh_flows_connect() {
    let mock = PardotMock::start().await;
    // The password followed by its token (as Salesforce wants it); the token apart, in
    // SF_SECURITY_TOKEN; and given both ways, sent once (the mock refuses the token twice).
    let joined = format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    );
    let token = fixtures::INTEGRATION_SECURITY_TOKEN;
    for (password, security_token) in [
        (joined.as_str(), None),
        (fixtures::INTEGRATION_PASSWORD, Some(token)),
        (joined.as_str(), Some(token)),
    ] {
        let mut vars = web_app(
            "password",
            &[
                ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
                ("SF_PASSWORD", password.to_owned()),
            ],
        );
        vars.extend(security_token.map(|t| ("SF_SECURITY_TOKEN", t.to_owned())));
        let client = connect(config(&mock, &vars).unwrap()).await.unwrap();
        assert_eq!(prospects(&client).await, 3, "{security_token:?}");
    }

    let cc = config(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "client-credentials".into()),
            (
                "SF_LOGIN_URL",
                mock.my_domain_url(fixtures::PRODUCTION_MY_DOMAIN),
            ),
            ("SF_CLIENT_ID", fixtures::CC_CONSUMER_KEY.into()),
            ("SF_CLIENT_SECRET", fixtures::CC_CONSUMER_SECRET.into()),
        ],
    )
    .unwrap();
    assert_eq!(prospects(&connect(cc).await.unwrap()).await, 3);

    let refresh_token = [("SF_REFRESH_TOKEN", fixtures::WEB_REFRESH_TOKEN.into())];
    let refresh = config(&mock, &web_app("refresh", &refresh_token)).unwrap();
    let client = connect(refresh).await.unwrap();
    assert_eq!(prospects(&client).await, 3);
    // One login each: the three password logins, client credentials, refresh.
    assert_eq!(mock.counts().token_requests_ok(), 5);
}

#[tokio::test]
async fn legacy_login_reads_prospects_without_a_business_unit() {
    let mock = PardotMock::start().await;
    let legacy = Config::from_lookup(|name| {
        Some(match name {
            "PARDOT_AUTH_FLOW" => "legacy".into(),
            "PARDOT_URL" => mock.url(),
            "PARDOT_EMAIL" => fixtures::LEGACY_V4_EMAIL.into(),
            "PARDOT_PASSWORD" => fixtures::LEGACY_V4_PASSWORD.into(),
            "PARDOT_USER_KEY" => fixtures::LEGACY_V4_USER_KEY.into(),
            _ => return None,
        })
    })
    .unwrap();
    let client = connect(legacy).await.unwrap();
    let r = client
        .get("/api/prospect/version/4/do/query")
        .query([("format", "json")])
        .send()
        .await
        .unwrap();
    assert!(r.envelope().unwrap().is_ok());
    assert_eq!(mock.counts().get(Route::PardotLogin, Outcome::Ok), 1);
}

#[tokio::test]
async fn interactive_flows_need_a_stored_refresh_token_or_a_hook() {
    let mock = PardotMock::start().await;
    let web = config(&mock, &web_app("web", &[])).unwrap();
    let e = connect(web.clone()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ConnectError::NeedsLogin {
                flow: Flow::WebServer
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("pardot-auth login web"), "{e}");

    // What `pardot-auth login web` leaves behind: a refresh token under the config's key.
    let store = Arc::new(MemoryStore::new());
    seed_web_refresh_token(&*store, &web.store_key()).await;
    let client = Connector::new(web)
        .store(store.clone())
        .connect()
        .await
        .unwrap();
    assert_eq!(prospects(&client).await, 3);
    assert_eq!(mock.counts().token_requests_ok(), 1, "one refresh");

    let device = config(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "device".into()),
            ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into()),
        ],
    )
    .unwrap();
    assert!(matches!(
        connect(device).await.unwrap_err(),
        ConnectError::NeedsLogin { flow: Flow::Device }
    ));
}

#[tokio::test]
async fn first_fetch_errors_surface_at_connect() {
    let mock = PardotMock::start().await;
    let mut wrong_audience = jwt(&mock);
    if let pardot_auth::FlowConfig::JwtBearer { login, .. } = &mut wrong_audience.flow {
        *login = pardot_auth::LoginHost::custom(&mock.sandbox_url()).unwrap();
    }
    let e = connect(wrong_audience).await.unwrap_err();
    let core = e.token_error().expect("a token error");
    assert_eq!(core.code(), Some("invalid_grant"));
    assert!(e.to_string().contains("audience is invalid"), "{e}");

    let mut bad_key = jwt(&mock);
    if let pardot_auth::FlowConfig::JwtBearer {
        private_key_file, ..
    } = &mut bad_key.flow
    {
        *private_key_file = key("no-such.key").into();
    }
    let e = connect(bad_key).await.unwrap_err();
    assert!(matches!(e, ConnectError::Key { .. }), "{e:?}");
    assert!(e.to_string().contains("no-such.key"), "{e}");

    let mut no_bu = jwt(&mock);
    no_bu.business_unit = None;
    assert!(matches!(
        connect(no_bu).await.unwrap_err(),
        ConnectError::NoBusinessUnit { .. }
    ));
}

fn mci(mock: &PardotMock) -> Config {
    Config::from_lookup(|name| {
        Some(match name {
            "PARDOT_AUTH_FLOW" => "mci".into(),
            "MCI_SERVICE_ACCOUNT_ID" => fixtures::MCI_SERVICE_ACCOUNT_ID.into(),
            "MCI_DISCOVERY_URL" => mock.mci_discovery_url(fixtures::MCI_REGION),
            "MCI_PRIVATE_KEY_FILE" => key("mci-service-account.key"),
            _ => return None,
        })
    })
    .unwrap()
}

#[tokio::test]
async fn mci_client_sends_the_cached_bearer_token_and_retries_a_401_once() {
    use wiremock::matchers::{header_exists, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let mock = PardotMock::start().await;
    assert!(matches!(
        connect(mci(&mock)).await.unwrap_err(),
        ConnectError::WrongFlow(_)
    ));
    assert!(matches!(
        connect_mci(jwt(&mock), Url::parse("https://example.com").unwrap())
            .await
            .unwrap_err(),
        ConnectError::WrongFlow(_)
    ));

    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/workspaces"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/workspaces"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": []})))
        .mount(&api)
        .await;
    let base = Url::parse(&format!("{}/api", api.uri())).unwrap();
    let client = connect_mci(mci(&mock), base).await.unwrap();
    let r = client.get("/v1/workspaces").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["items"], serde_json::json!([]));

    let requests = api.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let auth: Vec<String> = requests
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert!(auth.iter().all(|a| a.starts_with("Bearer ey")), "{auth:?}");
    assert_ne!(auth[0], auth[1], "the refused token was replaced");
    let current = client.token_cache().token().await.unwrap();
    assert_eq!(
        auth[1],
        format!("Bearer {}", current.secret().expose_secret())
    );
    assert_eq!(mock.counts().get(Route::MciToken, Outcome::Ok), 2);
}

#[tokio::test]
async fn debug_output_has_no_secrets() {
    let mock = PardotMock::start().await;
    let vars = web_app(
        "password",
        &[
            ("SF_CLIENT_SECRET", "consumer-secret-xyz".into()),
            ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
            ("SF_PASSWORD", "hunter2-password".into()),
        ],
    );
    let pw = config(&mock, &vars).unwrap();
    let connector = Connector::new(pw);
    let text = format!("{connector:?} {:?}", connector.flow_source().unwrap());
    assert!(!text.contains("consumer-secret-xyz"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let bu = BusinessUnitId::parse(fixtures::BUSINESS_UNIT_ID).unwrap();
    assert!(text.contains(bu.as_str()), "ids are fine to show: {text}");
}

#[tokio::test]
async fn device_hook_runs_the_flow_once_then_the_stored_refresh_token_serves() {
    use std::time::Duration;

    let clock = pardot_auth::ManualClock::new();
    let mock = PardotMock::builder().clock(&clock).start().await.unwrap();
    let device = config(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "device".into()),
            ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into()),
            // The app requires its secret for refreshes.
            ("SF_CLIENT_SECRET", fixtures::WEB_CONSUMER_SECRET.into()),
        ],
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connector = Connector::new(device.clone())
        .clock(clock.shared())
        .store(store.clone())
        .on_device_code(move |auth| {
            let _ = tx.send(auth.user_code.clone());
        });
    let connecting = tokio::spawn(async move { connector.connect().await });
    let code = rx.recv().await.expect("the hook saw the user code");
    mock.approve_device(&code, fixtures::WEB_USERNAME).unwrap();
    // The flow polls on the shared clock: let its wait pass.
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(5));
    let client = connecting.await.unwrap().unwrap();
    assert_eq!(prospects(&client).await, 3);
    let record = store.load(&device.store_key()).await.unwrap().unwrap();
    assert!(record.refresh_token.is_some(), "kept for later refreshes");

    // Hours later, without anybody to ask: the stored refresh token is enough.
    clock.advance(Duration::from_secs(3 * 3600));
    let before = mock.counts().token_requests_ok();
    let again = Connector::new(device)
        .clock(clock.shared())
        .store(store)
        .fetch_first_token(FirstToken::AtConnect)
        .connect()
        .await
        .unwrap();
    assert_eq!(prospects(&again).await, 3);
    assert_eq!(mock.counts().token_requests_ok(), before + 1, "one refresh");
}
