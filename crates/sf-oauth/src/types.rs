//! Newtypes for the values a flow is configured with, so a consumer key cannot be passed where a
//! username is expected, and secrets never reach `Debug`, `Display` or a log.

use std::fmt;
use std::ops::Deref;
use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use sha2::{Digest, Sha256};

use crate::error::OAuthError;

macro_rules! plain_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Wraps the value as given.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }
    };
}

macro_rules! secret_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// `Debug` prints `[redacted]`; there is no `Display`. Read it with
        /// [`secret`](Self::secret), only to put it on the wire.
        pub struct $name(SecretString);

        impl $name {
            /// Wraps the secret.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret.
            pub fn secret(&self) -> &SecretString {
                &self.0
            }

            /// The secret, consuming the wrapper.
            pub fn into_secret(self) -> SecretString {
                self.0
            }
        }

        impl From<SecretString> for $name {
            fn from(value: SecretString) -> Self {
                Self(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

plain_newtype!(
    /// A connected app's consumer key (`client_id`), or an MCI service account id.
    ClientId
);
plain_newtype!(
    /// A Salesforce username (`user@example.com`), the `sub` of a JWT bearer assertion.
    Username
);

secret_newtype!(
    /// A connected app's consumer secret (`client_secret`).
    ClientSecret
);
secret_newtype!(
    /// A Salesforce password, optionally followed by the user's security token.
    Password
);
secret_newtype!(
    /// A refresh token.
    RefreshToken
);
secret_newtype!(
    /// An authorization code from the web server flow's redirect (single use).
    AuthorizationCode
);

impl Clone for ClientSecret {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Clone for RefreshToken {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Random bytes as base64url without padding: 32 bytes give 43 characters, which is what
/// RFC 7636 asks of a PKCE verifier and plenty for `state`.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `state` of an authorization request, to be compared with the one the redirect carries
/// (CSRF protection; the server only echoes it back).
#[derive(Clone)]
pub struct CsrfState(SecretString);

impl CsrfState {
    /// A fresh random state (43 base64url characters).
    pub fn new_random() -> Self {
        Self(random_token().into())
    }

    /// A state of your choosing (e.g. one that also encodes where to return to).
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    /// Constant-time comparison with what the redirect carried.
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.expose_secret().as_bytes(), received.as_bytes())
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState([redacted])")
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The PKCE code verifier (RFC 7636): kept by the client, sent with the code exchange.
///
/// Not `Clone`: a verifier belongs to exactly one authorization request.
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A fresh random verifier (43 characters of base64url, from 32 random bytes).
    pub fn new_random() -> Self {
        Self(random_token().into())
    }

    /// A verifier you already have (43 to 128 characters of `[A-Za-z0-9-._~]`).
    pub fn new(value: impl Into<String>) -> Result<Self, OAuthError> {
        let value = value.into();
        let valid = (43..=128).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !valid {
            return Err(OAuthError::Config(
                "a PKCE code verifier has 43 to 128 characters of A-Z a-z 0-9 - . _ ~".into(),
            ));
        }
        Ok(Self(value.into()))
    }

    /// The S256 challenge: base64url(SHA-256(verifier)), no padding.
    pub fn challenge(&self) -> String {
        let digest = Sha256::digest(self.0.expose_secret().as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// The verifier.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// A redirect URI (callback URL) registered on the connected app: `https`, or `http` on
/// `localhost` / a loopback address. Keeps the text exactly as given, because Salesforce
/// compares redirect URIs as strings.
#[derive(Clone, PartialEq, Eq)]
pub struct RedirectUrl {
    url: Url,
    text: String,
}

impl RedirectUrl {
    /// Parses and checks a redirect URI.
    pub fn new(text: impl Into<String>) -> Result<Self, OAuthError> {
        let text = text.into();
        let url = Url::parse(&text)
            .map_err(|e| OAuthError::Config(format!("redirect URI `{text}` is invalid: {e}")))?;
        pardot_auth_core::ensure_secure(&url)
            .map_err(|e| OAuthError::Config(format!("redirect URI: {e}")))?;
        if url.fragment().is_some() {
            return Err(OAuthError::Config(format!(
                "redirect URI `{text}` must not have a fragment"
            )));
        }
        Ok(Self { url, text })
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The text exactly as given (what is sent as `redirect_uri`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for `http://localhost…`, `http://127.0.0.1…` and `http://[::1]…`.
    pub fn is_loopback(&self) -> bool {
        pardot_auth_core::is_loopback(&self.url)
    }
}

impl fmt::Debug for RedirectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUrl({})", self.text)
    }
}

impl fmt::Display for RedirectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The largest private key file [`PrivateKey::from_pem_file`] reads (64 KiB; an RSA 4096 PEM
/// is about 3.3 KiB).
pub const MAX_PEM_FILE_BYTES: u64 = 64 * 1024;

/// An RSA private key for RS256 signing (JWT bearer assertions, MCI client assertions).
///
/// Loads PKCS#8 (`BEGIN PRIVATE KEY`) and PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM. `Debug` shows
/// nothing of the key.
#[derive(Clone)]
pub struct PrivateKey(EncodingKey);

impl PrivateKey {
    /// From PEM text or bytes.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, OAuthError> {
        EncodingKey::from_rsa_pem(pem.as_ref())
            .map(Self)
            .map_err(|e| OAuthError::Key(format!("not an RSA private key in PEM form: {e}")))
    }

    /// From a PEM file (at most [`MAX_PEM_FILE_BYTES`]: a path to something else, such as a
    /// device or a log, is refused rather than read whole).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, OAuthError> {
        use std::io::Read;
        let path = path.as_ref();
        let cannot_read = |e: std::io::Error| {
            OAuthError::Key(format!("cannot read private key {}: {e}", path.display()))
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PEM_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(cannot_read)?;
        if bytes.len() as u64 > MAX_PEM_FILE_BYTES {
            return Err(OAuthError::Key(format!(
                "{} is larger than {MAX_PEM_FILE_BYTES} bytes: not a PEM private key",
                path.display()
            )));
        }
        Self::from_pem(&bytes).map_err(|e| match e {
            OAuthError::Key(m) => OAuthError::Key(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Signs `claims` as a JWT (RS256, header `{"alg":"RS256","typ":"JWT"}`).
    pub(crate) fn sign_rs256(
        &self,
        claims: &impl serde::Serialize,
    ) -> Result<SecretString, OAuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &self.0)
            .map(SecretString::from)
            .map_err(OAuthError::Sign)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_example() {
        // RFC 7636 appendix B.
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(v.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(PkceVerifier::new("short").is_err());
        let r = PkceVerifier::new_random();
        assert_eq!(r.secret().expose_secret().len(), 43);
    }

    #[test]
    fn random_states_differ_and_compare() {
        let a = CsrfState::new_random();
        let b = CsrfState::new_random();
        assert!(!a.matches(b.secret().expose_secret()));
        assert!(a.matches(a.secret().expose_secret()));
        assert!(!a.matches(""));
    }

    #[test]
    fn debug_redacts_every_secret() {
        let text = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            ClientSecret::new("S3CRET-client"),
            Password::new("S3CRET-pw"),
            RefreshToken::new("S3CRET-refresh"),
            AuthorizationCode::new("S3CRET-code"),
            CsrfState::new("S3CRET-state"),
            PkceVerifier::new("S3CRET-verifier-abcdefghijklmnopqrstuvwxyz0123456789").unwrap(),
            PrivateKey::from_pem_file(format!(
                "{}/connected-app.key",
                pardot_mock::fixtures::KEYS_DIR
            ))
            .unwrap(),
        );
        assert!(!text.contains("S3CRET"), "{text}");
        assert!(!text.contains("BEGIN"), "{text}");
        assert_eq!(text.matches("[redacted]").count(), 7);
    }

    #[test]
    fn redirect_urls_must_be_https_or_loopback() {
        assert!(
            RedirectUrl::new("http://localhost:7777/callback")
                .unwrap()
                .is_loopback()
        );
        assert!(RedirectUrl::new("http://[::1]:0/cb").unwrap().is_loopback());
        assert!(
            !RedirectUrl::new("https://app.example.com/cb")
                .unwrap()
                .is_loopback()
        );
        assert!(RedirectUrl::new("http://app.example.com/cb").is_err());
        assert!(RedirectUrl::new("http://localhost/cb#frag").is_err());
        assert_eq!(
            RedirectUrl::new("http://localhost:7777/callback")
                .unwrap()
                .as_str(),
            "http://localhost:7777/callback"
        );
    }

    #[test]
    fn keys_load_in_both_pem_forms() {
        let dir = format!("{}/", pardot_mock::fixtures::KEYS_DIR);
        for f in [
            "connected-app.key",
            "connected-app.pkcs1.key",
            "mci-service-account.key",
        ] {
            PrivateKey::from_pem_file(format!("{dir}{f}")).unwrap();
        }
        assert!(PrivateKey::from_pem("not a key").is_err());
        let e = PrivateKey::from_pem_file(format!("{dir}missing.key")).unwrap_err();
        assert!(e.to_string().contains("missing.key"));
    }
}
