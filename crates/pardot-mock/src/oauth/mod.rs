//! The Salesforce login server: token endpoint (every grant), revoke, userinfo, identity URL,
//! introspect, the SOAP login's refusal, and the browser-facing login (`authorize`, the
//! device pages, their admin controls in `web`). The code and device grants plug into
//! `grants::dispatch`.

/// Declares token-endpoint errors one a line: `NAME: Outcome variant, "error_description";`
/// becomes `pub const NAME: OAuthError` (status 400).
macro_rules! oauth_errors {
    ($($(#[$doc:meta])* $name:ident: $outcome:ident, $description:expr;)*) => {
        $(
            $(#[$doc])*
            pub const $name: $crate::oauth::OAuthError =
                $crate::oauth::OAuthError::new($crate::route::Outcome::$outcome, $description);
        )*
    };
}

pub(crate) mod assertion;
pub mod authorize;
pub mod code;
pub mod device;
pub(crate) mod direct;
mod endpoints;
pub(crate) mod grant_context;
pub(crate) mod grants;
pub(crate) mod jwt;
mod login_request;
mod pages;
mod sign_in_routes;
pub mod web;

use std::borrow::Cow;

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::config::OrgKind;
use crate::model::Org;
use crate::outcome::{plain, reporting};
use crate::route::Outcome;
use crate::state::MockState;
use crate::support::write_json_string;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// The `Cache-Control` Salesforce sends on token responses.
pub const TOKEN_CACHE_CONTROL: &str = "no-cache,must-revalidate,max-age=0,no-store,private";
/// The `Content-Type` of token responses.
pub const TOKEN_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// The login-server routes (paths inside any login virtual host).
pub(crate) fn routes() -> Router {
    direct::routes()
        .route("/id/{org}/{user}", get_or_post(endpoints::identity))
        .route(
            "/services/Soap/{kind}/{version}",
            post(endpoints::soap_login),
        )
        // The browser-facing login, the device pages and their admin controls.
        .route(
            "/services/oauth2/authorize",
            get_or_post(authorize::authorize),
        )
        .route("/setup/connect", get_or_post(device::connect))
        .merge(web::admin_routes())
        .merge(sign_in_routes::admin_routes())
}

/// One handler for `GET` (and `HEAD`) and `POST`: Salesforce answers these endpoints alike on
/// either method.
fn get_or_post<H, T>(handler: H) -> MethodRouter
where
    H: Handler<T, ()>,
    T: 'static,
{
    get(handler.clone()).post(handler)
}

/// The answer for a login-server path on a virtual host that is not a login host.
pub(crate) fn not_a_login_host() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "not a login host",
        Outcome::Http(404),
    )
}

/// An OAuth error response: HTTP 400, `{"error":…,"error_description":…}`, the headers of
/// `docs/reference/salesforce-oauth.md#token-endpoint-errors`.
/// The body's `error` code is the wire name of the outcome the response reports, so the two
/// cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` code, as the outcome it reports (`invalid_grant`).
    pub error: Outcome,
    /// The `error_description`.
    pub description: Cow<'static, str>,
    /// The HTTP status (400 for every token-endpoint error).
    pub status: StatusCode,
}

impl OAuthError {
    pub(crate) const fn new(error: Outcome, description: &'static str) -> Self {
        Self {
            error,
            description: Cow::Borrowed(description),
            status: StatusCode::BAD_REQUEST,
        }
    }
}

/// The token endpoint's errors (`docs/reference/salesforce-oauth.md#token-endpoint-errors`).
pub mod errors {
    oauth_errors! {
        /// Unknown or disabled `grant_type`.
        UNSUPPORTED_GRANT_TYPE: UnsupportedGrantType, "grant type not supported";
        /// Unknown `client_id` (or JWT `iss`).
        INVALID_CLIENT_ID: InvalidClientId, "client identifier invalid";
        /// Wrong `client_secret`.
        INVALID_CLIENT: InvalidClient, "invalid client credentials";
        /// Bad username/password, flow blocked, wrong host for the org.
        AUTHENTICATION_FAILURE: InvalidGrant, "authentication failure";
        /// Code expired or reused (and an expired JWT assertion).
        EXPIRED_CODE: InvalidGrant, "expired authorization code";
        /// Bad, revoked or rotated refresh token.
        EXPIRED_TOKEN: InvalidGrant, "expired access/refresh token";
        /// No approval / not pre-authorized (JWT).
        NOT_APPROVED: InvalidGrant, "user hasn't approved this consumer";
        /// Admin-approved app, user not assigned.
        INVALID_APP_ACCESS: InvalidAppAccess, "user is not admin approved to access this app";
        /// JWT `aud` not accepted.
        AUDIENCE_INVALID: InvalidGrant, "audience is invalid";
        /// JWT malformed or signature not verifiable.
        INVALID_ASSERTION: InvalidGrant, "invalid assertion";
        /// Inactive user (password, JWT, code grants).
        INACTIVE_USER: InactiveUser, "user is inactive";
        /// Inactive user on the refresh grant.
        INACTIVE_USER_REFRESH: InvalidGrant, "inactive user";
        /// Locked, closed or suspended org.
        INACTIVE_ORG: InactiveOrg, "organization is locked, closed, or suspended";
        /// Too many logins.
        RATE_LIMIT: RateLimitExceeded, "number of logins exceeded";
        /// A requested scope the app does not have.
        INVALID_SCOPE: InvalidScope, "requested scope is invalid, unknown, or malformed";
        /// The token endpoint called with GET.
        MUST_POST: InvalidRequest, "must use HTTP POST";
        /// Client credentials outside a My Domain host.
        NOT_ON_THIS_DOMAIN: InvalidGrant, "request not supported on this domain";
        /// Client credentials without a run-as user.
        NO_CC_USER: InvalidGrant, "no client credentials user enabled";
        /// Client credentials where no app scope is allowed.
        NO_VALID_SCOPES: InvalidGrant, "no valid scopes defined";
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: Outcome,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&ErrorBody {
            error: self.error,
            error_description: &self.description,
        })
        .unwrap_or_default();
        let mut r = (self.status, body).into_response();
        token_headers(r.headers_mut());
        reporting(r, self.error)
    }
}

pub(crate) fn token_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TOKEN_CONTENT_TYPE),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TOKEN_CACHE_CONTROL),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
}

/// A success body of the token endpoint; field order as Salesforce sends it. Written by
/// [`TokenBody::json`]; the tests hold that to what serde writes for the struct.
#[derive(Debug, Serialize, Default)]
pub(crate) struct TokenBody {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub scope: String,
    pub instance_url: String,
    pub id: String,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
}

impl TokenBody {
    /// The answer's JSON, fields in declaration order and the absent ones left out: what
    /// serde writes for the struct, without looking at every byte one at a time (the values
    /// almost never need an escape, and serde's escaping was more than half of writing the
    /// answer).
    fn json(&self) -> String {
        let fields = [
            ("access_token", Some(self.access_token.as_str())),
            ("refresh_token", self.refresh_token.as_deref()),
            ("signature", self.signature.as_deref()),
            ("scope", Some(self.scope.as_str())),
            ("instance_url", Some(self.instance_url.as_str())),
            ("id", Some(self.id.as_str())),
            ("token_type", Some(self.token_type)),
            ("issued_at", self.issued_at.as_deref()),
        ];
        // Room for the whole answer (about 420 bytes), so it is written without growing.
        let mut out = String::with_capacity(512);
        out.push('{');
        for (name, value) in fields {
            let Some(value) = value else { continue };
            if out.len() > 1 {
                out.push(',');
            }
            write_json_string(name, &mut out);
            out.push(':');
            write_json_string(value, &mut out);
        }
        out.push('}');
        out
    }
}

impl IntoResponse for TokenBody {
    fn into_response(self) -> Response {
        let mut r = (StatusCode::OK, self.json()).into_response();
        token_headers(r.headers_mut());
        r
    }
}

pub use crate::signature_key::token_signature;

/// Whether an org may log in on this login host (the org/host rule of the mock README's "Virtual
/// hosts").
pub(crate) fn org_allowed_on(org: &Org, login: &LoginVhost) -> bool {
    match login {
        LoginVhost::Production => org.kind == OrgKind::Production,
        LoginVhost::Sandbox => org.kind == OrgKind::Sandbox,
        LoginVhost::MyDomain(name) => org
            .my_domain
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(name)),
    }
}

/// The identity URL of a user, on the host called.
pub(crate) fn identity_url(vhost: &VirtualHost, state: &MockState, user: usize) -> String {
    let u = state.user(user);
    let org = &state.model().orgs[u.org];
    crate::support::concat(&[
        &vhost.public_base,
        "/id/",
        org.id.as_str(),
        "/",
        u.id.as_str(),
    ])
}

/// The `instance_url` for an org: configured, else the origin called.
pub(crate) fn instance_url(vhost: &VirtualHost, org: &Org) -> String {
    org.instance_url
        .clone()
        .unwrap_or_else(|| vhost.origin.clone())
}

/// Client credentials from the form/query (`client_id`, `client_secret`) or HTTP Basic
/// (borrowed from the parameters; only Basic credentials are decoded into new strings).
pub(crate) fn client_auth<'a>(
    params: &'a crate::request_params::RequestParams,
    headers: &HeaderMap,
) -> (Option<Cow<'a, str>>, Option<Cow<'a, str>>) {
    let mut id = params.non_empty("client_id").map(Cow::Borrowed);
    let mut secret = params.non_empty("client_secret").map(Cow::Borrowed);
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        })
        && let Ok(decoded) = STANDARD.decode(basic)
        && let Ok(text) = String::from_utf8(decoded)
        && let Some((user, pass)) = text.split_once(':')
    {
        let user = percent_decode(user);
        let pass = percent_decode(pass);
        if id.is_none() {
            id = Some(Cow::Owned(user));
        }
        if secret.is_none() {
            secret = Some(Cow::Owned(pass));
        }
    }
    (id, secret)
}

/// RFC 6749 §2.3.1 says Basic credentials are form-encoded first; decode when it parses.
fn percent_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map_or_else(|| s.to_owned(), |(_, v)| v)
}

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn secret_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of a request: `Authorization: Bearer …` / `OAuth …`, or `oauth_token` /
/// `access_token` parameters.
pub(crate) fn bearer_token(
    headers: &HeaderMap,
    params: &crate::request_params::RequestParams,
) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
                .then(|| rest.trim().to_owned())
        })
        .or_else(|| params.non_empty("oauth_token").map(str::to_owned))
        .or_else(|| params.non_empty("access_token").map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_answer_is_what_serde_writes() {
        let full = TokenBody {
            access_token: "00D5g00000AcmeP!AQ4AQ.x".into(),
            refresh_token: Some("5Aep861".into()),
            signature: Some("q+/=".into()),
            scope: "api refresh_token".into(),
            instance_url: "http://127.0.0.1:9/my/acme".into(),
            id: "http://127.0.0.1:9/id/00D/005".into(),
            token_type: "Bearer",
            issued_at: Some("1700000000000".into()),
        };
        // A host name sent by a client can hold anything a header value can.
        let escaped = TokenBody {
            instance_url: "http://a\"b\\c\u{1}\u{7f}é日🦀".into(),
            ..TokenBody::default()
        };
        let bare = TokenBody {
            access_token: "t".into(),
            token_type: "Bearer",
            ..TokenBody::default()
        };
        for body in [full, escaped, bare, TokenBody::default()] {
            assert_eq!(
                body.json(),
                serde_json::to_string(&body).unwrap(),
                "{body:?}"
            );
        }
    }

    #[test]
    fn signature_is_hmac_sha256_base64() {
        // Reference: printf '%s' 'https://x/id/a/b1296509381665' | openssl dgst -sha256 -hmac secret -binary | base64
        let sig = token_signature("secret", "https://x/id/a/b", "1296509381665");
        assert_eq!(sig, "05188qcaXojsjK2zjCTEgOrgvXY/FMBcU9tkOY+qHLc=");
        assert_ne!(
            sig,
            token_signature("other", "https://x/id/a/b", "1296509381665")
        );
    }

    #[tokio::test]
    async fn error_body_is_exact_and_names_the_reported_outcome() {
        let r = errors::AUTHENTICATION_FAILURE.into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[header::CACHE_CONTROL], TOKEN_CACHE_CONTROL);
        assert_eq!(
            r.extensions().get::<Outcome>(),
            Some(&Outcome::InvalidGrant)
        );
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            body,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#
        );
    }

    #[test]
    fn secret_compare() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("abc", "abcd"));
    }
}
