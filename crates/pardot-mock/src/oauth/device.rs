//! The device flow (`docs/reference/salesforce-oauth.md#device-flow`): `response_type=device_code`
//! and `grant_type=device` on the token endpoint, and the `/setup/connect` pages (user code, login,
//! Allow/Deny).
//!
//! Polling answers, judged on the mock clock: `authorization_pending` until the user
//! decides, `slow_down` when polled sooner than the app's interval after the previous poll,
//! `access_denied` after Deny, `expired_token` once the 10 minutes are over, then tokens.
//! A test can skip the pages with [`crate::PardotMock::approve_device`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_auth_core::ManualClock;
//! use pardot_mock::{PardotMock, fixtures};
//!
//! let clock = ManualClock::new();
//! let mock = PardotMock::builder().clock(&clock).start().await?;
//! let http = reqwest::Client::builder().no_proxy().build()?;
//! let token_url = format!("{}/services/oauth2/token", mock.url());
//! let started: serde_json::Value = http
//!     .post(&token_url)
//!     .form(&[("response_type", "device_code"), ("client_id", fixtures::WEB_CONSUMER_KEY)])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(started["verification_uri"], format!("{}/setup/connect", mock.url()));
//! let user_code = started["user_code"].as_str().ok_or("no user_code")?;
//! let device_code = started["device_code"].as_str().ok_or("no device_code")?;
//! let poll = [("grant_type", "device"), ("client_id", fixtures::WEB_CONSUMER_KEY), ("code", device_code)];
//!
//! let pending = http.post(&token_url).form(&poll).send().await?;
//! assert_eq!(pending.status(), 400); // authorization_pending
//! mock.approve_device(user_code, fixtures::WEB_USERNAME)?;
//! clock.advance(std::time::Duration::from_secs(1)); // the web app's interval
//! let tokens: serde_json::Value = http.post(&token_url).form(&poll).send().await?.json().await?;
//! assert!(tokens["access_token"].as_str().is_some_and(|t| t.starts_with("00D5g00000AcmeP!")));
//! # Ok(()) }
//! ```

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::authorize::{
    after_login, path_prefix, requested_scopes, session_user, show_login, step,
};
use super::errors::*;
use super::grant_context::{GrantContext, check_login_allowed, new_session_body};
use super::login_request::LoginRequest;
use super::pages::{self, USER_CODE_ERROR};
use super::web::{
    DEVICE_CODE_LIFETIME, DeviceRecord, DeviceStatus, TRANSACTION_LIFETIME, Txn, TxnKind,
    normalise_user_code, random_from, web,
};
use super::{OAuthError, TokenBody, client_auth, org_allowed_on, secret_eq, token_headers};
use crate::route::Outcome;
use crate::support::random_alnum;

oauth_errors! {
    /// The user denied the device, or it was denied by script.
    ACCESS_DENIED: AccessDenied, "end-user denied authorization";
    /// Not approved yet: poll again after `interval`.
    AUTHORIZATION_PENDING: AuthorizationPending, "authorization pending";
    /// Polled sooner than `interval` after the previous poll (judged on the mock clock).
    SLOW_DOWN: SlowDown, "polling too quickly";
    /// The device code's 10 minutes are over (description: the mock's choice).
    EXPIRED_TOKEN: ExpiredToken, "device code expired";
}

/// Letters and digits a person cannot confuse (no 0/O, 1/I).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[derive(Serialize)]
struct DeviceBody {
    device_code: String,
    user_code: String,
    verification_uri: String,
    interval: u64,
}

/// `POST /services/oauth2/token` with `response_type=device_code`.
pub(crate) fn device_authorization(ctx: &GrantContext<'_>) -> Response {
    match authorize_device(ctx) {
        Ok(body) => {
            let mut r = (
                StatusCode::OK,
                serde_json::to_string(&body).unwrap_or_default(),
            )
                .into_response();
            token_headers(r.headers_mut());
            r
        }
        Err(e) => e.into_response(),
    }
}

/// Checks the client when a secret is sent (device apps need none).
fn device_client(ctx: &GrantContext<'_>) -> Result<usize, OAuthError> {
    let (id, secret) = client_auth(ctx.params, ctx.headers);
    let app = id
        .as_deref()
        .and_then(|id| ctx.state.model().app_by_key(id))
        .ok_or(INVALID_CLIENT_ID)?;
    match secret {
        Some(s) if !secret_eq(&s, &ctx.state.model().apps[app].consumer_secret) => {
            Err(INVALID_CLIENT)
        }
        _ => Ok(app),
    }
}

fn authorize_device(ctx: &GrantContext<'_>) -> Result<DeviceBody, OAuthError> {
    let state = ctx.state;
    let app = device_client(ctx)?;
    let app_ref = &state.model().apps[app];
    let scopes = requested_scopes(ctx.params.get("scope"), &app_ref.scopes).ok_or(INVALID_SCOPE)?;
    let store = web(state);
    let now = state.now();
    // 32^8 codes: a clash with a live one is rare; try a few times, then take the last.
    let mut user_code = random_from(USER_CODE_ALPHABET, 8);
    for _ in 0..8 {
        if store
            .devices
            .find(now, |d| d.user_code == user_code)
            .is_none()
        {
            break;
        }
        user_code = random_from(USER_CODE_ALPHABET, 8);
    }
    let device_code = random_alnum(64);
    store.devices.insert(
        device_code.clone(),
        DeviceRecord {
            app,
            scopes,
            user_code: user_code.clone(),
            status: DeviceStatus::Pending,
            last_poll: None,
            interval: app_ref.device_interval,
            expires: now + DEVICE_CODE_LIFETIME,
        },
        now,
    );
    Ok(DeviceBody {
        device_code,
        user_code,
        verification_uri: format!("{}/setup/connect", ctx.vhost.public_base),
        interval: app_ref.device_interval.as_secs(),
    })
}

/// `grant_type=device`: `code` (Salesforce's name; `device_code` accepted too).
pub(crate) fn device_grant(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let app = device_client(ctx)?;
    let device_code = ctx
        .params
        .non_empty("code")
        .or_else(|| ctx.params.non_empty("device_code"))
        .ok_or(EXPIRED_CODE)?;
    let store = web(state);
    let now = state.now();
    let record = store
        .devices
        .get_any(device_code)
        .filter(|d| d.app == app)
        .ok_or(EXPIRED_CODE)?;
    if now >= record.expires {
        store.devices.remove(device_code);
        return Err(EXPIRED_TOKEN);
    }
    let too_soon = record
        .last_poll
        .is_some_and(|last| now.duration_since(last).unwrap_or_default() < record.interval);
    store
        .devices
        .update(device_code, now, |d| d.last_poll = Some(now));
    if too_soon {
        return Err(SLOW_DOWN);
    }
    let user = match record.status {
        DeviceStatus::Pending => return Err(AUTHORIZATION_PENDING),
        DeviceStatus::Denied => return Err(ACCESS_DENIED),
        DeviceStatus::Approved(user) => user,
    };
    // Approved: the device code is used up by this answer, whatever it is.
    store.devices.remove(device_code);
    let model = state.model();
    if !org_allowed_on(&model.orgs[state.user(user).org], &ctx.login) {
        return Err(AUTHENTICATION_FAILURE);
    }
    check_login_allowed(ctx, user, INACTIVE_USER)?;
    if !state.is_assigned(user, app) {
        return Err(INVALID_APP_ACCESS);
    }
    new_session_body(ctx, user, app, &record.scopes)
}

/// `GET|POST /setup/connect`: the user-code page, then the login and consent steps.
pub(crate) async fn connect(request: LoginRequest) -> Response {
    let LoginRequest {
        state,
        vhost,
        params,
        ..
    } = &request;
    let action = format!("{}/setup/connect", path_prefix(vhost));
    if request.method != Method::POST {
        let prefill = params.get("user_code").unwrap_or("");
        return pages::user_code_page(&action, prefill, None, Outcome::CodePage);
    }
    match params.get("step") {
        Some("code") | None => {}
        Some(_) => return step(state, vhost, &request.login, params),
    }
    let entered = params.get("user_code").unwrap_or("");
    let wanted = normalise_user_code(entered);
    let now = state.now();
    let store = web(state);
    let found = (!wanted.is_empty())
        .then(|| {
            store.devices.find(now, |d| {
                d.user_code == wanted && d.status == DeviceStatus::Pending
            })
        })
        .flatten();
    let Some((device_code, record)) = found else {
        return pages::user_code_page(
            &action,
            entered,
            Some(USER_CODE_ERROR),
            Outcome::InvalidUserCode,
        );
    };
    let txn = Txn {
        kind: TxnKind::Device {
            device_code,
            app: record.app,
        },
        login: request.login.clone(),
        user: None,
        expires: now + TRANSACTION_LIFETIME.min(DEVICE_CODE_LIFETIME),
    };
    let txn_id = random_alnum(32);
    // A browser that logged in before (the `sid` cookie) goes straight to Allow/Deny.
    if let Some(user) = session_user(state, &request.headers, &txn.login) {
        return after_login(state, vhost, txn_id, txn, user);
    }
    store.txns.insert(txn_id.clone(), txn.clone(), now);
    show_login(state, vhost, &txn_id, &txn, "", None)
}
