//! [`ExportCall`], what every export handler extracts first: the request on a Pardot host
//! (or the "not a Pardot host" answer), then admitted as the other v5 routes are.

use std::sync::Arc;

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::invalid;
use super::registry::{Export, Exports};
use crate::config::PardotHostKind;
use crate::pardot::errors::ApiError;
use crate::pardot::{PardotApi, render};
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// A request to an export route on a Pardot host.
pub(super) struct ExportCall {
    pub state: MockState,
    host: PardotHostKind,
    pub params: Arc<RequestParams>,
    pub headers: HeaderMap,
    /// The base URL the client called (for `resultRefs` and `nextPageUrl`).
    pub base: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ExportCall {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let mock = MockState::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let vhost = parts.extensions.get::<VirtualHost>().cloned();
        let params = parts
            .extensions
            .get::<Arc<RequestParams>>()
            .cloned()
            .unwrap_or_default();
        let host = crate::pardot::host::pardot_host(
            vhost.clone().map(Extension).as_ref(),
            &parts.headers,
            &parts.uri,
        )
        .ok_or_else(crate::pardot::not_a_pardot_host)?;
        let base = vhost.map_or_else(
            || crate::pardot::public_base(&parts.headers, parts.uri.path()),
            |v| v.public_base,
        );
        Ok(Self {
            state: mock,
            host,
            params,
            headers: parts.headers.clone(),
            base,
        })
    }
}

impl ExportCall {
    /// Admits the call (Bearer token, business unit, the unit's limits) and answers with
    /// what `answer` makes of the admitted unit (its index in the Pardot state), holding the
    /// unit's in-flight slot until then; a refusal or an error is the v5 error answer.
    pub(super) async fn answer(
        &self,
        answer: impl AsyncFnOnce(&Arc<PardotApi>, usize) -> Result<Response, ApiError>,
    ) -> Response {
        let api = self.state.pardot();
        let admitted = match api
            .admit_bearer(&self.state, &self.headers, self.host)
            .await
        {
            Ok(admitted) => admitted,
            Err(e) => return error(&e),
        };
        let unit = api
            .units
            .iter()
            .position(|u| std::ptr::eq(u, admitted.unit))
            .unwrap_or_default();
        let answered = answer(&api, unit).await;
        drop(admitted);
        answered.unwrap_or_else(|e| error(&e))
    }

    /// The export `id` of `unit`, else 109.
    pub(super) fn export(&self, unit: usize, id: &str) -> Result<Arc<Export>, ApiError> {
        id.parse()
            .ok()
            .and_then(|id| Exports::of(&self.state).get(unit, id))
            .ok_or_else(|| not_found("no export with this id"))
    }
}

/// Code 109 (404): no such export or file of the caller's business unit.
pub(super) fn not_found(detail: &str) -> ApiError {
    invalid(109, detail)
}

/// The v5 error answer, tagged with its outcome.
fn error(e: &ApiError) -> Response {
    crate::pardot::outcome(render::v5_error(e), e)
}
