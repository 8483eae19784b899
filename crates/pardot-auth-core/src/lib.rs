//! The vocabulary shared by the pardot-auth crates.
//!
//! This crate does no I/O: it names things. Ids ([`BusinessUnitId`], [`SalesforceId`]),
//! hosts ([`LoginHost`], [`PardotHost`]), credentials ([`AccessToken`], [`Scopes`]), how a
//! credential is sent ([`AuthScheme`]), JWT claim sets ([`JwtBearerClaims`],
//! [`ClientAssertionClaims`]), the [`TokenSource`] trait every flow implements (and
//! [`RefreshTokenGrant`], which redeems a refresh token), the [`Error`]
//! type classified by what a caller should do next ([`ErrorClass`]), the Pardot error-code
//! table ([`PardotErrorCode`]), and an injectable [`Clock`] with a [`ManualClock`] for tests.
//!
//! ```
//! use pardot_auth_core::{BusinessUnitId, LoginHost, PardotHost};
//!
//! let bu: BusinessUnitId = "0Uv3t000000TN5f".parse()?;
//! assert_eq!(bu.as_str(), "0Uv3t000000TN5fCAG");
//! assert_eq!(LoginHost::Sandbox.token_url().as_str(), "https://test.salesforce.com/services/oauth2/token");
//! assert_eq!(PardotHost::Demo.endpoint("/api/v5/objects/prospects").host_str(), Some("pi.demo.pardot.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// `Display` of a type as the text `$text` returns, and `Debug` as that text in the type's
/// name (`LoginHost(https://login.salesforce.com)`): for the types whose text is all there is
/// to show. Defined before the modules so that each can use it.
macro_rules! shown_as {
    ($name:ident, $text:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.$text())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.$text())
            }
        }
    };
}

pub mod body;
mod builder;
pub mod claims;
pub mod clock;
mod debug;
mod error;
mod host;
mod ids;
mod interned;
mod pardot_codes;
pub mod redact;
mod retry_after;
mod scheme;
mod source;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
mod token;

pub use claims::{ClientAssertionClaims, JwtBearerClaims};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{BoxError, Error, ErrorClass, ErrorKind};
pub use host::{
    ALLOW_INSECURE_HTTP_ENV, HostError, InsecureHttp, LoginHost, PardotHost, ensure_secure,
    ensure_secure_with, is_loopback, without_secrets,
};
pub use ids::{BusinessUnitId, IdError, SalesforceId};
pub use pardot_codes::PardotErrorCode;
pub use retry_after::retry_after;
pub use scheme::{AuthScheme, BUSINESS_UNIT_HEADER};
pub use source::{
    FnRefreshGrant, FnTokenSource, NamedFn, RefreshTokenGrant, TokenSource, provide_token_fn,
    refresh_grant_fn,
};
pub use token::{
    AccessToken, DEFAULT_SALESFORCE_SESSION, Expiry, LEGACY_API_KEY_LIFETIME, Scopes, TokenKind,
};

/// Re-exported so users name the same `secrecy` types as this crate.
pub use secrecy;
/// Re-exported so users name the same `url` types as this crate.
pub use url;

/// The most bytes any pardot-auth client reads from one response body unless configured
/// otherwise (token responses are well under 4 KiB; Pardot pages can be large).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
