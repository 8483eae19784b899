//! [`RedisConnection`]: one checked, reconnecting connection to Redis, shared by the token
//! store and the governor.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use url::Url;

use crate::store::StoreError;

/// How long connecting, and each command, may take before it counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to Redis (a `redis` crate `ConnectionManager`, which reconnects by itself),
/// opened from a URL checked by the transport rule: `rediss://` (TLS) anywhere, plain
/// `redis://` only to a loopback address. Clones share the connection.
///
/// The URL's password never appears in `Debug`, in errors or in logs: they show
/// [`url`](Self::url), the address without it.
#[derive(Clone)]
pub struct RedisConnection {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    manager: ConnectionManager,
    shown: String,
    /// The password as written in the URL and decoded, scrubbed from server error text.
    password: Option<(String, String)>,
}

pardot_auth_core::debug_shows!(RedisConnection as this {
    url: this.inner.shown,
});

/// Whether `url` names a loopback host. `redis:` is not a scheme the URL standard knows, so
/// its host is opaque text (core's `is_loopback` would see `127.0.0.1` as a domain name).
fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        None => false,
        Some(host) => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// Checks `text` as a Redis address; returns it parsed and as shown in messages.
fn check_url(text: &str) -> Result<(Url, String), StoreError> {
    let url = Url::parse(text).map_err(|e| StoreError::Unavailable {
        // An unparsable URL cannot be shown safely: it may be all password.
        url: "(unparsable Redis URL)".to_owned(),
        reason: e.to_string(),
    })?;
    let shown_url = pardot_auth_core::without_secrets(&url);
    match url.scheme() {
        "rediss" => Ok((url, shown_url)),
        "redis" if is_loopback(&url) => Ok((url, shown_url)),
        "unix" | "redis+unix" => Ok((url, shown_url)),
        _ => Err(StoreError::Insecure { url: shown_url }),
    }
}

impl RedisConnection {
    /// Connects to `url` (`rediss://[user:password@]host[:port][/db]`, or `redis://` to a
    /// loopback address) and checks that Redis answers `PING`. Fails with
    /// [`StoreError::Insecure`] for a plain-text address elsewhere and with
    /// [`StoreError::Unavailable`] (naming the URL without its password) when Redis cannot be
    /// reached.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (parsed, shown) = check_url(url)?;
        let password = parsed.password().map(|raw| {
            let decoded = percent_decode(raw);
            (raw.to_owned(), decoded)
        });
        let fail = |reason: String| StoreError::Unavailable {
            url: shown.clone(),
            reason: scrub(reason, password.as_ref()),
        };
        let client = redis::Client::open(parsed.as_str()).map_err(|e| fail(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2);
        let mut manager = tokio::time::timeout(
            CONNECT_TIMEOUT * 2,
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| fail(format!("no connection within {:?}", CONNECT_TIMEOUT * 2)))?
        .map_err(|e| fail(e.to_string()))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut manager)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                manager,
                shown: shown.clone(),
                password,
            }),
        })
    }

    /// The address, without its password.
    pub fn url(&self) -> &str {
        &self.inner.shown
    }

    /// A handle on the shared connection.
    pub(crate) fn manager(&self) -> ConnectionManager {
        self.inner.manager.clone()
    }

    /// Runs `command` on the shared connection, once more when it found the connection
    /// dropped: the manager reconnects behind that first failure (the first command after a
    /// Redis restart meets the old, broken connection).
    pub(crate) async fn query<T, F>(
        &self,
        command: impl Fn(ConnectionManager) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match command(self.manager()).await {
            Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                command(self.manager()).await.map_err(|e| self.error(&e))
            }
            other => other.map_err(|e| self.error(&e)),
        }
    }

    /// A Redis failure as a store error: the URL without its password, the password scrubbed
    /// from the server's text.
    pub(crate) fn error(&self, e: &redis::RedisError) -> StoreError {
        StoreError::Unavailable {
            url: self.inner.shown.clone(),
            reason: scrub(e.to_string(), self.inner.password.as_ref()),
        }
    }

    /// Runs `script` on `key` with `args` on the current runtime without waiting for it: for
    /// letting go of a lease or a permit from a `Drop`. Without a runtime, or when it fails,
    /// what it would have let go of expires by itself.
    pub(crate) fn run_detached(&self, script: &'static str, key: String, args: [String; 2]) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut manager = self.manager();
        runtime.spawn(async move {
            let [first, second] = args;
            let ran: Result<redis::Value, _> = redis::Script::new(script)
                .key(key)
                .arg(first)
                .arg(second)
                .invoke_async(&mut manager)
                .await;
            if let Err(e) = ran {
                // The category only: server text could quote what was sent.
                tracing::debug!(kind = ?e.kind(), "a release script failed; the lease or permit will expire");
            }
        });
    }

    /// Waits until a message arrives on `channel` or `timeout` passes; `ready` runs once the
    /// subscription is in place (so nothing published after it is missed) and ends the wait
    /// early when it returns `true`.
    pub(crate) async fn wait_on<F>(
        &self,
        channel: &str,
        timeout: Duration,
        ready: F,
    ) -> Result<(), StoreError>
    where
        F: AsyncFnOnce() -> Result<bool, StoreError>,
    {
        let mut messages = self.subscribe(channel).await?;
        if ready().await? {
            return Ok(());
        }
        let _ = tokio::time::timeout(timeout, messages.next()).await;
        Ok(())
    }
}

impl RedisConnection {
    /// A stream of the messages published on `channel` from now on (a connection of its own,
    /// subscribed when this returns). It ends when the connection is lost.
    pub(crate) async fn subscribe(
        &self,
        channel: &str,
    ) -> Result<futures::stream::BoxStream<'static, redis::Msg>, StoreError> {
        let mut pubsub = self
            .inner
            .client
            .get_async_pubsub()
            .await
            .map_err(|e| self.error(&e))?;
        pubsub
            .subscribe(channel)
            .await
            .map_err(|e| self.error(&e))?;
        Ok(Box::pin(pubsub.into_on_message()))
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("p={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

/// `text` with every occurrence of the password replaced.
fn scrub(text: String, password: Option<&(String, String)>) -> String {
    match password {
        None => text,
        Some((raw, decoded)) => {
            let mut out = text;
            for secret in [raw, decoded] {
                if !secret.is_empty() {
                    out = out.replace(secret.as_str(), "***");
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_only_to_loopback_and_never_the_password() {
        for ok in [
            "rediss://user:pw@cache.example.com:6380/0",
            "redis://127.0.0.1:6379",
            "redis://:pw@localhost/1",
            "redis://[::1]:6379",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "redis://10.0.0.1:6379",
            "redis://127.0.0.1.example.com",
            "http://127.0.0.1",
        ] {
            assert!(
                matches!(check_url(refused), Err(StoreError::Insecure { .. })),
                "{refused}"
            );
        }
        let err = check_url("redis://user:hunter2@cache.example.com:6379").unwrap_err();
        assert!(matches!(err, StoreError::Insecure { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("cache.example.com") && !text.contains("hunter2"),
            "{text}"
        );
        let scrubbed = scrub(
            "WRONGPASS p%40ss and p@ss".to_owned(),
            Some(&("p%40ss".to_owned(), percent_decode("p%40ss"))),
        );
        assert_eq!(scrubbed, "WRONGPASS *** and ***");
    }
}
