//! The front door every request passes before routing: resolves the virtual host (see
//! [`crate::virtual_host`]) and strips its path prefix, reads the body with a size limit,
//! parses the parameters, serves faults and latency, calls the login server's busiest
//! endpoints itself (`oauth::direct`) and hands every other request to the route
//! table, and records the journal and counters.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use pardot_auth_core::clock::unix_millis;
use tower::Service;

use crate::journal::{Arrival, KeptEntry};
use crate::oauth::direct::DirectEndpoint;
use crate::outcome::plain;
use crate::request_params::RequestParams;
use crate::route::{Outcome, Route};
use crate::state::MockState;
use crate::virtual_host::{HostKind, VirtualHost, resolve};

/// The largest request body the mock reads (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub use crate::journal::{JOURNAL_MAX_PAIRS, JOURNAL_MAX_TEXT};

/// The counter/journal key of a request path (inside its virtual host).
pub fn route_key(path: &str) -> Route {
    let p = path.trim_end_matches('/');
    if p.starts_with("/__mock") {
        return Route::Admin;
    }
    match p {
        "/services/oauth2/token" => return Route::OAuthToken,
        "/services/oauth2/revoke" => return Route::OAuthRevoke,
        "/services/oauth2/userinfo" => return Route::OAuthUserinfo,
        "/services/oauth2/introspect" => return Route::OAuthIntrospect,
        "/services/oauth2/authorize" => return Route::OAuthAuthorize,
        "/setup/connect" => return Route::OAuthDevice,
        _ => {}
    }
    if p.starts_with("/id/") {
        return Route::OAuthIdentity;
    }
    if p.starts_with("/services/Soap/") {
        return Route::OAuthSoap;
    }
    if p.starts_with("/api/login/") {
        return Route::PardotLogin;
    }
    if p == "/api/v5/exports" || p.starts_with("/api/v5/exports/") {
        return Route::PardotExport;
    }
    if p.starts_with("/api/v5/") {
        return Route::PardotV5;
    }
    if p.starts_with("/api/") {
        if p.contains("/version/3") {
            return Route::PardotV3;
        }
        if p.contains("/version/4") {
            return Route::PardotV4;
        }
        return Route::PardotOther;
    }
    let mut parts = p.trim_start_matches('/').splitn(2, '/');
    if let (Some(region), Some(rest)) = (parts.next(), parts.next())
        && crate::model::MCI_REGIONS.contains(&region)
    {
        return match rest {
            ".well-known/openid-configuration" => Route::MciDiscovery,
            "token" => Route::MciToken,
            _ => Route::MciOther,
        };
    }
    Route::Other
}

/// Handlers and extractors take the mock's state from the request, where the front door puts
/// it: the route table is then one per process and shared by every mock as it is (giving each
/// mock's table its state boxed every handler again: a third of a mock's start).
impl<S: Send + Sync> FromRequestParts<S> for MockState {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        // Every request is routed through the front door, so the state is always there.
        parts
            .extensions
            .get::<MockState>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The front door around the route table `routes`, for one mock's `state`. A service of its
/// own rather than axum's `from_fn` middleware, which boxed the route table again and
/// extracted the state anew for every request.
#[derive(Clone)]
pub(crate) struct FrontDoor {
    pub state: MockState,
    pub routes: Router,
}

impl Service<Request> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The route table is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let state = self.state.clone();
        let routes = self.routes.clone();
        Box::pin(async move { Ok(front(state, req, routes).await) })
    }
}

/// The front door (see the module docs).
async fn front(state: MockState, req: Request, routes: Router) -> Response {
    let (parts, body) = req.into_parts();
    let (vhost, inner_path) = resolve(&parts.headers, &parts.uri, state.public_url());
    let route = route_key(&inner_path);

    if route == Route::Admin
        && !state.config().admin_routes
        && inner_path != crate::admin::HEALTH_PATH
    {
        return plain(
            StatusCode::NOT_FOUND,
            "admin routes are disabled",
            Outcome::Http(404),
        );
    }
    if let HostKind::MyDomain(name) = &vhost.kind
        && state.model().org_by_my_domain(name).is_none()
    {
        let resp = plain(
            StatusCode::NOT_FOUND,
            &format!("pardot-mock: no org has the My Domain `{name}`"),
            Outcome::UnknownHost,
        );
        state.inner.counters.add(route, Outcome::UnknownHost);
        return resp;
    }

    // A request without a body (most GETs) is not polled: the body deadline would arm a
    // timer for nothing.
    let read = if body.is_end_stream() {
        Ok(Bytes::new())
    } else {
        axum::body::to_bytes(body, MAX_BODY_BYTES).await
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            let (status, text) = unread_body_answer(&e);
            let outcome = Outcome::Http(status.as_u16());
            state.inner.counters.add(route, outcome);
            return plain(status, text, outcome);
        }
    };
    let params = Arc::new(RequestParams::parse(
        parts.uri.query(),
        &parts.headers,
        &bytes,
    ));

    let journaled = route != Route::Admin;
    let started = state.now();
    let mut entry = journaled.then(|| {
        KeptEntry::record(&Arrival {
            seq: state.inner.journal.next_seq(),
            at_ms: unix_millis(started),
            method: parts.method.as_str(),
            vhost: &vhost,
            path: &inner_path,
            route,
            headers: &parts.headers,
            params: &params,
            body: (!bytes.is_empty() && params.form.is_empty()).then_some(&bytes[..]),
        })
    });

    if journaled && let Some(delay) = state.inner.faults.latency_for(route) {
        tokio::time::sleep(delay).await;
    }

    let response = match journaled.then(|| state.inner.faults.take(route)).flatten() {
        Some(canned) => {
            let mut r = Response::new(Body::from(canned.body));
            *r.status_mut() =
                StatusCode::from_u16(canned.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            if let Ok(v) = HeaderValue::from_str(&canned.content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            for (name, value) in &canned.headers {
                if let (Ok(n), Ok(v)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    r.headers_mut().append(n, v);
                }
            }
            r.extensions_mut().insert(Outcome::Fault);
            r
        }
        None => match DirectEndpoint::find(&inner_path, &parts.method) {
            Some(endpoint) => {
                endpoint
                    .call(state.clone(), parts.method, vhost, params, parts.headers)
                    .await
            }
            // Boxed: the route table's future is half the front door's size, which would
            // otherwise be allocated and moved for every request, direct ones included.
            None => {
                Box::pin(routed(
                    parts,
                    vhost,
                    &inner_path,
                    params,
                    &state,
                    bytes,
                    routes,
                ))
                .await
            }
        },
    };

    let status = response.status();
    let outcome = match response.extensions().get::<Outcome>() {
        Some(o) => *o,
        None if status.is_success() || status.is_redirection() => Outcome::Ok,
        None => Outcome::Http(status.as_u16()),
    };
    state.inner.counters.add(route, outcome);
    // The entry's texts were copied, bounded, at their exact size: an entry that kept the
    // parsed strings would keep their spare capacity too (the hostile run's journal grew by
    // 30 MB that way).
    if let Some(mut e) = entry.take() {
        e.status = status.as_u16();
        e.outcome = outcome;
        state.inner.journal.push(e);
    }
    response
}

/// Hands the request to the route table: with the virtual host's prefix stripped from its
/// path, and the host, the parameters and the mock's state in its extensions for the
/// handler's extractors.
async fn routed(
    mut parts: Parts,
    vhost: VirtualHost,
    inner_path: &str,
    params: Arc<RequestParams>,
    state: &MockState,
    bytes: Bytes,
    mut routes: Router,
) -> Response {
    // Only a prefixed virtual host (`/sandbox`, `/my/NAME`, `/demo`) changes the path.
    if inner_path != parts.uri.path() {
        let mut uri_parts = parts.uri.clone().into_parts();
        let pq = match parts.uri.query() {
            Some(q) => format!("{inner_path}?{q}"),
            None => inner_path.to_owned(),
        };
        uri_parts.path_and_query = pq.parse().ok();
        if let Ok(uri) = Uri::from_parts(uri_parts) {
            parts.uri = uri;
        }
    }
    parts.extensions.insert(vhost);
    parts.extensions.insert(params);
    parts.extensions.insert(state.clone());
    match routes
        .call(Request::from_parts(parts, Body::from(bytes)))
        .await
    {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The answer to a body that could not be read: too large (413), not sent within the body
/// read timeout (408), or broken off or badly framed by the client (400).
fn unread_body_answer(error: &axum::Error) -> (StatusCode, &'static str) {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        if e.is::<tower_http::timeout::TimeoutError>() {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "request body not received within the body read timeout",
            );
        }
        cause = e.source();
    }
    (StatusCode::BAD_REQUEST, "request body could not be read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys() {
        let cases = [
            ("/services/oauth2/token", Route::OAuthToken),
            ("/us1/token", Route::MciToken),
            ("/eu2/.well-known/openid-configuration", Route::MciDiscovery),
            ("/api/login/version/4", Route::PardotLogin),
            ("/api/prospect/version/4/do/query", Route::PardotV4),
            ("/api/v5/objects/prospects", Route::PardotV5),
            ("/api/v5/exports", Route::PardotExport),
            ("/api/v5/exports/7/results/1", Route::PardotExport),
            ("/api/v5/exportsx", Route::PardotV5),
            ("/id/00D/005", Route::OAuthIdentity),
            ("/__mock/counts", Route::Admin),
            ("/nope", Route::Other),
        ];
        for (path, route) in cases {
            assert_eq!(route_key(path), route, "{path}");
        }
    }
}
