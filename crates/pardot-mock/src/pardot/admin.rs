//! `/__mock/pardot...`: the Pardot test hooks over HTTP, for tests in any language (the front
//! door serves them only when `admin_routes` is on).
//!
//! - `GET /__mock/pardot`: `{"held":N,"business_units":[{"id","host","active",
//!   "concurrency_limit","in_flight","daily_budget","daily_used","prospects"}]}` (daily use of
//!   the mock clock's current day).
//! - `POST /__mock/pardot/hold`: park every Pardot request that got its in-flight slot
//!   (204), so a test can keep exactly N requests in flight and see the next one get code 66.
//! - `POST /__mock/pardot/release`: let them go (204).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::time;
use crate::config::PardotHostKind;
use crate::state::MockState;

pub(crate) async fn status(state: MockState) -> Response {
    let api = state.pardot();
    let day = time::day_number(state.now());
    let units: Vec<_> = api
        .units
        .iter()
        .map(|u| {
            json!({
                "id": u.id.as_str(),
                "host": match u.host {
                    PardotHostKind::Production => "production",
                    PardotHostKind::Demo => "demo",
                },
                "active": u.active,
                "concurrency_limit": u.limits.max_in_flight(),
                "in_flight": u.limits.in_flight(),
                "daily_budget": u.limits.daily_budget(),
                "daily_used": u.limits.used_on(day),
                "prospects": u.prospects.count(),
            })
        })
        .collect();
    let body = json!({"held": api.gate.parked(), "business_units": units});
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) async fn hold(state: MockState) -> StatusCode {
    state.pardot().hold_requests();
    StatusCode::NO_CONTENT
}

pub(crate) async fn release(state: MockState) -> StatusCode {
    state.pardot().release_requests();
    StatusCode::NO_CONTENT
}
