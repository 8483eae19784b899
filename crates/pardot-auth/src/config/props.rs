//! Property tests of the configuration readers (the variables and `.env`): whatever is set,
//! no panic, an error that names the variable at fault, and no secret value in any error.
//! Cases: `PROPTEST_CASES` (256 by default; `cargo xtask props`: 10,000).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{Config, ConfigError, dotenv_error};

/// Every variable the configuration reads.
const VARIABLES: &[&str] = &[
    "PARDOT_AUTH_FLOW",
    "SF_LOGIN_URL",
    "SF_CLIENT_ID",
    "SF_CLIENT_SECRET",
    "SF_USERNAME",
    "SF_PASSWORD",
    "SF_PRIVATE_KEY_FILE",
    "SF_REDIRECT_URI",
    "SF_REFRESH_TOKEN",
    "PARDOT_URL",
    "PARDOT_BUSINESS_UNIT_ID",
    "PARDOT_EMAIL",
    "PARDOT_PASSWORD",
    "PARDOT_USER_KEY",
    "MCI_DISCOVERY_URL",
    "MCI_PRIVATE_KEY_FILE",
    "MCI_SERVICE_ACCOUNT_ID",
    "PARDOT_AUTH_STORE",
    "PARDOT_AUTH_STORE_DIR",
    "PARDOT_AUTH_STORE_ENCRYPTION_KEY",
    "PARDOT_AUTH_REDIS_URL",
    "PARDOT_AUTH_REDIS_PREFIX",
    "PARDOT_AUTH_REDIS_ON_FAILURE",
    "PARDOT_AUTH_GOVERNOR",
    "PARDOT_AUTH_DAILY_BUDGET",
    "PARDOT_AUTH_DAY_OFFSET",
];

/// Variables whose value is a secret: no error may repeat it.
const SECRETS: &[&str] = &[
    "SF_CLIENT_SECRET",
    "SF_PASSWORD",
    "SF_REFRESH_TOKEN",
    "PARDOT_PASSWORD",
    "PARDOT_USER_KEY",
    "PARDOT_AUTH_STORE_ENCRYPTION_KEY",
];

/// Well-formed values of the variables (and a few near misses).
const WELL_FORMED_VALUES: &[&str] = &[
    "jwt",
    "password",
    "web",
    "refresh",
    "client_credentials",
    "device",
    "legacy",
    "mci",
    "memory",
    "file",
    "redis",
    "process",
    "host",
    "fail_open",
    "fail_closed",
    "production",
    "sandbox",
    "https://acme.my.salesforce.com",
    "http://127.0.0.1:9",
    "http://example.com",
    "0Uv5A000000PAuMSAW",
    "0Uv5A000000PAuM",
    "c0ffee0123456789c0ffee0123456789",
    "+05:30",
    "-25:00",
    "1000",
    "-1",
    "18446744073709551616",
    "user@example.com",
    "/tmp/key.pem",
    "redis://127.0.0.1:1/",
];

/// Values of every kind: well-formed ones of each variable, and junk.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(WELL_FORMED_VALUES).prop_map(str::to_owned),
        "secret-[a-z0-9]{8}",
        "\\PC{0,30}",
        Just(" ".to_owned()),
    ]
}

fn settings() -> impl Strategy<Value = BTreeMap<&'static str, String>> {
    proptest::collection::btree_map(proptest::sample::select(VARIABLES), value(), 0..12)
}

proptest! {
    #[test]
    fn any_variables_give_a_config_or_name_the_variable(vars in settings()) {
        let set = |name: &str| vars.get(name).is_some_and(|v| !v.trim().is_empty());
        let result = Config::from_lookup(|name| vars.get(name).cloned());
        let Err(e) = result else { return Ok(()) };
        let shown = format!("{e} {e:?}");
        for secret in SECRETS {
            if let Some(value) = vars.get(secret).filter(|v| v.starts_with("secret-")) {
                prop_assert!(!shown.contains(value.trim()), "{} shown: {}", secret, shown);
            }
        }
        match &e {
            ConfigError::NoFlow => prop_assert!(!set("PARDOT_AUTH_FLOW")),
            ConfigError::UnknownFlow { .. } => prop_assert!(set("PARDOT_AUTH_FLOW")),
            ConfigError::Missing { variable, .. } | ConfigError::Needs { variable, .. } => {
                prop_assert!(!set(variable), "{} is set: {}", variable, e);
            }
            ConfigError::Invalid { variable, .. } => prop_assert!(set(variable), "{} is not set: {}", variable, e),
            ConfigError::RenamedTwice { variable, deprecated } => {
                prop_assert!(set(variable) && set(deprecated), "{} or {} is not set: {}", variable, deprecated, e);
            }
            ConfigError::NotBuiltWith { .. } => {}
        }
    }

    #[test]
    fn a_malformed_env_file_is_named_without_its_values(
        lines in proptest::collection::vec(prop_oneof![
            "[A-Z_]{1,12}=secret-[a-z0-9]{8}",
            "[A-Z_]{1,12}=\"secret-[a-z0-9]{8}",
            "[A-Z_]{1,12}='secret-[a-z0-9]{8}\\\\",
            "export [A-Z_]{1,12} = secret-[a-z0-9]{8}\"",
            "# secret-[a-z0-9]{8}",
            "\\PC{0,30}",
        ], 0..6),
    ) {
        let text = lines.join("\n");
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            let Err(e) = item else { continue };
            let ConfigError::Invalid { variable, reason } = dotenv_error(&e) else {
                return Err(TestCaseError::fail("not an Invalid error"));
            };
            prop_assert_eq!(variable, ".env");
            prop_assert!(!reason.contains("secret-"), "{}", reason);
            break;
        }
    }
}
