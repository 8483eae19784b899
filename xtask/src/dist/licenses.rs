//! The licences that travel with every artifact: the project's texts, the Rust crates inside
//! the binary (cargo-about, pinned and installed by `.ci/run`), and glibc's LGPL notice with
//! the exact Debian source package of the `libc.a` that was linked.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::{TARGET, output_of};

/// The crates' licences, generated.
pub(crate) const THIRD_PARTY: &str = "THIRD-PARTY-LICENSES.md";
/// glibc's notice.
pub(crate) const GLIBC_NOTICE: &str = "GLIBC-NOTICE.md";

/// Writes the four licence files into `dir`.
pub(crate) fn write(root: &Path, dir: &Path) -> Result<()> {
    for name in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(root.join(name), dir.join(name))
            .with_context(|| format!("copying {name}"))?;
    }
    write_third_party(root, &dir.join(THIRD_PARTY))?;
    write_glibc_notice(root, &dir.join(GLIBC_NOTICE))
}

fn write_third_party(root: &Path, out: &Path) -> Result<()> {
    let installed = Command::new(crate::cargo())
        .args(["about", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        bail!(
            "cargo-about is needed for the licences of the binary's crates: \
             cargo install --locked cargo-about@VERSION (the version .ci/run pins; it installs it)"
        );
    }
    let licences = root.join("packaging/licenses");
    let text = output_of(
        Command::new(crate::cargo())
            .arg("about")
            .arg("generate")
            .arg("--config")
            .arg(licences.join("about.toml"))
            .arg("--manifest-path")
            .arg(root.join("crates/pardot-mock/Cargo.toml"))
            .args(["--target", TARGET, "--locked", "--fail"])
            .arg(licences.join("about.hbs"))
            .current_dir(root),
        "cargo about generate",
    )?;
    std::fs::write(out, text)?;
    Ok(())
}

fn write_glibc_notice(root: &Path, out: &Path) -> Result<()> {
    let source = output_of(
        Command::new("dpkg-query").args([
            "--show",
            "--showformat=${source:Package} ${source:Version}",
            "libc6-dev",
        ]),
        "dpkg-query (the static build links the libc.a of Debian's libc6-dev)",
    )?;
    let (package, version) = source
        .split_once(' ')
        .context("dpkg-query printed no source package and version")?;
    let lgpl = std::fs::read_to_string("/usr/share/common-licenses/LGPL-2.1")
        .context("reading the LGPL-2.1 text from /usr/share/common-licenses")?;
    let template = std::fs::read_to_string(root.join("packaging/licenses").join(GLIBC_NOTICE))?;
    let notice = template
        .replace("{source_package}", package)
        .replace("{source_version}", version)
        .replace("{lgpl_text}", &lgpl);
    std::fs::write(out, notice)?;
    Ok(())
}
