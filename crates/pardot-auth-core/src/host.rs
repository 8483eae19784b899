//! Where to log in ([`LoginHost`]) and where the Pardot API lives ([`PardotHost`]).
//!
//! Every URL here is `https`, except loopback addresses (tests, the mock, a local callback).
//! Base URLs never end in `/`; endpoint URLs are the base followed by the API path, so a
//! custom base with a path (`http://127.0.0.1:8717/sandbox`) keeps its path.

use std::net::IpAddr;

use url::Url;

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
    #[error("`{url}` must use https (plain http is allowed only for loopback addresses)")]
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

/// Checks the house transport rule: `https`, or `http` to a loopback address.
pub fn ensure_secure(url: &Url) -> Result<(), HostError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(HostError::Insecure {
            url: without_secrets(url),
        }),
    }
}

/// `url` for an error message: without a password, query or fragment, which may carry
/// credentials (`http://user:secret@host`, `?access_token=…`).
fn without_secrets(url: &Url) -> String {
    let mut shown = url.clone();
    // Fails only for URLs that cannot carry a password, which then have none to hide.
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Parses and checks a base URL; the result has no trailing slash.
fn parse_base(text: &str) -> Result<Url, HostError> {
    let mut url = Url::parse(text).map_err(|e| HostError::Invalid {
        // Not a URL, so `without_secrets` cannot read it; the redactor masks an
        // `access_token=…` or a token it carries.
        url: crate::redact::redact(text),
        reason: e.to_string(),
    })?;
    ensure_secure(&url)?;
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
    keywords: &[(&str, H)],
    well_known: &[(&str, H)],
) -> Result<WrittenHost<H>, HostError> {
    let text = text.trim();
    if let Some((_, host)) = keywords.iter().find(|(word, _)| *word == text) {
        return Ok(WrittenHost::Known(host.clone()));
    }
    let url = parse_base(text)?;
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
        let url = parse_base(&format!("https://{name}.my.salesforce.com"))?;
        Ok(Self::MyDomain(url))
    }

    /// My Domain from its full URL (`https://acme.my.salesforce.com`).
    pub fn my_domain_url(url: &str) -> Result<Self, HostError> {
        Ok(Self::MyDomain(parse_base(url)?))
    }

    /// A custom base URL: `https`, or `http` on a loopback address.
    pub fn custom(url: &str) -> Result<Self, HostError> {
        Ok(Self::Custom(parse_base(url)?))
    }

    /// Parses what a user wrote: `production`/`login`, `sandbox`/`test`, a URL whose host is
    /// `login.salesforce.com`, `test.salesforce.com` or `*.my.salesforce.com`, or any other
    /// URL as [`LoginHost::Custom`].
    pub fn parse(text: &str) -> Result<Self, HostError> {
        let url = match parse_written_host(
            text,
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

    /// A custom base URL: `https`, or `http` on a loopback address.
    pub fn custom(url: &str) -> Result<Self, HostError> {
        Ok(Self::Custom(parse_base(url)?))
    }

    /// Parses `production`, `demo`, or a URL (the real hosts map to their variants).
    pub fn parse(text: &str) -> Result<Self, HostError> {
        match parse_written_host(
            text,
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
