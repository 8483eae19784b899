//! One field of `/proc/PID/status`. Shared by the `xtask` binary (the hostile run's memory
//! figures) and by `xtask-bench` (the resident memory of its servers), which includes this
//! file with `#[path]`.

use anyhow::{Context, Result};

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`).
pub(crate) fn status_kb(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}
