//! The `signature` field of a token answer: an app's consumer secret made into an HMAC-SHA256
//! key once, with the model (below the OAuth handlers that sign with it, like `rsa_key.rs`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// `base64(HMAC-SHA256(client_secret, id + issued_at))`
/// (`docs/reference/salesforce-oauth.md#the-signature-field`).
pub fn token_signature(client_secret: &str, id: &str, issued_at: &str) -> String {
    SignatureKey::new(client_secret).sign(id, issued_at)
}

/// An app's consumer secret made into an HMAC-SHA256 key once, with the model: a key
/// schedule per token answer was two of the four SHA-256 blocks of its `signature`.
#[derive(Clone)]
pub(crate) struct SignatureKey(Option<Hmac<Sha256>>);

impl SignatureKey {
    pub(crate) fn new(client_secret: &str) -> Self {
        // HMAC takes keys of any length; `None` is unreachable in practice.
        Self(Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()).ok())
    }

    /// [`token_signature`] with this key.
    pub(crate) fn sign(&self, id: &str, issued_at: &str) -> String {
        let Some(mut mac) = self.0.clone() else {
            return String::new();
        };
        mac.update(id.as_bytes());
        mac.update(issued_at.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SignatureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureKey(***)")
    }
}
