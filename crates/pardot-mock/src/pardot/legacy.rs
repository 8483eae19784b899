//! The legacy Pardot-only login: users with email, password and user key, the api_keys the
//! login hands out (32 lowercase hex characters, valid 60 minutes on the mock's clock), and
//! the account lock after too many failed logins (code 131).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use pardot_auth_core::LEGACY_API_KEY_LIFETIME;
use pardot_auth_core::secrecy::{ExposeSecret, SecretString};

use super::errors::ApiError;

/// Failed logins in a row after which a legacy user's account is locked (code 131).
pub const DEFAULT_LOCK_AFTER_FAILED_LOGINS: u32 = 5;

/// One legacy user.
pub struct LegacyUser {
    /// Login email.
    pub email: String,
    password: SecretString,
    user_key: SecretString,
    /// The API version the account is set to (3 or 4).
    pub api_version: u8,
    /// Index of the user's business unit in the API's unit list.
    pub unit: usize,
    failed_logins: AtomicU32,
}

pardot_auth_core::debug_shows!(LegacyUser as this {
    email: this.email,
    api_version: this.api_version,
    unit: this.unit,
    failed_logins: this.failed_logins.load(Ordering::Relaxed),
});

impl LegacyUser {
    /// A user with no failed logins.
    pub fn new(email: &str, password: &str, user_key: &str, api_version: u8, unit: usize) -> Self {
        Self {
            email: email.to_owned(),
            password: SecretString::from(password.to_owned()),
            user_key: SecretString::from(user_key.to_owned()),
            api_version,
            unit,
            failed_logins: AtomicU32::new(0),
        }
    }
}

struct IssuedKey {
    user: usize,
    expires: SystemTime,
}

/// Who an api_key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacySession {
    /// Index of the user.
    pub user: usize,
}

/// A successful login (`Debug` shows the key redacted).
#[derive(Debug)]
pub struct LoginOk {
    /// The api_key (current one if still valid, else a new one).
    pub api_key: SecretString,
    /// The account's API version.
    pub api_version: u8,
}

/// Legacy users and their api_keys.
pub struct LegacyAuth {
    users: Vec<LegacyUser>,
    lock_after: u32,
    lifetime: Duration,
    /// api_key -> owner and expiry; one live key per user (a login while the key is valid
    /// returns it again, as the docs say).
    keys: RwLock<HashMap<String, IssuedKey>>,
}

pardot_auth_core::debug_shows!(LegacyAuth as this {
    users: this.users,
    lock_after: this.lock_after,
});

impl LegacyAuth {
    /// Legacy auth for `users`.
    pub fn new(users: Vec<LegacyUser>) -> Self {
        Self {
            users,
            lock_after: DEFAULT_LOCK_AFTER_FAILED_LOGINS,
            lifetime: LEGACY_API_KEY_LIFETIME,
            keys: RwLock::new(HashMap::new()),
        }
    }

    /// The user at `index`.
    pub fn user(&self, index: usize) -> Option<&LegacyUser> {
        self.users.get(index)
    }

    /// The POST `login` exchange: code 15 for a wrong email, password or user key, code 131
    /// once the account has seen too many failed logins in a row.
    pub fn login(
        &self,
        email: &str,
        password: &str,
        user_key: &str,
        now: SystemTime,
    ) -> Result<LoginOk, ApiError> {
        let Some((index, user)) = self
            .users
            .iter()
            .enumerate()
            .find(|(_, u)| u.email.eq_ignore_ascii_case(email))
        else {
            return Err(ApiError::code(15));
        };
        if user.failed_logins.load(Ordering::Acquire) >= self.lock_after {
            return Err(ApiError::code(131));
        }
        if user.password.expose_secret() != password || user.user_key.expose_secret() != user_key {
            let failed = user.failed_logins.fetch_add(1, Ordering::AcqRel) + 1;
            return Err(ApiError::code(if failed > self.lock_after {
                131
            } else {
                15
            }));
        }
        user.failed_logins.store(0, Ordering::Release);
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.retain(|_, k| k.expires > now);
        let current = keys
            .iter()
            .find(|(_, k)| k.user == index)
            .map(|(key, _)| key.clone());
        let api_key = current.unwrap_or_else(|| {
            // 32 lowercase hex characters, like a real api_key.
            let key = uuid::Uuid::new_v4().simple().to_string();
            keys.insert(
                key.clone(),
                IssuedKey {
                    user: index,
                    expires: now + self.lifetime,
                },
            );
            key
        });
        Ok(LoginOk {
            api_key: SecretString::from(api_key),
            api_version: user.api_version,
        })
    }

    /// Checks an api_key / user_key pair: code 1 when the key is unknown, expired, or was not
    /// issued to the user the user key belongs to.
    pub fn authenticate(
        &self,
        api_key: &str,
        user_key: &str,
        now: SystemTime,
    ) -> Result<LegacySession, ApiError> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let issued = keys.get(api_key).ok_or_else(|| ApiError::code(1))?;
        if issued.expires <= now {
            return Err(ApiError::code(1));
        }
        let user = self
            .users
            .get(issued.user)
            .ok_or_else(|| ApiError::code(1))?;
        if user.user_key.expose_secret() != user_key {
            return Err(ApiError::code(1));
        }
        Ok(LegacySession { user: issued.user })
    }

    /// Ends every api_key now (the mock's "expire all tokens" control).
    pub fn expire_all(&self) {
        self.keys.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Clears failed-login counts and api_keys (the mock's reset).
    pub fn reset(&self) {
        self.expire_all();
        for user in &self.users {
            user.failed_logins.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c0ffeec0ffeec0ffeec0ffeec0ffee00";

    fn auth() -> LegacyAuth {
        LegacyAuth::new(vec![LegacyUser::new("a@example.com", "pw", KEY, 4, 0)])
    }

    #[test]
    fn login_keys_expire_after_an_hour() {
        let auth = auth();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ok = auth.login("A@example.com", "pw", KEY, now).unwrap();
        let key = ok.api_key.expose_secret().to_owned();
        assert_eq!(key.len(), 32);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(ok.api_version, 4);
        let again = auth
            .login("a@example.com", "pw", KEY, now + Duration::from_secs(60))
            .unwrap();
        assert_eq!(again.api_key.expose_secret(), key);
        assert!(
            auth.authenticate(&key, KEY, now + Duration::from_secs(3599))
                .is_ok()
        );
        assert_eq!(auth.authenticate(&key, "other", now).unwrap_err().code, 1);
        assert_eq!(
            auth.authenticate(&key, KEY, now + Duration::from_secs(3600))
                .unwrap_err()
                .code,
            1
        );
        let fresh = auth
            .login("a@example.com", "pw", KEY, now + Duration::from_secs(3600))
            .unwrap();
        assert_ne!(fresh.api_key.expose_secret(), key);
    }

    #[test]
    fn too_many_failures_lock_the_account() {
        let auth = auth();
        let now = SystemTime::UNIX_EPOCH;
        for _ in 0..DEFAULT_LOCK_AFTER_FAILED_LOGINS {
            assert_eq!(
                auth.login("a@example.com", "bad", KEY, now)
                    .unwrap_err()
                    .code,
                15
            );
        }
        assert_eq!(
            auth.login("a@example.com", "pw", KEY, now)
                .unwrap_err()
                .code,
            131
        );
        assert_eq!(
            auth.login("nobody@example.com", "pw", KEY, now)
                .unwrap_err()
                .code,
            15
        );
        auth.reset();
        assert!(auth.login("a@example.com", "pw", KEY, now).is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!("{:?}", auth());
        assert!(!text.contains(KEY) && !text.contains("\"pw\""), "{text}");
    }
}
