//! The front door end to end: the `pardot-auth` facade (`Config` + `connect`), its CLI, and
//! the `pardot-mock` binary as other projects run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pardot_auth::{Config, Connector, Flow, TokenKind};
use pardot_auth_core::{Clock, Expiry, ManualClock};
use pardot_mock::{PardotMock, fixtures as fx};

use super::support::{count, http, mock_on, prospect_emails, ran};
use super::{Body, Ran, Scenario};
use crate::mock_process::MockProcess;

/// The facade and binary rows.
pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "facade: Config::from_lookup + connect (JWT)",
            body: Body::Run(|| Box::pin(facade_jwt())),
        },
        Scenario {
            name: "facade: password, client-credentials, refresh, legacy, mci",
            body: Body::Run(|| Box::pin(facade_other_flows())),
        },
        Scenario {
            name: "CLI: login jwt, whoami, request (mock binary)",
            body: Body::Run(|| Box::pin(cli())),
        },
        Scenario {
            name: "mock binary serves fixtures/mock.toml",
            body: Body::Run(|| Box::pin(mock_binary())),
        },
    ]
}

fn fixture_key(name: &str) -> String {
    crate::project_root()
        .join("fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

/// A configuration as `Config::from_env` would read it from these variables (plus the
/// mock's hosts and the fixture business unit); unrelated variables are ignored.
fn config(mock: &PardotMock, vars: &[(&str, String)]) -> Result<Config> {
    let base = [
        ("SF_LOGIN_URL", mock.url()),
        ("PARDOT_URL", mock.url()),
        ("PARDOT_BUSINESS_UNIT_ID", fx::BUSINESS_UNIT_ID.to_owned()),
        ("UNRELATED_VARIABLE", "ignored".to_owned()),
    ];
    Ok(Config::from_lookup(|name| {
        vars.iter()
            .chain(base.iter())
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?)
}

fn jwt_vars() -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_AUTH_FLOW", "jwt".into()),
        ("SF_CLIENT_ID", fx::JWT_CONSUMER_KEY.into()),
        ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
        ("SF_PRIVATE_KEY_FILE", fixture_key("connected-app.key")),
    ]
}

/// `Config::from_lookup` + `connect` for the JWT flow: a ready client (first token fetched),
/// prospects, a forced expiry absorbed; then a `Connector` on the shared clock refreshing
/// ahead of the 2-hour estimate.
async fn facade_jwt() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let cfg = config(&mock, &jwt_vars())?;
    ensure!(
        cfg.flow.flow() == Flow::JwtBearer,
        "flow {:?}",
        cfg.flow.flow()
    );
    let client = pardot_auth::connect(cfg).await?;
    ensure!(
        count(&mock, "oauth.token", "ok") == 1,
        "connect did not fetch the first token"
    );
    let emails = prospect_emails(&client).await?;
    ensure!(emails.len() == 3, "prospects: {emails:?}");
    mock.expire_all_tokens();
    let again = client.get("/api/account/version/4/do/read").send().await?;
    ensure!(again.attempts() == 2 && again.envelope().is_some_and(|e| e.ok));
    ensure!(count(&mock, "oauth.token", "ok") == 2);

    let shared = clock.shared();
    let client = Connector::new(config(&mock, &jwt_vars())?)
        .clock(shared.clone())
        .connect()
        .await?;
    let cached = client
        .token_cache()
        .and_then(|c| c.cached())
        .context("the connector's client has no cached token")?;
    ensure!(
        cached.expiry()
            == Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION),
        "expiry {:?}",
        cached.expiry()
    );
    clock.advance(Duration::from_secs(2 * 3600 - 60));
    ensure!(prospect_emails(&client).await?.len() == 3);
    ensure!(
        count(&mock, "oauth.token", "ok") == 4,
        "no refresh ahead of the estimate: {:?}",
        mock.counts()
    );
    ensure!(count(&mock, "pardot.v5", "ok") == 2 && mock.counts().route_total("pardot.v5") == 2);
    Ok(ran(&mock))
}

/// Every other flow that needs no person, through `Config::from_lookup` and `connect` /
/// `connect_mci`, one Pardot (or MCI) call each.
async fn facade_other_flows() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let password = format!(
        "{}{}",
        fx::INTEGRATION_PASSWORD,
        fx::INTEGRATION_SECURITY_TOKEN
    );
    let cases: Vec<(Flow, Vec<(&str, String)>)> = vec![
        (
            Flow::Password,
            vec![
                ("PARDOT_AUTH_FLOW", "password".into()),
                ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::WEB_CONSUMER_SECRET.into()),
                ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
                ("SF_PASSWORD", password),
            ],
        ),
        (
            Flow::ClientCredentials,
            vec![
                ("PARDOT_AUTH_FLOW", "client-credentials".into()),
                ("SF_LOGIN_URL", mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN)),
                ("SF_CLIENT_ID", fx::CC_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::CC_CONSUMER_SECRET.into()),
            ],
        ),
        (
            Flow::RefreshToken,
            vec![
                ("PARDOT_AUTH_FLOW", "refresh".into()),
                ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::WEB_CONSUMER_SECRET.into()),
                ("SF_REFRESH_TOKEN", fx::WEB_REFRESH_TOKEN.into()),
            ],
        ),
        (
            Flow::Legacy,
            vec![
                ("PARDOT_AUTH_FLOW", "legacy".into()),
                ("PARDOT_EMAIL", fx::LEGACY_V4_EMAIL.into()),
                ("PARDOT_PASSWORD", fx::LEGACY_V4_PASSWORD.into()),
                ("PARDOT_USER_KEY", fx::LEGACY_V4_USER_KEY.into()),
            ],
        ),
    ];
    for (flow, vars) in cases {
        let cfg = config(&mock, &vars)?;
        ensure!(
            cfg.flow.flow() == flow,
            "{flow:?}: parsed as {:?}",
            cfg.flow.flow()
        );
        let client = pardot_auth::connect(cfg)
            .await
            .with_context(|| format!("connect({flow:?})"))?;
        let account = client
            .get("/api/account/version/4/do/read")
            .send()
            .await
            .with_context(|| format!("{flow:?}: v4 account read"))?;
        ensure!(
            account.envelope().is_some_and(|e| e.ok) && account.attempts() == 1,
            "{flow:?}: v4 account read failed"
        );
    }
    ensure!(
        count(&mock, "oauth.token", "ok") == 3,
        "{:?}",
        mock.counts()
    );
    ensure!(count(&mock, "pardot.login", "ok") == 1);
    ensure!(count(&mock, "pardot.v4", "ok") == 4);

    let mci = config(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "mci".into()),
            ("MCI_SERVICE_ACCOUNT_ID", fx::MCI_SERVICE_ACCOUNT_ID.into()),
            ("MCI_DISCOVERY_URL", mock.mci_discovery_url(fx::MCI_REGION)),
            (
                "MCI_PRIVATE_KEY_FILE",
                fixture_key("mci-service-account.key"),
            ),
        ],
    )?;
    // The mock has no Intelligence data API; its discovery document stands in for one, so
    // the journal shows the Bearer header the client sent.
    let base = format!("{}/{}", mock.url(), fx::MCI_REGION).parse()?;
    let mci = Connector::new(mci)
        .clock(clock.shared())
        .connect_mci(base)
        .await?;
    let token = mci.token_cache().get().await?;
    ensure!(matches!(token.kind(), TokenKind::MciBearer));
    ensure!(token.expiry() == Expiry::Known(clock.now() + Duration::from_secs(300)));
    let answer = mci.get("/.well-known/openid-configuration").await?;
    ensure!(
        answer.status() == 200,
        "MCI client call: {}",
        answer.status()
    );
    let sent = mock
        .journal()
        .into_iter()
        .rev()
        .find(|e| e.route == "mci.discovery")
        .and_then(|e| e.header("authorization").map(str::to_owned))
        .context("the MCI client sent no Authorization header")?;
    ensure!(
        sent.starts_with("Bearer ey"),
        "MCI client sent `{}…`",
        &sent[..sent.len().min(10)]
    );
    ensure!(count(&mock, "mci.token", "ok") == 1);
    Ok(ran(&mock))
}

/// The `pardot-auth` binary built with the `cli` feature.
fn cli_binary(root: &Path) -> PathBuf {
    root.join("target/debug/pardot-auth")
}

/// The outcome of [`prepare`]: the binaries the CLI and binary rows run.
static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Builds the mock binary and the CLI before the table, so the rows time the programs, not
/// the compiler. A failed build fails the rows that need it.
pub(super) fn prepare(root: &Path) -> Duration {
    let started = Instant::now();
    let outcome = build_mock(root)
        .and_then(|()| build_cli(root))
        .map_err(|e| format!("{e:#}"));
    let _ = BUILT.set(outcome);
    started.elapsed()
}

fn built() -> Result<()> {
    match BUILT.get() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => bail!("{e}"),
        None => bail!("the binaries were not built before the table"),
    }
}

/// Builds the CLI (`cargo build -p pardot-auth --features cli`).
fn build_cli(root: &Path) -> Result<()> {
    let status = Command::new(crate::cargo())
        .args(["build", "--quiet", "-p", "pardot-auth", "--features", "cli"])
        .current_dir(root)
        .status()
        .context("could not run cargo build for the pardot-auth CLI")?;
    ensure!(
        status.success(),
        "building the pardot-auth CLI failed ({status})"
    );
    Ok(())
}

/// Builds the mock binary, as `MockProcess::start` would.
fn build_mock(root: &Path) -> Result<()> {
    let status = Command::new(crate::cargo())
        .args([
            "build",
            "--quiet",
            "-p",
            "pardot-mock",
            "--bin",
            "pardot-mock",
        ])
        .current_dir(root)
        .status()
        .context("could not run cargo build for pardot-mock")?;
    ensure!(status.success(), "building pardot-mock failed ({status})");
    Ok(())
}

/// Runs the CLI with the environment a user would set for the JWT flow against `mock_url`.
fn run_cli(root: &Path, store: &Path, mock_url: &str, args: &[&str]) -> Result<Output> {
    let binary = cli_binary(root);
    ensure!(
        binary.is_file(),
        "{} is missing (the build step failed?)",
        binary.display()
    );
    let output = Command::new(&binary)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PARDOT_AUTH_STORE_DIR", store)
        .env("PARDOT_AUTH_FLOW", "jwt")
        .env("SF_LOGIN_URL", mock_url)
        .env("SF_CLIENT_ID", fx::JWT_CONSUMER_KEY)
        .env("SF_USERNAME", fx::INTEGRATION_USERNAME)
        .env("SF_PRIVATE_KEY_FILE", fixture_key("connected-app.key"))
        .env("PARDOT_URL", mock_url)
        .env("PARDOT_BUSINESS_UNIT_ID", fx::BUSINESS_UNIT_ID)
        .current_dir(store)
        .output()
        .with_context(|| format!("could not run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "`pardot-auth {}` exited with {}: {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output)
}

/// Requests the binary mock answered, from its admin counters.
async fn binary_requests(mock_url: &str) -> Result<(u64, serde_json::Value)> {
    let counts: serde_json::Value = http()?
        .get(format!("{mock_url}/__mock/counts"))
        .send()
        .await?
        .json()
        .await?;
    let total = counts
        .as_object()
        .context("counts are not an object")?
        .iter()
        .filter(|(route, _)| route.as_str() != "admin")
        .filter_map(|(_, outcomes)| outcomes.as_object())
        .flat_map(|o| o.values().filter_map(serde_json::Value::as_u64))
        .sum();
    Ok((total, counts))
}

/// `pardot-auth login jwt`, `whoami`, `request GET …` against the mock binary, sharing a
/// token store directory.
async fn cli() -> Result<Ran> {
    built()?;
    let root = crate::project_root();
    let mock = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || MockProcess::start(&root)).await??
    };
    let store = tempfile::tempdir()?;
    let url = mock.url().to_owned();
    let (dir, r) = (store.path().to_owned(), root.clone());
    let outputs = tokio::task::spawn_blocking(move || -> Result<Vec<Output>> {
        Ok(vec![
            run_cli(&r, &dir, &url, &["login", "jwt"])?,
            run_cli(&r, &dir, &url, &["whoami"])?,
            run_cli(
                &r,
                &dir,
                &url,
                &[
                    "request",
                    "GET",
                    "/api/v5/objects/prospects?fields=id,email",
                ],
            )?,
        ])
    })
    .await??;
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let login = text(&outputs[0]);
    ensure!(
        login.starts_with("Logged in (jwt flow)"),
        "login printed: {login}"
    );
    let stored = std::fs::read_dir(store.path())?.count();
    ensure!(stored >= 1, "login stored nothing in the token store");
    let whoami = text(&outputs[1]);
    ensure!(
        whoami.starts_with("OK: ") && whoami.contains(fx::INTEGRATION_USERNAME),
        "whoami printed: {whoami}"
    );
    let body: serde_json::Value = serde_json::from_str(&text(&outputs[2]))
        .context("`request` did not print the JSON body")?;
    let emails: Vec<&str> = body["values"]
        .as_array()
        .context("no `values` in the prospects body")?
        .iter()
        .filter_map(|p| p["email"].as_str())
        .collect();
    ensure!(
        emails.contains(&"ada@example.com"),
        "request printed prospects {emails:?}"
    );
    let (total, counts) = binary_requests(mock.url()).await?;
    ensure!(
        counts["oauth.token"]["ok"] == 1,
        "whoami and request should reuse the stored token: {counts}"
    );
    ensure!(counts["pardot.v5"]["ok"].as_u64() >= Some(1), "{counts}");
    Ok(Ran {
        mock_requests: Some(total),
    })
}

/// `pardot-mock serve` on a free port: a password grant over HTTP, a v5 call, the admin
/// counters.
async fn mock_binary() -> Result<Ran> {
    built()?;
    let root = crate::project_root();
    let mock = tokio::task::spawn_blocking(move || MockProcess::start(&root)).await??;
    let http = http()?;
    let password = format!(
        "{}{}",
        fx::INTEGRATION_PASSWORD,
        fx::INTEGRATION_SECURITY_TOKEN
    );
    let response = http
        .post(format!("{}/services/oauth2/token", mock.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", fx::WEB_CONSUMER_KEY),
            ("client_secret", fx::WEB_CONSUMER_SECRET),
            ("username", fx::INTEGRATION_USERNAME),
            ("password", password.as_str()),
        ])
        .send()
        .await?;
    ensure!(
        response.status() == 200,
        "password grant: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await?;
    let token = body["access_token"].as_str().context("no access_token")?;
    let prospects = http
        .get(format!(
            "{}/api/v5/objects/prospects?fields=id,email",
            mock.url()
        ))
        .bearer_auth(token)
        .header("Pardot-Business-Unit-Id", fx::BUSINESS_UNIT_ID)
        .send()
        .await?;
    ensure!(
        prospects.status() == 200,
        "v5 prospects: {}",
        prospects.status()
    );
    let (total, counts) = binary_requests(mock.url()).await?;
    ensure!(
        counts["oauth.token"]["ok"] == 1 && counts["pardot.v5"]["ok"] == 1 && total == 2,
        "admin counts: {counts}"
    );
    Ok(Ran {
        mock_requests: Some(total),
    })
}
