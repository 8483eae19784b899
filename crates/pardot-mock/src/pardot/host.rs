//! Which Pardot host a request reached (production or demo), the base URL it was called at,
//! and the answer on a host that serves no Pardot API.

use axum::Extension;
use axum::http::{HeaderMap, Uri};

use crate::config::PardotHostKind;
use crate::virtual_host::VirtualHost;

/// The Pardot host a request was made to: the Host header when it names a real Pardot host,
/// else the path prefix (`{base}/demo/...` is the demo host).
pub(crate) fn called_host(headers: &HeaderMap, original_path: &str) -> PardotHostKind {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    match host.as_deref() {
        Some("pi.demo.pardot.com") => PardotHostKind::Demo,
        Some("pi.pardot.com") => PardotHostKind::Production,
        _ if original_path.starts_with("/demo/") => PardotHostKind::Demo,
        _ => PardotHostKind::Production,
    }
}

/// The base URL a client used to reach the Pardot host it called (for v5 `nextPageUrl`).
pub(crate) fn public_base(headers: &HeaderMap, original_path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let bare = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    if bare == "pi.pardot.com" || bare == "pi.demo.pardot.com" {
        format!("https://{host}")
    } else if original_path.starts_with("/demo/") {
        format!("http://{host}/demo")
    } else {
        format!("http://{host}")
    }
}

/// The answer for a Pardot path on a virtual host that is not a Pardot host (the sandbox or
/// a My Domain login host).
pub(crate) fn not_a_pardot_host() -> axum::response::Response {
    crate::outcome::plain(
        axum::http::StatusCode::NOT_FOUND,
        "pardot-mock: the Pardot API is served on {base} (pi.pardot.com) and {base}/demo (pi.demo.pardot.com)",
        crate::route::Outcome::Http(404),
    )
}

/// The Pardot host a request reached: the front door's virtual host, or (without it) the
/// Host header and path.
pub(crate) fn pardot_host(
    vhost: Option<&Extension<VirtualHost>>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Option<PardotHostKind> {
    match vhost {
        Some(Extension(v)) => v.pardot(),
        None => Some(called_host(headers, uri.path())),
    }
}
