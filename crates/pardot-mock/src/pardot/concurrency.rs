//! What the business units' in-flight limits saw: the peak of requests in flight at once
//! (every arrival counted, admitted or refused with 66) and the number of 66 answers, so a
//! test can prove that its clients held the limit. In the Rust API
//! ([`PardotMock::concurrency`]) and at `GET /__mock/concurrency`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pardot_auth_core::BusinessUnitId;
use serde_json::json;

use super::api::{PardotApi, Unit};
use crate::PardotMock;
use crate::state::MockState;

/// One business unit's concurrency counters, since start or the mock's last reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConcurrencyStats {
    /// The most requests that were in flight at once, counting every arrival: admitted ones
    /// until they finished, refused ones (error 66) at their arrival.
    pub peak_in_flight: u32,
    /// Requests in flight now.
    pub in_flight: u32,
    /// Error-66 answers ("concurrent request limit").
    pub refused_66: u64,
    /// The unit's configured limit.
    pub limit: u32,
}

fn stats(unit: &Unit) -> ConcurrencyStats {
    ConcurrencyStats {
        peak_in_flight: unit.limits.peak_in_flight(),
        in_flight: unit.limits.in_flight(),
        refused_66: unit.limits.refused(),
        limit: unit.limits.max_in_flight(),
    }
}

impl PardotApi {
    /// The concurrency counters of a business unit (`None` for an unknown unit).
    pub fn concurrency(&self, business_unit: &BusinessUnitId) -> Option<ConcurrencyStats> {
        self.by_id
            .get(business_unit)
            .map(|&i| stats(&self.units[i]))
    }
}

impl PardotMock {
    /// The concurrency counters of a business unit (`None` for an unknown unit); reset by
    /// [`PardotMock::reset`]. Same as `GET /__mock/concurrency`.
    pub fn concurrency(&self, business_unit: &BusinessUnitId) -> Option<ConcurrencyStats> {
        self.state().pardot().concurrency(business_unit)
    }
}

/// `GET /__mock/concurrency`: `{"business_units":{"BU":{"peak_in_flight","in_flight",
/// "refused_66","limit"}}}`.
pub(crate) async fn report(state: MockState) -> Response {
    let api = state.pardot();
    let units: serde_json::Map<_, _> = api
        .units
        .iter()
        .map(|u| {
            let s = stats(u);
            let entry = json!({
                "peak_in_flight": s.peak_in_flight,
                "in_flight": s.in_flight,
                "refused_66": s.refused_66,
                "limit": s.limit,
            });
            (u.id.as_str().to_owned(), entry)
        })
        .collect();
    let body = json!({ "business_units": units });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
