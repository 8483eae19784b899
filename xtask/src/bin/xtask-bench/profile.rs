//! `xtask-bench profile v5|v5-tiny|v4|v4-xml|password|jwt|startup|client|client-raw [SECONDS] [OUT]`:
//! `perf record -e cpu-clock --call-graph dwarf` of what a row measures, for as long as asked
//! (the machine has no hardware counters, so a software clock; release binaries keep their
//! unwind tables, so no debug build is needed). Prints the perf data path.
//!
//! The server targets sample one fresh `ours` server under the rows' closed-loop load; the
//! others sample this process doing the row's work again and again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pardot_mock::PardotMock;

use crate::context::CONCURRENCY;
use crate::load::{self, Spec, Template};
use crate::metrics::bench_client;
use crate::report::num;
use crate::requests::{
    jwt_template, password_template, password_token, sign_pool, v4_query_template, v5_template,
};
use crate::servers::{Kind, ServerProcess};

const USAGE: &str =
    "profile v5|v5-tiny|v4|v4-xml|password|jwt|startup|client|client-raw SECONDS OUT";

/// `xtask-bench profile`, from the workspace `root` after a `run` (the baselines' bodies).
pub async fn profile(root: &Path, args: &[String]) -> Result<()> {
    let what = args.first().context(USAGE)?.clone();
    let seconds: u64 = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let out = args.get(2).map_or_else(
        || root.join(format!("target/bench/perf-{what}.data")),
        PathBuf::from,
    );
    let bodies = root.join("target/bench/bodies");
    let n = match what.as_str() {
        "startup" => {
            let probe = Template::get("/services/oauth2/userinfo", Vec::new());
            let starts = sample_this_process(seconds, &out, async || {
                let mock = PardotMock::builder().start().await?;
                load::once(mock.addr(), &probe).await?;
                mock.shutdown().await;
                Ok(())
            })
            .await?;
            format!("{starts} starts")
        }
        "client" | "client-raw" => {
            let server = ServerProcess::start(Kind::Ours, &bodies, 200)?;
            let client = bench_client(&server).await?;
            client.ours_once().await?;
            let raw = what == "client-raw";
            let requests = sample_this_process(seconds, &out, async || {
                std::hint::black_box(if raw {
                    client.raw_once().await?
                } else {
                    client.ours_once().await?
                });
                Ok(())
            })
            .await?;
            format!("{requests} requests")
        }
        _ => {
            let server = ServerProcess::start(Kind::Ours, &bodies, 200)?;
            let template = match what.as_str() {
                "v5" => v5_template(&password_token(server.addr).await?),
                // The same checks with a one-prospect page: the per-request floor of the mock.
                "v5-tiny" => {
                    let mut t = v5_template(&password_token(server.addr).await?);
                    t.path = "/api/v5/objects/prospects?fields=id&limit=1".to_owned();
                    t
                }
                "v4" | "v4-xml" => {
                    let format = if what == "v4" { "json" } else { "xml" };
                    v4_query_template(&password_token(server.addr).await?, format)
                }
                "password" => password_template(),
                "jwt" => jwt_template(Arc::new(sign_pool(20_000).await?)),
                other => bail!("unknown profile target {other} ({USAGE})"),
            };
            let mut perf = record_perf(server.pid(), seconds, &out)?;
            let spec = Spec {
                concurrency: CONCURRENCY,
                max_requests: u64::MAX,
                max_time: Duration::from_secs(seconds),
            };
            let outcome = load::run(server.addr, &template, spec).await?;
            perf.wait()?;
            format!(
                "{} req/s, {} failed",
                num(outcome.throughput()),
                outcome.failed
            )
        }
    };
    eprintln!("profile {what}: {n}; perf data in {}", out.display());
    Ok(())
}

/// Runs `work` again and again for `seconds` under `perf record` of this process, into `out`;
/// how many times it ran.
async fn sample_this_process(
    seconds: u64,
    out: &Path,
    mut work: impl AsyncFnMut() -> Result<()>,
) -> Result<u32> {
    let mut perf = record_perf(std::process::id(), seconds, out)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut n = 0;
    while Instant::now() < deadline {
        work().await?;
        n += 1;
    }
    perf.wait()?;
    Ok(n)
}

/// `perf record` of process `pid` for `seconds` into `out`.
fn record_perf(pid: u32, seconds: u64, out: &Path) -> Result<std::process::Child> {
    Command::new("perf")
        .args([
            "record",
            "-e",
            "cpu-clock",
            "--call-graph",
            "dwarf,16384",
            "-o",
        ])
        .arg(out)
        .arg("-p")
        .arg(pid.to_string())
        .arg("--")
        .arg("sleep")
        .arg(seconds.to_string())
        .stdout(Stdio::null())
        .spawn()
        .context("starting perf")
}
