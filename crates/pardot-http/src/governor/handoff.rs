//! Passing a Redis permit straight from a task that is done with it to a task of the same
//! process that waits for one: no give-back, no wake-up through Redis, no new take, so a busy
//! process loses no time between its requests. A permit is passed at most [`MAX_HANDOFFS`]
//! times in a row, then given back to Redis, so the other processes get their turn.

use std::sync::Mutex;

use tokio::sync::oneshot;

/// How many times in a row a permit may pass between tasks of one process.
pub(super) const MAX_HANDOFFS: u32 = 4;

/// A permit on its way from one task to another.
pub(super) struct Baton {
    /// The permit's id in Redis.
    pub(super) id: String,
    /// How many times it was passed since it was taken from Redis.
    pub(super) handoffs: u32,
}

/// Where the process's Redis waiter (one at a time) waits for a passed permit.
#[derive(Default)]
pub(super) struct HandOff {
    waiter: Mutex<Option<oneshot::Sender<Baton>>>,
}

impl HandOff {
    fn waiter(&self) -> std::sync::MutexGuard<'_, Option<oneshot::Sender<Baton>>> {
        // Only a sender is put in or taken out: a poisoned slot is still consistent.
        self.waiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The waiter asks for the next permit passed in this process.
    pub(super) fn expect(&self) -> oneshot::Receiver<Baton> {
        let (sender, receiver) = oneshot::channel();
        *self.waiter() = Some(sender);
        receiver
    }

    /// The waiter stops waiting; returns a permit passed to it meanwhile (it must be given
    /// back: the waiter has one already, or wants none any more).
    pub(super) fn stop(&self, receiver: &mut oneshot::Receiver<Baton>) -> Option<Baton> {
        self.waiter().take();
        receiver.try_recv().ok()
    }

    /// Passes `baton` to the waiting task, if there is one and the permit may travel once
    /// more; otherwise hands it back for a give-back.
    pub(super) fn offer(&self, baton: Baton) -> Result<(), Baton> {
        if baton.handoffs > MAX_HANDOFFS {
            return Err(baton);
        }
        let Some(waiter) = self.waiter().take() else {
            return Err(baton);
        };
        waiter.send(baton)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baton(handoffs: u32) -> Baton {
        Baton {
            id: "p".to_owned(),
            handoffs,
        }
    }

    #[test]
    fn a_permit_goes_to_the_waiter_a_bounded_number_of_times() {
        let handoff = HandOff::default();
        assert!(handoff.offer(baton(1)).is_err(), "nobody waits");
        let mut receiver = handoff.expect();
        assert!(
            handoff.offer(baton(MAX_HANDOFFS + 1)).is_err(),
            "travelled enough"
        );
        assert!(handoff.offer(baton(MAX_HANDOFFS)).is_ok());
        assert_eq!(receiver.try_recv().unwrap().handoffs, MAX_HANDOFFS);
        assert!(handoff.offer(baton(1)).is_err(), "one permit per wait");
        let mut late = handoff.expect();
        handoff.offer(baton(2)).ok().unwrap();
        assert_eq!(handoff.stop(&mut late).unwrap().handoffs, 2);
    }
}
