//! [`LegacyCredentials`]: what the legacy login needs, with the secrets kept in `secrecy`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::LegacyError;

/// A Pardot user key: 32 hexadecimal characters, valid forever, sent with every legacy call.
///
/// Found in Pardot under *{your email address} > Settings*, row *API User Key*.
#[derive(Clone)]
pub struct UserKey(SecretString);

impl UserKey {
    /// Checks and wraps a user key. Surrounding whitespace (a pasted newline) is dropped; the
    /// rest must be exactly 32 hexadecimal characters. The error never repeats the key.
    ///
    /// ```
    /// use pardot_legacy::UserKey;
    /// assert!(UserKey::new("c0ffee0123456789c0ffee0123456789\n").is_ok());
    /// let err = UserKey::new("c0ffee").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid legacy credentials: user_key must be 32 hexadecimal characters, got 6 characters");
    /// ```
    pub fn new(key: impl AsRef<str>) -> Result<Self, LegacyError> {
        let key = key.as_ref().trim();
        let count = key.chars().count();
        if count != 32 {
            return Err(LegacyError::InvalidCredentials(format!(
                "user_key must be 32 hexadecimal characters, got {count} characters"
            )));
        }
        if let Some(position) = key.chars().position(|c| !c.is_ascii_hexdigit()) {
            return Err(LegacyError::InvalidCredentials(format!(
                "user_key must be 32 hexadecimal characters, character {} is not 0-9 or a-f",
                position + 1
            )));
        }
        Ok(Self(SecretString::from(key.to_owned())))
    }

    /// The key. Call only to put it on the wire.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserKey([redacted])")
    }
}

/// The email, password and user key of a Pardot-only user.
///
/// `Debug` shows the email and hides the password and user key.
///
/// ```
/// use pardot_legacy::LegacyCredentials;
/// let creds = LegacyCredentials::new("api@example.com", "hunter2", "c0ffee0123456789c0ffee0123456789")?;
/// assert_eq!(creds.email(), "api@example.com");
/// assert!(!format!("{creds:?}").contains("hunter2"));
/// # Ok::<(), pardot_legacy::LegacyError>(())
/// ```
#[derive(Clone)]
pub struct LegacyCredentials {
    email: String,
    password: SecretString,
    user_key: UserKey,
}

impl LegacyCredentials {
    /// Checks and builds credentials: the email must look like one (`x@y`), the password must
    /// not be empty, and the user key must be 32 hexadecimal characters.
    pub fn new(
        email: impl Into<String>,
        password: impl Into<SecretString>,
        user_key: impl AsRef<str>,
    ) -> Result<Self, LegacyError> {
        let email = email.into().trim().to_owned();
        let valid_email = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
            && !email.chars().any(char::is_whitespace);
        if !valid_email {
            return Err(LegacyError::InvalidCredentials(
                "email must be the Pardot user's email address (name@domain)".into(),
            ));
        }
        let password = password.into();
        if password.expose_secret().is_empty() {
            return Err(LegacyError::InvalidCredentials(
                "password must not be empty".into(),
            ));
        }
        Ok(Self {
            email,
            password,
            user_key: UserKey::new(user_key)?,
        })
    }

    /// The user's email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The password. Call only to put it on the wire.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The user key.
    pub fn user_key(&self) -> &UserKey {
        &self.user_key
    }
}

pardot_auth_core::debug_shows!(
    LegacyCredentials as this,
    complete {
        email: this.email,
        password: "[redacted]",
        user_key: this.user_key,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c0ffee0123456789C0FFEE0123456789";

    #[test]
    fn debug_hides_password_and_user_key() {
        let creds = LegacyCredentials::new("a@b.example", "s3cr3t-pw", KEY).unwrap();
        let text = format!("{creds:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.to_lowercase().contains("c0ffee"), "{text}");
        assert!(text.contains("a@b.example"));
        assert!(!format!("{:?}", creds.user_key()).contains("c0ffee"));
    }

    #[test]
    fn user_key_rules() {
        assert!(UserKey::new(KEY).is_ok());
        assert!(UserKey::new(format!(" {KEY}\r\n")).is_ok());
        let long = UserKey::new(format!("{KEY}0")).unwrap_err().to_string();
        assert!(long.contains("got 33 characters"), "{long}");
        let bad = UserKey::new("g0ffee0123456789c0ffee0123456789")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("character 1 is not"), "{bad}");
        assert!(
            !bad.contains("0ffee"),
            "the error must not echo the key: {bad}"
        );
        // Multi-byte characters count as characters, not bytes.
        assert!(
            UserKey::new("é".repeat(32))
                .unwrap_err()
                .to_string()
                .contains("character 1")
        );
    }

    #[test]
    fn email_and_password_are_checked() {
        for email in ["", "nobody", "@x", "a@", "a b@c"] {
            assert!(LegacyCredentials::new(email, "pw", KEY).is_err(), "{email}");
        }
        let e = LegacyCredentials::new("a@b", "", KEY).unwrap_err();
        assert!(e.to_string().contains("password"));
    }
}
