//! [`TokenSource`]: anything that can fetch a fresh [`AccessToken`]; [`RefreshTokenGrant`]:
//! anything that can redeem a refresh token for one.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use secrecy::SecretString;

use crate::{AccessToken, Error};

/// Fetches a fresh token. Flows implement it; the transport's cache wraps it.
///
/// Implementations do not cache: every call goes to the server. Wrap a source in
/// `pardot_http::CachedTokenSource` to share one token between callers.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// Fetches a new token from the server.
    async fn token(&self) -> Result<AccessToken, Error>;

    /// Tells the source that the server rejected `rejected` as expired or revoked.
    ///
    /// Sources that fetch on every call ignore it (the default). A caching source (such as
    /// `pardot_http::CachedTokenSource`) drops its cached token if, and only if, it is still
    /// `rejected` (see [`AccessToken::is_same_as`]), so a slow rejection never throws away a
    /// newer token; it also passes the call on to the source it wraps, so caches stacked on
    /// caches stay correct.
    fn invalidate(&self, rejected: &AccessToken) {
        let _ = rejected;
    }
}

/// [`TokenSource`] for pointers to one: every call goes to the source pointed to (so an
/// `invalidate` reaches a cache behind an `Arc` or a `Box`).
macro_rules! token_source_through {
    ($($pointer:ident),+) => {$(
        #[async_trait::async_trait]
        impl<T: TokenSource + ?Sized> TokenSource for $pointer<T> {
            async fn token(&self) -> Result<AccessToken, Error> {
                (**self).token().await
            }

            fn invalidate(&self, rejected: &AccessToken) {
                (**self).invalidate(rejected);
            }
        }
    )+};
}

token_source_through!(Arc, Box);

/// A closure with a name, which is all its `Debug` shows: the [`TokenSource`] of
/// [`provide_token_fn`] and the [`RefreshTokenGrant`] of [`refresh_grant_fn`].
pub struct NamedFn<F> {
    name: &'static str,
    f: F,
}

crate::debug_shows!(NamedFn<F> as this {
    name: this.name,
});

/// A [`TokenSource`] made from a closure; see [`provide_token_fn`].
pub type FnTokenSource<F> = NamedFn<F>;

/// A [`RefreshTokenGrant`] made from a closure; see [`refresh_grant_fn`].
pub type FnRefreshGrant<F> = NamedFn<F>;

#[async_trait::async_trait]
impl<F, Fut> TokenSource for NamedFn<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, Error>> + Send,
{
    async fn token(&self) -> Result<AccessToken, Error> {
        (self.f)().await
    }
}

/// A token source from an async closure, for tests and ad-hoc sources.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::{Duration, SystemTime};
/// use pardot_auth_core::{provide_token_fn, AccessToken, Expiry, TokenKind, TokenSource};
///
/// let source = provide_token_fn("fixed", || async {
///     let now = SystemTime::now();
///     Ok(AccessToken::new(TokenKind::MciBearer, "tok-1".into(), now,
///         Expiry::Known(now + Duration::from_secs(300))))
/// });
/// assert_eq!(source.token().await.unwrap().lifetime(), Duration::from_secs(300));
/// # }
/// ```
pub fn provide_token_fn<F, Fut>(name: &'static str, f: F) -> FnTokenSource<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, Error>> + Send,
{
    NamedFn { name, f }
}

/// Redeems a refresh token for a new access token (the OAuth refresh-token grant).
///
/// `sf_oauth::RefreshGrant` implements it for a Salesforce connected app. Give one to
/// `pardot_http::CachedTokenSourceBuilder::refresh_grant` and the cache refreshes with the
/// refresh token kept in its store, replacing it whenever the server rotates it, so every
/// process sharing the store uses the newest one and none reuses an old one.
#[async_trait::async_trait]
pub trait RefreshTokenGrant: Send + Sync + fmt::Debug {
    /// Redeems `refresh_token`. The returned token carries the new refresh token when the
    /// server rotated it.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, Error>;
}

#[async_trait::async_trait]
impl<F, Fut> RefreshTokenGrant for NamedFn<F>
where
    F: Fn(SecretString) -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, Error>> + Send,
{
    async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        (self.f)(refresh_token.clone()).await
    }
}

/// A refresh grant from an async closure taking the refresh token, for tests and ad-hoc
/// grants.
pub fn refresh_grant_fn<F, Fut>(name: &'static str, f: F) -> FnRefreshGrant<F>
where
    F: Fn(SecretString) -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, Error>> + Send,
{
    NamedFn { name, f }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock;
    use crate::testing::CountingSource;

    #[test]
    fn invalidate_is_forwarded_through_arc_and_box() {
        let clock = crate::ManualClock::new();
        let now = clock.now();
        let token = AccessToken::new(
            crate::TokenKind::MciBearer,
            "tok-1".into(),
            now,
            crate::Expiry::Known(now + std::time::Duration::from_secs(300)),
        );
        let inner = CountingSource::new(clock.shared());
        let boxed: Box<dyn TokenSource> = Box::new(Arc::new(inner.clone()));
        boxed.invalidate(&token);
        let shared: Arc<dyn TokenSource> = Arc::new(inner.clone());
        shared.invalidate(&token);
        assert_eq!(inner.invalidations(), 2);
        // The default does nothing (and must not panic).
        provide_token_fn("noop", || async { Err(Error::config("x")) }).invalidate(&token);
    }
}
