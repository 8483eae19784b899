//! Property tests of the Pardot side's readers of client input: the `Authorization: Pardot
//! api_key=…, user_key=…` header and the v3/v4 query criteria. Whatever a client sends: no
//! panic, a written header reads back, and a bad criterion is answered with the code of the
//! first bad parameter in the documented order. Cases: `PROPTEST_CASES` (256 by default;
//! `cargo xtask props`: 10,000).

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;

use super::objects::criteria::{Criteria, MAX_LIMIT, SortRules};
use super::prospects::Deleted;
use super::time;
use super::v34::pardot_scheme;

const RULES: SortRules<'static> = SortRules {
    extra: &[("name", false), ("cost", true)],
    default_key: "id",
    fixed_order: None,
    deleted: true,
};

/// The criteria in the order they are read, each with its error code and validity.
type Check = fn(&str) -> bool;
const CRITERIA: &[(&str, u32, Check)] = &[
    ("id_greater_than", 16, |v| v.trim().parse::<u64>().is_ok()),
    ("id_less_than", 16, |v| v.trim().parse::<u64>().is_ok()),
    ("created_after", 7, valid_time),
    ("created_before", 7, valid_time),
    ("updated_after", 7, valid_time),
    ("updated_before", 7, valid_time),
    ("deleted", 27, |v| Deleted::parse(v).is_some()),
    ("limit", 23, |v| {
        v.trim().parse::<usize>().is_ok_and(|n| n <= MAX_LIMIT)
    }),
    ("offset", 21, |v| v.trim().parse::<usize>().is_ok()),
    ("sort_by", 19, |v| {
        matches!(
            v.trim(),
            "id" | "created_at" | "updated_at" | "name" | "cost"
        )
    }),
    ("sort_order", 20, |v| {
        matches!(v, "ascending" | "descending")
    }),
];

fn now() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

fn valid_time(v: &str) -> bool {
    time::parse_criterion(v, now()).is_some()
}

fn criterion_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "0",
            "7",
            " 42 ",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "200",
            "201",
            "today",
            "yesterday",
            "last_7_days",
            "2024-01-02",
            "2024-01-02 03:04:05",
            "2024-13-45",
            "true",
            "false",
            "all",
            "TRUE",
            "id",
            "created_at",
            "name",
            "nope",
            "ascending",
            "descending",
            "Descending",
            "",
        ])
        .prop_map(str::to_owned),
        "[0-9]{1,25}",
        "\\PC{0,16}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    "[0-9a-f]{0,40}|[^,\"=]{0,12}"
}

proptest! {
    #[test]
    fn criteria_answer_the_first_bad_parameter(
        params in proptest::collection::btree_map(
            proptest::sample::select(CRITERIA.iter().map(|(n, _, _)| *n).collect::<Vec<_>>()),
            criterion_value(),
            0..8,
        ),
    ) {
        let params: BTreeMap<&str, String> = params;
        let expected = CRITERIA.iter().find_map(|(name, code, valid)| {
            params.get(name).filter(|v| !valid(v)).map(|_| *code)
        });
        let result = Criteria::parse(|name| params.get(name).map(String::as_str), &RULES, now());
        match (result, expected) {
            (Ok(query), None) => {
                prop_assert!(query.limit <= MAX_LIMIT);
                let offset = params.get("offset").and_then(|o| o.trim().parse().ok()).unwrap_or(0);
                prop_assert_eq!(query.offset, offset);
            }
            (Err(e), Some(code)) => prop_assert_eq!(e.code, code, "{:?}", params),
            (got, want) => prop_assert!(false, "{:?}: got {:?}, expected code {:?}", params, got.map(|_| ()), want),
        }
    }

    #[test]
    fn written_pardot_headers_read_back(
        api_key in header_value(),
        user_key in header_value(),
        quoted in any::<bool>(),
        spaces in "[ \t]{0,3}",
        user_first in any::<bool>(),
    ) {
        let q = |v: &str| if quoted { format!("\"{v}\"") } else { v.to_owned() };
        let parts = [format!("api_key={}", q(&api_key)), format!("user_key{spaces}={spaces}{}", q(&user_key))];
        let (a, b) = if user_first { (&parts[1], &parts[0]) } else { (&parts[0], &parts[1]) };
        let header = format!("Pardot {a},{spaces}{b}");
        // A quoted value is kept as written; a bare one is trimmed.
        let read = |v: &str| if quoted { v.to_owned() } else { v.trim().to_owned() };
        prop_assert_eq!(
            pardot_scheme(&header),
            Some((read(&api_key), read(&user_key))),
            "{}", header
        );
    }

    #[test]
    fn any_authorization_header_is_read_without_a_panic(value in "(Pardot |Bearer )?\\PC{0,60}") {
        if let Some((api_key, user_key)) = pardot_scheme(&value) {
            prop_assert!(value.trim().starts_with("Pardot"));
            prop_assert!(!api_key.contains(',') && !user_key.contains(','));
        }
    }
}
