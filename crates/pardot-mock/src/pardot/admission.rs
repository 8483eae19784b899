//! Who may call the Pardot API: a Salesforce Bearer token and business-unit header checked
//! in Pardot's order, and admission under the unit's in-flight limit and daily budget.

use std::time::SystemTime;

use pardot_auth_core::BusinessUnitId;

use super::api::{PardotApi, Unit};
use super::errors::{ACCESS_DENIED_FOR_BU, ApiError};
use super::limits::InFlight;
use super::time;
use crate::config::PardotHostKind;
use crate::state::MockState;

/// What a Salesforce access token means to the Pardot API.
#[derive(Debug, Clone)]
pub(crate) enum BearerCheck {
    /// Never issued (or removed: revoked, expired by a fault).
    Unknown,
    /// Issued, but expired on the mock's clock.
    Inactive,
    /// Live.
    Live {
        /// The token carries `pardot_api` or `full`.
        allows_pardot: bool,
        /// Its user.
        username: String,
    },
}

/// What the Pardot API needs from the rest of the mock.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Now, on the mock's clock.
    fn now(&self) -> SystemTime;
    /// Looks up a Salesforce access token.
    fn bearer(&self, token: &str) -> BearerCheck;
    /// Whether the user may call the Pardot API for the business unit.
    fn may_use_business_unit(&self, username: &str, bu: &BusinessUnitId) -> bool;
}

impl Backend for MockState {
    fn now(&self) -> SystemTime {
        MockState::now(self)
    }

    fn bearer(&self, token: &str) -> BearerCheck {
        match self.lookup_access_token(token) {
            Some(info) => BearerCheck::Live {
                allows_pardot: info.has_scope("pardot_api"),
                username: info.username,
            },
            // Expired records stay in the token map until pruned; revoked and fault-expired
            // ones are removed, so they read as unknown.
            None if self.inner.tokens.access.read(token).contains_key(token) => {
                BearerCheck::Inactive
            }
            None => BearerCheck::Unknown,
        }
    }

    fn may_use_business_unit(&self, username: &str, bu: &BusinessUnitId) -> bool {
        self.user_has_business_unit(username, bu)
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Caller {
    /// A Salesforce token for the unit.
    Bearer,
    /// A legacy api_key of this user.
    Legacy(usize),
}

/// An authenticated request that holds its unit's in-flight slot and was counted against the
/// daily budget.
pub(crate) struct Admitted<'a> {
    pub unit: &'a Unit,
    pub caller: Caller,
    _slot: InFlight,
}

impl PardotApi {
    /// Checks a Bearer token and business-unit header: 184, then 201, then 49.
    pub(crate) fn check_bearer<B: Backend>(
        &self,
        backend: &B,
        token: &str,
        bu_header: Option<&str>,
        host: PardotHostKind,
    ) -> Result<usize, ApiError> {
        let username = match backend.bearer(token) {
            BearerCheck::Unknown => return Err(ApiError::code(184)),
            BearerCheck::Inactive => return Err(ApiError::inactive_token()),
            BearerCheck::Live {
                allows_pardot: false,
                ..
            } => return Err(ApiError::code(184)),
            BearerCheck::Live { username, .. } => username,
        };
        // The mock compares the header exactly (18 characters, matching suffix).
        let unit = bu_header
            .and_then(|h| {
                BusinessUnitId::parse(h.trim())
                    .ok()
                    .filter(|id| id.as_str() == h.trim())
            })
            .and_then(|id| self.by_id.get(&id).copied())
            .filter(|&i| self.units[i].active && self.units[i].host == host)
            .ok_or_else(|| ApiError::code(201))?;
        if !backend.may_use_business_unit(&username, &self.units[unit].id) {
            return Err(ApiError::with_message(49, ACCESS_DENIED_FOR_BU));
        }
        Ok(unit)
    }

    /// Admits a request that must carry a Salesforce Bearer token (the v5 routes): anything
    /// else in `Authorization` is 49 `Access Denied`, then [`PardotApi::check_bearer`] and
    /// [`PardotApi::admit`].
    pub(crate) async fn admit_bearer(
        &self,
        state: &MockState,
        headers: &axum::http::HeaderMap,
        host: PardotHostKind,
    ) -> Result<Admitted<'_>, ApiError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| ApiError::code(49))?;
        let bu = headers
            .get(pardot_auth_core::BUSINESS_UNIT_HEADER)
            .and_then(|v| v.to_str().ok());
        let unit = self.check_bearer(state, token.trim(), bu, host)?;
        self.admit(unit, Caller::Bearer, Backend::now(state)).await
    }

    /// Takes the unit's in-flight slot (66) and charges its daily budget (122), then waits at
    /// the test gate if a test closed it.
    pub(crate) async fn admit(
        &self,
        unit: usize,
        caller: Caller,
        now: SystemTime,
    ) -> Result<Admitted<'_>, ApiError> {
        let unit = &self.units[unit];
        let slot = unit.limits.enter()?;
        unit.limits.charge(time::day_number(now))?;
        self.gate.pass().await;
        Ok(Admitted {
            unit,
            caller,
            _slot: slot,
        })
    }
}
