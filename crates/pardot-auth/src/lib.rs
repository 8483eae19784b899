//! The front door: pick a flow by configuration and get a ready Pardot client.
//!
//! [`Config`] names a flow and its settings, filled in code or by [`Config::from_env`].
//! Connecting a configuration to a client comes with the transport (see the project's issues);
//! until then use the member crates directly: [`core`] for the vocabulary.
//!
//! ```
//! use pardot_auth::{Config, FlowConfig};
//! let config = Config::from_lookup(|name| match name {
//!     "PARDOT_AUTH_FLOW" => Some("jwt".into()),
//!     "SF_CLIENT_ID" => Some("3MVG9...".into()),
//!     "SF_USERNAME" => Some("integration@acme.example".into()),
//!     "SF_PRIVATE_KEY_FILE" => Some("server.key".into()),
//!     "PARDOT_BUSINESS_UNIT_ID" => Some("0Uv5A000000PAuM".into()),
//!     _ => None,
//! })?;
//! assert!(matches!(config.flow, FlowConfig::JwtBearer { .. }));
//! # Ok::<(), pardot_auth::ConfigError>(())
//! ```

mod config;

pub use config::{Config, ConfigError, DEFAULT_REDIRECT_URI, Flow, FlowConfig};
pub use pardot_auth_core as core;

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
