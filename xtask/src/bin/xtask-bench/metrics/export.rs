//! The v5 Export API at volume: 1,000,000 generated visitor activities exported through
//! `PardotClient::export` (create, poll, download every file, parse every row), in records
//! per second, and how much the mock's RSS grows while it writes them (the mock streams each
//! file a page of records at a time, so it must not grow by the size of the export).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use pardot_http::{ExportPolling, ExportRequest, PardotClient};
use serde_json::json;

use crate::context::{Ctx, MB};
use crate::procfs;
use crate::report::{Row, fmt_spread, median, num};
use crate::requests::{fixed_token_source, pardot_client, password_token};
use crate::rounds;
use crate::servers::{Kind, ServerProcess};

const ACTIVITIES: usize = 1_000_000;
/// Generated prospects the activities point at.
const PROSPECTS: usize = 1_000;
/// How often the mock's RSS is read during an export.
const RSS_EVERY: Duration = Duration::from_millis(20);

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    eprintln!("bench: v5 export of 1M visitor activities");
    let counts = format!("{PROSPECTS},{ACTIVITIES}");
    // No waiting on the mock: the row measures the export, not the queue.
    let server = ServerProcess::start_with(
        Kind::Ours,
        &ctx.bodies_dir,
        0,
        &["--generate", &counts, "--export-step", "0"],
    )?;
    let secret = password_token(server.addr).await?;
    let source = fixed_token_source(secret, "api pardot_api", None);
    let client = pardot_client(Arc::new(source), &server.url())?;
    // One page of activities first, so the store has answered before the RSS baseline.
    let response = client
        .get("/api/visitorActivity/version/4/do/query")
        .query([("format", "json"), ("output", "bulk"), ("limit", "200")])
        .send()
        .await
        .context("visitorActivity query")?;
    ensure!(
        response.status() == 200,
        "visitorActivity query answered {}",
        response.status()
    );
    let pid = server.pid();
    let before = procfs::rss_bytes(pid)?;
    let peak = Arc::new(AtomicU64::new(before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (peak, sampling) = (Arc::clone(&peak), Arc::clone(&sampling));
        async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok(rss) = procfs::rss_bytes(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(RSS_EVERY).await;
            }
        }
    });
    let rates = rounds::repeat(ctx.plan.rounds.min(3), async || {
        let start = Instant::now();
        let rows = export_all(&client).await?;
        ensure!(rows == ACTIVITIES as u64, "an export held {rows} rows");
        Ok(rows as f64 / start.elapsed().as_secs_f64())
    })
    .await;
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let rates = rates?;
    let growth = peak.load(Ordering::Relaxed).saturating_sub(before) as f64 / MB;
    let before_mb = before as f64 / MB;
    let rate = median(&rates);
    Ok(vec![
        Row::new(
            "v5 export of 1M visitor activities through PardotClient::export (create, poll, download, parse)",
            "records/s",
            rate,
            fmt_spread(&rates, "records/s"),
        )
        .details(json!({ "visitor_activities": ACTIVITIES, "records_per_s": rates })),
        Row::new(
            "mock RSS growth during the 1M-activity exports (streamed CSV)",
            "MB",
            growth,
            format!("{} MB (from {} MB)", num(growth), num(before_mb)),
        )
        .target("< 20 MB", Some(growth < 20.0))
        .details(json!({
            "rss_before_mb": before_mb,
            "rss_peak_mb": before_mb + growth,
            "sampled_every_ms": RSS_EVERY.as_millis(),
        })),
    ])
}

/// Exports every generated activity (all made on 2024-01-01 and 02): the rows handed on.
async fn export_all(client: &PardotClient) -> Result<u64> {
    let request = ExportRequest::new(
        "visitor_activity.filter_by_created_at",
        [
            "id",
            "prospectId",
            "visitorId",
            "type",
            "typeName",
            "createdAt",
        ],
    )
    .argument("createdAfter", "2024-01-01T00:00:00Z")
    .argument("createdBefore", "2024-01-31T00:00:00Z");
    let polling =
        ExportPolling::default().waits(Duration::from_millis(100), Duration::from_secs(1));
    let mut rows = 0_u64;
    let done = client
        .export(&request, &polling, |_| rows += 1)
        .await
        .context("the export")?;
    ensure!(done.rows == rows, "the helper counted {} rows", done.rows);
    Ok(rows)
}
