//! The login server's busiest endpoints (token, userinfo, revoke, introspect), which the
//! front door calls itself instead of through the route table. Matching the path in the
//! table, recording the matched path and the method router, and putting the state, host and
//! parameters into the request's extensions for the handler to take out again, were a third
//! of the instructions of a userinfo answer and a tenth of a token grant's.
//!
//! The route table still holds these paths, from this same list ([`DirectEndpoint::ALL`]),
//! and answers what is not called directly: `HEAD`, which it answers without a body, and the
//! methods an endpoint does not serve (405 with `Allow`).

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{MethodRouter, any, post};

use super::login_request::LoginRequest;
use super::{endpoints, get_or_post, grants, not_a_login_host};
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// One of the endpoints the front door calls directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirectEndpoint {
    Token,
    Userinfo,
    Revoke,
    Introspect,
}

impl DirectEndpoint {
    /// Every direct endpoint, in route-table order.
    pub(crate) const ALL: [Self; 4] = [Self::Token, Self::Revoke, Self::Userinfo, Self::Introspect];

    /// Its path inside a login virtual host.
    pub(crate) const fn path(self) -> &'static str {
        match self {
            Self::Token => "/services/oauth2/token",
            Self::Revoke => "/services/oauth2/revoke",
            Self::Userinfo => "/services/oauth2/userinfo",
            Self::Introspect => "/services/oauth2/introspect",
        }
    }

    /// Its entry in the route table. The token endpoint takes every method and answers the
    /// wrong ones itself, as Salesforce does; revoke and userinfo serve `GET` and `POST` alike.
    pub(crate) fn method_router(self) -> MethodRouter {
        match self {
            Self::Token => any(grants::token_endpoint),
            Self::Revoke => get_or_post(endpoints::revoke),
            Self::Userinfo => get_or_post(endpoints::userinfo),
            Self::Introspect => post(endpoints::introspect),
        }
    }

    /// The endpoint at exactly `path`, when its route-table entry would call the handler for
    /// `method` with the body it answers (so not `HEAD`).
    pub(crate) fn find(path: &str, method: &Method) -> Option<Self> {
        let endpoint = Self::ALL.into_iter().find(|e| e.path() == path)?;
        let served = match endpoint {
            Self::Token => *method != Method::HEAD,
            Self::Revoke | Self::Userinfo => *method == Method::GET || *method == Method::POST,
            Self::Introspect => *method == Method::POST,
        };
        served.then_some(endpoint)
    }

    /// Answers the request, as its handler does when the route table calls it.
    pub(crate) async fn call(
        self,
        state: MockState,
        method: Method,
        vhost: VirtualHost,
        params: Arc<RequestParams>,
        headers: HeaderMap,
    ) -> Response {
        let Some(request) = LoginRequest::new(state, method, vhost, params, headers) else {
            return not_a_login_host();
        };
        match self {
            Self::Token => grants::token_endpoint(request).await,
            Self::Revoke => endpoints::revoke(request).await,
            Self::Userinfo => endpoints::userinfo(request).await,
            Self::Introspect => endpoints::introspect(request).await,
        }
    }
}

/// The route-table entries of the direct endpoints.
pub(crate) fn routes() -> Router {
    DirectEndpoint::ALL
        .into_iter()
        .fold(Router::new(), |router, e| {
            router.route(e.path(), e.method_router())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_paths_and_served_methods_are_called_directly() {
        let cases = [
            (
                "/services/oauth2/token",
                Method::POST,
                Some(DirectEndpoint::Token),
            ),
            (
                "/services/oauth2/token",
                Method::GET,
                Some(DirectEndpoint::Token),
            ),
            (
                "/services/oauth2/token",
                Method::PUT,
                Some(DirectEndpoint::Token),
            ),
            ("/services/oauth2/token", Method::HEAD, None),
            ("/services/oauth2/token/", Method::POST, None),
            ("/services/oauth2/Token", Method::POST, None),
            (
                "/services/oauth2/userinfo",
                Method::GET,
                Some(DirectEndpoint::Userinfo),
            ),
            (
                "/services/oauth2/userinfo",
                Method::POST,
                Some(DirectEndpoint::Userinfo),
            ),
            ("/services/oauth2/userinfo", Method::HEAD, None),
            ("/services/oauth2/userinfo", Method::DELETE, None),
            (
                "/services/oauth2/revoke",
                Method::GET,
                Some(DirectEndpoint::Revoke),
            ),
            ("/services/oauth2/revoke", Method::PATCH, None),
            (
                "/services/oauth2/introspect",
                Method::POST,
                Some(DirectEndpoint::Introspect),
            ),
            ("/services/oauth2/introspect", Method::GET, None),
            ("/services/oauth2/authorize", Method::GET, None),
        ];
        for (path, method, want) in cases {
            assert_eq!(DirectEndpoint::find(path, &method), want, "{method} {path}");
        }
    }
}
