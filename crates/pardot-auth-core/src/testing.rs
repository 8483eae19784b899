//! Test doubles shared by the pardot-auth crates' tests (feature `test-util`).
//!
//! [`CountingSource`] is the token source most tests want: it hands out `tok-1`, `tok-2`, …
//! stamped on a [`Clock`](crate::Clock), counts its fetches and the rejections it is told about, and can be
//! made to fail or to wait until released.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::{
    AccessToken, DEFAULT_SALESFORCE_SESSION, Error, ErrorClass, Expiry, Scopes, SharedClock,
    TokenKind, TokenSource,
};

/// A [`TokenSource`] handing out `tok-1`, `tok-2`, … and counting the calls.
///
/// Defaults: Salesforce bearer tokens with an estimated expiry of
/// [`DEFAULT_SALESFORCE_SESSION`] after the clock's now, no scopes. Clones share the counters
/// and the failure switch (and the gate, for clones made after [`gated`](Self::gated)), so a
/// test keeps one clone and gives another away.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use pardot_auth_core::testing::CountingSource;
/// use pardot_auth_core::{ManualClock, TokenSource};
/// use pardot_auth_core::secrecy::ExposeSecret;
///
/// let tokens = CountingSource::new(ManualClock::new().shared());
/// let source: Arc<dyn TokenSource> = tokens.shared();
/// assert_eq!(source.token().await.unwrap().secret().expose_secret(), "tok-1");
/// tokens.fail(true);
/// assert!(source.token().await.is_err());
/// assert_eq!(tokens.fetches(), 2);
/// # }
/// ```
#[derive(Clone)]
pub struct CountingSource {
    clock: SharedClock,
    kind: TokenKind,
    lifetime: Duration,
    known_expiry: bool,
    scopes: Option<Scopes>,
    gate: Option<Arc<Notify>>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    fetches: AtomicU32,
    invalidations: AtomicU32,
    failing: AtomicBool,
    started: Notify,
}

crate::debug_shows!(CountingSource as this {
    fetches: this.fetches(),
    lifetime: this.lifetime,
});

impl CountingSource {
    /// A source stamping its tokens on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            kind: TokenKind::SalesforceBearer,
            lifetime: DEFAULT_SALESFORCE_SESSION,
            known_expiry: false,
            scopes: None,
            gate: None,
            shared: Arc::default(),
        }
    }

    crate::builder_setters! {
        /// Tokens live `lifetime` (default 2 h).
        pub fn lifetime(lifetime: Duration) => lifetime = lifetime;

        /// Tokens carry an [`Expiry::Known`] instead of an estimate.
        pub fn known_expiry() => known_expiry = true;

        /// Tokens are of `kind` (default Salesforce bearer).
        pub fn kind(kind: TokenKind) => kind = kind;

        /// Tokens carry these granted scopes (space-separated).
        pub fn scopes(scopes: &str) => scopes = Some(Scopes::parse(scopes));

        /// Each fetch through this source (and clones made from it afterwards), once counted,
        /// waits for [`release`](Self::release) before answering. The counters stay shared with
        /// the clones made before.
        pub fn gated() => gate = Some(Arc::new(Notify::new()));
    }

    /// Lets one waiting (or the next) gated fetch answer.
    pub fn release(&self) {
        if let Some(gate) = &self.gate {
            gate.notify_one();
        }
    }

    /// Waits until a fetch has started (been counted) since the last wait.
    pub async fn started(&self) {
        self.shared.started.notified().await;
    }

    /// While `failing`, fetches fail with a retryable server error (`503`).
    pub fn fail(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// A clone as a shared [`TokenSource`] (sharing the counters), to hand to a cache or
    /// client while the test keeps this one to read them.
    pub fn shared(&self) -> Arc<dyn TokenSource> {
        Arc::new(self.clone())
    }

    /// Fetches so far (failed ones included).
    pub fn fetches(&self) -> u32 {
        self.shared.fetches.load(Ordering::SeqCst)
    }

    /// [`TokenSource::invalidate`] calls so far.
    pub fn invalidations(&self) -> u32 {
        self.shared.invalidations.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenSource for CountingSource {
    async fn token(&self) -> Result<AccessToken, Error> {
        let n = self.shared.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.started.notify_one();
        if let Some(gate) = &self.gate {
            gate.notified().await;
        }
        if self.shared.failing.load(Ordering::SeqCst) {
            return Err(Error::server(
                ErrorClass::RETRY,
                "503",
                format!("login server down (fetch {n})"),
            ));
        }
        let now = self.clock.now();
        let at = now + self.lifetime;
        let expiry = if self.known_expiry {
            Expiry::Known(at)
        } else {
            Expiry::Estimated(at)
        };
        let token = AccessToken::new(self.kind.clone(), format!("tok-{n}").into(), now, expiry);
        Ok(match &self.scopes {
            Some(scopes) => token.with_scopes(scopes.clone()),
            None => token,
        })
    }

    fn invalidate(&self, _rejected: &AccessToken) {
        self.shared.invalidations.fetch_add(1, Ordering::SeqCst);
    }
}

/// Collects everything a log writer writes, for tests that check what is logged (and that
/// no secret is). Give a `tracing_subscriber::fmt()` builder
/// `.with_writer(move || capture.clone())` and read [`text`](Self::text) afterwards; clones
/// share one buffer.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// What was written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer()).into_owned()
    }

    fn buffer(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A test that panicked mid-write leaves whole writes behind: the bytes are still good.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
