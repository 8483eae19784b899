//! [`PardotAuthLayer`]: the policy as a `tower` layer (feature `tower`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use pardot_auth_core::BoxError;
use tower::{Layer, Service, ServiceExt};

use crate::classify::ApiVersion;
use crate::error::PardotError;
use crate::policy::{Next, PardotAuthPolicy, Raw, Replay, SendError};

/// Wraps an HTTP service (for example a `hyper_util` client) so every request gets the
/// policy's authentication, governor, expiry handling and throttling retries.
///
/// The wrapped service takes `http::Request<B>` with a body that can be cloned, so it can be
/// replayed (e.g. `http_body_util::Full<Bytes>` or `Bytes`), and answers with any
/// `http_body::Body`; the resulting service takes the same requests and answers
/// `http::Response<Bytes>`, with the body read up to a limit (default 16 MiB).
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use pardot_auth_core::provide_token_fn;
/// use pardot_http::PardotAuthPolicy;
/// use tower::ServiceBuilder;
///
/// let source = provide_token_fn("example", || async { Err(pardot_auth_core::Error::config("no login configured")) });
/// let policy = PardotAuthPolicy::builder(Arc::new(source)).build();
/// let inner = tower::service_fn(|_req: http::Request<Bytes>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(Bytes::new())))
/// });
/// let service = ServiceBuilder::new().layer(policy.layer()).service(inner);
/// # drop(service);
/// ```
#[derive(Debug, Clone)]
pub struct PardotAuthLayer {
    policy: PardotAuthPolicy,
    max_response_bytes: usize,
}

impl PardotAuthLayer {
    /// A layer applying `policy`.
    pub fn new(policy: PardotAuthPolicy) -> Self {
        Self {
            policy,
            max_response_bytes: pardot_auth_core::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The largest response body read (default 16 MiB).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }
}

impl PardotAuthPolicy {
    /// This policy as a `tower` layer.
    pub fn layer(&self) -> PardotAuthLayer {
        PardotAuthLayer::new(self.clone())
    }
}

impl<S> Layer<S> for PardotAuthLayer {
    type Service = PardotAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PardotAuthService {
            inner,
            policy: self.policy.clone(),
            max_response_bytes: self.max_response_bytes,
        }
    }
}

/// The service made by [`PardotAuthLayer`].
#[derive(Debug, Clone)]
pub struct PardotAuthService<S> {
    inner: S,
    policy: PardotAuthPolicy,
    max_response_bytes: usize,
}

impl<S, ReqB, ResB> Service<http::Request<ReqB>> for PardotAuthService<S>
where
    S: Service<http::Request<ReqB>, Response = http::Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    ReqB: Clone + Send + 'static,
    ResB: http_body::Body + Send + 'static,
    ResB::Data: Send,
    ResB::Error: Into<BoxError>,
{
    type Response = http::Response<Bytes>;
    type Error = PardotError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, PardotError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the wrapped service is awaited per attempt, on a clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<ReqB>) -> Self::Future {
        let policy = self.policy.clone();
        let svc = self.inner.clone();
        let limit = self.max_response_bytes;
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let api = ApiVersion::from_path(parts.uri.path());
            let mut call = policy.start(api, Replay::for_method(&parts.method)).await?;
            loop {
                let auth = call.prepare().await?;
                let mut attempt = http::Request::new(body.clone());
                *attempt.method_mut() = parts.method.clone();
                *attempt.uri_mut() = parts.uri.clone();
                *attempt.version_mut() = parts.version;
                *attempt.headers_mut() = parts.headers.clone();
                for (name, value) in &auth {
                    attempt.headers_mut().insert(name.clone(), value.clone());
                }
                let outcome = send(svc.clone(), attempt, limit).await;
                match call.judge(outcome).await? {
                    Next::Done(raw, _) => {
                        let mut out = http::Response::new(raw.body);
                        *out.status_mut() = raw.status;
                        *out.headers_mut() = raw.headers;
                        return Ok(out);
                    }
                    Next::Again => continue,
                }
            }
        })
    }
}

async fn send<S, ReqB, ResB>(
    svc: S,
    req: http::Request<ReqB>,
    limit: usize,
) -> Result<Raw, SendError>
where
    S: Service<http::Request<ReqB>, Response = http::Response<ResB>>,
    S::Error: Into<BoxError>,
    ResB: http_body::Body,
    ResB::Error: Into<BoxError>,
{
    let resp = svc
        .oneshot(req)
        .await
        .map_err(|e| SendError::MaybeSent(e.into()))?;
    let (parts, body) = resp.into_parts();
    let collected = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                SendError::BodyTooLarge(limit)
            } else {
                SendError::MaybeSent(e)
            }
        })?;
    Ok(Raw {
        status: parts.status,
        headers: parts.headers,
        body: collected.to_bytes(),
    })
}
