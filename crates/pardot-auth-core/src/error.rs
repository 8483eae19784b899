//! The error every [`TokenSource`](crate::TokenSource) returns, classified by what the caller
//! (usually the transport in `pardot-http`) should do next.
//!
//! Each crate keeps its own detailed `thiserror` enum and converts it into [`Error`] at the
//! `TokenSource` boundary, keeping the original as the `source()`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A boxed error, `Send + Sync` so it can cross tasks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A passing condition (throttling, a 5xx, a network blip): try again later, after `after`
    /// when the server said how long.
    RetryLater {
        /// How long the server asked us to wait, if it said.
        after: Option<Duration>,
    },
    /// The credential in use has expired or was revoked: get a fresh one and retry once.
    RefreshAndRetry,
    /// Trying again cannot help until a person changes something (bad credentials, consumer
    /// not approved, wrong business unit, missing scope, inactive user, daily quota used up).
    NeverRetry,
    /// The program is using the library wrongly or is misconfigured.
    CallerBug,
}

impl ErrorClass {
    /// A passing condition without a server-given wait.
    pub const RETRY: Self = Self::RetryLater { after: None };
}

/// Where an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with an error.
    Server,
    /// The request did not get an answer (connection, TLS, I/O).
    Transport,
    /// A wait ran out of time.
    Timeout,
    /// The server answered something we could not read.
    InvalidResponse,
    /// The configuration or the call is wrong.
    Config,
}

/// An authentication or transport error with its classification.
///
/// `Display` reads like "JWT bearer authentication failed: invalid_grant: user hasn't
/// approved this consumer" followed by a hint when one is known. No secret is ever part of it.
///
/// Cloning is cheap (a reference count) and keeps every field and the source, so one failed
/// fetch can be handed to every caller that waited for it.
#[derive(Clone)]
pub struct Error(Arc<Inner>);

// Behind an `Arc` so `Result<T, Error>` stays one pointer wide on the happy path and clones
// share one allocation; the builder methods copy on write.
#[derive(Clone)]
struct Inner {
    class: ErrorClass,
    kind: ErrorKind,
    context: Option<String>,
    code: Option<String>,
    message: String,
    help: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind`, classified as `class`, with a message.
    pub fn new(kind: ErrorKind, class: ErrorClass, message: impl Into<String>) -> Self {
        Self(Arc::new(Inner {
            class,
            kind,
            context: None,
            code: None,
            message: message.into(),
            help: None,
            source: None,
        }))
    }

    /// The server rejected the request with `code` (e.g. `invalid_grant`, `184`).
    pub fn server(class: ErrorClass, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, class, message).with_code(code)
    }

    /// A network failure; retryable.
    pub fn transport(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        Self::new(ErrorKind::Transport, ErrorClass::RETRY, source.to_string()).with_source(source)
    }

    /// A wait ran out; retryable.
    pub fn timeout(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, ErrorClass::RETRY, what)
    }

    /// The server's answer could not be read.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidResponse, ErrorClass::RETRY, message)
    }

    /// The configuration or call is wrong.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, ErrorClass::CallerBug, message)
    }

    /// Names the operation that failed ("JWT bearer authentication").
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.inner_mut().context = Some(context.into());
        self
    }

    /// Sets the server's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.inner_mut().code = Some(code.into());
        self
    }

    /// Adds a hint on the usual cause and fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.inner_mut().help = Some(help.into());
        self
    }

    /// Keeps the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner_mut().source = Some(Arc::from(source.into()));
        self
    }

    /// Replaces the classification.
    pub fn with_class(mut self, class: ErrorClass) -> Self {
        self.inner_mut().class = class;
        self
    }

    // Unshared while an error is being built, so this rarely copies.
    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.0)
    }

    /// What to do about it.
    pub fn class(&self) -> ErrorClass {
        self.0.class
    }

    /// Where it came from.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The server's error code (`invalid_grant`, `184`), if the server gave one.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The message (the server's `error_description` or `err` text, or ours).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The hint on the usual cause and fix, if known.
    pub fn help(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// The operation that failed, if named.
    pub fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.0.class, ErrorClass::RetryLater { .. })
    }

    /// True when the credential expired and a fresh one should be fetched.
    pub fn needs_refresh(&self) -> bool {
        self.0.class == ErrorClass::RefreshAndRetry
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(context) = &self.0.context {
            write!(f, "{context} failed: ")?;
        }
        if let Some(code) = &self.0.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.0.message)?;
        if let Some(help) = &self.0.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("class", &self.0.class)
            .field("kind", &self.0.kind)
            .field("context", &self.0.context)
            .field("code", &self.0.code)
            .field("message", &self.0.message)
            .field("help", &self.0.help)
            .field("source", &self.0.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<crate::IdError> for Error {
    fn from(e: crate::IdError) -> Self {
        Self::config(e.to_string()).with_source(e)
    }
}

impl From<crate::HostError> for Error {
    fn from(e: crate::HostError) -> Self {
        Self::config(e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_context_code_and_help() {
        let e = Error::server(
            ErrorClass::NeverRetry,
            "invalid_grant",
            "audience is invalid",
        )
        .with_context("JWT bearer authentication")
        .with_help("use https://test.salesforce.com for sandboxes");
        assert_eq!(
            e.to_string(),
            "JWT bearer authentication failed: invalid_grant: audience is invalid \
             (use https://test.salesforce.com for sandboxes)"
        );
        assert!(!e.is_retryable());
        assert_eq!(e.kind(), ErrorKind::Server);
    }

    #[test]
    fn transport_errors_are_retryable_and_keep_their_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let e = Error::transport(io);
        assert!(e.is_retryable());
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn clones_keep_every_field_and_the_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let e = Error::transport(io)
            .with_context("token fetch")
            .with_code("E1")
            .with_help("try later");
        let copy = e.clone();
        assert_eq!(copy.to_string(), e.to_string());
        assert_eq!((copy.class(), copy.kind()), (e.class(), e.kind()));
        let source = std::error::Error::source(&copy).expect("the source is shared");
        assert_eq!(source.to_string(), "reset");
        // A clone changed later does not change the original.
        let changed = copy.with_class(ErrorClass::NeverRetry);
        assert!(e.is_retryable() && !changed.is_retryable());
    }
}
