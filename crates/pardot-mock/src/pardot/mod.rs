//! The fake Pardot API: the legacy login, the v3/v4 endpoints (XML and JSON), the v5
//! objects (prospects and their writes, custom fields, the v3/v4 objects), authentication checks with the real codes, per-business-unit limits
//! and the demo-host rule.
//!
//! All Pardot state (api_keys, the prospects' mutable stores, in-flight and daily counters,
//! failed-login counts) lives here, built from the mock's configuration at start-up; the rest
//! of the mock is reached through [`Backend`] (the clock, Salesforce tokens, users' business
//! units).

mod admin;
mod admission;
mod api;
mod concurrency;
mod errors;
mod export;
mod gate;
mod host;
mod legacy;
mod limits;
mod objects;
#[cfg(test)]
mod props;
mod prospects;
mod render;
mod seed;
mod time;
mod v34;
mod v5;

use axum::Router;
use axum::routing::{any, get, post};

pub(crate) use admission::{Admitted, Backend, Caller};
pub(crate) use api::Account;
pub use api::PardotApi;
pub use concurrency::ConcurrencyStats;
pub(crate) use errors::ApiError;
pub(crate) use export::reset as reset_exports;
pub(crate) use host::{not_a_pardot_host, public_base};
pub(crate) use prospects::Prospect;

/// Tags a failure for the mock's counters (`pardot_<code>`).
pub(crate) fn outcome(
    mut response: axum::response::Response,
    error: &ApiError,
) -> axum::response::Response {
    response
        .extensions_mut()
        .insert(crate::route::Outcome::Pardot(error.code));
    response
}

/// The Pardot routes (paths inside the virtual host; the front door strips `/demo`).
pub(crate) fn routes() -> Router {
    Router::new()
        .route("/api/login/version/{version}", any(v34::login))
        .route("/api/{object}/version/{version}/do/{op}", any(v34::call))
        .route(
            "/api/{object}/version/{version}/do/{op}/{id_field}/{id}",
            any(v34::call),
        )
        .route(
            "/api/{object}/version/{version}/do/{op}/{field}/{value}/{field2}/{value2}",
            any(v34::call),
        )
        .route("/__mock/pardot", get(admin::status))
        .route("/__mock/concurrency", get(concurrency::report))
        .route("/__mock/pardot/hold", post(admin::hold))
        .route("/__mock/pardot/release", post(admin::release))
        // The v5 API, one family per line.
        .merge(v5::routes())
        .merge(export::routes())
}
