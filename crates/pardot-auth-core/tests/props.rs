//! Property tests of the core parsers of outside input (ids, hosts) and of the redactor.
//! Cases: `PROPTEST_CASES` (256 by default; `cargo xtask props` runs 10,000).

use pardot_auth_core::redact::{ECHOED_SECRETS, excerpt, leaked_secret, redact};
use pardot_auth_core::{BusinessUnitId, HostError, IdError, LoginHost, PardotHost, SalesforceId};
use proptest::prelude::*;

/// Strings near an id: mostly alphanumeric, sometimes 15 or 18 long, sometimes odd.
fn id_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-Za-z]{15}",
        "[0-9A-Za-z]{18}",
        "0Uv[0-9A-Za-z]{12}",
        "0Uv[0-9A-Za-z]{15}",
        "[0-9A-Za-z!é -]{14,19}",
        "\\PC{0,24}",
    ]
}

/// Text a user may write for a host: keywords, URLs of every shape, garbage.
fn host_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("production".to_owned()),
        Just(" sandbox ".to_owned()),
        "(https?|ftp|file)://[a-z0-9.-]{0,20}(:[0-9]{1,6})?(/[a-z0-9/]{0,8})?",
        "https://[a-z]{1,8}\\.my\\.salesforce\\.com/?",
        "https://user:secretpw[a-z]{4}@[a-z]{1,8}\\.example\\.com",
        "https://[a-z]{1,8}\\.example\\.com/\\?access_token=[a-z]{8}",
        "http://(127\\.0\\.0\\.1|localhost|\\[::1\\]|10\\.0\\.0\\.1)(:[0-9]{1,5})?",
        "\\PC{0,30}",
    ]
}

fn check_id_error(text: &str, err: &IdError) -> Result<(), TestCaseError> {
    let chars: Vec<char> = text.chars().collect();
    match err {
        IdError::Length { id, len } => {
            prop_assert_eq!(id, text);
            prop_assert_eq!(*len, chars.len());
            prop_assert!(*len != 15 && *len != 18);
        }
        IdError::Character {
            id,
            character,
            position,
        } => {
            prop_assert_eq!(id, text);
            prop_assert_eq!(chars.get(position - 1), Some(character));
            prop_assert!(!character.is_ascii_alphanumeric());
        }
        IdError::Checksum { id, first_15, .. } => {
            prop_assert_eq!(id, text);
            prop_assert_eq!(chars.len(), 18);
            prop_assert_eq!(first_15.as_str(), &text[..15]);
        }
        IdError::Prefix { id, expected } => {
            prop_assert_eq!(id.as_str(), text);
            prop_assert_eq!(*expected, "0Uv");
            prop_assert!(!text.starts_with("0Uv"));
        }
        other => prop_assert!(false, "unexpected error {other:?}"),
    }
    Ok(())
}

fn check_host_error(text: &str, err: &HostError) -> Result<(), TestCaseError> {
    let shown = format!("{err} {err:?}");
    // A URL's password or query is never repeated in an error.
    for secret in ["secretpw", "access_token="] {
        if text.contains(secret) {
            prop_assert!(!shown.contains(secret), "{shown}");
        }
    }
    match err {
        HostError::Invalid { reason, .. } => prop_assert!(!reason.is_empty()),
        HostError::Insecure { url } | HostError::NotABase { url } => {
            prop_assert!(!url.is_empty());
        }
        other => prop_assert!(false, "unexpected error {other:?}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn salesforce_ids_parse_or_name_the_bad_part(text in id_like()) {
        match SalesforceId::parse(&text) {
            Ok(id) => {
                prop_assert_eq!(id.as_str().len(), 18);
                prop_assert_eq!(id.as_15(), &text[..15]);
                prop_assert_eq!(SalesforceId::parse(id.as_str()), Ok(id.clone()));
                prop_assert_eq!(SalesforceId::parse(id.as_15()), Ok(id));
            }
            Err(e) => check_id_error(&text, &e)?,
        }
    }

    #[test]
    fn business_unit_ids_parse_or_name_the_bad_part(text in id_like()) {
        match BusinessUnitId::parse(&text) {
            Ok(bu) => {
                prop_assert!(bu.as_str().starts_with("0Uv"));
                prop_assert_eq!(BusinessUnitId::parse(bu.as_str()), Ok(bu.clone()));
                let through_serde: BusinessUnitId =
                    serde_json::from_value(serde_json::json!(bu.as_str())).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(through_serde, bu);
            }
            Err(e) => check_id_error(&text, &e)?,
        }
    }

    #[test]
    fn login_hosts_parse_back_from_their_base_url(text in host_text()) {
        match LoginHost::parse(&text) {
            Ok(host) => prop_assert_eq!(LoginHost::parse(host.base_url()), Ok(host)),
            Err(e) => check_host_error(&text, &e)?,
        }
    }

    #[test]
    fn pardot_hosts_parse_back_from_their_base_url(text in host_text()) {
        match PardotHost::parse(&text) {
            Ok(host) => prop_assert_eq!(PardotHost::parse(host.base_url()), Ok(host)),
            Err(e) => check_host_error(&text, &e)?,
        }
    }

    #[test]
    fn an_echoed_secret_never_survives_the_redactor(
        which in 0..ECHOED_SECRETS.len(),
        before in "\\PC{0,40}",
        after in "[ \\n\"<&,]\\PC{0,40}",
        bound in 0usize..200,
    ) {
        let (shape, echo, _) = ECHOED_SECRETS[which];
        // The secret starts after a separator, as in any echo.
        let text = format!("{before} {echo}{after}");
        prop_assert_eq!(leaked_secret(&redact(&text)), None, "{}: {}", shape, redact(&text));
        let out = excerpt(text.as_bytes(), bound);
        prop_assert_eq!(leaked_secret(&out), None, "{}: {}", shape, out);
    }

    #[test]
    fn excerpts_of_any_bytes_are_bounded(body in proptest::collection::vec(any::<u8>(), 0..600), bound in 0usize..300) {
        let out = excerpt(&body, bound);
        // The kept characters, a `…`, and marks no longer than what they replace (a mark
        // stands for at least a few characters, so a kept text never grows much).
        prop_assert!(out.chars().count() <= bound + 1 + "[redacted]".len(), "{out}");
    }

    #[test]
    fn plain_words_are_kept(words in proptest::collection::vec("[a-z]{1,12}", 0..20)) {
        let text = words.join(" ");
        prop_assume!(!words.iter().any(|w| w == "bearer" || w == "oauth"));
        prop_assert_eq!(redact(&text), text);
    }
}
