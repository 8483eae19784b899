//! `GET|POST /services/oauth2/authorize`
//! (`docs/reference/salesforce-oauth.md#the-authorize-endpoint`): validation, the login page, the
//! consent page, and the redirect with a code or an error. The login and consent steps are shared
//! with the device flow's `/setup/connect` pages.
//!
//! The pages carry a server-side login transaction id in a hidden `txn` field, so no cookie
//! is needed. A successful login also sets an optional `sid` session cookie: a later
//! authorize from the same browser skips the login page unless `prompt=login` (or
//! `select_account`) asks for it.
//!
//! Driving the page over plain HTTP (a headless browser does the same by clicking):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_mock::{PardotMock, fixtures};
//!
//! let mock = PardotMock::start().await;
//! // A client that binds its loopback receiver first registers its callback.
//! let callback = "http://127.0.0.1:50123/callback";
//! mock.add_callback_url(fixtures::WEB_CONSUMER_KEY, callback)?;
//! let browser = reqwest::Client::builder()
//!     .no_proxy()
//!     .redirect(reqwest::redirect::Policy::none())
//!     .build()?;
//! let page = browser
//!     .get(format!("{}/services/oauth2/authorize", mock.url()))
//!     .query(&[
//!         ("response_type", "code"),
//!         ("client_id", fixtures::WEB_CONSUMER_KEY),
//!         ("redirect_uri", callback),
//!         ("state", "s-123"),
//!     ])
//!     .send()
//!     .await?
//!     .text()
//!     .await?;
//! // The login form carries a hidden transaction id instead of a cookie.
//! let marker = "name=\"txn\" value=\"";
//! let start = page.find(marker).ok_or("no txn field")? + marker.len();
//! let txn = &page[start..start + 32];
//! let answer = browser
//!     .post(format!("{}/services/oauth2/authorize", mock.url()))
//!     .form(&[
//!         ("txn", txn),
//!         ("step", "login"),
//!         ("username", fixtures::WEB_USERNAME),
//!         ("password", fixtures::WEB_PASSWORD),
//!     ])
//!     .send()
//!     .await?;
//! assert_eq!(answer.status(), 302); // the web user approved the app already: no consent page
//! let location = answer.headers()["location"].to_str()?;
//! assert!(location.starts_with("http://127.0.0.1:50123/callback?code=aPrx"));
//! assert!(location.ends_with("&state=s-123"));
//! # Ok(()) }
//! ```

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::login_request::LoginRequest;
use super::pages::{self, LOGIN_ERROR, LoginPage};
use super::web::{
    CODE_LIFETIME, CodeRecord, DeviceStatus, Session, TRANSACTION_LIFETIME, Txn, TxnKind,
    WebRequest, random_from, web,
};
use super::{org_allowed_on, secret_eq};
use crate::outcome::reporting;
use crate::request_params::RequestParams;
use crate::route::Outcome;
use crate::state::MockState;
use crate::support::random_alnum;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// The name of the optional browser-session cookie.
pub const SESSION_COOKIE: &str = "sid";

/// `error_description` of a denied consent (the Mobile SDK checks this exact text).
pub const ACCESS_DENIED_DESCRIPTION: &str = "end-user denied authorization";

/// Declares authorize errors one a line: `NAME: Outcome variant, "error_description";` becomes
/// `pub const NAME: (Outcome, &str)`.
macro_rules! authorize_errors {
    ($($(#[$doc:meta])* $name:ident: $outcome:ident, $description:expr;)*) => {
        $(
            $(#[$doc])*
            pub const $name: (Outcome, &str) = (Outcome::$outcome, $description);
        )*
    };
}

/// Authorize errors of the legacy list (the authorize and token error codes of Salesforce's
/// older OAuth 2.0 documentation), as `(error, error_description)`; the `error` code is the
/// outcome the redirect or error page reports.
pub mod errors {
    use crate::route::Outcome;

    authorize_errors! {
        /// Unknown or missing `client_id` (error page).
        INVALID_CLIENT_ID: InvalidClientId, "client identifier invalid";
        /// No `redirect_uri` (error page).
        REDIRECT_URI_MISSING: RedirectUriMissing, "redirect_uri not provided";
        /// `redirect_uri` is not one of the app's callback URLs (error page).
        REDIRECT_URI_MISMATCH: RedirectUriMismatch,
            "redirect_uri mismatch with remote access object";
        /// `response_type` other than `code` (redirect).
        UNSUPPORTED_RESPONSE_TYPE: UnsupportedResponseType, "response type not supported";
        /// A scope the app does not have (redirect).
        INVALID_SCOPE: InvalidScope, "requested scope is invalid, unknown, or malformed";
        /// `code_challenge_method` other than `S256` (redirect; the mock's choice of text).
        UNSUPPORTED_CHALLENGE_METHOD: InvalidRequest, "code_challenge_method not supported";
        /// `immediate=true` but a login or approval would be needed (redirect).
        IMMEDIATE_UNSUCCESSFUL: ImmediateUnsuccessful, "immediate unsuccessful";
        /// The user denied the app (redirect).
        ACCESS_DENIED: AccessDenied, super::ACCESS_DENIED_DESCRIPTION;
        /// Locked org (redirect).
        INACTIVE_ORG: InactiveOrg, "organization is locked, closed, or suspended";
        /// Admin-approved app, user not assigned (redirect).
        INVALID_APP_ACCESS: InvalidAppAccess, "user is not admin approved to access this app";
    }
}

/// The path prefix of a virtual host (`/sandbox`, `/my/NAME`, or empty), for form actions.
pub(crate) fn path_prefix(vhost: &VirtualHost) -> &str {
    vhost
        .public_base
        .strip_prefix(vhost.origin.as_str())
        .unwrap_or("")
}

fn action_for(vhost: &VirtualHost, txn: &Txn) -> String {
    let path = match txn.kind {
        TxnKind::Web(_) => "/services/oauth2/authorize",
        TxnKind::Device { .. } => "/setup/connect",
    };
    format!("{}{path}", path_prefix(vhost))
}

pub(crate) fn app_name(state: &MockState, app: usize) -> String {
    let a = &state.model().apps[app];
    if a.name.is_empty() {
        a.consumer_key.clone()
    } else {
        a.name.clone()
    }
}

/// A 302 to `redirect_uri` with `pairs` appended to its query (form-encoded).
pub(crate) fn redirect(redirect_uri: &str, pairs: &[(&str, &str)], outcome: Outcome) -> Response {
    let location = match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        // Callback URLs are validated when configured or registered; keep a sane fallback.
        Err(_) => {
            let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            format!("{redirect_uri}{sep}{query}")
        }
    };
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reporting(r, outcome)
}

/// The error redirect of the web server flow: `error`, `error_description`, `state`.
fn error_redirect(w: &WebRequest, (error, description): (Outcome, &'static str)) -> Response {
    let code = error.to_string();
    let mut pairs = vec![("error", code.as_str()), ("error_description", description)];
    if let Some(s) = &w.state {
        pairs.push(("state", s.as_str()));
    }
    redirect(&w.redirect_uri, &pairs, error)
}

/// The scopes granted for a request: the app's when none are asked for; `None` when one is
/// not among the app's.
pub(crate) fn requested_scopes(requested: Option<&str>, app_scopes: &[String]) -> Option<String> {
    let wanted: Vec<&str> = requested.unwrap_or("").split_whitespace().collect();
    if wanted.is_empty() {
        return Some(app_scopes.join(" "));
    }
    wanted
        .iter()
        .all(|w| app_scopes.iter().any(|s| s == w))
        .then(|| wanted.join(" "))
}

/// `GET|POST /services/oauth2/authorize`.
pub(crate) async fn authorize(request: LoginRequest) -> Response {
    let LoginRequest {
        state,
        vhost,
        login,
        params,
        ..
    } = &request;
    if request.method == Method::POST && params.form.iter().any(|(k, _)| k == "step") {
        return step(state, vhost, login, params);
    }
    start(state, vhost, login.clone(), params, &request.headers)
}

fn start(
    state: &MockState,
    vhost: &VirtualHost,
    login: LoginVhost,
    params: &RequestParams,
    headers: &HeaderMap,
) -> Response {
    let model = state.model();
    let Some(app) = params
        .non_empty("client_id")
        .and_then(|id| model.app_by_key(id))
    else {
        let (e, d) = errors::INVALID_CLIENT_ID;
        return pages::oauth_error_page(e, d);
    };
    let Some(redirect_uri) = params.non_empty("redirect_uri") else {
        let (e, d) = errors::REDIRECT_URI_MISSING;
        return pages::oauth_error_page(e, d);
    };
    let registered = model
        .app_runtime(app)
        .callback_urls
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|u| u == redirect_uri);
    if !registered {
        let (e, d) = errors::REDIRECT_URI_MISMATCH;
        return pages::oauth_error_page(e, d);
    }
    let prompts: Vec<&str> = params
        .get("prompt")
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let mut request = WebRequest {
        app,
        redirect_uri: redirect_uri.to_owned(),
        scopes: String::new(),
        state: params.get("state").map(str::to_owned),
        code_challenge: params.non_empty("code_challenge").map(str::to_owned),
        prompt_consent: prompts.contains(&"consent"),
        immediate: params
            .get("immediate")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
    };
    if params.get("response_type") != Some("code") {
        return error_redirect(&request, errors::UNSUPPORTED_RESPONSE_TYPE);
    }
    match requested_scopes(params.get("scope"), &model.apps[app].scopes) {
        Some(s) => request.scopes = s,
        None => return error_redirect(&request, errors::INVALID_SCOPE),
    }
    // A challenge without a method means S256 (what clients rely on); only S256 exists.
    if request.code_challenge.is_some()
        && params
            .non_empty("code_challenge_method")
            .is_some_and(|m| m != "S256")
    {
        return error_redirect(&request, errors::UNSUPPORTED_CHALLENGE_METHOD);
    }
    let force_login = prompts.contains(&"login") || prompts.contains(&"select_account");
    let now = state.now();
    let txn = Txn {
        kind: TxnKind::Web(request),
        login: login.clone(),
        user: None,
        expires: now + TRANSACTION_LIFETIME,
    };
    let txn_id = random_alnum(32);
    if !force_login && let Some(user) = session_user(state, headers, &login) {
        return after_login(state, vhost, txn_id, txn, user);
    }
    if let TxnKind::Web(w) = &txn.kind
        && w.immediate
    {
        return error_redirect(w, errors::IMMEDIATE_UNSUCCESSFUL);
    }
    let hint = params.get("login_hint").unwrap_or("").to_owned();
    web(state).txns.insert(txn_id.clone(), txn.clone(), now);
    show_login(state, vhost, &txn_id, &txn, &hint, None)
}

/// Shows the login page of a stored transaction.
pub(crate) fn show_login(
    state: &MockState,
    vhost: &VirtualHost,
    txn_id: &str,
    txn: &Txn,
    username: &str,
    error: Option<&str>,
) -> Response {
    let page = LoginPage {
        action: &action_for(vhost, txn),
        txn: txn_id,
        app_name: &app_name(state, txn.app()),
        username,
        error,
    };
    let outcome = if error.is_some() {
        Outcome::LoginFailed
    } else {
        Outcome::LoginPage
    };
    pages::login_page(&page, StatusCode::OK, outcome)
}

/// The user of a live `sid` session cookie whose org may log in on this host.
pub(crate) fn session_user(
    state: &MockState,
    headers: &HeaderMap,
    login: &LoginVhost,
) -> Option<usize> {
    let sid = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())?;
    let session = web(state).sessions.get(&sid, state.now())?;
    let u = state.user(session.user);
    let org = &state.model().orgs[u.org];
    (u.active && org_allowed_on(org, login)).then_some(session.user)
}

/// A POST from the login or consent page (`step=login|consent`, `txn`).
pub(crate) fn step(
    state: &MockState,
    vhost: &VirtualHost,
    login: &LoginVhost,
    params: &RequestParams,
) -> Response {
    let now = state.now();
    let txn_id = params.get("txn").unwrap_or("").to_owned();
    let txn = web(state)
        .txns
        .get(&txn_id, now)
        .filter(|t| &t.login == login);
    let Some(txn) = txn else {
        return pages::message_page(
            StatusCode::BAD_REQUEST,
            "Session Expired",
            "Your login page has expired or is unknown. Start the login again from your application.",
            Outcome::UnknownTransaction,
        );
    };
    match params.get("step") {
        Some("login") => login_step(state, vhost, login, txn_id, txn, params),
        Some("consent") => consent_step(state, vhost, txn_id, txn, params),
        _ => pages::message_page(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Unknown step.",
            Outcome::BadRequest,
        ),
    }
}

fn login_step(
    state: &MockState,
    vhost: &VirtualHost,
    login: &LoginVhost,
    txn_id: String,
    txn: Txn,
    params: &RequestParams,
) -> Response {
    let username = params.get("username").unwrap_or("").trim();
    let password = params.get("password").unwrap_or("");
    let model = state.model();
    // The login page takes the bare password (no security token), like the real one.
    let user = model.user_by_username(username).filter(|&u| {
        let user = state.user(u);
        user.active
            && org_allowed_on(&model.orgs[user.org], login)
            && secret_eq(password, &user.password)
    });
    let Some(user) = user else {
        return show_login(state, vhost, &txn_id, &txn, username, Some(LOGIN_ERROR));
    };
    let now = state.now();
    let sid = random_alnum(40);
    let org = &model.orgs[state.user(user).org];
    web(state).sessions.insert(
        sid.clone(),
        Session {
            user,
            expires: now + org.session_timeout,
        },
        now,
    );
    let mut response = after_login(state, vhost, txn_id, txn, user);
    let secure = if vhost.origin.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// After a login (or a live session): the consent page when needed, else the code.
pub(crate) fn after_login(
    state: &MockState,
    vhost: &VirtualHost,
    txn_id: String,
    mut txn: Txn,
    user: usize,
) -> Response {
    let model = state.model();
    let app = txn.app();
    let locked = model.orgs[state.user(user).org].locked;
    let not_assigned = !state.is_assigned(user, app);
    let store = web(state);
    let now = state.now();
    match &txn.kind {
        TxnKind::Web(w) => {
            if locked || not_assigned {
                store.txns.remove(&txn_id);
                let error = if locked {
                    errors::INACTIVE_ORG
                } else {
                    errors::INVALID_APP_ACCESS
                };
                return error_redirect(w, error);
            }
            if w.prompt_consent || !state.is_approved(user, app) {
                if w.immediate {
                    store.txns.remove(&txn_id);
                    return error_redirect(w, errors::IMMEDIATE_UNSUCCESSFUL);
                }
                let scopes = w.scopes.clone();
                txn.user = Some(user);
                let action = action_for(vhost, &txn);
                store.txns.insert(txn_id.clone(), txn, now);
                return pages::consent_page(
                    &action,
                    &txn_id,
                    &app_name(state, app),
                    &state.user(user).username,
                    &scopes,
                );
            }
            store.txns.remove(&txn_id);
            let code = issue_code(state, w, user);
            success_redirect(w, &code)
        }
        TxnKind::Device { device_code, .. } => {
            if locked || not_assigned {
                store.txns.remove(&txn_id);
                let (_, text) = if locked {
                    errors::INACTIVE_ORG
                } else {
                    errors::INVALID_APP_ACCESS
                };
                return pages::message_page(
                    StatusCode::FORBIDDEN,
                    "Access Denied",
                    text,
                    Outcome::AccessDenied,
                );
            }
            let scopes = store
                .devices
                .get(device_code, now)
                .map(|d| d.scopes)
                .unwrap_or_default();
            txn.user = Some(user);
            let action = action_for(vhost, &txn);
            store.txns.insert(txn_id.clone(), txn, now);
            pages::consent_page(
                &action,
                &txn_id,
                &app_name(state, app),
                &state.user(user).username,
                &scopes,
            )
        }
    }
}

fn consent_step(
    state: &MockState,
    vhost: &VirtualHost,
    txn_id: String,
    txn: Txn,
    params: &RequestParams,
) -> Response {
    let Some(user) = txn.user else {
        // Consent before login: show the login page again.
        return show_login(state, vhost, &txn_id, &txn, "", None);
    };
    let allow = match params.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return pages::message_page(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "Choose Allow or Deny.",
                Outcome::BadRequest,
            );
        }
    };
    web(state).txns.remove(&txn_id);
    let app = txn.app();
    match &txn.kind {
        TxnKind::Web(w) => {
            if !allow {
                return error_redirect(w, errors::ACCESS_DENIED);
            }
            state.approve(user, app);
            let code = issue_code(state, w, user);
            success_redirect(w, &code)
        }
        TxnKind::Device { device_code, .. } => {
            let status = if allow {
                DeviceStatus::Approved(user)
            } else {
                DeviceStatus::Denied
            };
            let now = state.now();
            let decided = web(state)
                .devices
                .update(device_code, now, |d| {
                    if d.status == DeviceStatus::Pending {
                        d.status = status;
                        true
                    } else {
                        false
                    }
                })
                .unwrap_or(false);
            if !decided {
                return pages::message_page(
                    StatusCode::BAD_REQUEST,
                    "Code Expired",
                    pages::USER_CODE_ERROR,
                    Outcome::ExpiredToken,
                );
            }
            if allow {
                state.approve(user, app);
                pages::message_page(
                    StatusCode::OK,
                    "Connected",
                    "Your device is connected. You can close this window and return to your device.",
                    Outcome::Ok,
                )
            } else {
                pages::message_page(
                    StatusCode::OK,
                    "Access Denied",
                    "You denied access. Your device was not connected.",
                    Outcome::AccessDenied,
                )
            }
        }
    }
}

fn success_redirect(w: &WebRequest, code: &str) -> Response {
    let mut pairs = vec![("code", code)];
    if let Some(s) = &w.state {
        pairs.push(("state", s.as_str()));
    }
    redirect(&w.redirect_uri, &pairs, Outcome::Ok)
}

/// A new single-use code, shaped like Salesforce's (`aPrx…==`), remembering the request.
fn issue_code(state: &MockState, w: &WebRequest, user: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";
    let code = format!("aPrx{}==", random_from(ALPHABET, 72));
    let now = state.now();
    web(state).codes.insert(
        code.clone(),
        CodeRecord {
            app: w.app,
            user,
            redirect_uri: w.redirect_uri.clone(),
            scopes: w.scopes.clone(),
            code_challenge: w.code_challenge.clone(),
            expires: now + CODE_LIFETIME,
        },
        now,
    );
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_default_to_the_apps_and_must_be_known() {
        let app = vec!["api".to_owned(), "refresh_token".to_owned()];
        assert_eq!(
            requested_scopes(None, &app).as_deref(),
            Some("api refresh_token")
        );
        assert_eq!(
            requested_scopes(Some("  "), &app).as_deref(),
            Some("api refresh_token")
        );
        assert_eq!(requested_scopes(Some("api"), &app).as_deref(), Some("api"));
        assert_eq!(requested_scopes(Some("api full"), &app), None);
    }

    #[test]
    fn redirect_appends_to_an_existing_query() {
        let r = redirect(
            "http://localhost:1/cb?x=1",
            &[("code", "a b=="), ("state", "s&t")],
            Outcome::Ok,
        );
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(
            r.headers()[header::LOCATION],
            "http://localhost:1/cb?x=1&code=a+b%3D%3D&state=s%26t"
        );
    }
}
