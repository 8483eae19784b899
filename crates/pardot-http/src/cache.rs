//! [`CachedTokenSource`]: a lazy, refresh-ahead, single-flight cache around any
//! [`TokenSource`].

use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pardot_auth_core::clock::timeout;
use pardot_auth_core::{
    AccessToken, Error, ErrorClass, Expiry, RefreshTokenGrant, SharedClock, SystemClock,
    TokenSource,
};
use tracing::Instrument;

use crate::doubling::DoublingWaits;
use crate::jitter::Jitter;
use crate::metrics::{CacheCounters, CacheMetrics, bump};
use crate::store::{MemoryStore, StoreLease, StoredToken, TokenStore};

/// A token cache around any [`TokenSource`]: lazy (no background task), refreshes ahead of
/// expiry, and lets exactly one caller fetch while the others wait for its result.
///
/// - **Refresh ahead.** A token is used until `margin` before its expiry, where `margin` is
///   `min(5 min, 20% of the token's lifetime)`, moved earlier by a random part of up to
///   half the margin so that many processes do not refresh in the same second. A Salesforce
///   token living 2 h is refreshed between 1 h 52 m 30 s and 1 h 55 m after it was issued; a
///   300 s MCI token between 210 s and 240 s.
/// - **Single flight.** When N tasks find no usable token, one fetches and the other N - 1
///   get its result, success or error.
/// - **Soft refresh.** Inside the margin the old token is still valid: one caller tries to
///   refresh while the others keep using the old token; if the refresh fails, that is logged
///   and everybody keeps the old token until it expires.
/// - **Backoff.** After a failed fetch, the next one first waits (on the [`Clock`]) 1 s, 2 s,
///   4 s … up to 60 s, jittered, so a broken login server is not hammered.
/// - **Invalidate if same.** [`TokenSource::invalidate`] drops the cached token only if it is
///   the rejected one, so a slow rejection never discards a newer token.
/// - **Store.** Tokens and the latest refresh token are saved in a
///   [`TokenStore`](crate::store::TokenStore) (memory by default). A fetch takes the store's
///   lease and re-reads it first, so caches sharing a store (or processes sharing a
///   [`FileStore`](crate::store::FileStore)) share one token and one refresh.
///
/// Clones share the cache. Salesforce token responses carry no lifetime: their tokens come
/// with an estimated expiry, and the cache takes every token's expiry as it is. The estimate
/// is made in one place, where the token is made: set your org's session timeout with
/// `sf_oauth::OAuthClientBuilder::session_estimate` (default 2 h), and rely on the client's
/// expiry detection for the rest.
///
/// [`Clock`]: pardot_auth_core::Clock
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use pardot_auth_core::{provide_token_fn, AccessToken, Clock, Expiry, ManualClock, TokenKind, TokenSource};
/// use pardot_http::CachedTokenSource;
///
/// let clock = ManualClock::new();
/// let fetches = Arc::new(AtomicU32::new(0));
/// let source = provide_token_fn("counting", {
///     let (clock, fetches) = (clock.clone(), fetches.clone());
///     move || {
///         let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
///         let now = clock.now();
///         async move {
///             Ok(AccessToken::new(TokenKind::MciBearer, format!("tok-{n}").into(), now,
///                 Expiry::Known(now + Duration::from_secs(300))))
///         }
///     }
/// });
/// let cache = CachedTokenSource::builder(Arc::new(source)).clock(clock.shared()).build();
/// cache.token().await.unwrap();
/// cache.token().await.unwrap();
/// assert_eq!(fetches.load(Ordering::SeqCst), 1);
/// clock.advance(Duration::from_secs(241)); // inside the refresh margin
/// cache.token().await.unwrap();
/// assert_eq!(fetches.load(Ordering::SeqCst), 2);
/// # }
/// ```
#[derive(Clone)]
pub struct CachedTokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    source: Arc<dyn TokenSource>,
    refresh_grant: Option<Arc<dyn RefreshTokenGrant>>,
    store: Arc<dyn TokenStore>,
    key: Box<str>,
    clock: SharedClock,
    /// Shared by every cache with the same settings (most have the defaults).
    config: Arc<Config>,
    jitter: Jitter,
    state: Mutex<State>,
    fetch_lock: tokio::sync::Mutex<()>,
    counters: CacheCounters,
}

#[derive(Clone, PartialEq)]
struct Config {
    max_margin: Duration,
    margin_fraction: f64,
    jitter_fraction: f64,
    fetch_timeout: Duration,
    lock_wait: Duration,
    backoff: DoublingWaits,
}

#[derive(Default)]
struct State {
    current: Option<Entry>,
    /// Bumped by every finished fetch attempt, so waiters know one happened while they waited.
    generation: u64,
    last_error: Option<Error>,
    failures: u32,
    retry_not_before: Option<SystemTime>,
    /// The last token the server rejected: never adopted again from the store.
    rejected: Option<AccessToken>,
    had_token: bool,
}

#[derive(Clone)]
struct Entry {
    token: AccessToken,
    refresh_at: SystemTime,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_margin: Duration::from_secs(300),
            margin_fraction: 0.2,
            jitter_fraction: 0.5,
            fetch_timeout: Duration::from_secs(60),
            lock_wait: Duration::from_secs(90),
            backoff: DoublingWaits::new(Duration::from_secs(1), Duration::from_secs(60)),
        }
    }
}

impl Config {
    /// The defaults, one copy shared by every cache built with them.
    fn shared_default() -> Arc<Self> {
        static DEFAULT: LazyLock<Arc<Config>> = LazyLock::new(Arc::default);
        DEFAULT.clone()
    }

    /// `self` shared: the default copy when `self` equals it.
    fn shared(self) -> Arc<Self> {
        let default = Self::shared_default();
        if *default == self {
            default
        } else {
            Arc::new(self)
        }
    }
}

/// Configures a [`CachedTokenSource`]; every setting has a default.
pub struct CachedTokenSourceBuilder {
    /// The cache being configured, not shared with anyone until built.
    inner: Inner,
    /// Its settings, moved into `inner` by [`build`](Self::build).
    config: Config,
}

pardot_auth_core::debug_shows!(CachedTokenSourceBuilder as this {
    source: this.inner.source,
    store: this.inner.store,
    key: this.inner.key,
});

impl CachedTokenSourceBuilder {
    /// The refresh-ahead margin is `min(max_margin, fraction × lifetime)`. Defaults: 5 min and
    /// 0.2. A 2 h token with the defaults is refreshed 5 min (plus jitter) before it expires.
    pub fn refresh_margin(mut self, max_margin: Duration, fraction: f64) -> Self {
        self.config.max_margin = max_margin;
        self.config.margin_fraction = fraction.clamp(0.0, 1.0);
        self
    }

    pardot_auth_core::builder_setters! {
        /// How much earlier than the margin a refresh may randomly happen, as a fraction of the
        /// margin (default 0.5; 0 disables jitter).
        pub fn jitter(fraction: f64) => config.jitter_fraction = fraction.clamp(0.0, 1.0);

        #[cfg(test)]
        pub(crate) fn jitter_source(jitter: Jitter) => inner.jitter = jitter;

        /// The clock for expiry judgements and backoff waits (default: the system clock).
        pub fn clock(clock: SharedClock) => inner.clock = clock;

        /// The store (default: a fresh [`MemoryStore`]).
        pub fn store(store: Arc<dyn TokenStore>) => inner.store = store;

        /// The key under which this cache's record is kept in the store (default `default`).
        pub fn store_key(key: impl Into<String>) => inner.key = key.into().into_boxed_str();

        /// Refresh with the stored refresh token through `grant` (falling back to the source when
        /// there is none or it is refused).
        pub fn refresh_grant(grant: Arc<dyn RefreshTokenGrant>)
            => inner.refresh_grant = Some(grant);

        /// The longest a single fetch may take (default 60 s, measured on the cache's
        /// [`clock`](Self::clock) like every other wait of the cache).
        pub fn fetch_timeout(timeout: Duration) => config.fetch_timeout = timeout;

        /// The longest a fetch waits for the store's lease (default 90 s: another process may
        /// be fetching under it).
        pub fn lock_wait(wait: Duration) => config.lock_wait = wait;

        /// The first and the longest wait after failed fetches (defaults 1 s and 60 s; doubled
        /// after each failure, jittered between 50% and 100%).
        pub fn backoff(initial: Duration, max: Duration)
            => config.backoff = DoublingWaits::new(initial, max);
    }

    /// The cache.
    pub fn build(self) -> CachedTokenSource {
        let inner = Inner {
            config: self.config.shared(),
            ..self.inner
        };
        CachedTokenSource {
            inner: Arc::new(inner),
        }
    }
}

impl fmt::Debug for CachedTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("CachedTokenSource")
            .field("source", &self.inner.source)
            .field("key", &self.inner.key)
            .field("cached", &state.current.as_ref().map(|e| &e.token))
            .finish_non_exhaustive()
    }
}

impl CachedTokenSource {
    /// A cache with the defaults around `source`.
    pub fn new(source: Arc<dyn TokenSource>) -> Self {
        Self::builder(source).build()
    }

    /// Configures a cache around `source`.
    pub fn builder(source: Arc<dyn TokenSource>) -> CachedTokenSourceBuilder {
        CachedTokenSourceBuilder {
            inner: Inner {
                source,
                refresh_grant: None,
                store: Arc::new(MemoryStore::new()),
                key: "default".into(),
                clock: SystemClock::shared(),
                config: Config::shared_default(),
                jitter: Jitter::default(),
                state: Mutex::new(State::default()),
                fetch_lock: tokio::sync::Mutex::new(()),
                counters: CacheCounters::default(),
            },
            config: Config::default(),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> CacheMetrics {
        self.inner.counters.snapshot()
    }

    /// The cached token, without fetching (`None` when nothing usable is cached).
    pub fn cached(&self) -> Option<AccessToken> {
        let now = self.inner.clock.now();
        self.inner
            .lock()
            .current
            .as_ref()
            .filter(|e| !e.token.is_expired(now))
            .map(|e| e.token.clone())
    }

    /// The clock this cache judges expiry on.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The store this cache keeps its record in.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The store key of this cache.
    pub fn store_key(&self) -> &str {
        &self.inner.key
    }

    /// A usable token: the cached one, or a fetched one (see the type's docs).
    pub async fn get(&self) -> Result<AccessToken, Error> {
        self.inner.get().await
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Updates under this lock are plain assignments; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn margin(&self, token: &AccessToken) -> Duration {
        let by_fraction = token.lifetime().mul_f64(self.config.margin_fraction);
        self.config.max_margin.min(by_fraction)
    }

    fn refresh_at(&self, token: &AccessToken) -> SystemTime {
        let margin = self.margin(token);
        let early = margin.mul_f64(self.config.jitter_fraction * self.jitter.next());
        token
            .expires_at()
            .checked_sub(margin + early)
            .unwrap_or(token.issued_at())
    }

    fn backoff(&self, failures: u32) -> Duration {
        let waits = &self.config.backoff;
        waits.nth_jittered(failures.saturating_sub(1), self.jitter.next())
    }

    async fn get(&self) -> Result<AccessToken, Error> {
        let now = self.clock.now();
        let (generation, still_valid) = {
            let state = self.lock();
            match &state.current {
                Some(e) if now < e.refresh_at => return Ok(e.token.clone()),
                Some(e) if !e.token.is_expired(now) => (state.generation, Some(e.token.clone())),
                _ => (state.generation, None),
            }
        };

        if let Some(old) = still_valid {
            return Ok(self.soft_refresh(old).await);
        }

        let _guard = self.fetch_lock.lock().await;
        {
            let now = self.clock.now();
            let state = self.lock();
            if let Some(e) = &state.current
                && !e.token.is_expired(now)
            {
                return Ok(e.token.clone());
            }
            if state.generation != generation
                && let Some(err) = &state.last_error
            {
                // A fetch finished (and failed) while we waited: share its result rather
                // than hitting the login server again.
                return Err(err.clone());
            }
        }
        self.wait_out_backoff().await;
        self.fetch_locked(None, "no usable token").await
    }

    /// Inside the margin: one caller refreshes, everyone else keeps the valid old token.
    async fn soft_refresh(&self, old: AccessToken) -> AccessToken {
        let Ok(_guard) = self.fetch_lock.try_lock() else {
            return old;
        };
        let now = self.clock.now();
        {
            let state = self.lock();
            if let Some(e) = &state.current
                && (now < e.refresh_at || !e.token.is_same_as(&old))
                && !e.token.is_expired(now)
            {
                return e.token.clone();
            }
            if state.retry_not_before.is_some_and(|t| now < t) {
                return old;
            }
        }
        match self
            .fetch_locked(Some(&old), "refresh ahead of expiry")
            .await
        {
            Ok(token) => token,
            Err(e) => {
                bump(&self.counters.soft_refresh_failures);
                tracing::warn!(
                    error = %e,
                    expires_in_s = old.expires_at().duration_since(now).unwrap_or_default().as_secs(),
                    "refresh ahead of expiry failed; keeping the current token while it is valid"
                );
                old
            }
        }
    }

    async fn wait_out_backoff(&self) {
        let wait = {
            let state = self.lock();
            let now = self.clock.now();
            state
                .retry_not_before
                .and_then(|t| t.duration_since(now).ok())
        };
        if let Some(wait) = wait.filter(|w| !w.is_zero()) {
            bump(&self.counters.backoff_waits);
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "waiting before fetching a token again after a failure"
            );
            self.clock.sleep(wait).await;
        }
    }

    /// Fetches under the fetch lock (held by the caller) and the store's lease.
    async fn fetch_locked(
        &self,
        replacing: Option<&AccessToken>,
        reason: &'static str,
    ) -> Result<AccessToken, Error> {
        let span = tracing::info_span!("pardot_http.token_fetch", key = %self.key, reason);
        let result = self.fetch_with_store(replacing).instrument(span).await;
        let now = self.clock.now();
        let mut state = self.lock();
        state.generation += 1;
        match result {
            Ok((token, adopted)) => {
                if state.had_token && !adopted {
                    bump(&self.counters.refreshes);
                }
                state.had_token = true;
                state.failures = 0;
                state.retry_not_before = None;
                state.last_error = None;
                // A server may hand back the credential it already issued while that one is
                // live (Pardot's legacy login returns the same api_key with its original issue
                // time). Asking again before it expires would only repeat the same answer on
                // every call, so such a token is kept until it expires.
                let refresh_at = match replacing {
                    Some(old) if token.is_same_as(old) => token.expires_at(),
                    _ => self.refresh_at(&token),
                };
                state.current = Some(Entry {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            Err(e) => {
                state.failures = state.failures.saturating_add(1);
                let wait = self.backoff(state.failures);
                state.retry_not_before = Some(now + wait);
                state.last_error = Some(e.clone());
                tracing::warn!(
                    error = %e,
                    failures = state.failures,
                    next_attempt_in_ms = wait.as_millis() as u64,
                    "token fetch failed"
                );
                Err(e)
            }
        }
    }

    async fn fetch_with_store(
        &self,
        replacing: Option<&AccessToken>,
    ) -> Result<(AccessToken, bool), Error> {
        let lease = self.store.lock(&self.key, self.config.lock_wait).await?;
        let fetched = self.fetch_under_lease(&lease, replacing).await;
        // Told to the store before the token is handed out: a program that exits right after
        // must not leave another process waiting for the lease to expire.
        self.store.release(lease).await;
        fetched
    }

    /// The part of [`fetch_with_store`](Self::fetch_with_store) done while holding `lease`.
    async fn fetch_under_lease(
        &self,
        lease: &StoreLease,
        replacing: Option<&AccessToken>,
    ) -> Result<(AccessToken, bool), Error> {
        let record = self.store.load(&self.key).await?.unwrap_or_default();
        let now = self.clock.now();
        if let Some(stored) = &record.access {
            let rejected = self.lock().rejected.clone();
            let stale = |t: &AccessToken| {
                replacing.is_some_and(|r| r.is_same_as(t))
                    || rejected.as_ref().is_some_and(|r| r.is_same_as(t))
            };
            if !stale(stored) && now < self.refresh_at(stored) {
                bump(&self.counters.store_adoptions);
                tracing::debug!("using the token another holder of the store fetched");
                return Ok((stored.clone(), true));
            }
        }
        let (token, record) = self.fetch_from_sources(lease, record).await?;
        if let Err(e) = self
            .store
            .save_fenced(lease, &record.updated_with(&token))
            .await
        {
            // The token is good; losing it from the store costs a fetch later, but a rotated
            // refresh token that is not saved is lost to other processes: say so loudly.
            tracing::error!(error = %e, "could not save the fetched token in the store");
        }
        tracing::info!(
            expires_in_s = token
                .expires_at()
                .duration_since(now)
                .unwrap_or_default()
                .as_secs(),
            estimated = matches!(token.expiry(), Expiry::Estimated(_)),
            "token fetched"
        );
        Ok((token, false))
    }

    /// Fetches with the refresh grant (when there is one and a refresh token is stored), else
    /// with the source. Returns the record to update (without a refused refresh token).
    async fn fetch_from_sources(
        &self,
        lease: &StoreLease,
        mut record: StoredToken,
    ) -> Result<(AccessToken, StoredToken), Error> {
        let limit = self.config.fetch_timeout;
        if let (Some(grant), Some(rt)) = (&self.refresh_grant, record.refresh_token.clone()) {
            bump(&self.counters.fetches);
            let result = timeout(&*self.clock, limit, grant.refresh(&rt)).await;
            match result {
                Ok(Ok(token)) => return Ok((token, record)),
                Ok(Err(e)) if e.class() == ErrorClass::NeverRetry => {
                    bump(&self.counters.fetch_failures);
                    tracing::warn!(error = %e, "the stored refresh token was refused; logging in with the source");
                    record.refresh_token = None;
                    let _ = self.store.save_fenced(lease, &record).await;
                }
                Ok(Err(e)) => {
                    bump(&self.counters.fetch_failures);
                    return Err(e);
                }
                Err(_) => {
                    bump(&self.counters.fetch_failures);
                    return Err(Error::timeout(format!(
                        "refresh-token grant gave no answer within {limit:?}"
                    )));
                }
            }
        }
        bump(&self.counters.fetches);
        match timeout(&*self.clock, limit, self.source.token()).await {
            Ok(Ok(token)) => Ok((token, record)),
            Ok(Err(e)) => {
                bump(&self.counters.fetch_failures);
                Err(e)
            }
            Err(_) => {
                bump(&self.counters.fetch_failures);
                Err(Error::timeout(format!(
                    "token source gave no answer within {limit:?}"
                )))
            }
        }
    }

    fn invalidate(&self, rejected: &AccessToken) {
        {
            let mut state = self.lock();
            if state
                .current
                .as_ref()
                .is_some_and(|e| e.token.is_same_as(rejected))
            {
                state.current = None;
                bump(&self.counters.invalidations);
                tracing::info!("the server rejected the cached token; it will be fetched again");
            }
            state.rejected = Some(rejected.clone());
        }
        self.source.invalidate(rejected);
    }
}

#[async_trait::async_trait]
impl TokenSource for CachedTokenSource {
    async fn token(&self) -> Result<AccessToken, Error> {
        self.inner.get().await
    }

    fn invalidate(&self, rejected: &AccessToken) {
        self.inner.invalidate(rejected);
    }
}

#[cfg(test)]
mod tests;
