//! [`AccessToken`]: a credential with its lifetime, and the [`Scopes`] it was granted.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::interned::Interned;

/// Salesforce's default session timeout, used as the lifetime estimate of a Salesforce token
/// (its token responses never carry `expires_in`).
pub const DEFAULT_SALESFORCE_SESSION: Duration = Duration::from_secs(2 * 60 * 60);

/// How long a legacy Pardot api_key lives.
pub const LEGACY_API_KEY_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The set of scopes a token was granted (`scope` in a token response, space-separated).
///
/// Kept as its normalized text (sorted, each scope once), shared by every token granted the
/// same scopes: cloning one is a reference count.
#[derive(Clone, PartialEq, Eq)]
pub struct Scopes(Arc<String>);

/// The scope sets alive in this process.
static SCOPES: Interned<String> = Interned::new();

impl Scopes {
    /// Parses a space-separated list.
    pub fn parse(text: &str) -> Self {
        text.split_whitespace().collect()
    }

    /// True when `scope` was granted.
    pub fn contains(&self, scope: &str) -> bool {
        self.iter().any(|s| s == scope)
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
        self.0.split(' ').filter(|s| !s.is_empty())
    }

    /// True when no scope is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Scopes {
    fn default() -> Self {
        Self::parse("")
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

/// Scopes from names; a name holding spaces counts as the scopes it separates.
impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let names: Vec<S> = iter.into_iter().collect();
        let mut scopes: Vec<&str> = names
            .iter()
            .flat_map(|n| n.as_ref().split_whitespace())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        Self(SCOPES.share(scopes.join(" ")))
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
/// Clones share one copy of the token (cloning is a reference count), so a cache, its store
/// and every request in flight hold the secret once; it is zeroized when the last clone is
/// dropped. Equal instance URLs and scope sets are shared by every token in the process.
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
pub struct AccessToken(Arc<TokenData>);

/// What an [`AccessToken`] holds, shared by its clones.
#[derive(Clone)]
struct TokenData {
    kind: TokenKind,
    secret: SecretString,
    issued_at: SystemTime,
    expiry: Expiry,
    instance_url: Option<Arc<Url>>,
    identity_url: Option<Box<str>>,
    scopes: Option<Scopes>,
    refresh_token: Option<SecretString>,
}

/// The instance URLs alive in this process.
static INSTANCE_URLS: Interned<Url> = Interned::new();

impl AccessToken {
    /// A token of `kind` with its secret, issue time and expiry.
    pub fn new(
        kind: TokenKind,
        secret: SecretString,
        issued_at: SystemTime,
        expiry: Expiry,
    ) -> Self {
        Self(Arc::new(TokenData {
            kind,
            secret,
            issued_at,
            expiry,
            instance_url: None,
            identity_url: None,
            scopes: None,
            refresh_token: None,
        }))
    }

    /// This token with `change` made to it (to a copy when it is shared with other clones).
    fn changed(mut self, change: impl FnOnce(&mut TokenData)) -> Self {
        change(Arc::make_mut(&mut self.0));
        self
    }

    /// Sets the `instance_url` of a Salesforce token.
    pub fn with_instance_url(self, url: Url) -> Self {
        let url = INSTANCE_URLS.share(url);
        self.changed(|t| t.instance_url = Some(url))
    }

    /// Sets the identity URL (`id` of a Salesforce token response).
    pub fn with_identity_url(self, url: impl Into<String>) -> Self {
        let url = url.into().into_boxed_str();
        self.changed(|t| t.identity_url = Some(url))
    }

    /// Sets the granted scopes.
    pub fn with_scopes(self, scopes: Scopes) -> Self {
        self.changed(|t| t.scopes = Some(scopes))
    }

    /// The same token with another expiry (every other field kept).
    pub fn with_expiry(self, expiry: Expiry) -> Self {
        self.changed(|t| t.expiry = expiry)
    }

    /// Sets the refresh token issued with this token.
    pub fn with_refresh_token(self, refresh_token: SecretString) -> Self {
        self.changed(|t| t.refresh_token = Some(refresh_token))
    }

    /// The kind, which fixes the header scheme.
    pub fn kind(&self) -> &TokenKind {
        &self.0.kind
    }

    /// The secret value. Call only to put it on the wire.
    pub fn secret(&self) -> &SecretString {
        &self.0.secret
    }

    /// When it was issued.
    pub fn issued_at(&self) -> SystemTime {
        self.0.issued_at
    }

    /// When it expires (known or estimated).
    pub fn expiry(&self) -> Expiry {
        self.0.expiry
    }

    /// The expiry instant.
    pub fn expires_at(&self) -> SystemTime {
        self.0.expiry.at()
    }

    /// Its whole lifetime (issue to expiry).
    pub fn lifetime(&self) -> Duration {
        self.expires_at()
            .duration_since(self.0.issued_at)
            .unwrap_or_default()
    }

    /// The Salesforce `instance_url`, if any.
    pub fn instance_url(&self) -> Option<&Url> {
        self.0.instance_url.as_deref()
    }

    /// The identity URL (`https://login.salesforce.com/id/00D…/005…`), if any.
    pub fn identity_url(&self) -> Option<&str> {
        self.0.identity_url.as_deref()
    }

    /// The granted scopes, when the server said.
    pub fn scopes(&self) -> Option<&Scopes> {
        self.0.scopes.as_ref()
    }

    /// The refresh token issued with this token, if any.
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.0.refresh_token.as_ref()
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
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.issued_at == other.0.issued_at
                && self.0.secret.expose_secret() == other.0.secret.expose_secret())
    }
}

crate::debug_shows!(
    AccessToken as this,
    complete {
        kind: this.0.kind,
        secret: "[redacted]",
        issued_at: this.0.issued_at,
        expiry: this.0.expiry,
        instance_url: this.0.instance_url.as_deref().map(Url::as_str),
        identity_url: this.0.identity_url,
        scopes: this.0.scopes,
        refresh_token: this.0.refresh_token.as_ref().map(|_| "[redacted]"),
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
    fn clones_share_one_token_and_changes_copy_it() {
        let now = SystemTime::now();
        let token = token(now);
        let clone = token.clone();
        assert!(Arc::ptr_eq(&token.0, &clone.0));
        let later = Expiry::Known(now + Duration::from_secs(1));
        let moved = clone.with_expiry(later);
        assert!(!Arc::ptr_eq(&token.0, &moved.0));
        assert_eq!(token.expiry(), Expiry::Known(now + LEGACY_API_KEY_LIFETIME));
        assert_eq!(moved.expiry(), later);
    }

    #[test]
    fn equal_instance_urls_and_scopes_are_held_once() {
        let now = SystemTime::now();
        let [a, b] = ["tok-a", "tok-b"].map(|secret| {
            AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + DEFAULT_SALESFORCE_SESSION),
            )
            .with_instance_url(Url::parse("https://acme.my.salesforce.com").unwrap())
            .with_scopes(Scopes::parse("api pardot_api"))
        });
        let url = |t: &AccessToken| t.0.instance_url.clone().unwrap();
        assert!(Arc::ptr_eq(&url(&a), &url(&b)));
        let scopes = |t: &AccessToken| t.scopes().unwrap().0.clone();
        assert!(Arc::ptr_eq(&scopes(&a), &scopes(&b)));
        assert_eq!(
            a.instance_url().unwrap().as_str(),
            "https://acme.my.salesforce.com/"
        );
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
        assert_eq!(
            s,
            ["api", "pardot_api refresh_token", "api"].iter().collect()
        );
        assert_eq!(Scopes::parse(" "), Scopes::default());
        assert!(Scopes::default().is_empty() && Scopes::default().iter().next().is_none());
        assert!(!s.contains("pardot") && !s.contains(""));
    }
}
