//! The stored form of a record, shared by the file and Redis stores: one JSON document,
//! either the record in clear (`format` 1) or sealed with an [`EncryptionKey`] (`format` 2).
//! Both carry the record's revision outside any seal, so a reader can tell a change without
//! the key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use pardot_auth_core::{AccessToken, Expiry, Scopes, TokenKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{EncryptionKey, StoreError, StoredToken};

const CLEAR: u32 = 1;
const SEALED: u32 = 2;

/// A decoded record.
pub(crate) struct Decoded {
    pub(crate) record: StoredToken,
    pub(crate) revision: u64,
    /// It was stored in clear (so, with a key configured, it should be rewritten sealed).
    pub(crate) was_clear: bool,
}

/// What is readable without the key.
#[derive(Deserialize)]
struct Head {
    format: u32,
    #[serde(default)]
    revision: u64,
}

#[derive(Serialize, Deserialize)]
struct SealedRecord {
    format: u32,
    revision: u64,
    key_id: u8,
    key_check: String,
    sealed: String,
}

fn corrupt(place: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        path: place.to_owned(),
        reason: reason.to_string(),
    }
}

/// The stored bytes of `record` at `revision` under the store key `name`: sealed with `key`
/// when there is one, else in clear.
pub(crate) fn encode(
    record: &StoredToken,
    revision: u64,
    key: Option<&EncryptionKey>,
    name: &str,
) -> Result<Vec<u8>, StoreError> {
    let clear = ClearRecord::from_stored(record, revision);
    match key {
        None => serde_json::to_vec_pretty(&clear).map_err(|e| corrupt(name, e)),
        Some(key) => {
            let plain = serde_json::to_vec(&clear).map_err(|e| corrupt(name, e))?;
            let sealed = SealedRecord {
                format: SEALED,
                revision,
                key_id: key.id(),
                key_check: key.check().to_owned(),
                sealed: base64::engine::general_purpose::STANDARD.encode(key.seal(name, plain)?),
            };
            serde_json::to_vec_pretty(&sealed).map_err(|e| corrupt(name, e))
        }
    }
}

/// The revision of stored bytes (readable without the key).
pub(crate) fn revision_of(bytes: &[u8], place: &str) -> Result<u64, StoreError> {
    let head: Head = serde_json::from_slice(bytes).map_err(|e| corrupt(place, e))?;
    Ok(head.revision)
}

/// Decodes stored bytes of the store key `name` (`place` names the file or Redis key in
/// errors). A sealed record that `key` does not open (or with no key) is
/// [`StoreError::Undecryptable`].
pub(crate) fn decode(
    bytes: &[u8],
    key: Option<&EncryptionKey>,
    name: &str,
    place: &str,
) -> Result<Decoded, StoreError> {
    let head: Head = serde_json::from_slice(bytes).map_err(|e| corrupt(place, e))?;
    let (clear, was_clear) = match head.format {
        CLEAR => (
            serde_json::from_slice::<ClearRecord>(bytes).map_err(|e| corrupt(place, e))?,
            true,
        ),
        SEALED => {
            let sealed: SealedRecord =
                serde_json::from_slice(bytes).map_err(|e| corrupt(place, e))?;
            let undecryptable = |reason: String| StoreError::Undecryptable {
                key: name.to_owned(),
                reason,
            };
            let Some(key) = key else {
                return Err(undecryptable(
                    "the record is encrypted and no encryption key is configured".to_owned(),
                ));
            };
            if sealed.key_id != key.id() || sealed.key_check != key.check() {
                return Err(undecryptable(format!(
                    "sealed with key id {} and another key than the configured one (id {})",
                    sealed.key_id,
                    key.id()
                )));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&sealed.sealed)
                .map_err(|e| corrupt(place, e))?;
            let plain = key.open(name, &bytes).ok_or_else(|| {
                undecryptable(
                    "authentication failed (altered, or sealed under another name)".into(),
                )
            })?;
            (
                serde_json::from_slice::<ClearRecord>(&plain).map_err(|e| corrupt(place, e))?,
                false,
            )
        }
        other => return Err(corrupt(place, format!("unknown record format {other}"))),
    };
    let revision = head.revision;
    let record = clear
        .into_stored()
        .map_err(|reason| corrupt(place, reason))?;
    Ok(Decoded {
        record,
        revision,
        was_clear,
    })
}

#[derive(Serialize, Deserialize)]
struct ClearRecord {
    format: u32,
    #[serde(default)]
    revision: u64,
    #[serde(default)]
    access: Option<StoredAccess>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredAccess {
    kind: String,
    secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_key: Option<String>,
    issued_at_ms: u64,
    expires_at_ms: u64,
    expiry_known: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<String>,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl ClearRecord {
    fn from_stored(s: &StoredToken, revision: u64) -> Self {
        Self {
            format: CLEAR,
            revision,
            access: s.access.as_ref().map(|t| {
                let (kind, user_key) = match t.kind() {
                    TokenKind::LegacyApiKey { user_key } => {
                        ("legacy_api_key", Some(user_key.expose_secret().to_owned()))
                    }
                    TokenKind::MciBearer => ("mci_bearer", None),
                    _ => ("salesforce_bearer", None),
                };
                StoredAccess {
                    kind: kind.to_owned(),
                    secret: t.secret().expose_secret().to_owned(),
                    user_key,
                    issued_at_ms: millis(t.issued_at()),
                    expires_at_ms: millis(t.expires_at()),
                    expiry_known: matches!(t.expiry(), Expiry::Known(_)),
                    instance_url: t.instance_url().map(|u| u.to_string()),
                    identity_url: t.identity_url().map(str::to_owned),
                    scopes: t.scopes().map(ToString::to_string),
                }
            }),
            refresh_token: s
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_owned()),
        }
    }

    fn into_stored(self) -> Result<StoredToken, String> {
        if self.format != CLEAR {
            return Err(format!("unknown record format {}", self.format));
        }
        let access = match self.access {
            None => None,
            Some(a) => {
                let kind = match (a.kind.as_str(), a.user_key) {
                    ("salesforce_bearer", _) => TokenKind::SalesforceBearer,
                    ("mci_bearer", _) => TokenKind::MciBearer,
                    ("legacy_api_key", Some(uk)) => TokenKind::LegacyApiKey {
                        user_key: SecretString::from(uk),
                    },
                    (other, _) => return Err(format!("unknown token kind `{other}`")),
                };
                let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
                let expiry = if a.expiry_known {
                    Expiry::Known(at(a.expires_at_ms))
                } else {
                    Expiry::Estimated(at(a.expires_at_ms))
                };
                let mut token = AccessToken::new(
                    kind,
                    SecretString::from(a.secret),
                    at(a.issued_at_ms),
                    expiry,
                );
                if let Some(url) = a.instance_url {
                    let url = url::Url::parse(&url).map_err(|e| format!("instance_url: {e}"))?;
                    token = token.with_instance_url(url);
                }
                if let Some(id) = a.identity_url {
                    token = token.with_identity_url(id);
                }
                if let Some(scopes) = a.scopes {
                    token = token.with_scopes(Scopes::parse(&scopes));
                }
                Some(token)
            }
        };
        Ok(StoredToken {
            access,
            refresh_token: self.refresh_token.map(SecretString::from),
        })
    }
}
