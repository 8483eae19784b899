//! Property tests of what the legacy crate reads from outside: whatever the bytes,
//! `envelope::parse` answers (Ok or a typed error) and never panics; a valid body cut short
//! anywhere before its end is always an error; an envelope written from parts reads back as
//! those parts; a secret a server echoes never reaches an error; user keys are checked with
//! the bad part named. Cases: `PROPTEST_CASES` (256 by default; `cargo xtask props`: 10,000).

use pardot_auth_core::PardotErrorCode;
use pardot_auth_core::redact::{ECHOED_SECRETS, leaked_secret};
use pardot_legacy::envelope::{self, EnvelopeError, Format};
use pardot_legacy::{LegacyError, UserKey};
use proptest::prelude::*;

const VALID: &[&str] = &[
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n    <api_key>5a1698a233e73d7c8ccd60d775fbc68a</api_key>\n    <version>4</version>\n</rsp>",
    "<rsp stat=\"fail\" version=\"1.0\">\n    <err code=\"15\">Login failed</err>\n</rsp>",
    "<rsp stat=\"fail\" version=\"1.0\"><err code=\"10000\" param=\"email\">Invalid &amp; bad</err><err code=\"13\">missing</err></rsp>",
    "<rsp stat=\"ok\" version=\"1.0\"><result><total_results>1</total_results><prospect><id>1</id></prospect></result></rsp>",
    "{\"@attributes\":{\"stat\":\"ok\",\"version\":1},\"api_key\":\"5a1698a233e73d7c8ccd60d775fbc68a\",\"version\":4}",
    "{\"@attributes\":{\"stat\":\"fail\",\"version\":1,\"err_code\":15},\"err\":\"Login failed\"}",
    "{\"@attributes\":{\"stat\":\"fail\",\"version\":1,\"err_code\":10000},\"err\":[\"a\",\"b\"]}",
];

/// Fragments that make random input look XML- or JSON-ish, so the parser goes deep.
const FRAGMENTS: &[&str] = &[
    "<rsp stat=\"ok\">",
    "<rsp stat=\"fail\" version=\"1.0\">",
    "</rsp>",
    "<err code=\"15\">",
    "</err>",
    "<api_key>",
    "</api_key>",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#x0;",
    "<?xml version=\"1.0\"?>",
    "<!-- c -->",
    "{\"@attributes\":",
    "{\"stat\":\"fail\",\"err_code\":",
    "\"err\":[",
    "}",
    "]",
    "\u{feff}",
];

/// A [`FRAGMENTS`] entry most of the time, else a little random text.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        FRAGMENTS.len() as u32 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
        1 => "\\PC{0,4}",
    ]
}

proptest! {

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = envelope::parse(&body);
    }

    #[test]
    fn random_fragments_never_panic(parts in proptest::collection::vec(fragment(), 0..24)) {
        let body = parts.concat();
        if let Ok(env) = envelope::parse(body.as_bytes()) {
            // Whatever parses keeps the envelope invariant.
            prop_assert!(env.is_ok() || !env.errors().is_empty());
        }
    }

    #[test]
    fn truncated_bodies_are_errors(which in 0..VALID.len(), cut in any::<prop::sample::Index>()) {
        let body = VALID[which];
        prop_assert!(envelope::parse(body.as_bytes()).is_ok());
        let end = body.trim_end().len();
        let at = cut.index(end);
        let result = envelope::parse(&body.as_bytes()[..at]);
        prop_assert!(result.is_err(), "cut at {}: {:?}", at, result);
    }

    #[test]
    fn flipped_bytes_never_panic(which in 0..VALID.len(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut body = VALID[which].as_bytes().to_vec();
        let i = at.index(body.len());
        body[i] = byte;
        let _ = envelope::parse(&body);
    }

    #[test]
    fn written_failures_read_back(
        code in 0u32..100_000,
        message in words(),
        param in proptest::option::of(words()),
        json in any::<bool>(),
    ) {
        let body = if json {
            let mut err = serde_json::json!({"@attributes": {"code": code}, "message": message});
            if let Some(p) = &param {
                err["param"] = serde_json::json!(p);
            }
            serde_json::json!({"@attributes": {"stat": "fail", "version": 1}, "err": [err]}).to_string()
        } else {
            let param_attr = param.as_ref().map(|p| format!(" param=\"{}\"", xml_escape(p))).unwrap_or_default();
            format!("<rsp stat=\"fail\" version=\"1.0\"><err code=\"{code}\"{param_attr}>{}</err></rsp>", xml_escape(&message))
        };
        let env = envelope::parse(body.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert_eq!(env.format, if json { Format::Json } else { Format::Xml });
        let err = env.into_result().err().ok_or_else(|| TestCaseError::fail("stat=fail read as ok"))?;
        prop_assert_eq!(err.code, PardotErrorCode(code));
        prop_assert_eq!(err.message, message.trim());
        prop_assert_eq!(err.param.as_deref(), param.as_deref().map(str::trim));
    }

    #[test]
    fn written_fields_read_back(fields in proptest::collection::btree_map("[a-z][a-z_]{0,10}", words(), 0..6), json in any::<bool>()) {
        prop_assume!(!fields.contains_key("err"));
        let body = if json {
            let mut object = serde_json::Map::new();
            object.insert("@attributes".into(), serde_json::json!({"stat": "ok", "version": 1}));
            for (k, v) in &fields {
                object.insert(k.clone(), serde_json::json!(v));
            }
            serde_json::Value::Object(object).to_string()
        } else {
            let children: String = fields.iter().map(|(k, v)| format!("<{k}>{}</{k}>", xml_escape(v))).collect();
            format!("<rsp stat=\"ok\" version=\"1.0\">{children}</rsp>")
        };
        let env = envelope::parse(body.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert!(env.is_ok());
        for (k, v) in &fields {
            prop_assert_eq!(env.field(k), Some(v.trim()));
        }
    }

    #[test]
    fn wrongly_typed_codes_are_named(code in prop_oneof![
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1.5)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!("fifteen")),
        Just(serde_json::json!([15])),
        Just(serde_json::json!({"code": 15})),
        Just(serde_json::json!(true)),
    ]) {
        let body = serde_json::json!({"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": "x"}).to_string();
        match envelope::parse(body.as_bytes()) {
            Err(EnvelopeError::NotAnEnvelope { format: Format::Json, reason, .. }) => {
                prop_assert!(reason.contains("err_code"), "{}", reason);
            }
            other => prop_assert!(false, "{body}: {other:?}"),
        }
    }

    #[test]
    fn echoed_secrets_never_reach_an_error(
        which in 0..ECHOED_SECRETS.len(),
        wrapper in 0..WRAPPERS.len(),
        pad in "[a-z ]{0,250}",
    ) {
        let (shape, echo, _) = ECHOED_SECRETS[which];
        let (expected, template) = WRAPPERS[wrapper];
        // The padding moves the secret across the excerpt's bound.
        // A well-formed XML envelope carries the echo escaped, as a server would.
        let echo = if expected == "err" && template.starts_with('<') { xml_escape(echo) } else { echo.to_owned() };
        let body = template.replace("{pad}", &pad).replace("{echo}", &echo);
        let result = envelope::parse(body.as_bytes());
        let shown = format!("{result:?} {}", result.as_ref().map(|_| String::new()).unwrap_or_else(|e| e.to_string()));
        prop_assert_eq!(leaked_secret(&shown), None, "{} in {}: {}", shape, body, shown);
        let variant = match &result {
            Ok(env) => match env.first_error() {
                Some(e) => {
                    prop_assert_eq!(leaked_secret(&e.message), None);
                    "err"
                }
                None => "ok",
            },
            Err(EnvelopeError::UnknownFormat { .. }) => "unknown",
            Err(EnvelopeError::Syntax { .. }) => "syntax",
            Err(EnvelopeError::NotAnEnvelope { .. }) => "not an envelope",
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(variant, expected, "{}", body);
    }

    #[test]
    fn user_keys_are_checked_and_never_repeated(key in prop_oneof!["[0-9a-f]{32}", "[0-9a-fA-Z]{30,34}", "\\PC{0,40}"]) {
        match UserKey::new(&key) {
            Ok(_) => prop_assert!(key.trim().len() == 32 && key.trim().chars().all(|c| c.is_ascii_hexdigit())),
            Err(LegacyError::InvalidCredentials(why)) => {
                prop_assert!(why.starts_with("user_key must be 32 hexadecimal characters"), "{}", why);
                prop_assert!(key.trim().len() < 4 || !why.contains(key.trim()), "{}", why);
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}

/// Where a server's echo may land: the variant expected and the body (`{pad}`, `{echo}`).
const WRAPPERS: &[(&str, &str)] = &[
    ("unknown", "Proxy error {pad}: {echo}"),
    ("syntax", "<rsp stat=\"ok\"><pre>{pad} {echo}</p></rsp>"),
    (
        "not an envelope",
        "<html><body>{pad} <pre>{echo}</pre></body></html>",
    ),
    ("syntax", "{\"echo\": \"{pad} {echo}\""),
    ("not an envelope", "{\"echo\": \"{pad} {echo}\"}"),
    (
        "not an envelope",
        "{\"@attributes\":{\"stat\":\"{pad} {echo}\"}}",
    ),
    (
        "err",
        "<rsp stat=\"fail\"><err code=\"1\">{pad} {echo}</err></rsp>",
    ),
    (
        "err",
        "{\"@attributes\":{\"stat\":\"fail\",\"err_code\":1},\"err\":\"{pad} {echo}\"}",
    ),
];

/// Text as a server writes it in messages: words and punctuation, nothing token-shaped.
fn words() -> impl Strategy<Value = String> {
    proptest::collection::vec(("[A-Za-z0-9]{1,10}", "[ ,;:()'&<>é]"), 0..8)
        .prop_map(|parts| parts.into_iter().map(|(word, sep)| word + &sep).collect())
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
