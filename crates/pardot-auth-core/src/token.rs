//! [`AccessToken`]: a credential with its lifetime, and the [`Scopes`] it was granted.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Salesforce's default session timeout, used as the lifetime estimate of a Salesforce token
/// (its token responses never carry `expires_in`).
pub const DEFAULT_SALESFORCE_SESSION: Duration = Duration::from_secs(2 * 60 * 60);

/// How long a legacy Pardot api_key lives.
pub const LEGACY_API_KEY_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The set of scopes a token was granted (`scope` in a token response, space-separated).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space-separated list.
    pub fn parse(text: &str) -> Self {
        Self(text.split_whitespace().map(str::to_owned).collect())
    }

    /// True when `scope` was granted.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// True when the token may call the Pardot API (`pardot_api` or `full`).
    pub fn allows_pardot(&self) -> bool {
        self.contains("pardot_api") || self.contains("full")
    }

    /// True when a refresh token can be issued for these scopes.
    pub fn allows_refresh(&self) -> bool {
        self.contains("refresh_token") || self.contains("offline_access")
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// True when no scope is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(|s| s.as_ref().to_owned()).collect())
    }
}

/// What kind of credential a token is, which fixes how it is sent.
#[derive(Clone)]
#[non_exhaustive]
pub enum TokenKind {
    /// A Salesforce OAuth access token: `Authorization: Bearer …` plus, for Pardot,
    /// `Pardot-Business-Unit-Id`.
    SalesforceBearer,
    /// A legacy Pardot api_key, sent with its user_key as `Authorization: Pardot api_key=…, user_key=…`.
    LegacyApiKey {
        /// The account's user key (never expires).
        user_key: SecretString,
    },
    /// A Marketing Cloud Intelligence bearer token: `Authorization: Bearer …`.
    MciBearer,
}

impl fmt::Debug for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SalesforceBearer => "SalesforceBearer",
            Self::LegacyApiKey { .. } => "LegacyApiKey { user_key: [redacted] }",
            Self::MciBearer => "MciBearer",
        })
    }
}

/// When a token stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The server said so (`expires_in`) or the protocol fixes it (legacy api_key: 60 minutes).
    Known(SystemTime),
    /// Our guess: Salesforce does not say; the guess is the configured session timeout.
    Estimated(SystemTime),
}

impl Expiry {
    /// The instant, known or estimated.
    pub fn at(self) -> SystemTime {
        match self {
            Self::Known(t) | Self::Estimated(t) => t,
        }
    }
}

/// A credential ready to be put on a request.
///
/// The secret is a [`SecretString`]: `Debug` never shows it, and reading it takes an explicit
/// [`AccessToken::secret`] call.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use pardot_auth_core::{AccessToken, TokenKind, Expiry};
///
/// let now = SystemTime::now();
/// let token = AccessToken::new(
///     TokenKind::SalesforceBearer,
///     "00D50000000IZ3Z!AQgAQH0Yd9M5".into(),
///     now,
///     Expiry::Estimated(now + Duration::from_secs(7200)),
/// );
/// assert!(token.is_fresh(now, Duration::from_secs(300)));
/// assert!(!format!("{token:?}").contains("AQgAQ"));
/// ```
#[derive(Clone)]
pub struct AccessToken {
    kind: TokenKind,
    secret: SecretString,
    issued_at: SystemTime,
    expiry: Expiry,
    instance_url: Option<Url>,
    identity_url: Option<String>,
    scopes: Option<Scopes>,
    refresh_token: Option<SecretString>,
}

impl AccessToken {
    /// A token of `kind` with its secret, issue time and expiry.
    pub fn new(
        kind: TokenKind,
        secret: SecretString,
        issued_at: SystemTime,
        expiry: Expiry,
    ) -> Self {
        Self {
            kind,
            secret,
            issued_at,
            expiry,
            instance_url: None,
            identity_url: None,
            scopes: None,
            refresh_token: None,
        }
    }

    crate::builder_setters! {
        /// Sets the `instance_url` of a Salesforce token.
        pub fn with_instance_url(url: Url) => instance_url = Some(url);

        /// Sets the identity URL (`id` of a Salesforce token response).
        pub fn with_identity_url(url: impl Into<String>) => identity_url = Some(url.into());

        /// Sets the granted scopes.
        pub fn with_scopes(scopes: Scopes) => scopes = Some(scopes);

        /// The same token with another expiry (every other field kept).
        pub fn with_expiry(expiry: Expiry) => expiry = expiry;

        /// Sets the refresh token issued with this token.
        pub fn with_refresh_token(refresh_token: SecretString)
            => refresh_token = Some(refresh_token);
    }

    /// The kind, which fixes the header scheme.
    pub fn kind(&self) -> &TokenKind {
        &self.kind
    }

    /// The secret value. Call only to put it on the wire.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When it was issued.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When it expires (known or estimated).
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// The expiry instant.
    pub fn expires_at(&self) -> SystemTime {
        self.expiry.at()
    }

    /// Its whole lifetime (issue to expiry).
    pub fn lifetime(&self) -> Duration {
        self.expires_at()
            .duration_since(self.issued_at)
            .unwrap_or_default()
    }

    /// The Salesforce `instance_url`, if any.
    pub fn instance_url(&self) -> Option<&Url> {
        self.instance_url.as_ref()
    }

    /// The identity URL (`https://login.salesforce.com/id/00D…/005…`), if any.
    pub fn identity_url(&self) -> Option<&str> {
        self.identity_url.as_deref()
    }

    /// The granted scopes, when the server said.
    pub fn scopes(&self) -> Option<&Scopes> {
        self.scopes.as_ref()
    }

    /// The refresh token issued with this token, if any.
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh_token.as_ref()
    }

    /// True while `now + margin` is before the expiry: the token can be used and need not be
    /// refreshed yet.
    pub fn is_fresh(&self, now: SystemTime, margin: Duration) -> bool {
        now.checked_add(margin)
            .is_some_and(|t| t < self.expires_at())
    }

    /// True when `now` is at or past the expiry.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }

    /// True when `other` carries the same secret and issue time: the same credential, so a
    /// 401 seen with `other` may invalidate this one (and not a newer one).
    pub fn is_same_as(&self, other: &AccessToken) -> bool {
        self.issued_at == other.issued_at
            && self.secret.expose_secret() == other.secret.expose_secret()
    }
}

crate::debug_shows!(
    AccessToken as this,
    complete {
        kind: this.kind,
        secret: "[redacted]",
        issued_at: this.issued_at,
        expiry: this.expiry,
        instance_url: this.instance_url.as_ref().map(Url::as_str),
        identity_url: this.identity_url,
        scopes: this.scopes,
        refresh_token: this.refresh_token.as_ref().map(|_| "[redacted]"),
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_expiry_changes_the_expiry_and_keeps_every_other_field() {
        let now = SystemTime::now();
        let token = AccessToken::new(
            TokenKind::SalesforceBearer,
            "tok-1".into(),
            now,
            Expiry::Estimated(now + Duration::from_secs(7200)),
        )
        .with_instance_url(Url::parse("https://na1.salesforce.com").unwrap())
        .with_identity_url("https://login.salesforce.com/id/00D/005")
        .with_scopes(Scopes::parse("api pardot_api"))
        .with_refresh_token("rt-1".into());
        let later = Expiry::Known(now + Duration::from_secs(900));
        let moved = token.clone().with_expiry(later);
        assert_eq!(moved.expiry(), later);
        assert!(moved.is_same_as(&token));
        assert_eq!(moved.instance_url(), token.instance_url());
        assert_eq!(moved.identity_url(), token.identity_url());
        assert_eq!(moved.scopes(), token.scopes());
        assert_eq!(
            moved.refresh_token().map(|r| r.expose_secret().to_owned()),
            Some("rt-1".to_owned())
        );
    }

    fn token(now: SystemTime) -> AccessToken {
        AccessToken::new(
            TokenKind::LegacyApiKey {
                user_key: "c0ffee0123456789c0ffee0123456789".into(),
            },
            "5a1698a233e73d7c8ccd60d775fbc68a".into(),
            now,
            Expiry::Known(now + LEGACY_API_KEY_LIFETIME),
        )
        .with_refresh_token("5Aep861SECRETREFRESH".into())
    }

    #[test]
    fn debug_shows_no_secret() {
        let now = SystemTime::now();
        let text = format!("{:?}", token(now));
        for secret in ["5a1698a2", "c0ffee", "5Aep861"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains("redacted"));
    }

    #[test]
    fn freshness_uses_the_margin() {
        let now = SystemTime::now();
        let t = token(now);
        assert!(t.is_fresh(now, Duration::from_secs(59 * 60)));
        assert!(!t.is_fresh(now, Duration::from_secs(60 * 60)));
        assert!(!t.is_expired(now + Duration::from_secs(3599)));
        assert!(t.is_expired(now + LEGACY_API_KEY_LIFETIME));
        assert_eq!(t.lifetime(), LEGACY_API_KEY_LIFETIME);
    }

    #[test]
    fn sameness_is_secret_and_issue_time() {
        let now = SystemTime::now();
        assert!(token(now).is_same_as(&token(now)));
        assert!(!token(now).is_same_as(&token(now + Duration::from_secs(1))));
    }

    #[test]
    fn scopes_parse_and_judge() {
        let s = Scopes::parse("refresh_token  api pardot_api");
        assert!(s.allows_pardot());
        assert!(s.allows_refresh());
        assert_eq!(s.to_string(), "api pardot_api refresh_token");
        assert!(Scopes::parse("full").allows_pardot());
        assert!(!Scopes::parse("api web").allows_pardot());
        assert!(Scopes::parse("offline_access").allows_refresh());
    }
}
