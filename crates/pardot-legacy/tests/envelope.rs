//! Every envelope shape of `docs/reference/pardot-api.md#the-v3v4-urls-and-envelope`, and the
//! ways a body can be wrong.

mod support;

use pardot_auth_core::{ErrorClass, PardotErrorCode};
use pardot_legacy::envelope::{self, ApiError, EnvelopeError, Format};
use support::Query;

const API_KEY: &str = "5a1698a233e73d7c8ccd60d775fbc68a";

#[test]
fn xml_login_ok_v3() {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n    <api_key>{API_KEY}</api_key>\n</rsp>\n"
    );
    let env = envelope::parse(body.as_bytes()).unwrap();
    assert_eq!(env.format, Format::Xml);
    assert!(env.is_ok());
    assert_eq!(env.version.as_deref(), Some("1.0"));
    assert!(env.errors().is_empty());
    assert_eq!(env.field("api_key"), Some(API_KEY));
    assert_eq!(env.field("version"), None);
    assert!(env.into_result().is_ok());
}

#[test]
fn xml_login_ok_v4_has_version_element() {
    let body = format!(
        "<rsp stat=\"ok\" version=\"1.0\">\n    <api_key>{API_KEY}</api_key>\n    <version>4</version>\n</rsp>"
    );
    let env = envelope::parse(body.as_bytes()).unwrap();
    assert_eq!(env.field("version"), Some("4"));
    assert_eq!(
        env.field_names().collect::<Vec<_>>(),
        ["api_key", "version"]
    );
}

#[test]
fn xml_login_failed() {
    let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"fail\" version=\"1.0\">\n    <err code=\"15\">Login failed</err>\n</rsp>\n";
    let env = envelope::parse(body).unwrap();
    assert!(!env.is_ok());
    assert_eq!(
        env.errors(),
        [ApiError {
            code: PardotErrorCode::LOGIN_FAILED,
            message: "Login failed".into(),
            param: None
        }]
    );
    let err = env.into_result().unwrap_err();
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    assert_eq!(err.to_string(), "Pardot error 15: Login failed");
}

#[test]
fn xml_several_errors_with_params() {
    let body = br#"<rsp stat="fail" version="1.0">
    <err code="10000" param="email">Invalid prospect email address</err>
    <err code="10000" param="score">Invalid value specified for score</err>
    <err code="13">One or more required parameters are missing</err>
</rsp>"#;
    let env = envelope::parse(body).unwrap();
    assert_eq!(env.errors().len(), 3);
    assert_eq!(env.errors()[0].param.as_deref(), Some("email"));
    assert_eq!(env.errors()[1].param.as_deref(), Some("score"));
    assert_eq!(env.errors()[2].code, PardotErrorCode(13));
    assert_eq!(env.errors()[2].param, None);
    assert_eq!(
        env.first_error().unwrap().to_string(),
        "Pardot error 10000: Invalid prospect email address (param `email`)"
    );
    assert_eq!(
        env.into_result().unwrap_err().class(),
        ErrorClass::CallerBug
    );
}

#[test]
fn xml_messages_keep_their_exact_text_and_resolve_entities() {
    let body = br#"<rsp stat="fail" version="1.0"><err code="66">You have exceeded your concurrent request limit.  Please wait, before trying again</err></rsp>"#;
    let err = envelope::parse(body).unwrap().into_result().unwrap_err();
    assert_eq!(
        err.message,
        "You have exceeded your concurrent request limit.  Please wait, before trying again"
    );
    assert_eq!(err.class(), ErrorClass::RETRY);

    let body = br#"<rsp stat="fail" version="1.0"><err code="184">access_token is invalid, unknown, or malformed: &quot;x&quot; &amp; caf&#233; <![CDATA[<raw>]]></err></rsp>"#;
    let err = envelope::parse(body).unwrap().into_result().unwrap_err();
    assert_eq!(
        err.message,
        "access_token is invalid, unknown, or malformed: \"x\" & café <raw>"
    );
    assert!(err.signals_expired_credential());
    assert_eq!(err.class(), ErrorClass::RefreshAndRetry);
}

#[test]
fn error_messages_and_params_are_bounded_and_hide_tokens() {
    let token = "00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3";
    let long = "word ".repeat(2_000);
    let bodies = [
        format!(
            r#"<rsp stat="fail" version="1.0"><err code="184" param="{API_KEY}">Bearer {token} api_key={API_KEY}</err></rsp>"#
        ),
        format!(r#"<rsp stat="fail" version="1.0"><err code="1">{long}</err></rsp>"#),
        format!(
            r#"{{"@attributes":{{"stat":"fail","err_code":184}},"err":"Bearer {token} api_key={API_KEY}"}}"#
        ),
        format!(
            r#"{{"@attributes":{{"stat":"fail"}},"err":[{{"code":1,"message":"{long}","param":"{API_KEY}"}}]}}"#
        ),
    ];
    for body in &bodies {
        let err = envelope::parse(body.as_bytes())
            .unwrap()
            .into_result()
            .unwrap_err();
        let shown = format!(
            "{err} {err:?} {}",
            pardot_auth_core::Error::from(err.clone())
        );
        assert!(!shown.contains("AQ4AQFzXl9"), "{shown}");
        assert!(!shown.contains(API_KEY), "{shown}");
        assert!(err.message.chars().count() <= envelope::MESSAGE_CHARS + 1);
    }
}

#[test]
fn xml_empty_elements_and_nested_payloads() {
    let body = br#"<rsp stat="ok" version="1.0"><note/><result><total_results>1</total_results></result></rsp>"#;
    let env = envelope::parse(body).unwrap();
    assert_eq!(env.field("note"), Some(""));
    // A field with children is not a leaf.
    assert_eq!(env.field("result"), None);
    assert_eq!(
        envelope::parse(br#"<rsp stat="ok"/>"#).unwrap().version,
        None
    );
}

#[test]
fn json_login_ok_with_numeric_version() {
    let body = format!(
        r#"{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}","version":4}}"#
    );
    let env = envelope::parse(body.as_bytes()).unwrap();
    assert_eq!(env.format, Format::Json);
    assert!(env.is_ok());
    assert_eq!(env.version.as_deref(), Some("1"));
    assert_eq!(env.field("api_key"), Some(API_KEY));
    assert_eq!(env.field("version"), Some("4"));
    assert!(env.json().is_some() && env.xml().is_none());
}

#[test]
fn json_failure_with_integer_err_code() {
    let body = br#"{"@attributes":{"stat":"fail","version":1,"err_code":15},"err":"Login failed"}"#;
    let err = envelope::parse(body).unwrap().into_result().unwrap_err();
    assert_eq!(err.code, PardotErrorCode::LOGIN_FAILED);
    assert_eq!(err.message, "Login failed");
}

#[test]
fn json_failure_with_string_err_code() {
    let body = br#"{"@attributes":{"stat":"fail","version":"1.0","err_code":"1"},"err":"Invalid API key or user key"}"#;
    let env = envelope::parse(body).unwrap();
    assert_eq!(env.version.as_deref(), Some("1.0"));
    let err = env.into_result().unwrap_err();
    assert_eq!(err.code, PardotErrorCode::INVALID_API_KEY);
    assert!(err.signals_expired_credential());
}

#[test]
fn json_err_array_of_strings_shares_the_code() {
    let body = br#"{"@attributes":{"stat":"fail","version":1,"err_code":10000},"err":["Invalid prospect email address","Invalid value specified for score"]}"#;
    let env = envelope::parse(body).unwrap();
    assert_eq!(env.errors().len(), 2);
    assert!(
        env.errors()
            .iter()
            .all(|e| e.code == PardotErrorCode(10000))
    );
    assert_eq!(env.errors()[1].message, "Invalid value specified for score");
}

#[test]
fn json_err_array_of_objects_with_codes_and_params() {
    let body = br#"{"@attributes":{"stat":"fail","version":1},"err":[
        {"@attributes":{"code":10000,"param":"email"},"@value":"Invalid prospect email address"},
        {"code":"13","message":"One or more required parameters are missing"}
    ]}"#;
    let env = envelope::parse(body).unwrap();
    assert_eq!(
        env.errors(),
        [
            ApiError {
                code: PardotErrorCode(10000),
                message: "Invalid prospect email address".into(),
                param: Some("email".into()),
            },
            ApiError {
                code: PardotErrorCode(13),
                message: "One or more required parameters are missing".into(),
                param: None,
            },
        ]
    );
}

#[test]
fn json_failure_with_code_but_no_message() {
    let body = br#"{"@attributes":{"stat":"fail","version":1,"err_code":122}}"#;
    let err = envelope::parse(body).unwrap().into_result().unwrap_err();
    assert_eq!(err.code, PardotErrorCode::DAILY_LIMIT);
    assert_eq!(err.message, "");
}

#[test]
fn whitespace_bom_and_crlf_variants() {
    let xml = format!(
        "\u{feff}\r\n  <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<rsp stat=\"ok\" version=\"1.0\">\r\n<api_key>\r\n{API_KEY}\r\n</api_key>\r\n</rsp>\r\n\r\n"
    );
    let env = envelope::parse(xml.as_bytes()).unwrap();
    assert_eq!(env.field("api_key"), Some(API_KEY));

    let json = format!(
        "\u{feff}\n\t {{ \"@attributes\" : {{ \"stat\" : \"ok\", \"version\" : 1 }}, \"api_key\" : \" {API_KEY} \" }}\n"
    );
    let env = envelope::parse(json.as_bytes()).unwrap();
    assert_eq!(env.format, Format::Json);
    assert_eq!(env.field("api_key"), Some(API_KEY));

    let fail = "  \n<rsp stat=\"fail\" version=\"1.0\">\n\t<err code=\" 15 \">\n   Login failed\n</err>\n</rsp>";
    let err = envelope::parse(fail.as_bytes())
        .unwrap()
        .into_result()
        .unwrap_err();
    assert_eq!(err.code, PardotErrorCode(15));
    assert_eq!(err.message, "Login failed");
}

#[test]
fn payload_deserializes_from_both_formats() {
    #[derive(serde::Deserialize)]
    struct Prospect {
        id: u64,
        email: String,
    }
    #[derive(serde::Deserialize)]
    struct Read {
        prospect: Prospect,
    }
    let xml = br#"<rsp stat="ok" version="1.0"><prospect><id>42</id><email>a@b.example</email></prospect></rsp>"#;
    let json =
        br#"{"@attributes":{"stat":"ok","version":1},"prospect":{"id":42,"email":"a@b.example"}}"#;
    for body in [&xml[..], &json[..]] {
        let read: Read = envelope::parse(body).unwrap().deserialize().unwrap();
        assert_eq!(read.prospect.id, 42);
        assert_eq!(read.prospect.email, "a@b.example");
    }
    let wrong = envelope::parse(json).unwrap().deserialize::<Vec<u8>>();
    assert!(matches!(
        wrong,
        Err(EnvelopeError::Payload {
            format: Format::Json,
            ..
        })
    ));
}

#[test]
fn bodies_that_are_not_envelopes() {
    assert_eq!(envelope::parse(b"").unwrap_err(), EnvelopeError::Empty);
    assert_eq!(
        envelope::parse(b" \r\n\t\xEF\xBB\xBF ").unwrap_err(),
        EnvelopeError::Empty
    );
    assert!(matches!(
        envelope::parse(b"Service Unavailable"),
        Err(EnvelopeError::UnknownFormat { .. })
    ));
    let cases: &[&[u8]] = &[
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b"<rsp version=\"1.0\"><api_key>x</api_key></rsp>",
        b"<rsp stat=\"maybe\"></rsp>",
        b"<rsp stat=\"fail\" version=\"1.0\"></rsp>",
        b"<rsp stat=\"fail\"><err>Login failed</err></rsp>",
        b"<rsp stat=\"fail\"><err code=\"x\">Login failed</err></rsp>",
        b"<rsp stat=\"ok\"></rsp><rsp stat=\"ok\"></rsp>",
        b"<rsp stat=\"ok\"></rsp>trailing",
        b"<?xml version=\"1.0\"?>",
        br#"{"stat":"ok"}"#,
        br#"{"@attributes":{"stat":"fail","version":1}}"#,
        br#"{"@attributes":{"stat":"fail","err_code":-3},"err":"x"}"#,
        br#"{"@attributes":{"stat":"fail"},"err":"no code anywhere"}"#,
        br#"["@attributes"]"#,
    ];
    for body in cases {
        assert!(
            matches!(
                envelope::parse(body),
                Err(EnvelopeError::NotAnEnvelope { .. })
            ),
            "{}: {:?}",
            String::from_utf8_lossy(body),
            envelope::parse(body)
        );
    }
}

#[test]
fn broken_syntax_is_a_syntax_error() {
    let cases: &[&[u8]] = &[
        b"<rsp stat=\"ok\" version=\"1.0\"><api_key>abc</api_key>",
        b"<rsp stat=\"ok\" version=\"1.0\"><api_key>abc</api_key></rsp",
        b"<rsp stat=\"ok\"><a></b></rsp>",
        b"<rsp stat=\"fail\"><err code=\"15\">Login &bogus; failed</err></rsp>",
        b"<rsp stat=\"ok\">\xff\xfe</rsp>",
        br#"{"@attributes":{"stat":"ok","version":1},"api_key":"abc""#,
        b"{",
    ];
    for body in cases {
        assert!(
            matches!(envelope::parse(body), Err(EnvelopeError::Syntax { .. })),
            "{}: {:?}",
            String::from_utf8_lossy(body),
            envelope::parse(body)
        );
    }
}

#[test]
fn error_excerpts_are_bounded_and_hide_keys() {
    let body = format!(
        "<rsp stat=\"ok\" version=\"1.0\"><api_key>{API_KEY}</api_key>{}",
        "x".repeat(10_000)
    );
    let err = envelope::parse(body.as_bytes()).unwrap_err();
    let excerpt = err.excerpt().unwrap();
    assert!(excerpt.chars().count() <= envelope::EXCERPT_CHARS);
    assert!(!err.to_string().contains(API_KEY), "{err}");
    assert!(!format!("{err:?}").contains(API_KEY));
    assert!(excerpt.contains("[redacted]"));
}

#[test]
fn envelope_debug_shows_no_field_values() {
    let body = format!("<rsp stat=\"ok\" version=\"1.0\"><api_key>{API_KEY}</api_key></rsp>");
    let env = envelope::parse(body.as_bytes()).unwrap();
    let debug = format!("{env:?}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("api_key"));
}

#[test]
fn converts_into_the_core_error_with_classification() {
    let err = envelope::parse(br#"<rsp stat="fail" version="1.0"><err code="131">Your account is locked due to too many failed login attempts.</err></rsp>"#)
        .unwrap()
        .into_result()
        .unwrap_err();
    let core: pardot_auth_core::Error = err.into();
    assert_eq!(core.class(), ErrorClass::NeverRetry);
    assert_eq!(core.code(), Some("131"));
    assert!(core.help().unwrap().contains("passwordReset"));

    let bad: pardot_auth_core::Error = envelope::parse(b"<html/>").unwrap_err().into();
    assert_eq!(bad.kind(), pardot_auth_core::ErrorKind::InvalidResponse);
}

#[test]
fn a_vec_field_reads_one_or_many_in_both_formats() {
    let cases: &[(&[u8], usize)] = &[
        (br#"{"@attributes":{"stat":"ok","version":1},"result":{"total_results":1,"prospect":{"id":1,"email":"a@x.example"}}}"#, 1),
        (br#"{"@attributes":{"stat":"ok","version":1},"result":{"total_results":2,"prospect":[{"id":1,"email":"a@x.example"},{"id":2,"email":"b@x.example"}]}}"#, 2),
        (br#"{"@attributes":{"stat":"ok","version":1},"result":{"total_results":0}}"#, 0),
        (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n    <result>\n        <total_results>1</total_results>\n        <prospect>\n            <id>1</id>\n            <email>a@x.example</email>\n        </prospect>\n    </result>\n</rsp>\n", 1),
        (b"<rsp stat=\"ok\" version=\"1.0\"><result><total_results>2</total_results><prospect><id>1</id><email>a@x.example</email></prospect><prospect><id>2</id><email>b@x.example</email></prospect></result></rsp>", 2),
        (b"<rsp stat=\"ok\" version=\"1.0\"><result><total_results>0</total_results></result></rsp>", 0),
    ];
    for (body, n) in cases {
        let q: Query = envelope::parse(body)
            .unwrap()
            .deserialize()
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(body)));
        assert_eq!(
            q.result.prospect.len(),
            *n,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(q.result.total_results, *n as u64);
        if *n > 0 {
            assert_eq!(q.result.prospect[0].id, 1);
            assert_eq!(q.result.prospect[0].email, "a@x.example");
        }
    }
}

#[test]
fn json_payload_keeps_serde_json_semantics_for_options_enums_and_raw_values() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Lead,
        Customer,
    }
    #[derive(serde::Deserialize)]
    struct Prospect {
        salutation: Option<String>,
        company: Option<String>,
        kind: Kind,
        campaign: serde_json::Value,
        scores: Vec<i64>,
    }
    #[derive(serde::Deserialize)]
    struct Read {
        prospect: Prospect,
    }
    let body = br#"{"@attributes":{"stat":"ok","version":1},"prospect":{"salutation":null,"kind":"customer","campaign":{"id":3,"name":"Spring"},"scores":[-1,2]}}"#;
    let read: Read = envelope::parse(body).unwrap().deserialize().unwrap();
    assert_eq!(read.prospect.salutation, None);
    assert_eq!(read.prospect.company, None);
    assert_eq!(read.prospect.kind, Kind::Customer);
    assert_eq!(read.prospect.campaign["name"], "Spring");
    assert_eq!(read.prospect.scores, [-1, 2]);

    // A lone scalar where a list is expected is a list of one, as in XML.
    let single = br#"{"@attributes":{"stat":"ok","version":1},"prospect":{"salutation":"Ms","kind":"lead","campaign":null,"scores":5}}"#;
    let read: Read = envelope::parse(single).unwrap().deserialize().unwrap();
    assert_eq!(read.prospect.scores, [5]);
    assert_eq!(read.prospect.kind, Kind::Lead);
    assert!(read.prospect.campaign.is_null());
}
