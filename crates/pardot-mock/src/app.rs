//! The whole mock as one axum app (every virtual host behind the front door) and the server task.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Layer;
use tower_http::timeout::TimeoutLayer;

use crate::connections::MockService;
use crate::front_door::FrontDoor;
use crate::state::{MockError, MockState};

/// A handler that runs longer than this gets 408, so a stuck handler cannot hang CI
/// (fault latency is capped well below it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The route table of every mock, built once per process and shared as it is: building it
/// (path validation, the matcher tree, four merges) was a third of a mock's start, and giving
/// each mock's copy its state boxed every handler again. Handlers find their mock's state in
/// the request, where the front door puts it.
static ROUTES: LazyLock<Router> = LazyLock::new(|| {
    Router::new()
        .merge(crate::oauth::routes())
        .merge(crate::mci::routes())
        .merge(crate::admin::routes())
        .merge(crate::pardot::routes())
});

/// The whole mock as an axum [`Router`], for in-memory `oneshot` tests.
///
/// Route modules (OAuth with the web login, MCI, admin, Pardot) each contribute a
/// `Router`, merged here; the front door hands each request its mock's state.
pub fn router(state: MockState) -> Router {
    Router::new().fallback_service(service(state))
}

/// The service [`router`] wraps, served as it is by the accept loop (a router around it would
/// only route every request to it, at a cost on every request).
pub(crate) fn service(state: MockState) -> impl MockService {
    // The front door rewrites the path (strips `/sandbox`, `/my/NAME`, `/demo`), so it must
    // run before routing: wrap the routed service rather than layering inside it. It also
    // reads every body with a size limit (MAX_BODY_BYTES, 413 beyond).
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT).layer(FrontDoor {
        state,
        routes: ROUTES.clone(),
    })
}

/// A running server: its address and the handle that stops it.
pub(crate) struct Running {
    pub addr: SocketAddr,
    pub shutdown: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

/// Binds `addr` (before spawning, so the port is known) and serves `state` on the current
/// tokio runtime until the shutdown sender fires or is dropped.
pub(crate) async fn spawn(state: MockState, addr: SocketAddr) -> Result<Running, MockError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| MockError::Start(format!("bind {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| MockError::Start(e.to_string()))?;
    let (tx, rx) = oneshot::channel::<()>();
    let limits = state.config().server.clone();
    let app = service(state);
    let task = tokio::spawn(async move {
        crate::connections::serve(listener, app, &limits, rx).await;
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task,
    })
}
