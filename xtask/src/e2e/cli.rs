//! The `pardot-auth` CLI (feature `cli`) against the `pardot-mock` binary, as a user runs
//! them: environment variables, a token store directory, one process per command.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pardot_auth::testing::{CliHarness, CliOutput};
use pardot_mock::fixtures as fx;
use serde_json::json;
use url::Url;

use super::support::{http, sign_in_to_receiver};
use super::{Ran, Scenario};
use crate::mock_process::MockProcess;

/// The CLI rows.
pub(super) fn scenarios() -> Vec<Scenario> {
    scenarios![
        "CLI: login jwt, whoami, request (mock binary)" => jwt,
        "CLI: 4 processes, one token store, one refresh after expiry" => shared_store,
        "CLI: login web (HTTP login page), request on the store" => web,
        "CLI: login device (approved on the mock), login mci, whoami" => device_and_mci,
    ]
}

/// The outcome of [`prepare`]: the binaries the CLI and binary rows run.
static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Builds the mock binary and the CLI before the table, so the rows time the programs, not
/// the compiler. A failed build fails the rows that need it.
pub(super) fn prepare(root: &Path) -> Duration {
    let started = Instant::now();
    let outcome = cargo_build(root, &["-p", "pardot-mock", "--bin", "pardot-mock"])
        .and_then(|()| cargo_build(root, &["-p", "pardot-auth", "--features", "cli"]))
        .map_err(|e| format!("{e:#}"));
    let _ = BUILT.set(outcome);
    started.elapsed()
}

/// Fails when [`prepare`] did not build the binaries.
pub(super) fn built() -> Result<()> {
    match BUILT.get() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => bail!("{e}"),
        None => bail!("the binaries were not built before the table"),
    }
}

fn cargo_build(root: &Path, args: &[&str]) -> Result<()> {
    let mut build = vec!["build", "--quiet"];
    build.extend_from_slice(args);
    let status = crate::run_cargo(root, &build)?;
    ensure!(
        status.success(),
        "`cargo {}` failed ({status})",
        build.join(" ")
    );
    Ok(())
}

/// Starts the mock binary (off the async threads: it waits for the child's first line).
pub(super) async fn start_mock() -> Result<MockProcess> {
    built()?;
    let root = crate::project_root();
    tokio::task::spawn_blocking(move || MockProcess::start(&root)).await?
}

/// Posts `body` to the binary mock's admin route `path` and checks it was done.
async fn admin_post(mock_url: &str, path: &str, body: serde_json::Value) -> Result<()> {
    http()?
        .post(format!("{mock_url}{path}"))
        .json(&body)
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("POST {path}"))?;
    Ok(())
}

/// Requests the binary mock answered (its admin counters, admin routes excluded).
pub(super) async fn binary_requests(mock_url: &str) -> Result<(u64, serde_json::Value)> {
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

/// The row's result, once the binary mock's counters show each `(route, ok answers)`.
async fn ran_with_counts(mock_url: &str, expected: &[(&str, u64)]) -> Result<Ran> {
    let (total, counts) = binary_requests(mock_url).await?;
    for (route, ok) in expected {
        ensure!(
            counts[route]["ok"] == *ok,
            "{ok} ok answers of {route} expected: {counts}"
        );
    }
    Ok(Ran {
        mock_requests: Some(total),
    })
}

fn fixture_key(name: &str) -> PathBuf {
    crate::project_root().join("fixtures/keys").join(name)
}

/// The CLI on `mock_url` with the fixture business unit, keeping its token store in `store`
/// (also its working directory); built by [`prepare`] into the cargo target directory.
fn cli(store: &Path, mock_url: &str) -> CliHarness {
    let binary = crate::target_dir(&crate::project_root()).join("debug/pardot-auth");
    CliHarness::new(binary, store)
        .store_dir(store)
        .hosts(mock_url, fx::BUSINESS_UNIT_ID)
}

/// Runs one CLI command to the end (bounded) and returns its stdout; fails on a non-zero exit.
async fn run(
    store: &Path,
    mock_url: &str,
    vars: &[(&str, String)],
    args: &[&str],
) -> Result<String> {
    succeeded(cli(store, mock_url).run(args, vars).await?, args)
}

/// `request GET` of the v5 prospects: the body it printed.
async fn request_prospects(
    store: &Path,
    mock_url: &str,
    vars: &[(&str, String)],
) -> Result<String> {
    run(store, mock_url, vars, &["request", "GET", PROSPECTS]).await
}

/// The stdout of a command that exited with 0; an error quoting its stderr otherwise.
fn succeeded(output: CliOutput, args: &[&str]) -> Result<String> {
    ensure!(
        output.success(),
        "`pardot-auth {}` exited with {}: {}",
        args.join(" "),
        output.code,
        output.stderr.trim()
    );
    Ok(output.stdout)
}

fn jwt_vars() -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_AUTH_FLOW", "jwt".into()),
        ("SF_CLIENT_ID", fx::JWT_CONSUMER_KEY.into()),
        ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
        (
            "SF_PRIVATE_KEY_FILE",
            fixture_key("connected-app.key").display().to_string(),
        ),
    ]
}

/// The emails in a v5 prospects body the CLI printed.
fn emails(body: &str) -> Result<Vec<String>> {
    let body: serde_json::Value =
        serde_json::from_str(body).context("`request` did not print a JSON body")?;
    Ok(body["values"]
        .as_array()
        .context("no `values` in the prospects body")?
        .iter()
        .filter_map(|p| p["email"].as_str().map(str::to_owned))
        .collect())
}

const PROSPECTS: &str = "/api/v5/objects/prospects?fields=id,email";

/// `login jwt`, `whoami`, `request GET …`, sharing one token store.
async fn jwt() -> Result<Ran> {
    let mock = start_mock().await?;
    let store = tempfile::tempdir()?;
    let vars = jwt_vars();
    let login = run(store.path(), mock.url(), &vars, &["login", "jwt"]).await?;
    ensure!(
        login.starts_with("Logged in (jwt flow)"),
        "login printed: {login}"
    );
    ensure!(
        std::fs::read_dir(store.path())?.count() >= 1,
        "login stored nothing in the token store"
    );
    let whoami = run(store.path(), mock.url(), &vars, &["whoami"]).await?;
    ensure!(
        whoami.starts_with("OK: ") && whoami.contains(fx::INTEGRATION_USERNAME),
        "whoami printed: {whoami}"
    );
    let body = request_prospects(store.path(), mock.url(), &vars).await?;
    let found = emails(&body)?;
    ensure!(
        found.iter().any(|e| e == "ada@example.com"),
        "request printed prospects {found:?}"
    );
    // whoami checks the credentials with a fresh token (and stores it); request reuses it.
    ran_with_counts(mock.url(), &[("oauth.token", 2)]).await
}

/// Runs an interactive `login` whose person's part `act` plays once `pick` finds what it
/// needs on stderr; returns the command's stdout.
async fn interactive_login<T>(
    store: &Path,
    mock_url: &str,
    vars: &[(&str, String)],
    args: &[&str],
    what: &str,
    pick: impl Fn(&str) -> Option<T>,
    act: impl AsyncFnOnce(T) -> Result<()>,
) -> Result<String> {
    let mut child = cli(store, mock_url).spawn(args, vars)?;
    let value = child.stderr_line(what, pick).await?;
    act(value).await?;
    succeeded(child.finish().await?, args)
}

/// `login web --no-browser`: the CLI prints the authorize URL, the person (HTTP) logs in on
/// the mock's page and allows, the CLI's loopback receiver gets the code; then `request`
/// works from the token store.
async fn web() -> Result<Ran> {
    let mock = start_mock().await?;
    let store = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let callbacks = format!("/__mock/apps/{}/callbacks", fx::PKCE_CONSUMER_KEY);
    admin_post(mock.url(), &callbacks, json!({ "url": redirect })).await?;
    let vars = vec![
        ("PARDOT_AUTH_FLOW", "web".to_owned()),
        ("SF_CLIENT_ID", fx::PKCE_CONSUMER_KEY.to_owned()),
        ("SF_REDIRECT_URI", redirect),
    ];
    let login = interactive_login(
        store.path(),
        mock.url(),
        &vars,
        &["login", "web", "--no-browser", "--timeout", "60"],
        "the authorize URL",
        |line| {
            Url::parse(line.trim())
                .ok()
                .filter(|u| u.path().ends_with("/authorize"))
        },
        async |url: Url| {
            ensure!(
                sign_in_to_receiver(&url).await?,
                "the Allow page was not shown"
            );
            Ok(())
        },
    )
    .await?;
    ensure!(
        login.starts_with("Logged in (web flow)"),
        "login printed: {login}"
    );
    let body = request_prospects(store.path(), mock.url(), &vars).await?;
    ensure!(!emails(&body)?.is_empty(), "no prospects: {body}");
    ran_with_counts(mock.url(), &[("oauth.authorize", 1), ("pardot.v5", 1)]).await
}

/// `login device`: the CLI shows a user code, the person approves it (the mock's admin
/// route), the CLI's polls get the token; `login mci` and `whoami` for the Intelligence
/// service account.
async fn device_and_mci() -> Result<Ran> {
    let mock = start_mock().await?;
    let store = tempfile::tempdir()?;
    let vars = vec![
        ("PARDOT_AUTH_FLOW", "device".to_owned()),
        ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.to_owned()),
    ];
    let login = interactive_login(
        store.path(),
        mock.url(),
        &vars,
        &["login", "device", "--timeout", "60"],
        "the user code",
        |line| {
            line.contains("enter the code")
                .then(|| line.split_whitespace().last().map(str::to_owned))
                .flatten()
        },
        async |code: String| {
            let approve = format!("/__mock/device/{code}/approve");
            admin_post(
                mock.url(),
                &approve,
                json!({ "username": fx::WEB_USERNAME }),
            )
            .await
        },
    )
    .await?;
    ensure!(
        login.starts_with("Logged in (device flow)"),
        "login printed: {login}"
    );

    let mci = vec![
        ("PARDOT_AUTH_FLOW", "mci".to_owned()),
        (
            "MCI_SERVICE_ACCOUNT_ID",
            fx::MCI_SERVICE_ACCOUNT_ID.to_owned(),
        ),
        (
            "MCI_DISCOVERY_URL",
            format!(
                "{}/{}/.well-known/openid-configuration",
                mock.url(),
                fx::MCI_REGION
            ),
        ),
        (
            "MCI_PRIVATE_KEY_FILE",
            fixture_key("mci-service-account.key").display().to_string(),
        ),
    ];
    let login = run(store.path(), mock.url(), &mci, &["login", "mci"]).await?;
    ensure!(
        login.starts_with("Logged in (mci flow)"),
        "login printed: {login}"
    );
    let whoami = run(store.path(), mock.url(), &mci, &["whoami"]).await?;
    ensure!(
        whoami.starts_with("OK: the Marketing Cloud Intelligence service account")
            && whoami.contains("has a token; checked with a fresh token"),
        "whoami printed: {whoami}"
    );
    // The device authorization and the token; the MCI login's token and whoami's fresh one.
    ran_with_counts(mock.url(), &[("oauth.token", 2), ("mci.token", 2)]).await
}

/// Four `request` processes at once on one token store whose token the mock expired: the
/// store's file lock lets one process fetch; the others use its token.
async fn shared_store() -> Result<Ran> {
    let mock = start_mock().await?;
    let store = tempfile::tempdir()?;
    let vars = jwt_vars();
    run(store.path(), mock.url(), &vars, &["login", "jwt"]).await?;
    admin_post(
        mock.url(),
        "/__mock/faults",
        json!({ "kind": "expire_tokens" }),
    )
    .await?;
    // Spawned together, so the four processes really run at once.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (dir, url, vars) = (store.path().to_owned(), mock.url().to_owned(), vars.clone());
            tokio::spawn(
                async move { run(&dir, &url, &vars, &["request", "GET", PROSPECTS]).await },
            )
        })
        .collect();
    for task in runs {
        let body = task.await??;
        ensure!(!emails(&body)?.is_empty(), "no prospects: {body}");
    }
    // The login and exactly one refresh for four processes.
    ran_with_counts(mock.url(), &[("oauth.token", 2), ("pardot.v5", 4)]).await
}
