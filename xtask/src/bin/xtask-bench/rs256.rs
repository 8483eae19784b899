//! One RS256 verification done the mock's way (aws-lc-rs, the key parsed once, the signature
//! base64-decoded per assertion): what the RS256 row times, and what the JWT budget's control
//! server adds to every password grant.

use anyhow::{Context, Result};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pardot_mock::fixtures;

/// The connected app's public key, parsed once, as the mock holds it.
pub fn connected_app_key() -> Result<ParsedPublicKey> {
    let pem = jsonwebtoken::DecodingKey::from_rsa_pem(fixtures::CONNECTED_APP_CERT_PEM.as_bytes())?;
    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pem.try_get_as_bytes()?)
        .map_err(|e| anyhow::anyhow!("the connected app's key: {e}"))
}

/// The assertion of a JWT bearer grant's form `body`.
pub fn assertion_of(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "assertion")
        .map(|(_, v)| v.into_owned())
}

/// Whether `jwt`'s RS256 signature verifies with `key`.
pub fn verifies(key: &ParsedPublicKey, jwt: &str) -> Result<bool> {
    let (message, signature) = jwt.rsplit_once('.').context("a JWT")?;
    let signature = URL_SAFE_NO_PAD.decode(signature)?;
    Ok(key.verify_sig(message.as_bytes(), &signature).is_ok())
}

/// One assertion and the key it verifies with: the control server's extra work per request.
pub struct SignatureCheck {
    key: ParsedPublicKey,
    jwt: String,
}

impl SignatureCheck {
    /// An assertion of the connected app signed now, checked once.
    pub fn new() -> Result<Self> {
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(fixtures::CONNECTED_APP_KEY_PEM.as_bytes())?;
        let claims = serde_json::json!({
            "iss": fixtures::JWT_CONSUMER_KEY,
            "sub": fixtures::INTEGRATION_USERNAME,
            "aud": "https://login.salesforce.com",
        });
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        let jwt = jsonwebtoken::encode(&header, &claims, &key)?;
        let check = Self {
            key: connected_app_key()?,
            jwt,
        };
        anyhow::ensure!(check.verify()?, "the control's assertion does not verify");
        Ok(check)
    }

    /// The same assertion with its signature's first character changed: it never verifies.
    #[cfg(test)]
    pub fn tampered() -> Result<Self> {
        let mut check = Self::new()?;
        let (message, signature) = check.jwt.rsplit_once('.').context("a JWT")?;
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        check.jwt = format!("{message}.{first}{}", &signature[1..]);
        Ok(check)
    }

    /// Verifies the assertion's signature once more.
    pub fn verify(&self) -> Result<bool> {
        verifies(&self.key, &self.jwt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_assertion_verifies_and_a_tampered_one_does_not() -> Result<()> {
        assert!(SignatureCheck::new()?.verify()?);
        assert!(!SignatureCheck::tampered()?.verify()?);
        assert!(verifies(&connected_app_key()?, "no dots").is_err());
        Ok(())
    }
}
