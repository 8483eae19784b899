//! Time per authenticated GET through `PardotClient` (cached token) vs raw `reqwest` with a
//! fixed header, alternating, one request at a time, against one mock process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, ensure};
use pardot_http::PardotClient;
use serde_json::json;

use crate::context::Ctx;
use crate::procfs;
use crate::report::{Row, fmt_spread, median, num, percentile};
use crate::requests::{fixed_token_source, pardot_client, password_token, raw_get};
use crate::rounds;
use crate::servers::{ServerProcess, V5_PATH};

/// The two clients of the rows, aimed at `server`'s v5 list with one token from its password
/// grant.
pub struct BenchClient {
    /// `PardotClient` with a cached token.
    pub ours: PardotClient,
    /// Plain `reqwest`.
    pub raw: reqwest::Client,
    /// The v5 list's full URL, for `raw`.
    pub raw_url: String,
    /// The token `raw` sends.
    pub raw_token: String,
}

/// Both clients for `server` (also what `profile client` samples).
pub async fn bench_client(server: &ServerProcess) -> Result<BenchClient> {
    let url = server.url();
    let secret = password_token(server.addr).await?;
    let source = fixed_token_source(secret.clone(), "api pardot_api", None);
    Ok(BenchClient {
        ours: pardot_client(Arc::new(source), &url)?,
        raw: reqwest::Client::builder().no_proxy().build()?,
        raw_url: format!("{url}{V5_PATH}"),
        raw_token: secret,
    })
}

impl BenchClient {
    /// One GET through `PardotClient`: the body's length.
    pub async fn ours_once(&self) -> Result<usize> {
        let r = self.ours.get(V5_PATH).send().await?;
        ensure!(r.status() == 200, "PardotClient got {}", r.status());
        Ok(r.into_bytes().len())
    }

    /// One GET through raw `reqwest`: the body's length.
    pub async fn raw_once(&self) -> Result<usize> {
        Ok(raw_get(&self.raw, &self.raw_url, &self.raw_token)
            .await?
            .len())
    }

    async fn once(&self, ours: bool) -> Result<usize> {
        if ours {
            self.ours_once().await
        } else {
            self.raw_once().await
        }
    }
}

/// Its two rows: time per request, and the client process's CPU per request.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    eprintln!("bench: PardotClient vs raw reqwest");
    let server = ServerProcess::start(crate::servers::Kind::Ours, &ctx.bodies_dir, 200)?;
    let client = bench_client(&server).await?;
    ensure!(
        client.ours_once().await? == client.raw_once().await?,
        "different bodies"
    );
    for _ in 0..50 {
        client.ours_once().await?;
        client.raw_once().await?;
    }
    let me = std::process::id();
    let n = ctx.plan.overhead_requests;
    // Time per request: one request of each in turn, each timed on its own, compared by their
    // medians. Load on a shared 2-core machine swings from one 100 ms to the next (blocks of
    // 200 requests differed by up to 1.7×); request-by-request alternation puts both sides
    // under the same swings, and the median ignores the stalls.
    let pairs = ctx.plan.overhead_rounds * n;
    let (ours_each, raw_each) = rounds::ours_and_baseline(pairs, async |ours| {
        let t0 = Instant::now();
        client.once(ours).await?;
        Ok(t0.elapsed().as_secs_f64() * 1e6)
    })
    .await?;
    // CPU per request: the process's CPU time over blocks of one kind (it cannot be read per
    // request), in short blocks, compared per round.
    let (ours_blocks, raw_blocks) =
        rounds::ours_and_baseline(ctx.plan.overhead_rounds, async |ours| {
            let (c0, t0) = (procfs::cpu_time(me)?, Instant::now());
            for _ in 0..n {
                client.once(ours).await?;
            }
            let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
            let cpu = (procfs::cpu_time(me)? - c0).as_secs_f64() * 1e6 / n as f64;
            Ok((us, cpu))
        })
        .await?;
    let (ours_us, ours_cpu): (Vec<f64>, Vec<f64>) = ours_blocks.into_iter().unzip();
    let (raw_us, raw_cpu): (Vec<f64>, Vec<f64>) = raw_blocks.into_iter().unzip();
    let cpu_ratios: Vec<f64> = ours_cpu.iter().zip(&raw_cpu).map(|(o, r)| o / r).collect();
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (ours_sorted, raw_sorted) = (sorted(&ours_each), sorted(&raw_each));
    let (om, bm) = (percentile(&ours_sorted, 0.5), percentile(&raw_sorted, 0.5));
    let (o90, b90) = (percentile(&ours_sorted, 0.9), percentile(&raw_sorted, 0.9));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (oc, bc) = (median(&ours_cpu), median(&raw_cpu));
    Ok(vec![
        Row::new(
            "authenticated GET via PardotClient (cached token), time/request",
            "µs/request",
            om,
            format!("median {} µs (p90 {})", num(om), num(o90)),
        )
        .against(
            bm,
            format!("raw reqwest median {} µs (p90 {})", num(bm), num(b90)),
        )
        .target(
            "≤ 1.05× (medians, alternating requests)",
            Some(om / bm <= 1.05),
        )
        .details(json!({
            "requests_each": pairs,
            "ours_median_us": om,
            "raw_median_us": bm,
            "ours_p90_us": o90,
            "raw_p90_us": b90,
            "ours_mean_us": mean(&ours_each),
            "raw_mean_us": mean(&raw_each),
            "block_ours_us": ours_us,
            "block_raw_us": raw_us,
            "block_requests": n,
            "sequential": true,
        })),
        Row::new(
            "  same, client process CPU/request (incl. the load loop)",
            "µs CPU/request",
            oc,
            fmt_spread(&ours_cpu, "µs"),
        )
        .against(bc, format!("raw reqwest {}", fmt_spread(&raw_cpu, "µs")))
        .ratio(median(&cpu_ratios))
        .details(json!({
            "ours_cpu_us": ours_cpu,
            "raw_cpu_us": raw_cpu,
            "paired_ratios": cpu_ratios,
            "ratio_of_medians": oc / bc,
        })),
    ])
}
