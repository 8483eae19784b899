//! A one-shot loopback HTTP server that receives the web server flow's redirect.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use pardot_auth_core::url::{Host, Url};
use pardot_auth_core::{Error, SharedClock, redact};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::error::{OAuthError, OAuthErrorCode};
use crate::types::{AuthorizationCode, CsrfState, RedirectUrl};

const CONTEXT: &str = "web server flow callback";

/// Default wait for the user to finish in the browser.
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Longest a connection may take to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest request head (request line and headers) the receiver reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in</title></head>\
<body><h1>Signed in</h1><p>You can close this window and return to the application.</p></body></html>";

fn failure_page(reason: &str) -> String {
    let escaped: String = reason
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
         <body><h1>Sign-in failed</h1><p>{escaped}</p><p>You can close this window.</p></body></html>"
    )
}

/// Listens on the loopback address of a redirect URI and waits for exactly one redirect.
///
/// It binds only the loopback address the URI names (`localhost` means `127.0.0.1`, `[::1]`
/// means `::1`), on the URI's port (80 when it names none), or on a free port when the URI
/// says port `0`; then
/// [`redirect_url`](Self::redirect_url) is the URI with the real port, to register on the
/// connected app and send as `redirect_uri`. Requests to other paths get 404 and do not count.
///
/// ```no_run
/// # async fn demo() -> Result<(), pardot_auth_core::Error> {
/// use std::time::Duration;
/// use pardot_auth_core::SystemClock;
/// use sf_oauth::{CallbackReceiver, CsrfState, RedirectUrl};
///
/// let receiver = CallbackReceiver::bind(&RedirectUrl::new("http://localhost:7777/callback")?).await?;
/// let state = CsrfState::new_random();
/// // … send the user to the authorize URL with this `state` …
/// let code = receiver.receive(&state, Duration::from_secs(300), SystemClock::shared()).await?;
/// # Ok(()) }
/// ```
pub struct CallbackReceiver {
    listener: TcpListener,
    redirect: RedirectUrl,
}

pardot_auth_core::debug_shows!(CallbackReceiver as this {
    redirect: this.redirect,
});

/// The loopback address to bind for a redirect URI host.
fn loopback_ip(url: &Url) -> Result<IpAddr, OAuthError> {
    match url.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        Some(Host::Ipv4(ip)) if ip.is_loopback() => Ok(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) if ip == Ipv6Addr::LOCALHOST => Ok(IpAddr::V6(ip)),
        _ => Err(OAuthError::Config(format!(
            "the callback receiver needs a loopback redirect URI (http://localhost, \
             http://127.0.0.1 or http://[::1]), not `{url}`"
        ))),
    }
}

impl CallbackReceiver {
    /// Binds the loopback address of `redirect` (which must be `http` on a loopback host).
    pub async fn bind(redirect: &RedirectUrl) -> Result<Self, Error> {
        Self::bind_inner(redirect)
            .await
            .map_err(|e| e.into_core(CONTEXT))
    }

    async fn bind_inner(redirect: &RedirectUrl) -> Result<Self, OAuthError> {
        let url = redirect.url();
        if url.scheme() != "http" {
            return Err(OAuthError::Config(format!(
                "the callback receiver serves plain http on loopback; `{url}` is not http"
            )));
        }
        let ip = loopback_ip(url)?;
        // `http://localhost/cb` means port 80, as a browser reads it; only an explicit `:0`
        // asks for a free port.
        let port = url.port_or_known_default().unwrap_or(0);
        let listener = TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| OAuthError::Callback(format!("cannot listen on {ip}:{port}: {e}")))?;
        let actual = listener
            .local_addr()
            .map_err(|e| OAuthError::Callback(e.to_string()))?
            .port();
        let redirect = if url.port() == Some(actual) {
            redirect.clone()
        } else {
            let mut with_port = url.clone();
            with_port
                .set_port(Some(actual))
                .map_err(|()| OAuthError::Config(format!("`{url}` cannot carry a port")))?;
            RedirectUrl::new(with_port.to_string())?
        };
        Ok(Self { listener, redirect })
    }

    /// The redirect URI this receiver answers, with its real port.
    pub fn redirect_url(&self) -> &RedirectUrl {
        &self.redirect
    }

    /// Waits (on `clock`, up to `timeout`) for the redirect; checks its `state` against
    /// `expected`, answers the browser with a small page, and returns the authorization code,
    /// or the `error`/`error_description` the redirect carried.
    ///
    /// The returned future owns everything it needs (`'static`), so it can be spawned.
    pub fn receive(
        self,
        expected: &CsrfState,
        timeout: Duration,
        clock: SharedClock,
    ) -> impl Future<Output = Result<AuthorizationCode, Error>> + Send + 'static {
        let expected = expected.clone();
        self.receive_owned(expected, timeout, clock)
    }

    async fn receive_owned(
        self,
        expected: CsrfState,
        timeout: Duration,
        clock: SharedClock,
    ) -> Result<AuthorizationCode, Error> {
        let path = self.redirect.url().path().to_owned();
        let (tx, mut rx) = mpsc::channel::<Result<AuthorizationCode, OAuthError>>(1);
        let accept_loop = async {
            loop {
                tokio::select! {
                    biased;
                    outcome = rx.recv() => {
                        // `tx` lives in this function, so the channel cannot close first.
                        return outcome.unwrap_or(Err(OAuthError::Callback("receiver closed".into())));
                    }
                    accepted = self.listener.accept() => {
                        let (stream, _) = match accepted {
                            Ok(pair) => pair,
                            Err(e) => {
                                tracing::debug!(error = %e, "callback accept failed");
                                continue;
                            }
                        };
                        let tx = tx.clone();
                        let path = path.clone();
                        let expected = expected.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req: Request<Incoming>| {
                                let reply = handle(&req, &path, &expected);
                                let tx = tx.clone();
                                async move {
                                    let (status, page, outcome) = reply;
                                    if let Some(outcome) = outcome {
                                        // Only the first callback counts; later ones find the
                                        // channel full or closed.
                                        let _ = tx.try_send(outcome);
                                    }
                                    Ok::<_, Infallible>(page_response(status, page))
                                }
                            });
                            // A browser sends its request at once; a connection that
                            // dribbles its headers is dropped (network timeout, real time).
                            let conn = hyper::server::conn::http1::Builder::new()
                                .timer(TokioTimer::new())
                                .header_read_timeout(HEADER_READ_TIMEOUT)
                                .keep_alive(false)
                                .max_buf_size(MAX_REQUEST_HEAD)
                                .serve_connection(TokioIo::new(stream), service);
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "callback connection ended with an error");
                            }
                        });
                    }
                }
            }
        };
        match pardot_auth_core::clock::timeout(clock.as_ref(), timeout, accept_loop).await {
            Ok(result) => result.map_err(|e| e.into_core(CONTEXT)),
            Err(_) => Err(OAuthError::Timeout(timeout).into_core(CONTEXT)),
        }
    }
}

pub(crate) type Reply = (
    StatusCode,
    String,
    Option<Result<AuthorizationCode, OAuthError>>,
);

fn handle(req: &Request<Incoming>, path: &str, expected: &CsrfState) -> Reply {
    if req.method() != hyper::Method::GET || req.uri().path() != path {
        return (StatusCode::NOT_FOUND, failure_page("Not found."), None);
    }
    read_redirect(req.uri().query(), expected)
}

/// What the redirect's query (`code` and `state`, or `error` and `error_description`) means,
/// and the page the browser is shown.
pub(crate) fn read_redirect(query: Option<&str>, expected: &CsrfState) -> Reply {
    let params: HashMap<String, String> = query
        .map(|q| {
            pardot_auth_core::url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let state_ok = params.get("state").is_some_and(|s| expected.matches(s));
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").cloned().unwrap_or_default();
        let page = failure_page(&format!("{error}: {description}"));
        let outcome = if state_ok {
            // What the redirect says reaches errors and logs: bounded and redacted, as any
            // server text.
            Err(OAuthError::Authorization {
                error: OAuthErrorCode::parse(&redact::excerpt(error.as_bytes(), 100)),
                description: redact::excerpt(description.as_bytes(), 500),
            })
        } else {
            Err(OAuthError::StateMismatch)
        };
        return (StatusCode::OK, page, Some(outcome));
    }
    if !state_ok {
        return (
            StatusCode::BAD_REQUEST,
            failure_page("The sign-in response does not belong to this request (state mismatch)."),
            Some(Err(OAuthError::StateMismatch)),
        );
    }
    match params.get("code").filter(|c| !c.is_empty()) {
        Some(code) => (
            StatusCode::OK,
            DONE_PAGE.to_owned(),
            Some(Ok(AuthorizationCode::new(code.clone()))),
        ),
        None => (
            StatusCode::BAD_REQUEST,
            failure_page("The sign-in response carries no code."),
            Some(Err(OAuthError::Callback(
                "the redirect carried neither code nor error".into(),
            ))),
        ),
    }
}

fn page_response(status: StatusCode, page: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(page)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}
