//! Expectations on counters, checked when the mock is dropped (as wiremock does) or on
//! [`crate::PardotMock::verify`].

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::Mutex;

use crate::journal::{Counts, JournalEntry};
use crate::route::{Outcome, Route};
use crate::state::MockState;

/// How many of the latest journal entries a [`VerifyError`] shows.
pub const VERIFY_JOURNAL_EXCERPT: usize = 20;

/// An expected number of requests to a route, with one outcome or any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The route counted.
    pub route: Route,
    /// The outcome counted; any outcome when `None`.
    pub outcome: Option<Outcome>,
    /// The lowest count that holds.
    pub start: Bound<u64>,
    /// The highest count that holds.
    pub end: Bound<u64>,
}

impl Expectation {
    fn actual(&self, counts: &Counts) -> u64 {
        match self.outcome {
            Some(o) => counts.get(self.route, o),
            None => counts.route_total(self.route),
        }
    }

    fn holds(&self, n: u64) -> bool {
        (self.start, self.end).contains(&n)
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.route)?;
        if let Some(outcome) = self.outcome {
            write!(f, " / {outcome}")?;
        }
        f.write_str(" in ")?;
        match self.start {
            Bound::Included(n) => write!(f, "{n}")?,
            Bound::Excluded(n) => write!(f, "(excluded {n})")?,
            Bound::Unbounded => {}
        }
        match self.end {
            Bound::Included(n) => write!(f, "..={n}"),
            Bound::Excluded(n) => write!(f, "..{n}"),
            Bound::Unbounded => f.write_str(".."),
        }
    }
}

/// An expectation that did not hold, with the count it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetExpectation {
    /// What was expected.
    pub expected: Expectation,
    /// The count at verification.
    pub actual: u64,
}

/// [`crate::PardotMock::verify`] failed: every unmet expectation, and the latest requests
/// (at most [`VERIFY_JOURNAL_EXCERPT`]) with credentials masked, to tell why.
#[derive(Clone)]
pub struct VerifyError {
    unmet: Vec<UnmetExpectation>,
    recent: Vec<JournalEntry>,
}

impl VerifyError {
    /// The expectations that did not hold, in the order they were added.
    pub fn unmet(&self) -> &[UnmetExpectation] {
        &self.unmet
    }

    /// The latest journal entries, oldest first (their `Debug` masks credentials).
    pub fn recent_requests(&self) -> &[JournalEntry] {
        &self.recent
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "pardot-mock expectations failed:")?;
        for miss in &self.unmet {
            writeln!(f, "  expected {}, got {}", miss.expected, miss.actual)?;
        }
        writeln!(
            f,
            "latest requests received (at most {VERIFY_JOURNAL_EXCERPT}; query, form and headers not shown):"
        )?;
        if self.recent.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for entry in &self.recent {
            writeln!(
                f,
                "  #{} {} {} {} -> {} {} {}",
                entry.seq,
                entry.method,
                entry.vhost,
                entry.path,
                entry.status,
                entry.route,
                entry.outcome
            )?;
        }
        Ok(())
    }
}

// Debug reads like Display: a failed `verify().unwrap()` or `?` in a test prints the report.
impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for VerifyError {}

/// Registered expectations.
#[derive(Debug, Default)]
pub(crate) struct Expectations(Mutex<Vec<Expectation>>);

impl Expectations {
    pub(crate) fn add(&self, route: Route, outcome: Option<Outcome>, range: impl RangeBounds<u64>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Expectation {
                route,
                outcome,
                start: range.start_bound().cloned(),
                end: range.end_bound().cloned(),
            });
    }

    /// `Err` listing every expectation that does not hold now.
    pub(crate) fn verify(&self, state: &MockState) -> Result<(), VerifyError> {
        let list = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if list.is_empty() {
            return Ok(());
        }
        let counts = state.counts();
        let unmet: Vec<UnmetExpectation> = list
            .into_iter()
            .filter_map(|expected| {
                let actual = expected.actual(&counts);
                (!expected.holds(actual)).then_some(UnmetExpectation { expected, actual })
            })
            .collect();
        if unmet.is_empty() {
            return Ok(());
        }
        let mut recent = state.journal();
        recent.drain(..recent.len().saturating_sub(VERIFY_JOURNAL_EXCERPT));
        Err(VerifyError { unmet, recent })
    }

    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
