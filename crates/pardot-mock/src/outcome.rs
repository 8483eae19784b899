//! The outcome a handler reports for the counters and the journal, and the plain-text answer
//! that carries one.

use std::borrow::Cow;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The outcome a handler reports for the counters (`ok` when absent and the status is 2xx/3xx).
#[derive(Debug, Clone)]
pub struct Outcome(pub Cow<'static, str>);

pub(crate) fn plain(status: StatusCode, text: &str, outcome: &'static str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response();
    r.extensions_mut().insert(Outcome(Cow::Borrowed(outcome)));
    r
}
