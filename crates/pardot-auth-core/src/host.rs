//! Where to log in ([`LoginHost`]) and where the Pardot API lives ([`PardotHost`]).
//!
//! Every URL here is `https`, except loopback addresses (tests, the mock, a local callback)
//! or, for tests against a mock reached by name (a compose service, another network
//! namespace), a URL whose constructor was given [`InsecureHttp::Allow`]: an explicit opt-in
//! (the facade reads it from `PARDOT_AUTH_ALLOW_INSECURE_HTTP=1`), logged as a WARN every
//! time a plain-http, non-loopback URL is let through, and never the default. The opt-in
//! covers the URL's origin (`scheme://host:port`) for the rest of the process, so the flows
//! that check their endpoint URLs again before each request ([`ensure_secure`]) accept the
//! hosts made with it, and refuse every other plain-http host as before.
//! Base URLs never end in `/`; endpoint URLs are the base followed by the API path, so a
//! custom base with a path (`http://127.0.0.1:8717/sandbox`) keeps its path.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use url::Url;

/// The environment variable the facade and the CLI read to allow plain `http` to hosts other
/// than loopback (`1`): for tests against a mock reached by name, never for real hosts.
pub const ALLOW_INSECURE_HTTP_ENV: &str = "PARDOT_AUTH_ALLOW_INSECURE_HTTP";

/// Whether a host constructor accepts plain `http` to a host that is not a loopback address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InsecureHttp {
    /// `https` only, except loopback addresses: the default.
    #[default]
    Refuse,
    /// Also plain `http` to any host, for tests against a mock reached by name; each URL let
    /// through is logged as a WARN, and its origin stays allowed for the process (see the
    /// rule in [`ensure_secure_with`](crate::ensure_secure_with)).
    Allow,
}

impl InsecureHttp {
    /// `Allow` when `PARDOT_AUTH_ALLOW_INSECURE_HTTP` is `1` or `true` (any case), else
    /// `Refuse`; `value` is the variable's value, if set.
    pub fn from_env_value(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => Self::Allow,
            _ => Self::Refuse,
        }
    }
}

/// The origins a constructor with [`InsecureHttp::Allow`] let through.
static INSECURE_ORIGINS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Why a URL cannot be used as a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The text is not a URL.
    #[error("`{url}` is not a valid URL: {reason}")]
    Invalid {
        /// The text as given.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The URL is plain `http` (or another scheme) to a host that is not a loopback address.
    #[error(
        "`{url}` must use https (plain http is allowed only for loopback addresses, or for \
         tests against a mock with the explicit opt-in PARDOT_AUTH_ALLOW_INSECURE_HTTP=1 / \
         InsecureHttp::Allow)"
    )]
    Insecure {
        /// The URL as given.
        url: String,
    },
    /// The URL carries a query, a fragment or credentials, which a base URL cannot have.
    #[error("`{url}` must be a plain base URL, without user info, query or fragment")]
    NotABase {
        /// The URL as given.
        url: String,
    },
    /// A My Domain name that cannot be part of a host name.
    #[error(
        "`{name}` is not a valid My Domain name (letters, digits and hyphens, e.g. `acme` or `acme--uat.sandbox`)"
    )]
    MyDomainName {
        /// The name as given.
        name: String,
    },
}

/// True when `url`'s host is `localhost` or a loopback IP address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks the house transport rule: `https`, or `http` to a loopback address, or `http` to
/// an origin a host constructor was explicitly allowed ([`InsecureHttp::Allow`]).
pub fn ensure_secure(url: &Url) -> Result<(), HostError> {
    ensure_secure_with(url, InsecureHttp::Refuse)
}

/// [`ensure_secure`] with an explicit choice for plain `http` to other hosts: with
/// [`InsecureHttp::Allow`] the URL's origin is allowed from now on. Every plain-http,
/// non-loopback URL let through is logged as a WARN.
pub fn ensure_secure_with(url: &Url, insecure: InsecureHttp) -> Result<(), HostError> {
    match url.scheme() {
        "https" => return Ok(()),
        "http" if is_loopback(url) => return Ok(()),
        "http" => {}
        _ => {
            return Err(HostError::Insecure {
                url: without_secrets(url),
            });
        }
    }
    let origin = url.origin().ascii_serialization();
    let allowed = {
        let mut origins = INSECURE_ORIGINS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        insecure == InsecureHttp::Allow && origins.insert(origin.clone())
            || origins.contains(&origin)
    };
    if !allowed {
        return Err(HostError::Insecure {
            url: without_secrets(url),
        });
    }
    tracing::warn!(
        url = %without_secrets(url),
        "plain http to a host that is not loopback, allowed by the explicit test opt-in \
         ({ALLOW_INSECURE_HTTP_ENV}=1 / InsecureHttp::Allow): never use it with real credentials"
    );
    Ok(())
}

/// `url` for an error message or a log: without a password, query or fragment, which may
/// carry credentials (`http://user:secret@host`, `?access_token=…`).
///
/// ```
/// use pardot_auth_core::{url::Url, without_secrets};
/// let url = Url::parse("redis://app:hunter2@cache.internal:6379/0?token=x").unwrap();
/// assert_eq!(without_secrets(&url), "redis://app@cache.internal:6379/0");
/// ```
pub fn without_secrets(url: &Url) -> String {
    let mut shown = url.clone();
    // Fails only for URLs that cannot carry a password, which then have none to hide.
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Parses and checks a base URL; the result has no trailing slash.
fn parse_base(text: &str, insecure: InsecureHttp) -> Result<Url, HostError> {
    let mut url = Url::parse(text).map_err(|e| HostError::Invalid {
        // Not a URL, so `without_secrets` cannot read it; the redactor masks an
        // `access_token=…` or a token it carries.
        url: crate::redact::redact(text),
        reason: e.to_string(),
    })?;
    ensure_secure_with(&url, insecure)?;
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.cannot_be_a_base()
    {
        return Err(HostError::NotABase {
            url: without_secrets(&url),
        });
    }
    // Trailing slashes say nothing (endpoints are joined to the base without them): drop them
    // so a host equals the one parsed back from its `base_url`.
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// A host as a user wrote it: one of the well-known hosts, or another base URL.
enum WrittenHost<H> {
    Known(H),
    Url(Url),
}

/// Reads a host the way both host kinds do: a keyword from `keywords`, else a base URL, which
/// is a well-known host when it is exactly `https://{name}` for a `name` in `well_known`.
fn parse_written_host<H: Clone>(
    text: &str,
    insecure: InsecureHttp,
    keywords: &[(&str, H)],
    well_known: &[(&str, H)],
) -> Result<WrittenHost<H>, HostError> {
    let text = text.trim();
    if let Some((_, host)) = keywords.iter().find(|(word, _)| *word == text) {
        return Ok(WrittenHost::Known(host.clone()));
    }
    let url = parse_base(text, insecure)?;
    let origin_only = has_no_path(&url) && url.scheme() == "https";
    let known = well_known
        .iter()
        .find(|(name, _)| origin_only && url.host_str() == Some(*name));
    Ok(match known {
        Some((_, host)) => WrittenHost::Known(host.clone()),
        None => WrittenHost::Url(url),
    })
}

fn has_no_path(url: &Url) -> bool {
    url.path() == "/" || url.path().is_empty()
}

/// `url` as text without a trailing slash.
fn base_text(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// Joins a base and an absolute API path (`/services/oauth2/token`).
fn join(base: &Url, path: &str) -> Url {
    let text = format!("{}{}", base_text(base), path);
    // A valid base followed by one of our fixed ASCII paths is always a valid URL.
    Url::parse(&text).unwrap_or_else(|_| base.clone())
}

/// The Salesforce login server a flow talks to.
///
/// ```
/// use pardot_auth_core::LoginHost;
/// let prod = LoginHost::Production;
/// assert_eq!(prod.token_url().as_str(), "https://login.salesforce.com/services/oauth2/token");
/// assert_eq!(LoginHost::Sandbox.jwt_audience(), "https://test.salesforce.com");
/// let mine = LoginHost::my_domain("acme").unwrap();
/// assert_eq!(mine.base_url(), "https://acme.my.salesforce.com");
/// let mock = LoginHost::custom("http://127.0.0.1:8717/sandbox").unwrap();
/// assert_eq!(mock.token_url().as_str(), "http://127.0.0.1:8717/sandbox/services/oauth2/token");
/// assert!(LoginHost::custom("http://login.example.com").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginHost {
    /// `https://login.salesforce.com`: production and developer orgs.
    Production,
    /// `https://test.salesforce.com`: sandboxes.
    Sandbox,
    /// An org's My Domain, e.g. `https://acme.my.salesforce.com` or
    /// `https://acme--uat.sandbox.my.salesforce.com`. Client credentials only work here.
    MyDomain(Url),
    /// Any other base URL (tests, the mock); its JWT audience is the URL itself.
    Custom(Url),
}

/// The constructors both host types share: `custom`/`custom_with` (a `Custom` base URL) and
/// `parse` (the type's own `parse_with`), the plain forms refusing `http` to other than
/// loopback hosts. `$parse_doc` says what the type's `parse` reads.
macro_rules! custom_and_parse {
    ($host:ident, $(#[$parse_doc:meta])*) => {
        /// A custom base URL: `https`, or `http` on a loopback address.
        pub fn custom(url: &str) -> Result<Self, HostError> {
            Self::custom_with(url, InsecureHttp::Refuse)
        }

        #[doc = concat!(
            "[`", stringify!($host), "::custom`], with plain `http` to other hosts when ",
            "`insecure` allows it."
        )]
        pub fn custom_with(url: &str, insecure: InsecureHttp) -> Result<Self, HostError> {
            Ok(Self::Custom(parse_base(url, insecure)?))
        }

        $(#[$parse_doc])*
        pub fn parse(text: &str) -> Result<Self, HostError> {
            Self::parse_with(text, InsecureHttp::Refuse)
        }
    };
}

impl LoginHost {
    /// `https://login.salesforce.com`
    pub const PRODUCTION_URL: &'static str = "https://login.salesforce.com";
    /// `https://test.salesforce.com`
    pub const SANDBOX_URL: &'static str = "https://test.salesforce.com";

    /// My Domain from its name: `acme` -> `https://acme.my.salesforce.com`,
    /// `acme--uat.sandbox` -> `https://acme--uat.sandbox.my.salesforce.com`.
    pub fn my_domain(name: &str) -> Result<Self, HostError> {
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(HostError::MyDomainName {
                name: name.to_owned(),
            });
        }
        let url = parse_base(
            &format!("https://{name}.my.salesforce.com"),
            InsecureHttp::Refuse,
        )?;
        Ok(Self::MyDomain(url))
    }

    /// My Domain from its full URL (`https://acme.my.salesforce.com`).
    pub fn my_domain_url(url: &str) -> Result<Self, HostError> {
        Ok(Self::MyDomain(parse_base(url, InsecureHttp::Refuse)?))
    }

    custom_and_parse! {
        LoginHost,
        /// Parses what a user wrote: `production`/`login`, `sandbox`/`test`, a URL whose host is
        /// `login.salesforce.com`, `test.salesforce.com` or `*.my.salesforce.com`, or any other
        /// URL as [`LoginHost::Custom`].
    }

    /// [`LoginHost::parse`], with plain `http` to other hosts when `insecure` allows it.
    ///
    /// ```
    /// use pardot_auth_core::{InsecureHttp, LoginHost};
    /// assert!(LoginHost::parse("http://pardot-mock:8717").is_err());
    /// let mock = LoginHost::parse_with("http://pardot-mock:8717", InsecureHttp::Allow).unwrap();
    /// assert_eq!(mock.jwt_audience(), "http://pardot-mock:8717");
    /// ```
    pub fn parse_with(text: &str, insecure: InsecureHttp) -> Result<Self, HostError> {
        let url = match parse_written_host(
            text,
            insecure,
            &[
                ("production", Self::Production),
                ("login", Self::Production),
                ("sandbox", Self::Sandbox),
                ("test", Self::Sandbox),
            ],
            &[
                ("login.salesforce.com", Self::Production),
                ("test.salesforce.com", Self::Sandbox),
            ],
        )? {
            WrittenHost::Known(host) => return Ok(host),
            WrittenHost::Url(url) => url,
        };
        match url.host_str() {
            Some(h) if h.ends_with(".my.salesforce.com") && has_no_path(&url) => {
                Ok(Self::MyDomain(url))
            }
            _ => Ok(Self::Custom(url)),
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Production => Self::PRODUCTION_URL,
            Self::Sandbox => Self::SANDBOX_URL,
            Self::MyDomain(url) | Self::Custom(url) => base_text(url),
        }
    }

    fn base(&self) -> Url {
        match self {
            Self::Production | Self::Sandbox => {
                Url::parse(self.base_url()).unwrap_or_else(|_| unreachable_url())
            }
            Self::MyDomain(url) | Self::Custom(url) => url.clone(),
        }
    }

    /// `{base}{path}` for any login-server path.
    pub fn endpoint(&self, path: &str) -> Url {
        join(&self.base(), path)
    }

    /// `{base}/services/oauth2/token`
    pub fn token_url(&self) -> Url {
        self.endpoint("/services/oauth2/token")
    }

    /// `{base}/services/oauth2/authorize`
    pub fn authorize_url(&self) -> Url {
        self.endpoint("/services/oauth2/authorize")
    }

    /// `{base}/services/oauth2/revoke`
    pub fn revoke_url(&self) -> Url {
        self.endpoint("/services/oauth2/revoke")
    }

    /// `{base}/services/oauth2/userinfo`
    pub fn userinfo_url(&self) -> Url {
        self.endpoint("/services/oauth2/userinfo")
    }

    /// `{base}/services/oauth2/introspect`
    pub fn introspect_url(&self) -> Url {
        self.endpoint("/services/oauth2/introspect")
    }

    /// The `aud` claim a JWT bearer assertion for this host carries: the login URL itself
    /// (`https://login.salesforce.com`, `https://test.salesforce.com`, the My Domain URL, or
    /// the custom URL exactly), without a trailing slash.
    pub fn jwt_audience(&self) -> String {
        self.base_url().to_owned()
    }

    /// True for the sandbox login host and sandbox My Domains.
    pub fn is_sandbox(&self) -> bool {
        match self {
            Self::Sandbox => true,
            Self::MyDomain(url) => url
                .host_str()
                .is_some_and(|h| h.ends_with(".sandbox.my.salesforce.com")),
            _ => false,
        }
    }
}

fn unreachable_url() -> Url {
    // Only reached if a constant above stopped being a URL, which the tests rule out.
    Url::parse("https://invalid.invalid").expect("constant URL")
}

shown_as!(LoginHost, base_url);

/// The Pardot API host a business unit lives on.
///
/// ```
/// use pardot_auth_core::PardotHost;
/// assert_eq!(PardotHost::Production.base_url(), "https://pi.pardot.com");
/// assert_eq!(PardotHost::Demo.base_url(), "https://pi.demo.pardot.com");
/// let mock = PardotHost::custom("http://127.0.0.1:8717/demo").unwrap();
/// assert_eq!(
///     mock.endpoint("/api/v5/objects/prospects").as_str(),
///     "http://127.0.0.1:8717/demo/api/v5/objects/prospects"
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PardotHost {
    /// `https://pi.pardot.com`
    Production,
    /// `https://pi.demo.pardot.com`: business units of sandboxes and developer orgs.
    Demo,
    /// Any other base URL (tests, the mock).
    Custom(Url),
}

impl PardotHost {
    /// `https://pi.pardot.com`
    pub const PRODUCTION_URL: &'static str = "https://pi.pardot.com";
    /// `https://pi.demo.pardot.com`
    pub const DEMO_URL: &'static str = "https://pi.demo.pardot.com";

    custom_and_parse! {
        PardotHost,
        /// Parses `production`, `demo`, or a URL (the real hosts map to their variants).
    }

    /// [`PardotHost::parse`], with plain `http` to other hosts when `insecure` allows it.
    pub fn parse_with(text: &str, insecure: InsecureHttp) -> Result<Self, HostError> {
        match parse_written_host(
            text,
            insecure,
            &[("production", Self::Production), ("demo", Self::Demo)],
            &[
                ("pi.pardot.com", Self::Production),
                ("pi.demo.pardot.com", Self::Demo),
            ],
        )? {
            WrittenHost::Known(host) => Ok(host),
            WrittenHost::Url(url) => Ok(Self::Custom(url)),
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Production => Self::PRODUCTION_URL,
            Self::Demo => Self::DEMO_URL,
            Self::Custom(url) => base_text(url),
        }
    }

    /// `{base}{path}`; `path` starts with `/api/`.
    pub fn endpoint(&self, path: &str) -> Url {
        let base = match self {
            Self::Production | Self::Demo => {
                Url::parse(self.base_url()).unwrap_or_else(|_| unreachable_url())
            }
            Self::Custom(url) => url.clone(),
        };
        join(&base, path)
    }
}

shown_as!(PardotHost, base_url);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_hosts_give_their_endpoints() {
        assert_eq!(
            LoginHost::Sandbox.authorize_url().as_str(),
            "https://test.salesforce.com/services/oauth2/authorize"
        );
        assert_eq!(
            LoginHost::Production.revoke_url().as_str(),
            "https://login.salesforce.com/services/oauth2/revoke"
        );
        assert_eq!(
            LoginHost::Production.userinfo_url().as_str(),
            "https://login.salesforce.com/services/oauth2/userinfo"
        );
        assert_eq!(
            LoginHost::Production.jwt_audience(),
            "https://login.salesforce.com"
        );
    }

    #[test]
    fn custom_url_keeps_its_path_and_is_its_own_audience() {
        let host = LoginHost::custom("http://127.0.0.1:4000/my/acme/").unwrap();
        assert_eq!(host.base_url(), "http://127.0.0.1:4000/my/acme");
        assert_eq!(host.jwt_audience(), "http://127.0.0.1:4000/my/acme");
        assert_eq!(
            host.introspect_url().as_str(),
            "http://127.0.0.1:4000/my/acme/services/oauth2/introspect"
        );
        let root = LoginHost::custom("http://localhost:4000").unwrap();
        assert_eq!(root.jwt_audience(), "http://localhost:4000");
    }

    #[test]
    fn an_insecure_url_is_reported_without_its_secrets() {
        let url = Url::parse("http://user:s3cret@example.com/x?access_token=t0ken#f").unwrap();
        let text = ensure_secure(&url).unwrap_err().to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("t0ken"),
            "{text}"
        );
        assert!(text.contains("http://user@example.com/x"), "{text}");
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(LoginHost::custom("http://[::1]:9000").is_ok());
        assert!(LoginHost::custom("http://127.1.2.3:9000").is_ok());
        fn refused<H: std::fmt::Debug>(parsed: Result<H, HostError>) -> HostError {
            parsed.expect_err("refused")
        }
        let insecure = refused(LoginHost::custom("http://10.0.0.1"));
        assert!(matches!(insecure, HostError::Insecure { .. }));
        let insecure = refused(PardotHost::custom("ftp://localhost"));
        assert!(matches!(insecure, HostError::Insecure { .. }));
        let invalid = refused(PardotHost::custom("not a url"));
        assert!(matches!(invalid, HostError::Invalid { .. }));
        let not_a_base = refused(PardotHost::custom("https://pi.example.com/?x=1"));
        assert!(matches!(not_a_base, HostError::NotABase { .. }));
    }

    /// Runs `f` with a subscriber that keeps every event written; returns `f`'s result and
    /// the log text.
    fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
        let sink = crate::testing::LogCapture::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        let out = tracing::subscriber::with_default(subscriber, f);
        let text = sink.text();
        (out, text)
    }

    #[test]
    fn plain_http_by_name_is_refused_by_default_naming_the_url_and_the_switch() {
        let (refused, log) = logged(|| LoginHost::parse("http://mock-refused.test:8717"));
        let err = refused.unwrap_err();
        assert!(
            matches!(&err, HostError::Insecure { url } if url == "http://mock-refused.test:8717/")
        );
        let text = err.to_string();
        assert!(
            text.contains("http://mock-refused.test:8717")
                && text.contains(ALLOW_INSECURE_HTTP_ENV)
                && text.contains("InsecureHttp::Allow"),
            "{text}"
        );
        assert!(log.is_empty(), "{log}");
        assert!(PardotHost::custom("http://mock-refused.test:8717").is_err());
    }

    #[test]
    fn the_opt_in_lets_the_host_through_and_warns_every_time() {
        let (host, log) = logged(|| {
            LoginHost::parse_with("http://mock-allowed.test:8717/sandbox", InsecureHttp::Allow)
        });
        let host = host.unwrap();
        assert_eq!(
            host.token_url().as_str(),
            "http://mock-allowed.test:8717/sandbox/services/oauth2/token"
        );
        assert!(
            log.contains("WARN")
                && log.contains("http://mock-allowed.test:8717/sandbox")
                && log.contains(ALLOW_INSECURE_HTTP_ENV),
            "{log}"
        );
        // The flows check their endpoints again before each request: the allowed origin
        // passes (with a warning each time); another plain-http origin is still refused.
        let (checked, log) = logged(|| ensure_secure(&host.token_url()));
        assert!(checked.is_ok());
        assert!(log.contains("WARN"), "{log}");
        let pardot = PardotHost::parse_with("http://mock-allowed.test:8717", InsecureHttp::Allow);
        assert!(matches!(pardot, Ok(PardotHost::Custom(_))));
        assert!(LoginHost::custom("http://mock-other.test:8717").is_err());
        // Another scheme is never allowed; loopback and https need no opt-in and log nothing.
        assert!(PardotHost::custom_with("ftp://mock-allowed.test", InsecureHttp::Allow).is_err());
        let (_, log) = logged(|| LoginHost::custom_with("http://127.0.0.1:1", InsecureHttp::Allow));
        assert!(log.is_empty(), "{log}");
    }

    #[test]
    fn the_env_value_turns_the_opt_in_on_only_when_set_to_1_or_true() {
        assert_eq!(InsecureHttp::from_env_value(Some("1")), InsecureHttp::Allow);
        assert_eq!(
            InsecureHttp::from_env_value(Some(" TRUE ")),
            InsecureHttp::Allow
        );
        for off in [None, Some("0"), Some(""), Some("yes please")] {
            assert_eq!(
                InsecureHttp::from_env_value(off),
                InsecureHttp::Refuse,
                "{off:?}"
            );
        }
    }

    #[test]
    fn my_domain_names() {
        let sbx = LoginHost::my_domain("acme--uat.sandbox").unwrap();
        assert_eq!(
            sbx.base_url(),
            "https://acme--uat.sandbox.my.salesforce.com"
        );
        assert!(sbx.is_sandbox());
        assert!(!LoginHost::my_domain("acme").unwrap().is_sandbox());
        assert!(LoginHost::my_domain("bad/name").is_err());
        assert!(LoginHost::my_domain("").is_err());
    }

    #[test]
    fn parse_recognises_real_hosts() {
        assert_eq!(
            LoginHost::parse("https://login.salesforce.com/").unwrap(),
            LoginHost::Production
        );
        assert_eq!(LoginHost::parse("sandbox").unwrap(), LoginHost::Sandbox);
        assert!(matches!(
            LoginHost::parse("https://acme.my.salesforce.com").unwrap(),
            LoginHost::MyDomain(_)
        ));
        assert!(matches!(
            LoginHost::parse("http://127.0.0.1:1/").unwrap(),
            LoginHost::Custom(_)
        ));
        assert_eq!(
            PardotHost::parse("https://pi.demo.pardot.com").unwrap(),
            PardotHost::Demo
        );
        assert_eq!(
            PardotHost::parse("production").unwrap(),
            PardotHost::Production
        );
    }
}
