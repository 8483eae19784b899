//! `pardot-auth --flow jwt request GET …` (an empty token store, so it logs in) vs the Python
//! JWT login script of `fixtures/clients` (PyJWT + requests), alternating, against one mock
//! process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use pardot_mock::fixtures;
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, fmt_spread, median};
use crate::rounds;
use crate::servers::{Kind, ServerProcess};

const METRIC: &str = "JWT login + one Pardot call as a process (pardot-auth CLI)";
const TARGET: &str = "≤ 0.2× wall time";

/// Its row; a row saying why when it cannot be measured (no CLI binary, no Python).
pub async fn row(ctx: &Ctx) -> Row {
    eprintln!("bench: CLI process vs the Python JWT script");
    match measure(ctx).await {
        Ok(row) => row,
        Err(e) => Row::not_measured(METRIC, TARGET, &format!("{e:#}")),
    }
}

async fn measure(ctx: &Ctx) -> Result<Row> {
    let cli = ctx
        .opts
        .cli
        .clone()
        .map_err(|reason| anyhow::anyhow!(reason))?;
    let root = &ctx.opts.root;
    let python = ensure_venv(root)?;
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, 200)?;
    let url = server.url();
    let key_file = root.join("fixtures/keys/connected-app.key");
    let scratch = tempfile::tempdir()?;
    let env = [
        ("SF_LOGIN_URL", url.as_str()),
        ("SF_CLIENT_ID", fixtures::JWT_CONSUMER_KEY),
        ("SF_USERNAME", fixtures::INTEGRATION_USERNAME),
        ("PARDOT_URL", url.as_str()),
        ("PARDOT_BUSINESS_UNIT_ID", fixtures::BUSINESS_UNIT_ID),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ];
    let script = root.join("fixtures/clients/jwt_bearer_pyjwt.py");
    let mut run_index = 0;
    let mut process = |ours: bool| -> Command {
        let mut c;
        if ours {
            run_index += 1;
            c = Command::new(&cli);
            c.args([
                "--flow",
                "jwt",
                "request",
                "GET",
                "/api/account/version/4/do/read",
                "-q",
                "format=json",
            ])
            .env(
                "PARDOT_AUTH_STORE_DIR",
                scratch.path().join(format!("store-{run_index}")),
            );
        } else {
            c = Command::new(&python);
            c.arg(&script);
        }
        c.envs(env)
            .env("SF_PRIVATE_KEY_FILE", &key_file)
            .current_dir(scratch.path());
        c
    };
    // One untimed run of each fills the page cache.
    timed_run(process(true))?;
    timed_run(process(false))?;
    let (o, t) =
        rounds::ours_and_baseline(ctx.plan.process_runs, async |ours| timed_run(process(ours)))
            .await?;
    let (om, tm) = (median(&o), median(&t));
    Ok(Row::new(METRIC, "ms wall", om, fmt_spread(&o, "ms"))
        .against(tm, format!("Python JWT script {}", fmt_spread(&t, "ms")))
        .target(TARGET, Some(om / tm <= 0.2))
        .details(json!({ "ours_ms": o, "python_ms": t })))
}

/// `target/bench-venv` with the packages of `fixtures/clients/requirements.txt`; its python.
fn ensure_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import jwt, requests, cryptography"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        eprintln!(
            "bench: creating {} (pip install -r fixtures/clients/requirements.txt)",
            venv.display()
        );
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?
            .success();
        ensure!(ok, "python3 -m venv failed");
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(root.join("fixtures/clients/requirements.txt"))
            .status()
            .context("pip install")?
            .success();
        ensure!(
            ok,
            "pip install -r fixtures/clients/requirements.txt failed"
        );
    }
    Ok(python)
}

/// Runs `command` to its end: the wall time in ms; an error when it fails.
fn timed_run(mut command: Command) -> Result<f64> {
    let t0 = Instant::now();
    let out = command
        .stdin(Stdio::null())
        .output()
        .context("starting the process")?;
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    if !out.status.success() {
        bail!(
            "{:?} exited with {}: {}{}",
            command.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(ms)
}
