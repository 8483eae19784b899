//! How a handler reports the [`Outcome`] of its answer to the counters and the journal: as a
//! response extension the front door reads.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::route::Outcome;

/// `response`, marked with the outcome the counters and the journal record for it.
pub(crate) fn reporting(mut response: Response, outcome: Outcome) -> Response {
    response.extensions_mut().insert(outcome);
    response
}

/// A plain-text answer reporting `outcome`.
pub(crate) fn plain(status: StatusCode, text: &str, outcome: Outcome) -> Response {
    let response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response();
    reporting(response, outcome)
}
