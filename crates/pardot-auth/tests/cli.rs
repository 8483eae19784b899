//! The `pardot-auth` binary, spawned against an in-process pardot-mock: every subcommand.
//!
//! Built and run by `cargo test -p pardot-auth` and `cargo test --workspace`: the crate's
//! dev-dependency on itself turns on the `cli` feature for its tests.
#![cfg(feature = "cli")]

mod cli_support;
mod support;

use std::path::Path;

use cli_support::*;
use pardot_mock::sign_in::{Consent, sign_in};
use pardot_mock::{Outcome, Route, RouteGroup, fixtures};
use support::{config, prospects, web_app};

const V5_PROSPECTS: &str = "/api/v5/objects/prospects";

#[tokio::test]
async fn keygen_writes_a_real_key_and_certificate_that_log_in() {
    let h = Harness::new().await;
    let out = h
        .run_exit(
            0,
            &[
                "keygen",
                "--out-dir",
                "keys",
                "--name",
                "app",
                "--common-name",
                "Acme sync",
            ],
            &[],
        )
        .await;
    assert_has(&out.stdout, "Next steps");
    assert_has(&out.stdout, "SF_PRIVATE_KEY_FILE=");
    // The printed configuration is valid .env content once the <…> values are filled in.
    let env_lines: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("       ") && (l.contains('=') || l.trim_start().starts_with('#'))
        })
        .map(|l| l.trim().replace(['<', '>', '…'], "x").replace(' ', "_"))
        .collect();
    let parsed: Vec<(String, String)> = dotenvy::from_read_iter(env_lines.join("\n").as_bytes())
        .collect::<Result<_, _>>()
        .expect("keygen prints valid .env lines");
    let names: Vec<&str> = parsed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "PARDOT_AUTH_FLOW",
            "SF_CLIENT_ID",
            "SF_USERNAME",
            "SF_PRIVATE_KEY_FILE",
            "SF_LOGIN_URL",
            "PARDOT_URL",
            "PARDOT_BUSINESS_UNIT_ID"
        ]
    );
    assert!(parsed.contains(&("SF_LOGIN_URL".into(), "https://login.salesforce.com".into())));
    let key_path = h.dir.path().join("keys/app.key");
    let cert_path = h.dir.path().join("keys/app.crt");
    assert_private(&key_path);
    assert_private(&cert_path);

    // A real X.509 certificate with a 2048-bit RSA key, our subject, valid now.
    let cert_pem = std::fs::read_to_string(&cert_path).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Acme sync"
    );
    assert!(cert.validity().is_valid());
    match cert.public_key().parsed().unwrap() {
        x509_parser::public_key::PublicKey::RSA(rsa) => assert_eq!(rsa.key_size(), 2048),
        other => panic!("not RSA: {other:?}"),
    }
    let key_pem = std::fs::read_to_string(&key_path).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));

    // The key signs a JWT the mock verifies with the certificate: they are a pair.
    let h2 = Harness::with_jwt_app("3MVG9.keygen.app", &cert_pem, &["api", "pardot_api"]).await;
    let vars = with(
        jwt_vars(),
        &[
            ("SF_CLIENT_ID", "3MVG9.keygen.app".into()),
            ("SF_PRIVATE_KEY_FILE", key_path.display().to_string()),
        ],
    );
    h2.run_exit(0, &["login", "jwt"], &vars).await;

    // No overwrite without --force.
    let again = h
        .run_exit(5, &["keygen", "--out-dir", "keys", "--name", "app"], &[])
        .await;
    assert_has(&again.stderr, "--force");
}

async fn login_ok(h: &Harness, flow: &str, vars: &[(&'static str, String)]) -> String {
    let out = h.run(&["login", flow], vars).await;
    assert_eq!(out.code, 0, "login {flow}: {}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("Logged in ({flow} flow)")),
        "{}",
        out.stdout
    );
    let stored = out
        .stdout
        .split("Stored in ")
        .nth(1)
        .and_then(|s| s.lines().next())
        .unwrap()
        .to_owned();
    assert_private(Path::new(&stored));
    stored
}

#[tokio::test]
async fn login_runs_every_unattended_flow_and_stores_the_token() {
    let h = Harness::new().await;
    login_ok(&h, "jwt", &jwt_vars()).await;
    let password = format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    );
    login_ok(&h, "password", &password_vars(&password)).await;
    login_ok(
        &h,
        "client-credentials",
        &[
            (
                "SF_LOGIN_URL",
                h.mock.my_domain_url(fixtures::PRODUCTION_MY_DOMAIN),
            ),
            ("SF_CLIENT_ID", fixtures::CC_CONSUMER_KEY.into()),
            ("SF_CLIENT_SECRET", fixtures::CC_CONSUMER_SECRET.into()),
        ],
    )
    .await;
    let refresh_token = [("SF_REFRESH_TOKEN", fixtures::WEB_REFRESH_TOKEN.into())];
    login_ok(&h, "refresh", &web_app("refresh", &refresh_token)).await;
    assert_eq!(h.mock.counts().token_requests_ok(), 4);
    let stored = login_ok(&h, "legacy", &legacy_vars()).await;
    assert!(
        stored.contains("/legacy-legacy-v3_acme.example-"),
        "{stored}"
    );
    assert_eq!(h.mock.counts().get(Route::PardotLogin, Outcome::Ok), 1);
    login_ok(
        &h,
        "mci",
        &[
            (
                "MCI_SERVICE_ACCOUNT_ID",
                fixtures::MCI_SERVICE_ACCOUNT_ID.into(),
            ),
            (
                "MCI_DISCOVERY_URL",
                h.mock.mci_discovery_url(fixtures::MCI_REGION),
            ),
            (
                "MCI_PRIVATE_KEY_FILE",
                fixture_key("mci-service-account.key"),
            ),
        ],
    )
    .await;
    assert_eq!(h.mock.counts().get(Route::MciToken, Outcome::Ok), 1);

    // A missing variable is a configuration error naming it: exit 2.
    let out = h
        .run_exit(
            2,
            &["login", "jwt"],
            &with(jwt_vars(), &[("SF_USERNAME", String::new())]),
        )
        .await;
    assert_has(&out.stderr, "SF_USERNAME is required for the jwt flow");
    // A refused login: exit 3, the flow's message.
    let out = h
        .run_exit(
            3,
            &["login", "jwt", "--username", fixtures::UNAPPROVED_USERNAME],
            &jwt_vars(),
        )
        .await;
    assert_has(&out.stderr, "user hasn't approved this consumer");
}

#[tokio::test]
async fn settings_come_from_flags_then_environment_then_dot_env() {
    let h = Harness::new().await;
    // A .env in the working directory supplies what the environment lacks…
    std::fs::write(
        h.dir.path().join(".env"),
        format!(
            "PARDOT_AUTH_FLOW=jwt\nSF_CLIENT_ID={}\nSF_USERNAME=nobody@acme.example\nSF_PRIVATE_KEY_FILE={}\n",
            fixtures::JWT_CONSUMER_KEY,
            fixture_key("connected-app.key")
        ),
    )
    .unwrap();
    // …the environment wins over it, and a flag over both.
    h.run_exit(
        0,
        &["token", "--username", fixtures::INTEGRATION_USERNAME],
        &[("SF_USERNAME", fixtures::UNAPPROVED_USERNAME.into())],
    )
    .await;
    let out = h
        .run(
            &["token"],
            &[("SF_USERNAME", fixtures::UNAPPROVED_USERNAME.into())],
        )
        .await;
    assert_eq!(
        out.code, 3,
        "the environment's unapproved user: {}",
        out.stderr
    );
    assert_has(&out.stderr, "hasn't approved");

    std::fs::write(h.dir.path().join(".env"), "NOT A VALID LINE\n").unwrap();
    let out = h.run_exit(2, &["token"], &jwt_vars()).await;
    assert_has(&out.stderr, ".env");
}

#[tokio::test]
async fn login_web_prints_the_url_and_receives_the_callback() {
    let h = Harness::new().await;
    let vars = [
        ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.to_owned()),
        ("SF_CLIENT_SECRET", fixtures::WEB_CONSUMER_SECRET.to_owned()),
        ("SF_REDIRECT_URI", "http://127.0.0.1:0/callback".to_owned()),
    ];
    let mut child = h.spawn(&["login", "web", "--no-browser", "--timeout", "60"], &vars);
    child
        .stderr_line_containing("Sign in to Salesforce")
        .await
        .unwrap();
    let authorize = child
        .stderr_line_containing("/services/oauth2/authorize?")
        .await
        .unwrap()
        .trim()
        .to_owned();
    let parsed = reqwest::Url::parse(&authorize).unwrap();
    let redirect = parsed
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    // The receiver took a free port; register the exact URI, as an admin would.
    h.mock
        .add_callback_url(fixtures::WEB_CONSUMER_KEY, &redirect)
        .unwrap();

    // Be the browser: the login page, then (if asked) the consent page, then the redirect.
    let callback = sign_in(
        &authorize,
        fixtures::WEB_USERNAME,
        fixtures::WEB_PASSWORD,
        Consent::Allow,
    )
    .await
    .unwrap();
    assert!(
        callback.url().as_str().starts_with(&redirect) && callback.code().is_some(),
        "{callback:?}"
    );
    assert_eq!(callback.follow().await.unwrap().status, 200);

    let Out { code, stdout, .. } = child.finish().await.unwrap();
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("with a refresh token"), "{stdout}");

    // The stored refresh token now serves the web flow unattended.
    h.run_exit(0, &["token", "--flow", "web"], &vars).await;
    assert_eq!(
        h.mock.counts().token_requests_ok(),
        1,
        "the stored token was still fresh"
    );
}

#[tokio::test]
async fn login_device_shows_the_code_and_waits_for_approval() {
    let h = Harness::new().await;
    let vars = [("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.to_owned())];
    let mut child = h.spawn(&["login", "device", "--timeout", "60"], &vars);
    let line = child
        .stderr_line_containing("enter the code")
        .await
        .unwrap();
    let code = line.rsplit(' ').next().unwrap().to_owned();
    // Not a terminal: the wait is shown as plain lines.
    child
        .stderr_line_containing("Waiting for approval")
        .await
        .unwrap();
    h.mock
        .approve_device(&code, fixtures::WEB_USERNAME)
        .unwrap();
    let Out { code, stdout, .. } = child.finish().await.unwrap();
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("Logged in (device flow)"), "{stdout}");
}

#[tokio::test]
async fn token_prints_the_secret_only_when_asked() {
    let h = Harness::new().await;
    let out = h.run_exit(0, &["token"], &jwt_vars()).await;
    assert!(
        out.stdout
            .starts_with("Salesforce access token, expires in"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('!'), "no token: {}", out.stdout);
    assert!(out.stderr.contains("--show-secret"));

    let out = h
        .run_exit(0, &["token", "--show-secret"], &jwt_vars())
        .await;
    let token = out.stdout.trim();
    let info = h
        .mock
        .lookup_access_token(token)
        .expect("a live mock token");
    assert_eq!(info.username, fixtures::INTEGRATION_USERNAME);
    assert_eq!(
        h.mock.counts().token_requests_ok(),
        1,
        "the second run used the store"
    );

    // Web flow with nothing stored: says to log in first.
    let out = h
        .run_exit(
            3,
            &["token", "--flow", "web"],
            &[("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into())],
        )
        .await;
    assert_has(&out.stderr, "pardot-auth login web");
}

#[tokio::test]
async fn request_prints_the_body_and_fails_with_exit_codes() {
    let h = Harness::new().await;
    let out = h
        .run_exit(
            0,
            &["request", "GET", V5_PROSPECTS, "-q", "fields=id,email"],
            &jwt_vars(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(body["values"].as_array().unwrap().len(), 3);

    let out = h
        .run_exit(
            0,
            &[
                "request",
                "GET",
                "/api/prospect/version/3/do/query",
                "-q",
                "format=json",
                "--flow",
                "legacy",
            ],
            &legacy_vars(),
        )
        .await;
    assert_has(&out.stdout, "\"stat\":\"ok\"");

    let out = h
        .run_exit(
            3,
            &[
                "request",
                "GET",
                V5_PROSPECTS,
                "--business-unit",
                fixtures::INACTIVE_BUSINESS_UNIT_ID,
            ],
            &jwt_vars(),
        )
        .await;
    assert_has(&out.stderr, "201");

    // Retries are shown as they happen (on a terminal by default; here asked for with -v).
    h.mock
        .fail_next(RouteGroup::Pardot, 1, 503, "Service Unavailable")
        .unwrap();
    let out = h
        .run_exit(
            0,
            &["request", "GET", V5_PROSPECTS, "-q", "fields=id", "-v"],
            &jwt_vars(),
        )
        .await;
    assert_has(&out.stderr, "retrying after a wait");

    let out = h.run(&["request", "GET"], &jwt_vars()).await;
    assert_eq!(out.code, 2, "clap usage error: {}", out.stderr);
}

async fn whoami(h: &Harness, args: &[&str], vars: &[(&'static str, String)]) -> Out {
    let mut all = vec!["whoami"];
    all.extend_from_slice(args);
    h.run(&all, vars).await
}

fn one_line(out: &Out, code: i32, starts: &str) {
    assert_eq!(out.code, code, "{}{}", out.stdout, out.stderr);
    let text = if code == 0 { &out.stdout } else { &out.stderr };
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    let line = text.trim_end().trim_start_matches("pardot-auth: ");
    assert!(line.starts_with(starts), "`{starts}` expected: {line}");
}

#[tokio::test]
async fn whoami_diagnoses_each_setup_mistake_in_one_line() {
    let h = Harness::new().await;
    let url = h.mock.url();
    let sandbox = format!("{url}/sandbox");
    let demo = format!("{url}/demo");
    // JWT: the flags, the exit code, the start of the one line, and what stderr must name.
    let cases: Vec<(Vec<&str>, i32, &str, Option<String>)> = vec![
        (vec![], 0, "OK: integration@acme.example", None),
        (
            vec!["--username", fixtures::UNAPPROVED_USERNAME],
            3,
            "not approved:",
            None,
        ),
        // The production user on the sandbox login host.
        (vec!["--login-url", &sandbox], 3, "wrong audience:", None),
        (
            vec!["--business-unit", fixtures::INACTIVE_BUSINESS_UNIT_ID],
            3,
            "wrong BU:",
            None,
        ),
        // The sandbox user's business unit lives on the demo host; asking production finds
        // it there.
        (
            vec![
                "--login-url",
                &sandbox,
                "--username",
                fixtures::SANDBOX_USERNAME,
                "--business-unit",
                fixtures::DEMO_BUSINESS_UNIT_ID,
            ],
            3,
            "BU on demo host:",
            Some(format!("PARDOT_URL={url}/demo")),
        ),
        // And the other way round: a production business unit asked for on the demo host.
        (
            vec!["--pardot-url", &demo],
            3,
            "BU on production host:",
            Some(format!("PARDOT_URL={url}")),
        ),
    ];
    for (flags, code, starts, named) in cases {
        let out = whoami(&h, &flags, &jwt_vars()).await;
        one_line(&out, code, starts);
        if let Some(named) = named {
            assert_has(&out.stderr, &named);
        }
    }

    // Legacy: fine; an expired stored api_key does not matter, whoami logs in afresh.
    login_ok(&h, "legacy", &legacy_vars()).await;
    one_line(
        &whoami(&h, &["--flow", "legacy"], &legacy_vars()).await,
        0,
        "OK: legacy-v3@acme.example",
    );
    h.mock.expire_all_tokens().unwrap();
    let out = whoami(&h, &["--flow", "legacy"], &legacy_vars()).await;
    one_line(&out, 0, "OK: legacy-v3@acme.example");
    let wrong = with(
        legacy_vars(),
        &[("PARDOT_PASSWORD", "not-the-password".into())],
    );
    let out = whoami(&h, &["--flow", "legacy"], &wrong).await;
    one_line(&out, 3, "legacy login failed:");
}

#[tokio::test]
async fn whoami_checks_the_configured_password_not_the_stored_token() {
    let h = Harness::new().await;
    let good = password_vars(&format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    ));
    let stored = login_ok(&h, "password", &good).await;
    let before = std::fs::read(&stored).unwrap();
    let out = whoami(&h, &[], &good).await;
    one_line(&out, 0, "OK: integration@acme.example");
    assert_has(&out.stdout, "checked with a fresh token");
    let after_ok = std::fs::read(&stored).unwrap();
    assert_ne!(before, after_ok, "the fresh token was not stored");

    // The password changed in the environment; the store still holds a valid token.
    let out = whoami(&h, &[], &password_vars("not-the-password")).await;
    one_line(&out, 3, "wrong password:");
    assert_has(&out.stderr, "security token");
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        after_ok,
        "a failed check touched the stored token"
    );
    // What `token` and `request` use is still there and still works.
    h.run_exit(0, &["token"], &good).await;
}

#[tokio::test]
async fn whoami_names_a_missing_pardot_api_scope() {
    let h = Harness::with_jwt_app(
        "3MVG9.no.pardot.scope",
        fixtures::CONNECTED_APP_CERT_PEM,
        &["api", "refresh_token"],
    )
    .await;
    let vars = with(
        jwt_vars(),
        &[("SF_CLIENT_ID", "3MVG9.no.pardot.scope".into())],
    );
    let out = whoami(&h, &[], &vars).await;
    one_line(&out, 3, "missing scope:");
    assert_has(&out.stderr, "pardot_api");
}

#[tokio::test]
async fn mock_serve_takes_the_flags_of_pardot_mock_serve() {
    let h = Harness::new().await;
    let mut child = h.spawn(&["mock", "serve", "--addr", "127.0.0.1:0"], &[]);
    let line = child.stdout_line().await.unwrap();
    let url = line
        .strip_prefix("pardot-mock listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let clock = http
        .get(format!("{url}/__mock/clock"))
        .send()
        .await
        .unwrap();
    assert_eq!(clock.status(), 200);
    child.kill().await.unwrap();

    let help = h.run(&["mock", "serve", "--help"], &[]).await;
    assert_eq!(help.code, 0);
    for flag in [
        "--config <FILE>",
        "--addr <ADDR>",
        "PARDOT_MOCK_CONFIG",
        "PARDOT_MOCK_ADDR",
    ] {
        assert!(help.stdout.contains(flag), "{flag}: {}", help.stdout);
    }
    h.run_exit(
        2,
        &[
            "mock",
            "serve",
            "--config",
            "no-such.toml",
            "--addr",
            "127.0.0.1:0",
        ],
        &[],
    )
    .await;
}

#[tokio::test]
async fn connect_with_the_file_store_setting_uses_what_the_cli_login_stored() {
    let h = Harness::new().await;
    // The refresh and web flows of one app share one record.
    let refresh_token = [("SF_REFRESH_TOKEN", fixtures::WEB_REFRESH_TOKEN.into())];
    login_ok(&h, "refresh", &web_app("refresh", &refresh_token)).await;
    assert_eq!(h.mock.counts().token_requests_ok(), 1);

    // A program on the same machine: the web flow, PARDOT_AUTH_STORE=file and the CLI's
    // directory. It finds the record the login kept (token and refresh token) and fetches
    // nothing.
    let settings = web_app(
        "web",
        &[
            ("PARDOT_AUTH_STORE", "file".to_owned()),
            ("PARDOT_AUTH_STORE_DIR", h.store().display().to_string()),
        ],
    );
    let client = pardot_auth::connect(config(&h.mock, &settings).unwrap())
        .await
        .unwrap();
    assert_eq!(prospects(&client).await, 3);
    assert_eq!(
        h.mock.counts().token_requests_ok(),
        1,
        "connect used the stored token"
    );
    let record = client
        .token_cache()
        .unwrap()
        .store()
        .load(client.token_cache().unwrap().store_key())
        .await
        .unwrap()
        .unwrap();
    assert!(record.refresh_token.is_some(), "the login's refresh token");
}

#[tokio::test]
async fn login_into_the_redis_store_serves_the_next_command() {
    let Some(server) = pardot_http::testing::RedisServer::start() else {
        return;
    };
    let h = Harness::new().await;
    let mut vars = jwt_vars();
    vars.push(("PARDOT_AUTH_STORE", "redis".into()));
    vars.push(("PARDOT_AUTH_REDIS_URL", server.url()));
    let out = h.run(&["login", "jwt"], &vars).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("Stored in Redis at {}", server.url())),
        "{}",
        out.stdout
    );
    let out = h.run(&["token"], &vars).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        h.mock.counts().token_requests_ok(),
        1,
        "`token` found the login's token in Redis"
    );
    assert!(
        !h.store().exists() || std::fs::read_dir(h.store()).unwrap().next().is_none(),
        "no file store was written"
    );

    // A redis setting without its URL is a configuration error naming both.
    let no_url = with(jwt_vars(), &[("PARDOT_AUTH_STORE", "redis".into())]);
    let out = h.run(&["token"], &no_url).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("PARDOT_AUTH_STORE=redis needs PARDOT_AUTH_REDIS_URL"),
        "{}",
        out.stderr
    );
}
