//! 1000 callers at once through one client, with a valid token and then with the token
//! expired on the server: token fetches and the latency the refresh adds.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use pardot_auth_core::LoginHost;
use pardot_http::PardotClient;
use pardot_mock::{PardotMock, Route, fixtures};
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, median, num, percentile};
use crate::requests::pardot_client;
use crate::rounds;
use crate::servers::bench_config;

const CALLERS: usize = 1000;
const PATH: &str = "/api/v5/objects/prospects?fields=id,email&limit=20";

/// `CALLERS` requests released at once: their latencies in ms (sorted) and how many failed.
async fn wave(client: &Arc<PardotClient>) -> Result<(Vec<f64>, usize)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS + 1));
    let mut tasks = Vec::with_capacity(CALLERS);
    for _ in 0..CALLERS {
        let (client, barrier) = (client.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let t0 = Instant::now();
            let r = client.get(PATH).send().await;
            (
                t0.elapsed().as_secs_f64() * 1e3,
                r.map(|r| r.status().as_u16()),
            )
        }));
    }
    barrier.wait().await;
    let mut ms = Vec::with_capacity(CALLERS);
    let mut failures = 0;
    for t in tasks {
        let (latency, status) = t.await?;
        if !matches!(status, Ok(200)) {
            failures += 1;
        }
        ms.push(latency);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms, failures))
}

/// One repetition: a wave on a valid token, then one on a token the server expired.
struct Repetition {
    fetches: u64,
    failures: usize,
    valid: Vec<f64>,
    expired: Vec<f64>,
}

/// Its row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    eprintln!("bench: 1000 callers on an expired token");
    let mock = PardotMock::builder()
        .config(bench_config(200))
        .start()
        .await?;
    let url = mock.url();
    let key = sf_oauth::PrivateKey::from_pem(fixtures::CONNECTED_APP_KEY_PEM)?;
    let flow = sf_oauth::JwtBearer::new(
        LoginHost::custom(&url)?,
        fixtures::JWT_CONSUMER_KEY,
        fixtures::INTEGRATION_USERNAME,
        key,
    )
    .with_client(sf_oauth::OAuthClient::builder().no_proxy().build()?);
    let client = Arc::new(pardot_client(Arc::new(flow), &url)?);
    // Warm: one token, one connection pool.
    wave(&client).await?;
    let reps = rounds::repeat(ctx.plan.callers_reps, async || {
        let (valid, valid_failures) = wave(&client).await?;
        mock.expire_all_tokens()?;
        let before = mock.counts().route_total(Route::OAuthToken);
        let (expired, expired_failures) = wave(&client).await?;
        Ok(Repetition {
            fetches: mock.counts().route_total(Route::OAuthToken) - before,
            failures: valid_failures + expired_failures,
            valid,
            expired,
        })
    })
    .await?;
    let each = |f: &dyn Fn(&Repetition) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
    let fetches: Vec<u64> = reps.iter().map(|r| r.fetches).collect();
    let failures: usize = reps.iter().map(|r| r.failures).sum();
    let valid_p50 = each(&|r| percentile(&r.valid, 0.5));
    let valid_p99 = each(&|r| percentile(&r.valid, 0.99));
    let exp_p50 = each(&|r| percentile(&r.expired, 0.5));
    let exp_p99 = each(&|r| percentile(&r.expired, 0.99));
    let add50: Vec<f64> = exp_p50.iter().zip(&valid_p50).map(|(e, v)| e - v).collect();
    let add99: Vec<f64> = exp_p99.iter().zip(&valid_p99).map(|(e, v)| e - v).collect();
    let all_one = fetches.iter().all(|f| *f == 1);
    Ok(Row::new(
        "1000 concurrent callers on an expired token",
        "token fetches",
        fetches.iter().copied().max().unwrap_or(0) as f64,
        format!(
            "token fetches per wave {fetches:?}; added p50 {} ms, p99 {} ms; {failures} failed",
            num(median(&add50)),
            num(median(&add99))
        ),
    )
    .beside(format!(
        "valid token: p50 {} ms, p99 {} ms",
        num(median(&valid_p50)),
        num(median(&valid_p99))
    ))
    .target(
        "exactly 1 token fetch; report added p50/p99",
        Some(all_one && failures == 0),
    )
    .details(json!({
        "fetches_per_wave": fetches,
        "added_p50_ms": add50, "added_p99_ms": add99,
        "valid_p50_ms": valid_p50, "valid_p99_ms": valid_p99,
        "expired_p50_ms": exp_p50, "expired_p99_ms": exp_p99,
        "failed_requests": failures,
    })))
}
