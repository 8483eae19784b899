//! The plain-text answer that carries the [`Outcome`] a handler reports for the counters and
//! the journal.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::route::Outcome;

pub(crate) fn plain(status: StatusCode, text: &str, outcome: &str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response();
    r.extensions_mut().insert(Outcome::reported(outcome));
    r
}
