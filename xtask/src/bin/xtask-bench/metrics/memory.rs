//! RSS of ours and of wiremock sampled during sustained v5 load, each in a fresh process.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::context::{CONCURRENCY, Ctx, MB};
use crate::load::{self, Spec};
use crate::procfs;
use crate::report::{Row, num};
use crate::requests::{password_token, v5_template};
use crate::rounds;
use crate::servers::{Kind, ServerProcess};

/// (seconds since the load started, RSS in MB) samples of one server, and the requests it
/// answered.
struct Series {
    samples: Vec<(f64, f64)>,
    requests: u64,
}

impl Series {
    fn last(&self) -> f64 {
        self.samples.last().map_or(f64::NAN, |x| x.1)
    }

    /// "Flat": from a third of the way in to the end, growth below 2 MB (the journal ring and
    /// the token map are bounded; wiremock keeps every request).
    fn growth(&self) -> f64 {
        self.last() - self.samples[self.samples.len() / 3].1
    }

    fn text(&self) -> String {
        format!(
            "{} MB (+{} MB over the last ⅔; {} req)",
            num(self.last()),
            num(self.growth()),
            self.requests
        )
    }
}

/// Its row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    eprintln!("bench: memory under sustained load");
    let sides = [Kind::Ours, Kind::Wiremock];
    let mut series = rounds::alternate(1, &sides, async |_, kind| {
        let server = ServerProcess::start(kind, &ctx.bodies_dir, 200)?;
        let token = if kind == Kind::Ours {
            password_token(server.addr).await?
        } else {
            ctx.sample_token.clone()
        };
        let template = v5_template(&token);
        let chunk = ctx.plan.memory_time / ctx.plan.memory_samples;
        let rss_mb = || Ok::<_, anyhow::Error>(procfs::rss_bytes(server.pid())? as f64 / MB);
        let mut samples = vec![(0.0, rss_mb()?)];
        let mut requests = 0;
        let started = Instant::now();
        for _ in 0..ctx.plan.memory_samples {
            let spec = Spec {
                concurrency: CONCURRENCY,
                max_requests: u64::MAX,
                max_time: chunk,
            };
            requests += load::run(server.addr, &template, spec).await?.ok;
            samples.push((started.elapsed().as_secs_f64(), rss_mb()?));
        }
        eprintln!(
            "  {:8}: {requests} requests, RSS (s, MB) {samples:?}",
            kind.name()
        );
        Ok(Series { samples, requests })
    })
    .await?
    .into_iter()
    .flatten();
    let (Some(ours), Some(base)) = (series.next(), series.next()) else {
        anyhow::bail!("the memory rounds measured no server");
    };
    Ok(Row::new(
        format!(
            "mock RSS after {} s sustained v5 load",
            ctx.plan.memory_time.as_secs()
        ),
        "MB",
        ours.last(),
        ours.text(),
    )
    .against(base.last(), format!("wiremock {}", base.text()))
    .target(
        "flat (< 2 MB growth over the last ⅔)",
        Some(ours.growth() < 2.0),
    )
    .details(json!({
        "ours_rss_mb_by_second": ours.samples,
        "wiremock_rss_mb_by_second": base.samples,
        "ours_requests": ours.requests,
        "wiremock_requests": base.requests,
    })))
}
