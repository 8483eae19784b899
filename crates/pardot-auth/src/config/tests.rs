use super::*;

#[test]
fn a_malformed_dotenv_line_is_reported_without_its_value() {
    let e = dotenvy::Error::LineParse("SF_CLIENT_SECRET='s3cr3t-value\nMORE=x".into(), 17);
    let text = dotenv_error(&e).to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(
        text.contains("SF_CLIENT_SECRET") && text.contains(".env"),
        "{text}"
    );
    let e = dotenvy::Error::LineParse("export PARDOT_PASSWORD = \"pw".into(), 25);
    let text = dotenv_error(&e).to_string();
    assert!(!text.contains("pw\""), "{text}");
    assert!(text.contains("PARDOT_PASSWORD"), "{text}");
    let e = dotenvy::Error::LineParse("not a name hunter2".into(), 3);
    let text = dotenv_error(&e).to_string();
    assert!(!text.contains("hunter2"), "{text}");
    // Before the fix the message was dotenvy's, which quotes the line.
    assert!(
        dotenvy::Error::LineParse("X='hunter2".into(), 2)
            .to_string()
            .contains("hunter2")
    );
}
use std::collections::HashMap;

use pardot_auth_core::ALLOW_INSECURE_HTTP_ENV;
use pardot_auth_core::secrecy::ExposeSecret;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

const BU: (&str, &str) = ("PARDOT_BUSINESS_UNIT_ID", "0Uv5A000000PAuM");

#[test]
fn jwt_flow() {
    let c = config(&[
        ("PARDOT_AUTH_FLOW", "jwt"),
        ("SF_LOGIN_URL", "https://test.salesforce.com"),
        ("SF_CLIENT_ID", "3MVGkey"),
        ("SF_USERNAME", "integration@acme.example"),
        ("SF_PRIVATE_KEY_FILE", "server.key"),
        ("PARDOT_URL", "https://pi.demo.pardot.com"),
        BU,
        ("MCI_SERVICE_ACCOUNT_ID", "ignored"),
    ])
    .unwrap();
    match &c.flow {
        FlowConfig::JwtBearer {
            login, username, ..
        } => {
            assert_eq!(login, &LoginHost::Sandbox);
            assert_eq!(username, "integration@acme.example");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.pardot_host, PardotHost::Demo);
    assert_eq!(c.business_unit.unwrap().as_str(), "0Uv5A000000PAuMSAW");
}

#[test]
fn jwt_flow_missing_key_names_the_variable() {
    let e = config(&[
        ("PARDOT_AUTH_FLOW", "jwt"),
        ("SF_CLIENT_ID", "k"),
        ("SF_USERNAME", "u"),
        BU,
    ])
    .unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Missing {
            variable: "SF_PRIVATE_KEY_FILE",
            flow: Flow::JwtBearer,
            ..
        }
    ));
    assert!(
        e.to_string()
            .starts_with("SF_PRIVATE_KEY_FILE is required for the jwt flow")
    );
}

#[test]
fn password_flow_keeps_secrets_out_of_debug() {
    let c = config(&[
        ("PARDOT_AUTH_FLOW", "password"),
        ("SF_CLIENT_ID", "k"),
        ("SF_CLIENT_SECRET", "very-secret-consumer"),
        ("SF_USERNAME", "u@x"),
        ("SF_PASSWORD", "hunter2TOKEN"),
        BU,
    ])
    .unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("very-secret-consumer"));
    assert!(!text.contains("hunter2"));
    assert!(matches!(c.flow, FlowConfig::Password { .. }));
    assert_eq!(
        missing(&[
            ("PARDOT_AUTH_FLOW", "password"),
            ("SF_CLIENT_ID", "k"),
            ("SF_USERNAME", "u@x"),
            ("SF_PASSWORD", "p"),
            BU,
        ]),
        "SF_CLIENT_SECRET"
    );
}

#[test]
fn web_flow_defaults_the_redirect_uri() {
    let c = config(&[("PARDOT_AUTH_FLOW", "web"), ("SF_CLIENT_ID", "k"), BU]).unwrap();
    match c.flow {
        FlowConfig::WebServer {
            redirect_uri,
            client_secret,
            ..
        } => {
            assert_eq!(redirect_uri.as_str(), DEFAULT_REDIRECT_URI);
            assert!(client_secret.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        invalid(&[
            ("PARDOT_AUTH_FLOW", "web"),
            ("SF_CLIENT_ID", "k"),
            ("SF_REDIRECT_URI", "not a url"),
            BU,
        ]),
        "SF_REDIRECT_URI"
    );
}

#[test]
fn refresh_flow() {
    let c = config(&[
        ("PARDOT_AUTH_FLOW", "refresh"),
        ("SF_CLIENT_ID", "k"),
        ("SF_REFRESH_TOKEN", "5Aep861secret"),
        BU,
    ])
    .unwrap();
    assert!(matches!(c.flow, FlowConfig::RefreshToken { .. }));
    assert!(!format!("{c:?}").contains("5Aep861"));
    assert_eq!(
        missing(&[("PARDOT_AUTH_FLOW", "refresh"), ("SF_CLIENT_ID", "k"), BU]),
        "SF_REFRESH_TOKEN"
    );
}

#[test]
fn client_credentials_needs_my_domain() {
    let base = [
        ("PARDOT_AUTH_FLOW", "client-credentials"),
        ("SF_CLIENT_ID", "k"),
        ("SF_CLIENT_SECRET", "s"),
        BU,
    ];
    assert_eq!(missing(&base), "SF_LOGIN_URL");
    let mut prod = base.to_vec();
    prod.push(("SF_LOGIN_URL", "https://login.salesforce.com"));
    assert_eq!(invalid(&prod), "SF_LOGIN_URL");
    let mut mine = base.to_vec();
    mine.push(("SF_LOGIN_URL", "https://acme.my.salesforce.com"));
    assert!(matches!(
        config(&mine).unwrap().flow,
        FlowConfig::ClientCredentials {
            login: LoginHost::MyDomain(_),
            ..
        }
    ));
}

#[test]
fn device_flow() {
    let c = config(&[("PARDOT_AUTH_FLOW", "device"), ("SF_CLIENT_ID", "k"), BU]).unwrap();
    assert!(matches!(c.flow, FlowConfig::Device { .. }));
    assert_eq!(
        missing(&[("PARDOT_AUTH_FLOW", "device"), BU]),
        "SF_CLIENT_ID"
    );
}

#[test]
fn legacy_flow_needs_no_business_unit() {
    let c = config(&[
        ("PARDOT_AUTH_FLOW", "legacy"),
        ("PARDOT_EMAIL", "ops@acme.example"),
        ("PARDOT_PASSWORD", "pw-secret"),
        ("PARDOT_USER_KEY", "0123456789abcdef0123456789abcdef"),
    ])
    .unwrap();
    assert!(c.business_unit.is_none());
    let text = format!("{c:?}");
    assert!(!text.contains("pw-secret") && !text.contains("0123456789abcdef"));
    assert_eq!(
        missing(&[("PARDOT_AUTH_FLOW", "legacy"), ("PARDOT_EMAIL", "e")]),
        "PARDOT_PASSWORD"
    );
}

#[test]
fn mci_flow() {
    let c = config(&[
        ("PARDOT_AUTH_FLOW", "mci"),
        ("MCI_SERVICE_ACCOUNT_ID", "sa-1"),
        (
            "MCI_DISCOVERY_URL",
            "https://idp.intelligence.salesforce.com/us1/.well-known/openid-configuration",
        ),
        ("MCI_PRIVATE_KEY_FILE", "mci.key"),
    ])
    .unwrap();
    assert!(matches!(c.flow, FlowConfig::Mci { .. }));
    assert_eq!(
        missing(&[
            ("PARDOT_AUTH_FLOW", "mci"),
            ("MCI_SERVICE_ACCOUNT_ID", "sa-1"),
            ("MCI_PRIVATE_KEY_FILE", "mci.key"),
        ]),
        "MCI_DISCOVERY_URL"
    );
}

#[test]
fn store_keys_are_valid_and_shared_by_refresh_token_flows() {
    let web = config(&[("PARDOT_AUTH_FLOW", "web"), ("SF_CLIENT_ID", "3MVG9.k"), BU]).unwrap();
    let refresh = config(&[
        ("PARDOT_AUTH_FLOW", "refresh"),
        ("SF_CLIENT_ID", "3MVG9.k"),
        ("SF_REFRESH_TOKEN", "rt"),
        BU,
    ])
    .unwrap();
    assert!(
        web.store_key().starts_with("sf-3MVG9.k-"),
        "{}",
        web.store_key()
    );
    assert_eq!(web.store_key(), refresh.store_key());
    let sandbox = config(&[
        ("PARDOT_AUTH_FLOW", "web"),
        ("SF_CLIENT_ID", "3MVG9.k"),
        ("SF_LOGIN_URL", "sandbox"),
        BU,
    ])
    .unwrap();
    assert_ne!(
        web.store_key(),
        sandbox.store_key(),
        "the login host counts"
    );
    let long = "k".repeat(120);
    let jwt = |user: &str| {
        config(&[
            ("PARDOT_AUTH_FLOW", "jwt"),
            ("SF_CLIENT_ID", long.as_str()),
            ("SF_USERNAME", user),
            ("SF_PRIVATE_KEY_FILE", "f"),
            BU,
        ])
        .unwrap()
        .store_key()
    };
    let (a, b) = (jwt("a@b.example"), jwt("c@d.example"));
    assert_ne!(a, b, "users of one app never share a token");
    assert!(a.starts_with("sf-a_b.example-"), "{a}");
    for key in [&a, &b, &web.store_key()] {
        assert!(key.len() <= 100);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        );
    }
    let legacy = config(&[
        ("PARDOT_AUTH_FLOW", "legacy"),
        ("PARDOT_EMAIL", "ops+x@acme.example"),
        ("PARDOT_PASSWORD", "p"),
        ("PARDOT_USER_KEY", "0123456789abcdef0123456789abcdef"),
    ])
    .unwrap();
    assert!(legacy.store_key().starts_with("legacy-ops_x_acme.example-"));
    // Pinned: keys must survive upgrades, or every stored token is lost.
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
}

#[test]
fn flow_and_business_unit_errors() {
    assert_eq!(config(&[]).unwrap_err(), ConfigError::NoFlow);
    assert!(matches!(
        config(&[("PARDOT_AUTH_FLOW", "saml")]).unwrap_err(),
        ConfigError::UnknownFlow { .. }
    ));
    let jwt = [
        ("PARDOT_AUTH_FLOW", "jwt"),
        ("SF_CLIENT_ID", "k"),
        ("SF_USERNAME", "u"),
        ("SF_PRIVATE_KEY_FILE", "f"),
    ];
    assert_eq!(missing(&jwt), "PARDOT_BUSINESS_UNIT_ID");
    let mut bad_bu = jwt.to_vec();
    bad_bu.push(("PARDOT_BUSINESS_UNIT_ID", "0Uv5a000000PAuMSAW"));
    let e = config(&bad_bu).unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Invalid {
            variable: "PARDOT_BUSINESS_UNIT_ID",
            ..
        }
    ));
    assert!(e.to_string().contains("0Uv5A000000PAuM"));
    let mut bad_host = jwt.to_vec();
    bad_host.push(BU);
    bad_host.push(("PARDOT_URL", "http://pi.example.com"));
    assert_eq!(invalid(&bad_host), "PARDOT_URL");
    let mut blank = jwt.to_vec();
    blank.push(("PARDOT_BUSINESS_UNIT_ID", "  "));
    assert_eq!(missing(&blank), "PARDOT_BUSINESS_UNIT_ID");
}

/// A JWT configuration plus the store and governor settings `extra`.
fn fleet(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut pairs = vec![
        ("PARDOT_AUTH_FLOW", "jwt"),
        ("SF_CLIENT_ID", "k"),
        ("SF_USERNAME", "u"),
        ("SF_PRIVATE_KEY_FILE", "server.key"),
        BU,
    ];
    pairs.extend_from_slice(extra);
    config(&pairs)
}

/// The variable `config` says `pairs` lack.
fn missing(pairs: &[(&str, &str)]) -> &'static str {
    match config(pairs) {
        Err(ConfigError::Missing { variable, .. }) => variable,
        other => panic!("expected a missing variable, got {other:?}"),
    }
}

/// The variable `config` refuses in `pairs`.
fn invalid(pairs: &[(&str, &str)]) -> &'static str {
    match config(pairs) {
        Err(ConfigError::Invalid { variable, .. }) => variable,
        other => panic!("expected an invalid variable, got {other:?}"),
    }
}

/// The variable an error names.
fn named(e: &ConfigError) -> &'static str {
    match e {
        ConfigError::Invalid { variable, .. } | ConfigError::Needs { variable, .. } => variable,
        other => panic!("not a variable error: {other:?}"),
    }
}

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn the_library_defaults_to_memory_and_process() {
    let c = fleet(&[]).unwrap();
    assert_eq!(c.fleet.store, StoreKind::Memory);
    assert_eq!(c.fleet.governor, GovernorKind::Process);
    assert_eq!(c.fleet.daily_budget, None);
    assert_eq!(c.fleet.day_offset, DayOffset::UTC);
    assert_eq!(c.fleet.redis_on_failure, FailurePolicy::FailClosed);
    assert!(c.fleet.store_encryption_key.is_none() && c.fleet.redis_url.is_none());
}

#[test]
fn every_store_and_governor_setting_is_read() {
    let c = fleet(&[
        ("PARDOT_AUTH_STORE", "redis"),
        ("PARDOT_AUTH_STORE_DIR", "/var/lib/acme/tokens"),
        (
            "PARDOT_AUTH_REDIS_URL",
            "rediss://fleet:s3cret-pw@cache.example.com:6380/2",
        ),
        ("PARDOT_AUTH_GOVERNOR", "redis"),
        ("PARDOT_AUTH_DAILY_BUDGET", "20000"),
        ("PARDOT_AUTH_DAY_OFFSET", "-08:00"),
        ("PARDOT_AUTH_REDIS_PREFIX", "acme-prod"),
        ("PARDOT_AUTH_REDIS_ON_FAILURE", "fail_open"),
        ("PARDOT_AUTH_STORE_ENCRYPTION_KEY", KEY_HEX),
    ])
    .unwrap();
    let f = &c.fleet;
    assert_eq!(f.store, StoreKind::Redis);
    assert_eq!(
        f.store_dir.as_deref(),
        Some(std::path::Path::new("/var/lib/acme/tokens"))
    );
    assert_eq!(
        f.redis_url.as_ref().unwrap().shown(),
        "rediss://fleet@cache.example.com:6380/2"
    );
    assert_eq!(f.governor, GovernorKind::Redis);
    assert_eq!(f.daily_budget, Some(20_000));
    assert_eq!(f.day_offset.minutes_east(), -480);
    assert_eq!(f.redis_prefix.as_deref(), Some("acme-prod"));
    assert_eq!(f.redis_on_failure, FailurePolicy::FailOpen);
    assert!(f.store_encryption_key.is_some());
    // Neither the password nor the key shows.
    let text = format!("{c:?}");
    assert!(
        !text.contains("s3cret-pw") && !text.contains(KEY_HEX),
        "{text}"
    );
    assert!(text.contains("cache.example.com"), "{text}");

    let host = fleet(&[
        ("PARDOT_AUTH_STORE", "file"),
        ("PARDOT_AUTH_GOVERNOR", "host"),
        (
            "PARDOT_AUTH_STORE_ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
    ])
    .unwrap();
    assert_eq!(
        (host.fleet.store, host.fleet.governor),
        (StoreKind::File, GovernorKind::Host)
    );
    assert!(host.fleet.store_encryption_key.is_some());
}

#[test]
fn bad_values_name_their_setting_and_never_quote_a_secret() {
    for (variable, value) in [
        ("PARDOT_AUTH_STORE", "disk"),
        ("PARDOT_AUTH_GOVERNOR", "cluster"),
        ("PARDOT_AUTH_DAILY_BUDGET", "lots"),
        ("PARDOT_AUTH_DAILY_BUDGET", "0"),
        ("PARDOT_AUTH_DAY_OFFSET", "8"),
        ("PARDOT_AUTH_DAY_OFFSET", "08:00"),
        ("PARDOT_AUTH_DAY_OFFSET", "-8:00"),
        ("PARDOT_AUTH_DAY_OFFSET", "+05:60"),
        ("PARDOT_AUTH_DAY_OFFSET", "+15:00"),
        ("PARDOT_AUTH_DAY_OFFSET", "-12:30"),
        ("PARDOT_AUTH_REDIS_ON_FAILURE", "maybe"),
        ("PARDOT_AUTH_REDIS_URL", "https://cache.example.com"),
        ("PARDOT_AUTH_REDIS_URL", "cache.example.com:6379"),
        ("PARDOT_AUTH_REDIS_PREFIX", "{acme}"),
        ("PARDOT_AUTH_STORE_ENCRYPTION_KEY", "c2hvcnQta2V5"),
        ("PARDOT_AUTH_STORE_ENCRYPTION_KEY", &KEY_HEX[..62]),
        ("PARDOT_AUTH_STORE_ENCRYPTION_KEY", "not-a-key-at-all!"),
    ] {
        let e = fleet(&[(variable, value)]).unwrap_err();
        assert_eq!(named(&e), variable, "{variable}={value}: {e}");
        assert!(e.to_string().starts_with(variable), "{e}");
        if variable.ends_with("ENCRYPTION_KEY") {
            assert!(!e.to_string().contains(value), "{e}");
        }
    }
    let e = fleet(&[("PARDOT_AUTH_REDIS_URL", "rediss//user:hunter2@cache")]).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn redis_without_a_url_or_without_the_feature_cannot_work() {
    for (setting, value) in [
        ("PARDOT_AUTH_STORE", "redis"),
        ("PARDOT_AUTH_GOVERNOR", "redis"),
    ] {
        let e = fleet(&[(setting, value)]).unwrap_err();
        assert_eq!(
            e,
            ConfigError::Needs {
                variable: "PARDOT_AUTH_REDIS_URL",
                setting: if setting == "PARDOT_AUTH_STORE" {
                    "PARDOT_AUTH_STORE=redis"
                } else {
                    "PARDOT_AUTH_GOVERNOR=redis"
                },
            }
        );
        assert_eq!(
            e.to_string(),
            format!("{setting}={value} needs PARDOT_AUTH_REDIS_URL")
        );

        // A build without the `redis` feature refuses the setting even with a URL.
        let with_url = fleet(&[]).unwrap();
        let with_url = match setting {
            "PARDOT_AUTH_STORE" => with_url.store(StoreKind::Redis),
            _ => with_url.governor(GovernorKind::Redis),
        }
        .redis_url(RedisUrl::parse("redis://:pw@127.0.0.1:6379").unwrap());
        assert!(with_url.fleet.check(true).is_ok());
        let e = with_url.fleet.check(false).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::NotBuiltWith {
                    feature: "redis",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("{setting}={value} needs pardot-auth built with the `redis` feature")
        );
    }
    // Set in code, the same combination is refused by `check` (which `connect` runs).
    let coded = fleet(&[]).unwrap().store(StoreKind::Redis);
    assert!(matches!(coded.check(), Err(ConfigError::Needs { .. })));
    let coded = fleet(&[]).unwrap().redis_prefix("a b");
    assert_eq!(
        named(&coded.check().unwrap_err()),
        "PARDOT_AUTH_REDIS_PREFIX"
    );
}

#[test]
fn the_day_offset_is_where_local_midnight_falls_after_utc_midnight() {
    let hours = |text: &str| {
        DayOffset::parse(text)
            .unwrap()
            .after_utc_midnight()
            .as_secs()
            / 60
    };
    assert_eq!(hours("-08:00"), 8 * 60);
    assert_eq!(hours("+02:00"), 22 * 60);
    assert_eq!(hours("+05:30"), 18 * 60 + 30);
    assert_eq!(hours("+00:00"), 0);
    assert_eq!(hours("-00:00"), 0);
    assert_eq!(DayOffset::parse("+14:00").unwrap().minutes_east(), 840);
    assert!(DayOffset::from_minutes(-721).is_err());
}

#[test]
fn the_store_directory_comes_from_the_setting_first() {
    let c = fleet(&[("PARDOT_AUTH_STORE_DIR", "/srv/tokens")]).unwrap();
    assert_eq!(
        c.effective_store_dir().unwrap(),
        std::path::PathBuf::from("/srv/tokens")
    );
    // Unset, it is the CLI's default (when the environment names a home or cache).
    let c = fleet(&[]).unwrap();
    assert_eq!(c.effective_store_dir().ok(), default_store_dir());
}

#[test]
fn plain_http_by_name_needs_the_explicit_opt_in() {
    let jwt_at = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![
            ("PARDOT_AUTH_FLOW", "jwt"),
            ("SF_LOGIN_URL", "http://config-mock.test:8717"),
            ("SF_CLIENT_ID", "3MVGkey"),
            ("SF_USERNAME", "integration@acme.example"),
            ("SF_PRIVATE_KEY_FILE", "server.key"),
            ("PARDOT_URL", "http://config-mock.test:8717/demo"),
            BU,
        ];
        pairs.extend_from_slice(extra);
        config(&pairs)
    };
    let refused = jwt_at(&[]).unwrap_err();
    assert_eq!(named(&refused), "SF_LOGIN_URL");
    let text = refused.to_string();
    assert!(
        text.contains("http://config-mock.test:8717") && text.contains(ALLOW_INSECURE_HTTP_ENV),
        "{text}"
    );
    assert!(jwt_at(&[(ALLOW_INSECURE_HTTP_ENV, "0")]).is_err());

    let allowed = jwt_at(&[(ALLOW_INSECURE_HTTP_ENV, "1")]).unwrap();
    assert_eq!(allowed.insecure_http, InsecureHttp::Allow);
    assert_eq!(
        allowed.pardot_host.base_url(),
        "http://config-mock.test:8717/demo"
    );
    match &allowed.flow {
        FlowConfig::JwtBearer { login, .. } => {
            assert_eq!(login.jwt_audience(), "http://config-mock.test:8717");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Config::new(allowed.flow).insecure_http,
        InsecureHttp::Refuse
    );
}

fn password_sent(pairs: &[(&str, &str)]) -> String {
    let mut vars = vec![
        ("PARDOT_AUTH_FLOW", "password"),
        ("SF_CLIENT_ID", "k"),
        ("SF_CLIENT_SECRET", "s"),
        ("SF_USERNAME", "u@x"),
        BU,
    ];
    vars.extend_from_slice(pairs);
    match config(&vars).unwrap().flow {
        FlowConfig::Password { password, .. } => password.expose_secret().to_owned(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_security_token_is_appended_to_the_password_once() {
    let token = ("SF_SECURITY_TOKEN", "TOKEN1");
    assert_eq!(
        password_sent(&[("SF_PASSWORD", "hunter2"), token]),
        "hunter2TOKEN1"
    );
    // Already there (set the old way, token included): not appended twice.
    assert_eq!(
        password_sent(&[("SF_PASSWORD", "hunter2TOKEN1"), token]),
        "hunter2TOKEN1"
    );
    // A trusted IP range needs no token; an empty one is no token.
    assert_eq!(password_sent(&[("SF_PASSWORD", "hunter2")]), "hunter2");
    assert_eq!(
        password_sent(&[("SF_PASSWORD", "hunter2"), ("SF_SECURITY_TOKEN", " ")]),
        "hunter2"
    );
}

#[test]
fn the_old_host_names_still_work_and_both_names_at_once_are_refused() {
    let jwt = [
        ("PARDOT_AUTH_FLOW", "jwt"),
        ("SF_CLIENT_ID", "k"),
        ("SF_USERNAME", "u"),
        ("SF_PRIVATE_KEY_FILE", "server.key"),
        BU,
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = jwt.to_vec();
        vars.extend_from_slice(extra);
        config(&vars)
    };
    let old = with(&[
        ("SF_LOGIN_HOST", "sandbox"),
        ("PARDOT_HOST", "https://pi.demo.pardot.com"),
    ])
    .unwrap();
    assert!(matches!(
        old.flow,
        FlowConfig::JwtBearer {
            login: LoginHost::Sandbox,
            ..
        }
    ));
    assert_eq!(old.pardot_host, PardotHost::Demo);

    let both_logins = with(&[("SF_LOGIN_URL", "sandbox"), ("SF_LOGIN_HOST", "sandbox")]);
    assert_eq!(
        both_logins.unwrap_err(),
        ConfigError::RenamedTwice {
            variable: "SF_LOGIN_URL",
            deprecated: "SF_LOGIN_HOST"
        }
    );
    let both_hosts = with(&[("PARDOT_URL", "demo"), ("PARDOT_HOST", "demo")]).unwrap_err();
    assert_eq!(
        both_hosts.to_string(),
        "PARDOT_URL and its deprecated name PARDOT_HOST are both set; keep only PARDOT_URL"
    );
    // Client credentials need a login URL: the old name counts.
    let cc = config(&[
        ("PARDOT_AUTH_FLOW", "client_credentials"),
        ("SF_LOGIN_HOST", "https://acme.my.salesforce.com"),
        ("SF_CLIENT_ID", "k"),
        ("SF_CLIENT_SECRET", "s"),
        BU,
    ])
    .unwrap();
    assert!(matches!(cc.flow, FlowConfig::ClientCredentials { .. }));
}

#[test]
fn flow_names_accept_underscores_case_and_the_grant_names() {
    for (typed, flow) in [
        ("client_credentials", Flow::ClientCredentials),
        ("Client-Credentials", Flow::ClientCredentials),
        ("jwt_bearer", Flow::JwtBearer),
        ("refresh_token", Flow::RefreshToken),
        ("authorization_code", Flow::WebServer),
        ("web_server", Flow::WebServer),
        ("device_code", Flow::Device),
        (" mci ", Flow::Mci),
    ] {
        assert_eq!(Flow::parse(typed).unwrap(), flow, "{typed}");
    }
    for name in Flow::NAMES {
        assert_eq!(Flow::parse(name).unwrap().name(), name);
    }
    assert_eq!(
        Flow::parse("client credentials").unwrap_err(),
        ConfigError::UnknownFlow {
            value: "client credentials".into()
        }
    );
}
