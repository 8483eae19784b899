//! `xtask-bench`: the release-built half of `cargo xtask bench` (the `xtask bench` task builds
//! it with `cargo build --release` and runs it). Not a test: it asserts nothing about time, it
//! measures and reports.
//!
//! - `xtask-bench run --root DIR [--cli PATH | --cli-missing REASON] [--quick] [--only GROUPS]`:
//!   every metric of the bench issue (or the comma-separated groups of `--only`), the table on
//!   stdout and `target/bench/results.json`; a full run is also kept in `docs/bench/`.
//! - `xtask-bench serve ours|wiremock|hyper --bodies DIR [--prospects N]`: one server, for one
//!   round, in its own process (so each round starts fresh and `/proc` has its CPU time).
//! - `xtask-bench hold-tokens N`: a client process holding N cached tokens; prints its RSS.
//! - `xtask-bench plot [--root DIR]`: the chart of each row's ratio over the runs kept in
//!   `docs/bench/`, written to `docs/bench/ratios.svg` (`plot.rs`).
//! - `xtask-bench profile v5|v5-tiny|v4|v4-xml|password|jwt|startup|client|client-raw [SECONDS] [OUT]`
//!   (from the workspace root, after a `run`): `perf record` of what a row measures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

#[path = "../../announced.rs"]
mod announced;
mod context;
mod history;
mod load;
mod metrics;
mod plot;
#[path = "../../proc_status.rs"]
mod proc_status;
mod procfs;
mod profile;
mod report;
mod requests;
mod rounds;
mod rs256;
mod run;
mod servers;

/// Options of `run`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workspace root.
    pub root: PathBuf,
    /// The `pardot-auth` CLI binary, or why there is none.
    pub cli: Result<PathBuf, String>,
    /// Short rounds, for trying the harness out (the numbers are not the bench's).
    pub quick: bool,
    /// Only these metric groups (see [`metrics::GROUPS`]); all when empty. A partial run
    /// writes `results-partial.json`, so `results.json` always holds a whole run.
    pub only: Vec<String>,
}

fn parse_run(args: &[String]) -> Result<Options> {
    let mut root = None;
    let mut cli = Err("no --cli given".to_owned());
    let mut quick = false;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--root" => root = it.next().map(PathBuf::from),
            "--cli" => cli = Ok(PathBuf::from(it.next().context("--cli PATH")?)),
            "--cli-missing" => cli = Err(it.next().context("--cli-missing REASON")?.clone()),
            "--quick" => quick = true,
            "--only" => {
                let list = it.next().context("--only GROUP[,GROUP…]")?;
                for group in list.split(',').filter(|g| !g.is_empty()) {
                    if !metrics::GROUPS.contains(&group) {
                        bail!(
                            "unknown group `{group}` (one of {})",
                            metrics::GROUPS.join(", ")
                        );
                    }
                    only.push(group.to_owned());
                }
            }
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(Options {
        root: root.context("--root DIR")?,
        cli,
        quick,
        only,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!(
            "usage: xtask-bench run|serve|hold-tokens|plot|profile ... (see `cargo xtask bench`)"
        );
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xtask-bench: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command.as_str() {
            "run" => run::run(parse_run(rest)?).await,
            "serve" => servers::serve(rest).await,
            "hold-tokens" => metrics::rss::hold_tokens(rest).await,
            "plot" => plot::plot(rest),
            "profile" => {
                let root = std::env::current_dir()?;
                profile::profile(&root, rest).await
            }
            other => bail!("unknown command {other}"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask-bench {command}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
