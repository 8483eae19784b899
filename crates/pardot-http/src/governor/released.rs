//! One subscription per `redis` governor to its business unit's "released" channel, shared by
//! the governor's waiters: a permit given back anywhere in the fleet wakes them at once,
//! without a connection and a `SUBSCRIBE` per wait.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::sync::futures::Notified;
use tokio::sync::{Notify, OnceCell};

use crate::store::{RedisConnection, StoreError};

/// How often an idle listener checks that its governor still exists.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// The pause between attempts to subscribe again after the connection was lost.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(200);

/// Wakes the governor's waiters when a permit is given back.
pub(super) struct ReleaseSignal {
    connection: RedisConnection,
    channel: String,
    notify: Arc<Notify>,
    listening: OnceCell<()>,
}

impl ReleaseSignal {
    pub(super) fn new(connection: RedisConnection, channel: String) -> Self {
        Self {
            connection,
            channel,
            notify: Arc::new(Notify::new()),
            listening: OnceCell::new(),
        }
    }

    /// Makes sure the listener runs; the first call returns once it is subscribed, so no
    /// give-back after it is missed.
    pub(super) async fn listen(&self) -> Result<(), StoreError> {
        self.listening
            .get_or_try_init(|| async {
                let messages = self.connection.subscribe(&self.channel).await?;
                tokio::spawn(relay(
                    Arc::downgrade(&self.notify),
                    self.connection.clone(),
                    self.channel.clone(),
                    messages,
                ));
                Ok::<_, StoreError>(())
            })
            .await
            .map(|_| ())
    }

    /// A future that completes at the next give-back; `enable` it before trying to take a
    /// permit, so a give-back in between is not missed.
    pub(super) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}

/// Wakes every waiter on each message, until the governor is gone. When the connection is
/// lost it subscribes again and wakes the waiters (a give-back may have been missed).
async fn relay(
    notify: Weak<Notify>,
    connection: RedisConnection,
    channel: String,
    mut messages: BoxStream<'static, redis::Msg>,
) {
    loop {
        match tokio::time::timeout(IDLE_CHECK, messages.next()).await {
            Ok(Some(_)) => match notify.upgrade() {
                Some(waiters) => waiters.notify_waiters(),
                None => return,
            },
            Err(_) if notify.strong_count() == 0 => return,
            Err(_) => {}
            Ok(None) => loop {
                if notify.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
                let Ok(again) = connection.subscribe(&channel).await else {
                    continue;
                };
                messages = again;
                if let Some(waiters) = notify.upgrade() {
                    waiters.notify_waiters();
                }
                break;
            },
        }
    }
}
