//! `xtask-bench run`: builds what every metric shares (`context.rs`), runs the metric groups
//! in order, and writes the table, `results.json` and, for a full run, the day's file in
//! `docs/bench/`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Result, ensure};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::Options;
use crate::context::{CONCURRENCY, Ctx, Plan};
use crate::history;
use crate::load::{self, Template};
use crate::metrics;
use crate::report;
use crate::requests::{
    jwt_template, password_template, password_token, sign_pool, v4_query_template, v5_template,
};
use crate::servers::{Bodies, Kind, ServerProcess};

/// `xtask-bench run`: all metrics (or the `--only` groups), the table, `results.json`, and for
/// a full run the day's file in `docs/bench/`.
pub async fn run(opts: Options) -> Result<()> {
    let started = Instant::now();
    let out_dir = opts.root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let plan = Plan::new(opts.quick);
    let wanted = |group: &str| opts.only.is_empty() || opts.only.iter().any(|g| g == group);

    // The JWT rows need the whole pool; the others only one assertion to capture the bodies.
    let pool_size = if wanted("jwt") || wanted("rsa") {
        plan.jwt_pool + 2 * plan.warmup as usize
    } else {
        plan.warmup as usize + 1
    };
    eprintln!("bench: signing {pool_size} JWT assertions before any timed window");
    let pool = sign_pool(pool_size).await?;
    let warm_jwt = Arc::new(pool[..plan.warmup as usize].to_vec());
    let timed_jwt = Arc::new(pool[plan.warmup as usize..].to_vec());

    eprintln!("bench: capturing the mock's answers for the static baselines");
    let bodies_dir = out_dir.join("bodies");
    let sample_token = capture_bodies(&bodies_dir, &warm_jwt[0]).await?;
    let groups: Vec<&str> = metrics::GROUPS
        .into_iter()
        .filter(|group| wanted(group))
        .collect();
    let ctx = Ctx {
        opts,
        plan,
        bodies_dir,
        sample_token,
        warm_jwt,
        timed_jwt,
    };
    let mut rows = Vec::new();
    for group in groups {
        rows.extend(metrics::measure(group, &ctx).await?);
    }
    rows.extend(metrics::jwt_sum_row(&rows));
    println!();
    report::print_table(&rows);
    let full = ctx.opts.only.is_empty();
    let json_path = out_dir.join(if full {
        "results.json"
    } else {
        "results-partial.json"
    });
    let context = json!({
        "date_unix": pardot_auth_core::clock::unix_seconds(SystemTime::now()),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "concurrency": CONCURRENCY,
        "rounds": ctx.plan.rounds,
        "round_seconds": ctx.plan.round_time.as_secs_f64(),
        "quick": ctx.opts.quick,
        "only": ctx.opts.only,
        "wall_seconds": started.elapsed().as_secs_f64(),
    });
    report::write_json(&json_path, &rows, context.clone())?;
    println!(
        "\nwrote {} ({} s in all)",
        json_path.display(),
        started.elapsed().as_secs()
    );
    // Only whole runs with the real plan are kept: a `--quick` run's numbers are not the bench's.
    if full && !ctx.opts.quick {
        let kept = history::keep(&ctx.opts.root, &rows, context)?;
        println!("kept this run as {}", kept.display());
    }
    Ok(())
}

/// Starts our mock once and keeps its answers as the baselines' static bodies in `dir`;
/// returns a token of the right shape for the baselines' requests.
async fn capture_bodies(dir: &std::path::Path, one_jwt: &Bytes) -> Result<String> {
    let server = ServerProcess::start(Kind::Ours, dir, 200)?;
    let token = password_token(server.addr).await?;
    let grab = |t: Template| async move {
        let (status, ctype, body) = load::once(server.addr, &t).await?;
        ensure!(
            status == StatusCode::OK,
            "capture: {} answered {status}",
            t.path
        );
        anyhow::Ok((ctype, body))
    };
    let bodies = Bodies {
        v5: grab(v5_template(&token)).await?,
        password: grab(password_template()).await?,
        jwt: grab(jwt_template(Arc::new(vec![one_jwt.clone()]))).await?,
        v4_json: grab(v4_query_template(&token, "json")).await?,
        v4_xml: grab(v4_query_template(&token, "xml")).await?,
    };
    let v: Value = serde_json::from_slice(&bodies.v5.1)?;
    ensure!(
        v["values"].as_array().map(Vec::len) == Some(200),
        "the v5 list does not hold 200 prospects"
    );
    let v4: Value = serde_json::from_slice(&bodies.v4_json.1)?;
    ensure!(
        v4["result"]["prospect"].as_array().map(Vec::len) == Some(200),
        "the v4 query page does not hold 200 prospects"
    );
    eprintln!(
        "bench: bodies v5 {} B, password token {} B, JWT token {} B, v4 JSON {} B, v4 XML {} B",
        bodies.v5.1.len(),
        bodies.password.1.len(),
        bodies.jwt.1.len(),
        bodies.v4_json.1.len(),
        bodies.v4_xml.1.len()
    );
    bodies.save(dir)?;
    Ok(token)
}
