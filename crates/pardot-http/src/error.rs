//! [`PardotError`]: everything a request through this crate can end with, typed by what the
//! caller should do next.

use std::time::Duration;

use http::StatusCode;
use pardot_auth_core::{ErrorClass, PardotErrorCode};

use crate::store::StoreError;

/// Why a request failed.
///
/// Every variant says what to do in its message; [`PardotError::class`] says it in a form a
/// program can act on. No variant ever carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PardotError {
    /// The Pardot API answered with an error code that retrying cannot fix (or that this
    /// request may not be retried on).
    #[error("Pardot API error {code} (HTTP {status}): {message}{}", help_text(*help))]
    Api {
        /// The HTTP status of the answer (Pardot sometimes sends 200 with an error body).
        status: StatusCode,
        /// The Pardot error code.
        code: PardotErrorCode,
        /// The message Pardot sent.
        message: String,
        /// The parameter the error is about (v3/v4 code 10000), if named.
        param: Option<String>,
        /// What to do about it, when known.
        help: Option<&'static str>,
    },

    /// The credential was rejected again right after it was refreshed: refreshing cannot help.
    #[error("{reason} (the server rejected the credential twice in a row: {message})")]
    CredentialRejected {
        /// The Pardot error code of the second rejection, when there was one.
        code: Option<PardotErrorCode>,
        /// The server's message for the second rejection.
        message: String,
        /// What this most likely means and what to do.
        reason: &'static str,
    },

    /// The token's granted scopes lack `pardot_api` (and `full`); caught before any call.
    #[error(
        "the access token was granted the scopes `{granted}`, which lack `pardot_api`: add the \
         `pardot_api` (or `full`) OAuth scope to the connected app and request it when logging in"
    )]
    MissingScope {
        /// The scopes the token was granted.
        granted: String,
    },

    /// Pardot kept throttling (code 66, HTTP 429 or 503) beyond the retry policy's bounds.
    #[error(
        "still throttled after {attempts} attempts over {elapsed:?}: {last} (lower the \
         concurrency limit or the request rate, or widen the retry policy)"
    )]
    Throttled {
        /// Requests sent for this call.
        attempts: u32,
        /// Time spent on the call, on the client's clock.
        elapsed: Duration,
        /// What the last answer said.
        last: String,
    },

    /// This client's own daily budget is used up; the request was not sent.
    #[error(
        "the daily request budget of this client is used up ({used} of {budget} requests since \
         the last reset); it resets at the next day boundary, or raise it with `daily_budget`"
    )]
    BudgetExhausted {
        /// Requests counted since the last reset.
        used: u64,
        /// The configured budget.
        budget: u64,
    },

    /// No access token could be had; the source's error (bad credentials, consumer not
    /// approved, inactive user, a login server that is down) is kept as it was classified.
    #[error("could not get an access token: {0}")]
    Token(#[source] pardot_auth_core::Error),

    /// The request got no answer (connection refused, reset, TLS).
    #[error("the request failed before an answer arrived: {0}")]
    Transport(#[source] pardot_auth_core::BoxError),

    /// The request got no answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),

    /// The answer's body was larger than allowed.
    #[error(
        "the response body exceeded {limit} bytes (raise `max_response_bytes`, or ask for \
         smaller pages)"
    )]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },

    /// An HTTP error whose body carried no Pardot error code.
    #[error("unexpected HTTP {status} from the server: {snippet}")]
    Http {
        /// The status.
        status: StatusCode,
        /// The start of the body (at most 512 bytes, lossy UTF-8).
        snippet: String,
    },

    /// The answer could not be read (for example, a v3/v4 body that is not an `<rsp>`).
    #[error("the server's answer could not be read: {0}")]
    InvalidResponse(String),

    /// The client is configured or called wrongly.
    #[error("configuration error: {0}")]
    Config(String),

    /// The token cannot be put on a request (the wrong kind for Pardot, no business unit for
    /// a Salesforce token, bytes a header cannot carry); the core error keeps its class.
    #[error("the access token cannot be sent: {0}")]
    UnusableToken(#[source] pardot_auth_core::Error),

    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn help_text(help: Option<&'static str>) -> String {
    help.map(|h| format!(" ({h})")).unwrap_or_default()
}

impl PardotError {
    /// What a caller should do about this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { code, .. } => code.class(),
            Self::CredentialRejected { .. }
            | Self::MissingScope { .. }
            | Self::BudgetExhausted { .. } => ErrorClass::NeverRetry,
            Self::Throttled { .. } | Self::Transport(_) | Self::Timeout(_) => ErrorClass::RETRY,
            Self::Token(e) | Self::UnusableToken(e) => e.class(),
            Self::BodyTooLarge { .. } | Self::Config(_) => ErrorClass::CallerBug,
            Self::Http { status, .. } if status.is_server_error() => ErrorClass::RETRY,
            Self::Http { .. } => ErrorClass::CallerBug,
            Self::InvalidResponse(_) => ErrorClass::RETRY,
            Self::Store(e) => e.class(),
        }
    }

    /// The Pardot error code, when the server sent one.
    pub fn pardot_code(&self) -> Option<PardotErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::CredentialRejected { code, .. } => *code,
            _ => None,
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.class(), ErrorClass::RetryLater { .. })
    }
}

/// What to do about a Pardot error code that ends a request.
pub(crate) fn help_for(code: PardotErrorCode) -> Option<&'static str> {
    Some(match code.get() {
        122 => {
            "the business unit's daily API allocation is used up; it resets at midnight in the \
             account's time zone: wait, spread the load, or set a `daily_budget` to stop earlier"
        }
        66 => "too many concurrent requests: keep the concurrency limit at 5 or below",
        49 => {
            "the token's user has no access to this business unit: check the user's Account \
             Engagement access and the Pardot-Business-Unit-Id"
        }
        201 => {
            "check the business unit id (Setup > Account Engagement > Business Unit Setup) and \
             the host: business units of sandboxes and developer orgs live on pi.demo.pardot.com"
        }
        15 => "the legacy login failed: check email, password and user key",
        46 => "the API user lacks permission for this operation: adjust its role",
        53 => "activate this client's IP address in the account's security settings",
        76 => "API access is disabled for this account: ask an administrator to enable it",
        88 => "this account must use version 4 of the API: call the /version/4/ paths",
        89 => "this account cannot use version 4 of the API: call the /version/3/ paths",
        126 => "this authentication mechanism is not allowed for the account",
        131 => "the account is locked after failed logins: reset the password",
        _ => return None,
    })
}

impl From<PardotError> for pardot_auth_core::Error {
    fn from(e: PardotError) -> Self {
        use pardot_auth_core::{Error, ErrorKind};
        match e {
            PardotError::Token(inner) => inner,
            other => {
                let class = other.class();
                let kind = match &other {
                    PardotError::Api { .. }
                    | PardotError::CredentialRejected { .. }
                    | PardotError::Throttled { .. }
                    | PardotError::Http { .. } => ErrorKind::Server,
                    PardotError::Transport(_) => ErrorKind::Transport,
                    PardotError::Timeout(_) => ErrorKind::Timeout,
                    PardotError::InvalidResponse(_) | PardotError::BodyTooLarge { .. } => {
                        ErrorKind::InvalidResponse
                    }
                    PardotError::UnusableToken(e) => e.kind(),
                    _ => ErrorKind::Config,
                };
                let code = other.pardot_code();
                let mut out =
                    Error::new(kind, class, other.to_string()).with_context("Pardot API request");
                if let Some(code) = code {
                    out = out.with_code(code.to_string());
                }
                out.with_source(other)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_say_what_to_do_and_keep_their_class() {
        let e = PardotError::Api {
            status: StatusCode::BAD_REQUEST,
            code: PardotErrorCode::DAILY_LIMIT,
            message: "Daily API rate limit met".into(),
            param: None,
            help: help_for(PardotErrorCode::DAILY_LIMIT),
        };
        let text = e.to_string();
        assert!(text.contains("122"), "{text}");
        assert!(text.contains("resets at midnight"), "{text}");
        assert_eq!(e.class(), ErrorClass::NeverRetry);
        let core: pardot_auth_core::Error = e.into();
        assert_eq!(core.code(), Some("122"));
        assert_eq!(core.class(), ErrorClass::NeverRetry);
    }

    #[test]
    fn token_errors_pass_through_unchanged() {
        let inner = pardot_auth_core::Error::server(
            ErrorClass::NeverRetry,
            "invalid_grant",
            "user hasn't approved this consumer",
        );
        let e = PardotError::Token(inner);
        assert_eq!(e.class(), ErrorClass::NeverRetry);
        let back: pardot_auth_core::Error = e.into();
        assert_eq!(back.code(), Some("invalid_grant"));
    }
}
