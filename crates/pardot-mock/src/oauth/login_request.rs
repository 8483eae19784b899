//! [`LoginRequest`], what every login-server handler extracts first: the request on a login
//! virtual host, or the "not a login host" answer before the handler runs.

use std::sync::Arc;

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::grant_context::GrantContext;
use super::not_a_login_host;
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// A request to a login-server path on a login virtual host.
pub(crate) struct LoginRequest {
    pub state: MockState,
    pub method: Method,
    pub vhost: VirtualHost,
    pub login: LoginVhost,
    pub params: Arc<RequestParams>,
    pub headers: HeaderMap,
}

impl LoginRequest {
    /// The request on `vhost`; `None` when `vhost` is not a login host.
    pub(crate) fn new(
        state: MockState,
        method: Method,
        vhost: VirtualHost,
        params: Arc<RequestParams>,
        headers: HeaderMap,
    ) -> Option<Self> {
        let login = vhost.login()?;
        Some(Self {
            state,
            method,
            vhost,
            login,
            params,
            headers,
        })
    }

    /// The request as the token-endpoint grants see it.
    pub(crate) fn grant_context(&self) -> GrantContext<'_> {
        GrantContext {
            state: &self.state,
            vhost: &self.vhost,
            login: self.login.clone(),
            params: &self.params,
            headers: &self.headers,
        }
    }
}

/// Takes the headers and the virtual host out of the request instead of copying them (a
/// copy of the header map was a large part of a token grant's allocations): so it must be
/// the handler's last extractor, as it is in every login-server handler.
impl<S: Send + Sync> FromRequestParts<S> for LoginRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let mock = MockState::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Extension(params) = Extension::<Arc<RequestParams>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(vhost) = parts.extensions.remove::<VirtualHost>() else {
            return Err(missing_virtual_host(parts, state).await);
        };
        Self::new(
            mock,
            parts.method.clone(),
            vhost,
            params,
            std::mem::take(&mut parts.headers),
        )
        .ok_or_else(not_a_login_host)
    }
}

/// The answer to a request the front door did not mark with its virtual host: the
/// `Extension` extractor's, as before the host was taken out instead of copied.
async fn missing_virtual_host<S: Send + Sync>(parts: &mut Parts, state: &S) -> Response {
    match Extension::<VirtualHost>::from_request_parts(parts, state).await {
        Ok(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}
