//! `POST /__mock/sign-in` and `POST /__mock/sign-in-device`: the person in the browser of
//! [`crate::sign_in`] as admin routes, so tests in any language complete a web-server or
//! device login without reading HTML. The pages are driven in-process by an
//! [`InProcessBrowser`], whose requests go straight to the page handlers over the mock's own
//! state (the binary has no HTTP client to call itself with): the URL's host and path choose
//! the virtual host as the front door would; the steps are not journaled or counted, and
//! faults do not apply to them.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::login_request::LoginRequest;
use super::{authorize, device, not_a_login_host};
use crate::admin::{AdminJson, json_ok};
use crate::request_params::RequestParams;
use crate::sign_in::{
    Browser, Consent, Page, Person, SignInError, drive_sign_in, drive_sign_in_device,
};
use crate::state::MockState;
use crate::virtual_host::{HostKind, VirtualHost, resolve};

pub(crate) fn admin_routes() -> Router {
    Router::new()
        .route("/__mock/sign-in", post(sign_in))
        .route("/__mock/sign-in-device", post(sign_in_device))
}

/// What to click on the Allow/Deny page, as the admin routes name it.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ConsentName {
    #[default]
    Allow,
    Deny,
}

impl From<ConsentName> for Consent {
    fn from(name: ConsentName) -> Self {
        match name {
            ConsentName::Allow => Consent::Allow,
            ConsentName::Deny => Consent::Deny,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    authorize_url: String,
    username: String,
    password: String,
    #[serde(default)]
    consent: ConsentName,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceSignIn {
    verification_url: Option<String>,
    user_code: Option<String>,
    username: String,
    password: String,
    #[serde(default)]
    consent: ConsentName,
}

/// `200 {"redirect_url","code","state","error","error_description","login_shown","consent_shown"}`:
/// the redirect to the callback, not followed.
async fn sign_in(state: MockState, AdminJson(request): AdminJson<SignIn>) -> Response {
    let browser = InProcessBrowser { state };
    let person = Person {
        username: &request.username,
        password: &request.password,
        consent: request.consent.into(),
    };
    let signed = drive_sign_in(&browser, &request.authorize_url, person).await;
    match signed {
        Ok(callback) => json_ok(
            StatusCode::OK,
            &json!({
                "redirect_url": callback.url().as_str(),
                "code": callback.code(),
                "state": callback.state(),
                "error": callback.error(),
                "error_description": callback.param("error_description"),
                "login_shown": callback.login_shown(),
                "consent_shown": callback.consent_shown(),
            }),
        ),
        Err(e) => refused(&e),
    }
}

/// `200 {"message","consent_shown"}`: the final page's message. The code comes as the
/// `verification_url` (`verification_uri?user_code=…`) or as the bare `user_code`.
async fn sign_in_device(
    state: MockState,
    Extension(vhost): Extension<VirtualHost>,
    AdminJson(request): AdminJson<DeviceSignIn>,
) -> Response {
    let url = match (request.verification_url, request.user_code) {
        (Some(url), None) => url,
        (None, Some(code)) => {
            let query =
                serde_urlencoded::to_string([("user_code", code.as_str())]).unwrap_or_default();
            format!("{}/setup/connect?{query}", vhost.public_base)
        }
        _ => {
            return json_ok(
                StatusCode::BAD_REQUEST,
                &json!({"error": "bad_request", "message": "give exactly one of verification_url and user_code"}),
            );
        }
    };
    let browser = InProcessBrowser { state };
    let person = Person {
        username: &request.username,
        password: &request.password,
        consent: request.consent.into(),
    };
    let signed = drive_sign_in_device(&browser, &url, person).await;
    match signed {
        Ok(done) => json_ok(
            StatusCode::OK,
            &json!({"message": done.message, "consent_shown": done.consent_shown}),
        ),
        Err(e) => refused(&e),
    }
}

/// A [`SignInError`] as a 4xx: `{"error": kind, "message": text}` (and the page's status
/// where one answered).
fn refused(e: &SignInError) -> Response {
    let message = e.to_string();
    let (status, body) = match e {
        SignInError::LoginRefused { .. } => (
            StatusCode::FORBIDDEN,
            json!({"error": "login_refused", "message": message}),
        ),
        SignInError::ErrorPage { status, line } => (
            StatusCode::BAD_REQUEST,
            json!({"error": "error_page", "message": message, "status": status, "line": line}),
        ),
        SignInError::Unexpected { step, status, .. } => (
            StatusCode::BAD_REQUEST,
            json!({"error": "unexpected_page", "message": message, "step": step, "status": status}),
        ),
        SignInError::Url(_) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "bad_url", "message": message}),
        ),
        #[cfg(feature = "client")]
        SignInError::Http(_) => (
            StatusCode::BAD_GATEWAY,
            json!({"error": "http", "message": message}),
        ),
    };
    json_ok(status, &body)
}

/// The largest page read back (the mock's pages are a few KiB).
const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// The pages of one mock, without a network.
pub(crate) struct InProcessBrowser {
    pub state: MockState,
}

impl InProcessBrowser {
    async fn request(&self, method: Method, url: &Url, form: &[(String, String)]) -> Page {
        let mut headers = HeaderMap::new();
        let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
        if let Ok(v) = HeaderValue::from_str(host) {
            headers.insert(header::HOST, v);
        }
        let path_and_query = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let response = match path_and_query.parse() {
            Ok(uri) => {
                let (vhost, path) = resolve(&headers, &uri, self.state.public_url());
                let params = RequestParams {
                    query: url
                        .query_pairs()
                        .map(|(k, v)| (k.into(), v.into()))
                        .collect(),
                    form: form.to_vec(),
                };
                let unknown_domain = matches!(&vhost.kind, HostKind::MyDomain(name)
                    if self.state.model().org_by_my_domain(name).is_none());
                match vhost.login() {
                    Some(login) if !unknown_domain => {
                        let request = LoginRequest {
                            state: self.state.clone(),
                            method,
                            vhost,
                            login,
                            params: Arc::new(params),
                            headers,
                        };
                        match path.trim_end_matches('/') {
                            "/services/oauth2/authorize" => authorize::authorize(request).await,
                            "/setup/connect" => device::connect(request).await,
                            _ => not_found(),
                        }
                    }
                    _ => not_a_login_host(),
                }
            }
            Err(_) => not_found(),
        };
        page_of(response).await
    }
}

fn not_found() -> Response {
    crate::outcome::plain(
        StatusCode::NOT_FOUND,
        "pardot-mock: not a login or device page",
        crate::route::Outcome::Http(404),
    )
}

async fn page_of(response: Response) -> Page {
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|_| status.is_redirection());
    let body = axum::body::to_bytes(response.into_body(), MAX_PAGE_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Page {
        status: status.as_u16(),
        location,
        body,
    }
}

impl Browser for InProcessBrowser {
    async fn get(&self, url: &Url) -> Result<Page, SignInError> {
        Ok(self.request(Method::GET, url, &[]).await)
    }

    async fn post(&self, url: &Url, fields: &[(String, String)]) -> Result<Page, SignInError> {
        Ok(self.request(Method::POST, url, fields).await)
    }
}
