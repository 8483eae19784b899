//! The vocabulary of the counters, the journal, expectations and faults: which route a request
//! matched ([`Route`]), what came of it ([`Outcome`]), and which routes a fault applies to
//! ([`RouteFilter`]).
//!
//! Each type's `Display` and `FromStr` use the wire names of `/__mock/counts`,
//! `/__mock/journal` and `POST /__mock/faults` (`oauth.token`, `invalid_grant`, `pardot_184`),
//! so a misspelt name is an error where it is parsed instead of a counter that never matches.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name that is not a known route, route group or outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}` (expected one of: {expected})")]
pub struct UnknownName {
    kind: &'static str,
    name: String,
    expected: String,
}

impl UnknownName {
    fn new<T: fmt::Display>(kind: &'static str, name: &str, known: &[T]) -> Self {
        let expected = known
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            kind,
            name: name.to_owned(),
            expected,
        }
    }
}

/// Implements `Display`, `FromStr`, `Serialize` and `Deserialize` through the wire name.
macro_rules! wire_name_traits {
    ($type:ty, $kind:literal, $known:expr) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.wire_name())
            }
        }

        impl FromStr for $type {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, UnknownName> {
                Self::from_wire_name(name).ok_or_else(|| UnknownName::new($kind, name, $known))
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Declares a fieldless enum with one wire name per variant and its `ALL` list.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )* }
    ) => {
        $(#[$meta])*
        pub enum $name { $( $(#[$vmeta])* $variant, )* }

        impl $name {
            /// Every value, in the order the README's tables list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire name (`/__mock/counts`, `/__mock/journal`, the README).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }

            fn wire_name(self) -> &'static str {
                self.as_str()
            }

            fn from_wire_name(name: &str) -> Option<Self> {
                match name { $($wire => Some($name::$variant),)* _ => None }
            }
        }
    };
}

named_enum! {
    /// The route a request matched, by path inside its virtual host (see
    /// [`crate::front_door::route_key`]); the first key of the counters.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[non_exhaustive]
    pub enum Route {
        /// `oauth.token`: `/services/oauth2/token`, every grant and the device-code request.
        OAuthToken => "oauth.token",
        /// `oauth.revoke`: `/services/oauth2/revoke`.
        OAuthRevoke => "oauth.revoke",
        /// `oauth.userinfo`: `/services/oauth2/userinfo`.
        OAuthUserinfo => "oauth.userinfo",
        /// `oauth.identity`: the identity URL `/id/{org}/{user}`.
        OAuthIdentity => "oauth.identity",
        /// `oauth.introspect`: `/services/oauth2/introspect`.
        OAuthIntrospect => "oauth.introspect",
        /// `oauth.soap`: `/services/Soap/…` (answers a fault pointing to OAuth).
        OAuthSoap => "oauth.soap",
        /// `oauth.authorize`: `/services/oauth2/authorize`, the browser login pages.
        OAuthAuthorize => "oauth.authorize",
        /// `oauth.device`: `/setup/connect`, the device flow's verification pages.
        OAuthDevice => "oauth.device",
        /// `mci.discovery`: `/{region}/.well-known/openid-configuration`.
        MciDiscovery => "mci.discovery",
        /// `mci.token`: `/{region}/token`.
        MciToken => "mci.token",
        /// `mci.other`: any other `/{region}/…` path (`/{region}/jwks`).
        MciOther => "mci.other",
        /// `pardot.login`: the legacy login `/api/login/version/{3,4}`.
        PardotLogin => "pardot.login",
        /// `pardot.v3`: `/api/…/version/3/…`.
        PardotV3 => "pardot.v3",
        /// `pardot.v4`: `/api/…/version/4/…`.
        PardotV4 => "pardot.v4",
        /// `pardot.v5`: `/api/v5/…` (but the exports).
        PardotV5 => "pardot.v5",
        /// `pardot.export`: the v5 Export API, `/api/v5/exports…` (create, read, list,
        /// download).
        PardotExport => "pardot.export",
        /// `pardot.other`: any other `/api/…` path.
        PardotOther => "pardot.other",
        /// `admin`: `/__mock/…` (counted, never journaled).
        Admin => "admin",
        /// `other`: anything else.
        Other => "other",
    }
}

impl Route {
    /// The group the route belongs to (`oauth.token` -> `oauth`); `admin` and `other` have
    /// none.
    pub fn group(self) -> Option<RouteGroup> {
        RouteGroup::ALL.iter().copied().find(|g| {
            self.as_str()
                .strip_prefix(g.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

wire_name_traits!(Route, "route", Route::ALL);

named_enum! {
    /// The routes sharing a prefix, for faults that apply to all of them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[non_exhaustive]
    pub enum RouteGroup {
        /// Every `oauth.*` route (the Salesforce login server).
        OAuth => "oauth",
        /// Every `mci.*` route (the Marketing Cloud Intelligence identity provider).
        Mci => "mci",
        /// Every `pardot.*` route (the Pardot API and its legacy login).
        Pardot => "pardot",
    }
}

wire_name_traits!(RouteGroup, "route group", RouteGroup::ALL);

/// Which requests a fault applies to: one route, a group of routes, or all (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteFilter {
    /// Every route (`*`).
    Any,
    /// Every route of a group (`oauth`, `mci`, `pardot`).
    Group(RouteGroup),
    /// One route (`oauth.token`).
    Route(Route),
}

impl RouteFilter {
    /// Whether a request to `route` is covered.
    pub fn matches(self, route: Route) -> bool {
        match self {
            RouteFilter::Any => true,
            RouteFilter::Group(group) => route.group() == Some(group),
            RouteFilter::Route(r) => r == route,
        }
    }

    fn wire_name(self) -> std::borrow::Cow<'static, str> {
        match self {
            RouteFilter::Any => "*".into(),
            RouteFilter::Group(g) => g.as_str().into(),
            RouteFilter::Route(r) => r.as_str().into(),
        }
    }

    fn from_wire_name(name: &str) -> Option<Self> {
        match name {
            "*" => Some(RouteFilter::Any),
            _ => Route::from_wire_name(name)
                .map(RouteFilter::Route)
                .or_else(|| RouteGroup::from_wire_name(name).map(RouteFilter::Group)),
        }
    }

    /// Every name a filter accepts, for error messages.
    fn known_names() -> Vec<&'static str> {
        let mut names = vec!["*"];
        names.extend(RouteGroup::ALL.iter().map(|g| g.as_str()));
        names.extend(Route::ALL.iter().map(|r| r.as_str()));
        names
    }
}

wire_name_traits!(
    RouteFilter,
    "route or route group",
    &RouteFilter::known_names()
);

impl From<Route> for RouteFilter {
    fn from(route: Route) -> Self {
        RouteFilter::Route(route)
    }
}

impl From<RouteGroup> for RouteFilter {
    fn from(group: RouteGroup) -> Self {
        RouteFilter::Group(group)
    }
}

/// Declares [`Outcome`]: the variants with a fixed wire name, then the numbered ones.
macro_rules! outcome_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )*
            ;
            numbered { $( $(#[$nmeta:meta])* $numbered:ident($number:ty) => $prefix:literal, )* }
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            $( $(#[$nmeta])* $numbered($number), )*
        }

        impl $name {
            /// Every outcome with a fixed name, in declaration order (the numbered ones take
            /// any number).
            pub const NAMED: &'static [$name] = &[$($name::$variant),*];

            fn wire_name(self) -> std::borrow::Cow<'static, str> {
                match self {
                    $($name::$variant => $wire.into(),)*
                    $($name::$numbered(n) => format!(concat!($prefix, "{}"), n).into(),)*
                }
            }

            fn from_wire_name(name: &str) -> Option<Self> {
                $(
                    if let Some(digits) = name.strip_prefix($prefix) {
                        return number(digits).map($name::$numbered);
                    }
                )*
                match name { $($wire => Some($name::$variant),)* _ => None }
            }

            fn known_names() -> Vec<&'static str> {
                let mut names = vec![$($wire),*];
                names.extend([$(concat!($prefix, "<n>")),*]);
                names
            }
        }
    };
}

outcome_enum! {
    /// What came of a request, the second key of the counters: `ok`, an OAuth `error` code,
    /// a login-page state, a Pardot error code, `fault`, or an HTTP status. The crate README's
    /// "Counters" section lists which route answers which.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[non_exhaustive]
    pub enum Outcome {
        /// `ok`: a 2xx/3xx answer (a token, a page redirecting with a code, an API result).
        Ok => "ok",
        /// `fault`: answered by a `fail_next` fault instead of the real handler.
        Fault => "fault",
        /// `unknown_host`: an unknown My Domain `/my/NAME` (404).
        UnknownHost => "unknown_host",
        /// `login_page`: the login form was shown.
        LoginPage => "login_page",
        /// `login_failed`: the login form was shown again with an error.
        LoginFailed => "login_failed",
        /// `consent`: the Allow/Deny page was shown.
        Consent => "consent",
        /// `code_page`: the device flow's user-code form was shown.
        CodePage => "code_page",
        /// `invalid_user_code`: the device flow's user code is unknown.
        InvalidUserCode => "invalid_user_code",
        /// `unknown_transaction`: a login-page form post with an unknown or spent transaction.
        UnknownTransaction => "unknown_transaction",
        /// `bad_request`: a login-page form post missing its fields.
        BadRequest => "bad_request",
        /// `unsupported_grant_type` (OAuth error).
        UnsupportedGrantType => "unsupported_grant_type",
        /// `unsupported_response_type` (OAuth error, authorize redirect).
        UnsupportedResponseType => "unsupported_response_type",
        /// `unsupported_token_type` (revoke error).
        UnsupportedTokenType => "unsupported_token_type",
        /// `invalid_request` (OAuth error).
        InvalidRequest => "invalid_request",
        /// `invalid_client_id` (OAuth error).
        InvalidClientId => "invalid_client_id",
        /// `invalid_client` (OAuth error).
        InvalidClient => "invalid_client",
        /// `invalid_grant` (OAuth error).
        InvalidGrant => "invalid_grant",
        /// `invalid_app_access` (OAuth error: admin-approved app, user not assigned).
        InvalidAppAccess => "invalid_app_access",
        /// `invalid_scope` (OAuth error).
        InvalidScope => "invalid_scope",
        /// `invalid_token` (revoke error).
        InvalidToken => "invalid_token",
        /// `inactive_user` (OAuth error).
        InactiveUser => "inactive_user",
        /// `inactive_org` (OAuth error).
        InactiveOrg => "inactive_org",
        /// `rate_limit_exceeded` (OAuth error).
        RateLimitExceeded => "rate_limit_exceeded",
        /// `redirect_uri_missing` (OAuth error).
        RedirectUriMissing => "redirect_uri_missing",
        /// `redirect_uri_mismatch` (OAuth error).
        RedirectUriMismatch => "redirect_uri_mismatch",
        /// `immediate_unsuccessful` (authorize redirect with `immediate=true`).
        ImmediateUnsuccessful => "immediate_unsuccessful",
        /// `authorization_pending` (device polling).
        AuthorizationPending => "authorization_pending",
        /// `slow_down` (device polling).
        SlowDown => "slow_down",
        /// `access_denied` (the user or the org denied).
        AccessDenied => "access_denied",
        /// `expired_token` (device code expired or decided meanwhile).
        ExpiredToken => "expired_token",
        /// `bad_oauth_token` (userinfo / identity URL with a bad token).
        BadOAuthToken => "bad_oauth_token",
        /// `wrong_org` (identity URL of another org).
        WrongOrg => "wrong_org",
        /// `bad_id` (malformed identity URL).
        BadId => "bad_id",
        /// `inactive` (identity URL of an inactive user).
        Inactive => "inactive",
        /// `soap_not_supported` (the retired SOAP login).
        SoapNotSupported => "soap_not_supported",
        /// `server_error` (the mock could not sign a token; not expected).
        ServerError => "server_error",
        ;
        numbered {
            /// `pardot_<code>`: a Pardot API error code (`pardot_184`).
            Pardot(u32) => "pardot_",
            /// `http_<status>`: a non-2xx/3xx answer without an outcome of its own
            /// (`http_404`).
            Http(u16) => "http_",
        }
    }
}

/// A decimal number without sign or leading zeros, as the wire names print them.
fn number<T: FromStr>(digits: &str) -> Option<T> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

wire_name_traits!(Outcome, "outcome", &Outcome::known_names());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for route in Route::ALL {
            assert_eq!(route.to_string().parse::<Route>(), Ok(*route));
        }
        for outcome in Outcome::NAMED
            .iter()
            .copied()
            .chain([Outcome::Pardot(184), Outcome::Http(404)])
        {
            assert_eq!(outcome.to_string().parse::<Outcome>(), Ok(outcome));
        }
        assert_eq!(Route::OAuthToken.to_string(), "oauth.token");
        assert_eq!(Outcome::BadOAuthToken.to_string(), "bad_oauth_token");
        assert_eq!(Outcome::Pardot(184).to_string(), "pardot_184");
        assert_eq!(Outcome::Http(413).to_string(), "http_413");
    }

    #[test]
    fn unknown_names_are_errors_naming_the_choices() {
        let err = "oauth.tokn".parse::<Route>().unwrap_err().to_string();
        assert!(err.contains("unknown route `oauth.tokn`"), "{err}");
        assert!(err.contains("oauth.token"), "{err}");
        for bad in ["okay", "pardot_", "pardot_x", "pardot_01", "http_99999", ""] {
            assert!(bad.parse::<Outcome>().is_err(), "{bad}");
        }
        assert!("oauth.".parse::<RouteFilter>().is_err());
    }

    #[test]
    fn filters_match_routes_groups_and_all() {
        let oauth: RouteFilter = "oauth".parse().unwrap();
        assert_eq!(oauth, RouteFilter::Group(RouteGroup::OAuth));
        assert!(oauth.matches(Route::OAuthToken));
        assert!(!oauth.matches(Route::MciToken));
        assert!(!oauth.matches(Route::Other));
        assert!(RouteFilter::Any.matches(Route::Admin));
        assert!(RouteFilter::from(Route::PardotV5).matches(Route::PardotV5));
        assert!(!RouteFilter::from(Route::PardotV5).matches(Route::PardotV4));
        assert_eq!(RouteFilter::Any.to_string(), "*");
        assert_eq!(Route::Admin.group(), None);
        assert_eq!(Route::MciOther.group(), Some(RouteGroup::Mci));
    }

    #[test]
    fn serde_uses_the_wire_names() {
        let json = serde_json::to_string(&(Route::PardotV4, Outcome::Pardot(1))).unwrap();
        assert_eq!(json, r#"["pardot.v4","pardot_1"]"#);
        let err = serde_json::from_str::<RouteFilter>(r#""pardot.v9""#).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown route or route group `pardot.v9`")
        );
    }
}
