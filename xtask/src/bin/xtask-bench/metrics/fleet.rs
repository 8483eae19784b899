//! The fleet rows: the time the Redis governor adds to a request over the process governor
//! (one request at a time, alternating, loopback Redis), and the throughput of a fleet held to
//! Pardot's 5 requests in flight by the Redis governor while the mock answers in 20 ms (the
//! ceiling: 5 / 20 ms = 250 requests/s).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use pardot_http::store::RedisConnection;
use pardot_http::{DEFAULT_PERMIT_TTL, Governor, PARDOT_CONCURRENCY_LIMIT, PardotClient};
use pardot_mock::fixtures;
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, num, percentile};
use crate::requests::{fixed_token_source, password_token};
use crate::rounds;
use crate::servers::{ServerProcess, V5_PATH};

use pardot_http::testing::RedisServer;

const ADDED_METRIC: &str = "Redis governor vs process governor, added time/request (p50)";
const ADDED_TARGET: &str = "p50 ≤ 0.3 ms added";
const THROUGHPUT_METRIC: &str = "fleet throughput, Redis governor, mock answering in 20 ms";
const THROUGHPUT_TARGET: &str = "≥ 90% of 250 req/s (5 in flight / 20 ms)";

/// The mock's answer time in the throughput row.
const MOCK_LATENCY_MS: u64 = 20;
/// The fleet of the throughput row: clients with their own Redis connection and governor
/// (as processes would have), each with more callers than the limit.
const FLEET_CLIENTS: usize = 4;
const CALLERS_PER_CLIENT: usize = 10;

/// Both rows (not measured, with the reason, when `redis-server` is missing).
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    if !RedisServer::available() {
        let reason = RedisServer::missing_reason();
        return Ok(vec![
            Row::not_measured(ADDED_METRIC, ADDED_TARGET, &reason),
            Row::not_measured(THROUGHPUT_METRIC, THROUGHPUT_TARGET, &reason),
        ]);
    }
    eprintln!("bench: Redis governor vs process governor; fleet throughput");
    let redis = RedisServer::start().context("redis-server did not start")?;
    let server = ServerProcess::start(crate::servers::Kind::Ours, &ctx.bodies_dir, 200)?;
    let token = password_token(server.addr).await?;
    Ok(vec![
        added_time(ctx, &server, &redis, &token).await?,
        throughput(ctx, &server, &redis, &token).await?,
    ])
}

/// A client of `server`'s v5 list with a fixed token, held by `governor`.
fn client(server: &ServerProcess, token: &str, governor: Governor) -> Result<PardotClient> {
    let source = fixed_token_source(token.to_owned(), "api pardot_api", None);
    Ok(PardotClient::builder(
        Arc::new(source),
        pardot_auth_core::PardotHost::custom(&server.url())?,
    )
    .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
    .governor(governor)
    .no_proxy()
    .build()?)
}

async fn redis_governor(redis: &RedisServer, prefix: &str) -> Result<Governor> {
    let connection = RedisConnection::open(&redis.url()).await?;
    Ok(Governor::redis(
        connection,
        prefix,
        fixtures::BUSINESS_UNIT_ID,
        PARDOT_CONCURRENCY_LIMIT,
        DEFAULT_PERMIT_TTL,
    )?)
}

async fn get(client: &PardotClient) -> Result<()> {
    let r = client.get(V5_PATH).send().await?;
    ensure!(r.status() == 200, "PardotClient got {}", r.status());
    Ok(())
}

/// One request at a time through each client in turn; p50 and p99 of each side.
async fn added_time(
    ctx: &Ctx,
    server: &ServerProcess,
    redis: &RedisServer,
    token: &str,
) -> Result<Row> {
    let ours = client(server, token, redis_governor(redis, "bench-added").await?)?;
    let baseline = client(server, token, Governor::new(Some(PARDOT_CONCURRENCY_LIMIT)))?;
    for _ in 0..50 {
        get(&ours).await?;
        get(&baseline).await?;
    }
    let pairs = ctx.plan.overhead_rounds * ctx.plan.overhead_requests;
    let (ours_us, base_us) = rounds::ours_and_baseline(pairs, async |is_ours| {
        let t0 = Instant::now();
        get(if is_ours { &ours } else { &baseline }).await?;
        Ok(t0.elapsed().as_secs_f64() * 1e6)
    })
    .await?;
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let (ours_us, base_us) = (sorted(ours_us), sorted(base_us));
    let (o50, b50) = (percentile(&ours_us, 0.5), percentile(&base_us, 0.5));
    let (o99, b99) = (percentile(&ours_us, 0.99), percentile(&base_us, 0.99));
    let (added50, added99) = ((o50 - b50) / 1000.0, (o99 - b99) / 1000.0);
    Ok(Row::new(
        ADDED_METRIC,
        "ms/request",
        added50,
        format!(
            "+{} ms p50, +{} ms p99 (Redis {} / {} µs)",
            num(added50),
            num(added99),
            num(o50),
            num(o99)
        ),
    )
    .beside(format!("process governor {} / {} µs", num(b50), num(b99)))
    .target(ADDED_TARGET, Some(added50 <= 0.3))
    .details(json!({
        "requests_each": pairs,
        "redis_p50_us": o50,
        "redis_p99_us": o99,
        "process_p50_us": b50,
        "process_p99_us": b99,
        "added_p50_ms": added50,
        "added_p99_ms": added99,
        "sequential": true,
        "redis": "loopback redis-server, persistence off",
    })))
}

/// Sets the mock's answer time for the Pardot routes (0 removes it).
async fn mock_latency(server: &ServerProcess, millis: u64) -> Result<()> {
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .post(format!("{}/__mock/faults", server.url()))
        .json(&json!({"kind": "latency", "millis": millis, "route": "pardot"}))
        .send()
        .await?;
    ensure!(
        answer.status().is_success(),
        "the latency fault: {}",
        answer.status()
    );
    Ok(())
}

/// The peak of requests in flight the mock saw for the business unit.
async fn mock_peak(server: &ServerProcess) -> Result<u64> {
    let report: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(format!("{}/__mock/concurrency", server.url()))
        .send()
        .await?
        .json()
        .await?;
    report["business_units"][fixtures::BUSINESS_UNIT_ID]["peak_in_flight"]
        .as_u64()
        .context("no peak in /__mock/concurrency")
}

/// The fleet's requests per second over one timed window of every client's callers.
async fn fleet_window(fleet: &[PardotClient], window: Duration) -> Result<f64> {
    let started = Instant::now();
    let tasks: Vec<_> = fleet
        .iter()
        .flat_map(|client| (0..CALLERS_PER_CLIENT).map(move |_| client.clone()))
        .map(|client| {
            tokio::spawn(async move {
                let mut done = 0u64;
                while started.elapsed() < window {
                    get(&client).await?;
                    done += 1;
                }
                Ok::<_, anyhow::Error>(done)
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

async fn throughput(
    ctx: &Ctx,
    server: &ServerProcess,
    redis: &RedisServer,
    token: &str,
) -> Result<Row> {
    let mut fleet = Vec::with_capacity(FLEET_CLIENTS);
    for _ in 0..FLEET_CLIENTS {
        fleet.push(client(
            server,
            token,
            redis_governor(redis, "bench-fleet").await?,
        )?);
    }
    mock_latency(server, MOCK_LATENCY_MS).await?;
    fleet_window(&fleet, Duration::from_millis(500)).await?;
    let ceiling = PARDOT_CONCURRENCY_LIMIT as f64 * 1000.0 / MOCK_LATENCY_MS as f64;
    // The reference: the same callers in one client with the process governor, which
    // shows what the machine allows at the moment (the timer's rounding, the load).
    let alone = [client(
        server,
        token,
        Governor::new(Some(PARDOT_CONCURRENCY_LIMIT)),
    )?];
    let window = ctx.plan.round_time.max(Duration::from_secs(2));
    let (rates, process_rates) = rounds::ours_and_baseline(ctx.plan.rounds, async |ours| {
        fleet_window(if ours { &fleet } else { &alone }, window).await
    })
    .await?;
    let peak = mock_peak(server).await?;
    mock_latency(server, 0).await?;
    ensure!(
        peak <= PARDOT_CONCURRENCY_LIMIT as u64,
        "the fleet had {peak} requests in flight at once"
    );
    let rate = crate::report::median(&rates);
    Ok(Row::new(
        THROUGHPUT_METRIC,
        "req/s",
        rate,
        format!(
            "{} req/s ({:.0}% of the ceiling), peak {peak} in flight",
            num(rate),
            rate / ceiling * 100.0
        ),
    )
    .beside(format!(
        "ceiling {} req/s; one process-governed client {} req/s",
        num(ceiling),
        num(crate::report::median(&process_rates))
    ))
    .target(THROUGHPUT_TARGET, Some(rate >= 0.9 * ceiling))
    .details(json!({
        "rounds_req_per_s": rates,
        "process_governor_rounds_req_per_s": process_rates,
        "ceiling_req_per_s": ceiling,
        "clients": FLEET_CLIENTS,
        "callers_per_client": CALLERS_PER_CLIENT,
        "clients_are": "PardotClients in one process, each with its own Redis connection and governor",
        "mock_latency_ms": MOCK_LATENCY_MS,
        "peak_in_flight_at_mock": peak,
    })))
}
