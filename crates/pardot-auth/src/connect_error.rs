//! [`ConnectError`]: why a [`Connector`](crate::Connector) could not give a client. Below the
//! connector and the store and governor it opens (`fleet.rs`), which both fail with it.

use std::path::PathBuf;

use pardot_auth_core::Error;
use pardot_http::PardotError;
use pardot_http::store::StoreError;

use crate::config::{ConfigError, Flow};

/// Why [`connect`](crate::connect) (or [`connect_mci`](crate::connect_mci)) could not give a client. Never shows a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration is incomplete or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A private key file could not be read or is not a PEM RSA key.
    #[error("cannot use the private key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A flow that needs a person (web, device) has no way to reach one and no stored
    /// refresh token to fall back on.
    #[error(
        "the {flow} flow needs a person to sign in and the token store has no usable refresh \
         token: run `pardot-auth login {flow}` once (it keeps a refresh token in its token \
         store) and connect with the same store (PARDOT_AUTH_STORE=file and the same \
         PARDOT_AUTH_STORE_DIR, or PARDOT_AUTH_STORE=redis), or set PARDOT_AUTH_FLOW=refresh \
         with SF_REFRESH_TOKEN, or let connect ask the person with \
         `Connector::on_authorize_url` / `Connector::on_device_code`"
    )]
    NeedsLogin {
        /// The interactive flow.
        flow: Flow,
    },
    /// The flow's tokens cannot do what was asked (an MCI token cannot call Pardot, a Pardot
    /// flow cannot give an MCI client).
    #[error("{0}")]
    WrongFlow(&'static str),
    /// No business unit was configured for a Salesforce flow.
    #[error(
        "PARDOT_BUSINESS_UNIT_ID is required for the {flow} flow (the 18-character id starting \
         with 0Uv, from Setup > Account Engagement > Business Unit Setup)"
    )]
    NoBusinessUnit {
        /// The flow.
        flow: Flow,
    },
    /// The first token could not be had (bad credentials, app not approved, server down…).
    #[error("{0}")]
    Token(#[source] Error),
    /// The client could not be built.
    #[error(transparent)]
    Client(#[from] PardotError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConnectError {
    /// The core error behind a failed first fetch, to read its class, code and hint.
    pub fn token_error(&self) -> Option<&Error> {
        match self {
            Self::Token(e) => Some(e),
            _ => None,
        }
    }
}
