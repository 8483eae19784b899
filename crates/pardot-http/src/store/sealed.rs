//! [`EncryptionKey`]: AES-256-GCM (aws-lc) for token records at rest.

use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest;
use base64::Engine as _;

use super::StoreError;

/// The key the file and Redis stores seal token records with (AES-256-GCM, a random 96-bit
/// nonce per write, the store key's name as associated data, so a record copied to another
/// name does not open).
///
/// 32 bytes, given as 64 hex digits or as base64 (standard or URL-safe, padded or not). The
/// key's *id* (a byte, default 1) is written beside each sealed record so a rotated key is
/// told apart from a wrong one. Neither `Debug` nor any error shows the key.
#[derive(Clone)]
pub struct EncryptionKey {
    key: Arc<RandomizedNonceKey>,
    id: u8,
    check: String,
}

pardot_auth_core::debug_shows!(EncryptionKey as this {
    id: this.id,
});

impl EncryptionKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        if bytes.len() != 32 {
            return Err(StoreError::InvalidEncryptionKey(format!(
                "{} bytes, need 32",
                bytes.len()
            )));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| StoreError::InvalidEncryptionKey("rejected by AES-256-GCM".to_owned()))?;
        // A short, one-way check value (like a key check value), stored beside sealed records
        // so a writer with another key is refused without trying to decrypt.
        let mut input = b"pardot-http store key check\0".to_vec();
        input.extend_from_slice(bytes);
        let hash = digest::digest(&digest::SHA256, &input);
        let check = hash.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            key: Arc::new(key),
            id: 1,
            check,
        })
    }

    /// A key from its text: 64 hex digits, or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..32)
                .filter_map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect();
            return Self::from_bytes(&bytes);
        }
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        match engines.iter().find_map(|e| e.decode(text).ok()) {
            Some(bytes) => Self::from_bytes(&bytes),
            None => Err(StoreError::InvalidEncryptionKey(
                "neither 64 hex digits nor base64".to_owned(),
            )),
        }
    }

    /// The same key with another id (0–255), for telling keys apart across a rotation.
    pub fn with_id(mut self, id: u8) -> Self {
        self.id = id;
        self
    }

    /// The key's id.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The key's check value: 16 hex digits derived one-way from the key.
    pub(crate) fn check(&self) -> &str {
        &self.check
    }

    /// `nonce || ciphertext || tag` of `plaintext`, bound to `name`.
    pub(crate) fn seal(&self, name: &str, mut plaintext: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(name.as_bytes()), &mut plaintext)
            .map_err(|_| StoreError::InvalidEncryptionKey("sealing failed".to_owned()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len());
        out.extend_from_slice(nonce.as_ref());
        out.append(&mut plaintext);
        Ok(out)
    }

    /// The plaintext of `sealed` (as made by [`seal`](Self::seal) with the same name), or
    /// `None` when it does not open with this key.
    pub(crate) fn open(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn hex_and_base64_give_the_same_key() {
        let raw: Vec<u8> = (0u8..32).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        let a = EncryptionKey::parse(HEX).unwrap();
        let b = EncryptionKey::parse(&b64).unwrap();
        assert_eq!(a.check(), b.check());
        let sealed = a.seal("default", b"record".to_vec()).unwrap();
        assert_eq!(b.open("default", &sealed).unwrap(), b"record");
        // Bound to the name: the same bytes under another name do not open.
        assert!(b.open("other", &sealed).is_none());
        // A fresh nonce per seal.
        assert_ne!(sealed, a.seal("default", b"record".to_vec()).unwrap());
    }

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        for bad in ["c2hvcnQ=", &HEX[..62], "not a key at all!"] {
            let err = EncryptionKey::parse(bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidEncryptionKey(_)));
            assert!(!err.to_string().contains(bad), "{err}");
        }
        let dbg = format!("{:?}", EncryptionKey::parse(HEX).unwrap());
        assert!(!dbg.contains("0001") && !dbg.contains(HEX), "{dbg}");
    }
}
