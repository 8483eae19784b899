//! The request journal (a bounded ring) and the per-route counters (never evicted).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use axum::http::HeaderMap;

use crate::request_params::RequestParams;
use crate::route::{Outcome, Route};
use crate::support::ShardedMap;
use crate::virtual_host::VirtualHost;

/// The most query parameters, form fields or headers a journal entry keeps of each, and the
/// most bytes it keeps of each name, value or body: however large a request, its entry stays
/// small, so a full journal has a bounded size.
pub const JOURNAL_MAX_PAIRS: usize = 100;
/// See [`JOURNAL_MAX_PAIRS`].
pub const JOURNAL_MAX_TEXT: usize = 4096;

/// Field and parameter names whose values are credentials; masked in `Debug` and over HTTP.
///
/// `txn` (the login pages' hidden transaction id) is one: after the login step it alone lets
/// a caller post the consent form and get a code. `sid` is the browser-session cookie's name
/// (cookies are masked whole; the name is listed for a `sid` sent as a parameter).
/// Deliberately readable: `user_code` (shown to the user on purpose, and what a test in
/// another language needs for `/__mock/device/{user_code}/approve`; it gives nothing without
/// a login), `code_challenge` (a hash), `state`, `username`, `login_hint`.
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
    "txn",
    "sid",
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

/// Masks credentials inside a non-form body (JSON members, XML elements such as a SOAP
/// `<password>`, or a urlencoded body sent with another content type), so the journal never
/// shows them whatever the client's framing.
fn mask_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(trimmed) {
            // Re-serialised only when something was masked: a body without credentials
            // stays exactly as sent.
            Ok(mut v) => {
                if mask_json(&mut v) {
                    v.to_string()
                } else {
                    body.to_owned()
                }
            }
            // Not JSON after all (or cut at 4 KiB): nothing can be told apart safely.
            Err(_) => MASK.to_owned(),
        };
    }
    if trimmed.starts_with('<') {
        return mask_xml(body);
    }
    if body.contains('=') {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default();
        if pairs.iter().any(|(k, _)| is_secret_name(k)) {
            return serde_urlencoded::to_string(mask_pairs(&pairs)).unwrap_or_else(|_| MASK.into());
        }
    }
    body.to_owned()
}

/// Masks secret members in place; whether anything was masked.
fn mask_json(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => {
            let mut masked = false;
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) && !v.is_null() {
                    *v = Value::String(MASK.to_owned());
                    masked = true;
                } else {
                    masked |= mask_json(v);
                }
            }
            masked
        }
        Value::Array(items) => items.iter_mut().fold(false, |m, v| mask_json(v) | m),
        _ => false,
    }
}

/// Replaces the text of every element whose local name is a secret name
/// (`<n1:password>…</n1:password>` -> `<n1:password>***</n1:password>`).
fn mask_xml(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|i| open + i) else {
            break;
        };
        let tag = &rest[open + 1..close];
        out.push_str(&rest[..=close]);
        rest = &rest[close + 1..];
        let name = tag.split([' ', '\t', '\n', '\r', '/']).next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let is_open = !tag.starts_with(['/', '?', '!']) && !tag.ends_with('/');
        if is_open && is_secret_name(local) {
            let end = rest.find('<').unwrap_or(rest.len());
            if end > 0 {
                out.push_str(MASK);
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
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
    /// The route the request matched.
    pub route: Route,
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
    /// The outcome counted for this request (the README's "Counters" section lists them per
    /// route).
    pub outcome: Outcome,
}

impl JournalEntry {
    /// A form field or query parameter by name (form first).
    pub fn param(&self, name: &str) -> Option<&str> {
        crate::request_params::form_then_query(&self.form, &self.query, name)
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
            "route": self.route.as_str(),
            "query": pairs(&self.query),
            "headers": pairs(&self.headers),
            "form": pairs(&self.form),
            "body": self.body.as_deref().map(mask_body),
            "status": self.status,
            "outcome": self.outcome.to_string(),
        })
    }
}

pardot_auth_core::debug_shows!(JournalEntry as this {
    seq: this.seq,
    method: this.method,
    vhost: this.vhost,
    path: this.path,
    route: this.route,
    query: mask_pairs(&this.query),
    headers: mask_pairs(&this.headers),
    form: mask_pairs(&this.form),
    status: this.status,
    outcome: this.outcome,
});

/// What the front door knows of a request when it records it (before the handler runs).
pub(crate) struct Arrival<'a> {
    pub seq: u64,
    pub at_ms: u128,
    pub method: &'a str,
    pub vhost: &'a VirtualHost,
    pub path: &'a str,
    pub route: Route,
    pub headers: &'a HeaderMap,
    pub params: &'a RequestParams,
    /// A body that is not a form, as received.
    pub body: Option<&'a [u8]>,
}

/// A journal entry as the ring keeps it: every text of the entry in one buffer of exactly
/// its size. A [`JournalEntry`] of separate strings was twenty-odd allocations to make and
/// to free per request; this is two, and [`Journal::entries`] makes the strings only when
/// the journal is read. Each pair and text is bounded ([`JOURNAL_MAX_PAIRS`],
/// [`JOURNAL_MAX_TEXT`]), so a full journal has a bounded size.
pub(crate) struct KeptEntry {
    seq: u64,
    at_ms: u128,
    route: Route,
    /// Set after the handler.
    pub status: u16,
    /// Set after the handler.
    pub outcome: Outcome,
    /// Method, vhost, path, the query's, headers' and form's names and values, the body.
    text: Box<str>,
    /// Where each of those texts ends in `text`.
    ends: Box<[u32]>,
    /// How many query, header and form pairs.
    pairs: [u8; 3],
    has_body: bool,
}

impl KeptEntry {
    /// The entry of a request, its status and outcome to be set after the handler.
    pub(crate) fn record<'a>(arrival: &Arrival<'a>) -> Self {
        let headers = || {
            arrival
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_bytes()))
        };
        let as_bytes =
            |pairs: &'a [(String, String)]| pairs.iter().map(|(k, v)| (k.as_str(), v.as_bytes()));
        let (query, form) = (
            || as_bytes(&arrival.params.query),
            || as_bytes(&arrival.params.form),
        );
        let bounded = |n: usize| n.min(JOURNAL_MAX_TEXT);
        let pairs_len = |pairs: &mut dyn Iterator<Item = (&str, &[u8])>| -> usize {
            pairs
                .take(JOURNAL_MAX_PAIRS)
                .map(|(k, v)| bounded(k.len()) + bounded(v.len()))
                .sum()
        };
        // Both exact (unless a text is cut inside a character or is not UTF-8), so making
        // them boxes moves nothing: a box shrunk in place left a fragment per request.
        let capacity = arrival.method.len()
            + arrival.vhost.label_len()
            + arrival.path.len()
            + pairs_len(&mut headers())
            + pairs_len(&mut query())
            + pairs_len(&mut form())
            + arrival.body.map_or(0, |b| bounded(b.len()));
        let kept_pairs = |n: usize| n.min(JOURNAL_MAX_PAIRS);
        let texts = 3
            + 2 * (kept_pairs(arrival.headers.len())
                + kept_pairs(arrival.params.query.len())
                + kept_pairs(arrival.params.form.len()))
            + usize::from(arrival.body.is_some());
        let mut texts = Texts {
            text: String::with_capacity(capacity),
            ends: Vec::with_capacity(texts),
        };
        // The method, the vhost and the path whole, as they always were.
        texts.text.push_str(arrival.method);
        texts.end();
        arrival.vhost.write_label(&mut texts.text);
        texts.end();
        texts.text.push_str(arrival.path);
        texts.end();
        let pairs = [
            texts.add_pairs(query()),
            texts.add_pairs(headers()),
            texts.add_pairs(form()),
        ];
        if let Some(body) = arrival.body {
            texts.add(body);
        }
        Self {
            seq: arrival.seq,
            at_ms: arrival.at_ms,
            route: arrival.route,
            status: 0,
            outcome: Outcome::Ok,
            text: texts.text.into_boxed_str(),
            ends: texts.ends.into_boxed_slice(),
            pairs,
            has_body: arrival.body.is_some(),
        }
    }

    /// The entry as the public type.
    fn to_entry(&self) -> JournalEntry {
        let mut texts = self.ends.iter().scan(0usize, |start, &end| {
            let end = end as usize;
            let text = self.text.get(*start..end).unwrap_or_default().to_owned();
            *start = end;
            Some(text)
        });
        let mut next = || texts.next().unwrap_or_default();
        let (method, vhost, path) = (next(), next(), next());
        let mut pairs = |n: u8| (0..n).map(|_| (next(), next())).collect::<Vec<_>>();
        let query = pairs(self.pairs[0]);
        let headers = pairs(self.pairs[1]);
        let form = pairs(self.pairs[2]);
        let body = self.has_body.then(next);
        JournalEntry {
            seq: self.seq,
            at_ms: self.at_ms,
            method,
            vhost,
            path,
            route: self.route,
            query,
            headers,
            form,
            body,
            status: self.status,
            outcome: self.outcome,
        }
    }
}

/// The texts of a [`KeptEntry`] as they are written.
struct Texts {
    text: String,
    ends: Vec<u32>,
}

impl Texts {
    /// Ends the text written since the last end.
    fn end(&mut self) {
        // Bounded: 600 texts of JOURNAL_MAX_TEXT bytes and a request line's path.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    /// The first [`JOURNAL_MAX_TEXT`] bytes of `bytes` as text (invalid UTF-8 replaced).
    fn add(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(JOURNAL_MAX_TEXT)];
        // Checking a whole slice is several times faster than walking it in chunks the way
        // the lossy conversion does, and almost every text is valid.
        match std::str::from_utf8(bytes) {
            Ok(text) => self.text.push_str(text),
            Err(_) => self.text.push_str(&String::from_utf8_lossy(bytes)),
        }
        self.end();
    }

    /// The first [`JOURNAL_MAX_PAIRS`] pairs; how many.
    fn add_pairs<'a>(&mut self, pairs: impl Iterator<Item = (&'a str, &'a [u8])>) -> u8 {
        let mut n = 0u8;
        for (k, v) in pairs.take(JOURNAL_MAX_PAIRS) {
            self.add(k.as_bytes());
            self.add(v);
            n += 1;
        }
        n
    }
}

/// A bounded ring of [`KeptEntry`], split into shards so concurrent requests rarely share
/// a lock. Total size stays within the configured capacity.
pub(crate) struct Journal {
    shards: Box<[Mutex<VecDeque<KeptEntry>>]>,
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

    pub(crate) fn push(&self, entry: KeptEntry) {
        let shard = (entry.seq as usize) % self.shards.len();
        let evicted = {
            let mut ring = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
            let evicted = if ring.len() >= self.per_shard {
                ring.pop_front()
            } else {
                None
            };
            ring.push_back(entry);
            evicted
        };
        // Freed outside the lock.
        drop(evicted);
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
                    .map(KeptEntry::to_entry)
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
    map: ShardedMap<Route, HashMap<Outcome, AtomicU64>>,
}

impl Counters {
    pub(crate) fn add(&self, route: Route, outcome: Outcome) {
        if let Some(c) = self
            .map
            .read(&route)
            .get(&route)
            .and_then(|m| m.get(&outcome))
        {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.map
            .write(&route)
            .entry(route)
            .or_default()
            .entry(outcome)
            .or_insert_with(|| AtomicU64::new(0))
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Counts {
        let mut out: BTreeMap<Route, BTreeMap<Outcome, u64>> = BTreeMap::new();
        self.map.for_each_shard(|shard| {
            for (route, outcomes) in shard.iter() {
                let entry = out.entry(*route).or_default();
                for (outcome, n) in outcomes {
                    entry.insert(*outcome, n.load(Ordering::Relaxed));
                }
            }
        });
        Counts(out)
    }

    pub(crate) fn clear(&self) {
        self.map.clear();
    }
}

/// A snapshot of the counters: requests by [`Route`] and [`Outcome`] (the crate README's
/// "Counters" section lists the outcomes per route).
///
/// Serialises as `GET /__mock/counts` answers: `{"route": {"outcome": count}}`, keys sorted by
/// their wire names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(BTreeMap<Route, BTreeMap<Outcome, u64>>);

impl Counts {
    /// The count for one route and outcome (0 when never seen).
    pub fn get(&self, route: Route, outcome: Outcome) -> u64 {
        self.0
            .get(&route)
            .and_then(|m| m.get(&outcome))
            .copied()
            .unwrap_or(0)
    }

    /// All requests to a route, whatever the outcome.
    pub fn route_total(&self, route: Route) -> u64 {
        self.0.get(&route).map_or(0, |m| m.values().sum())
    }

    /// Successful token-endpoint requests (`oauth.token` / `ok`).
    pub fn token_requests_ok(&self) -> u64 {
        self.get(Route::OAuthToken, Outcome::Ok)
    }

    /// Every counted (route, outcome, count), by route then outcome; never a zero count.
    pub fn iter(&self) -> impl Iterator<Item = (Route, Outcome, u64)> + '_ {
        self.0.iter().flat_map(|(route, outcomes)| {
            outcomes
                .iter()
                .map(move |(outcome, n)| (*route, *outcome, *n))
        })
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Keyed by wire name so the JSON's key order is the names' order, as it always was.
        let mut by_name: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        for (route, outcome, n) in self.iter() {
            by_name
                .entry(route.as_str())
                .or_default()
                .insert(outcome.to_string(), n);
        }
        by_name.serialize(serializer)
    }
}

#[cfg(test)]
mod tests;
