//! [`PardotClient`]: the authenticated Pardot client on `reqwest`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use pardot_auth_core::body::{self, BodyError};
use pardot_auth_core::{BusinessUnitId, PardotHost, SharedClock, TokenSource, redact};
use pardot_legacy::envelope::Envelope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::cache::CachedTokenSource;
use crate::classify::ApiVersion;
use crate::deadline::{Deadlines, Elapsed};
use crate::error::PardotError;
use crate::governor::Governor;
use crate::metrics::Metrics;
use crate::policy::{
    CacheChoice, GivenCache, NewCache, Next, PardotAuthPolicy, PardotAuthPolicyBuilder, Raw,
    Replay, SendError,
};
use crate::retry::RetryPolicy;
use crate::store::TokenStore;

/// An authenticated client for the Pardot API (v3/v4 and v5).
///
/// Cheap to clone; clones share the token cache, the governor and the counters. See the
/// crate docs for what it does on expiry, throttling and errors.
#[derive(Clone)]
pub struct PardotClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    host: PardotHost,
    policy: PardotAuthPolicy,
    max_response_bytes: usize,
    timeout: Duration,
    deadlines: Deadlines,
}

pardot_auth_core::debug_shows!(PardotClient as this {
    host: this.inner.host,
    policy: this.inner.policy,
});

/// Configures a [`PardotClient`].
///
/// `C` says where the token cache comes from (see [`PardotAuthPolicyBuilder`]): only a
/// builder from [`PardotClient::builder`] makes a cache, so only it has
/// [`store`](Self::store) and [`store_key`](Self::store_key). A shared cache keeps the store
/// it was built with:
///
/// ```
/// use std::sync::Arc;
/// use pardot_auth_core::{PardotHost, provide_token_fn};
/// use pardot_http::store::MemoryStore;
/// use pardot_http::{CachedTokenSource, PardotClient};
///
/// let source = Arc::new(provide_token_fn("x", || async { Err(pardot_auth_core::Error::config("x")) }));
/// let cache = CachedTokenSource::builder(source).store(Arc::new(MemoryStore::new())).build();
/// let client = PardotClient::builder_with_cache(cache, PardotHost::Production).build()?;
/// # drop(client);
/// # Ok::<(), pardot_http::PardotError>(())
/// ```
///
/// and giving the client builder a store for it does not compile:
///
/// ```compile_fail,E0599
/// # use std::sync::Arc;
/// # use pardot_auth_core::{PardotHost, provide_token_fn};
/// # use pardot_http::store::MemoryStore;
/// # use pardot_http::{CachedTokenSource, PardotClient};
/// # let source = Arc::new(provide_token_fn("x", || async { Err(pardot_auth_core::Error::config("x")) }));
/// let cache = CachedTokenSource::builder(source).build();
/// let client = PardotClient::builder_with_cache(cache, PardotHost::Production)
///     .store(Arc::new(MemoryStore::new()))
///     .build()?;
/// # Ok::<(), pardot_http::PardotError>(())
/// ```
pub struct PardotClientBuilder<C = NewCache> {
    policy: PardotAuthPolicyBuilder<C>,
    host: PardotHost,
    http: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    no_proxy: bool,
}

pardot_auth_core::debug_shows!(PardotClientBuilder<C> as this {
    host: this.host,
});

impl PardotClient {
    /// Configures a client calling `host` with tokens from `token_source` (wrapped in a
    /// [`CachedTokenSource`] built with this builder's clock and store).
    pub fn builder(
        token_source: Arc<dyn TokenSource>,
        host: PardotHost,
    ) -> PardotClientBuilder<NewCache> {
        PardotClientBuilder::new(PardotAuthPolicy::builder(token_source), host)
    }

    /// Configures a client using an existing cache (e.g. one token shared by the clients of
    /// several business units). The cache keeps its own store: this builder has no `store`.
    pub fn builder_with_cache(
        cache: CachedTokenSource,
        host: PardotHost,
    ) -> PardotClientBuilder<GivenCache> {
        PardotClientBuilder::new(PardotAuthPolicy::builder_with_cache(cache), host)
    }

    /// A request to `path` (starting with `/api/`) on the client's host.
    pub fn request(&self, method: Method, path: &str) -> PardotRequest {
        let url = self.inner.host.endpoint(path);
        PardotRequest::new(self.clone(), method, Ok(url))
    }

    /// A `GET` of `path`.
    pub fn get(&self, path: &str) -> PardotRequest {
        self.request(Method::GET, path)
    }

    /// A `POST` to `path`.
    pub fn post(&self, path: &str) -> PardotRequest {
        self.request(Method::POST, path)
    }

    /// A request to a full URL, such as a v5 `nextPageUrl`. The URL must be on the client's
    /// host (same scheme, host and port), so the token is never sent anywhere else.
    pub fn request_url(&self, method: Method, url: &str) -> PardotRequest {
        let checked = Url::parse(url)
            .map_err(|e| PardotError::Config(format!("`{url}` is not a URL: {e}")))
            .and_then(|u| {
                let base = self.inner.host.endpoint("/");
                if u.origin() == base.origin() {
                    Ok(u)
                } else {
                    Err(PardotError::Config(format!(
                        "`{url}` is not on the client's host {}; refusing to send the token there",
                        self.inner.host
                    )))
                }
            });
        PardotRequest::new(self.clone(), method, checked)
    }

    /// The counters (requests, retries, waits, token fetches and refreshes).
    pub fn metrics(&self) -> Metrics {
        self.inner.policy.metrics()
    }

    /// The governor: concurrency and daily budget usage.
    pub fn governor(&self) -> &Governor {
        self.inner.policy.governor()
    }

    /// The token cache.
    pub fn token_cache(&self) -> Option<&CachedTokenSource> {
        self.inner.policy.token_cache()
    }

    /// The policy (to build a middleware or layer sharing this client's cache and governor).
    pub fn policy(&self) -> &PardotAuthPolicy {
        &self.inner.policy
    }

    /// The host.
    pub fn host(&self) -> &PardotHost {
        &self.inner.host
    }

    /// The business unit.
    pub fn business_unit(&self) -> Option<&BusinessUnitId> {
        self.inner.policy.business_unit()
    }
}

impl<C: CacheChoice> PardotClientBuilder<C> {
    fn new(policy: PardotAuthPolicyBuilder<C>, host: PardotHost) -> Self {
        Self {
            policy,
            host,
            http: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: pardot_auth_core::DEFAULT_MAX_RESPONSE_BYTES,
            no_proxy: false,
        }
    }

    pardot_auth_core::builder_setters! {
        /// The business unit (required with Salesforce tokens).
        pub fn business_unit(bu: BusinessUnitId) => forward policy;

        /// The most requests in flight for this business unit (default 5; `None`: no limit).
        pub fn max_concurrent(n: Option<usize>) => forward policy;

        /// Stop at `budget` requests per day, before Pardot's quota error.
        pub fn daily_budget(budget: u64) => forward policy;

        /// Share a governor with other clients of the same business unit.
        pub fn governor(governor: Governor) => forward policy;

        /// The retry policy for throttling and transport failures.
        pub fn retry_policy(retry: RetryPolicy) => forward policy;

        /// The clock for waits and expiry (tests share a `ManualClock` with the mock).
        pub fn clock(clock: SharedClock) => forward policy;

        /// Use this `reqwest` client (its own timeouts and proxies apply; the per-request
        /// timeout of this builder still does).
        pub fn http_client(http: reqwest::Client) => http = Some(http);

        /// The longest one HTTP attempt may take, body included (default 60 s).
        pub fn timeout(timeout: Duration) => timeout = timeout;

        /// The longest connecting may take (default 10 s).
        pub fn connect_timeout(timeout: Duration) => connect_timeout = timeout;

        /// The largest response body read (default 16 MiB).
        pub fn max_response_bytes(limit: usize) => max_response_bytes = limit;

        /// Ignore proxy environment variables (for loopback tests).
        pub fn no_proxy() => no_proxy = true;
    }

    /// The client.
    pub fn build(self) -> Result<PardotClient, PardotError> {
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut b = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    // Pardot does not redirect API calls; following one could carry the
                    // token somewhere unexpected.
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("pardot-http/", env!("CARGO_PKG_VERSION")));
                if self.no_proxy {
                    b = b.no_proxy();
                }
                b.build().map_err(|e| {
                    PardotError::Config(format!("could not build the HTTP client: {e}"))
                })?
            }
        };
        Ok(PardotClient {
            inner: Arc::new(Inner {
                http,
                host: self.host,
                policy: self.policy.build(),
                max_response_bytes: self.max_response_bytes,
                timeout: self.timeout,
                deadlines: Deadlines::default(),
            }),
        })
    }
}

impl PardotClientBuilder<NewCache> {
    pardot_auth_core::builder_setters! {
        /// The token store (default: memory).
        pub fn store(store: Arc<dyn TokenStore>) => forward policy;

        /// The token store key (default `default`).
        pub fn store_key(key: impl Into<String>) => forward policy;
    }
}

/// A request being built; [`send`](Self::send) runs it.
#[must_use = "a request does nothing until sent"]
pub struct PardotRequest {
    client: PardotClient,
    method: Method,
    url: Result<Url, PardotError>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: Option<bool>,
    timeout: Option<Duration>,
}

pardot_auth_core::debug_shows!(PardotRequest as this {
    method: this.method,
    url: this.url.as_ref().map(Url::as_str).ok(),
});

impl PardotRequest {
    fn new(client: PardotClient, method: Method, url: Result<Url, PardotError>) -> Self {
        Self {
            client,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
            timeout: None,
        }
    }

    /// Appends query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        if let Ok(url) = &mut self.url {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k.as_ref(), v.as_ref());
            }
        }
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Some(Bytes::from(s.finish()));
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self
    }

    /// Sets a JSON body (v5 writes).
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = Some(Bytes::from(body));
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => {
                self.url = Err(PardotError::Config(format!(
                    "the JSON body failed to serialise: {e}"
                )))
            }
        }
        self
    }

    /// Adds a header (authentication headers are set by the client and cannot be overridden).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pardot_auth_core::builder_setters! {
        /// Declares whether sending the request twice is harmless (default: true for GET, HEAD,
        /// PUT, DELETE, OPTIONS; false for POST and PATCH). A v3/v4 `query` or `read` sent by
        /// POST is idempotent: say so to let it be retried after transport failures.
        pub fn idempotent(yes: bool) => idempotent = Some(yes);

        /// The longest one attempt may take (default: the client's).
        pub fn timeout(timeout: Duration) => timeout = Some(timeout);
    }

    /// Sends the request: authenticated, governed, refreshed once on expiry, retried within
    /// the policy on throttling.
    pub async fn send(mut self) -> Result<PardotResponse, PardotError> {
        let url = std::mem::replace(&mut self.url, Err(PardotError::Config(String::new())))?;
        let api = ApiVersion::from_path(url.path());
        let replay = match self.idempotent {
            Some(true) => Replay::Safe,
            Some(false) => Replay::Unsafe,
            None => Replay::for_method(&self.method),
        };
        let span = tracing::info_span!(
            "pardot_http.request",
            method = %self.method,
            path = url.path(),
            api = ?api,
        );
        self.run(url, api, replay).instrument(span).await
    }

    async fn run(
        self,
        url: Url,
        api: ApiVersion,
        replay: Replay,
    ) -> Result<PardotResponse, PardotError> {
        let inner = &self.client.inner;
        let attempt = Attempt {
            http: &inner.http,
            deadlines: &inner.deadlines,
            method: &self.method,
            url: &url,
            headers: &self.headers,
            body: self.body.as_ref(),
            timeout: self.timeout.unwrap_or(inner.timeout),
            limit: inner.max_response_bytes,
        };
        let mut call = inner.policy.start(api, replay).await?;
        loop {
            let auth = call.prepare().await?;
            let outcome = attempt.send(auth).await;
            match call.judge(outcome).await? {
                Next::Done(raw, envelope) => {
                    return Ok(PardotResponse {
                        status: raw.status,
                        headers: raw.headers,
                        body: raw.body,
                        envelope,
                        attempts: call.attempts(),
                    });
                }
                Next::Again => continue,
            }
        }
    }
}

/// What every attempt of one request sends, and the bounds it is sent within; only the
/// authentication headers change between attempts.
struct Attempt<'a> {
    http: &'a reqwest::Client,
    deadlines: &'a Deadlines,
    method: &'a Method,
    url: &'a Url,
    headers: &'a HeaderMap,
    body: Option<&'a Bytes>,
    timeout: Duration,
    limit: usize,
}

impl Attempt<'_> {
    /// Sends one attempt with `auth` and reads its answer, bounded in time and size.
    async fn send(&self, auth: HeaderMap) -> Result<Raw, SendError> {
        let Self {
            http,
            deadlines,
            method,
            url,
            headers,
            body,
            timeout,
            limit,
        } = *self;
        // The authentication headers win over the caller's headers of the same name.
        let mut all = auth;
        for (name, value) in headers {
            if !all.contains_key(name) {
                all.append(name.clone(), value.clone());
            }
        }
        let mut req = reqwest::Request::new(method.clone(), url.clone());
        *req.headers_mut() = all;
        *req.body_mut() = body.cloned().map(reqwest::Body::from);
        let fut = async {
            let resp = http.execute(req).await.map_err(|e| {
                if e.is_connect() {
                    SendError::NotSent(Box::new(e))
                } else {
                    SendError::MaybeSent(Box::new(e))
                }
            })?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = read_bounded(resp, limit).await?;
            Ok(Raw {
                status,
                headers,
                body,
            })
        };
        match deadlines.bound(timeout, fut).await {
            Ok(r) => r,
            Err(Elapsed) => Err(SendError::Timeout(timeout)),
        }
    }
}

/// Reads a body, refusing more than `limit` bytes.
pub(crate) async fn read_bounded(
    resp: reqwest::Response,
    limit: usize,
) -> Result<Bytes, SendError> {
    let announced = resp.content_length();
    let next_chunk = async |mut resp: reqwest::Response| {
        let chunk = resp.chunk().await;
        (resp, chunk)
    };
    body::read_bounded(resp, announced, limit, next_chunk)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => SendError::BodyTooLarge(limit),
            BodyError::Read(e) => SendError::MaybeSent(Box::new(e)),
        })
}

/// A successful answer.
pub struct PardotResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    envelope: Option<Box<Envelope>>,
    attempts: u32,
}

pardot_auth_core::debug_shows!(PardotResponse as this {
    status: this.status,
    body_len: this.body.len(),
    attempts: this.attempts,
});

pardot_auth_core::response_accessors!(PardotResponse, PardotError, PardotError::InvalidResponse);

impl PardotResponse {
    /// The body, owned.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body parsed as JSON (v5 answers, v3/v4 answers to `format=json`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PardotError> {
        serde_json::from_slice(&self.body)
            // serde_json quotes the values it could not read: they may be tokens.
            .map_err(|e| {
                let reason = e.to_string();
                PardotError::InvalidResponse(format!(
                    "the JSON body did not match: {}",
                    redact::excerpt(reason.as_bytes(), crate::classify::MESSAGE_CHARS)
                ))
            })
    }

    /// The parsed v3/v4 envelope (for `/api/<object>/version/3|4/…` paths).
    pub fn envelope(&self) -> Option<&Envelope> {
        self.envelope.as_deref()
    }

    /// How many HTTP requests this answer took (1 unless refreshed or retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}
