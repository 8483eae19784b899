//! Expectations on counters, checked when the mock is dropped (as wiremock does).

use std::ops::{Bound, RangeBounds};
use std::sync::Mutex;

use crate::journal::Counts;
use crate::state::MockState;

#[derive(Debug, Clone)]
struct Expectation {
    route: String,
    outcome: Option<String>,
    start: Bound<u64>,
    end: Bound<u64>,
}

impl Expectation {
    fn actual(&self, counts: &Counts) -> u64 {
        match &self.outcome {
            Some(o) => counts.get(&self.route, o),
            None => counts.route_total(&self.route),
        }
    }

    fn holds(&self, n: u64) -> bool {
        (self.start, self.end).contains(&n)
    }
}

/// Registered expectations.
#[derive(Debug, Default)]
pub(crate) struct Expectations(Mutex<Vec<Expectation>>);

impl Expectations {
    pub(crate) fn add(&self, route: &str, outcome: Option<&str>, range: impl RangeBounds<u64>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Expectation {
                route: route.to_owned(),
                outcome: outcome.map(str::to_owned),
                start: range.start_bound().cloned(),
                end: range.end_bound().cloned(),
            });
    }

    /// `Err` with a readable report (failed expectations and the journal) when any fails.
    pub(crate) fn verify(&self, state: &MockState) -> Result<(), String> {
        let list = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if list.is_empty() {
            return Ok(());
        }
        let counts = state.counts();
        let failed: Vec<String> = list
            .iter()
            .filter_map(|e| {
                let n = e.actual(&counts);
                (!e.holds(n)).then(|| {
                    format!(
                        "expected {}{} in {:?}..{:?}, got {n}",
                        e.route,
                        e.outcome
                            .as_deref()
                            .map(|o| format!(" / {o}"))
                            .unwrap_or_default(),
                        e.start,
                        e.end
                    )
                })
            })
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        let mut report = String::from("pardot-mock expectations failed:\n");
        for f in failed {
            report.push_str("  ");
            report.push_str(&f);
            report.push('\n');
        }
        report.push_str("requests received (secrets masked):\n");
        for entry in state.journal() {
            report.push_str(&format!(
                "  #{} {} {} {} -> {} {}\n",
                entry.seq, entry.method, entry.vhost, entry.path, entry.status, entry.outcome
            ));
        }
        Err(report)
    }

    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
