//! [`LegacyLogin`]: `POST {host}/api/login/version/{3|4}` with email, password and user_key,
//! giving an api_key that lives 60 minutes.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pardot_auth_core::body::{self, BodyError};
use pardot_auth_core::{
    AccessToken, Expiry, LEGACY_API_KEY_LIFETIME, PardotErrorCode, PardotHost, SharedClock,
    SystemClock, TokenKind, TokenSource, ensure_secure,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use crate::envelope::{self, Format};
use crate::{LegacyCredentials, LegacyError, UserKey};

/// How long a whole login (connect, send, read the answer) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take by default (only for the client this crate builds).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes of a login answer read by default (a real answer is under 300 bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// A Pardot v3/v4 API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiVersion {
    /// Version 3: accounts where one email address is one prospect.
    V3,
    /// Version 4: accounts that allow several prospects with the same email address.
    V4,
}

impl ApiVersion {
    /// 3 or 4.
    pub fn number(self) -> u8 {
        match self {
            Self::V3 => 3,
            Self::V4 => 4,
        }
    }

    /// From 3 or 4.
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            3 => Some(Self::V3),
            4 => Some(Self::V4),
            _ => None,
        }
    }

    /// The path of an API operation for this version:
    /// `ApiVersion::V4.path("prospect", "query")` is `/api/prospect/version/4/do/query`.
    pub fn path(self, object: &str, operation: &str) -> String {
        format!("/api/{object}/version/{}/do/{operation}", self.number())
    }

    /// The login path for this version: `/api/login/version/3`.
    pub fn login_path(self) -> String {
        format!("/api/login/version/{}", self.number())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// A successful legacy login.
#[non_exhaustive]
pub struct LegacySession {
    /// The api_key (32 hex characters), sent as `Authorization: Pardot api_key=…, user_key=…`.
    pub api_key: SecretString,
    /// The API version the account uses (`<version>4</version>` in the answer, else 3): call
    /// `/version/{this}` paths.
    pub api_version: ApiVersion,
    /// When the api_key was first handed out, as far as this client knows (the clock's time
    /// before the first login that returned it; Pardot hands out the current key again until
    /// it expires).
    pub issued_at: SystemTime,
}

impl LegacySession {
    /// When the api_key stops working: 60 minutes after it was issued.
    pub fn expires_at(&self) -> SystemTime {
        self.issued_at + LEGACY_API_KEY_LIFETIME
    }

    /// The api_key as a core [`AccessToken`] of kind [`TokenKind::LegacyApiKey`], expiring 60
    /// minutes after issue; `AuthScheme::PardotApiKey` turns it into the `Authorization`
    /// header.
    pub fn access_token(&self, user_key: &UserKey) -> AccessToken {
        AccessToken::new(
            TokenKind::LegacyApiKey {
                user_key: user_key.secret().clone(),
            },
            self.api_key.clone(),
            self.issued_at,
            Expiry::Known(self.expires_at()),
        )
    }
}

pardot_auth_core::debug_shows!(
    LegacySession as this,
    complete {
        api_key: "[redacted]",
        api_version: this.api_version,
        issued_at: this.issued_at,
    }
);

/// The api_key last handed out, remembered so that getting the same key again keeps its
/// original issue time (and so its real expiry).
struct Remembered {
    api_key: SecretString,
    issued_at: SystemTime,
    api_version: ApiVersion,
}

/// The legacy Pardot login. Also a [`TokenSource`]: each `token()` logs in again (wrap it in
/// the transport's cache to share one api_key).
///
/// **Retired by Salesforce for new integrations**; see `docs/migrating-from-legacy-login.md`.
///
/// ```no_run
/// # async fn run() -> Result<(), pardot_legacy::LegacyError> {
/// use pardot_legacy::{LegacyCredentials, LegacyLogin};
///
/// let credentials = LegacyCredentials::new("api@example.com", "password", "c0ffee0123456789c0ffee0123456789")?;
/// let login = LegacyLogin::builder(credentials).build()?; // pi.pardot.com, version detected
/// let session = login.login().await?;
/// println!("use /api/…/version/{}/…, key valid until {:?}", session.api_version, session.expires_at());
/// # Ok(()) }
/// ```
pub struct LegacyLogin {
    credentials: LegacyCredentials,
    host: PardotHost,
    version: Option<ApiVersion>,
    format: Format,
    client: reqwest::Client,
    timeout: Duration,
    clock: SharedClock,
    max_body_bytes: usize,
    last: Mutex<Option<Remembered>>,
}

pardot_auth_core::debug_shows!(LegacyLogin as this {
    credentials: this.credentials,
    host: this.host,
    version: this.version,
    format: this.format,
    timeout: this.timeout,
    max_body_bytes: this.max_body_bytes,
});

/// Builds a [`LegacyLogin`]; every setting has a default but the credentials.
///
/// Defaults: host `https://pi.pardot.com`; API version detected (log in at `/version/3`,
/// read `<version>`, move to `/version/4` when the server answers code 88); XML answers;
/// a whole-login timeout of 30 s measured on the clock; connect timeout 10 s; answers up to
/// 64 KiB; the system clock; a `reqwest` client that follows no redirects (a redirected POST
/// could carry the password elsewhere).
#[must_use]
pub struct LegacyLoginBuilder {
    credentials: LegacyCredentials,
    host: PardotHost,
    version: Option<ApiVersion>,
    format: Format,
    client: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    clock: Option<SharedClock>,
    max_body_bytes: usize,
}

pardot_auth_core::debug_shows!(LegacyLoginBuilder as this {
    credentials: this.credentials,
    host: this.host,
});

impl LegacyLoginBuilder {
    pardot_auth_core::builder_setters! {
        /// The Pardot host: [`PardotHost::Production`] (default), [`PardotHost::Demo`] for
        /// sandboxes and developer orgs, or a custom URL (the mock).
        pub fn host(host: PardotHost) => host = host;

        /// Logs in at `/api/login/version/{version}` only, instead of detecting the version.
        pub fn api_version(version: ApiVersion) => version = Some(version);

        /// Detects the version (the default): `/version/3` first, `/version/4` after code 88.
        pub fn auto_version() => version = None;

        /// Asks for JSON answers (`format=json`) instead of XML.
        pub fn format(format: Format) => format = format;

        /// Uses this client instead of building one. Its own timeouts and redirect policy apply
        /// besides this builder's timeout; configure it to follow no redirects.
        pub fn http_client(client: reqwest::Client) => client = Some(client);

        /// The deadline for a whole login attempt, measured on the clock (default 30 s).
        pub fn timeout(timeout: Duration) => timeout = timeout;

        /// The connect timeout of the client this crate builds (default 10 s; ignored with
        /// [`LegacyLoginBuilder::http_client`]).
        pub fn connect_timeout(timeout: Duration) => connect_timeout = timeout;

        /// The clock that stamps issue times and measures the timeout (share one `ManualClock`
        /// with the mock in tests).
        pub fn clock(clock: SharedClock) => clock = Some(clock);

        /// The most bytes of an answer to read (default 64 KiB).
        pub fn max_body_bytes(limit: usize) => max_body_bytes = limit;
    }

    /// Checks the host (https, or http to loopback) and builds the login.
    pub fn build(self) -> Result<LegacyLogin, LegacyError> {
        ensure_secure(&self.host.endpoint(&ApiVersion::V3.login_path()))?;
        if self.max_body_bytes == 0 {
            return Err(LegacyError::Config("max_body_bytes must be above 0".into()));
        }
        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("pardot-legacy/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| LegacyError::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(LegacyLogin {
            credentials: self.credentials,
            host: self.host,
            version: self.version,
            format: self.format,
            client,
            timeout: self.timeout,
            clock: self.clock.unwrap_or_else(SystemClock::shared),
            max_body_bytes: self.max_body_bytes,
            last: Mutex::new(None),
        })
    }
}

impl LegacyLogin {
    /// Starts a builder with the defaults listed on [`LegacyLoginBuilder`].
    pub fn builder(credentials: LegacyCredentials) -> LegacyLoginBuilder {
        LegacyLoginBuilder {
            credentials,
            host: PardotHost::Production,
            version: None,
            format: Format::Xml,
            client: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            clock: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &LegacyCredentials {
        &self.credentials
    }

    /// The Pardot host.
    pub fn host(&self) -> &PardotHost {
        &self.host
    }

    /// The API version the account uses, as learned by the last successful login (or as
    /// configured before any).
    pub fn api_version(&self) -> Option<ApiVersion> {
        self.remembered()
            .as_ref()
            .map(|r| r.api_version)
            .or(self.version)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Option<Remembered>> {
        // Every update is one assignment, so a poisoned lock still holds a consistent value.
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs in and returns the api_key with the account's API version.
    ///
    /// With the version detected, a code 88 answer at `/version/3` ("must use version 4")
    /// makes one more attempt at `/version/4`; no other retry happens here (retrying is the
    /// transport's job).
    pub async fn login(&self) -> Result<LegacySession, LegacyError> {
        match self.version {
            Some(version) => self.login_at(version).await,
            None => match self.login_at(ApiVersion::V3).await {
                Err(LegacyError::WrongApiVersion(e)) if e.code == PardotErrorCode::MUST_USE_V4 => {
                    self.login_at(ApiVersion::V4).await
                }
                other => other,
            },
        }
    }

    async fn login_at(&self, version: ApiVersion) -> Result<LegacySession, LegacyError> {
        let url = self.host.endpoint(&version.login_path());
        let span = tracing::info_span!(
            "pardot_legacy.login",
            host = %self.host,
            login_version = version.number(),
            format = self.format.as_param(),
            status = tracing::field::Empty,
            code = tracing::field::Empty,
            api_version = tracing::field::Empty,
        );
        async {
            ensure_secure(&url)?;
            let started = self.clock.now();
            let mut form: Vec<(&str, &str)> = vec![
                ("email", self.credentials.email()),
                ("password", self.credentials.password().expose_secret()),
                (
                    "user_key",
                    self.credentials.user_key().secret().expose_secret(),
                ),
            ];
            if self.format == Format::Json {
                form.push(("format", "json"));
            }
            let exchange = async {
                let response = self
                    .client
                    .post(url.clone())
                    .form(&form)
                    .send()
                    .await
                    .map_err(LegacyError::Transport)?;
                let status = response.status().as_u16();
                let body = read_bounded(response, self.max_body_bytes).await?;
                Ok::<_, LegacyError>((status, body))
            };
            let (status, body) =
                pardot_auth_core::clock::timeout(&*self.clock, self.timeout, exchange)
                    .await
                    .map_err(|_| LegacyError::Timeout(self.timeout))??;
            tracing::Span::current().record("status", status);

            let envelope = envelope::parse(&body)
                .map_err(|source| LegacyError::Response { status, source })?;
            let envelope = envelope.into_result().map_err(|e| {
                tracing::Span::current().record("code", e.code.get());
                tracing::warn!(code = e.code.get(), message = %e.message, "legacy login refused");
                LegacyError::from_api(e)
            })?;

            let api_key = envelope
                .field("api_key")
                .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or(LegacyError::MissingApiKey)?;
            let api_version = match envelope.field("version") {
                None | Some("") => ApiVersion::V3,
                Some(text) => text
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .and_then(ApiVersion::from_number)
                    .ok_or_else(|| {
                        LegacyError::UnknownApiVersion(pardot_auth_core::redact::excerpt(
                            text.as_bytes(),
                            40,
                        ))
                    })?,
            };
            tracing::Span::current().record("api_version", api_version.number());
            let session =
                self.remember(SecretString::from(api_key.to_owned()), api_version, started);
            tracing::info!(
                api_version = api_version.number(),
                expires_at = ?session.expires_at(),
                "legacy login succeeded"
            );
            Ok(session)
        }
        .instrument(span)
        .await
    }

    /// Keeps the issue time of a key Pardot hands out again, so its expiry stays the real one.
    fn remember(
        &self,
        api_key: SecretString,
        api_version: ApiVersion,
        now: SystemTime,
    ) -> LegacySession {
        let mut last = self.remembered();
        let issued_at = match last.as_ref() {
            Some(r)
                if r.api_key.expose_secret() == api_key.expose_secret()
                    && r.issued_at + LEGACY_API_KEY_LIFETIME > now =>
            {
                r.issued_at
            }
            _ => now,
        };
        *last = Some(Remembered {
            api_key: api_key.clone(),
            issued_at,
            api_version,
        });
        LegacySession {
            api_key,
            api_version,
            issued_at,
        }
    }

    /// Logs in and returns the api_key as an [`AccessToken`] (the [`TokenSource`] method,
    /// with this crate's error type).
    pub async fn access_token(&self) -> Result<AccessToken, LegacyError> {
        let session = self.login().await?;
        Ok(session.access_token(self.credentials.user_key()))
    }

    /// Wraps the login in an `Arc` for APIs that take `Arc<dyn TokenSource>`.
    pub fn into_shared(self) -> Arc<dyn TokenSource> {
        Arc::new(self)
    }
}

#[async_trait::async_trait]
impl TokenSource for LegacyLogin {
    async fn token(&self) -> Result<AccessToken, pardot_auth_core::Error> {
        self.access_token().await.map_err(Into::into)
    }

    /// Forgets the remembered issue time of `rejected` (Pardot said code 1): if the next login
    /// hands out the same text again, it is stamped as newly issued.
    fn invalidate(&self, rejected: &AccessToken) {
        let mut last = self.remembered();
        if last
            .as_ref()
            .is_some_and(|r| r.api_key.expose_secret() == rejected.secret().expose_secret())
        {
            *last = None;
        }
    }
}

/// Reads at most `limit` bytes of the body; more is an error, not a silent cut.
async fn read_bounded(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, LegacyError> {
    let announced = response.content_length();
    let next_chunk = async |mut response: reqwest::Response| {
        let chunk = response.chunk().await.map(|c| c.map(Vec::from));
        (response, chunk)
    };
    body::read_bounded(response, announced, limit, next_chunk)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => LegacyError::BodyTooLarge { limit },
            BodyError::Read(e) => LegacyError::Transport(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5a1698a233e73d7c8ccd60d775fbc68a";

    fn login() -> LegacyLogin {
        let creds = LegacyCredentials::new(
            "a@b.example",
            "pw-secret",
            "c0ffee0123456789c0ffee0123456789",
        )
        .unwrap();
        LegacyLogin::builder(creds).build().unwrap()
    }

    #[test]
    fn versions() {
        assert_eq!(
            ApiVersion::V4.path("prospect", "query"),
            "/api/prospect/version/4/do/query"
        );
        assert_eq!(ApiVersion::V3.login_path(), "/api/login/version/3");
        assert_eq!(ApiVersion::from_number(5), None);
        assert_eq!(ApiVersion::V4.to_string(), "4");
    }

    #[test]
    fn a_key_seen_again_keeps_its_issue_time() {
        let login = login();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let first = login.remember(KEY.into(), ApiVersion::V3, t0);
        let again = login.remember(KEY.into(), ApiVersion::V3, t0 + Duration::from_secs(600));
        assert_eq!(again.issued_at, first.issued_at);
        assert_eq!(again.expires_at(), t0 + LEGACY_API_KEY_LIFETIME);
        // Past its lifetime the same text counts as a new key.
        let later = t0 + LEGACY_API_KEY_LIFETIME + Duration::from_secs(1);
        assert_eq!(
            login.remember(KEY.into(), ApiVersion::V3, later).issued_at,
            later
        );
        let other = login.remember(
            "ffff".into(),
            ApiVersion::V4,
            later + Duration::from_secs(5),
        );
        assert_eq!(other.issued_at, later + Duration::from_secs(5));
        assert_eq!(login.api_version(), Some(ApiVersion::V4));
    }

    #[test]
    fn invalidate_forgets_only_the_rejected_key() {
        let login = login();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let session = login.remember(KEY.into(), ApiVersion::V4, t0);
        let token = session.access_token(login.credentials().user_key());
        let other = LegacySession {
            api_key: "0000".into(),
            api_version: ApiVersion::V4,
            issued_at: t0,
        }
        .access_token(login.credentials().user_key());
        login.invalidate(&other);
        assert!(login.remembered().is_some());
        login.invalidate(&token);
        assert!(login.remembered().is_none());
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            login.remember(KEY.into(), ApiVersion::V4, later).issued_at,
            later
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let login = login();
        let session = login.remember(KEY.into(), ApiVersion::V3, SystemTime::now());
        for text in [format!("{login:?}"), format!("{session:?}")] {
            assert!(!text.contains(KEY), "{text}");
            assert!(!text.contains("pw-secret"), "{text}");
            assert!(!text.contains("c0ffee"), "{text}");
        }
        let token = session.access_token(login.credentials().user_key());
        assert!(!format!("{token:?}").contains(KEY));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let creds =
            LegacyCredentials::new("a@b.c", "pw", "c0ffee0123456789c0ffee0123456789").unwrap();
        let host = PardotHost::Custom("http://pi.example.com".parse().unwrap());
        let err = LegacyLogin::builder(creds).host(host).build().unwrap_err();
        assert!(matches!(err, LegacyError::Host(_)), "{err:?}");
    }
}
