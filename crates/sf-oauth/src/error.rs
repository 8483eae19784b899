//! This crate's errors ([`OAuthError`]) and how they become the core
//! [`Error`](pardot_auth_core::Error) with a classification, the flow's name and a hint.

use std::fmt;
use std::time::Duration;

use pardot_auth_core::{Error, ErrorClass, ErrorKind};

/// An OAuth `error` code as Salesforce (and the MCI identity provider) send it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_grant`: bad credentials, expired code or refresh token, audience, approval…
    InvalidGrant,
    /// `invalid_client_id`: unknown consumer key.
    InvalidClientId,
    /// `invalid_client`: wrong consumer secret or bad client assertion.
    InvalidClient,
    /// `unsupported_grant_type`: the flow is unknown or not enabled on the app.
    UnsupportedGrantType,
    /// `invalid_request`: a malformed request (e.g. a PKCE verifier that does not match).
    InvalidRequest,
    /// `invalid_app_access`: the user is not admin-approved for the app.
    InvalidAppAccess,
    /// `inactive_user`
    InactiveUser,
    /// `inactive_org`
    InactiveOrg,
    /// `rate_limit_exceeded`: too many logins for now.
    RateLimitExceeded,
    /// `invalid_scope`
    InvalidScope,
    /// `redirect_uri_mismatch`
    RedirectUriMismatch,
    /// `redirect_uri_missing`
    RedirectUriMissing,
    /// `access_denied`: the user said no.
    AccessDenied,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `authorization_pending` (device flow: keep polling).
    AuthorizationPending,
    /// `slow_down` (device flow: poll less often).
    SlowDown,
    /// `expired_token` (device flow: the device code expired).
    ExpiredToken,
    /// `invalid_token` (revoke: unknown or already revoked token).
    InvalidToken,
    /// `unsupported_token_type` (revoke).
    UnsupportedTokenType,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// Any other code, as sent.
    Other(String),
}

impl OAuthErrorCode {
    /// Reads a wire code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client_id" => Self::InvalidClientId,
            "invalid_client" | "invalid_client_credentials" => Self::InvalidClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_request" => Self::InvalidRequest,
            "invalid_app_access" => Self::InvalidAppAccess,
            "inactive_user" => Self::InactiveUser,
            "inactive_org" => Self::InactiveOrg,
            "rate_limit_exceeded" => Self::RateLimitExceeded,
            "invalid_scope" => Self::InvalidScope,
            "redirect_uri_mismatch" => Self::RedirectUriMismatch,
            "redirect_uri_missing" => Self::RedirectUriMissing,
            "access_denied" => Self::AccessDenied,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "expired_token" => Self::ExpiredToken,
            "invalid_token" => Self::InvalidToken,
            "unsupported_token_type" => Self::UnsupportedTokenType,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidClientId => "invalid_client_id",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidAppAccess => "invalid_app_access",
            Self::InactiveUser => "inactive_user",
            Self::InactiveOrg => "inactive_org",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::InvalidScope => "invalid_scope",
            Self::RedirectUriMismatch => "redirect_uri_mismatch",
            Self::RedirectUriMissing => "redirect_uri_missing",
            Self::AccessDenied => "access_denied",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in this crate. Converted into the core
/// [`Error`](pardot_auth_core::Error) (kept as its `source()`) at every public entry point.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The server refused with an OAuth error body (`{"error":…,"error_description":…}`).
    #[error("{error}: {description}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: OAuthErrorCode,
        /// The `error_description` (empty when absent).
        description: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The server answered an unexpected status without an OAuth error body.
    #[error("HTTP {status}: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The start of the body (an error page; never a success body, which holds secrets).
        body: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// No answer: connection, TLS, timeout.
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The answer was larger than the configured bound.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The bound.
        limit: usize,
    },
    /// A success answer could not be read. The body is not kept: it may hold a token.
    #[error("unreadable {what} response: {source}")]
    Parse {
        /// What was being read.
        what: &'static str,
        /// Where the JSON did not fit.
        #[source]
        source: serde_json::Error,
    },
    /// The `signature` of a token response does not match HMAC-SHA256(client secret,
    /// `id` + `issued_at`): the identity URL was altered, or the client secret is wrong.
    #[error(
        "the token response signature does not match (identity URL altered, or wrong client secret)"
    )]
    SignatureMismatch,
    /// A private key could not be loaded or used.
    #[error("{0}")]
    Key(String),
    /// A JWT could not be signed.
    #[error("cannot sign the assertion: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The configuration or the call is wrong.
    #[error("{0}")]
    Config(String),
    /// The loopback callback receiver could not listen or read the redirect.
    #[error("callback receiver: {0}")]
    Callback(String),
    /// The authorization redirect's `state` is not the one we sent.
    #[error("the redirect's state does not match the request's (possible CSRF); start again")]
    StateMismatch,
    /// The authorization server redirected back with an error.
    #[error("{error}: {description}")]
    Authorization {
        /// The `error` of the redirect.
        error: OAuthErrorCode,
        /// The `error_description` of the redirect (empty when absent).
        description: String,
    },
    /// A wait (callback, device approval) ran out.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// A hint on the usual cause and fix of a server error, by code and description.
fn help_for(error: &OAuthErrorCode, description: &str) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    Some(match error {
        OAuthErrorCode::InvalidGrant if d.contains("audience is invalid") => {
            "the assertion's `aud` must be the login server you call: https://login.salesforce.com \
             for production and developer orgs, https://test.salesforce.com for sandboxes \
             (use LoginHost::Sandbox), or your My Domain URL; see docs/troubleshooting.md#jwt-bearer"
        }
        OAuthErrorCode::InvalidGrant if d.contains("hasn't approved") => {
            "the user has not been allowed to use this connected app: in Setup > App Manager > \
             Manage > Edit Policies set Permitted Users to \"Admin approved users are \
             pre-authorized\" and assign the user's profile or a permission set to the app \
             (or approve the app once in a browser); see docs/troubleshooting.md#jwt-bearer"
        }
        OAuthErrorCode::InvalidGrant if d.contains("invalid assertion") => {
            "the JWT signature does not verify: sign with the private key whose certificate is \
             uploaded to the connected app (\"Use digital signatures\")"
        }
        OAuthErrorCode::InvalidGrant if d.contains("authentication failure") => {
            "check the username, and the password followed by the security token; the org may \
             also block the username-password flow (blocked by default since Summer '23): \
             prefer the JWT bearer flow"
        }
        OAuthErrorCode::InvalidGrant if d.contains("expired access/refresh token") => {
            "the refresh token was revoked, expired, or already rotated: authenticate again \
             to get a new one"
        }
        OAuthErrorCode::InvalidGrant if d.contains("expired authorization code") => {
            "authorization codes are single-use and short-lived: start the authorization again \
             (for JWT bearer: the assertion's exp has passed; check the clock)"
        }
        OAuthErrorCode::InvalidGrant if d.contains("not supported on this domain") => {
            "the client credentials flow only works on the org's My Domain \
             (LoginHost::my_domain(\"name\")), not login or test.salesforce.com"
        }
        OAuthErrorCode::InvalidClientId => {
            "the consumer key is unknown to this login server: check it, and use the sandbox \
             login host for sandbox orgs; a new connected app can take up to 10 minutes to work"
        }
        OAuthErrorCode::InvalidClient => {
            "check the client credentials: the consumer secret, or the key that signs the \
             client assertion"
        }
        OAuthErrorCode::UnsupportedGrantType => {
            "this flow is not enabled on the connected app (or not supported by this server)"
        }
        OAuthErrorCode::InvalidAppAccess => {
            "an administrator must assign the user (profile or permission set) to the app"
        }
        OAuthErrorCode::RedirectUriMismatch => {
            "the redirect URI must equal one of the app's Callback URLs exactly"
        }
        _ => return None,
    })
}

fn retry_class(retry_after: Option<Duration>) -> ErrorClass {
    ErrorClass::RetryLater { after: retry_after }
}

impl OAuthError {
    /// The OAuth error code, for server and redirect errors.
    pub fn code(&self) -> Option<&OAuthErrorCode> {
        match self {
            Self::Server { error, .. } | Self::Authorization { error, .. } => Some(error),
            _ => None,
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.class(), ErrorClass::RetryLater { .. })
    }

    /// What a caller should do next.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Server {
                error,
                status,
                retry_after,
                ..
            } => match error {
                OAuthErrorCode::RateLimitExceeded
                | OAuthErrorCode::ServerError
                | OAuthErrorCode::TemporarilyUnavailable
                | OAuthErrorCode::AuthorizationPending
                | OAuthErrorCode::SlowDown => retry_class(*retry_after),
                _ if *status >= 500 || *status == 429 => retry_class(*retry_after),
                _ => ErrorClass::NeverRetry,
            },
            Self::Http {
                status,
                retry_after,
                ..
            } => match *status {
                s if s >= 500 || s == 429 || s == 408 => retry_class(*retry_after),
                // A 401/403 from a token endpoint cannot be cured by a fresh token; calls made
                // with a bearer token (userinfo) reclassify it as RefreshAndRetry.
                _ => ErrorClass::NeverRetry,
            },
            Self::Transport(_) | Self::Parse { .. } | Self::BodyTooLarge { .. } => {
                ErrorClass::RETRY
            }
            Self::Timeout(_) => ErrorClass::RETRY,
            Self::SignatureMismatch | Self::StateMismatch | Self::Authorization { .. } => {
                ErrorClass::NeverRetry
            }
            Self::Key(_) | Self::Sign(_) | Self::Config(_) | Self::Callback(_) => {
                ErrorClass::CallerBug
            }
        }
    }

    /// Converts into the core error, naming the operation that failed (`"JWT bearer
    /// authentication"`), with a hint where the cause is well known.
    pub fn into_core(self, context: &str) -> Error {
        let class = self.class();
        let mut err = match &self {
            Self::Server {
                error, description, ..
            }
            | Self::Authorization { error, description } => {
                let mut e = Error::server(class, error.as_str(), description.clone());
                if let Some(help) = help_for(error, description) {
                    e = e.with_help(help);
                }
                e
            }
            Self::Http { status, .. } => {
                Error::new(ErrorKind::Server, class, self.to_string()).with_code(status.to_string())
            }
            Self::Transport(e) if e.is_timeout() => {
                Error::new(ErrorKind::Timeout, class, self.to_string())
            }
            Self::Transport(_) => Error::new(ErrorKind::Transport, class, self.to_string()),
            Self::Timeout(_) => Error::new(ErrorKind::Timeout, class, self.to_string()),
            Self::BodyTooLarge { .. } | Self::Parse { .. } | Self::SignatureMismatch => {
                Error::new(ErrorKind::InvalidResponse, class, self.to_string())
            }
            Self::StateMismatch => Error::new(ErrorKind::Server, class, self.to_string()),
            Self::Key(_) | Self::Sign(_) | Self::Config(_) | Self::Callback(_) => {
                Error::new(ErrorKind::Config, class, self.to_string())
            }
        };
        err = err.with_context(context);
        err.with_source(self)
    }
}

/// Converts with the generic context "Salesforce OAuth request".
impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Self {
        e.into_core("Salesforce OAuth request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: &str, description: &str) -> OAuthError {
        OAuthError::Server {
            status: 400,
            error: OAuthErrorCode::parse(code),
            description: description.into(),
            retry_after: None,
        }
    }

    #[test]
    fn messages_name_the_flow_and_help() {
        let e =
            server("invalid_grant", "audience is invalid").into_core("JWT bearer authentication");
        let text = e.to_string();
        assert!(
            text.starts_with(
                "JWT bearer authentication failed: invalid_grant: audience is invalid ("
            ),
            "{text}"
        );
        assert!(text.contains("test.salesforce.com"));
        assert_eq!(e.class(), ErrorClass::NeverRetry);
        assert_eq!(e.code(), Some("invalid_grant"));
        let e = server("invalid_grant", "user hasn't approved this consumer")
            .into_core("JWT bearer authentication");
        assert!(e.help().unwrap().contains("pre-authorized"));
    }

    #[test]
    fn classification() {
        assert!(server("rate_limit_exceeded", "number of logins exceeded").is_retryable());
        assert!(!server("invalid_client", "invalid client credentials").is_retryable());
        let http = |status| OAuthError::Http {
            status,
            body: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            http(503).class(),
            ErrorClass::RetryLater {
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(http(403).class(), ErrorClass::NeverRetry);
        assert_eq!(http(404).class(), ErrorClass::NeverRetry);
        assert_eq!(
            OAuthError::Config("x".into()).class(),
            ErrorClass::CallerBug
        );
    }

    #[test]
    fn codes_round_trip() {
        for c in [
            "invalid_grant",
            "invalid_client_id",
            "slow_down",
            "unsupported_token_type",
            "something_new",
        ] {
            assert_eq!(OAuthErrorCode::parse(c).as_str(), c);
        }
    }
}
