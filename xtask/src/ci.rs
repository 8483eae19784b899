//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.
//!
//! `.ci/run` installs what these need (the Python packages of `fixtures/clients` in
//! `target/ci-venv`) and then runs `cargo xtask ci`.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::mock_process::MockProcess;

/// Each cargo step: a label and the cargo arguments.
const CARGO_STEPS: &[(&str, &[&str])] = &[
    ("format", &["fmt", "--all", "--check"]),
    (
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("tests", &["test", "--workspace"]),
    ("e2e", &["xtask", "e2e"]),
];

/// The Python interpreter of the venv `.ci/run` creates.
const VENV_PYTHON: &str = "target/ci-venv/bin/python";

pub(crate) fn run(args: &[String]) -> Result<bool> {
    if let Some(extra) = args.first() {
        bail!("`ci` takes no arguments (got `{extra}`)");
    }
    let root = crate::project_root();
    for (label, cargo_args) in CARGO_STEPS {
        eprintln!("==> {label}: cargo {}", cargo_args.join(" "));
        let status = Command::new(crate::cargo())
            .args(*cargo_args)
            .current_dir(&root)
            .status()
            .with_context(|| format!("could not start cargo for step `{label}`"))?;
        if !status.success() {
            eprintln!("==> {label} failed ({status})");
            return Ok(false);
        }
    }
    if !python_clients(&root)? {
        return Ok(false);
    }
    eprintln!("==> all CI steps passed");
    Ok(true)
}

/// Runs the client scripts of `fixtures/clients` against the `pardot-mock` binary.
fn python_clients(root: &std::path::Path) -> Result<bool> {
    let python = root.join(VENV_PYTHON);
    if !python.exists() {
        bail!(
            "{VENV_PYTHON} is missing: create it with `python3 -m venv target/ci-venv && \
             target/ci-venv/bin/pip install -r fixtures/clients/requirements.txt` (.ci/run does this)"
        );
    }
    let mock = MockProcess::start(root)?;
    eprintln!("==> seed 000 JWT script against {}", mock.url());
    let status = Command::new(&python)
        .arg(root.join("fixtures/clients/seed000_jwt.py"))
        .env("SF_LOGIN_URL", mock.url())
        .env("PARDOT_URL", mock.url())
        .current_dir(root)
        .status()
        .context("could not start the seed 000 script")?;
    if !status.success() {
        eprintln!("==> seed 000 script failed ({status})");
        return Ok(false);
    }
    Ok(true)
}
