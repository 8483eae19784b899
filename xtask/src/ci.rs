//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.
//!
//! `.ci/run` installs what these need (cargo-machete, cargo-about, Chromium and chromedriver,
//! Node.js and npm, iproute2, and maturin plus the Python packages of `fixtures/clients` in
//! `target/ci-venv`) and then runs `cargo xtask ci`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::mock_process::MockProcess;

/// Each cargo step: a label and the cargo arguments.
const CARGO_STEPS: &[(&str, &[&str])] = &[
    ("format", &["fmt", "--all", "--check"]),
    // cargo-machete (installed by `.ci/run`): fails on a dependency no crate's code names.
    // A legitimate exception goes in that crate's `[package.metadata.cargo-machete] ignored`,
    // with a comment saying why.
    ("unused dependencies", &["machete"]),
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
    // Broken intra-doc links and other rustdoc warnings, for every feature (docs.rs builds
    // pardot-http with all of them).
    (
        "docs",
        &[
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--config",
            "build.rustdocflags=[\"-D\", \"warnings\"]",
        ],
    ),
    // What `cargo publish` would upload, each crate built alone from its package (the path
    // dependencies between them resolved from the packages made in the same run): a file
    // outside a package or a missing manifest field fails here, not at release time.
    // `--allow-dirty`: the check is of the packages, not of the checkout (a local run has edits);
    // xtask is `publish = false`, which `--workspace` does not skip by itself.
    (
        "packages",
        &[
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--locked",
            "--allow-dirty",
            "--target-dir",
            PACKAGE_TARGET_DIR,
        ],
    ),
    ("property tests, 10,000 cases", &["xtask", "props"]),
    ("e2e", &["xtask", "e2e"]),
    ("fault matrix", &["xtask", "e2e", "--faults"]),
    ("e2e in a browser", &["xtask", "e2e", "--browser"]),
    ("e2e under hostile traffic", &["xtask", "e2e", "--hostile"]),
    // The static binary, the wheel and the npm package (one release build, reused by maturin),
    // then their suites, the guide's examples and the image's empty-root/namespace test.
    ("artifacts", &["xtask", "dist"]),
    ("artifact checks", &["xtask", "dist-check"]),
];

/// Where the packages are built for verification, apart from the checkout's own builds: cargo
/// takes a registry crate's build as fresh whatever its content (a published version never
/// changes), so the packages' builds must be told apart from the checkout's and forgotten
/// before each run (see [`forget_unpacked_packages`]).
const PACKAGE_TARGET_DIR: &str = "target/package-verify";

/// The Python interpreter of the venv `.ci/run` creates.
const VENV_PYTHON: &str = "target/ci-venv/bin/python";

/// Client programs in other languages run against a fresh `pardot-mock` binary: a label, the
/// interpreter (relative paths are under the project root) and the script.
const CLIENTS: &[(&str, &str, &str)] = &[
    (
        "JWT bearer client (Python, PyJWT + requests)",
        VENV_PYTHON,
        "fixtures/clients/jwt_bearer_pyjwt.py",
    ),
    (
        "mock guide example (Python standard library)",
        "python3",
        "fixtures/clients/mock_guide_example.py",
    ),
    (
        "mock guide example (JavaScript, fetch)",
        "node",
        "fixtures/clients/mock_guide_example.mjs",
    ),
];

pub(crate) fn run(args: &[String]) -> Result<bool> {
    if let Some(extra) = args.first() {
        bail!("`ci` takes no arguments (got `{extra}`)");
    }
    let root = crate::project_root();
    for (label, cargo_args) in CARGO_STEPS {
        if cargo_args.first() == Some(&"package") {
            forget_unpacked_packages(&root)?;
        }
        eprintln!("==> {label}: cargo {}", cargo_args.join(" "));
        let status = crate::run_cargo(&root, cargo_args)?;
        if !status.success() {
            eprintln!("==> {label} failed ({status})");
            return Ok(false);
        }
    }
    for (label, interpreter, script) in CLIENTS {
        if !run_client(&root, label, interpreter, script)? {
            return Ok(false);
        }
    }
    eprintln!("==> all CI steps passed");
    Ok(true)
}

/// Deletes what an earlier `cargo package` unpacked and built of this workspace's crates: its
/// unpacked sources under `$CARGO_HOME/registry/src/` and its builds in
/// [`PACKAGE_TARGET_DIR`]. Each package is verified against the others' packages through a
/// local registry, which cargo unpacks by name and version and never again while the directory
/// exists, and whose builds it never rebuilds: after a change, the next run would build the new
/// package against the old packages of its path dependencies (a contributor runs CI twice in
/// one checkout; a CI machine may keep `~/.cargo` between runs).
fn forget_unpacked_packages(root: &Path) -> Result<()> {
    let metadata = Command::new(crate::cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .context("could not run cargo metadata")?;
    if !metadata.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&metadata.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&metadata.stdout).context("cargo metadata's answer")?;
    let packages: Vec<(&str, &str)> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["name"].as_str()?, p["version"].as_str()?)))
        .collect();
    // In the packages' own target dir every build of a workspace crate is a package's build.
    let builds = root.join(PACKAGE_TARGET_DIR).join("debug");
    for dir in [
        builds.join("deps"),
        builds.join(".fingerprint"),
        builds.join("build"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            let built_from_package = packages.iter().any(|(name, _)| {
                let crate_name = name.replace('-', "_");
                [
                    format!("{name}-"),
                    format!("{crate_name}-"),
                    format!("lib{crate_name}-"),
                ]
                .iter()
                .any(|prefix| file_name.starts_with(prefix.as_str()))
            });
            if built_from_package {
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.with_context(|| format!("could not remove {}", path.display()))?;
            }
        }
    }
    let unpacked_names: Vec<String> = packages
        .iter()
        .map(|(name, version)| format!("{name}-{version}"))
        .collect();
    let cargo_home = match std::env::var_os("CARGO_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => {
            std::path::PathBuf::from(std::env::var_os("HOME").context("no HOME")?).join(".cargo")
        }
    };
    let Ok(registries) = std::fs::read_dir(cargo_home.join("registry/src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        for name in &unpacked_names {
            let unpacked = registry.path().join(name);
            if unpacked.is_dir() {
                std::fs::remove_dir_all(&unpacked)
                    .with_context(|| format!("could not remove {}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Runs one client script against its own freshly started `pardot-mock` binary.
fn run_client(root: &Path, label: &str, interpreter: &str, script: &str) -> Result<bool> {
    let interpreter_path = if interpreter.contains('/') {
        let path = root.join(interpreter);
        if !path.exists() {
            bail!(
                "{interpreter} is missing: create it with `python3 -m venv target/ci-venv && \
                 target/ci-venv/bin/pip install -r fixtures/clients/requirements.txt` (.ci/run does this)"
            );
        }
        path
    } else {
        interpreter.into()
    };
    let mock = MockProcess::start(root)?;
    eprintln!("==> {label} against {}", mock.url());
    let status = Command::new(&interpreter_path)
        .arg(root.join(script))
        .env("SF_LOGIN_URL", mock.url())
        .env("PARDOT_URL", mock.url())
        .env("PARDOT_MOCK_URL", mock.url())
        .current_dir(root)
        .status()
        .with_context(|| format!("could not start {interpreter} for {script}"))?;
    if !status.success() {
        eprintln!("==> {label} failed ({status})");
        return Ok(false);
    }
    Ok(true)
}
