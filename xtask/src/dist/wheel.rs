//! The Python wheel: maturin with `bindings = "bin"` over a staged copy of
//! `packaging/python` (licences added to the package), built with the static build's flags and
//! target directory, so the binary in the wheel is the static one and is not compiled twice.

use std::process::Command;

use anyhow::{Context, Result};

use super::{Layout, TARGET, copy_licences, copy_tree, find_tool, run_tool, static_binary};

/// Builds the wheel into `target/dist`, or skips it (with the reason) without maturin.
pub(crate) fn build(layout: &Layout) -> Result<()> {
    let venv_maturin = layout.root.join("target/ci-venv/bin/maturin");
    let Some(maturin) = find_tool("maturin", &[venv_maturin]) else {
        return super::unavailable(
            "the Python wheel",
            "maturin is not installed (.ci/run installs it into target/ci-venv)",
        );
    };
    let staged = layout.staging.join("python");
    copy_tree(&layout.root.join("packaging/python"), &staged)?;
    copy_licences(layout, &staged.join("python/pardot_mock/licenses"))?;
    // The staged pyproject.toml is elsewhere: point it at the crate by absolute path.
    let pyproject = staged.join("pyproject.toml");
    let manifest = layout.root.join("crates/pardot-mock/Cargo.toml");
    let text = std::fs::read_to_string(&pyproject)?.replace(
        "manifest-path = \"../../crates/pardot-mock/Cargo.toml\"",
        &format!("manifest-path = \"{}\"", manifest.display()),
    );
    std::fs::write(&pyproject, text).context("writing the staged pyproject.toml")?;
    eprintln!("==> dist: Python wheel ({})", maturin.display());
    run_tool(
        Command::new(&maturin)
            .args(["build", "--release", "--locked", "--target", TARGET])
            .arg("--out")
            .arg(&layout.dist)
            .env("RUSTFLAGS", static_binary::RUSTFLAGS)
            .env("CARGO_TARGET_DIR", static_binary::target_dir(&layout.root))
            .current_dir(&staged),
        "maturin build",
    )
}
