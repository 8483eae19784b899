//! Virtual hosts and the front door every request passes: host resolution, path-prefix
//! stripping, bounded body read, faults, latency, journal and counters.
//!
//! | real host | mock path prefix |
//! |---|---|
//! | `login.salesforce.com` | `{base}` |
//! | `test.salesforce.com` | `{base}/sandbox` |
//! | `NAME.my.salesforce.com` | `{base}/my/NAME` |
//! | `pi.pardot.com` | `{base}` (paths start with `/api/`) |
//! | `pi.demo.pardot.com` | `{base}/demo` |
//! | `idp.intelligence.salesforce.com` | `{base}` (paths start with `/{region}/`) |

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pardot_auth_core::clock::unix_millis;

use crate::config::PardotHostKind;
use crate::journal::JournalEntry;
use crate::route::{Outcome, Route};
use crate::state::MockState;

/// The largest request body the mock reads (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Which virtual host a request reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// `{base}` on loopback: production login, `pi.pardot.com` and the MCI IdP at once.
    Base,
    /// `login.salesforce.com` by Host header.
    Login,
    /// `test.salesforce.com` or `{base}/sandbox`.
    Sandbox,
    /// `NAME.my.salesforce.com` or `{base}/my/NAME` (name as given).
    MyDomain(String),
    /// `pi.pardot.com` by Host header.
    Pardot,
    /// `pi.demo.pardot.com` or `{base}/demo`.
    Demo,
    /// `idp.intelligence.salesforce.com` by Host header.
    Mci,
}

/// The Salesforce login server a request reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginVhost {
    /// `login.salesforce.com`.
    Production,
    /// `test.salesforce.com`.
    Sandbox,
    /// A My Domain host, by name.
    MyDomain(String),
}

/// The virtual host of a request, inserted as a request extension by the front door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualHost {
    /// Which host.
    pub kind: HostKind,
    /// The URL this host is reached at, no trailing slash: `http://127.0.0.1:PORT/sandbox`,
    /// or `https://login.salesforce.com` when called by its real name.
    pub public_base: String,
    /// `scheme://host[:port]` as called, no path (the default `instance_url`).
    pub origin: String,
}

impl VirtualHost {
    /// The login server, if this host is one.
    pub fn login(&self) -> Option<LoginVhost> {
        match &self.kind {
            HostKind::Base | HostKind::Login => Some(LoginVhost::Production),
            HostKind::Sandbox => Some(LoginVhost::Sandbox),
            HostKind::MyDomain(n) => Some(LoginVhost::MyDomain(n.clone())),
            _ => None,
        }
    }

    /// The Pardot host, if this host is one.
    pub fn pardot(&self) -> Option<PardotHostKind> {
        match &self.kind {
            HostKind::Base | HostKind::Pardot => Some(PardotHostKind::Production),
            HostKind::Demo => Some(PardotHostKind::Demo),
            _ => None,
        }
    }

    /// Whether the MCI identity provider is served here.
    pub fn serves_mci(&self) -> bool {
        matches!(self.kind, HostKind::Base | HostKind::Mci)
    }

    /// A short label for the journal.
    pub fn label(&self) -> String {
        match &self.kind {
            HostKind::Base => "base".into(),
            HostKind::Login => "login.salesforce.com".into(),
            HostKind::Sandbox => "sandbox".into(),
            HostKind::MyDomain(n) => format!("my/{n}"),
            HostKind::Pardot => "pi.pardot.com".into(),
            HostKind::Demo => "demo".into(),
            HostKind::Mci => "idp.intelligence.salesforce.com".into(),
        }
    }
}

/// Query parameters and form fields of a request, parsed once by the front door.
#[derive(Debug, Clone, Default)]
pub struct RequestParams {
    /// Query-string parameters.
    pub query: Vec<(String, String)>,
    /// Fields of an `application/x-www-form-urlencoded` body.
    pub form: Vec<(String, String)>,
}

impl RequestParams {
    /// A parameter from the form body, else from the query string.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Like [`RequestParams::get`], but an empty value counts as absent.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// Splits a request into its virtual host and the path inside it.
pub(crate) fn resolve(headers: &HeaderMap, uri: &Uri) -> (VirtualHost, String) {
    let host_header = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https");
    let path = uri.path();
    let hostname = host_header
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host_header.as_str(), |(h, _)| h)
        .to_ascii_lowercase();

    let real = match hostname.as_str() {
        "login.salesforce.com" => Some(HostKind::Login),
        "test.salesforce.com" => Some(HostKind::Sandbox),
        "pi.pardot.com" => Some(HostKind::Pardot),
        "pi.demo.pardot.com" => Some(HostKind::Demo),
        "idp.intelligence.salesforce.com" => Some(HostKind::Mci),
        h => h
            .strip_suffix(".sandbox.my.salesforce.com")
            .or_else(|| h.strip_suffix(".my.salesforce.com"))
            .filter(|n| !n.is_empty() && !n.contains('.'))
            .map(|n| HostKind::MyDomain(n.to_owned())),
    };
    if let Some(kind) = real {
        let scheme = forwarded_proto.unwrap_or("https");
        let origin = format!("{scheme}://{host_header}");
        return (
            VirtualHost {
                kind,
                public_base: origin.clone(),
                origin,
            },
            path.to_owned(),
        );
    }

    let scheme = forwarded_proto.unwrap_or("http");
    let origin = format!("{scheme}://{host_header}");
    let strip = |prefix: &str| -> Option<String> {
        let rest = path.strip_prefix(prefix)?;
        if rest.is_empty() {
            Some("/".to_owned())
        } else if rest.starts_with('/') {
            Some(rest.to_owned())
        } else {
            None
        }
    };
    let (kind, prefix, inner) = if let Some(rest) = strip("/sandbox") {
        (HostKind::Sandbox, "/sandbox".to_owned(), rest)
    } else if let Some(rest) = strip("/demo") {
        (HostKind::Demo, "/demo".to_owned(), rest)
    } else if let Some(after) = path.strip_prefix("/my/") {
        let (name, rest) = after.split_once('/').map_or((after, ""), |(n, r)| (n, r));
        (
            HostKind::MyDomain(name.to_owned()),
            format!("/my/{name}"),
            format!("/{rest}"),
        )
    } else {
        (HostKind::Base, String::new(), path.to_owned())
    };
    (
        VirtualHost {
            kind,
            public_base: format!("{origin}{prefix}"),
            origin,
        },
        inner,
    )
}

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

fn pairs(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(text).unwrap_or_default()
}

fn is_form(headers: &HeaderMap) -> bool {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => ct
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded"),
    }
}

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

/// The front door (see the module docs).
pub(crate) async fn front(State(state): State<MockState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let (vhost, inner_path) = resolve(&parts.headers, &parts.uri);
    let route = route_key(&inner_path);

    if route == Route::Admin && !state.config().admin_routes {
        return plain(
            StatusCode::NOT_FOUND,
            "admin routes are disabled",
            "http_404",
        );
    }
    if let HostKind::MyDomain(name) = &vhost.kind
        && state.model().org_by_my_domain(name).is_none()
    {
        let resp = plain(
            StatusCode::NOT_FOUND,
            &format!("pardot-mock: no org has the My Domain `{name}`"),
            "unknown_host",
        );
        state.inner.counters.add(route, Outcome::UnknownHost);
        return resp;
    }

    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            state.inner.counters.add(route, Outcome::Http(413));
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
                "http_413",
            );
        }
    };
    let params = RequestParams {
        query: parts.uri.query().map(pairs).unwrap_or_default(),
        form: if is_form(&parts.headers) {
            std::str::from_utf8(&bytes).map(pairs).unwrap_or_default()
        } else {
            Vec::new()
        },
    };

    let journaled = route != Route::Admin;
    let started = state.now();
    let mut entry = journaled.then(|| JournalEntry {
        seq: state.inner.journal.next_seq(),
        at_ms: unix_millis(started),
        method: parts.method.to_string(),
        vhost: vhost.label(),
        path: inner_path.clone(),
        route,
        query: params.query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        form: params.form.clone(),
        body: (!bytes.is_empty() && params.form.is_empty()).then(|| {
            let cut = &bytes[..bytes.len().min(4096)];
            String::from_utf8_lossy(cut).into_owned()
        }),
        status: 0,
        outcome: Outcome::Ok,
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
        None => {
            let mut uri_parts = parts.uri.clone().into_parts();
            let pq = match parts.uri.query() {
                Some(q) => format!("{inner_path}?{q}"),
                None => inner_path.clone(),
            };
            uri_parts.path_and_query = pq.parse().ok();
            let mut req_parts = parts;
            if let Ok(uri) = Uri::from_parts(uri_parts) {
                req_parts.uri = uri;
            }
            req_parts.extensions.insert(vhost);
            req_parts.extensions.insert(Arc::new(params));
            next.run(Request::from_parts(
                req_parts,
                Body::from(Bytes::clone(&bytes)),
            ))
            .await
        }
    };

    let status = response.status();
    let outcome = match response.extensions().get::<Outcome>() {
        Some(o) => *o,
        None if status.is_success() || status.is_redirection() => Outcome::Ok,
        None => Outcome::Http(status.as_u16()),
    };
    state.inner.counters.add(route, outcome);
    if let Some(mut e) = entry.take() {
        e.status = status.as_u16();
        e.outcome = outcome;
        state.inner.journal.push(e);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(host: &str, path: &str) -> (VirtualHost, String) {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        resolve(&h, &path.parse().unwrap())
    }

    #[test]
    fn prefixes_and_real_names() {
        let (v, p) = at("127.0.0.1:9", "/sandbox/services/oauth2/token");
        assert_eq!(v.kind, HostKind::Sandbox);
        assert_eq!(v.public_base, "http://127.0.0.1:9/sandbox");
        assert_eq!(v.origin, "http://127.0.0.1:9");
        assert_eq!(p, "/services/oauth2/token");

        let (v, p) = at("127.0.0.1:9", "/my/acme/id/x/y");
        assert_eq!(v.kind, HostKind::MyDomain("acme".into()));
        assert_eq!(v.public_base, "http://127.0.0.1:9/my/acme");
        assert_eq!(p, "/id/x/y");

        let (v, p) = at("127.0.0.1:9", "/demo/api/v5/objects/prospects");
        assert_eq!(v.pardot(), Some(PardotHostKind::Demo));
        assert_eq!(p, "/api/v5/objects/prospects");

        let (v, _) = at("127.0.0.1:9", "/sandboxes");
        assert_eq!(v.kind, HostKind::Base);

        let (v, p) = at("acme.my.salesforce.com", "/services/oauth2/token");
        assert_eq!(v.kind, HostKind::MyDomain("acme".into()));
        assert_eq!(v.public_base, "https://acme.my.salesforce.com");
        assert_eq!(p, "/services/oauth2/token");

        let (v, _) = at("test.salesforce.com:443", "/");
        assert_eq!(v.kind, HostKind::Sandbox);
        let (v, _) = at("pi.demo.pardot.com", "/api/x");
        assert_eq!(v.kind, HostKind::Demo);
        let (v, _) = at("idp.intelligence.salesforce.com", "/us1/token");
        assert!(v.serves_mci());
    }

    #[test]
    fn route_keys() {
        assert_eq!(route_key("/services/oauth2/token"), Route::OAuthToken);
        assert_eq!(route_key("/us1/token"), Route::MciToken);
        assert_eq!(
            route_key("/eu2/.well-known/openid-configuration"),
            Route::MciDiscovery
        );
        assert_eq!(route_key("/api/login/version/4"), Route::PardotLogin);
        assert_eq!(
            route_key("/api/prospect/version/4/do/query"),
            Route::PardotV4
        );
        assert_eq!(route_key("/api/v5/objects/prospects"), Route::PardotV5);
        assert_eq!(route_key("/id/00D/005"), Route::OAuthIdentity);
        assert_eq!(route_key("/__mock/counts"), Route::Admin);
        assert_eq!(route_key("/nope"), Route::Other);
    }
}
