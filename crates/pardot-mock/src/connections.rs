//! The accept loop: serves the app over HTTP/1.1 with hyper directly, because `axum::serve`
//! gives no header read timeout. A client that sends half a request and stops (a slowloris)
//! is dropped after the header read timeout, or answered 408 after the body read timeout; at
//! most `max_connections` are served at once, and the header block is bounded in size and
//! count. Graceful shutdown stops accepting and lets the requests in flight finish.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tower::{Service, ServiceBuilder};
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::config::ServerConfig;

/// The most header fields a request may carry (more: 431). It is hyper's own default, which
/// the server keeps by not setting it: set explicitly, hyper fills a fresh array of this many
/// slots for every request head instead of using an uninitialised one.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of a request line and its headers (more: 431). Room for a 10,000-parameter
/// query of short names, far beyond what a Salesforce or Pardot client sends.
pub const MAX_HEADER_BYTES: usize = 128 * 1024;

/// What the accept loop serves: the whole mock as one cloneable service.
pub(crate) trait MockService:
    Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> MockService for S where
    S: Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// How long the loop pauses when `accept` fails for want of file descriptors, so it does not
/// spin while the connections it serves close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` within the `limits` until `stop` fires or is dropped, then
/// waits for the connections in flight to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: impl MockService,
    limits: &ServerConfig,
    stop: oneshot::Receiver<()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_header_size(MAX_HEADER_BYTES);
    // The deadline covers the whole body from the moment the headers arrived, so a client
    // sending a byte now and then cannot keep a request open either.
    let service = ServiceBuilder::new()
        .layer(RequestBodyDeadlineLayer::new(limits.body_read_timeout()))
        .map_request(|req: Request<_>| req.map(Body::new))
        .service(app);
    // A semaphore holds at most MAX_PERMITS; a larger configured cap means no cap.
    let slots = Arc::new(Semaphore::new(
        limits.connection_limit().min(Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if is_out_of_descriptors(&e) {
                        tracing::warn!(error = %e, "pardot-mock: accept failed; pausing");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        ));
        tokio::spawn(async move {
            // A client that went away or broke the protocol ends only its own connection.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Whether `accept` failed because the process or the system ran out of file descriptors
/// (then waiting helps; other errors concern one connection only).
fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    // EMFILE (24) and ENFILE (23) on Linux and macOS.
    matches!(e.raw_os_error(), Some(23 | 24))
}
