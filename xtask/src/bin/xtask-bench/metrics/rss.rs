//! Resident memory: a mock process holding 100k prospects, and a client process holding 10k
//! cached tokens (`xtask-bench hold-tokens`, a child of the run).

use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use hyper::StatusCode;
use pardot_auth_core::TokenSource;
use pardot_http::CachedTokenSource;
use serde_json::json;

use crate::context::{Ctx, MB};
use crate::load;
use crate::procfs;
use crate::report::{Row, num};
use crate::requests::{fixed_token_source, password_token, v5_template};
use crate::servers::{Kind, ServerProcess};

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    eprintln!("bench: resident memory");
    Ok(vec![prospects(ctx).await?, tokens()?])
}

/// RSS in MB of a mock process holding `prospects` prospects, after it answered a v5 page.
async fn mock_rss_mb(ctx: &Ctx, prospects: usize) -> Result<f64> {
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, prospects)?;
    let token = password_token(server.addr).await?;
    let (status, _, _) = load::once(server.addr, &v5_template(&token)).await?;
    ensure!(status == StatusCode::OK, "v5 list answered {status}");
    Ok(procfs::rss_bytes(server.pid())? as f64 / MB)
}

async fn prospects(ctx: &Ctx) -> Result<Row> {
    let n = 100_000;
    let rss = mock_rss_mb(ctx, n).await?;
    let small_rss = mock_rss_mb(ctx, 200).await?;
    Ok(rss_row(
        "RSS: mock with 100k prospects",
        rss,
        50.0,
        format!("(200 prospects: {} MB)", num(small_rss)),
        json!({ "prospects": n, "rss_mb": rss, "rss_mb_200_prospects": small_rss }),
    ))
}

/// A row of `rss` MB against its target of at most `limit_mb`, with a point of reference
/// beside it.
fn rss_row(
    metric: &str,
    rss: f64,
    limit_mb: f64,
    reference: String,
    details: serde_json::Value,
) -> Row {
    Row::new(metric, "MB", rss, format!("{} MB", num(rss)))
        .beside(reference)
        .target(&format!("≤ {limit_mb} MB"), Some(rss <= limit_mb))
        .details(details)
}

fn tokens() -> Result<Row> {
    let n = 10_000;
    let out = Command::new(std::env::current_exe()?)
        .args(["hold-tokens", &n.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    ensure!(out.status.success(), "hold-tokens failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> Result<f64> {
        text.split_whitespace()
            .skip_while(|w| *w != name)
            .nth(1)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no {name} in {text:?}"))
    };
    let rss = field("rss")? / MB;
    let before = field("before")? / MB;
    Ok(rss_row(
        "RSS: client holding 10k cached tokens",
        rss,
        20.0,
        format!("(same process before: {} MB)", num(before)),
        json!({ "tokens": n, "rss_mb": rss, "rss_mb_before": before }),
    ))
}

/// `xtask-bench hold-tokens N`: N `CachedTokenSource`s sharing one memory store, each holding
/// a Salesforce-shaped token; prints `rss BYTES before BYTES`.
pub async fn hold_tokens(args: &[String]) -> Result<()> {
    let n: usize = args.first().context("hold-tokens N")?.parse()?;
    let me = std::process::id();
    let before = procfs::rss_bytes(me)?;
    let store: Arc<dyn pardot_http::store::TokenStore> =
        Arc::new(pardot_http::store::MemoryStore::new());
    let instance = url::Url::parse("https://acme.my.salesforce.com")?;
    let mut caches = Vec::with_capacity(n);
    for i in 0..n {
        // 15-char org id + "!AQ" + 94 characters, like the real thing.
        let secret = format!("00D5g00000AcmeP!AQ{:0>94}", i);
        let source = fixed_token_source(
            secret,
            "api pardot_api refresh_token",
            Some(instance.clone()),
        );
        let cache = CachedTokenSource::builder(Arc::new(source))
            .store(store.clone())
            .store_key(format!("tenant-{i}"))
            .build();
        cache.token().await?;
        caches.push(cache);
    }
    let rss = procfs::rss_bytes(me)?;
    ensure!(
        caches.iter().all(|c| c.cached().is_some()),
        "a cache holds no token"
    );
    println!("rss {rss} before {before} tokens {n}");
    Ok(())
}
