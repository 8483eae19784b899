//! Fault injection: scripted failures and added latency, consulted by every request.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::route::{Route, RouteFilter};

/// The most latency a fault may add to one request (real time, not the mock clock).
pub const MAX_LATENCY: Duration = Duration::from_secs(10);

/// A fault to inject, from Rust ([`crate::PardotMock::fault`]) or as the JSON body of
/// `POST /__mock/faults` (`{"kind": "...", ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Fault {
    /// Expire access tokens now: every user's, or one user's (`username`).
    ExpireTokens {
        /// Only this user's tokens; all when absent.
        #[serde(default)]
        username: Option<String>,
    },
    /// The next `count` requests whose route matches `route` get this response instead.
    ///
    /// In JSON `route` is a route key (`oauth.token`), a group (`oauth`, `pardot`) or `*`;
    /// any other name is refused (400).
    FailNext {
        /// The route, group or all.
        route: RouteFilter,
        /// How many requests to fail.
        count: u32,
        /// The HTTP status to answer.
        status: u16,
        /// The body to answer (any text: JSON, XML, garbage).
        #[serde(default)]
        body: String,
        /// The `Content-Type`; default `application/json;charset=UTF-8` when the body looks
        /// like JSON, else `text/plain`.
        #[serde(default)]
        content_type: Option<String>,
        /// Extra response headers, `[[name, value], …]`.
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
    /// Adds real-time latency (at most 10 s) to requests matching `route` (all when absent);
    /// `millis: 0` removes it.
    Latency {
        /// Milliseconds to wait before answering.
        millis: u64,
        /// The route, group or all (in JSON a route key, a group or `*`).
        #[serde(default)]
        route: Option<RouteFilter>,
    },
    /// Revokes a connected app's approval (for one user, or all): its refresh tokens, access
    /// tokens, unexchanged codes and approved device codes die, and the JWT flow answers
    /// "user hasn't approved this consumer" until the user approves again. On a
    /// self-authorize app the password grant keeps working (it never needed an approval); on
    /// an admin-approved app this removes the user's assignment (`invalid_app_access`).
    RevokeApproval {
        /// The app's consumer key.
        consumer_key: String,
        /// Only this user; all when absent.
        #[serde(default)]
        username: Option<String>,
    },
    /// Turns refresh-token rotation on or off for an app.
    RefreshTokenRotation {
        /// The app's consumer key.
        consumer_key: String,
        /// Rotation on (`true`) or off.
        enabled: bool,
    },
    /// Removes every pending `fail_next` rule and any latency.
    Clear,
}

#[derive(Debug, Clone)]
pub(crate) struct FailRule {
    pub route: RouteFilter,
    pub remaining: u32,
    pub status: u16,
    pub body: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
}

/// A canned response a fault rule produced.
#[derive(Debug, Clone)]
pub(crate) struct CannedResponse {
    pub status: u16,
    pub body: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
}

/// Pending fail rules and latency. The common case (nothing scripted) costs two atomic loads.
#[derive(Default)]
pub(crate) struct Faults {
    active_rules: AtomicUsize,
    rules: Mutex<Vec<FailRule>>,
    latency_ms: AtomicU64,
    latency_route: Mutex<Option<RouteFilter>>,
}

impl Faults {
    pub(crate) fn add_rule(&self, rule: FailRule) {
        if rule.remaining == 0 {
            return;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.push(rule);
        self.active_rules.store(rules.len(), Ordering::Release);
    }

    /// Takes one use of the first rule matching `route`, if any.
    pub(crate) fn take(&self, route: Route) -> Option<CannedResponse> {
        if self.active_rules.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let index = rules.iter().position(|r| r.route.matches(route))?;
        let rule = &mut rules[index];
        rule.remaining -= 1;
        let out = CannedResponse {
            status: rule.status,
            body: rule.body.clone(),
            content_type: rule.content_type.clone(),
            headers: rule.headers.clone(),
        };
        if rule.remaining == 0 {
            rules.remove(index);
        }
        self.active_rules.store(rules.len(), Ordering::Release);
        Some(out)
    }

    pub(crate) fn set_latency(&self, millis: u64, route: Option<RouteFilter>) {
        let capped = millis.min(u64::try_from(MAX_LATENCY.as_millis()).unwrap_or(u64::MAX));
        *self.latency_route.lock().unwrap_or_else(|p| p.into_inner()) = route;
        self.latency_ms.store(capped, Ordering::Release);
    }

    pub(crate) fn latency_for(&self, route: Route) -> Option<Duration> {
        let ms = self.latency_ms.load(Ordering::Acquire);
        if ms == 0 {
            return None;
        }
        let filter = *self.latency_route.lock().unwrap_or_else(|p| p.into_inner());
        match filter {
            Some(f) if !f.matches(route) => None,
            _ => Some(Duration::from_millis(ms)),
        }
    }

    pub(crate) fn clear(&self) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.clear();
        self.active_rules.store(0, Ordering::Release);
        self.set_latency(0, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::RouteGroup;

    #[test]
    fn rules_match_routes_and_run_out() {
        let f = Faults::default();
        assert!(f.take(Route::OAuthToken).is_none());
        f.add_rule(FailRule {
            route: RouteGroup::OAuth.into(),
            remaining: 2,
            status: 503,
            body: "down".into(),
            content_type: "text/plain".into(),
            headers: Vec::new(),
        });
        assert!(f.take(Route::MciToken).is_none());
        assert_eq!(f.take(Route::OAuthToken).unwrap().status, 503);
        assert_eq!(f.take(Route::OAuthRevoke).unwrap().body, "down");
        assert!(f.take(Route::OAuthToken).is_none());
    }

    #[test]
    fn latency_is_capped_and_cleared() {
        let f = Faults::default();
        f.set_latency(60_000, Some(RouteGroup::Mci.into()));
        assert_eq!(f.latency_for(Route::MciToken), Some(MAX_LATENCY));
        assert_eq!(f.latency_for(Route::OAuthToken), None);
        f.clear();
        assert_eq!(f.latency_for(Route::MciToken), None);
    }

    #[test]
    fn fault_json_shapes() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"fail_next","route":"oauth.token","count":1,"status":503,"body":"x"}"#,
        )
        .unwrap();
        assert!(matches!(
            f,
            Fault::FailNext {
                route: RouteFilter::Route(Route::OAuthToken),
                count: 1,
                ..
            }
        ));
        let unknown = serde_json::from_str::<Fault>(
            r#"{"kind":"fail_next","route":"oauth.tokn","count":1,"status":503}"#,
        )
        .unwrap_err();
        assert!(unknown.to_string().contains("`oauth.tokn`"), "{unknown}");
        let f: Fault = serde_json::from_str(r#"{"kind":"expire_tokens"}"#).unwrap();
        assert_eq!(f, Fault::ExpireTokens { username: None });
    }
}
