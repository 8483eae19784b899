//! The v3/v4 objects at volume: records per second through `PardotClient` paging 100,000
//! prospects by id (v4 `do/query`, `output=bulk`, 200 a page, the bulk-pull advice), and the
//! RSS of a mock with 100,000 prospects and 1,000,000 visitor activities from `[generate]`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use pardot_http::PardotClient;
use serde_json::{Value, json};

use crate::context::{Ctx, MB};
use crate::procfs;
use crate::report::{Row, fmt_spread, median, num};
use crate::requests::{fixed_token_source, pardot_client, password_token};
use crate::rounds;
use crate::servers::{Kind, ServerProcess};

const PROSPECTS: usize = 100_000;
const ACTIVITIES: usize = 1_000_000;
const PAGE: usize = 200;

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    eprintln!("bench: v3/v4 objects at volume");
    Ok(vec![paging(ctx).await?, rss(ctx).await?])
}

/// A `PardotClient` on `server` with a token from its password grant.
async fn client(server: &ServerProcess) -> Result<PardotClient> {
    let secret = password_token(server.addr).await?;
    let source = fixed_token_source(secret, "api pardot_api", None);
    pardot_client(Arc::new(source), &server.url())
}

/// Pages every prospect by id: how many were seen.
async fn page_all(client: &PardotClient) -> Result<usize> {
    let (mut seen, mut last) = (0, 0_u64);
    loop {
        let response = client
            .get("/api/prospect/version/4/do/query")
            .query([
                ("format", "json"),
                ("output", "bulk"),
                ("sort_by", "id"),
                ("sort_order", "ascending"),
            ])
            .query([("id_greater_than", last.to_string())])
            .send()
            .await?;
        ensure!(
            response.status() == 200,
            "v4 query answered {}",
            response.status()
        );
        let page: Value = response.json()?;
        let ids: Vec<u64> = match &page["result"]["prospect"] {
            Value::Array(items) => items.iter().filter_map(|p| p["id"].as_u64()).collect(),
            Value::Object(one) => one.get("id").and_then(Value::as_u64).into_iter().collect(),
            _ => Vec::new(),
        };
        seen += ids.len();
        match ids.last() {
            Some(&id) if ids.len() == PAGE => last = id,
            _ => return Ok(seen),
        }
    }
}

async fn paging(ctx: &Ctx) -> Result<Row> {
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, PROSPECTS)?;
    let client = client(&server).await?;
    // A first pass warms the connection and the mock's pages.
    ensure!(
        page_all(&client).await? == PROSPECTS,
        "a pass missed prospects"
    );
    let rates = rounds::repeat(ctx.plan.rounds, async || {
        let start = Instant::now();
        let seen = page_all(&client).await?;
        ensure!(seen == PROSPECTS, "a pass saw {seen} prospects");
        Ok(seen as f64 / start.elapsed().as_secs_f64())
    })
    .await?;
    let rate = median(&rates);
    Ok(Row::new(
        "v4 prospect query, output=bulk, paged by id through PardotClient (100k prospects)",
        "records/s",
        rate,
        fmt_spread(&rates, "records/s"),
    )
    .target("≥ 20000 records/s", Some(rate >= 20_000.0))
    .details(json!({ "prospects": PROSPECTS, "page": PAGE, "records_per_s": rates })))
}

async fn rss(ctx: &Ctx) -> Result<Row> {
    let counts = format!("{PROSPECTS},{ACTIVITIES}");
    let server =
        ServerProcess::start_with(Kind::Ours, &ctx.bodies_dir, 0, &["--generate", &counts])?;
    let client = client(&server).await?;
    // One page of activities and one of prospects, so the stores have answered.
    for object in ["visitorActivity", "prospect"] {
        let response = client
            .get(&format!("/api/{object}/version/4/do/query"))
            .query([("format", "json"), ("output", "bulk"), ("limit", "200")])
            .send()
            .await
            .with_context(|| format!("{object} query"))?;
        ensure!(
            response.status() == 200,
            "{object} query answered {}",
            response.status()
        );
    }
    let rss = procfs::rss_bytes(server.pid())? as f64 / MB;
    Ok(Row::new(
        "RSS: mock with 100k prospects + 1M visitor activities ([generate])",
        "MB",
        rss,
        format!("{} MB", num(rss)),
    )
    .target("≤ 150 MB", Some(rss <= 150.0))
    .details(json!({ "prospects": PROSPECTS, "visitor_activities": ACTIVITIES, "rss_mb": rss })))
}
