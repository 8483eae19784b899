//! Property tests: whatever the bytes, `envelope::parse` answers (Ok or Err) and never panics;
//! a valid body cut short anywhere before its end is always an error.

use pardot_legacy::envelope;
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
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<rsp stat=\"ok\">".to_owned()),
        Just("<rsp stat=\"fail\" version=\"1.0\">".to_owned()),
        Just("</rsp>".to_owned()),
        Just("<err code=\"15\">".to_owned()),
        Just("</err>".to_owned()),
        Just("<api_key>".to_owned()),
        Just("</api_key>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("]]>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#x0;".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("{\"@attributes\":".to_owned()),
        Just("{\"stat\":\"fail\",\"err_code\":".to_owned()),
        Just("\"err\":[".to_owned()),
        Just("}".to_owned()),
        Just("]".to_owned()),
        Just("\u{feff}".to_owned()),
        "[ -~]{0,12}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

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
}
