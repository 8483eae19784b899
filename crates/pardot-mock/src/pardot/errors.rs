//! The Pardot error table: codes, their exact messages, and the HTTP status each one is sent
//! with (`docs/reference/pardot-api.md#error-codes`).

use std::borrow::Cow;

use axum::http::StatusCode;

/// The message of code 49 when the token's user cannot use the business unit it named.
pub const ACCESS_DENIED_FOR_BU: &str = "Access Denied: User associated with access token is not valid for the Pardot Business Unit ID specified in Pardot-Business-Unit-Id header";

/// The suffix Pardot appends to code 184's message for a token it knows but that is no longer
/// active (expired or revoked).
pub const INACTIVE_TOKEN_SUFFIX: &str = ": Inactive token";

/// The exact message of a v3/v4 (and, for the shared codes, v5) error code.
///
/// Texts come from the api-docs error table at commit 458561a; typos (`memeber`, `Invalide`)
/// and the two spaces of code 66 are kept on purpose: clients match these strings.
pub fn message(code: u32) -> Option<&'static str> {
    Some(match code {
        1 => "Invalid API key or user key",
        2 => "Invalid action",
        3 => "Invalid prospect ID",
        4 => "Invalid prospect email address",
        5 => "Invalid query parameters",
        6 => "Invalid time frame",
        7 => "Invalid timestamp",
        8 => "Invalid time range",
        9 => "A prospect with the specified email address already exists",
        10 => "Invalid user ID",
        11 => "Invalid user email address",
        12 => "Invalid group ID",
        13 => "One or more required parameters are missing",
        14 => "Non-existent prospect ID; No email address provided",
        15 => "Login failed",
        16 => "Invalid ID",
        17 => "Invalid ID range",
        18 => "Invalid value for profile criteria matching status",
        19 => "Invalid value specified for sort_by",
        20 => "Invalid value specified for sort_order",
        21 => "Invalid value specified for offset",
        22 => "Unsupported feature in this version of the API",
        23 => "Invalid value specified for limit (max 200)",
        24 => "Invalid visitor ID",
        25 => "Parameter is_starred must be true or false",
        26 => "Parameter assigned must be true or false",
        27 => "Parameter deleted must be true or false",
        28 => "Parameter new must be true or false",
        29 => "Invalid value specified for score",
        30 => "Invalid score range specified",
        31 => "Invalid combination of parameters for score",
        32 => "Invalid value specified for grade",
        33 => "Invalid grade range specified",
        34 => "Invalid combination of parameters for grade",
        35 => "Invalid opportunity ID",
        36 => "One or more required parameter values are missing",
        37 => "A SalesForce connector was detected",
        38 => "Invalid campaign ID",
        39 => "Invalid profile ID",
        40 => "Invalid opportunity probability",
        41 => "Invalid probability range specified",
        42 => "Invalid opportunity value",
        43 => "Invalid opportunity value range specified",
        44 => "The provided prospect_id and prospect_email parameters do not match",
        45 => "The provided user_id and user_email parameters do not match",
        46 => "This API user lacks sufficient permissions for the requested operation",
        47 => "Multiple assignment targets were specified",
        48 => "Invalid visit ID",
        49 => "Access Denied",
        50 => "Invalid boolean",
        51 => "Invalid parameter",
        52 => "Invalid parameter range",
        53 => "Client IP address/location must be activated before accessing API",
        54 => "Email address is already in use",
        55 => "Invalid list ID",
        56 => "Invalid number entered for field",
        57 => "Invalid date entered for field",
        58 => "That prospect is already a memeber of that list. Update the membership instead.",
        59 => "A CRM connector was detected",
        60 => "Invalid HTTP request method",
        61 => "Invalid prospect account id",
        62 => "Conflicting Update",
        63 => "Too many IDs specified",
        64 => "Email content missing required variables",
        65 => "Invalide email format",
        66 => "You have exceeded your concurrent request limit.  Please wait, before trying again",
        67 => {
            "You have reached or exceeded the limit of how many of this type of object you may have."
        }
        68 => "Template with this id does not exist.",
        70 => "Batch processing is limited to 50 prospects at once.",
        71 => "Input needs to be valid JSON or XML",
        72 => "JSON has been corrupted, hash does not match",
        76 => "API access was disabled",
        77 => "Invalid prospect fid",
        79 => "Invalid CRM_FID",
        80 => "Invalid CRM_TYPE",
        81 => "Prospect ID and FID do not match",
        83 => "No valid CRM connectors available",
        85 => "Unable to save the prospect",
        86 => "Invalid Template id",
        88 => "Your account must use version 4 of the API.",
        89 => "Your account is unable to use version 4 of the API.",
        92 => "Prospect record could not be found",
        94 => "The provided version is not a valid number",
        98 => "Prospect not mailable",
        109 => "The requested record was not found.",
        118 => "This API can only be called in a test environment.",
        119 => "Unable to create refresh tokens for Salesforce connector",
        120 => "Unable to verify Salesforce connector",
        121 => "Unable to sync Prospect with Salesforce",
        122 => "Daily API rate limit met",
        126 => "Invalid authentication mechanism",
        130 => "One or more of the specified fields are invalid",
        131 => {
            "Your account is locked due to too many failed login attempts. Reset your password at https://pi.pardot.com/user/passwordReset"
        }
        132 => "Prospect is archived",
        150 => "Input needs to be valid JSON",
        151 => "Unsupported content-type",
        152 => "Request body can't be empty",
        153 => "Missing required property in request",
        154 => "Invalid property in request",
        184 => "access_token is invalid, unknown, or malformed",
        190 => "Email sending is blocked for this account.",
        201 => "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.",
        _ => return None,
    })
}

/// One Pardot error: a code and the exact text sent with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The numeric code (`<err code>`, `err_code`, v5 `code`).
    pub code: u32,
    /// The message text.
    pub message: Cow<'static, str>,
    /// True when this is code 184 for a token that was once good (expired or revoked): the
    /// old-status switch sends those with 400 instead of 401.
    pub expired_token: bool,
}

impl ApiError {
    /// The error with the table's message for `code` (the code number itself when the table
    /// has no text, which only happens for codes this mock never sends).
    pub fn code(code: u32) -> Self {
        Self {
            code,
            message: message(code)
                .map_or_else(|| Cow::Owned(format!("Error {code}")), Cow::Borrowed),
            expired_token: false,
        }
    }

    /// The error with a message other than the table's (49's long form, 184's suffix, v5
    /// validation texts).
    pub fn with_message(code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            expired_token: false,
        }
    }

    /// Code 184 for a token that is known but no longer active.
    pub fn inactive_token() -> Self {
        Self {
            code: 184,
            message: Cow::Owned(format!(
                "{}{INACTIVE_TOKEN_SUFFIX}",
                message(184).unwrap_or_default()
            )),
            expired_token: true,
        }
    }

    /// The HTTP status of this error in the v3/v4 API under `mode`.
    pub fn v34_status(&self, mode: StatusMode) -> StatusCode {
        match mode {
            StatusMode::Modern => {
                if self.is_auth_failure() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
            StatusMode::Legacy => {
                if self.expired_token {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                }
            }
        }
    }

    /// The HTTP status of this error in the v5 API (`docs/reference/pardot-api.md#the-v5-api`; 404 for a record
    /// or object the path names that does not exist, 405 for a write to a read-only object).
    pub fn v5_status(&self) -> StatusCode {
        match self.code {
            49 | 184 | 1 | 15 => StatusCode::UNAUTHORIZED,
            201 => StatusCode::FORBIDDEN,
            2 | 3 | 109 => StatusCode::NOT_FOUND,
            60 => StatusCode::METHOD_NOT_ALLOWED,
            66 | 122 => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Codes sent with 401 in v3/v4 (`docs/reference/pardot-api.md#error-codes`): bad api_key (1), failed login (15)
    /// and bad Salesforce token (184).
    fn is_auth_failure(&self) -> bool {
        matches!(self.code, 1 | 15 | 184)
    }
}

/// Which HTTP statuses the v3/v4 API uses for failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusMode {
    /// Today's behaviour (the default): 401 for codes 1, 15 and 184, 400 for every other error.
    #[default]
    Modern,
    /// The older behaviour: 200 with `stat="fail"` for every error, except the quirk of 400 for
    /// an expired or revoked Salesforce token.
    Legacy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_exact() {
        assert_eq!(
            message(66),
            Some(
                "You have exceeded your concurrent request limit.  Please wait, before trying again"
            )
        );
        assert_eq!(message(15), Some("Login failed"));
        assert_eq!(message(69), None);
        assert_eq!(
            ApiError::inactive_token().message,
            "access_token is invalid, unknown, or malformed: Inactive token"
        );
    }

    #[test]
    fn statuses_follow_the_decision() {
        let modern = StatusMode::Modern;
        for code in [1, 15, 184] {
            assert_eq!(
                ApiError::code(code).v34_status(modern),
                StatusCode::UNAUTHORIZED
            );
        }
        for code in [3, 4, 9, 49, 66, 88, 89, 122, 131, 201] {
            assert_eq!(
                ApiError::code(code).v34_status(modern),
                StatusCode::BAD_REQUEST
            );
        }
        assert_eq!(
            ApiError::code(1).v34_status(StatusMode::Legacy),
            StatusCode::OK
        );
        assert_eq!(
            ApiError::inactive_token().v34_status(StatusMode::Legacy),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::code(184).v34_status(StatusMode::Legacy),
            StatusCode::OK
        );
        assert_eq!(ApiError::code(201).v5_status(), StatusCode::FORBIDDEN);
        assert_eq!(
            ApiError::code(66).v5_status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(ApiError::code(130).v5_status(), StatusCode::BAD_REQUEST);
    }
}
