//! `cargo xtask dist`: `pardot-mock` for every language, in `target/dist/`, with `SHA256SUMS`:
//! the static Linux binary with its licences and README (`…-x86_64-linux.tar.gz`, also left
//! unpacked in `pardot-mock-x86_64-linux/`, which the `Dockerfile` copies from), the Python
//! wheel (maturin) and the npm package (`npm pack`). One version, the crate's, for all three.
//!
//! `cargo xtask dist-check` ([`check`]) tests what `dist` built.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub(crate) mod check;
mod licenses;
mod npm;
mod static_binary;
mod sums;
mod wheel;

/// The Rust target of every artifact.
pub(crate) const TARGET: &str = "x86_64-unknown-linux-gnu";
/// The unpacked binary directory under `target/dist/` (the `Dockerfile` copies from it).
pub(crate) const BINARY_DIR: &str = "pardot-mock-x86_64-linux";
/// The licence files every artifact carries, in the binary directory.
pub(crate) const LICENCE_FILES: &[&str] = &[
    "LICENSE-MIT",
    "LICENSE-APACHE",
    licenses::THIRD_PARTY,
    licenses::GLIBC_NOTICE,
];

/// Where `dist` reads and writes, for one checkout.
pub(crate) struct Layout {
    /// The workspace root.
    pub root: PathBuf,
    /// `target/dist` under the root (fixed, whatever `CARGO_TARGET_DIR` says: the
    /// `Dockerfile` and the docs name it).
    pub dist: PathBuf,
    /// Copies of `packaging/*` that the package builders get, with the licences added.
    pub staging: PathBuf,
    /// The crate's version: the version of every artifact.
    pub version: String,
}

impl Layout {
    pub(crate) fn new() -> Result<Self> {
        let root = crate::project_root();
        let version = mock_version(&root)?;
        Ok(Self {
            dist: root.join("target/dist"),
            staging: crate::target_dir(&root).join("dist-staging"),
            root,
            version,
        })
    }

    /// The unpacked binary directory.
    pub(crate) fn binary_dir(&self) -> PathBuf {
        self.dist.join(BINARY_DIR)
    }

    /// The static binary in it.
    pub(crate) fn binary(&self) -> PathBuf {
        self.binary_dir().join("pardot-mock")
    }

    /// The binary archive's name.
    pub(crate) fn archive_name(&self) -> String {
        format!("pardot-mock-{}-x86_64-linux.tar.gz", self.version)
    }

    /// The npm tarball's name (what `npm pack` calls it).
    pub(crate) fn npm_tarball_name(&self) -> String {
        format!("pardot-mock-{}.tgz", self.version)
    }

    /// The wheel `dist` built, if any.
    pub(crate) fn wheel(&self) -> Result<Option<PathBuf>> {
        let prefix = format!("pardot_mock-{}-", self.version);
        Ok(std::fs::read_dir(&self.dist)
            .with_context(|| format!("reading {}", self.dist.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
            }))
    }
}

/// `cargo xtask dist`.
pub(crate) fn run(args: &[String]) -> Result<bool> {
    if let Some(extra) = args.first() {
        bail!("`dist` takes no arguments (got `{extra}`)");
    }
    let layout = Layout::new()?;
    if layout.dist.exists() {
        std::fs::remove_dir_all(&layout.dist)
            .with_context(|| format!("removing the old {}", layout.dist.display()))?;
    }
    std::fs::create_dir_all(&layout.dist)?;
    let built = static_binary::build(&layout.root)?;
    let binary_dir = layout.binary_dir();
    std::fs::create_dir_all(&binary_dir)?;
    std::fs::copy(&built, layout.binary())
        .with_context(|| format!("copying {}", built.display()))?;
    std::fs::copy(
        layout.root.join("packaging/binary/README.md"),
        binary_dir.join("README.md"),
    )?;
    licenses::write(&layout.root, &binary_dir)?;
    archive_binary(&layout)?;
    wheel::build(&layout)?;
    npm::pack(&layout)?;
    sums::write(&layout.dist)?;
    eprintln!("==> dist: {}", layout.dist.display());
    for line in sums::sizes(&layout.dist)? {
        eprintln!("    {line}");
    }
    Ok(true)
}

/// `pardot-mock-VERSION-x86_64-linux.tar.gz`: the binary directory under a versioned name,
/// owned by root, sorted, dated at the epoch (the same bytes for the same files).
fn archive_binary(layout: &Layout) -> Result<()> {
    let versioned = format!("pardot-mock-{}-x86_64-linux", layout.version);
    let transform = format!("s,^{BINARY_DIR},{versioned},");
    run_tool(
        Command::new("tar")
            .args(["--create", "--gzip", "--file"])
            .arg(layout.dist.join(layout.archive_name()))
            .args([
                "--sort=name",
                "--mtime=@0",
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "--transform",
                &transform,
                "--directory",
            ])
            .arg(&layout.dist)
            .arg(BINARY_DIR),
        "tar",
    )
}

/// Copies the licence files of the binary directory into `dir`.
pub(crate) fn copy_licences(layout: &Layout, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for name in LICENCE_FILES {
        std::fs::copy(layout.binary_dir().join(name), dir.join(name))
            .with_context(|| format!("copying {name} into {}", dir.display()))?;
    }
    Ok(())
}

/// Copies the directory `from` into `to` (replacing it), files and subdirectories.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing {}", to.display()))?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs `command` to the end; an error naming `what` unless it exits 0.
pub(crate) fn run_tool(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs `command` to the end and returns its stdout; an error with its stderr unless it exits 0.
pub(crate) fn output_of(command: &mut Command, what: &str) -> Result<String> {
    let output = command
        .output()
        .with_context(|| format!("could not run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The version of the `pardot-mock` package, from `cargo metadata`.
fn mock_version(root: &Path) -> Result<String> {
    let metadata = output_of(
        Command::new(crate::cargo())
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(root),
        "cargo metadata",
    )?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)?;
    metadata["packages"]
        .as_array()
        .and_then(|packages| {
            packages
                .iter()
                .find(|p| p["name"] == "pardot-mock")
                .and_then(|p| p["version"].as_str())
        })
        .map(str::to_owned)
        .context("cargo metadata lists no pardot-mock package")
}

/// A tool `dist` or `dist-check` needs is missing: on a developer's machine that part is
/// skipped with the reason printed; under CI (`CI` set, as `.ci/run` does) it is an error.
pub(crate) fn unavailable(part: &str, reason: &str) -> Result<()> {
    if std::env::var_os("CI").is_some() {
        bail!("{part}: {reason}, and CI is set");
    }
    eprintln!("==> SKIPPED {part}: {reason}");
    Ok(())
}

/// The first of `candidates` that exists, else `name` when it is on `PATH`.
pub(crate) fn find_tool(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|path| path.is_file())
            })
        })
}

/// Empties `dir` (creating it when missing).
pub(crate) fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}
