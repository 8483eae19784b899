//! `cargo xtask dist-check`: tests what `cargo xtask dist` put in `target/dist/`.
//!
//! - the sums and the versions: `SHA256SUMS` matches, and the binary, the wheel and the npm
//!   package all carry the crate's version;
//! - Python: the wheel in a fresh virtual environment, `fixtures/clients/python/` and the
//!   guide's Python example through its pytest plugin;
//! - Node: the `npm pack` tarball in a temporary project, `fixtures/clients/node/` and the
//!   guide's Node example under `node:test`;
//! - the binary: the guide's shell example, in a network namespace of its own (it uses the
//!   default port);
//! - the image: the `Dockerfile`'s root run from an empty root, reached from another network
//!   namespace by name ([`image`]);
//! - CI: the `run:` steps of the guide's GitHub Actions example ([`workflow`]).
//!
//! A part whose tools are missing (maturin, npm, root for namespaces) is skipped with the
//! reason on a developer's machine and fails under CI.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use super::{Layout, fresh_dir, output_of, run_tool, sums, unavailable};

mod docs;
mod image;
mod netns;
mod node;
mod python;
mod workflow;

/// Start-to-ready times measured on the way, printed at the end.
#[derive(Default)]
pub(crate) struct Timings(Vec<(String, String)>);

impl Timings {
    fn record(&mut self, what: &str, millis: &str) {
        self.0.push((what.to_owned(), millis.to_owned()));
    }
}

/// The mock's public JWT test key (inside the crate, so it matches the mock's config).
pub(crate) fn test_key(layout: &Layout) -> PathBuf {
    layout
        .root
        .join("crates/pardot-mock/fixtures/keys/connected-app.key")
}

/// `program` with the environment of a suite: the test key, and none of the variables that
/// would make the packages run another binary or configuration than the one they carry.
pub(crate) fn suite_command(layout: &Layout, program: &std::path::Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("SF_PRIVATE_KEY_FILE", test_key(layout))
        .env_remove("PARDOT_MOCK_BINARY")
        .env_remove("PARDOT_MOCK_CONFIG")
        .env_remove("PARDOT_MOCK_ADDR")
        .env_remove("PARDOT_MOCK_PUBLIC_URL");
    command
}

/// `cargo xtask dist-check`.
pub(crate) fn run(args: &[String]) -> Result<bool> {
    if let Some(extra) = args.first() {
        bail!("`dist-check` takes no arguments (got `{extra}`)");
    }
    let layout = Layout::new()?;
    ensure!(
        layout.binary().is_file(),
        "{} is missing: run `cargo xtask dist` first",
        layout.binary().display()
    );
    let mut timings = Timings::default();
    check_sums_and_versions(&layout)?;
    python::check(&layout, &mut timings)?;
    node::check(&layout, &mut timings)?;
    check_binary_example(&layout)?;
    image::check(&layout)?;
    workflow::check(&layout)?;
    for (what, millis) in &timings.0 {
        eprintln!("==> start-to-ready, median of 5: {what}: {millis} ms");
    }
    eprintln!("==> dist-check passed");
    Ok(true)
}

fn check_sums_and_versions(layout: &Layout) -> Result<()> {
    let written =
        std::fs::read_to_string(layout.dist.join(sums::SUMS)).context("reading SHA256SUMS")?;
    ensure!(
        written == sums::lines(&layout.dist)?,
        "SHA256SUMS does not match target/dist"
    );
    let version = &layout.version;
    let printed = output_of(
        Command::new(layout.binary()).arg("--version"),
        "pardot-mock --version",
    )?;
    ensure!(
        printed.trim() == format!("pardot-mock {version}"),
        "the binary says {printed:?}"
    );
    ensure!(
        layout.dist.join(layout.archive_name()).is_file(),
        "no {} in target/dist",
        layout.archive_name()
    );
    match layout.wheel()? {
        Some(wheel) => eprintln!("==> version {version}: {}", wheel.display()),
        None => unavailable("the wheel's version", "no wheel in target/dist")?,
    }
    let tarball = layout.dist.join(layout.npm_tarball_name());
    if tarball.is_file() {
        let manifest = output_of(
            Command::new("tar")
                .arg("-xzOf")
                .arg(&tarball)
                .arg("package/package.json"),
            "reading package.json from the npm tarball",
        )?;
        let manifest: serde_json::Value = serde_json::from_str(&manifest)?;
        ensure!(
            manifest["version"] == version.as_str(),
            "the npm package is {}",
            manifest["version"]
        );
    } else {
        unavailable("the npm package's version", "no npm tarball in target/dist")?;
    }
    eprintln!("==> SHA256SUMS and the version {version} of every artifact checked");
    Ok(())
}

/// The guide's "From any language (binary)" example: unpacks the archive and uses the mock on
/// its default port, so it runs in a network namespace of its own.
fn check_binary_example(layout: &Layout) -> Result<()> {
    let script = docs::example(&layout.root, "binary")?;
    if let Some(reason) = netns::missing_reason() {
        return unavailable("the binary example", &reason);
    }
    let work = layout.staging.join("check-binary");
    fresh_dir(&work)?;
    std::fs::copy(
        layout.dist.join(layout.archive_name()),
        work.join(layout.archive_name()),
    )?;
    eprintln!("==> the guide's binary example, in its own network namespace");
    run_tool(
        Command::new("unshare")
            .args(["--net", "--", "bash", "-e", "-o", "pipefail", "-c"])
            .arg(format!("ip link set lo up\n{script}"))
            .current_dir(&work),
        "the guide's binary example",
    )
}
