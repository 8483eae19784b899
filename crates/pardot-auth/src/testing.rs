//! The one harness that runs the `pardot-auth` binary from tests (feature `test-util`).
//!
//! The facade's CLI tests and `cargo xtask e2e` both drive the binary as a user does: one
//! process per command, a clean environment, a token store directory, the hosts pointed at a
//! mock. Both need the same spawning, capturing and bounded waiting, so it lives here once.
//! It sits behind a non-default feature (like `pardot_auth_core::testing`) rather than in a
//! helper crate or a `#[path]` include: the library carries no test code by default, and both
//! callers depend on this crate already.
//!
//! Where the binary is stays with the caller: a test of this crate has
//! `env!("CARGO_BIN_EXE_pardot-auth")`, xtask builds it into the cargo target directory.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use pardot_auth::testing::CliHarness;
//!
//! let dir = tempfile::tempdir()?;
//! let cli = CliHarness::new("target/debug/pardot-auth", dir.path())
//!     .hosts("http://127.0.0.1:4010", "0Uv000000000001");
//! let out = cli.run(&["whoami"], &[("PARDOT_AUTH_FLOW", "jwt".into())]).await?;
//! assert_eq!(out.code, 0, "{}", out.stderr);
//! # Ok(()) }
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

/// How long one command, or one wait for a line, may take before the harness gives up. Long
/// enough for a debug build on a loaded machine; a hung command still fails the test.
pub const DEFAULT_CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// One environment variable set for a command: its name and value.
pub type EnvVar<'a> = (&'a str, String);

/// The `pardot-auth` binary, set up to run in a working directory with a clean environment.
///
/// The child sees only `PATH`, the token store (`PARDOT_AUTH_STORE_DIR`), the hosts set by
/// [`hosts`](Self::hosts) and each command's variables, so the test runner's own settings
/// never leak in. The working directory is where a `.env` would be read from.
#[derive(Debug, Clone)]
pub struct CliHarness {
    binary: PathBuf,
    work_dir: PathBuf,
    store_dir: PathBuf,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl CliHarness {
    /// The binary at `binary`, run in `work_dir`, keeping its token store in `work_dir/store`.
    pub fn new(binary: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        let work_dir = work_dir.into();
        Self {
            binary: binary.into(),
            store_dir: work_dir.join("store"),
            work_dir,
            env: Vec::new(),
            timeout: DEFAULT_CLI_TIMEOUT,
        }
    }

    /// Keeps the token store in `dir` instead.
    pub fn store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store_dir = dir.into();
        self
    }

    /// Points the login host and the Pardot host at `url` (a mock) and names the business unit.
    pub fn hosts(mut self, url: &str, business_unit: &str) -> Self {
        for (name, value) in [
            ("SF_LOGIN_URL", url),
            ("PARDOT_URL", url),
            ("PARDOT_BUSINESS_UNIT_ID", business_unit),
        ] {
            self.env.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Bounds each command and each wait for a line by `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The working directory.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The token store directory.
    pub fn store(&self) -> &Path {
        &self.store_dir
    }

    /// The command for `args` with `vars` set over the harness's environment; stdin is
    /// closed and the child is killed if the command is dropped.
    pub fn command(&self, args: &[&str], vars: &[EnvVar<'_>]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PARDOT_AUTH_STORE_DIR", &self.store_dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .args(args)
            .current_dir(&self.work_dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `pardot-auth args…` to the end and captures what it printed.
    ///
    /// # Errors
    ///
    /// The binary could not be started, or it ran over the timeout (it is killed then).
    pub async fn run(&self, args: &[&str], vars: &[EnvVar<'_>]) -> io::Result<CliOutput> {
        let output = tokio::time::timeout(self.timeout, self.command(args, vars).output())
            .await
            .map_err(|_| timed_out(args, "to finish", self.timeout))?
            .map_err(|e| not_started(&self.binary, e))?;
        Ok(CliOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Starts `pardot-auth args…` with stdout and stderr piped, for a command that prints
    /// something the test must act on before it ends (an authorize URL, a device code).
    ///
    /// # Errors
    ///
    /// The binary could not be started.
    pub fn spawn(&self, args: &[&str], vars: &[EnvVar<'_>]) -> io::Result<RunningCli> {
        let mut child = self
            .command(args, vars)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| not_started(&self.binary, e))?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(io::Error::other("the child's output was not piped"));
        };
        Ok(RunningCli {
            child,
            stdout: BufReader::new(stdout).lines(),
            stderr: BufReader::new(stderr).lines(),
            stderr_seen: String::new(),
            command: args.join(" "),
            timeout: self.timeout,
        })
    }
}

/// What a finished command printed, and its exit code (-1 when a signal ended it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliOutput {
    /// The exit code.
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl CliOutput {
    /// Whether the command exited with 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// A started command whose output the test reads line by line, then waits for.
#[derive(Debug)]
pub struct RunningCli {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
    /// The stderr lines read and passed over, for the message when the wanted one never comes.
    stderr_seen: String,
    command: String,
    timeout: Duration,
}

impl RunningCli {
    /// Reads stderr until a line for which `pick` gives a value; returns that value.
    ///
    /// # Errors
    ///
    /// Stderr ended first, or no such line came within the timeout; the error quotes the
    /// lines passed over.
    pub async fn stderr_line<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> io::Result<T> {
        let timeout = self.timeout;
        let found = tokio::time::timeout(timeout, async {
            while let Some(line) = self.stderr.next_line().await? {
                if let Some(value) = pick(&line) {
                    return Ok(value);
                }
                self.stderr_seen.push_str(&line);
                self.stderr_seen.push('\n');
            }
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "`pardot-auth {}` ended without printing {what}; stderr:\n{}",
                    self.command, self.stderr_seen
                ),
            ))
        })
        .await;
        found.map_err(|_| {
            let waited = format!("{what} (stderr so far:\n{})", self.stderr_seen);
            timed_out_command(&self.command, &waited, timeout)
        })?
    }

    /// Reads stderr until a line containing `marker`; returns the line.
    ///
    /// # Errors
    ///
    /// As [`stderr_line`](Self::stderr_line).
    pub async fn stderr_line_containing(&mut self, marker: &str) -> io::Result<String> {
        self.stderr_line(&format!("`{marker}`"), |line| {
            line.contains(marker).then(|| line.to_owned())
        })
        .await
    }

    /// The next line of stdout.
    ///
    /// # Errors
    ///
    /// Stdout ended, or no line came within the timeout.
    pub async fn stdout_line(&mut self) -> io::Result<String> {
        tokio::time::timeout(self.timeout, self.stdout.next_line())
            .await
            .map_err(|_| timed_out_command(&self.command, "a line on stdout", self.timeout))??
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("`pardot-auth {}` closed stdout", self.command),
                )
            })
    }

    /// Waits for the command to end and returns the rest of what it printed (stderr without
    /// the lines already read).
    ///
    /// # Errors
    ///
    /// Waiting failed, or the command ran over the timeout (it is killed then).
    pub async fn finish(self) -> io::Result<CliOutput> {
        let Self {
            mut child,
            stdout,
            stderr,
            command,
            timeout,
            ..
        } = self;
        // Both pipes are drained while waiting, so the child never blocks on a full one.
        let ended = tokio::time::timeout(timeout, async {
            let (status, stdout, stderr) =
                tokio::join!(child.wait(), read_rest(stdout), read_rest(stderr));
            io::Result::Ok(CliOutput {
                code: status?.code().unwrap_or(-1),
                stdout: stdout?,
                stderr: stderr?,
            })
        })
        .await;
        ended.map_err(|_| timed_out_command(&command, "to finish", timeout))?
    }

    /// Kills the command and waits for it to go.
    ///
    /// # Errors
    ///
    /// The kill failed.
    pub async fn kill(mut self) -> io::Result<()> {
        self.child.kill().await
    }
}

async fn read_rest<R: tokio::io::AsyncBufRead + Unpin>(lines: Lines<R>) -> io::Result<String> {
    let mut rest = String::new();
    lines.into_inner().read_to_string(&mut rest).await?;
    Ok(rest)
}

fn not_started(binary: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("could not run {}: {e}", binary.display()))
}

fn timed_out(args: &[&str], what: &str, timeout: Duration) -> io::Error {
    timed_out_command(&args.join(" "), what, timeout)
}

fn timed_out_command(command: &str, what: &str, timeout: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("`pardot-auth {command}` waited over {timeout:?} for {what}"),
    )
}
