//! `cargo xtask bench [--quick]`: builds what the benchmark needs with `cargo build --release`
//! (the `xtask-bench` binary, `src/bin/xtask-bench/`, and the `pardot-auth` CLI) and runs it.
//! Everything measured runs in release builds; this debug-built task only launches it. It is
//! not run by `.ci/run`, and nothing in it asserts on time: it prints the table and writes
//! `target/bench/results.json`.

use std::process::Command;

use anyhow::{Context, Result, bail};

pub(crate) fn run(args: &[String]) -> Result<bool> {
    let root = crate::project_root();
    let status = Command::new(crate::cargo())
        .args([
            "build",
            "--release",
            "--package",
            "xtask",
            "--bin",
            "xtask-bench",
        ])
        .current_dir(&root)
        .status()
        .context("could not run cargo build --release for xtask-bench")?;
    if !status.success() {
        bail!("building xtask-bench failed ({status})");
    }
    // The CLI row needs `pardot-auth` with the `cli` feature; without it the row says why.
    let cli = Command::new(crate::cargo())
        .args([
            "build",
            "--release",
            "--package",
            "pardot-auth",
            "--features",
            "cli",
            "--bin",
            "pardot-auth",
        ])
        .current_dir(&root)
        .status();
    let mut command = Command::new(root.join("target/release/xtask-bench"));
    command.arg("run").arg("--root").arg(&root);
    match cli {
        Ok(s) if s.success() => {
            command
                .arg("--cli")
                .arg(root.join("target/release/pardot-auth"));
        }
        Ok(s) => {
            command
                .arg("--cli-missing")
                .arg(format!("building pardot-auth --features cli failed ({s})"));
        }
        Err(e) => {
            command
                .arg("--cli-missing")
                .arg(format!("could not run cargo build for pardot-auth: {e}"));
        }
    }
    for arg in args {
        match arg.as_str() {
            "--quick" => {
                command.arg("--quick");
            }
            other => bail!("unknown argument `{other}` (usage: cargo xtask bench [--quick])"),
        }
    }
    let status = command.status().context("could not start xtask-bench")?;
    Ok(status.success())
}
