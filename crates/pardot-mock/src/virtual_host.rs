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

use axum::http::{HeaderMap, Uri, header};

use crate::config::PardotHostKind;

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
        match &self.kind {
            HostKind::Base => "base".into(),
            HostKind::Login => "login.salesforce.com".into(),
            HostKind::Sandbox => "sandbox".into(),
            HostKind::MyDomain(n) => format!("my/{n}"),
            HostKind::Pardot => "pi.pardot.com".into(),
            HostKind::Demo => "demo".into(),
            HostKind::Mci => "idp.intelligence.salesforce.com".into(),
        }
    }
}

/// Splits a request into its virtual host and the path inside it.
pub(crate) fn resolve(headers: &HeaderMap, uri: &Uri) -> (VirtualHost, String) {
    let host_header = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https");
    let path = uri.path();
    let hostname = host_header
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host_header.as_str(), |(h, _)| h)
        .to_ascii_lowercase();

    let real = match hostname.as_str() {
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
        let origin = format!("{scheme}://{host_header}");
        return (
            VirtualHost {
                kind,
                public_base: origin.clone(),
                origin,
            },
            path.to_owned(),
        );
    }

    let scheme = forwarded_proto.unwrap_or("http");
    let origin = format!("{scheme}://{host_header}");
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
            format!("/my/{name}"),
            format!("/{rest}"),
        )
    } else {
        (HostKind::Base, String::new(), path.to_owned())
    };
    (
        VirtualHost {
            kind,
            public_base: format!("{origin}{prefix}"),
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
        resolve(&h, &path.parse().unwrap())
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
}
