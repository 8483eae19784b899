//! Reading the token endpoint's answers: Salesforce's success JSON ([`TokenResponse`]) and its
//! `signature` check, the OAuth error JSON, and userinfo. No I/O: the bytes come from
//! [`OAuthClient`](crate::OAuthClient).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{KeyInit, Mac};
use pardot_auth_core::Scopes;
use pardot_auth_core::redact;
use pardot_auth_core::secrecy::{ExposeSecret, SecretString};
use pardot_auth_core::url::Url;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{OAuthError, OAuthErrorCode};
use crate::types::ClientSecret;

/// A raw HTTP answer, body already bounded.
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Parses a JSON answer; a body that is not the expected shape is a parse error naming `what`.
pub(crate) fn parse_json<T: DeserializeOwned>(
    body: &[u8],
    what: &'static str,
) -> Result<T, OAuthError> {
    serde_json::from_slice(body).map_err(|e| {
        // serde_json quotes a value it could not read (a token in a mistyped field): only
        // its redacted message is kept.
        let message = redact::excerpt(e.to_string().as_bytes(), PARSE_MESSAGE_CHARS);
        OAuthError::Parse {
            what,
            source: <serde_json::Error as serde::de::Error>::custom(message),
        }
    })
}

/// The most characters of a parser's message an error keeps.
const PARSE_MESSAGE_CHARS: usize = 300;

/// `now` plus `secs` seconds a server gave (`expires_in`), or a parse error naming `field` when
/// the sum is past any representable date: adding it unchecked would panic.
pub(crate) fn seconds_after(
    now: SystemTime,
    secs: u64,
    what: &'static str,
    field: &str,
) -> Result<SystemTime, OAuthError> {
    now.checked_add(Duration::from_secs(secs))
        .ok_or_else(|| OAuthError::Parse {
            what,
            source: <serde_json::Error as serde::de::Error>::custom(format!(
                "{field} {secs} is out of range"
            )),
        })
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads an error answer: the OAuth JSON body when there is one, else the status and the
/// start of the (error) body.
pub(crate) fn error_from_response(raw: &RawResponse) -> OAuthError {
    let retry_after = pardot_auth_core::retry_after(&raw.headers);
    // Everything kept from an error answer is bounded and redacted: a proxy or a debugging
    // endpoint may echo the posted form (refresh token, assertion, client secret).
    let text = |t: &str, max_chars| redact::excerpt(t.as_bytes(), max_chars);
    if let Ok(body) = serde_json::from_slice::<ErrorBody>(&raw.body) {
        return OAuthError::Server {
            status: raw.status,
            error: OAuthErrorCode::parse(&text(&body.error, 100)),
            description: text(body.error_description.as_deref().unwrap_or_default(), 500),
            retry_after,
        };
    }
    let body = redact::excerpt(&raw.body, 200);
    OAuthError::Http {
        status: raw.status,
        body,
        retry_after,
    }
}

/// A Salesforce token-endpoint success answer.
///
/// `issued_at`, `signature` and `refresh_token` are optional: the JWT bearer grant sends none
/// of them.
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// `instance_url`: where the org's APIs live.
    pub instance_url: Option<Url>,
    /// `id`: the identity URL `https://login.salesforce.com/id/00D…/005…`.
    pub id: Option<String>,
    /// `token_type` (`Bearer`).
    pub token_type: Option<String>,
    /// `issued_at` (epoch milliseconds on the wire).
    pub issued_at: Option<SystemTime>,
    /// `issued_at` exactly as sent (the signature covers this text).
    pub issued_at_raw: Option<String>,
    /// `signature`: base64 HMAC-SHA256 of `id` + `issued_at` with the client secret.
    pub signature: Option<String>,
    /// `scope`: the granted scopes.
    pub scope: Option<Scopes>,
    /// `refresh_token`, when the grant and scopes give one.
    pub refresh_token: Option<SecretString>,
    /// `id_token`, when `openid` was granted.
    pub id_token: Option<SecretString>,
    /// `expires_in` in seconds (MCI sends it; Salesforce does not).
    pub expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("id", &self.id)
            .field("token_type", &self.token_type)
            .field("issued_at_raw", &self.issued_at_raw)
            .field("scope", &self.scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    Text(String),
    Number(u64),
}

impl StringOrNumber {
    fn text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: SecretString,
    #[serde(default)]
    instance_url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    issued_at: Option<StringOrNumber>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    id_token: Option<SecretString>,
    #[serde(default)]
    expires_in: Option<StringOrNumber>,
}

impl TokenResponse {
    /// Parses a token-endpoint success body.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let raw: RawToken = parse_json(body, "token")?;
        let invalid = |msg: String| OAuthError::Parse {
            what: "token",
            source: <serde_json::Error as serde::de::Error>::custom(msg),
        };
        let instance_url = raw
            .instance_url
            .filter(|s| !s.is_empty())
            .map(|s| Url::parse(&s).map_err(|e| invalid(format!("instance_url: {e}"))))
            .transpose()?;
        let issued_at_raw = raw.issued_at.map(StringOrNumber::text);
        let issued_at = issued_at_raw
            .as_deref()
            .map(|s| {
                // Checked: on some platforms (Windows) SystemTime ends before u64 milliseconds.
                s.trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
                    .ok_or_else(|| {
                        invalid(format!(
                            "issued_at `{}` is not epoch milliseconds",
                            redact::excerpt(s.as_bytes(), 40)
                        ))
                    })
            })
            .transpose()?;
        let expires_in = raw
            .expires_in
            .map(|v| {
                let t = v.text();
                t.trim().parse::<u64>().map_err(|_| {
                    invalid(format!(
                        "expires_in `{}` is not a number of seconds",
                        redact::excerpt(t.as_bytes(), 40)
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            access_token: raw.access_token,
            instance_url,
            id: raw.id,
            token_type: raw.token_type,
            issued_at,
            issued_at_raw,
            signature: raw.signature,
            scope: raw.scope.as_deref().map(Scopes::parse),
            refresh_token: raw.refresh_token.filter(|t| !t.expose_secret().is_empty()),
            id_token: raw.id_token,
            expires_in,
        })
    }

    /// Checks `signature` = base64(HMAC-SHA256(client secret, `id` + `issued_at`)).
    ///
    /// Passes when the response carries no signature (the JWT bearer grant sends none);
    /// fails when a signature is present but `id` or `issued_at` is missing, or it differs.
    pub fn verify_signature(&self, secret: &ClientSecret) -> Result<(), OAuthError> {
        let Some(signature) = &self.signature else {
            return Ok(());
        };
        let (Some(id), Some(issued_at)) = (&self.id, &self.issued_at_raw) else {
            return Err(OAuthError::SignatureMismatch);
        };
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            return Err(OAuthError::SignatureMismatch);
        };
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.secret().expose_secret().as_bytes())
                .map_err(|_| OAuthError::SignatureMismatch)?;
        mac.update(id.as_bytes());
        mac.update(issued_at.as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| OAuthError::SignatureMismatch)
    }
}

/// The OpenID Connect userinfo of a Salesforce user (the fields clients rely on; the rest in
/// [`UserInfo::extra`]).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The identity URL.
    pub sub: String,
    /// The user id (`005…`).
    pub user_id: String,
    /// The org id (`00D…`).
    pub organization_id: String,
    /// The username.
    pub preferred_username: String,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use reqwest::header::RETRY_AFTER;

    fn sign(secret: &str, msg: &str) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(msg.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn parses_password_grant_example_and_checks_signature() {
        let id = "https://login.salesforce.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ";
        let sig = sign("s3cr3t", &format!("{id}1296509381665"));
        let body = format!(
            r#"{{"id":"{id}","issued_at":"1296509381665","instance_url":"https://na1.salesforce.com","signature":"{sig}","access_token":"00D50000000IZ3Z!AQgAQH0","token_type":"Bearer","scope":"api refresh_token"}}"#
        );
        let r = TokenResponse::parse(body.as_bytes()).unwrap();
        assert_eq!(
            r.issued_at,
            Some(UNIX_EPOCH + Duration::from_millis(1_296_509_381_665))
        );
        assert!(r.scope.as_ref().unwrap().allows_refresh());
        r.verify_signature(&ClientSecret::new("s3cr3t")).unwrap();
        assert!(matches!(
            r.verify_signature(&ClientSecret::new("other")),
            Err(OAuthError::SignatureMismatch)
        ));
        assert!(!format!("{r:?}").contains("AQgAQH0"));
    }

    #[test]
    fn jwt_grant_shape_has_no_optional_fields() {
        let r = TokenResponse::parse(
            br#"{"access_token":"00Dxx!AR8","scope":"web api","instance_url":"https://x.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert!(r.issued_at.is_none() && r.signature.is_none() && r.refresh_token.is_none());
        r.verify_signature(&ClientSecret::new("anything")).unwrap();
    }

    #[test]
    fn parse_errors_do_not_keep_the_body() {
        let e = TokenResponse::parse(br#"{"access_token":"SECRET-TOKEN","issued_at":"soon"}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("SECRET-TOKEN"), "{e}");
        assert!(TokenResponse::parse(b"<html>").is_err());

        // A field echoing a token is neither kept whole nor unbounded; an issued_at past what
        // SystemTime holds is an error, not a panic.
        let echo = format!("x {}", "Ab9.".repeat(5_000));
        let body = format!(r#"{{"access_token":"t","issued_at":"{echo}","expires_in":"{echo}"}}"#);
        let e = TokenResponse::parse(body.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("Ab9.Ab9.Ab9.Ab9.Ab9."), "{e}");
        assert!(e.len() < 200, "{e}");
        let body = format!(r#"{{"access_token":"t","issued_at":"{}"}}"#, u64::MAX);
        let _ = TokenResponse::parse(body.as_bytes());
    }

    #[test]
    fn error_bodies() {
        let raw = RawResponse {
            status: 400,
            headers: HeaderMap::new(),
            body: br#"{"error":"invalid_grant","error_description":"authentication failure"}"#
                .to_vec(),
        };
        match error_from_response(&raw) {
            OAuthError::Server {
                error, description, ..
            } => {
                assert_eq!(error, OAuthErrorCode::InvalidGrant);
                assert_eq!(description, "authentication failure");
            }
            other => panic!("{other:?}"),
        }
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        let raw = RawResponse {
            status: 503,
            headers,
            body: b"Service Unavailable".to_vec(),
        };
        let e = error_from_response(&raw);
        assert_eq!(
            e.class(),
            pardot_auth_core::ErrorClass::RetryLater {
                after: Some(Duration::from_secs(7))
            }
        );
    }
}
