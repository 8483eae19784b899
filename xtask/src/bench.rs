//! `cargo xtask bench [--quick] [--only GROUPS] | --plot`: builds what the benchmark needs with `cargo
//! build --release` (the `xtask-bench` binary, `src/bin/xtask-bench/`, and the `pardot-auth`
//! CLI) and runs it. Everything measured runs in release builds; this debug-built task only
//! launches it. It is not run by `.ci/run`, and nothing in it asserts on time: it prints the
//! table and writes `target/bench/results.json`; a full run (no `--only`, no `--quick`) is also
//! kept in `docs/bench/` (see its README). `--plot` measures nothing: it draws the kept runs'
//! ratios into `docs/bench/ratios.svg`.

use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "cargo xtask bench [--quick] [--only v5,v4,password,jwt,rsa,memory,startup,client,callers,cli,rss,fleet,objects,export] | --plot";

pub(crate) fn run(args: &[String]) -> Result<bool> {
    let root = crate::project_root();
    if args.iter().any(|a| a == "--plot") {
        if !cargo_release(&root, &["--package", "xtask", "--bin", "xtask-bench"])? {
            bail!("building xtask-bench failed");
        }
        let bench = crate::target_dir(&root).join("release/xtask-bench");
        let status = Command::new(bench)
            .arg("plot")
            .arg("--root")
            .arg(&root)
            .status()
            .context("could not start xtask-bench")?;
        return Ok(status.success());
    }
    // One cargo invocation for both binaries, so the crates they share are built once with
    // one feature set (two invocations would compile pardot-mock and sf-oauth twice).
    let both = cargo_release(
        &root,
        &[
            "--package",
            "xtask",
            "--bin",
            "xtask-bench",
            "--package",
            "pardot-auth",
            "--features",
            "pardot-auth/cli",
            "--bin",
            "pardot-auth",
        ],
    )?;
    // The CLI row needs `pardot-auth` with the `cli` feature; without it the row says why.
    let cli = if both {
        Ok(())
    } else if cargo_release(&root, &["--package", "xtask", "--bin", "xtask-bench"])? {
        Err("building pardot-auth --features cli failed (see the cargo output above)")
    } else {
        bail!("building xtask-bench failed");
    };
    let release = crate::target_dir(&root).join("release");
    let mut command = Command::new(release.join("xtask-bench"));
    command.arg("run").arg("--root").arg(&root);
    match cli {
        Ok(()) => {
            command.arg("--cli").arg(release.join("pardot-auth"));
        }
        Err(reason) => {
            command.arg("--cli-missing").arg(reason);
        }
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                command.arg("--quick");
            }
            "--only" => {
                let groups = args.next().context("--only GROUP[,GROUP…]")?;
                command.arg("--only").arg(groups);
            }
            other => bail!("unknown argument `{other}` (usage: {USAGE})"),
        }
    }
    let status = command.status().context("could not start xtask-bench")?;
    Ok(status.success())
}

/// `cargo build --release ARGS` in `root`: whether it succeeded.
fn cargo_release(root: &std::path::Path, args: &[&str]) -> Result<bool> {
    let build = [&["build", "--release"][..], args].concat();
    Ok(crate::run_cargo(root, &build)?.success())
}
