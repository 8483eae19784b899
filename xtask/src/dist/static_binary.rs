//! The static `pardot-mock`: glibc linked in (`+crt-static` on the gnu target), release profile,
//! in its own target subdirectory so its `RUSTFLAGS` do not invalidate the normal build.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use super::{TARGET, run_tool};

/// The `RUSTFLAGS` of the static build (and of the wheel's, so maturin reuses it).
pub(crate) const RUSTFLAGS: &str = "-C target-feature=+crt-static";

/// The target directory of the static build.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    crate::target_dir(root).join("static")
}

/// Builds the static binary (incrementally: the second build in a run reuses the first) and
/// returns its path.
pub(crate) fn build(root: &Path) -> Result<PathBuf> {
    let target_dir = target_dir(root);
    eprintln!("==> dist: static pardot-mock ({TARGET}, {RUSTFLAGS})");
    run_tool(
        Command::new(crate::cargo())
            .args(["build", "--release", "--locked", "--target", TARGET])
            .args(["--package", "pardot-mock", "--bin", "pardot-mock"])
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", RUSTFLAGS)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .current_dir(root),
        "the static build of pardot-mock",
    )?;
    Ok(target_dir.join(TARGET).join("release/pardot-mock"))
}
