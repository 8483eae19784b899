//! `/__mock/...`: the journal, counters, faults, clock and reset over HTTP, so tests in any
//! language can script the mock. Disabled with `admin_routes = false`, except
//! [`HEALTH_PATH`]: a readiness probe must work whatever the configuration, and it tells
//! nothing but the version.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pardot_auth_core::clock::unix_millis;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::state::{MockError, MockState};

/// The readiness probe: `200 {"status":"ok","version":"…"}`, served even when the other
/// admin routes are disabled.
pub const HEALTH_PATH: &str = "/__mock/health";

pub(crate) fn routes() -> Router {
    Router::new()
        .route("/__mock/health", get(health))
        .route("/__mock/journal", get(journal))
        .route("/__mock/counts", get(counts))
        .route("/__mock/faults", post(faults))
        .route("/__mock/clock", get(clock))
        .route("/__mock/clock/advance", post(advance))
        .route("/__mock/clock/reset", post(reset_clock))
        .route("/__mock/reset", post(reset))
        .route("/__mock/tokens", post(issue_token))
        .route("/__mock/refresh_tokens", post(issue_refresh))
}

/// A JSON answer of an admin route.
pub(crate) fn json_ok(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(message: impl std::fmt::Display) -> Response {
    json_ok(
        StatusCode::BAD_REQUEST,
        &json!({"error": message.to_string()}),
    )
}

/// An admin route's JSON request body; a body that is not one is answered with the `400` that
/// says why.
pub(crate) struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        serde_json::from_slice(&body)
            .map(AdminJson)
            .map_err(|e| bad(format!("invalid JSON body: {e}")))
    }
}

async fn health() -> Response {
    json_ok(
        StatusCode::OK,
        &json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    )
}

#[derive(Deserialize)]
struct JournalQuery {
    limit: Option<usize>,
}

async fn journal(state: MockState, Query(q): Query<JournalQuery>) -> Response {
    let mut entries = state.journal();
    if let Some(limit) = q.limit {
        let skip = entries.len().saturating_sub(limit);
        entries.drain(..skip);
    }
    let list: Vec<Value> = entries.iter().map(|e| e.to_masked_json()).collect();
    json_ok(StatusCode::OK, &json!({"entries": list}))
}

async fn counts(state: MockState) -> Response {
    json_ok(
        StatusCode::OK,
        &serde_json::to_value(state.counts()).unwrap_or(Value::Null),
    )
}

async fn faults(state: MockState, AdminJson(fault): AdminJson<Fault>) -> Response {
    match state.apply_fault(fault) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e),
    }
}

fn now_json(state: &MockState) -> Value {
    json!({"now_ms": u64::try_from(unix_millis(state.now())).unwrap_or(u64::MAX)})
}

async fn clock(state: MockState) -> Response {
    json_ok(StatusCode::OK, &now_json(&state))
}

/// The longest one `POST /__mock/clock/advance` may move the clock (100 years): far beyond any
/// token's life, and small enough that the clock (and its millisecond offset) cannot overflow.
const MAX_CLOCK_ADVANCE: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: u64,
    #[serde(default)]
    millis: u64,
}

async fn advance(state: MockState, AdminJson(a): AdminJson<Advance>) -> Response {
    // Both numbers come from the request: a sum past any date would panic in the clock.
    let by = Duration::from_secs(a.seconds)
        .checked_add(Duration::from_millis(a.millis))
        .filter(|by| *by <= MAX_CLOCK_ADVANCE && state.now().checked_add(*by).is_some());
    let Some(by) = by else {
        return bad(format!(
            "clock advance too large: at most {} seconds at a time",
            MAX_CLOCK_ADVANCE.as_secs()
        ));
    };
    state.advance_clock(by);
    json_ok(StatusCode::OK, &now_json(&state))
}

async fn reset_clock(state: MockState) -> Response {
    state.reset_clock();
    json_ok(StatusCode::OK, &now_json(&state))
}

async fn reset(state: MockState) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    username: String,
    consumer_key: String,
}

/// Answers an [`IssueRequest`] with `{field: token}` with what `issue` makes of it.
fn issue(
    state: &MockState,
    request: IssueRequest,
    field: &str,
    issue: fn(&MockState, &str, &str) -> Result<String, MockError>,
) -> Response {
    match issue(state, &request.username, &request.consumer_key) {
        Ok(token) => json_ok(StatusCode::OK, &json!({ field: token })),
        Err(e) => bad(e),
    }
}

async fn issue_token(state: MockState, AdminJson(request): AdminJson<IssueRequest>) -> Response {
    issue(
        &state,
        request,
        "access_token",
        MockState::issue_access_token,
    )
}

async fn issue_refresh(state: MockState, AdminJson(request): AdminJson<IssueRequest>) -> Response {
    issue(
        &state,
        request,
        "refresh_token",
        MockState::seed_refresh_token,
    )
}
