//! The RSA public keys the mock checks RS256 signatures with (a connected app's certificate,
//! an MCI service account's key), parsed once when the model is built.

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use jsonwebtoken::DecodingKey;

/// An RSA public key (of a connected app's certificate, of an MCI service account), parsed once
/// when the model is built: parsing the DER on every verification was a fifth of a JWT grant's
/// CPU time.
#[derive(Clone)]
pub(crate) struct Rs256Key(ParsedPublicKey);

impl Rs256Key {
    /// The key of an RSA certificate or public key PEM; the parser's error otherwise.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let der = key.try_get_as_bytes().map_err(|e| e.to_string())?;
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// Whether `signature` is this key's RS256 (PKCS#1 v1.5, SHA-256) signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify_sig(message, signature).is_ok()
    }
}
