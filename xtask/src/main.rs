//! Project automation, the cargo-xtask way: `cargo xtask <task>` runs this binary.
//!
//! - `cargo xtask e2e [--browser]`: every flow and fault scenario against an in-process mock,
//!   printed as a table; exits non-zero on any failure. `--faults`: the fault matrix only.
//! - `cargo xtask ci`: what `.ci/run` runs once the machine has what it needs.
//! - `cargo xtask bench`: the benchmarks, as ratios against baselines.
//! - `cargo xtask dist`: the static binary, the Python wheel and the npm package of
//!   `pardot-mock` in `target/dist/`; `cargo xtask dist-check` tests them.
//! - `cargo xtask props [--cases N]`: every property test with 10,000 cases.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};

use anyhow::{Context, Result};

mod announced;
mod bench;
mod ci;
mod dist;
mod e2e;
mod mock_process;
mod proc_status;
mod props;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "e2e" => e2e::run(rest),
        "ci" => ci::run(rest),
        "bench" => bench::run(rest),
        "dist" => dist::run(rest),
        "dist-check" => dist::check::run(rest),
        "props" => props::run(rest),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(true)
        }
        other => {
            eprintln!("xtask: unknown task `{other}`\n");
            print_help();
            Ok(false)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask {task}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    eprintln!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         e2e [--browser]   run every flow and fault scenario against an in-process pardot-mock\n  \
         e2e --faults      run the fault matrix (flow x fault, each cell asserted)\n  \
         e2e --hostile     run the mock binary under malformed and slow traffic\n  \
         ci                run what .ci/run runs (fmt, unused deps, clippy, tests, props, e2e, dist)\n  \
         props             run every property test with 10,000 cases (--cases N: another count)\n  \
         dist              build pardot-mock for every language into target/dist (binary, wheel, npm)\n  \
         dist-check        test what dist built (versions, Python, Node, empty root, CI example)\n  \
         bench             run the benchmarks and print ratios against their baselines\n                           (--quick: short rounds; --only v5,cli,…: some metrics;\n                           --plot: the ratios chart of the kept runs)"
    );
}

/// The workspace root, derived from this crate's manifest directory (not the caller's cwd).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo that runs us, so the same toolchain is used for sub-commands.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Where cargo puts what it builds for `root`: `CARGO_TARGET_DIR` (relative to `root` when
/// relative, as cargo runs there) or `root/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// Runs `cargo ARGS` (the cargo that runs us) in `root`: its exit status.
pub(crate) fn run_cargo(root: &Path, args: &[&str]) -> Result<ExitStatus> {
    Command::new(cargo())
        .args(args)
        // `cargo run` told us our own package's name; a cargo subcommand that sees it set
        // (cargo-machete does) takes itself for a direct run and reads its own name as a path.
        .env_remove("CARGO_PKG_NAME")
        .current_dir(root)
        .status()
        .with_context(|| format!("could not run cargo {}", args.join(" ")))
}
