//! How a handler reports the [`Outcome`] of its answer to the counters and the journal: as a
//! response extension the front door reads.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::route::Outcome;

/// `response`, marked with the outcome the counters and the journal record for it.
pub(crate) fn reporting(mut response: Response, outcome: Outcome) -> Response {
    response.extensions_mut().insert(outcome);
    response
}

/// A plain-text answer reporting `outcome`.
pub(crate) fn plain(status: StatusCode, text: &str, outcome: Outcome) -> Response {
    let mut response = Response::new(Body::from(text.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reporting(response, outcome)
}
