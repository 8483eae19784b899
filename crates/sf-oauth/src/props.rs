//! Property tests of everything the flows read from outside: token endpoint answers (the
//! shapes of every grant), OAuth error answers, userinfo, the device authorization answer, the
//! MCI discovery document and token answer, and the loopback callback's query. Whatever
//! arrives: no panic, a typed error naming what was read, no echoed secret in it, and what
//! was written reads back. Cases: `PROPTEST_CASES` (256 by default; `cargo xtask props`:
//! 10,000).

use std::time::{Duration, UNIX_EPOCH};

use hyper::StatusCode;
use pardot_auth_core::redact::{ECHOED_SECRETS, leaked_secret};
use pardot_auth_core::secrecy::ExposeSecret;
use proptest::prelude::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::callback::read_redirect;
use crate::device::RawDevice;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::mci::{Discovery, RawMciToken};
use crate::response::{
    RawResponse, TokenResponse, UserInfo, error_from_response, parse_json, seconds_after,
};
use crate::types::CsrfState;

/// Any JSON value, extreme numbers and deep nesting included.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,24}".prop_map(Value::from),
        "[0-9]{1,25}".prop_map(Value::from),
        Just(json!("https://x.my.salesforce.com")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of `names` set to any value: the fields a reader looks for, of any type.
fn object_of(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (proptest::sample::select(names), any_json()),
        0..names.len() + 2,
    )
    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

const TOKEN_FIELDS: &[&str] = &[
    "access_token",
    "instance_url",
    "id",
    "token_type",
    "issued_at",
    "signature",
    "scope",
    "refresh_token",
    "id_token",
    "expires_in",
];

/// A text free of secrets: words and separators.
fn words() -> impl Strategy<Value = String> {
    proptest::collection::vec(("[A-Za-z0-9]{1,10}", "[ ,;:()&é]"), 0..6)
        .prop_map(|parts| parts.into_iter().map(|(w, s)| w + &s).collect())
}

/// Where an echoed secret lands in a JSON answer: a field read as a number (serde quotes the
/// string it refused), an error description, an unparsable tail.
fn echo_in(field: &str, echo: &str) -> Vec<u8> {
    json!({ field: echo }).to_string().into_bytes()
}

fn assert_no_leak(shape: &str, e: &OAuthError) -> Result<(), TestCaseError> {
    let shown = format!("{e} {e:?}");
    prop_assert_eq!(leaked_secret(&shown), None, "{}: {}", shape, shown);
    Ok(())
}

fn parse_error_what(result: Result<impl Sized, OAuthError>) -> Option<&'static str> {
    match result {
        Err(OAuthError::Parse { what, .. }) => Some(what),
        _ => None,
    }
}

proptest! {
    #[test]
    fn token_answers_of_any_shape_parse_or_name_the_parse(body in object_of(TOKEN_FIELDS)) {
        let bytes = body.to_string().into_bytes();
        match TokenResponse::parse(&bytes) {
            Ok(token) => {
                prop_assert!(body.get("access_token").is_some_and(Value::is_string));
                let debug = format!("{token:?}");
                let secret = token.access_token.expose_secret();
                prop_assert!(secret.len() < 4 || !debug.contains(secret), "{}", debug);
            }
            Err(e) => prop_assert_eq!(parse_error_what(Err::<(), _>(e)), Some("token")),
        }
    }

    #[test]
    fn token_answers_of_every_grant_read_back(
        grant in 0usize..4,
        access in "00D[0-9A-Za-z]{12}![0-9A-Za-z._]{20,60}",
        host in "[a-z]{1,12}",
        issued_ms in 0u64..4_102_444_800_000,
        scope in proptest::collection::vec("[a-z_]{1,10}", 0..5),
        refresh in "5Aep861[0-9A-Za-z._]{20,80}",
        expires_in in any::<u32>(),
    ) {
        // 0: JWT bearer / client credentials (no issued_at, signature, refresh token);
        // 1: password / web server (issued_at, signature); 2: refresh (+ refresh_token);
        // 3: MCI-like (expires_in as a number).
        let mut body = json!({
            "access_token": access,
            "instance_url": format!("https://{host}.my.salesforce.com"),
            "id": format!("https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS"),
            "token_type": "Bearer",
            "scope": scope.join(" "),
        });
        if grant >= 1 {
            body["issued_at"] = json!(issued_ms.to_string());
            body["signature"] = json!("c2lnbmF0dXJl");
        }
        if grant >= 2 {
            body["refresh_token"] = json!(refresh);
        }
        if grant == 3 {
            body["expires_in"] = json!(expires_in);
        }
        let token = TokenResponse::parse(body.to_string().as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(token.access_token.expose_secret(), access.as_str());
        let want_host = format!("{host}.my.salesforce.com");
        prop_assert_eq!(token.instance_url.as_ref().and_then(|u| u.host_str()), Some(want_host.as_str()));
        prop_assert_eq!(token.issued_at, (grant >= 1).then(|| UNIX_EPOCH + Duration::from_millis(issued_ms)));
        prop_assert_eq!(token.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()), (grant >= 2).then(|| refresh.clone()));
        prop_assert_eq!(token.expires_in, (grant == 3).then_some(u64::from(expires_in)));
        let debug = format!("{token:?}");
        prop_assert!(!debug.contains(&access) && !debug.contains(&refresh), "{}", debug);
    }

    #[test]
    fn error_answers_keep_the_code_and_no_echoed_secret(
        status in 300u16..600,
        which in 0..ECHOED_SECRETS.len(),
        json_body in any::<bool>(),
        code in prop_oneof![Just("invalid_grant".to_owned()), Just("invalid_client".to_owned()), "[a-z_]{1,20}"],
        pad in "[a-z ]{0,300}",
    ) {
        let (shape, echo, _) = ECHOED_SECRETS[which];
        let body = if json_body {
            json!({"error": code, "error_description": format!("{pad} {echo}")}).to_string()
        } else {
            format!("<html><body>{pad}<pre>POST /services/oauth2/token\n{echo}</pre></body></html>")
        };
        let raw = RawResponse { status, headers: HeaderMap::new(), body: body.into_bytes() };
        let e = error_from_response(&raw);
        assert_no_leak(shape, &e)?;
        match &e {
            OAuthError::Server { status: s, error, .. } => {
                prop_assert!(json_body);
                prop_assert_eq!(*s, status);
                prop_assert_eq!(error, &OAuthErrorCode::parse(&code));
            }
            OAuthError::Http { status: s, .. } => {
                prop_assert!(!json_body);
                prop_assert_eq!(*s, status);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn error_answers_of_any_bytes_never_panic(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let raw = RawResponse { status, headers: HeaderMap::new(), body };
        let e = error_from_response(&raw);
        prop_assert!(matches!(e, OAuthError::Server { .. } | OAuthError::Http { .. }), "{e:?}");
    }

    #[test]
    fn a_secret_in_a_wrongly_typed_field_stays_out_of_the_error(which in 0..ECHOED_SECRETS.len(), reader in 0usize..5) {
        let (shape, echo, _) = ECHOED_SECRETS[which];
        let (what, result) = match reader {
            0 => ("token", TokenResponse::parse(&echo_in("access_token", echo)).and_then(|_| {
                TokenResponse::parse(json!({"access_token": "t", "issued_at": echo}).to_string().as_bytes())
            }).map(|_| ())),
            1 => ("userinfo", parse_json::<UserInfo>(&json!({"sub": echo, "user_id": [echo]}).to_string().into_bytes(), "userinfo").map(|_| ())),
            2 => ("device authorization", parse_json::<RawDevice>(&json!({"device_code": "d", "user_code": "u", "verification_uri": "v", "interval": echo}).to_string().into_bytes(), "device authorization").map(|_| ())),
            3 => ("discovery", parse_json::<Discovery>(&echo_in("token_endpoint", echo).into_iter().chain(b"x".iter().copied()).collect::<Vec<u8>>(), "discovery").map(|_| ())),
            _ => ("MCI token", parse_json::<RawMciToken>(&json!({"access_token": "t", "expires_in": echo}).to_string().into_bytes(), "MCI token").map(|_| ())),
        };
        match result {
            Err(e) => {
                assert_no_leak(shape, &e)?;
                prop_assert_eq!(parse_error_what(Err::<(), _>(e)), Some(what));
            }
            Ok(()) => prop_assert!(false, "{what} read a secret where a number belongs"),
        }
    }

    #[test]
    fn userinfo_device_and_mci_answers_parse_or_name_the_parse(
        userinfo in object_of(&["sub", "user_id", "organization_id", "preferred_username", "name", "email"]),
        device in object_of(&["device_code", "user_code", "verification_uri", "interval", "expires_in"]),
        discovery in object_of(&["token_endpoint", "issuer"]),
        mci in object_of(&["access_token", "expires_in", "token_type"]),
    ) {
        let bytes = |v: &Value| v.to_string().into_bytes();
        for (what, result) in [
            ("userinfo", parse_json::<UserInfo>(&bytes(&userinfo), "userinfo").map(|_| ())),
            ("device authorization", parse_json::<RawDevice>(&bytes(&device), "device authorization").map(|_| ())),
            ("discovery", parse_json::<Discovery>(&bytes(&discovery), "discovery").map(|d| {
                // The endpoint is then read as a URL; a bad one is an error, not a panic.
                let _ = pardot_auth_core::url::Url::parse(&d.token_endpoint);
            })),
            ("MCI token", parse_json::<RawMciToken>(&bytes(&mci), "MCI token").and_then(|t| {
                seconds_after(UNIX_EPOCH, t.expires_in, "MCI token", "expires_in").map(|_| ())
            })),
        ] {
            if let Err(e) = result {
                prop_assert_eq!(parse_error_what(Err::<(), _>(e)), Some(what));
            }
        }
    }

    #[test]
    fn an_expiry_past_any_date_is_named(secs in any::<u64>()) {
        let far = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX));
        match seconds_after(far, secs, "MCI token", "expires_in") {
            Ok(at) => prop_assert_eq!(at, far + Duration::from_secs(secs)),
            Err(e) => prop_assert!(e.to_string().contains("expires_in"), "{e}"),
        }
    }

    #[test]
    fn callback_queries_of_any_shape_are_answered(query in proptest::option::of("[a-z_=&%0-9A-F+.-]{0,80}|\\PC{0,40}")) {
        let expected = CsrfState::new("state-123");
        let (status, page, outcome) = read_redirect(query.as_deref(), &expected);
        prop_assert!(!page.is_empty());
        match outcome {
            Some(Ok(code)) => {
                prop_assert_eq!(status, StatusCode::OK);
                prop_assert!(!code.secret().expose_secret().is_empty());
            }
            Some(Err(OAuthError::StateMismatch)) => {}
            Some(Err(OAuthError::Authorization { .. })) => prop_assert_eq!(status, StatusCode::OK),
            Some(Err(OAuthError::Callback(_))) => prop_assert_eq!(status, StatusCode::BAD_REQUEST),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn written_redirects_read_back(
        code in "\\PC{1,40}",
        state_ok in any::<bool>(),
        error in proptest::option::of(("[a-z_]{1,20}", words())),
        which in 0..ECHOED_SECRETS.len(),
    ) {
        let expected = CsrfState::new("state-123");
        let mut query = pardot_auth_core::url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("state", if state_ok { "state-123" } else { "other" });
        match &error {
            Some((e, description)) => {
                let (_, echo, _) = ECHOED_SECRETS[which];
                query.append_pair("error", e).append_pair("error_description", &format!("{description} {echo}"));
            }
            None => {
                query.append_pair("code", &code);
            }
        }
        let (_, _, outcome) = read_redirect(Some(&query.finish()), &expected);
        match (outcome, &error, state_ok) {
            (Some(Ok(got)), None, true) => prop_assert_eq!(got.secret().expose_secret(), code.as_str()),
            (Some(Err(OAuthError::Authorization { error: got, description })), Some((e, _)), true) => {
                prop_assert_eq!(got, OAuthErrorCode::parse(e));
                prop_assert_eq!(leaked_secret(&description), None, "{}", description);
            }
            (Some(Err(OAuthError::StateMismatch)), _, false) => {}
            (other, _, _) => prop_assert!(false, "{other:?}"),
        }
    }
}
