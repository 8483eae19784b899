//! `cargo xtask props`: every property test of a parser of outside input, with 10,000 cases
//! each (`PROPTEST_CASES`). `cargo test` runs the same tests with 256 cases.
//!
//! The suites run in the dev profile: the test binaries `cargo test` already built are reused
//! (a release build of every crate cost tens of minutes on two cores), and the parsers'
//! crypto dependencies are optimised in the dev profile anyway.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Cases per property unless `--cases N` says otherwise.
const DEFAULT_CASES: u32 = 10_000;

/// Each suite: a label, the package and the cargo test arguments selecting its properties.
const SUITES: &[(&str, &str, &[&str])] = &[
    (
        "ids, hosts, the redactor",
        "pardot-auth-core",
        &["--test", "props"],
    ),
    (
        "business unit ids (checksum)",
        "pardot-auth-core",
        &["--lib", "ids::"],
    ),
    (
        "v3/v4 envelope, user keys",
        "pardot-legacy",
        &["--test", "props"],
    ),
    (
        "token, error, userinfo, device, MCI answers; callback query",
        "sf-oauth",
        &["--lib", "props::"],
    ),
    (
        "v5 and proxy error bodies",
        "pardot-http",
        &["--lib", "props::"],
    ),
    (
        "config variables, .env, MCI client",
        "pardot-auth",
        &["--lib", "props::"],
    ),
    (
        "mock: forms, JWTs, Pardot header, criteria, TOML",
        "pardot-mock",
        &["--lib", "props::"],
    ),
];

pub(crate) fn run(args: &[String]) -> Result<bool> {
    let cases = match args {
        [] => DEFAULT_CASES,
        [flag, n] if flag == "--cases" => n
            .parse()
            .with_context(|| format!("--cases takes a number of cases, not `{n}`"))?,
        _ => bail!("usage: cargo xtask props [--cases N]"),
    };
    let root = crate::project_root();
    let started = Instant::now();
    for (label, package, selection) in SUITES {
        eprintln!("==> props: {label} ({package}, {cases} cases)");
        let suite_started = Instant::now();
        let status = Command::new(crate::cargo())
            .args(["test", "-p", package])
            .args(*selection)
            .env("PROPTEST_CASES", cases.to_string())
            .env_remove("CARGO_PKG_NAME")
            .current_dir(&root)
            .status()
            .with_context(|| format!("could not run the properties of {package}"))?;
        if !status.success() {
            eprintln!("==> props: {label} failed ({status})");
            return Ok(false);
        }
        eprintln!(
            "==> props: {label} passed in {:.0?}",
            suite_started.elapsed()
        );
    }
    eprintln!(
        "==> props: every property held for {cases} cases ({:.0?})",
        started.elapsed()
    );
    Ok(true)
}
