//! Bench results that stay: a full run is also written to `docs/bench/YYYY-MM-DD.json` (UTC),
//! `YYYY-MM-DD-2.json`, `-3`, … for further runs on the same day, with the machine it ran on
//! and the commit it measured. A file is written once and never rewritten, so the history is
//! what git shows. `docs/bench/README.md` describes the format.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::report::Row;

/// The folder of kept runs, under the workspace root.
const DIR: &str = "docs/bench";

/// Writes the run (`rows`, and the `run` context of `results.json`) as the next free file of
/// the day in `docs/bench/`; returns its path.
pub fn keep(root: &Path, rows: &[Row], run: Value) -> Result<PathBuf> {
    let now = pardot_auth_core::clock::unix_seconds(SystemTime::now());
    let date = utc_date(now);
    let doc = json!({
        "date": date,
        "date_unix": now,
        "commit": git_commit(root),
        "machine": Machine::here(root).to_json(),
        "run": run,
        "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    });
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    for n in 1.. {
        let path = dir.join(file_name(&date, n));
        // `create_new`: a file of the day that exists (even one written a moment ago by
        // another run) is never overwritten.
        match std::fs::File::create_new(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

/// The `n`th run of `date` (from 1): `DATE.json`, then `DATE-2.json`, `DATE-3.json`, …
fn file_name(date: &str, n: usize) -> String {
    if n <= 1 {
        format!("{date}.json")
    } else {
        format!("{date}-{n}.json")
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time in seconds.
fn utc_date(unix_seconds: i64) -> String {
    // Days to the proleptic Gregorian calendar, in 400-year eras starting on 0000-03-01
    // (Howard Hinnant's `civil_from_days`).
    let days = unix_seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `git rev-parse HEAD`, with `-dirty` when the work tree has changes; `unknown` outside git.
fn git_commit(root: &Path) -> String {
    let Some(head) = stdout_of(root, "git", &["rev-parse", "HEAD"]) else {
        return "unknown".to_owned();
    };
    match stdout_of(root, "git", &["status", "--porcelain"]) {
        Some(changes) if changes.is_empty() => head,
        _ => format!("{head}-dirty"),
    }
}

/// What `program args`, run in `root`, prints (trimmed); None when it cannot run or fails.
fn stdout_of(root: &Path, program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The machine a run ran on.
#[derive(Debug, Default, PartialEq)]
struct Machine {
    /// `std::thread::available_parallelism` (what this process may use).
    available_parallelism: Option<usize>,
    cpu: CpuInfo,
    /// `MemTotal` of `/proc/meminfo`.
    memory_total_bytes: Option<u64>,
    /// `/proc/sys/kernel/osrelease` (`uname -r`).
    kernel: Option<String>,
    /// `rustc --version` in the workspace (its toolchain).
    rustc: Option<String>,
}

/// What `/proc/cpuinfo` says.
#[derive(Debug, Default, PartialEq)]
struct CpuInfo {
    /// `processor` entries: logical CPUs.
    processors: usize,
    /// Distinct (`physical id`, `core id`) pairs: physical cores; None when it does not say.
    cores: Option<usize>,
    /// The first `model name`.
    model: Option<String>,
}

impl Machine {
    fn here(root: &Path) -> Self {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        Self {
            available_parallelism: std::thread::available_parallelism().ok().map(|n| n.get()),
            cpu: read("/proc/cpuinfo").map_or_else(CpuInfo::default, |t| parse_cpuinfo(&t)),
            memory_total_bytes: read("/proc/meminfo").and_then(|t| parse_mem_total(&t)),
            kernel: read("/proc/sys/kernel/osrelease").map(|t| t.trim().to_owned()),
            rustc: stdout_of(root, "rustc", &["--version"]),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "available_parallelism": self.available_parallelism,
            "cpuinfo_processors": self.cpu.processors,
            "cpuinfo_cores": self.cpu.cores,
            "cpu_model": self.cpu.model,
            "memory_total_bytes": self.memory_total_bytes,
            "kernel": self.kernel,
            "rustc": self.rustc,
        })
    }
}

/// Reads `/proc/cpuinfo` text: one block per logical CPU, `key<tabs>: value` lines.
fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    let mut cores = BTreeSet::new();
    let mut physical_id = None;
    let mut all_blocks_say = true;
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let field = |name: &str| {
            block.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_owned())
            })
        };
        if field("processor").is_none() {
            continue;
        }
        info.processors += 1;
        if info.model.is_none() {
            info.model = field("model name");
        }
        physical_id = field("physical id").or(physical_id);
        match (physical_id.clone(), field("core id")) {
            (Some(socket), Some(core)) => {
                cores.insert((socket, core));
            }
            _ => all_blocks_say = false,
        }
    }
    info.cores = (all_blocks_say && !cores.is_empty()).then_some(cores.len());
    info
}

/// `MemTotal` of `/proc/meminfo` text, in bytes.
fn parse_mem_total(text: &str) -> Option<u64> {
    let kb: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two logical CPUs on one core (hyper-threading) and a second core: three processors.
    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\n\
        model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 0\n\
        flags\t\t: fpu vme: de\n\n\
        processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\n\
        core id\t\t: 0\n\n\
        processor\t: 2\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\n\
        core id\t\t: 1\n\n";

    #[test]
    fn cpuinfo_gives_processors_cores_and_the_model() {
        assert_eq!(
            parse_cpuinfo(CPUINFO),
            CpuInfo {
                processors: 3,
                cores: Some(2),
                model: Some("Intel(R) Xeon(R) CPU @ 2.20GHz".to_owned()),
            }
        );
    }

    #[test]
    fn cpuinfo_without_core_ids_counts_processors_only() {
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n";
        assert_eq!(
            parse_cpuinfo(arm),
            CpuInfo {
                processors: 2,
                cores: None,
                model: None,
            }
        );
    }

    #[test]
    fn mem_total_is_read_in_bytes() {
        let meminfo = "MemTotal:        8039452 kB\nMemFree:         1234567 kB\n";
        assert_eq!(parse_mem_total(meminfo), Some(8_039_452 * 1024));
        assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_296_509_381), "2011-01-31");
        assert_eq!(utc_date(1_798_761_599), "2026-12-31");
        assert_eq!(utc_date(-1), "1969-12-31");
    }

    #[test]
    fn the_first_run_of_a_day_has_the_bare_date_and_later_ones_a_number() {
        assert_eq!(file_name("2026-12-06", 1), "2026-12-06.json");
        assert_eq!(file_name("2026-12-06", 2), "2026-12-06-2.json");
        assert_eq!(file_name("2026-12-06", 11), "2026-12-06-11.json");
    }

    #[test]
    fn keeping_runs_never_overwrites_one() -> Result<()> {
        let root = tempfile::tempdir()?;
        let row = Row::new("metric", "ms", 1.0, "1 ms".to_owned()).target("≤ 2 ms", Some(true));
        let first = keep(root.path(), std::slice::from_ref(&row), json!({ "n": 1 }))?;
        let second = keep(root.path(), &[row], json!({ "n": 2 }))?;
        let kept: Value = serde_json::from_str(&std::fs::read_to_string(&first)?)?;
        let date = kept["date"].as_str().context("a date")?;
        assert_eq!(first, root.path().join(DIR).join(format!("{date}.json")));
        assert_eq!(second, root.path().join(DIR).join(format!("{date}-2.json")));
        assert_eq!(kept["run"]["n"], 1);
        assert_eq!(
            kept["date_unix"].as_i64().map(utc_date).as_deref(),
            Some(date)
        );
        assert_eq!(kept["rows"][0]["target"], "≤ 2 ms");
        assert_eq!(kept["rows"][0]["met"], true);
        // A temporary folder is no git work tree.
        assert_eq!(kept["commit"], "unknown");
        assert!(kept["machine"]["cpuinfo_processors"].is_u64());
        Ok(())
    }
}
