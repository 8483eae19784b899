//! The `pardot-mock` binary as a child process, for clients written in other languages and
//! for the hostile-traffic run.

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

/// How to start the child beyond the defaults.
pub(crate) struct Launch<'a> {
    /// More `serve` flags.
    pub(crate) flags: &'a [&'a str],
    /// Where its stderr goes.
    pub(crate) stderr: Stdio,
    /// Its soft open-files limit, raised before it starts (`ulimit -n` in the shell that
    /// `exec`s it, so its pid is the mock's); `None` keeps ours.
    pub(crate) open_files: Option<u32>,
}

impl Default for Launch<'_> {
    fn default() -> Self {
        Self {
            flags: &[],
            stderr: Stdio::inherit(),
            open_files: None,
        }
    }
}

impl MockProcess {
    /// Builds the binary (dev profile) and starts it with the built-in configuration.
    pub(crate) fn start(root: &Path) -> Result<Self> {
        Self::launch(root, Launch::default())
    }

    /// Like [`MockProcess::start`], as `launch` says.
    pub(crate) fn launch(root: &Path, launch: Launch<'_>) -> Result<Self> {
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
        let mut command = match launch.open_files {
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(&binary);
                sh
            }
            None => Command::new(&binary),
        };
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(launch.flags)
            .stdout(Stdio::piped())
            .stderr(launch.stderr)
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

    /// The mock's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (not exited or killed).
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
