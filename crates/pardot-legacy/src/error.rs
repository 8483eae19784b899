//! [`LegacyError`]: everything the legacy login can report, typed by what to do next.

use std::time::Duration;

use pardot_auth_core::{ErrorClass, HostError, PardotErrorCode};

use crate::envelope::{ApiError, EnvelopeError, help_for};

/// Why a legacy login did not produce an api_key.
///
/// No variant carries the password, the user key or an api_key. Convert into the core
/// [`pardot_auth_core::Error`] with `?`/`into()` to get the classification the transport uses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyError {
    /// The email, password or user key cannot be right (checked before any request).
    #[error("invalid legacy credentials: {0}")]
    InvalidCredentials(String),
    /// The login is configured wrongly (e.g. the HTTP client could not be built).
    #[error("invalid legacy login configuration: {0}")]
    Config(String),
    /// The Pardot host is not usable (plain http to a non-loopback host, not a URL).
    #[error("invalid Pardot host: {0}")]
    Host(#[from] HostError),
    /// Code 15: wrong email, password or user key, or a Salesforce-synced (SSO) user, which
    /// cannot use this login.
    #[error("Pardot legacy login failed: {message} (code 15)")]
    LoginFailed {
        /// The server's message (`Login failed`).
        message: String,
    },
    /// Code 131: too many failed logins; the password must be reset.
    #[error("Pardot account locked: {message} (code 131)")]
    AccountLocked {
        /// The server's message.
        message: String,
    },
    /// Code 88 or 89: the login used the other API version than the account's.
    #[error("Pardot legacy login used the wrong API version: {0}")]
    WrongApiVersion(ApiError),
    /// Any other Pardot error code.
    #[error("Pardot legacy login rejected: {0}")]
    Api(ApiError),
    /// `stat="ok"` but no usable `<api_key>`.
    #[error("Pardot legacy login answered ok without a usable api_key")]
    MissingApiKey,
    /// `<version>` names neither 3 nor 4.
    #[error("Pardot legacy login answered an unknown API version {0:?} (expected 3 or 4)")]
    UnknownApiVersion(String),
    /// The body is not a v3/v4 envelope (a proxy's error page, a truncated answer, …).
    #[error("unreadable Pardot legacy login response (HTTP {status}): {source}")]
    Response {
        /// The HTTP status.
        status: u16,
        /// Why the body could not be read.
        #[source]
        source: EnvelopeError,
    },
    /// The body is larger than the configured limit.
    #[error("Pardot legacy login response exceeds {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request got no answer (DNS, connect, TLS, reset).
    #[error("could not reach Pardot for the legacy login: {0}")]
    Transport(#[source] reqwest::Error),
    /// No complete answer within the timeout.
    #[error("Pardot legacy login timed out after {0:?}")]
    Timeout(Duration),
}

impl LegacyError {
    /// Maps a `stat="fail"` answer of the login to its variant.
    pub(crate) fn from_api(error: ApiError) -> Self {
        match error.code {
            PardotErrorCode::LOGIN_FAILED => Self::LoginFailed {
                message: error.message,
            },
            PardotErrorCode::ACCOUNT_LOCKED => Self::AccountLocked {
                message: error.message,
            },
            PardotErrorCode::MUST_USE_V4 | PardotErrorCode::CANNOT_USE_V4 => {
                Self::WrongApiVersion(error)
            }
            _ => Self::Api(error),
        }
    }

    /// The Pardot error code, when the server gave one.
    pub fn code(&self) -> Option<PardotErrorCode> {
        match self {
            Self::LoginFailed { .. } => Some(PardotErrorCode::LOGIN_FAILED),
            Self::AccountLocked { .. } => Some(PardotErrorCode::ACCOUNT_LOCKED),
            Self::WrongApiVersion(e) | Self::Api(e) => Some(e.code),
            _ => None,
        }
    }

    /// The message for the core error, whose `Display` already says "Pardot legacy login
    /// failed: " and the code.
    fn core_message(&self) -> String {
        match self {
            Self::InvalidCredentials(reason) => format!("invalid credentials: {reason}"),
            Self::Config(reason) => reason.clone(),
            Self::Host(e) => e.to_string(),
            Self::LoginFailed { message } | Self::AccountLocked { message } => message.clone(),
            Self::WrongApiVersion(e) | Self::Api(e) => match &e.param {
                Some(param) => format!("{} (param `{param}`)", e.message),
                None => e.message.clone(),
            },
            Self::MissingApiKey => "the answer was ok but had no usable api_key".into(),
            Self::UnknownApiVersion(v) => {
                format!("the answer names an unknown API version {v:?} (expected 3 or 4)")
            }
            Self::Response { status, source } => {
                format!("unreadable response (HTTP {status}): {source}")
            }
            Self::BodyTooLarge { limit } => format!("the response exceeds {limit} bytes"),
            Self::Transport(e) => format!("could not reach Pardot: {e}"),
            Self::Timeout(d) => format!("no answer within {d:?}"),
        }
    }

    /// What to do about it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidCredentials(_) | Self::Config(_) | Self::Host(_) => ErrorClass::CallerBug,
            Self::LoginFailed { .. } | Self::AccountLocked { .. } => ErrorClass::NeverRetry,
            Self::WrongApiVersion(_) => ErrorClass::CallerBug,
            Self::Api(e) => match e.class() {
                // "Refresh and retry" means logging in again, which is what just failed.
                ErrorClass::RefreshAndRetry => ErrorClass::NeverRetry,
                class => class,
            },
            Self::MissingApiKey | Self::UnknownApiVersion(_) => ErrorClass::RETRY,
            Self::Response { status, .. } => match status {
                429 | 500..=599 => ErrorClass::RETRY,
                // Not found / method not allowed: the host is not a Pardot API.
                404 | 405 => ErrorClass::CallerBug,
                400..=499 => ErrorClass::NeverRetry,
                _ => ErrorClass::RETRY,
            },
            Self::BodyTooLarge { .. } => ErrorClass::NeverRetry,
            Self::Transport(_) | Self::Timeout(_) => ErrorClass::RETRY,
        }
    }
}

impl From<LegacyError> for pardot_auth_core::Error {
    fn from(e: LegacyError) -> Self {
        use pardot_auth_core::Error;
        let class = e.class();
        let message = e.core_message();
        let error = match &e {
            LegacyError::InvalidCredentials(_) | LegacyError::Config(_) | LegacyError::Host(_) => {
                Error::config(message)
            }
            LegacyError::LoginFailed { .. }
            | LegacyError::AccountLocked { .. }
            | LegacyError::WrongApiVersion(_)
            | LegacyError::Api(_) => {
                let code = e.code().map(|c| c.to_string()).unwrap_or_default();
                let mut error = Error::server(class, code, message);
                if let Some(help) = e.code().and_then(help_for) {
                    error = error.with_help(help);
                }
                error
            }
            LegacyError::MissingApiKey
            | LegacyError::UnknownApiVersion(_)
            | LegacyError::Response { .. }
            | LegacyError::BodyTooLarge { .. } => Error::invalid_response(message),
            LegacyError::Transport(_) => {
                Error::new(pardot_auth_core::ErrorKind::Transport, class, message)
            }
            LegacyError::Timeout(_) => Error::timeout(message),
        };
        error
            .with_class(class)
            .with_context("Pardot legacy login")
            .with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u32) -> ApiError {
        ApiError {
            code: PardotErrorCode(code),
            message: "m".into(),
            param: None,
        }
    }

    #[test]
    fn login_codes_map_to_variants_and_classes() {
        assert!(matches!(
            LegacyError::from_api(api(15)),
            LegacyError::LoginFailed { .. }
        ));
        assert!(matches!(
            LegacyError::from_api(api(131)),
            LegacyError::AccountLocked { .. }
        ));
        assert!(matches!(
            LegacyError::from_api(api(88)),
            LegacyError::WrongApiVersion(_)
        ));
        assert_eq!(
            LegacyError::from_api(api(1)).class(),
            ErrorClass::NeverRetry
        );
        assert_eq!(LegacyError::from_api(api(66)).class(), ErrorClass::RETRY);
        assert_eq!(
            LegacyError::from_api(api(89)).code(),
            Some(PardotErrorCode(89))
        );
    }

    #[test]
    fn converts_into_core_error() {
        let core: pardot_auth_core::Error = LegacyError::from_api(api(15)).into();
        assert_eq!(core.class(), ErrorClass::NeverRetry);
        assert_eq!(core.code(), Some("15"));
        assert_eq!(core.context(), Some("Pardot legacy login"));
        assert!(core.to_string().contains("migrating-from-legacy-login"));
        assert!(
            core.to_string()
                .starts_with("Pardot legacy login failed: 15: m ("),
            "{core}"
        );
        assert!(std::error::Error::source(&core).is_some());

        let timeout: pardot_auth_core::Error = LegacyError::Timeout(Duration::from_secs(30)).into();
        assert!(timeout.is_retryable());
        assert_eq!(timeout.kind(), pardot_auth_core::ErrorKind::Timeout);
        assert_eq!(
            timeout.to_string(),
            "Pardot legacy login failed: no answer within 30s"
        );

        let proxy: pardot_auth_core::Error = LegacyError::Response {
            status: 404,
            source: EnvelopeError::Empty,
        }
        .into();
        assert_eq!(proxy.class(), ErrorClass::CallerBug);
    }
}
