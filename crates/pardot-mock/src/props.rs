//! Property tests of the mock's readers of client input outside the Pardot routes: form bodies
//! and query strings, JWT assertions (header and claims, with extreme and wrongly typed
//! values), and the TOML configuration. Whatever arrives: no panic, what was written reads
//! back, and a bad configuration is a TOML error naming the key. Cases: `PROPTEST_CASES` (256
//! by default; `cargo xtask props`: 10,000).

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::config::{ConfigError, MockConfig};
use crate::oauth::assertion::{ClaimValue, ParsedJwt};
use crate::request_params::RequestParams;

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(("\\PC{0,12}", "\\PC{0,20}"), 0..8)
}

/// Claims of every JSON type, the extremes of each number type included.
fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Fractions serde_json reads back exactly (it parses floats quickly, not always to the
        // last bit, so arbitrary doubles would not compare equal after a round trip).
        (-1_000_000i32..1_000_000).prop_map(|i| json!(f64::from(i) + 0.5)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        "-?[0-9]{1,22}".prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!(["https://login.salesforce.com", 5])),
        Just(json!({"nested": {"deep": [1, 2, 3]}})),
    ]
}

fn claims() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    proptest::collection::btree_map(
        prop_oneof![
            proptest::sample::select(vec!["iss", "sub", "aud", "exp", "iat", "nbf", "jti"])
                .prop_map(str::to_owned),
            "[a-z]{1,6}",
        ],
        claim_value(),
        0..8,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The claims [`ParsedJwt`] reads, by name.
fn read_claims<'j>(jwt: &'j ParsedJwt<'_>) -> [(&'static str, &'j ClaimValue); 8] {
    let c = &jwt.claims;
    [
        ("iss", &c.iss),
        ("sub", &c.sub),
        ("prn", &c.prn),
        ("aud", &c.aud),
        ("exp", &c.exp),
        ("iat", &c.iat),
        ("nbf", &c.nbf),
        ("jti", &c.jti),
    ]
}

/// What a claim read from a whole JSON value is, by the rules [`ClaimValue`] documents.
fn as_claim(value: Option<&Value>) -> ClaimValue {
    match value {
        None => ClaimValue::Absent,
        Some(Value::String(s)) => ClaimValue::Str(s.clone()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => ClaimValue::Number(i),
            None => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map_or(ClaimValue::Other, |f| ClaimValue::Number(f.trunc() as i64)),
        },
        Some(Value::Array(list)) => ClaimValue::Strings(
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Some(_) => ClaimValue::Other,
    }
}

/// The header and claims of a compact JWS read as whole JSON objects, padding ignored.
fn whole_json_parts(token: &str) -> Option<(Value, Value)> {
    let token: String = token.trim().chars().filter(|c| *c != '=').collect();
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (h, c) = signing_input.split_once('.')?;
    if c.contains('.') || h.is_empty() || c.is_empty() || signature.is_empty() {
        return None;
    }
    let read = |part: &str| -> Option<Value> {
        let value: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()?;
        value.is_object().then_some(value)
    };
    Some((read(h)?, read(c)?))
}

proptest! {
    #[test]
    fn written_forms_and_queries_read_back(pairs in pairs(), content_type in 0usize..3) {
        let text = serde_urlencoded::to_string(&pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut headers = HeaderMap::new();
        match content_type {
            0 => {}
            1 => {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"));
            }
            _ => {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
        }
        let params = RequestParams::parse(Some(&text), &headers, text.as_bytes());
        prop_assert_eq!(&params.query, &pairs);
        if content_type == 2 {
            prop_assert!(params.form.is_empty());
        } else {
            prop_assert_eq!(&params.form, &pairs);
        }
    }

    #[test]
    fn any_form_or_query_is_read_without_a_panic(query in "\\PC{0,60}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = RequestParams::parse(Some(&query), &HeaderMap::new(), &body);
    }

    #[test]
    fn written_assertions_read_back(claims in claims(), alg in "[A-Z0-9]{0,6}", padding in "={0,2}") {
        let header = json!({"alg": alg, "typ": "JWT"});
        let claims = Value::Object(claims);
        let token = format!("{}{padding}.{}.c2lnbmF0dXJl{padding}", encode(&header), encode(&claims));
        let jwt = ParsedJwt::parse(&token).ok_or_else(|| TestCaseError::fail(format!("{token} did not parse")))?;
        prop_assert_eq!(jwt.alg.as_str(), Some(alg.as_str()));
        for (name, read) in read_claims(&jwt) {
            prop_assert_eq!(read, &as_claim(claims.get(name)), "{}", name);
        }
        for (name, read) in [("exp", &jwt.claims.exp), ("iat", &jwt.claims.iat), ("nbf", &jwt.claims.nbf)] {
            let read = read.as_date();
            match claims.get(name) {
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(i) => prop_assert_eq!(read, Some(i)),
                    None => prop_assert!(read.is_some()),
                },
                Some(Value::String(s)) => prop_assert_eq!(read, s.trim().parse::<i64>().ok()),
                _ => prop_assert_eq!(read, None),
            }
        }
        prop_assert!(jwt.claims.aud.strings().count() <= 2);
        prop_assert_eq!(jwt.claims.iss.as_str(), claims.get("iss").and_then(Value::as_str));
    }

    #[test]
    fn any_assertion_is_read_without_a_panic(
        token in prop_oneof![
            "\\PC{0,80}",
            "[A-Za-z0-9_=-]{0,20}\\.[A-Za-z0-9_=-]{0,20}\\.[A-Za-z0-9_=.-]{0,20}",
            "eyJ[A-Za-z0-9_-]{0,30}\\.eyJ[A-Za-z0-9_-]{0,30}\\.[a-z]{1,4}",
        ],
    ) {
        // Whatever parses is what a reader of whole JSON values would accept, read the same.
        let whole = whole_json_parts(&token);
        match ParsedJwt::parse(&token) {
            Some(jwt) => {
                let (header, claims) = whole.ok_or_else(|| TestCaseError::fail("parsed only in parts"))?;
                prop_assert_eq!(&jwt.alg, &as_claim(header.get("alg")));
                for (name, read) in read_claims(&jwt) {
                    prop_assert_eq!(read, &as_claim(claims.get(name)), "{}", name);
                }
            }
            None => prop_assert!(whole.is_none()),
        }
    }

    #[test]
    fn any_toml_is_a_config_or_a_toml_error(text in prop_oneof![
        "\\PC{0,80}",
        "(journal_size|max_tokens|admin_routes|pardot_status_mode) = (\"x\"|-1|true|1e400|18446744073709551616|\\[\\]|\\{\\})",
        "\\[\\[(orgs|users|apps|business_units)\\]\\]\n(id|name|username) = (\"\"|1|true)",
    ]) {
        match MockConfig::from_toml(&text) {
            Ok(_) | Err(ConfigError::Toml(_)) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn a_wrongly_typed_setting_is_named(
        key in proptest::sample::select(vec!["journal_size", "max_tokens", "admin_routes", "pardot_status_mode"]),
        value in proptest::sample::select(vec!["\"many\"", "-1", "[1]", "{ a = 1 }", "1.5"]),
    ) {
        let text = format!("{key} = {value}\n");
        match MockConfig::from_toml(&text) {
            Err(ConfigError::Toml(message)) => prop_assert!(message.contains(key), "{}", message),
            other => prop_assert!(false, "{text}: {other:?}"),
        }
    }

    #[test]
    fn written_configs_read_back(journal_size in any::<u32>(), max_tokens in any::<u32>(), admin_routes in any::<bool>()) {
        let mut config = MockConfig::empty();
        config.journal_size = journal_size as usize;
        config.max_tokens = max_tokens as usize;
        config.admin_routes = admin_routes;
        let text = toml::to_string(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(MockConfig::from_toml(&text), Ok(config));
    }
}
