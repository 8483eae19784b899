//! [`PardotAuthPolicy`]: the request logic shared by [`PardotClient`](crate::PardotClient),
//! the `reqwest-middleware` middleware and the `tower` layer: authenticate, govern, judge the
//! answer, refresh once on expiry, back off on throttling, all bounded.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use pardot_auth_core::{
    AccessToken, AuthScheme, BoxError, BusinessUnitId, PardotErrorCode, SharedClock, TokenKind,
    TokenSource,
};
use pardot_legacy::envelope::Envelope;

use crate::cache::CachedTokenSource;
use crate::classify::{ApiVersion, Verdict, judge};
use crate::error::PardotError;
use crate::governor::{Governor, Slot};
use crate::jitter::Jitter;
use crate::metrics::{Metrics, RequestCounters, bump};
use crate::retry::RetryPolicy;
use crate::store::TokenStore;

/// Authentication, expiry handling, throttling retries and the governor, independent of the
/// HTTP stack. [`PardotClient`](crate::PardotClient) uses one; the `middleware` and `tower`
/// features apply the same one to a user's own stack. Clones share everything (cache,
/// governor, counters).
#[derive(Clone)]
pub struct PardotAuthPolicy {
    inner: Arc<Inner>,
}

struct Inner {
    cache: CachedTokenSource,
    business_unit: Option<BusinessUnitId>,
    governor: Governor,
    retry: RetryPolicy,
    clock: SharedClock,
    counters: RequestCounters,
    jitter: Jitter,
    /// The headers of the token last used. Tokens change hourly and requests come by the
    /// thousand, so checking a token's scopes and formatting its header once per token (not
    /// once per request) saves about 5% of the client's own work per request (perf).
    authorized: Mutex<Option<Arc<Authorized>>>,
}

/// A token that passed [`PardotAuthPolicy::check_with`], with the headers it is sent with.
struct Authorized {
    token: AccessToken,
    headers: HeaderMap,
}

pardot_auth_core::debug_shows!(PardotAuthPolicy as this {
    cache: this.inner.cache,
    business_unit: this.inner.business_unit,
    governor: this.inner.governor,
    retry: this.inner.retry,
});

/// Configures a [`PardotAuthPolicy`].
///
/// `C` says where the token cache comes from: [`NewCache`] (from
/// [`PardotAuthPolicy::builder`]: the builder makes one, so it takes
/// [`store`](Self::store) and [`store_key`](Self::store_key)) or [`GivenCache`] (from
/// [`PardotAuthPolicy::builder_with_cache`]: the cache keeps its own store, and setting one
/// here does not compile):
///
/// ```
/// use std::sync::Arc;
/// use pardot_auth_core::provide_token_fn;
/// use pardot_http::store::MemoryStore;
/// use pardot_http::{CachedTokenSource, PardotAuthPolicy};
///
/// let source = Arc::new(provide_token_fn("x", || async { Err(pardot_auth_core::Error::config("x")) }));
/// let own = PardotAuthPolicy::builder(source.clone()).store(Arc::new(MemoryStore::new())).build();
/// let shared = PardotAuthPolicy::builder_with_cache(CachedTokenSource::new(source)).build();
/// # drop((own, shared));
/// ```
///
/// ```compile_fail,E0599
/// # use std::sync::Arc;
/// # use pardot_auth_core::provide_token_fn;
/// # use pardot_http::store::MemoryStore;
/// # use pardot_http::{CachedTokenSource, PardotAuthPolicy};
/// # let source = Arc::new(provide_token_fn("x", || async { Err(pardot_auth_core::Error::config("x")) }));
/// let cache = CachedTokenSource::new(source);
/// PardotAuthPolicy::builder_with_cache(cache).store(Arc::new(MemoryStore::new()));
/// ```
pub struct PardotAuthPolicyBuilder<C = NewCache> {
    cache: C,
    business_unit: Option<BusinessUnitId>,
    governor: Option<Governor>,
    max_concurrent: Option<usize>,
    daily_budget: Option<u64>,
    retry: RetryPolicy,
    clock: Option<SharedClock>,
}

/// A policy builder that makes its own [`CachedTokenSource`] around a token source.
pub struct NewCache {
    source: Arc<dyn TokenSource>,
    store: Option<Arc<dyn TokenStore>>,
    store_key: Option<String>,
}

/// A policy builder that uses a [`CachedTokenSource`] as it was built.
pub struct GivenCache(CachedTokenSource);

/// Where a policy's token cache comes from: [`NewCache`] or [`GivenCache`].
pub trait CacheChoice: sealed::Sealed {
    /// The cache, made with `clock` when it is made here.
    fn into_cache(self, clock: Option<&SharedClock>) -> CachedTokenSource;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NewCache {}
    impl Sealed for super::GivenCache {}
}

impl CacheChoice for NewCache {
    fn into_cache(self, clock: Option<&SharedClock>) -> CachedTokenSource {
        let mut b = CachedTokenSource::builder(self.source);
        if let Some(clock) = clock {
            b = b.clock(clock.clone());
        }
        if let Some(store) = self.store {
            b = b.store(store);
        }
        if let Some(key) = self.store_key {
            b = b.store_key(key);
        }
        b.build()
    }
}

impl CacheChoice for GivenCache {
    fn into_cache(self, _clock: Option<&SharedClock>) -> CachedTokenSource {
        self.0
    }
}

pardot_auth_core::debug_shows!(PardotAuthPolicyBuilder<C> as this {
    business_unit: this.business_unit,
});

impl PardotAuthPolicy {
    /// Configures a policy fetching tokens from `source`, which it wraps in a
    /// [`CachedTokenSource`] (using the builder's clock and store).
    pub fn builder(source: Arc<dyn TokenSource>) -> PardotAuthPolicyBuilder<NewCache> {
        PardotAuthPolicyBuilder::new(NewCache {
            source,
            store: None,
            store_key: None,
        })
    }

    /// Configures a policy using an existing cache as is (for one token shared by several
    /// clients); the cache's clock and store stay its own, so this builder has no `store`.
    pub fn builder_with_cache(cache: CachedTokenSource) -> PardotAuthPolicyBuilder<GivenCache> {
        PardotAuthPolicyBuilder::new(GivenCache(cache))
    }

    /// The counters.
    pub fn metrics(&self) -> Metrics {
        self.inner.counters.snapshot(self.inner.cache.metrics())
    }

    /// The governor (usage, budget).
    pub fn governor(&self) -> &Governor {
        &self.inner.governor
    }

    /// The token cache (always there; an `Option` for the callers written when it was not).
    pub fn token_cache(&self) -> Option<&CachedTokenSource> {
        Some(&self.inner.cache)
    }

    /// The business unit requests are sent for.
    pub fn business_unit(&self) -> Option<&BusinessUnitId> {
        self.inner.business_unit.as_ref()
    }

    /// The clock waits happen on.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Starts a call: gets a token and checks it can be used.
    pub(crate) async fn start(
        &self,
        api: ApiVersion,
        replay: Replay,
    ) -> Result<Call<'_>, PardotError> {
        bump(&self.inner.counters.requests);
        // The token is taken in `prepare`, after the wait for a slot (see there).
        Ok(Call {
            policy: &self.inner,
            authorized: None,
            api,
            replay,
            started: self.inner.clock.now(),
            attempts: 0,
            expiry_retried: false,
            retries: 0,
            slot: None,
        })
    }
}

impl Inner {
    /// `token` checked and its headers made, or the ones made for it before.
    fn authorize(&self, token: AccessToken) -> Result<Arc<Authorized>, PardotError> {
        let mut last = self.authorized.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = last.as_ref()
            && known.token.is_same_as(&token)
        {
            return Ok(Arc::clone(known));
        }
        let scheme = PardotAuthPolicy::check_with(&token, self.business_unit.as_ref())?;
        let headers = scheme.headers(&token).map_err(PardotError::UnusableToken)?;
        let made = Arc::new(Authorized { token, headers });
        *last = Some(Arc::clone(&made));
        Ok(made)
    }
}

impl<C: CacheChoice> PardotAuthPolicyBuilder<C> {
    fn new(cache: C) -> Self {
        Self {
            cache,
            business_unit: None,
            governor: None,
            max_concurrent: Some(crate::governor::PARDOT_CONCURRENCY_LIMIT),
            daily_budget: None,
            retry: RetryPolicy::default(),
            clock: None,
        }
    }

    pardot_auth_core::builder_setters! {
        /// The business unit (required for Salesforce tokens; sent as `Pardot-Business-Unit-Id`).
        pub fn business_unit(bu: BusinessUnitId) => business_unit = Some(bu);

        /// The most requests in flight (default 5, Pardot's limit; `None`: no limit). Ignored
        /// when a [`governor`](Self::governor) is given.
        pub fn max_concurrent(n: Option<usize>) => max_concurrent = n;

        /// Stop at `budget` requests per day (see [`Governor::with_daily_budget`]). Ignored when
        /// a [`governor`](Self::governor) is given.
        pub fn daily_budget(budget: u64) => daily_budget = Some(budget);

        /// Share a governor with other clients of the same business unit.
        pub fn governor(governor: Governor) => governor = Some(governor);

        /// The retry policy for throttling and transport failures (default
        /// [`RetryPolicy::default`]).
        pub fn retry_policy(retry: RetryPolicy) => retry = retry;

        /// The clock for waits and expiry (default: the system clock; also given to the cache
        /// this builder creates).
        pub fn clock(clock: SharedClock) => clock = Some(clock);
    }

    /// The policy.
    pub fn build(self) -> PardotAuthPolicy {
        let cache = self.cache.into_cache(self.clock.as_ref());
        let clock = self.clock.unwrap_or_else(|| cache.clock().clone());
        let governor = self.governor.unwrap_or_else(|| {
            let g = Governor::new(self.max_concurrent);
            match self.daily_budget {
                Some(b) => g.with_daily_budget(b),
                None => g,
            }
        });
        PardotAuthPolicy {
            inner: Arc::new(Inner {
                cache,
                business_unit: self.business_unit,
                governor,
                retry: self.retry,
                clock,
                counters: RequestCounters::default(),
                jitter: Jitter::default(),
                authorized: Mutex::new(None),
            }),
        }
    }
}

impl PardotAuthPolicyBuilder<NewCache> {
    pardot_auth_core::builder_setters! {
        /// The token store of the cache this builder creates (default: memory).
        pub fn store(store: Arc<dyn TokenStore>) => cache.store = Some(store);

        /// The store key of the cache this builder creates (default `default`).
        pub fn store_key(key: impl Into<String>) => cache.store_key = Some(key.into());
    }
}

/// Whether a request may be sent again after an attempt that may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Sending it twice does no harm (an idempotent method, or an attempt known unprocessed).
    Safe,
    /// A second copy could act twice (a `POST` that may have been processed).
    Unsafe,
}

impl Replay {
    /// What the method promises: `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` are idempotent.
    pub(crate) fn for_method(method: &Method) -> Self {
        if matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ) {
            Self::Safe
        } else {
            Self::Unsafe
        }
    }
}

/// What came back from sending one attempt.
pub(crate) struct Raw {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why an attempt got no answer.
pub(crate) enum SendError {
    /// It never left (connection refused, DNS): safe to retry any request.
    NotSent(BoxError),
    /// It may have reached the server.
    MaybeSent(BoxError),
    /// No answer in time (it may have reached the server).
    Timeout(Duration),
    /// The answer was too big.
    BodyTooLarge(usize),
}

/// What to do after an attempt.
pub(crate) enum Next {
    /// The answer to hand back (with the v3/v4 envelope when one was parsed).
    Done(Raw, Option<Box<Envelope>>),
    /// Send again (with the headers from the next `prepare`).
    Again,
}

/// One call in progress: at most one refresh-and-retry, and retries within the policy.
pub(crate) struct Call<'a> {
    policy: &'a Inner,
    /// The token (and headers) of the latest attempt; `None` before the first.
    authorized: Option<Arc<Authorized>>,
    api: ApiVersion,
    replay: Replay,
    started: SystemTime,
    attempts: u32,
    expiry_retried: bool,
    retries: u32,
    slot: Option<Slot>,
}

impl Call<'_> {
    /// Waits for a slot and returns the authentication headers for the next attempt.
    pub(crate) async fn prepare(&mut self) -> Result<HeaderMap, PardotError> {
        let counters = &self.policy.counters;
        let slot = self
            .policy
            .governor
            .acquire(&self.policy.clock, || bump(&counters.throttled_waits))
            .await?;
        self.slot = Some(slot);
        // Take the token after the wait for a slot: while this call queued, another may have
        // replaced an expired token, and sending the old one would only earn a rejection.
        let current = self.policy.cache.get().await.map_err(PardotError::Token)?;
        let authorized = self.policy.authorize(current)?;
        let headers = authorized.headers.clone();
        self.authorized = Some(authorized);
        self.attempts += 1;
        bump(&counters.attempts);
        Ok(headers)
    }

    /// Requests sent so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Judges the attempt's outcome: done, or (after refreshing or waiting) try again.
    pub(crate) async fn judge(
        &mut self,
        outcome: Result<Raw, SendError>,
    ) -> Result<Next, PardotError> {
        self.slot = None;
        let raw = match outcome {
            Ok(raw) => raw,
            Err(SendError::BodyTooLarge(limit)) => return Err(PardotError::BodyTooLarge { limit }),
            Err(SendError::NotSent(e)) => {
                return self
                    .retry_or(Replay::Safe, e.to_string(), None, PardotError::Transport(e))
                    .await;
            }
            Err(SendError::MaybeSent(e)) => {
                let replay = self.replay;
                return self
                    .retry_or(replay, e.to_string(), None, PardotError::Transport(e))
                    .await;
            }
            Err(SendError::Timeout(d)) => {
                let replay = self.replay;
                return self
                    .retry_or(
                        replay,
                        format!("no answer within {d:?}"),
                        None,
                        PardotError::Timeout(d),
                    )
                    .await;
            }
        };
        match judge(self.api, raw.status, &raw.headers, &raw.body) {
            Verdict::Success(envelope) => Ok(Next::Done(raw, envelope)),
            Verdict::Expired { code, message } => self.refresh_once(code, message).await,
            Verdict::Throttled { after, what } => {
                // Code 66 and 429 mean the request was refused, not processed: safe to send
                // again even when it is not idempotent. A 503 only says a server answered:
                // one in front of Pardot may send it after Pardot acted on the request (a v5
                // create would then make a second record), so a request that is not safe to
                // replay ends there, as after any other 5xx.
                if raw.status.is_server_error() && self.replay == Replay::Unsafe {
                    let err = PardotError::Http {
                        status: raw.status,
                        snippet: pardot_auth_core::redact::excerpt(
                            &raw.body,
                            crate::classify::MESSAGE_CHARS,
                        ),
                    };
                    return self.retry_or(Replay::Unsafe, what, None, err).await;
                }
                let last = PardotError::Throttled {
                    attempts: self.attempts,
                    elapsed: self.elapsed(),
                    last: what.clone(),
                };
                self.retry_or(Replay::Safe, what, after, last).await
            }
            Verdict::Transient { what } => {
                let replay = self.replay;
                let err = PardotError::Http {
                    status: raw.status,
                    snippet: pardot_auth_core::redact::excerpt(
                        &raw.body,
                        crate::classify::MESSAGE_CHARS,
                    ),
                };
                self.retry_or(replay, what, None, err).await
            }
            Verdict::Fatal(e) => Err(e),
        }
    }

    fn elapsed(&self) -> Duration {
        self.policy
            .clock
            .now()
            .duration_since(self.started)
            .unwrap_or_default()
    }

    async fn refresh_once(
        &mut self,
        code: Option<PardotErrorCode>,
        message: String,
    ) -> Result<Next, PardotError> {
        if self.expiry_retried {
            let reason = match code {
                Some(PardotErrorCode::INVALID_ACCESS_TOKEN) => {
                    "token invalid or lacks the pardot_api scope: check that the connected app \
                     grants `pardot_api` (or `full`) and that the user has Account Engagement \
                     access to this business unit"
                }
                Some(PardotErrorCode::INVALID_API_KEY) => {
                    "the api_key was refused right after a fresh login: check the user_key and \
                     that API access is enabled for the account"
                }
                _ => {
                    "the session was refused right after a refresh: the token cannot be used \
                     for this API (check the connected app's scopes and session policies)"
                }
            };
            tracing::warn!(code = ?code.map(|c| c.get()), "credential rejected twice in a row");
            return Err(PardotError::CredentialRejected {
                code,
                message,
                reason,
            });
        }
        self.expiry_retried = true;
        bump(&self.policy.counters.expiry_retries);
        tracing::info!(
            code = ?code.map(|c| c.get()),
            "the server rejected the credential as expired; refreshing once and retrying once"
        );
        if let Some(used) = &self.authorized {
            self.policy.cache.invalidate(&used.token);
        }
        // The next `prepare` takes the fresh token and checks it.
        Ok(Next::Again)
    }

    async fn retry_or(
        &mut self,
        replay: Replay,
        what: String,
        server_wait: Option<Duration>,
        error: PardotError,
    ) -> Result<Next, PardotError> {
        let retry = &self.policy.retry;
        if replay == Replay::Unsafe {
            tracing::debug!(%what, "not retrying: the request may have reached the server");
            return Err(error);
        }
        let delay = retry.delay(self.retries, self.policy.jitter.next(), server_wait);
        let elapsed = self.elapsed();
        if self.retries >= retry.get_max_retries() || elapsed + delay > retry.get_max_elapsed() {
            tracing::warn!(%what, attempts = self.attempts, "giving up after bounded retries");
            return Err(match error {
                PardotError::Throttled { .. } => PardotError::Throttled {
                    attempts: self.attempts,
                    elapsed,
                    last: what,
                },
                other => other,
            });
        }
        self.retries += 1;
        let counters = &self.policy.counters;
        if matches!(error, PardotError::Throttled { .. }) {
            bump(&counters.throttle_retries);
        } else {
            bump(&counters.transport_retries);
        }
        tracing::warn!(%what, retry = self.retries, delay_ms = delay.as_millis() as u64, "retrying after a wait");
        self.policy.clock.sleep(delay).await;
        Ok(Next::Again)
    }
}

impl PardotAuthPolicy {
    fn check_with(
        token: &AccessToken,
        bu: Option<&BusinessUnitId>,
    ) -> Result<AuthScheme, PardotError> {
        if matches!(token.kind(), TokenKind::SalesforceBearer)
            && let Some(scopes) = token.scopes()
            && !scopes.is_empty()
            && !scopes.allows_pardot()
        {
            return Err(PardotError::MissingScope {
                granted: scopes.to_string(),
            });
        }
        AuthScheme::for_pardot(token, bu).map_err(PardotError::UnusableToken)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pardot_auth_core::{
        Clock, ErrorClass, ErrorKind, Expiry, ManualClock, TokenSource, provide_token_fn,
    };

    use super::*;

    /// The error of preparing a request with a token `secret` of `kind`.
    async fn prepare_with(kind: TokenKind, secret: &'static str) -> PardotError {
        let clock = ManualClock::new();
        let source: Arc<dyn TokenSource> = Arc::new(provide_token_fn("fixed", {
            let clock = clock.clone();
            move || {
                let now = clock.now();
                let kind = kind.clone();
                async move {
                    Ok(AccessToken::new(
                        kind,
                        secret.into(),
                        now,
                        Expiry::Known(now + Duration::from_secs(3600)),
                    ))
                }
            }
        }));
        let policy = PardotAuthPolicy::builder(source)
            .business_unit("0Uv5A000000PAuMSAW".parse().unwrap())
            .clock(clock.shared())
            .build();
        let mut call = policy.start(ApiVersion::V5, Replay::Safe).await.unwrap();
        call.prepare().await.unwrap_err()
    }

    #[tokio::test]
    async fn a_token_that_cannot_be_sent_keeps_its_error_class() {
        // Bytes a header cannot carry: the server sent a bad token, not a caller bug.
        let e = prepare_with(TokenKind::SalesforceBearer, "tok\nen").await;
        let PardotError::UnusableToken(core) = &e else {
            panic!("{e:?}");
        };
        assert_eq!(core.kind(), ErrorKind::InvalidResponse);
        assert!(e.is_retryable(), "{e}");
        assert!(!e.to_string().contains("tok\nen"), "{e}");

        // The wrong kind of token for Pardot is the caller's mistake.
        let e = prepare_with(TokenKind::MciBearer, "tok-1").await;
        assert!(matches!(e, PardotError::UnusableToken(_)), "{e:?}");
        assert_eq!(e.class(), ErrorClass::CallerBug);
    }
}
