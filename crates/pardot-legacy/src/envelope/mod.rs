//! The one parser of the Pardot v3/v4 `<rsp>` envelope, in both of its encodings.
//!
//! Every v3/v4 answer (the legacy login and every API call, whether authenticated with an
//! api_key or a Salesforce token) is an envelope:
//!
//! ```text
//! <?xml version="1.0" encoding="UTF-8"?>
//! <rsp stat="ok" version="1.0"><api_key>5a1698a233e73d7c8ccd60d775fbc68a</api_key></rsp>
//!
//! <rsp stat="fail" version="1.0">
//!     <err code="15">Login failed</err>
//! </rsp>
//!
//! {"@attributes":{"stat":"fail","version":1,"err_code":15},"err":"Login failed"}
//! ```
//!
//! [`parse`] reads either (it looks at the first non-whitespace byte, after an optional BOM),
//! whatever the HTTP status was: Pardot sends `stat="fail"` with 200, 400 or 401 depending on
//! the era and the code, so callers decide from the body. It never panics; anything that is not
//! a complete envelope is an [`EnvelopeError`] carrying a short, bounded excerpt of the body.
//!
//! ```
//! use pardot_legacy::envelope::{self, Format};
//! use pardot_auth_core::{ErrorClass, PardotErrorCode};
//!
//! let ok = envelope::parse(br#"<rsp stat="ok" version="1.0"><api_key>5a1698a233e73d7c8ccd60d775fbc68a</api_key><version>4</version></rsp>"#)?;
//! assert!(ok.is_ok());
//! assert_eq!(ok.field("version"), Some("4"));
//!
//! let fail = envelope::parse(br#"{"@attributes":{"stat":"fail","version":1,"err_code":66},"err":"You have exceeded your concurrent request limit.  Please wait, before trying again"}"#)?;
//! assert_eq!(fail.format, Format::Json);
//! let err = fail.into_result().unwrap_err();
//! assert_eq!(err.code, PardotErrorCode::CONCURRENT_LIMIT);
//! assert_eq!(err.class(), ErrorClass::RETRY);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use pardot_auth_core::{ErrorClass, PardotErrorCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

mod json;
mod xml;

/// How many characters of a bad body an [`EnvelopeError`] keeps.
pub const EXCERPT_CHARS: usize = 200;

/// Which encoding a v3/v4 body uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `<rsp stat="…">…</rsp>`: the default (`format=xml` or no `format`).
    Xml,
    /// `{"@attributes":{"stat":"…"},…}`: answers to `format=json`.
    Json,
}

impl Format {
    /// The value of the `format` request parameter that asks for this encoding.
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Xml => "XML",
            Self::Json => "JSON",
        })
    }
}

/// One `<err>` / `err` entry of a failed envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The numeric code (`<err code="N">`, `@attributes.err_code`).
    pub code: PardotErrorCode,
    /// The message as the server wrote it (e.g. `Login failed`), trimmed, at most
    /// [`MESSAGE_CHARS`] characters, with token-shaped runs replaced by `[redacted]`
    /// (`pardot_auth_core::redact`): it ends up in errors and logs.
    pub message: String,
    /// The parameter a per-field validation error (code 10000) is about, when given (bounded
    /// and redacted like `message`).
    pub param: Option<String>,
}

impl ApiError {
    /// What a client should do about it (the core's table of Pardot codes).
    pub fn class(&self) -> ErrorClass {
        self.code.class()
    }

    /// True for the codes meaning "the credential in use is no longer good" (1, 184).
    pub fn signals_expired_credential(&self) -> bool {
        self.code.signals_expired_credential()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pardot error {}: {}", self.code, self.message)?;
        if let Some(param) = &self.param {
            write!(f, " (param `{param}`)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for pardot_auth_core::Error {
    fn from(e: ApiError) -> Self {
        let mut message = e.message.clone();
        if let Some(param) = &e.param {
            message.push_str(&format!(" (param `{param}`)"));
        }
        let error = pardot_auth_core::Error::server(e.class(), e.code.to_string(), message);
        match help_for(e.code) {
            Some(help) => error.with_help(help),
            None => error,
        }
    }
}

/// The usual cause and fix of the codes people meet most.
pub(crate) fn help_for(code: PardotErrorCode) -> Option<&'static str> {
    Some(match code {
        PardotErrorCode::INVALID_API_KEY => {
            "the api_key expired (it lives 60 minutes) or the user_key is wrong; log in again"
        }
        PardotErrorCode::LOGIN_FAILED => {
            "check email, password and user_key; Salesforce-synced (SSO) users cannot use this login and need Salesforce OAuth, see docs/migrating-from-legacy-login.md"
        }
        PardotErrorCode::ACCOUNT_LOCKED => {
            "too many failed logins: reset the password at https://pi.pardot.com/user/passwordReset"
        }
        PardotErrorCode::MUST_USE_V4 => "the account uses API version 4: call /version/4 paths",
        PardotErrorCode::CANNOT_USE_V4 => "the account uses API version 3: call /version/3 paths",
        PardotErrorCode::INVALID_ACCESS_TOKEN => {
            "the Salesforce token expired or was revoked, or lacks the pardot_api scope"
        }
        PardotErrorCode::BUSINESS_UNIT_NOT_FOUND => {
            "check the Pardot-Business-Unit-Id (Setup > Account Engagement > Business Unit Setup) and the host (pi.pardot.com vs pi.demo.pardot.com)"
        }
        PardotErrorCode::CONCURRENT_LIMIT => "at most 5 concurrent requests per business unit",
        PardotErrorCode::DAILY_LIMIT => {
            "the daily API quota is used up until midnight in the account's time zone"
        }
        _ => return None,
    })
}

/// Why a body is not a readable v3/v4 envelope.
///
/// The excerpt is at most [`EXCERPT_CHARS`] characters of the body (and `…` when cut), and
/// it and the reason went through [`pardot_auth_core::redact`]: api_keys, user_keys, tokens
/// and echoed secrets are `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The body is empty or only whitespace.
    #[error("empty Pardot v3/v4 response body")]
    Empty,
    /// The body starts with neither `<` nor `{`.
    #[error("Pardot v3/v4 response is neither XML nor JSON; body starts: {excerpt:?}")]
    UnknownFormat {
        /// The start of the body.
        excerpt: String,
    },
    /// The XML or JSON itself is broken (truncated, badly nested, not UTF-8).
    #[error("malformed {format} in Pardot v3/v4 response: {reason}; body starts: {excerpt:?}")]
    Syntax {
        /// Which encoding the body claimed.
        format: Format,
        /// What the parser said.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// Well-formed, but not an `<rsp>` envelope (wrong root, no `stat`, a failure without an
    /// error code, …).
    #[error("not a Pardot v3/v4 envelope ({format}): {reason}; body starts: {excerpt:?}")]
    NotAnEnvelope {
        /// Which encoding the body used.
        format: Format,
        /// What is missing or wrong.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// The envelope is fine but its payload does not have the shape the caller asked for
    /// (see [`Envelope::deserialize`]).
    #[error("Pardot v3/v4 {format} payload does not match the expected shape: {reason}")]
    Payload {
        /// Which encoding the body used.
        format: Format,
        /// What the deserializer said.
        reason: String,
    },
}

impl EnvelopeError {
    /// The body excerpt, if this error kept one.
    pub fn excerpt(&self) -> Option<&str> {
        match self {
            Self::UnknownFormat { excerpt }
            | Self::Syntax { excerpt, .. }
            | Self::NotAnEnvelope { excerpt, .. } => Some(excerpt),
            Self::Empty | Self::Payload { .. } => None,
        }
    }
}

impl From<EnvelopeError> for pardot_auth_core::Error {
    fn from(e: EnvelopeError) -> Self {
        pardot_auth_core::Error::invalid_response(e.to_string()).with_source(e)
    }
}

/// The payload behind an envelope, kept so callers can deserialize it into their own types.
#[derive(Clone)]
enum Payload {
    Xml(String),
    Json(Value),
}

/// A parsed `<rsp>` envelope.
///
/// `Debug` shows the status, the errors and the names of the top-level fields, never their
/// values: a login envelope carries the api_key.
#[derive(Clone)]
pub struct Envelope {
    /// The encoding the body used.
    pub format: Format,
    /// `stat="ok"` (true) or `stat="fail"` (false); private so that a failure always carries
    /// its errors: read it with [`Envelope::is_ok`].
    ok: bool,
    /// The envelope's `version` attribute (`"1.0"` in XML, `1` in JSON becomes `"1"`).
    pub version: Option<String>,
    /// The errors, in document order; never empty when `ok` is false (the parser sees to it,
    /// so the field is private: read it with [`Envelope::errors`]).
    errors: Vec<ApiError>,
    fields: Vec<(String, String)>,
    payload: Payload,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Envelope")
            .field("format", &self.format)
            .field("ok", &self.ok)
            .field("version", &self.version)
            .field("errors", &self.errors)
            .field("fields", &names)
            .finish_non_exhaustive()
    }
}

impl Envelope {
    /// `Ok(self)` when `stat="ok"`, else the first error (a parsed failure always has one).
    pub fn into_result(self) -> Result<Self, ApiError> {
        if self.ok {
            return Ok(self);
        }
        // The parser guarantees a failed envelope has at least one error.
        match self.errors.into_iter().next() {
            Some(first) => Err(first),
            None => Err(ApiError {
                code: PardotErrorCode(0),
                message: "stat=fail without an error".into(),
                param: None,
            }),
        }
    }

    /// `stat="ok"`: the request succeeded.
    pub fn is_ok(&self) -> bool {
        self.ok
    }

    /// The errors, in document order; at least one when [`is_ok`](Self::is_ok) is false.
    pub fn errors(&self) -> &[ApiError] {
        &self.errors
    }

    /// The first error, if any.
    pub fn first_error(&self) -> Option<&ApiError> {
        self.errors.first()
    }

    /// The text of a top-level leaf field (`<api_key>…</api_key>` or `"api_key":"…"`; JSON
    /// numbers and booleans as their text), trimmed. `None` when absent or when the field
    /// has children (use [`Envelope::deserialize`] for those).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The names of the top-level leaf fields, in document order.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }

    /// Deserializes the content of `<rsp>` (XML, with `quick-xml`'s serde rules: child elements
    /// are fields, attributes are `@name`) or the JSON object (with `serde_json`) into `T`.
    /// Fields of `T` name the children of the envelope, so one type usually reads both
    /// encodings; unknown fields (like `@stat` or `@attributes`) are ignored unless `T` denies
    /// them.
    ///
    /// A `Vec<T>` field reads one entry or several in both encodings: Pardot's JSON sends a
    /// single match as an object (`"prospect": {…}`) and several as an array, and XML repeats
    /// the element. Mark such fields `#[serde(default)]` so that no match gives an empty list.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Account { company: String }
    /// #[derive(serde::Deserialize)]
    /// struct AccountRead { account: Account }
    ///
    /// for body in [
    ///     &br#"<rsp stat="ok" version="1.0"><account><company>Acme</company></account></rsp>"#[..],
    ///     &br#"{"@attributes":{"stat":"ok","version":1},"account":{"company":"Acme"}}"#[..],
    /// ] {
    ///     let read: AccountRead = pardot_legacy::envelope::parse(body)?.deserialize()?;
    ///     assert_eq!(read.account.company, "Acme");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, EnvelopeError> {
        match &self.payload {
            Payload::Xml(text) => {
                quick_xml::de::from_str(text).map_err(|e| EnvelopeError::Payload {
                    format: Format::Xml,
                    reason: server_text(&e.to_string()),
                })
            }
            Payload::Json(value) => {
                T::deserialize(json::Lenient(value)).map_err(|e| EnvelopeError::Payload {
                    format: Format::Json,
                    reason: server_text(&e.to_string()),
                })
            }
        }
    }

    /// The XML text of the body (after any BOM), for an XML envelope.
    pub fn xml(&self) -> Option<&str> {
        match &self.payload {
            Payload::Xml(text) => Some(text),
            Payload::Json(_) => None,
        }
    }

    /// The parsed JSON object, for a JSON envelope.
    pub fn json(&self) -> Option<&Value> {
        match &self.payload {
            Payload::Json(value) => Some(value),
            Payload::Xml(_) => None,
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Skips leading whitespace and byte-order marks.
fn skip_preamble(mut body: &[u8]) -> &[u8] {
    loop {
        if let Some(rest) = body.strip_prefix(BOM) {
            body = rest;
        } else if let Some((first, rest)) = body.split_first()
            && first.is_ascii_whitespace()
        {
            body = rest;
        } else {
            return body;
        }
    }
}

/// The most characters of an error message (or param) kept from a server.
pub const MESSAGE_CHARS: usize = 500;

/// A server's error text as kept: trimmed, bounded, token-shaped runs redacted.
fn server_text(text: &str) -> String {
    pardot_auth_core::redact::excerpt(text.as_bytes(), MESSAGE_CHARS)
}

/// The start of a bad `body` an [`EnvelopeError`] keeps: bounded and redacted by the core
/// redactor.
fn body_start(body: &[u8]) -> String {
    pardot_auth_core::redact::excerpt(body, EXCERPT_CHARS)
}

/// Parses a v3/v4 body, XML or JSON (detected from the first non-whitespace byte after an
/// optional UTF-8 BOM). The HTTP status plays no part: a `stat="fail"` envelope is a successful
/// parse whose [`Envelope::into_result`] is the first error.
pub fn parse(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let start = skip_preamble(body);
    match start.first() {
        None => Err(EnvelopeError::Empty),
        Some(b'<') => xml::parse(start),
        Some(b'{' | b'[') => json::parse(start),
        Some(_) => Err(EnvelopeError::UnknownFormat {
            excerpt: body_start(body),
        }),
    }
}

fn parse_code(text: &str) -> Option<PardotErrorCode> {
    text.trim().parse::<u32>().ok().map(PardotErrorCode)
}
