//! [`PardotAuthPolicy`] as a `reqwest-middleware` middleware (feature `middleware`).

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::classify::ApiVersion;
use crate::client::read_bounded;
use crate::error::PardotError;
use crate::policy::{self, PardotAuthPolicy, Raw, Replay, SendError};

/// Adds the policy's authentication, governor, expiry handling (refresh once, retry once)
/// and throttling retries to a `reqwest_middleware::ClientWithMiddleware`.
///
/// Request bodies must be replayable (bytes, not streams). Bodies of answers are read into
/// memory (up to 16 MiB) to look for expiry signals, and handed on as a new `Response`
/// (whose `url()` is then not the request's URL). Errors of this layer arrive as
/// `reqwest_middleware::Error::Middleware` wrapping a [`PardotError`].
///
/// ```
/// use std::sync::Arc;
/// use pardot_auth_core::provide_token_fn;
/// use pardot_http::PardotAuthPolicy;
///
/// let source = provide_token_fn("example", || async { Err(pardot_auth_core::Error::config("no login configured")) });
/// let policy = PardotAuthPolicy::builder(Arc::new(source)).build();
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(policy)
///     .build();
/// # drop(client);
/// ```
#[async_trait::async_trait]
impl Middleware for PardotAuthPolicy {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let api = ApiVersion::from_path(req.url().path());
        let mut call = self
            .start(api, Replay::for_method(req.method()))
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        let limit = pardot_auth_core::DEFAULT_MAX_RESPONSE_BYTES;
        loop {
            let auth = call
                .prepare()
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            let Some(mut attempt) = req.try_clone() else {
                return Err(reqwest_middleware::Error::middleware(PardotError::Config(
                    "the request body is a stream and cannot be replayed; use a bytes body".into(),
                )));
            };
            for (name, value) in &auth {
                attempt.headers_mut().insert(name.clone(), value.clone());
            }
            let outcome = match next.clone().run(attempt, extensions).await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    read_bounded(resp, limit).await.map(|body| Raw {
                        status,
                        headers,
                        body,
                    })
                }
                Err(reqwest_middleware::Error::Reqwest(e)) if e.is_connect() => {
                    Err(SendError::NotSent(Box::new(e)))
                }
                Err(reqwest_middleware::Error::Reqwest(e)) => {
                    Err(SendError::MaybeSent(Box::new(e)))
                }
                Err(other) => return Err(other),
            };
            match call
                .judge(outcome)
                .await
                .map_err(reqwest_middleware::Error::middleware)?
            {
                policy::Next::Done(raw, _) => {
                    let mut out = http::Response::new(raw.body);
                    *out.status_mut() = raw.status;
                    *out.headers_mut() = raw.headers;
                    return Ok(Response::from(out));
                }
                policy::Next::Again => continue,
            }
        }
    }
}
