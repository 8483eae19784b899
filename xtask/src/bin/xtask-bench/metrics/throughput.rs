//! The throughput rows' A/B/C rounds: ours, wiremock and bare hyper, each round a fresh server
//! process of each, the same closed-loop load on each, its throughput and the server's CPU
//! time per request; ours compared with each baseline by the medians.

use anyhow::Result;
use serde_json::json;

use crate::context::{CONCURRENCY, Ctx};
use crate::load::{self, Outcome, Spec, Template};
use crate::procfs;
use crate::report::{Row, fmt_spread, median, num};
use crate::requests::password_token;
use crate::rounds;
use crate::servers::{Kind, ServerProcess};

const KINDS: [Kind; 3] = [Kind::Ours, Kind::Wiremock, Kind::Hyper];

/// One throughput metric: what is sent, and what ours must reach against each baseline.
pub struct Load<'a> {
    /// The row's name (" vs BASELINE" is added).
    pub metric: &'a str,
    /// The warm-up requests, given the token (see `ours_needs_token`).
    pub warm: &'a dyn Fn(&str) -> Template,
    /// The timed requests, given the token.
    pub timed: &'a dyn Fn(&str) -> Template,
    /// Whether our server must be sent a token of its own (the baselines get the sample).
    pub ours_needs_token: bool,
    /// At most this many timed requests to ours (a pool of single-use requests).
    pub ours_max_requests: u64,
    /// Per baseline: the least ratio ours / baseline (None: an information row) and the
    /// target as printed.
    pub targets: &'a [(Kind, Option<f64>, &'a str)],
}

/// The targets of a request served by both baselines: at least as fast as wiremock, bare
/// hyper for information.
pub const WIREMOCK_TARGET: &[(Kind, Option<f64>, &str)] = &[
    (Kind::Wiremock, Some(1.0), "≥ 1× wiremock"),
    (Kind::Hyper, None, "info"),
];

/// A side's rounds, summed up.
#[derive(Debug, Default)]
pub struct Side {
    throughput: Vec<f64>,
    cpu_us: Vec<f64>,
    requests: u64,
    failed: u64,
    first_failure: Option<String>,
}

impl Side {
    /// The rounds of one side, as [`measure_round`] returns them.
    pub fn of(rounds: &[(Outcome, f64)]) -> Self {
        let mut side = Self::default();
        for (outcome, cpu_us) in rounds {
            side.add(outcome, *cpu_us);
        }
        side
    }

    /// The median of the rounds' CPU µs per request.
    pub fn cpu_us_median(&self) -> f64 {
        median(&self.cpu_us)
    }

    /// Requests that failed, in all rounds.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    fn add(&mut self, outcome: &Outcome, cpu_us: f64) {
        self.throughput.push(outcome.throughput());
        self.cpu_us.push(cpu_us);
        self.requests += outcome.ok;
        self.failed += outcome.failed;
        if self.first_failure.is_none() {
            self.first_failure = outcome.first_failure.clone();
        }
    }

    fn text(&self) -> String {
        format!(
            "{}; CPU {} µs/req",
            fmt_spread(&self.throughput, "req/s"),
            num(median(&self.cpu_us))
        )
    }

    /// Every round's figures, for the report's details.
    pub fn details(&self) -> serde_json::Value {
        json!({
            "throughput_per_round": self.throughput,
            "cpu_us_per_request_per_round": self.cpu_us,
            "cpu_us_per_request_median": median(&self.cpu_us),
            "requests": self.requests,
            "failed": self.failed,
            "first_failure": self.first_failure,
        })
    }
}

/// One round of one side: a fresh `kind` server, `warm` sent `ctx.plan.warmup` times, then
/// `timed` for the round's time or `max_requests` requests, whichever ends first; the outcome
/// and the server's CPU µs per request.
pub async fn measure_round(
    ctx: &Ctx,
    round: usize,
    kind: Kind,
    warm: impl FnOnce(&str) -> Template,
    timed: impl FnOnce(&str) -> Template,
    needs_token: bool,
    max_requests: u64,
) -> Result<(Outcome, f64)> {
    let server = ServerProcess::start(kind, &ctx.bodies_dir, 200)?;
    let token = if needs_token {
        password_token(server.addr).await?
    } else {
        ctx.sample_token.clone()
    };
    let spec = |max_requests| Spec {
        concurrency: CONCURRENCY,
        max_requests,
        max_time: ctx.plan.round_time,
    };
    load::run(server.addr, &warm(&token), spec(ctx.plan.warmup)).await?;
    let cpu0 = procfs::cpu_time(server.pid())?;
    let outcome = load::run(server.addr, &timed(&token), spec(max_requests)).await?;
    let cpu = procfs::cpu_time(server.pid())? - cpu0;
    let cpu_us = cpu.as_secs_f64() * 1e6 / outcome.ok.max(1) as f64;
    eprintln!(
        "  round {} {:8}: {:>9} req/s, {:>7} µs CPU/req, {} ok, {} failed",
        round + 1,
        kind.name(),
        num(outcome.throughput()),
        num(cpu_us),
        outcome.ok,
        outcome.failed
    );
    Ok((outcome, cpu_us))
}

/// Measures `load` in A/B/C rounds; one row per target.
pub async fn rows(ctx: &Ctx, load: &Load<'_>) -> Result<Vec<Row>> {
    eprintln!("bench: {}", load.metric);
    let rounds = rounds::alternate(ctx.plan.rounds, &KINDS, async |round, kind| {
        let ours = kind == Kind::Ours;
        let max = if ours {
            load.ours_max_requests
        } else {
            u64::MAX
        };
        let needs_token = ours && load.ours_needs_token;
        measure_round(ctx, round, kind, load.warm, load.timed, needs_token, max).await
    })
    .await?;
    let sides: Vec<Side> = rounds.iter().map(|r| Side::of(r)).collect();
    let ours = &sides[0];
    let mut rows = Vec::new();
    for (kind, least_ratio, target_text) in load.targets {
        let base = &sides[KINDS.iter().position(|k| k == kind).unwrap_or(1)];
        let ratio = median(&ours.throughput) / median(&base.throughput);
        let failed = ours.failed + base.failed;
        let met = least_ratio.map(|least| ratio >= least && failed == 0);
        rows.push(
            Row::new(
                format!("{} vs {}", load.metric, kind.name()),
                "req/s",
                median(&ours.throughput),
                ours.text(),
            )
            .against(median(&base.throughput), base.text())
            .target(target_text, met)
            .details(json!({
                "ours": ours.details(),
                "baseline": base.details(),
                "cpu_ratio_ours_over_baseline": median(&ours.cpu_us) / median(&base.cpu_us),
                "concurrency": CONCURRENCY,
            })),
        );
    }
    Ok(rows)
}
