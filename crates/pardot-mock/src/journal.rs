//! The request journal (a bounded ring) and the per-route counters (never evicted).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::{Value, json};

use crate::support::ShardedMap;

/// Field and parameter names whose values are secrets; masked in `Debug` and over HTTP.
const SECRET_NAMES: &[&str] = &[
    "password",
    "client_secret",
    "assertion",
    "client_assertion",
    "token",
    "refresh_token",
    "access_token",
    "code",
    "code_verifier",
    "device_code",
    "user_key",
    "api_key",
    "security_token",
    "oauth_token",
];

/// Whether a form field, query parameter or header with this name carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.contains(&lower.as_str())
        || matches!(lower.as_str(), "authorization" | "cookie" | "set-cookie")
}

const MASK: &str = "***";

fn mask_value(name: &str, value: &str) -> String {
    if !is_secret_name(name) {
        return value.to_owned();
    }
    if name.eq_ignore_ascii_case("authorization") {
        // Keep the scheme: "Bearer ***" tells a reader which auth was used.
        if let Some((scheme, _)) = value.split_once(' ') {
            return format!("{scheme} {MASK}");
        }
    }
    MASK.to_owned()
}

fn mask_pairs(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), mask_value(k, v)))
        .collect()
}

/// One request the mock received, with its outcome.
///
/// Fields hold the values as received (tests in Rust may read secrets); `Debug` and the
/// `/__mock/journal` route mask secrets.
#[derive(Clone)]
pub struct JournalEntry {
    /// Sequence number, increasing from 1 in arrival order.
    pub seq: u64,
    /// Arrival time on the mock clock, epoch milliseconds.
    pub at_ms: u128,
    /// HTTP method.
    pub method: String,
    /// The virtual host: `login`, `sandbox`, `my/NAME`, `demo`, or a real host name.
    pub vhost: String,
    /// The path inside the virtual host (prefix removed).
    pub path: String,
    /// The route key the request matched (`oauth.token`, `mci.token`, …).
    pub route: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Form fields of an `application/x-www-form-urlencoded` body.
    pub form: Vec<(String, String)>,
    /// A non-form body, as text, cut at 4 KiB.
    pub body: Option<String>,
    /// Response status.
    pub status: u16,
    /// The outcome: `ok`, the OAuth `error` code, `fault`, or `http_NNN`.
    pub outcome: String,
}

impl JournalEntry {
    /// A form field or query parameter by name (form first).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The entry as JSON with secrets masked (what `GET /__mock/journal` returns).
    pub fn to_masked_json(&self) -> Value {
        let pairs = |p: &[(String, String)]| {
            Value::Array(
                mask_pairs(p)
                    .into_iter()
                    .map(|(k, v)| json!([k, v]))
                    .collect(),
            )
        };
        json!({
            "seq": self.seq,
            "at_ms": u64::try_from(self.at_ms).unwrap_or(u64::MAX),
            "method": self.method,
            "vhost": self.vhost,
            "path": self.path,
            "route": self.route,
            "query": pairs(&self.query),
            "headers": pairs(&self.headers),
            "form": pairs(&self.form),
            "body": self.body,
            "status": self.status,
            "outcome": self.outcome,
        })
    }
}

impl fmt::Debug for JournalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalEntry")
            .field("seq", &self.seq)
            .field("method", &self.method)
            .field("vhost", &self.vhost)
            .field("path", &self.path)
            .field("route", &self.route)
            .field("query", &mask_pairs(&self.query))
            .field("headers", &mask_pairs(&self.headers))
            .field("form", &mask_pairs(&self.form))
            .field("status", &self.status)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// A bounded ring of [`JournalEntry`], split into shards so concurrent requests rarely share
/// a lock. Total size stays within the configured capacity.
pub(crate) struct Journal {
    shards: Box<[Mutex<VecDeque<JournalEntry>>]>,
    per_shard: usize,
    capacity: usize,
    seq: AtomicU64,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let n = capacity.min(16);
        Self {
            shards: (0..n).map(|_| Mutex::new(VecDeque::new())).collect(),
            per_shard: capacity / n,
            capacity,
            seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn push(&self, entry: JournalEntry) {
        let shard = (entry.seq as usize) % self.shards.len();
        let mut ring = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if ring.len() >= self.per_shard {
            ring.pop_front();
        }
        ring.push_back(entry);
    }

    /// All kept entries, oldest first.
    pub(crate) fn entries(&self) -> Vec<JournalEntry> {
        let mut all: Vec<JournalEntry> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by_key(|e| e.seq);
        let excess = all.len().saturating_sub(self.capacity);
        all.drain(..excess);
        all
    }

    pub(crate) fn clear(&self) {
        for s in &*self.shards {
            s.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }
}

/// Request counters by route and outcome; never evicted (a reset clears them). Counting an
/// already-seen (route, outcome) pair takes a shard read lock and an atomic add, no allocation.
#[derive(Default)]
pub(crate) struct Counters {
    map: ShardedMap<&'static str, HashMap<String, AtomicU64>>,
}

impl Counters {
    pub(crate) fn add(&self, route: &'static str, outcome: &str) {
        if let Some(c) = self.map.read(route).get(route).and_then(|m| m.get(outcome)) {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.map
            .write(route)
            .entry(route)
            .or_default()
            .entry(outcome.to_owned())
            .or_insert_with(|| AtomicU64::new(0))
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Counts {
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        self.map.for_each_shard(|shard| {
            for (route, outcomes) in shard.iter() {
                let entry = out.entry((*route).to_owned()).or_default();
                for (outcome, n) in outcomes {
                    entry.insert(outcome.clone(), n.load(Ordering::Relaxed));
                }
            }
        });
        Counts(out)
    }

    pub(crate) fn clear(&self) {
        self.map.clear();
    }
}

/// A snapshot of the counters: route -> outcome -> count.
///
/// Routes: `oauth.token`, `oauth.revoke`, `oauth.userinfo`, `oauth.introspect`,
/// `oauth.identity`, `oauth.authorize`, `oauth.soap`, `mci.discovery`, `mci.token`,
/// `pardot.login`, `pardot.v3`, `pardot.v4`, `pardot.v5`, `admin`, `other`.
/// Outcomes: `ok`, an OAuth `error` code (`invalid_grant`, …), `fault`, or `http_NNN`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Counts(pub BTreeMap<String, BTreeMap<String, u64>>);

impl Counts {
    /// The count for one route and outcome (0 when never seen).
    pub fn get(&self, route: &str, outcome: &str) -> u64 {
        self.0
            .get(route)
            .and_then(|m| m.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// All requests to a route, whatever the outcome.
    pub fn route_total(&self, route: &str) -> u64 {
        self.0.get(route).map_or(0, |m| m.values().sum())
    }

    /// Successful token-endpoint requests (`oauth.token` / `ok`).
    pub fn token_requests_ok(&self) -> u64 {
        self.get("oauth.token", "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> JournalEntry {
        JournalEntry {
            seq,
            at_ms: 0,
            method: "POST".into(),
            vhost: "login".into(),
            path: "/services/oauth2/token".into(),
            route: "oauth.token".into(),
            query: vec![],
            headers: vec![("Authorization".into(), "Basic c2VjcmV0".into())],
            form: vec![
                ("grant_type".into(), "password".into()),
                ("password".into(), "hunter2".into()),
            ],
            body: None,
            status: 200,
            outcome: "ok".into(),
        }
    }

    #[test]
    fn ring_is_bounded_and_ordered() {
        let j = Journal::new(10);
        for _ in 0..35 {
            let seq = j.next_seq();
            j.push(entry(seq));
        }
        let all = j.entries();
        assert!(all.len() <= 10);
        assert_eq!(all.last().unwrap().seq, 35);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    }

    #[test]
    fn secrets_are_masked_in_debug_and_json_but_readable_in_rust() {
        let e = entry(1);
        assert_eq!(e.param("password"), Some("hunter2"));
        let dbg = format!("{e:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("c2VjcmV0"),
            "{dbg}"
        );
        let json = e.to_masked_json().to_string();
        assert!(
            !json.contains("hunter2") && json.contains("Basic ***"),
            "{json}"
        );
    }

    #[test]
    fn counters_count() {
        let c = Counters::default();
        c.add("oauth.token", "ok");
        c.add("oauth.token", "ok");
        c.add("oauth.token", "invalid_grant");
        let s = c.snapshot();
        assert_eq!(s.get("oauth.token", "ok"), 2);
        assert_eq!(s.route_total("oauth.token"), 3);
        assert_eq!(s.get("mci.token", "ok"), 0);
    }
}
