//! The `pardot-mock` binary as a child process, for clients written in other languages.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A running `pardot-mock serve` on a free loopback port; killed when dropped.
pub(crate) struct MockProcess {
    child: Child,
    url: String,
}

impl MockProcess {
    /// Builds the binary (dev profile) and starts it with the built-in configuration.
    pub(crate) fn start(root: &Path) -> Result<Self> {
        let status = Command::new(crate::cargo())
            .args([
                "build",
                "--quiet",
                "--package",
                "pardot-mock",
                "--bin",
                "pardot-mock",
            ])
            .current_dir(root)
            .status()
            .context("could not run cargo build for pardot-mock")?;
        if !status.success() {
            bail!("building pardot-mock failed ({status})");
        }
        let binary = root.join("target/debug/pardot-mock");
        let mut child = Command::new(&binary)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout from pardot-mock")?;
        // Read the first line on a thread so a mock that never prints cannot hang CI.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                bail!("pardot-mock printed no address within 30 s");
            }
        };
        let Some(url) = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
        else {
            let _ = child.kill();
            bail!("unexpected first line from pardot-mock: {line:?}");
        };
        Ok(Self {
            url: url.to_owned(),
            child,
        })
    }

    /// The mock's base URL (`http://127.0.0.1:PORT`).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
