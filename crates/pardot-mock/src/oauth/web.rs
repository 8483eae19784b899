//! Server-side state of the browser-facing login: login transactions, optional
//! browser sessions, authorization codes and device codes; plus the run-time controls
//! (callback registration, scripted device approval) from Rust and over `/__mock/…`.
//!
//! Every store is bounded ([`STORE_CAP`] entries: expired entries go first, then the one
//! closest to expiry) and judged on the mock clock. The state lives in a [`MockState`]
//! extension slot, so the core state needs no fields of its own for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use crate::admin::{AdminJson, json_ok};
use crate::config::invalid;
use crate::state::{MockError, MockState};
use crate::virtual_host::LoginVhost;

/// Authorization codes live 15 minutes on the mock clock (spec Decisions).
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Device codes live 10 minutes on the mock clock (spec Decisions).
pub const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A login transaction (the pages between `authorize` and the redirect) lives 30 minutes.
pub const TRANSACTION_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Most entries each store (transactions, sessions, codes, device codes) keeps.
pub const STORE_CAP: usize = 10_000;

const EXTENSION: &str = "pardot-mock.oauth.web";

/// What an authorize request asked for, kept until the code is issued.
#[derive(Debug, Clone)]
pub(crate) struct WebRequest {
    pub app: usize,
    pub redirect_uri: String,
    pub scopes: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_consent: bool,
    pub immediate: bool,
}

/// Which flow a login transaction belongs to.
#[derive(Debug, Clone)]
pub(crate) enum TxnKind {
    Web(WebRequest),
    Device { device_code: String, app: usize },
}

/// The pages between the first request and the end of the flow, carried by a hidden `txn`
/// form field (no cookie needed).
#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub kind: TxnKind,
    pub login: LoginVhost,
    /// Set once the user has logged in (the consent step needs it).
    pub user: Option<usize>,
    pub expires: SystemTime,
}

impl Txn {
    pub(crate) fn app(&self) -> usize {
        match &self.kind {
            TxnKind::Web(w) => w.app,
            TxnKind::Device { app, .. } => *app,
        }
    }
}

/// A browser session (the optional `sid` cookie): lets a second authorize skip the login
/// page unless `prompt=login`.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user: usize,
    pub expires: SystemTime,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub app: usize,
    pub user: usize,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub expires: SystemTime,
}

/// Where a device code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved(usize),
    Denied,
}

/// An issued device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceRecord {
    pub app: usize,
    pub scopes: String,
    pub user_code: String,
    pub status: DeviceStatus,
    pub last_poll: Option<SystemTime>,
    pub interval: Duration,
    pub expires: SystemTime,
}

pub(crate) trait Expiring {
    fn expires(&self) -> SystemTime;
}

macro_rules! expiring {
    ($($t:ty),*) => {$(
        impl Expiring for $t {
            fn expires(&self) -> SystemTime {
                self.expires
            }
        }
    )*};
}
expiring!(Txn, Session, CodeRecord, DeviceRecord);

/// A bounded map of entries that expire on the mock clock. The web login is not a hot path,
/// so one mutex per store is enough.
pub(crate) struct Store<V> {
    map: Mutex<HashMap<String, V>>,
}

impl<V> Default for Store<V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Expiring + Clone> Store<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, V>> {
        // Every update is a single insert/remove/field write, so a poisoned map is usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn insert(&self, key: String, value: V, now: SystemTime) {
        let mut map = self.lock();
        if map.len() >= STORE_CAP {
            map.retain(|_, v| v.expires() > now);
        }
        while map.len() >= STORE_CAP {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, v)| v.expires())
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(key, value);
    }

    /// A live entry (expired ones are dropped on the way).
    pub(crate) fn get(&self, key: &str, now: SystemTime) -> Option<V> {
        let mut map = self.lock();
        match map.get(key) {
            Some(v) if v.expires() > now => Some(v.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Any entry, live or expired (the device grant tells expired codes apart).
    pub(crate) fn get_any(&self, key: &str) -> Option<V> {
        self.lock().get(key).cloned()
    }

    /// Removes and returns an entry if `keep` says so (live or not).
    pub(crate) fn take_if(&self, key: &str, take: impl FnOnce(&V) -> bool) -> Option<V> {
        let mut map = self.lock();
        if map.get(key).is_some_and(take) {
            map.remove(key)
        } else {
            None
        }
    }

    pub(crate) fn remove(&self, key: &str) -> Option<V> {
        self.lock().remove(key)
    }

    /// Changes a live entry in place.
    pub(crate) fn update<R>(
        &self,
        key: &str,
        now: SystemTime,
        f: impl FnOnce(&mut V) -> R,
    ) -> Option<R> {
        let mut map = self.lock();
        map.get_mut(key).filter(|v| v.expires() > now).map(f)
    }

    /// The first live entry matching `pred`, with its key.
    pub(crate) fn find(&self, now: SystemTime, pred: impl Fn(&V) -> bool) -> Option<(String, V)> {
        self.lock()
            .iter()
            .find(|(_, v)| v.expires() > now && pred(v))
            .map(|(k, v)| (k.clone(), v.clone()))
    }

    /// Keeps only the entries `keep` accepts.
    pub(crate) fn retain(&self, keep: impl Fn(&V) -> bool) {
        self.lock().retain(|_, v| keep(v));
    }

    fn clear(&self) {
        self.lock().clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The web-login state of one mock.
#[derive(Default)]
pub(crate) struct WebState {
    pub txns: Store<Txn>,
    pub sessions: Store<Session>,
    pub codes: Store<CodeRecord>,
    pub devices: Store<DeviceRecord>,
}

impl WebState {
    pub(crate) fn clear(&self) {
        self.txns.clear();
        self.sessions.clear();
        self.codes.clear();
        self.devices.clear();
    }
}

/// The web-login state of `state`, created on first use.
pub(crate) fn web(state: &MockState) -> Arc<WebState> {
    if let Some(any) = state.extension(EXTENSION)
        && let Ok(web) = any.downcast::<WebState>()
    {
        return web;
    }
    let mut shard = state.inner.extensions.write(&EXTENSION);
    let slot = shard
        .entry(EXTENSION)
        .or_insert_with(|| Arc::new(WebState::default()));
    match Arc::clone(slot).downcast::<WebState>() {
        Ok(web) => web,
        Err(_) => {
            // Only this module uses the slot name; replace anything else found there.
            let fresh = Arc::new(WebState::default());
            *slot = fresh.clone();
            fresh
        }
    }
}

/// Forgets the unexchanged authorization codes and approved-but-unpolled device codes of
/// `app` (for `user`, or every user): a revoked approval takes them along, so a later
/// re-approval does not bring them back.
pub(crate) fn forget_grants(state: &MockState, app: usize, user: Option<usize>) {
    let web = web(state);
    let hit = |u: usize| user.is_none_or(|x| x == u);
    web.codes.retain(|c| !(c.app == app && hit(c.user)));
    web.devices
        .retain(|d| !(d.app == app && matches!(d.status, DeviceStatus::Approved(u) if hit(u))));
}

/// Forgets every transaction, session, code and device code (part of `reset`).
pub(crate) fn reset(state: &MockState) {
    web(state).clear();
}

/// Random characters from `alphabet`.
pub(crate) fn random_from(alphabet: &[u8], len: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// Runtime controls, callable from Rust (through [`crate::PardotMock`]) and over HTTP.
impl MockState {
    /// Registers one more callback URL for the app `consumer_key` (compared exactly with
    /// `redirect_uri`, like the configured ones), so a client can bind its loopback receiver
    /// on a random port first. Registering a URL twice is a no-op. Survives `reset`.
    pub fn add_callback_url(&self, consumer_key: &str, url: &str) -> Result<(), MockError> {
        let app = self
            .model()
            .app_by_key(consumer_key)
            .ok_or_else(|| MockError::UnknownApp(consumer_key.to_owned()))?;
        url::Url::parse(url).map_err(|e| {
            MockError::Config(invalid(format!("callback URL `{url}` is not a URL: {e}")))
        })?;
        let mut urls = self
            .model()
            .app_runtime(app)
            .callback_urls
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if !urls.iter().any(|u| u == url) {
            urls.push(url.to_owned());
        }
        Ok(())
    }

    /// The callback URLs of an app (configured and registered at run time).
    pub fn callback_urls(&self, consumer_key: &str) -> Result<Vec<String>, MockError> {
        let app = self
            .model()
            .app_by_key(consumer_key)
            .ok_or_else(|| MockError::UnknownApp(consumer_key.to_owned()))?;
        Ok(self
            .model()
            .app_runtime(app)
            .callback_urls
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    /// Approves a pending device code as `username` (what the user does on
    /// `/setup/connect`); the next poll gets tokens. Records the user's approval of the app.
    pub fn approve_device(&self, user_code: &str, username: &str) -> Result<(), MockError> {
        let user = self
            .model()
            .user_by_username(username)
            .ok_or_else(|| MockError::UnknownUser(username.to_owned()))?;
        let app = self.decide_device(user_code, DeviceStatus::Approved(user))?;
        self.approve(user, app);
        Ok(())
    }

    /// Denies a pending device code; the next poll gets `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> Result<(), MockError> {
        self.decide_device(user_code, DeviceStatus::Denied)
            .map(|_| ())
    }

    /// Sets the status of a live, pending device code found by its user code; returns the app.
    pub(crate) fn decide_device(
        &self,
        user_code: &str,
        status: DeviceStatus,
    ) -> Result<usize, MockError> {
        let wanted = normalise_user_code(user_code);
        let web = web(self);
        let now = self.now();
        let unknown = || MockError::UnknownUserCode(user_code.to_owned());
        let (device_code, _) = web
            .devices
            .find(now, |d| {
                d.user_code == wanted && d.status == DeviceStatus::Pending
            })
            .ok_or_else(unknown)?;
        web.devices
            .update(&device_code, now, |d| {
                d.status = status;
                d.app
            })
            .ok_or_else(unknown)
    }
}

/// Upper-cases a user code and drops spaces and dashes (people type `ab12-cd34`).
pub(crate) fn normalise_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

// ---- admin routes ----

pub(crate) fn admin_routes() -> Router {
    Router::new()
        .route(
            "/__mock/apps/{consumer_key}/callbacks",
            post(add_callback).get(list_callbacks),
        )
        .route("/__mock/device/{user_code}/approve", post(approve_device))
        .route("/__mock/device/{user_code}/deny", post(deny_device))
}

fn error_response(e: &MockError) -> Response {
    let status = match e {
        MockError::UnknownApp(_) | MockError::UnknownUserCode(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    json_ok(status, &json!({"error": e.to_string()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    url: String,
}

async fn add_callback(
    state: MockState,
    Path(consumer_key): Path<String>,
    AdminJson(req): AdminJson<CallbackBody>,
) -> Response {
    callback_urls_answer(
        state
            .add_callback_url(&consumer_key, &req.url)
            .and_then(|()| state.callback_urls(&consumer_key)),
    )
}

async fn list_callbacks(state: MockState, Path(consumer_key): Path<String>) -> Response {
    callback_urls_answer(state.callback_urls(&consumer_key))
}

/// An app's callback URLs as the admin API answers them, or the error.
fn callback_urls_answer(urls: Result<Vec<String>, MockError>) -> Response {
    match urls {
        Ok(urls) => json_ok(StatusCode::OK, &json!({"callback_urls": urls})),
        Err(e) => error_response(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    username: String,
}

async fn approve_device(
    state: MockState,
    Path(user_code): Path<String>,
    AdminJson(req): AdminJson<ApproveBody>,
) -> Response {
    match state.approve_device(&user_code, &req.username) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

async fn deny_device(state: MockState, Path(user_code): Path<String>) -> Response {
    match state.deny_device(&user_code) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(expires: SystemTime) -> CodeRecord {
        CodeRecord {
            app: 0,
            user: 0,
            redirect_uri: String::new(),
            scopes: String::new(),
            code_challenge: None,
            expires,
        }
    }

    #[test]
    fn store_is_bounded_and_judges_expiry() {
        let store: Store<CodeRecord> = Store::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..STORE_CAP + 50 {
            let at = now + Duration::from_secs(i as u64 + 1);
            store.insert(format!("c{i}"), code(at), now);
        }
        assert_eq!(store.len(), STORE_CAP);
        // The ones closest to expiry went first.
        assert!(store.get("c0", now).is_none());
        assert!(store.get(&format!("c{}", STORE_CAP + 49), now).is_some());
        let later = now + Duration::from_secs(STORE_CAP as u64 + 100);
        assert!(store.get(&format!("c{}", STORE_CAP + 49), later).is_none());
        assert!(store.get_any("c60").is_some());
    }

    #[test]
    fn user_codes_are_normalised() {
        assert_eq!(normalise_user_code(" ab12-cd34 "), "AB12CD34");
    }
}
