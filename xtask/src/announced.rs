//! How a server that xtask starts as a child process tells where it listens: its first line on
//! stdout. Shared by the `xtask` binary (the `pardot-mock` binary for CI's clients) and by
//! `xtask-bench` (its servers), which includes this file with `#[path]`.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

/// Waits at most `within` for `child`'s first stdout line and reads it with `parse`. When no
/// line comes in time or `parse` finds nothing in it, the child is killed and reaped.
pub(crate) fn announced<T>(
    child: &mut Child,
    within: Duration,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    let stdout = child
        .stdout
        .take()
        .context("the child's stdout is not piped")?;
    // Read on a thread, so a child that never prints cannot hang the caller.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let outcome = match rx.recv_timeout(within) {
        Ok(line) => parse(line.trim()).with_context(|| format!("unexpected first line {line:?}")),
        Err(_) => Err(anyhow::anyhow!(
            "no first line within {} s",
            within.as_secs()
        )),
    };
    if outcome.is_err() {
        stop(child);
    }
    outcome
}

/// Kills `child` and reaps it (errors ignored: it may have exited already).
pub(crate) fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    fn shell(script: &str) -> Result<Child> {
        Ok(Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()?)
    }

    #[test]
    fn the_first_line_is_parsed() -> Result<()> {
        let mut child = shell("echo 'listening http://127.0.0.1:4000'; echo second")?;
        let url = announced(&mut child, Duration::from_secs(30), |line| {
            line.strip_prefix("listening ").map(str::to_owned)
        })?;
        assert_eq!(url, "http://127.0.0.1:4000");
        stop(&mut child);
        Ok(())
    }

    #[test]
    fn an_unexpected_line_stops_the_child() -> Result<()> {
        let mut child = shell("echo hello; exec sleep 60")?;
        let err = announced(&mut child, Duration::from_secs(30), |_| None::<()>)
            .err()
            .context("an error")?;
        assert!(format!("{err:#}").contains("\"hello\\n\""), "{err:#}");
        // Reaped: it is no longer running.
        assert!(child.try_wait()?.is_some());
        Ok(())
    }

    #[test]
    fn a_silent_child_is_stopped_when_the_time_is_up() -> Result<()> {
        let mut child = shell("exec sleep 60")?;
        let err = announced(&mut child, Duration::ZERO, |line| Some(line.to_owned()))
            .err()
            .context("an error")?;
        assert!(format!("{err:#}").contains("no first line"), "{err:#}");
        assert!(child.try_wait()?.is_some());
        Ok(())
    }
}
