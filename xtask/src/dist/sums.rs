//! `SHA256SUMS` of the artifacts (the format `sha256sum --check` reads), and their sizes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// The name of the sums file in `target/dist`.
pub(crate) const SUMS: &str = "SHA256SUMS";

/// The artifacts: the files directly in `dist` other than the sums file, by name.
pub(crate) fn artifacts(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dist)
        .with_context(|| format!("reading {}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.file_name().is_some_and(|n| n != SUMS))
        .collect();
    files.sort();
    Ok(files)
}

/// The lines of the sums file for the artifacts in `dist`.
pub(crate) fn lines(dist: &Path) -> Result<String> {
    let mut out = String::new();
    for path in artifacts(dist)? {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let digest = Sha256::digest(&bytes);
        let hex = digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let _ = writeln!(out, "{hex}  {name}");
    }
    Ok(out)
}

/// Writes `dist/SHA256SUMS`.
pub(crate) fn write(dist: &Path) -> Result<()> {
    std::fs::write(dist.join(SUMS), lines(dist)?)?;
    Ok(())
}

/// One line per artifact and for the static binary: name and size.
pub(crate) fn sizes(dist: &Path) -> Result<Vec<String>> {
    let mut paths = artifacts(dist)?;
    paths.push(dist.join(super::BINARY_DIR).join("pardot-mock"));
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::metadata(path)?.len();
            let shown = path
                .strip_prefix(dist)
                .unwrap_or(path)
                .display()
                .to_string();
            let mib = bytes as f64 / (1024.0 * 1024.0);
            Ok(format!("{shown}: {bytes} bytes ({mib:.1} MiB)"))
        })
        .collect()
}
