//! Virtual hosts: which host a request reached, by its `Host` header or by a path prefix on
//! the loopback base, and the path inside that host.
//!
//! | real host | mock path prefix |
//! |---|---|
//! | `login.salesforce.com` | `{base}` |
//! | `test.salesforce.com` | `{base}/sandbox` |
//! | `NAME.my.salesforce.com` | `{base}/my/NAME` |
//! | `pi.pardot.com` | `{base}` (paths start with `/api/`) |
//! | `pi.demo.pardot.com` | `{base}/demo` |
//! | `idp.intelligence.salesforce.com` | `{base}` (paths start with `/{region}/`) |
//!
//! `{base}` is the URL a client called (`scheme://Host`), or the mock's [`PublicUrl`] when one
//! is configured (`--public-url`, `PARDOT_MOCK_PUBLIC_URL`, `public_url` in the config): a
//! mock reached by a name its Host header does not carry (behind a port mapping, a proxy, in
//! another network namespace) then still writes that name into every absolute URL it sends
//! (`instance_url`, identity URLs, discovery documents, `verification_uri`, `nextPageUrl`).
//! The prefixed hosts compose with it: the sandbox is `{public}/sandbox`, a My Domain
//! `{public}/my/NAME`, the demo host `{public}/demo`. A request by a real Salesforce or Pardot
//! name (TLS in front, names mapped to the mock) keeps that name: the public URL replaces only
//! the base.

use std::borrow::Cow;

use axum::http::{HeaderMap, Uri, header};

use crate::config::{ConfigError, PardotHostKind, invalid};
use crate::support::concat;

/// Which virtual host a request reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// `{base}` on loopback: production login, `pi.pardot.com` and the MCI IdP at once.
    Base,
    /// `login.salesforce.com` by Host header.
    Login,
    /// `test.salesforce.com` or `{base}/sandbox`.
    Sandbox,
    /// `NAME.my.salesforce.com` or `{base}/my/NAME` (name as given).
    MyDomain(String),
    /// `pi.pardot.com` by Host header.
    Pardot,
    /// `pi.demo.pardot.com` or `{base}/demo`.
    Demo,
    /// `idp.intelligence.salesforce.com` by Host header.
    Mci,
}

/// The Salesforce login server a request reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginVhost {
    /// `login.salesforce.com`.
    Production,
    /// `test.salesforce.com`.
    Sandbox,
    /// A My Domain host, by name.
    MyDomain(String),
}

/// The virtual host of a request, inserted as a request extension by the front door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualHost {
    /// Which host.
    pub kind: HostKind,
    /// The URL this host is reached at, no trailing slash: `http://127.0.0.1:PORT/sandbox`,
    /// or `https://login.salesforce.com` when called by its real name.
    pub public_base: String,
    /// `scheme://host[:port]` as called, no path (the default `instance_url`).
    pub origin: String,
}

impl VirtualHost {
    /// The login server, if this host is one.
    pub fn login(&self) -> Option<LoginVhost> {
        match &self.kind {
            HostKind::Base | HostKind::Login => Some(LoginVhost::Production),
            HostKind::Sandbox => Some(LoginVhost::Sandbox),
            HostKind::MyDomain(n) => Some(LoginVhost::MyDomain(n.clone())),
            _ => None,
        }
    }

    /// The Pardot host, if this host is one.
    pub fn pardot(&self) -> Option<PardotHostKind> {
        match &self.kind {
            HostKind::Base | HostKind::Pardot => Some(PardotHostKind::Production),
            HostKind::Demo => Some(PardotHostKind::Demo),
            _ => None,
        }
    }

    /// Whether the MCI identity provider is served here.
    pub fn serves_mci(&self) -> bool {
        matches!(self.kind, HostKind::Base | HostKind::Mci)
    }

    /// A short label for the journal.
    pub fn label(&self) -> String {
        let mut label = String::new();
        self.write_label(&mut label);
        label
    }

    /// Appends [`VirtualHost::label`] to `out`.
    pub(crate) fn write_label(&self, out: &mut String) {
        let (kind, name) = self.label_parts();
        out.push_str(kind);
        out.push_str(name);
    }

    /// The length of [`VirtualHost::label`].
    pub(crate) fn label_len(&self) -> usize {
        let (kind, name) = self.label_parts();
        kind.len() + name.len()
    }

    /// [`VirtualHost::label`] in two parts: the kind's, and a My Domain's name (else empty).
    fn label_parts(&self) -> (&'static str, &str) {
        match &self.kind {
            HostKind::Base => ("base", ""),
            HostKind::Login => ("login.salesforce.com", ""),
            HostKind::Sandbox => ("sandbox", ""),
            HostKind::MyDomain(name) => ("my/", name),
            HostKind::Pardot => ("pi.pardot.com", ""),
            HostKind::Demo => ("demo", ""),
            HostKind::Mci => ("idp.intelligence.salesforce.com", ""),
        }
    }
}

/// The base URL a mock advertises instead of the one it was called at: `scheme://host[:port]`
/// with `http` or `https`, no path, query, fragment or credentials (the prefixed virtual hosts
/// append their own path to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Checks `url` and keeps it without a trailing slash.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let refuse = |why: &str| invalid(format!("public_url `{url}`: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| refuse(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse("use http:// or https://"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(refuse("name a host"));
        }
        if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(refuse(
                "give only scheme://host[:port] (the virtual hosts add their own paths)",
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse("no credentials in the URL"));
        }
        Ok(Self(parsed.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL, `scheme://host[:port]`, no trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a request into its virtual host and the path inside it; `public` (the mock's
/// [`PublicUrl`], if any) replaces the called base.
pub(crate) fn resolve(
    headers: &HeaderMap,
    uri: &Uri,
    public: Option<&PublicUrl>,
) -> (VirtualHost, String) {
    let host_header = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("127.0.0.1");
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https");
    let path = uri.path();
    let hostname = host_header
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host_header, |(h, _)| h);
    // Host names are matched in lower case; most arrive so, and need no lowered copy.
    let hostname = if hostname.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(hostname.to_ascii_lowercase())
    } else {
        Cow::Borrowed(hostname)
    };

    let real = match &*hostname {
        "login.salesforce.com" => Some(HostKind::Login),
        "test.salesforce.com" => Some(HostKind::Sandbox),
        "pi.pardot.com" => Some(HostKind::Pardot),
        "pi.demo.pardot.com" => Some(HostKind::Demo),
        "idp.intelligence.salesforce.com" => Some(HostKind::Mci),
        h => h
            .strip_suffix(".sandbox.my.salesforce.com")
            .or_else(|| h.strip_suffix(".my.salesforce.com"))
            .filter(|n| !n.is_empty() && !n.contains('.'))
            .map(|n| HostKind::MyDomain(n.to_owned())),
    };
    if let Some(kind) = real {
        let scheme = forwarded_proto.unwrap_or("https");
        let origin = concat(&[scheme, "://", host_header]);
        return (
            VirtualHost {
                kind,
                public_base: origin.clone(),
                origin,
            },
            path.to_owned(),
        );
    }

    let origin = match public {
        Some(public) => public.as_str().to_owned(),
        None => concat(&[forwarded_proto.unwrap_or("http"), "://", host_header]),
    };
    let strip = |prefix: &str| -> Option<String> {
        let rest = path.strip_prefix(prefix)?;
        if rest.is_empty() {
            Some("/".to_owned())
        } else if rest.starts_with('/') {
            Some(rest.to_owned())
        } else {
            None
        }
    };
    let (kind, prefix, inner) = if let Some(rest) = strip("/sandbox") {
        (HostKind::Sandbox, "/sandbox".to_owned(), rest)
    } else if let Some(rest) = strip("/demo") {
        (HostKind::Demo, "/demo".to_owned(), rest)
    } else if let Some(after) = path.strip_prefix("/my/") {
        let (name, rest) = after.split_once('/').map_or((after, ""), |(n, r)| (n, r));
        (
            HostKind::MyDomain(name.to_owned()),
            concat(&["/my/", name]),
            concat(&["/", rest]),
        )
    } else {
        (HostKind::Base, String::new(), path.to_owned())
    };
    (
        VirtualHost {
            kind,
            public_base: concat(&[&origin, &prefix]),
            origin,
        },
        inner,
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn at(host: &str, path: &str) -> (VirtualHost, String) {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        resolve(&h, &path.parse().unwrap(), None)
    }

    #[test]
    fn prefixes_and_real_names() {
        let (v, p) = at("127.0.0.1:9", "/sandbox/services/oauth2/token");
        assert_eq!(v.kind, HostKind::Sandbox);
        assert_eq!(v.public_base, "http://127.0.0.1:9/sandbox");
        assert_eq!(v.origin, "http://127.0.0.1:9");
        assert_eq!(p, "/services/oauth2/token");

        let (v, p) = at("127.0.0.1:9", "/my/acme/id/x/y");
        assert_eq!(v.kind, HostKind::MyDomain("acme".into()));
        assert_eq!(v.public_base, "http://127.0.0.1:9/my/acme");
        assert_eq!(p, "/id/x/y");

        let (v, p) = at("127.0.0.1:9", "/demo/api/v5/objects/prospects");
        assert_eq!(v.pardot(), Some(PardotHostKind::Demo));
        assert_eq!(p, "/api/v5/objects/prospects");

        let (v, _) = at("127.0.0.1:9", "/sandboxes");
        assert_eq!(v.kind, HostKind::Base);

        let (v, p) = at("acme.my.salesforce.com", "/services/oauth2/token");
        assert_eq!(v.kind, HostKind::MyDomain("acme".into()));
        assert_eq!(v.public_base, "https://acme.my.salesforce.com");
        assert_eq!(p, "/services/oauth2/token");

        let (v, _) = at("test.salesforce.com:443", "/");
        assert_eq!(v.kind, HostKind::Sandbox);
        let (v, _) = at("pi.demo.pardot.com", "/api/x");
        assert_eq!(v.kind, HostKind::Demo);
        let (v, _) = at("idp.intelligence.salesforce.com", "/us1/token");
        assert!(v.serves_mci());
    }

    #[test]
    fn a_public_url_replaces_the_called_base_and_composes_with_the_prefixes() {
        let public = PublicUrl::parse("http://pardot-mock.test:8717/").unwrap();
        assert_eq!(public.as_str(), "http://pardot-mock.test:8717");
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9"));
        let at = |h: &HeaderMap, path: &str| resolve(h, &path.parse().unwrap(), Some(&public));
        let (v, p) = at(&h, "/my/acme/id/x");
        assert_eq!(v.public_base, "http://pardot-mock.test:8717/my/acme");
        assert_eq!(v.origin, "http://pardot-mock.test:8717");
        assert_eq!(p, "/id/x");
        let (v, _) = at(&h, "/services/oauth2/token");
        assert_eq!(v.public_base, "http://pardot-mock.test:8717");
        // A real name keeps its name.
        h.insert(
            header::HOST,
            HeaderValue::from_static("test.salesforce.com"),
        );
        let (v, _) = at(&h, "/services/oauth2/token");
        assert_eq!(v.public_base, "https://test.salesforce.com");

        for bad in [
            "pardot-mock.test:8717",
            "ftp://pardot-mock.test",
            "http://pardot-mock.test/base",
            "http://pardot-mock.test/?x=1",
            "http://user:pw@pardot-mock.test",
        ] {
            let err = PublicUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("public_url") && err.contains(bad), "{err}");
        }
    }
}
