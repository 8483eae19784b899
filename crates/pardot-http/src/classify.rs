//! Reads an answer and decides: fine, credential expired, throttled, or fatal. Decided from
//! the body, not only the status: Pardot sends v3/v4 errors with 200, 400 or 401.
//!
//! v3/v4 bodies are read with `pardot_legacy::envelope` (the one parser of that envelope);
//! v5 error bodies and Salesforce's `INVALID_SESSION_ID` are read here.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use pardot_auth_core::{PardotErrorCode, redact, retry_after};
use pardot_legacy::envelope::{self, Envelope};
use serde_json::Value;

use crate::error::{PardotError, help_for};

/// Which Pardot API a request goes to, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `/api/<object>/version/3|4/…` (and the legacy login): the `<rsp>` envelope, XML or
    /// JSON.
    Legacy,
    /// `/api/v5/…`: JSON with HTTP statuses.
    V5,
    /// Anything else (e.g. a Salesforce REST path): judged by status and known error bodies.
    Other,
}

impl ApiVersion {
    /// The API a URL path belongs to (a base path before `/api/` is allowed).
    pub fn from_path(path: &str) -> Self {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some(api) = segments.iter().position(|s| *s == "api") else {
            return Self::Other;
        };
        match (segments.get(api + 1), segments.get(api + 2)) {
            (Some(&"v5"), _) => Self::V5,
            (Some(_), Some(&"version")) => Self::Legacy,
            _ => Self::Other,
        }
    }
}

/// The judgement of one answer.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// A good answer (for v3/v4, with its parsed envelope).
    Success(Option<Box<Envelope>>),
    /// The credential was rejected as expired, revoked or invalid.
    Expired {
        code: Option<PardotErrorCode>,
        message: String,
    },
    /// The server refused the request for now (code 66, 429, 503): it was not processed.
    Throttled {
        after: Option<Duration>,
        what: String,
    },
    /// A gateway error (502, 504): the request may or may not have been processed.
    Transient { what: String },
    /// An error retrying cannot fix.
    Fatal(PardotError),
}

pub(crate) fn judge(
    api: ApiVersion,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> Verdict {
    if api == ApiVersion::Legacy {
        match envelope::parse(body) {
            Ok(env) => {
                return match env.into_result() {
                    Ok(env) => Verdict::Success(Some(Box::new(env))),
                    Err(e) => by_code(status, headers, e.code, e.message, e.param),
                };
            }
            // Not an envelope: a proxy's error page, or a gateway timeout. Judge by status.
            Err(e) if status.is_success() => {
                return Verdict::Fatal(PardotError::InvalidResponse(e.to_string()));
            }
            Err(_) => {}
        }
    } else if status.is_success() {
        return Verdict::Success(None);
    } else if let Some(v) = known_json_error(status, headers, body) {
        return v;
    }
    by_status(status, headers, body)
}

fn by_code(
    status: StatusCode,
    headers: &HeaderMap,
    code: PardotErrorCode,
    message: String,
    param: Option<String>,
) -> Verdict {
    if code.signals_expired_credential() {
        Verdict::Expired {
            code: Some(code),
            message,
        }
    } else if code == PardotErrorCode::CONCURRENT_LIMIT {
        Verdict::Throttled {
            after: retry_after(headers),
            what: format!("Pardot error 66: {message}"),
        }
    } else {
        Verdict::Fatal(PardotError::Api {
            status,
            code,
            message,
            param,
            help: help_for(code),
        })
    }
}

/// v5 `{"code":N,"message":…}`, Salesforce `[{"errorCode":"INVALID_SESSION_ID",…}]`, and the
/// Bulk API's `{"exceptionCode":"InvalidSessionId",…}`.
fn known_json_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> Option<Verdict> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[') {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    match &value {
        Value::Object(map) => {
            if let Some(code) = map.get("code").and_then(Value::as_u64) {
                let message = text_of(map.get("message"));
                let code = PardotErrorCode(u32::try_from(code).unwrap_or(u32::MAX));
                return Some(by_code(status, headers, code, message, None));
            }
            if map.get("exceptionCode").and_then(Value::as_str) == Some("InvalidSessionId") {
                return Some(Verdict::Expired {
                    code: None,
                    message: text_of(map.get("exceptionMessage")),
                });
            }
            None
        }
        Value::Array(items) => items.iter().find_map(|item| {
            (item.get("errorCode").and_then(Value::as_str) == Some("INVALID_SESSION_ID")).then(
                || Verdict::Expired {
                    code: None,
                    message: format!("INVALID_SESSION_ID: {}", text_of(item.get("message"))),
                },
            )
        }),
        _ => None,
    }
}

/// A server's message field, bounded and redacted.
fn text_of(v: Option<&Value>) -> String {
    redact::excerpt(
        v.and_then(Value::as_str).unwrap_or_default().as_bytes(),
        MESSAGE_CHARS,
    )
}

fn by_status(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> Verdict {
    match status {
        StatusCode::UNAUTHORIZED => Verdict::Expired {
            code: None,
            message: format!("HTTP 401: {}", redact::excerpt(body, MESSAGE_CHARS)),
        },
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Verdict::Throttled {
            after: retry_after(headers),
            what: format!("HTTP {status}"),
        },
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => Verdict::Transient {
            what: format!("HTTP {status}"),
        },
        _ => Verdict::Fatal(PardotError::Http {
            status,
            snippet: redact::excerpt(body, MESSAGE_CHARS),
        }),
    }
}

/// The most characters of a server's text an error message carries (what is kept is also
/// redacted: a proxy or a debugging endpoint may echo the request's `Authorization`).
pub(crate) const MESSAGE_CHARS: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn j(api: ApiVersion, status: u16, body: &str) -> Verdict {
        judge(
            api,
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            &Bytes::from(body.to_owned()),
        )
    }

    /// What a verdict would tell a caller (or a log).
    fn shown(v: &Verdict) -> String {
        match v {
            Verdict::Expired { message, .. } => message.clone(),
            Verdict::Throttled { what, .. } | Verdict::Transient { what } => what.clone(),
            Verdict::Fatal(e) => e.to_string(),
            Verdict::Success(_) => String::new(),
        }
    }

    #[test]
    fn echoed_tokens_never_reach_a_message_and_messages_are_bounded() {
        let token = "00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3";
        let echo = format!("GET /api/v5/objects/prospects\nAuthorization: Bearer {token}");
        let huge = "x ".repeat(100_000);
        for (status, body) in [
            (404, echo.clone()),
            (401, echo.clone()),
            (500, format!(r#"{{"code":1,"message":"{echo}"}}"#)),
            (
                401,
                format!(r#"{{"exceptionCode":"InvalidSessionId","exceptionMessage":"{echo}"}}"#),
            ),
            (
                401,
                format!(r#"[{{"errorCode":"INVALID_SESSION_ID","message":"{echo}"}}]"#),
            ),
            (400, format!(r#"{{"code":1,"message":"{huge}"}}"#)),
            (400, huge.clone()),
        ] {
            let text = shown(&j(ApiVersion::V5, status, &body));
            assert!(!text.contains("AQ4AQFzXl9"), "{status}: {text}");
            assert!(
                text.chars().count() < 1024,
                "{status}: {} chars",
                text.len()
            );
        }
    }

    #[test]
    fn api_versions_from_paths() {
        for (path, api) in [
            ("/api/prospect/version/4/do/query", ApiVersion::Legacy),
            ("/demo/api/login/version/3", ApiVersion::Legacy),
            ("/api/v5/objects/prospects", ApiVersion::V5),
            ("/services/data/v60.0/sobjects", ApiVersion::Other),
        ] {
            assert_eq!(ApiVersion::from_path(path), api, "{path}");
        }
    }

    #[test]
    fn legacy_expiry_in_xml_and_json_whatever_the_status() {
        let xml184 = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsp stat="fail" version="1.0">
    <err code="184">access_token is invalid, unknown, or malformed</err>
</rsp>"#;
        let json1 = r#"{"@attributes":{"stat":"fail","version":1,"err_code":1},"err":"Invalid API key or user key"}"#;
        for status in [200, 400, 401] {
            assert!(matches!(
                j(ApiVersion::Legacy, status, xml184),
                Verdict::Expired {
                    code: Some(PardotErrorCode(184)),
                    ..
                }
            ));
            assert!(matches!(
                j(ApiVersion::Legacy, status, json1),
                Verdict::Expired {
                    code: Some(PardotErrorCode(1)),
                    ..
                }
            ));
        }
    }

    #[test]
    fn legacy_success_keeps_the_envelope_and_codes_are_classified() {
        let ok = r#"<rsp stat="ok" version="1.0"><account><id>1</id></account></rsp>"#;
        assert!(matches!(
            j(ApiVersion::Legacy, 200, ok),
            Verdict::Success(Some(_))
        ));
        let c66 = r#"<rsp stat="fail" version="1.0"><err code="66">You have exceeded your concurrent request limit.  Please wait, before trying again</err></rsp>"#;
        assert!(matches!(
            j(ApiVersion::Legacy, 400, c66),
            Verdict::Throttled { .. }
        ));
        let c122 = r#"{"@attributes":{"stat":"fail","version":1,"err_code":122},"err":"Daily API rate limit met"}"#;
        match j(ApiVersion::Legacy, 400, c122) {
            Verdict::Fatal(e @ PardotError::Api { .. }) => {
                assert!(e.to_string().contains("resets at midnight"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            j(ApiVersion::Legacy, 200, "<html>oops</html>"),
            Verdict::Fatal(PardotError::InvalidResponse(_))
        ));
        assert!(matches!(
            j(ApiVersion::Legacy, 503, "<html>busy</html>"),
            Verdict::Throttled { .. }
        ));
    }

    #[test]
    fn v5_bodies() {
        let expired = r#"{"code":184,"message":"access_token is invalid, unknown, or malformed: Inactive token"}"#;
        for status in [400, 401] {
            assert!(matches!(
                j(ApiVersion::V5, status, expired),
                Verdict::Expired {
                    code: Some(PardotErrorCode(184)),
                    ..
                }
            ));
        }
        assert!(matches!(
            j(ApiVersion::V5, 429, r#"{"code":66,"message":"x"}"#),
            Verdict::Throttled { .. }
        ));
        assert!(matches!(
            j(
                ApiVersion::V5,
                403,
                r#"{"code":201,"message":"Business Unit specified in Pardot-Business-Unit-Id header not found or inactive."}"#
            ),
            Verdict::Fatal(PardotError::Api {
                code: PardotErrorCode(201),
                ..
            })
        ));
        assert!(matches!(
            j(ApiVersion::V5, 200, r#"{"values":[]}"#),
            Verdict::Success(None)
        ));
    }

    #[test]
    fn salesforce_session_errors() {
        let body = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        for api in [ApiVersion::V5, ApiVersion::Other] {
            for status in [400, 401] {
                assert!(matches!(
                    j(api, status, body),
                    Verdict::Expired { code: None, .. }
                ));
            }
        }
        let bulk =
            r#"{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}"#;
        assert!(matches!(
            j(ApiVersion::Other, 400, bulk),
            Verdict::Expired { .. }
        ));
        assert!(matches!(
            j(
                ApiVersion::Other,
                400,
                r#"[{"errorCode":"MALFORMED_QUERY","message":"x"}]"#
            ),
            Verdict::Fatal(PardotError::Http { .. })
        ));
    }

    #[test]
    fn statuses_without_known_bodies() {
        assert!(matches!(
            j(ApiVersion::V5, 401, ""),
            Verdict::Expired { .. }
        ));
        assert!(matches!(
            j(ApiVersion::V5, 503, ""),
            Verdict::Throttled { .. }
        ));
        assert!(matches!(
            j(ApiVersion::V5, 502, ""),
            Verdict::Transient { .. }
        ));
        assert!(matches!(
            j(ApiVersion::V5, 404, "nope"),
            Verdict::Fatal(PardotError::Http { .. })
        ));
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        match judge(
            ApiVersion::V5,
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            &Bytes::new(),
        ) {
            Verdict::Throttled { after, .. } => assert_eq!(after, Some(Duration::from_secs(7))),
            other => panic!("{other:?}"),
        }
    }
}

/// Property tests of the answers this module reads (v5 error bodies, Salesforce's
/// `INVALID_SESSION_ID`, anything a proxy sends): no panic, the code a body names is the one
/// judged, and no echoed secret reaches what a caller or a log is shown. Cases:
/// `PROPTEST_CASES` (256 by default; `cargo xtask props`: 10,000).
#[cfg(test)]
mod props {
    use super::*;
    use pardot_auth_core::redact::{ECHOED_SECRETS, leaked_secret};
    use proptest::prelude::*;
    use serde_json::json;

    fn api() -> impl Strategy<Value = ApiVersion> {
        prop_oneof![
            Just(ApiVersion::V5),
            Just(ApiVersion::Other),
            Just(ApiVersion::Legacy)
        ]
    }

    /// Everything a verdict lets a caller or a log see.
    fn shown(v: &Verdict) -> String {
        match v {
            Verdict::Expired { message, .. } => message.clone(),
            Verdict::Throttled { what, .. } | Verdict::Transient { what } => what.clone(),
            Verdict::Fatal(e) => format!("{e} {e:?}"),
            Verdict::Success(_) => String::new(),
        }
    }

    fn words() -> impl Strategy<Value = String> {
        proptest::collection::vec(("[A-Za-z0-9]{1,10}", "[ ,;:()é]"), 0..6)
            .prop_map(|parts| parts.into_iter().map(|(w, s)| w + &s).collect())
    }

    proptest! {
        #[test]
        fn any_answer_is_judged(
            api in api(),
            status in 100u16..1000,
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                "[\\[\\]{}\":,a-zA-Z0-9 ]{0,120}".prop_map(String::into_bytes),
            ],
        ) {
            let Ok(status) = StatusCode::from_u16(status) else { return Ok(()) };
            let verdict = judge(api, status, &HeaderMap::new(), &Bytes::from(body));
            if api != ApiVersion::Legacy && status.is_success() {
                prop_assert!(matches!(verdict, Verdict::Success(None)), "{verdict:?}");
            }
        }

        #[test]
        fn v5_error_bodies_are_judged_by_their_code(
            status in prop_oneof![Just(200u16), 400u16..600],
            code in prop_oneof![Just(1u64), Just(66), Just(184), Just(122), 0u64..100_000, Just(u64::MAX)],
            message in words(),
        ) {
            let status = StatusCode::from_u16(status).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let body = json!({"code": code, "message": message}).to_string();
            let verdict = judge(ApiVersion::V5, status, &HeaderMap::new(), &Bytes::from(body));
            if status.is_success() {
                prop_assert!(matches!(verdict, Verdict::Success(None)));
                return Ok(());
            }
            let code = PardotErrorCode(u32::try_from(code).unwrap_or(u32::MAX));
            let message = message.trim();
            match verdict {
                Verdict::Expired { code: got, message: m } => {
                    prop_assert!(code.signals_expired_credential());
                    prop_assert_eq!(got, Some(code));
                    prop_assert_eq!(m, message);
                }
                Verdict::Throttled { what, .. } => {
                    prop_assert_eq!(code, PardotErrorCode::CONCURRENT_LIMIT);
                    prop_assert!(what.ends_with(message), "{}", what);
                }
                Verdict::Fatal(PardotError::Api { code: got, message: m, status: s, .. }) => {
                    prop_assert_eq!(got, code);
                    prop_assert_eq!(m, message);
                    prop_assert_eq!(s, status);
                }
                other => prop_assert!(false, "{other:?}"),
            }
        }

        #[test]
        fn echoed_secrets_never_reach_a_verdict(
            api in api(),
            status in prop_oneof![Just(200u16), Just(401), Just(404), Just(429), Just(500), Just(502)],
            which in 0..ECHOED_SECRETS.len(),
            shape in 0usize..5,
            pad in "[a-z ]{0,600}",
        ) {
            let (name, echo, _) = ECHOED_SECRETS[which];
            let text = format!("{pad} {echo}");
            let body = match shape {
                0 => json!({"code": 500, "message": text}).to_string(),
                1 => json!({"exceptionCode": "InvalidSessionId", "exceptionMessage": text}).to_string(),
                2 => json!([{"errorCode": "INVALID_SESSION_ID", "message": text}]).to_string(),
                3 => format!("<rsp stat=\"fail\"><err code=\"15\">{}</err></rsp>", text.replace('&', "&amp;")),
                _ => format!("<html><body>{text}</body></html>"),
            };
            let status = StatusCode::from_u16(status).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let verdict = judge(api, status, &HeaderMap::new(), &Bytes::from(body));
            let seen = shown(&verdict);
            prop_assert_eq!(leaked_secret(&seen), None, "{}: {}", name, seen);
        }
    }
}
