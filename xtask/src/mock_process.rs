//! The `pardot-mock` binary as a child process, for clients written in other languages.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::announced::{announced, stop};

/// A running `pardot-mock serve` on a free loopback port; killed when dropped.
pub(crate) struct MockProcess {
    child: Child,
    url: String,
}

impl MockProcess {
    /// Builds the binary (dev profile) and starts it with the built-in configuration.
    pub(crate) fn start(root: &Path) -> Result<Self> {
        let build = [
            "build",
            "--quiet",
            "--package",
            "pardot-mock",
            "--bin",
            "pardot-mock",
        ];
        let status = crate::run_cargo(root, &build)?;
        if !status.success() {
            bail!("building pardot-mock failed ({status})");
        }
        let binary = crate::target_dir(root).join("debug/pardot-mock");
        let mut child = Command::new(&binary)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let url = announced(&mut child, Duration::from_secs(30), |line| {
            line.rsplit(' ')
                .next()
                .filter(|u| u.starts_with("http://"))
                .map(str::to_owned)
        })
        .context("pardot-mock did not print its address")?;
        Ok(Self { url, child })
    }

    /// The mock's base URL (`http://127.0.0.1:PORT`).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
