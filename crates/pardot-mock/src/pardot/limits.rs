//! Per-business-unit request limits: a real in-flight counter (error 66) and a daily budget
//! that resets at midnight UTC on the mock's clock (error 122). Both are lock-free atomics, so
//! the hot path never waits on another request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::errors::ApiError;

/// The limits of one business unit.
#[derive(Debug)]
pub struct Limits {
    max_in_flight: u32,
    daily_budget: u64,
    in_flight: AtomicU32,
    /// Requests in flight counting every arrival: admitted ones until they finish, refused
    /// ones (66) until they are refused; so a burst beyond the limit shows in the peak.
    arrived: AtomicU32,
    /// The most `arrived` ever was (since start or the last reset).
    peak_arrived: AtomicU32,
    /// Error-66 answers (since start or the last reset).
    refused: AtomicU64,
    /// High 24 bits: the UTC day number (mod 2^24); low 40 bits: requests counted that day.
    daily: AtomicU64,
}

const COUNT_BITS: u32 = 40;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const DAY_MASK: u64 = (1 << (64 - COUNT_BITS)) - 1;

fn pack(day: i64, count: u64) -> u64 {
    // Only day changes matter, so the day number modulo 2^24 (45,000 years) is enough.
    let day = u64::try_from(day.rem_euclid(1 << (64 - COUNT_BITS))).unwrap_or(0) & DAY_MASK;
    (day << COUNT_BITS) | (count & COUNT_MASK)
}

fn unpack(word: u64) -> (u64, u64) {
    (word >> COUNT_BITS, word & COUNT_MASK)
}

impl Limits {
    /// Limits allowing `max_in_flight` concurrent requests and `daily_budget` a day.
    pub fn new(max_in_flight: u32, daily_budget: u64) -> Self {
        Self {
            max_in_flight,
            daily_budget: daily_budget.min(COUNT_MASK),
            in_flight: AtomicU32::new(0),
            arrived: AtomicU32::new(0),
            peak_arrived: AtomicU32::new(0),
            refused: AtomicU64::new(0),
            daily: AtomicU64::new(pack(0, 0)),
        }
    }

    /// Takes an in-flight slot; error 66 when all are taken. The slot is given back when the
    /// guard drops (after the response is built, on every path).
    pub fn enter(self: &Arc<Self>) -> Result<InFlight, ApiError> {
        let arrived = self.arrived.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak_arrived.fetch_max(arrived, Ordering::AcqRel);
        let taken = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_in_flight).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(InFlight {
                limits: Arc::clone(self),
            }),
            Err(_) => {
                self.arrived.fetch_sub(1, Ordering::AcqRel);
                self.refused.fetch_add(1, Ordering::AcqRel);
                Err(ApiError::code(66))
            }
        }
    }

    /// The most requests that were in flight at once, counting refused arrivals (since start
    /// or the last [`reset_concurrency`](Self::reset_concurrency)).
    pub fn peak_in_flight(&self) -> u32 {
        self.peak_arrived.load(Ordering::Acquire)
    }

    /// Error-66 answers (since start or the last reset).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Acquire)
    }

    /// Forgets the peak and the 66 count (the mock's reset). Requests still in flight stay
    /// counted: the peak starts from them.
    pub fn reset_concurrency(&self) {
        self.refused.store(0, Ordering::Release);
        self.peak_arrived
            .store(self.arrived.load(Ordering::Acquire), Ordering::Release);
    }

    /// Counts one request against the budget of `day` (the UTC day number on the mock's clock);
    /// error 122 when the day's budget is used up (the refused request is not counted).
    pub fn charge(&self, day: i64) -> Result<(), ApiError> {
        let today = unpack(pack(day, 0)).0;
        let result = self
            .daily
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                let (stored_day, count) = unpack(word);
                let count = if stored_day == today { count } else { 0 };
                (count < self.daily_budget).then(|| pack(day, count + 1))
            });
        result.map(|_| ()).map_err(|_| ApiError::code(122))
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Requests counted on `day` so far.
    pub fn used_on(&self, day: i64) -> u64 {
        let (stored_day, count) = unpack(self.daily.load(Ordering::Acquire));
        if stored_day == unpack(pack(day, 0)).0 {
            count
        } else {
            0
        }
    }

    /// The concurrency limit.
    pub fn max_in_flight(&self) -> u32 {
        self.max_in_flight
    }

    /// The daily budget.
    pub fn daily_budget(&self) -> u64 {
        self.daily_budget
    }

    /// Forgets the day's count (the mock's reset).
    pub fn reset_daily(&self) {
        self.daily.store(pack(0, 0), Ordering::Release);
    }
}

/// An in-flight slot of a business unit; dropping it frees the slot.
#[derive(Debug)]
pub struct InFlight {
    limits: Arc<Limits>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.limits.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.limits.arrived.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_slots_come_back() {
        let limits = Arc::new(Limits::new(2, 100));
        let a = limits.enter().unwrap();
        let b = limits.enter().unwrap();
        assert_eq!(limits.enter().unwrap_err().code, 66);
        drop(a);
        let c = limits.enter().unwrap();
        assert_eq!(limits.in_flight(), 2);
        drop((b, c));
        assert_eq!(limits.in_flight(), 0);
        // Two admitted and one refused at once: the peak counts the refused arrival.
        assert_eq!((limits.peak_in_flight(), limits.refused()), (3, 1));
        let d = limits.enter().unwrap();
        limits.reset_concurrency();
        assert_eq!((limits.peak_in_flight(), limits.refused()), (1, 0));
        drop(d);
    }

    #[test]
    fn budget_resets_with_the_day() {
        let limits = Limits::new(5, 2);
        limits.charge(19_000).unwrap();
        limits.charge(19_000).unwrap();
        assert_eq!(limits.charge(19_000).unwrap_err().code, 122);
        assert_eq!(limits.used_on(19_000), 2);
        limits.charge(19_001).unwrap();
        assert_eq!(limits.used_on(19_001), 1);
        assert_eq!(limits.used_on(19_000), 0);
    }
}
