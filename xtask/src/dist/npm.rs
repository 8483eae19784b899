//! The npm package: a staged copy of `packaging/npm` with the static binary, the licences and
//! the crate's version written into `package.json`, packed by `npm pack`.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Layout, copy_licences, copy_tree, find_tool, run_tool};

/// Packs the npm tarball into `target/dist`, or skips it (with the reason) without npm.
pub(crate) fn pack(layout: &Layout) -> Result<()> {
    let Some(npm) = find_tool("npm", &[]) else {
        return super::unavailable(
            "the npm package",
            "npm is not installed (it comes with nodejs)",
        );
    };
    let staged = layout.staging.join("npm");
    copy_tree(&layout.root.join("packaging/npm"), &staged)?;
    copy_licences(layout, &staged)?;
    let binary = staged.join("bin/pardot-mock");
    std::fs::create_dir_all(staged.join("bin"))?;
    std::fs::copy(layout.binary(), &binary)?;
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))?;
    let manifest_path = staged.join("package.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)
            .context("packaging/npm/package.json is not JSON")?;
    manifest["version"] = serde_json::Value::String(layout.version.clone());
    std::fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    eprintln!("==> dist: npm package ({})", npm.display());
    run_tool(
        Command::new(npm)
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&layout.dist)
            .current_dir(&staged),
        "npm pack",
    )
}
