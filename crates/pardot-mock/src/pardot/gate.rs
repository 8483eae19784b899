//! A test hook that parks Pardot requests after they took their in-flight slot, so a test can
//! hold exactly N requests "in flight" and watch the N+1th get error 66, with no timing.

use tokio::sync::watch;

/// Parks requests while closed.
#[derive(Debug)]
pub struct Gate {
    open: watch::Sender<bool>,
    parked: watch::Sender<usize>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            open: watch::Sender::new(true),
            parked: watch::Sender::new(0),
        }
    }
}

impl Gate {
    /// Starts holding requests.
    pub fn close(&self) {
        self.open.send_replace(false);
    }

    /// Lets every held request (and every later one) through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Requests parked right now.
    pub fn parked(&self) -> usize {
        *self.parked.borrow()
    }

    /// Waits until at least `n` requests are parked.
    pub async fn wait_for_parked(&self, n: usize) {
        let mut rx = self.parked.subscribe();
        // The sender lives as long as `self`, so this only ends when the count is reached.
        let _ = rx.wait_for(|count| *count >= n).await;
    }

    /// Parks the caller while the gate is closed (a no-op when open: one atomic read).
    pub async fn pass(&self) {
        if *self.open.borrow() {
            return;
        }
        let mut rx = self.open.subscribe();
        self.parked.send_modify(|n| *n += 1);
        // Counted out on drop too, so a request whose client went away is not left counted.
        let _parked = Parked(&self.parked);
        let _ = rx.wait_for(|open| *open).await;
    }
}

struct Parked<'a>(&'a watch::Sender<usize>);

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn parks_until_opened() {
        let gate = Arc::new(Gate::default());
        gate.pass().await;
        gate.close();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let g = Arc::clone(&gate);
                tokio::spawn(async move { g.pass().await })
            })
            .collect();
        gate.wait_for_parked(3).await;
        assert_eq!(gate.parked(), 3);
        gate.open();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(gate.parked(), 0);
    }
}
