//! What every v5 request goes through: the Pardot host, the Bearer token and business unit,
//! the unit's limits (in-flight slot and daily budget), then one answer: a JSON body with its
//! status, `204` with none, or the v5 error.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::super::Backend;
use super::super::api::Unit;
use super::super::errors::ApiError;
use super::super::render;
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// What a v5 handler answers.
#[derive(Debug)]
pub(super) enum Reply {
    /// A JSON body with this status.
    Json(StatusCode, String),
    /// A JSON body kept from an earlier answer, with this status.
    KeptJson(StatusCode, Bytes),
    /// `204 No Content` (a delete).
    NoContent,
}

/// A v5 request as every handler extracts it first (the path and body come beside it).
pub(super) struct Call {
    state: MockState,
    vhost: Option<VirtualHost>,
    uri: Uri,
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for Call {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            state: MockState::from_request_parts(parts, state).await?,
            vhost: parts.extensions.get::<VirtualHost>().cloned(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        })
    }
}

/// A v5 request after admission: the caller's business unit and what it asked.
pub(super) struct Ctx<'a> {
    /// The caller's business unit.
    pub unit: &'a Unit,
    /// The query parameters.
    pub pairs: Vec<(String, String)>,
    /// The mock clock's time.
    pub now: SystemTime,
    call: &'a Call,
}

impl Ctx<'_> {
    /// The request body as a JSON object (see [`super::writes::json_object`]).
    pub fn json_body(&self, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
        super::writes::json_object(&self.call.headers, body)
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.pairs, name)
    }

    /// The URL the caller reached the API at (`nextPageUrl` starts with it).
    pub fn public_base(&self) -> String {
        self.call.vhost.as_ref().map_or_else(
            || super::super::public_base(&self.call.headers, self.call.uri.path()),
            |v| v.public_base.clone(),
        )
    }
}

/// The value of parameter `name` among `pairs`.
pub(super) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// The v5 error answer, tagged for the mock's counters.
pub(super) fn error(e: &ApiError) -> Response {
    super::super::outcome(render::v5_error(e), e)
}

impl Call {
    /// Admits the request (a Pardot host, a Bearer token, then the unit's limits) and
    /// answers with what `answer` makes of it, or the v5 error either returns.
    pub async fn serve(self, answer: impl FnOnce(&Ctx<'_>) -> Result<Reply, ApiError>) -> Response {
        let api = self.state.pardot();
        let vhost = self.vhost.clone().map(axum::Extension);
        let Some(host) = super::super::host::pardot_host(vhost.as_ref(), &self.headers, &self.uri)
        else {
            return super::super::not_a_pardot_host();
        };
        // Held until the answer is written: the unit's in-flight slot.
        let admitted = match api.admit_bearer(&self.state, &self.headers, host).await {
            Ok(a) => a,
            Err(e) => return error(&e),
        };
        let ctx = Ctx {
            unit: admitted.unit,
            pairs: query_pairs(&self.uri),
            now: Backend::now(&self.state),
            call: &self,
        };
        match answer(&ctx) {
            Ok(Reply::Json(status, body)) => render::respond(status, render::Format::Json, body),
            Ok(Reply::KeptJson(status, body)) => {
                render::respond(status, render::Format::Json, body)
            }
            Ok(Reply::NoContent) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => error(&e),
        }
    }
}
