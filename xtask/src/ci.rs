//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Each step: a label and the cargo arguments.
const STEPS: &[(&str, &[&str])] = &[
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

pub(crate) fn run(args: &[String]) -> Result<bool> {
    if let Some(extra) = args.first() {
        bail!("`ci` takes no arguments (got `{extra}`)");
    }
    let root = crate::project_root();
    for (label, cargo_args) in STEPS {
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
    eprintln!("==> all CI steps passed");
    Ok(true)
}
