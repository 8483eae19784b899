//! The Pardot v3/v4/v5 error codes and what each means for a client.
//!
//! Codes and classification only: parsing the `<rsp>` envelope is `pardot-legacy`'s job, and the
//! message texts live in the mock. Source: `docs/reference/pardot-api.md#error-codes`.

use crate::ErrorClass;

/// A numeric Pardot API error code (`<err code="N">`, `err_code`, or v5 `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PardotErrorCode(pub u32);

impl PardotErrorCode {
    /// 1: `Invalid API key or user key` (legacy api_key expired or unknown).
    pub const INVALID_API_KEY: Self = Self(1);
    /// 3: `Invalid prospect ID`.
    pub const INVALID_PROSPECT_ID: Self = Self(3);
    /// 4: `Invalid prospect email address`.
    pub const INVALID_PROSPECT_EMAIL: Self = Self(4);
    /// 9: a prospect with that email already exists.
    pub const PROSPECT_EMAIL_EXISTS: Self = Self(9);
    /// 15: `Login failed` (legacy login).
    pub const LOGIN_FAILED: Self = Self(15);
    /// 46: the API user lacks permissions for the operation.
    pub const INSUFFICIENT_PERMISSIONS: Self = Self(46);
    /// 49: `Access Denied` (the token's user cannot use the business unit, or no auth at all).
    pub const ACCESS_DENIED: Self = Self(49);
    /// 53: the client IP must be activated first.
    pub const IP_NOT_ACTIVATED: Self = Self(53);
    /// 66: too many concurrent requests (5 per business unit).
    pub const CONCURRENT_LIMIT: Self = Self(66);
    /// 76: API access was disabled.
    pub const API_DISABLED: Self = Self(76);
    /// 88: the account must use version 4 of the API.
    pub const MUST_USE_V4: Self = Self(88);
    /// 89: the account cannot use version 4 of the API.
    pub const CANNOT_USE_V4: Self = Self(89);
    /// 122: the daily API request limit is used up.
    pub const DAILY_LIMIT: Self = Self(122);
    /// 126: invalid authentication mechanism.
    pub const INVALID_AUTH_MECHANISM: Self = Self(126);
    /// 131: account locked after too many failed logins.
    pub const ACCOUNT_LOCKED: Self = Self(131);
    /// 184: `access_token is invalid, unknown, or malformed` (expired/revoked token, or a token
    /// without the `pardot_api` scope).
    pub const INVALID_ACCESS_TOKEN: Self = Self(184);
    /// 201: business unit not found or inactive (or on the other host).
    pub const BUSINESS_UNIT_NOT_FOUND: Self = Self(201);

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// True for the codes that mean "the credential in use is no longer good": 1 (api_key)
    /// and 184 (OAuth token). 184 also covers a token that lacks the `pardot_api` scope;
    /// the transport tells the two apart by refreshing once.
    pub fn signals_expired_credential(self) -> bool {
        matches!(self, Self::INVALID_API_KEY | Self::INVALID_ACCESS_TOKEN)
    }

    /// What a client should do on this code.
    pub fn class(self) -> ErrorClass {
        match self.0 {
            1 | 184 => ErrorClass::RefreshAndRetry,
            66 => ErrorClass::RETRY,
            // Quota, account state, authorization and credentials: a person must act.
            15 | 46 | 49 | 53 | 76 | 122 | 126 | 131 | 201 => ErrorClass::NeverRetry,
            // Wrong API version for the account: the caller picked the wrong path.
            88 | 89 => ErrorClass::CallerBug,
            // Everything else is a problem with the request itself (ids, parameters, bodies).
            _ => ErrorClass::CallerBug,
        }
    }
}

impl std::fmt::Display for PardotErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        assert_eq!(PardotErrorCode(1).class(), ErrorClass::RefreshAndRetry);
        assert_eq!(PardotErrorCode(184).class(), ErrorClass::RefreshAndRetry);
        assert_eq!(PardotErrorCode(66).class(), ErrorClass::RETRY);
        for never in [15, 49, 122, 131, 201] {
            assert_eq!(
                PardotErrorCode(never).class(),
                ErrorClass::NeverRetry,
                "{never}"
            );
        }
        for bug in [3, 4, 9, 88, 89, 10000] {
            assert_eq!(PardotErrorCode(bug).class(), ErrorClass::CallerBug, "{bug}");
        }
        assert!(PardotErrorCode::INVALID_API_KEY.signals_expired_credential());
        assert!(!PardotErrorCode::ACCESS_DENIED.signals_expired_credential());
    }
}
