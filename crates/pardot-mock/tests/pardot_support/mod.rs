//! Shared helpers of the Pardot API tests: a mock on a fixed ManualClock start, a loopback
//! client, tokens from the mock's own helper, and exact-answer assertions.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pardot_auth_core::ManualClock;
use pardot_mock::{MockConfig, PardotMock};

/// The production business unit of `fixtures/mock.toml`.
pub const BU: &str = "0Uv5g0000008OQUCA2";
/// The demo business unit.
pub const DEMO_BU: &str = "0Uv5g00000DemoBCAR";
/// The inactive business unit.
pub const OFF_BU: &str = "0Uv5g00000OffBuCAJ";
/// The JWT app.
pub const JWT_APP: &str = "3MVG9mock.JWT.app.consumer.key.for.tests";
/// A user with the production (and inactive) business units.
pub const USER: &str = "integration@acme.example";
/// A sandbox user with only the demo business unit.
pub const SANDBOX_USER: &str = "integration@acme.example.uat";
/// An app whose tokens lack `pardot_api` (added by [`config`]).
pub const NO_PARDOT_APP: &str = "3MVG9mock.NOPARDOT.app";

pub const V3_EMAIL: &str = "legacy-v3@acme.example";
pub const V3_PASSWORD: &str = "mock-legacy-password-3";
pub const V3_USER_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const V4_EMAIL: &str = "legacy-v4@acme.example";
pub const V4_PASSWORD: &str = "mock-legacy-password-4";
pub const V4_USER_KEY: &str = "fedcba9876543210fedcba9876543210";

/// The v3/v4/v5 message for an access token that expired or was revoked.
pub const INACTIVE_TOKEN: &str = "access_token is invalid, unknown, or malformed: Inactive token";

/// The headers of a Pardot call with the `Authorization` value `auth` to the fixture BU.
pub fn bearer_headers(auth: &str) -> [(&'static str, &str); 2] {
    [("Authorization", auth), ("Pardot-Business-Unit-Id", BU)]
}

pub const XML: &str = "text/xml; charset=utf-8";
pub const JSON: &str = "application/json";

/// 2025-03-10 12:00:00 UTC: every test starts its clock here, so timestamps are exact.
pub fn start_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_741_608_000)
}

/// The default config plus an app granting only `api`.
pub fn config() -> MockConfig {
    let mut config = MockConfig::defaults();
    let mut app = pardot_mock::config::AppConfig::new(NO_PARDOT_APP, "secret-no-pardot");
    app.scopes = vec!["api".into()];
    config.apps.push(app);
    config
}

/// A running mock, its clock and a client.
pub struct Env {
    pub mock: PardotMock,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

/// One answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The status, `Content-Type` and body of `resp`.
    pub async fn read(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.text().await.expect("body");
        Answer {
            status,
            content_type,
            body,
        }
    }
}

impl Answer {
    /// Asserts status, content type and exact body.
    #[track_caller]
    pub fn assert(&self, status: u16, content_type: &str, body: &str) {
        assert_eq!(
            (self.status, self.content_type.as_str(), self.body.as_str()),
            (status, content_type, body),
            "full answer: {self:?}"
        );
    }

    /// The id of the record a v5 create (201) made.
    #[track_caller]
    pub fn created_id(&self) -> u64 {
        assert_eq!(self.status, 201, "{self:?}");
        self.json()["id"].as_u64().unwrap()
    }

    /// Asserts that the body contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) {
        assert!(self.body.contains(text), "{text} not in {}", self.body);
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn env_with(config: MockConfig) -> Env {
    env_of(PardotMock::builder().config(config)).await
}

/// A mock from `builder` on the test clock, and a client.
pub async fn env_of(builder: pardot_mock::MockBuilder) -> Env {
    let clock = ManualClock::starting_at(start_time());
    let mock = builder
        .clock(clock.clone())
        .start()
        .await
        .expect("mock starts");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Env { mock, clock, http }
}

pub async fn env() -> Env {
    env_with(config()).await
}

/// The exact v3/v4 failure envelope.
pub fn xml_fail(code: u32, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"fail\" version=\"1.0\">\n    <err code=\"{code}\">{message}</err>\n</rsp>\n"
    )
}

/// The exact v3/v4 JSON failure envelope.
pub fn json_fail(code: u32, message: &str) -> String {
    format!(
        r#"{{"@attributes":{{"stat":"fail","version":1,"err_code":{code}}},"err":{}}}"#,
        serde_json::to_string(message).unwrap()
    )
}

/// Compares `got` with the golden file at `relative` (to the crate); with
/// `PARDOT_MOCK_BLESS` set, writes it first (only when an answer is meant to change).
#[track_caller]
pub fn assert_golden(relative: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("PARDOT_MOCK_BLESS").is_some() {
        std::fs::write(&path, got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).expect("golden file");
    assert!(got == want, "answers differ from {relative}:\n{got}");
}

pub fn v5_fail(code: u32, message: &str) -> String {
    format!(
        r#"{{"code":{code},"message":{}}}"#,
        serde_json::to_string(message).unwrap()
    )
}

impl Env {
    /// A Bearer token for `username` through `app`, from the mock's own helper.
    pub fn token(&self, username: &str, app: &str) -> String {
        self.mock
            .issue_access_token(username, app)
            .expect("token issued")
    }

    /// The integration user's token.
    pub fn user_token(&self) -> String {
        self.token(USER, JWT_APP)
    }

    /// `GET {base}{path}` with headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut req = self.http.get(format!("{}{path}", self.mock.url()));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Answer::read(req.send().await.expect("request sent")).await
    }

    /// `POST {base}{path}` with a form body and headers.
    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .post(format!("{}{path}", self.mock.url()))
            .form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Answer::read(req.send().await.expect("request sent")).await
    }

    /// [`bearer_get`](Self::bearer_get) that must answer 200 with `content_type`.
    pub async fn bearer_ok(&self, path: &str, content_type: &str) -> Answer {
        let answer = self.bearer_get(path).await;
        let got = (answer.status, answer.content_type.as_str());
        assert_eq!(got, (200, content_type), "{path}: {answer:?}");
        answer
    }

    /// [`bearer_get`](Self::bearer_get) that must answer `status`.
    pub async fn bearer_expect(&self, path: &str, status: u16) -> Answer {
        let answer = self.bearer_get(path).await;
        assert_eq!(answer.status, status, "{path}: {answer:?}");
        answer
    }

    /// `GET` with the integration user's Bearer token and the production business unit.
    pub async fn bearer_get(&self, path: &str) -> Answer {
        self.get_as(&self.user_token(), BU, path).await
    }

    /// `GET` with the Bearer `token` and the business unit `bu`.
    pub async fn get_as(&self, token: &str, bu: &str, path: &str) -> Answer {
        let auth = format!("Bearer {token}");
        self.get(
            path,
            &[("Authorization", &auth), ("Pardot-Business-Unit-Id", bu)],
        )
        .await
    }

    /// `POST` of `form` with the integration user's Bearer token and the production business
    /// unit.
    pub async fn bearer_post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let auth = format!("Bearer {}", self.user_token());
        self.post(path, form, &bearer_headers(&auth)).await
    }

    /// Logs a legacy user in (v3 path, XML) and returns the api_key.
    pub async fn api_key(&self, email: &str, password: &str, user_key: &str) -> String {
        let answer = self
            .post(
                "/api/login/version/3?format=json",
                &[
                    ("email", email),
                    ("password", password),
                    ("user_key", user_key),
                ],
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()["api_key"]
            .as_str()
            .expect("api_key")
            .to_owned()
    }
}

/// `Authorization: Pardot api_key=…, user_key=…`.
pub fn pardot_auth(api_key: &str, user_key: &str) -> String {
    format!("Pardot api_key={api_key}, user_key={user_key}")
}
