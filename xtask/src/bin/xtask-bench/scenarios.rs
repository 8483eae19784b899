//! Every metric of the bench issue, each measured side by side with its baseline in one run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use pardot_auth_core::{
    AccessToken, Expiry, LoginHost, PardotHost, Scopes, TokenKind, TokenSource, provide_token_fn,
};
use pardot_http::{CachedTokenSource, PardotClient};
use pardot_mock::{PardotMock, Route, fixtures};
use serde_json::{Value, json};

use crate::Options;
use crate::load::{self, Spec, Template};
use crate::procfs;
use crate::report::{self, Row, fmt_spread, num, spread};
use crate::servers::{Bodies, Kind, ServerProcess, TOKEN_PATH, V5_PATH, bench_config};

const CONCURRENCY: usize = 16;
const KINDS: [Kind; 3] = [Kind::Ours, Kind::Wiremock, Kind::Hyper];
const MB: f64 = 1024.0 * 1024.0;

/// How long things run (full or `--quick`).
struct Plan {
    rounds: usize,
    round_time: Duration,
    warmup: u64,
    jwt_pool: usize,
    memory_time: Duration,
    memory_samples: u32,
    startup_iterations: usize,
    overhead_rounds: usize,
    overhead_requests: usize,
    callers_reps: usize,
    process_runs: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 1,
                round_time: Duration::from_millis(500),
                warmup: 100,
                jwt_pool: 1_500,
                memory_time: Duration::from_secs(3),
                memory_samples: 3,
                startup_iterations: 3,
                overhead_rounds: 2,
                overhead_requests: 200,
                callers_reps: 1,
                process_runs: 1,
            }
        } else {
            Self {
                rounds: 5,
                round_time: Duration::from_secs(2),
                warmup: 400,
                jwt_pool: 8_000,
                memory_time: Duration::from_secs(30),
                memory_samples: 6,
                startup_iterations: 150,
                overhead_rounds: 30,
                overhead_requests: 200,
                callers_reps: 3,
                process_runs: 5,
            }
        }
    }
}

struct Ctx {
    opts: Options,
    plan: Plan,
    bodies_dir: PathBuf,
    out_dir: PathBuf,
}

/// The metric groups `--only` picks from, in the order a run measures them.
pub const GROUPS: [&str; 10] = [
    "v5", "password", "jwt", "rsa", "memory", "startup", "client", "callers", "cli", "rss",
];

/// `xtask-bench run`: all metrics (or the `--only` groups), the table, `results.json`.
pub async fn run(opts: Options) -> Result<()> {
    let started = Instant::now();
    let out_dir = opts.root.join("target/bench");
    let ctx = Ctx {
        plan: Plan::new(opts.quick),
        bodies_dir: out_dir.join("bodies"),
        out_dir,
        opts,
    };
    std::fs::create_dir_all(&ctx.out_dir)?;
    let mut rows = Vec::new();
    let wanted = |group: &str| ctx.opts.only.is_empty() || ctx.opts.only.iter().any(|g| g == group);

    // The JWT rows need the whole pool; the others only one assertion to capture the bodies.
    let pool_size = if wanted("jwt") || wanted("rsa") {
        ctx.plan.jwt_pool + 2 * ctx.plan.warmup as usize
    } else {
        ctx.plan.warmup as usize + 1
    };
    eprintln!("bench: signing {pool_size} JWT assertions before any timed window");
    let pool = sign_pool(pool_size).await?;
    let warm_jwt = Arc::new(pool[..ctx.plan.warmup as usize].to_vec());
    let timed_jwt = Arc::new(pool[ctx.plan.warmup as usize..].to_vec());

    eprintln!("bench: capturing the mock's answers for the static baselines");
    let sample_token = capture_bodies(&ctx, &warm_jwt[0]).await?;

    // Throughput: A/B/C alternating, fresh process each round.
    if wanted("v5") {
        let v5 = |token: &str| v5_template(token);
        rows.extend(
            throughput(
                &ctx,
                "v5 prospects list (200 prospects, all auth checks)",
                &sample_token,
                true,
                &v5,
                &v5,
                u64::MAX,
                &[
                    (Kind::Wiremock, 3.0, "≥ 3× wiremock"),
                    (Kind::Hyper, 0.85, "≥ 0.85× hyper"),
                ],
            )
            .await?,
        );
    }
    if wanted("password") {
        let password = |_: &str| password_template();
        rows.extend(
            throughput(
                &ctx,
                "token endpoint, password grant",
                &sample_token,
                false,
                &password,
                &password,
                u64::MAX,
                &[
                    (Kind::Wiremock, 2.0, "≥ 2× wiremock"),
                    (Kind::Hyper, f64::NAN, "info"),
                ],
            )
            .await?,
        );
    }
    if wanted("jwt") {
        let (warm, timed) = (warm_jwt.clone(), timed_jwt.clone());
        let jwt_warm = move |_: &str| Template::post_form(TOKEN_PATH, warm.clone());
        let jwt_timed = move |_: &str| Template::post_form(TOKEN_PATH, timed.clone());
        rows.extend(
            throughput(
                &ctx,
                "JWT bearer grant, fresh pre-signed assertion per request, RS256 verify",
                &sample_token,
                false,
                &jwt_warm,
                &jwt_timed,
                timed_jwt.len() as u64,
                &[
                    (Kind::Wiremock, 1.0, "≥ 1× wiremock"),
                    (Kind::Hyper, f64::NAN, "info"),
                ],
            )
            .await?,
        );
    }
    if wanted("rsa") {
        rows.push(rsa_verify_cost(&timed_jwt)?);
    }

    if wanted("memory") {
        eprintln!("bench: memory under sustained load");
        rows.push(memory(&ctx, &sample_token).await?);
    }
    if wanted("startup") {
        eprintln!("bench: in-process start to first answer");
        rows.push(startup(&ctx).await?);
    }
    if wanted("client") {
        eprintln!("bench: PardotClient vs raw reqwest");
        rows.extend(client_overhead(&ctx).await?);
    }
    if wanted("callers") {
        eprintln!("bench: 1000 callers on an expired token");
        rows.push(expired_callers(&ctx).await?);
    }
    if wanted("cli") {
        eprintln!("bench: CLI process vs the Python seed script");
        rows.push(match process_login(&ctx).await {
            Ok(row) => row,
            Err(e) => Row::not_measured(PROCESS_METRIC, "≤ 0.2× wall time", &format!("{e:#}")),
        });
    }
    if wanted("rss") {
        eprintln!("bench: resident memory");
        rows.push(rss_prospects(&ctx, &sample_token).await?);
        rows.push(rss_tokens(&ctx).await?);
    }
    println!();
    report::print_table(&rows);
    let json_path = ctx.out_dir.join(if ctx.opts.only.is_empty() {
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
    report::write_json(&json_path, &rows, context)?;
    println!(
        "\nwrote {} ({} s in all)",
        json_path.display(),
        started.elapsed().as_secs()
    );
    Ok(())
}

fn v5_template(token: &str) -> Template {
    let headers = vec![
        (
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer ?")),
        ),
        (
            HeaderName::from_static("pardot-business-unit-id"),
            HeaderValue::from_static(fixtures::BUSINESS_UNIT_ID),
        ),
    ];
    Template::get(V5_PATH, headers)
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    Bytes::from(s.finish())
}

fn password_body() -> Bytes {
    let password = format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    );
    form(&[
        ("grant_type", "password"),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("client_secret", fixtures::WEB_CONSUMER_SECRET),
        ("username", fixtures::INTEGRATION_USERNAME),
        ("password", &password),
    ])
}

fn password_template() -> Template {
    Template::post_form(TOKEN_PATH, Arc::new(vec![password_body()]))
}

/// Signs `n` JWT bearer assertions, each with its own `exp`, on two threads.
async fn sign_pool(n: usize) -> Result<Vec<Bytes>> {
    let key = Arc::new(jsonwebtoken::EncodingKey::from_rsa_pem(
        fixtures::CONNECTED_APP_KEY_PEM.as_bytes(),
    )?);
    let now = pardot_auth_core::clock::unix_seconds(SystemTime::now());
    let halves = [(0, n / 2), (n / 2, n)];
    let mut tasks = Vec::new();
    for (from, to) in halves {
        let key = key.clone();
        tasks.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<Bytes>> {
                let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                (from..to)
                    .map(|i| {
                        let claims = json!({
                            "iss": fixtures::JWT_CONSUMER_KEY,
                            "sub": fixtures::INTEGRATION_USERNAME,
                            "aud": "https://login.salesforce.com",
                            // Distinct per assertion: no two requests carry the same JWT.
                            "exp": now + 3_600 + i as i64,
                        });
                        let jwt = jsonwebtoken::encode(&header, &claims, &key)?;
                        Ok(form(&[
                            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                            ("assertion", &jwt),
                        ]))
                    })
                    .collect()
            },
        ));
    }
    let mut pool = Vec::with_capacity(n);
    for t in tasks {
        pool.extend(t.await??);
    }
    Ok(pool)
}

async fn password_token(addr: SocketAddr) -> Result<String> {
    let (status, _, body) = load::once(addr, &password_template()).await?;
    ensure!(
        status == StatusCode::OK,
        "password grant answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let v: Value = serde_json::from_slice(&body)?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")
}

/// Starts our mock once and keeps its answers as the baselines' static bodies; returns a
/// token of the right shape for the baselines' requests.
async fn capture_bodies(ctx: &Ctx, one_jwt: &Bytes) -> Result<String> {
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, 200)?;
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
        jwt: grab(Template::post_form(
            TOKEN_PATH,
            Arc::new(vec![one_jwt.clone()]),
        ))
        .await?,
    };
    let v: Value = serde_json::from_slice(&bodies.v5.1)?;
    ensure!(
        v["values"].as_array().map(Vec::len) == Some(200),
        "the v5 list does not hold 200 prospects"
    );
    eprintln!(
        "bench: bodies v5 {} B, password token {} B, JWT token {} B",
        bodies.v5.1.len(),
        bodies.password.1.len(),
        bodies.jwt.1.len()
    );
    bodies.save(&ctx.bodies_dir)?;
    Ok(token)
}

#[derive(Clone, Debug, Default)]
struct Rounds {
    throughput: Vec<f64>,
    cpu_us: Vec<f64>,
    requests: u64,
    failed: u64,
    first_failure: Option<String>,
}

/// Alternates A/B/C rounds (each a fresh server process) and reports ours against each
/// baseline: throughput (median, min–max) and the server's CPU time per request.
#[allow(clippy::too_many_arguments)]
async fn throughput(
    ctx: &Ctx,
    metric: &str,
    sample_token: &str,
    needs_token: bool,
    warm: &dyn Fn(&str) -> Template,
    timed: &dyn Fn(&str) -> Template,
    ours_max_requests: u64,
    targets: &[(Kind, f64, &str)],
) -> Result<Vec<Row>> {
    eprintln!("bench: {metric}");
    let mut results: [Rounds; 3] = Default::default();
    for round in 0..ctx.plan.rounds {
        for (k, kind) in KINDS.into_iter().enumerate() {
            let server = ServerProcess::start(kind, &ctx.bodies_dir, 200)?;
            let token = if needs_token && kind == Kind::Ours {
                password_token(server.addr).await?
            } else {
                sample_token.to_owned()
            };
            let spec = |max| Spec {
                concurrency: CONCURRENCY,
                max_requests: max,
                max_time: ctx.plan.round_time,
            };
            load::run(
                server.addr,
                &warm(&token),
                Spec {
                    max_requests: ctx.plan.warmup,
                    ..spec(0)
                },
            )
            .await?;
            let max = if kind == Kind::Ours {
                ours_max_requests
            } else {
                u64::MAX
            };
            let cpu0 = procfs::cpu_time(server.pid())?;
            let outcome = load::run(server.addr, &timed(&token), spec(max)).await?;
            let cpu = procfs::cpu_time(server.pid())? - cpu0;
            let r = &mut results[k];
            r.throughput.push(outcome.throughput());
            r.cpu_us
                .push(cpu.as_secs_f64() * 1e6 / outcome.ok.max(1) as f64);
            r.requests += outcome.ok;
            r.failed += outcome.failed;
            if r.first_failure.is_none() {
                r.first_failure = outcome.first_failure.clone();
            }
            eprintln!(
                "  round {} {:8}: {:>9} req/s, {:>7} µs CPU/req, {} ok, {} failed",
                round + 1,
                kind.name(),
                num(outcome.throughput()),
                num(*r.cpu_us.last().unwrap_or(&f64::NAN)),
                outcome.ok,
                outcome.failed
            );
        }
    }
    let ours = &results[0];
    let mut rows = Vec::new();
    for (kind, target, target_text) in targets {
        let base = &results[KINDS.iter().position(|k| k == kind).unwrap_or(1)];
        let (om, _, _) = spread(&ours.throughput);
        let (bm, _, _) = spread(&base.throughput);
        let ratio = om / bm;
        let failed = ours.failed + base.failed;
        let met = if target.is_nan() {
            None
        } else {
            Some(ratio >= *target && failed == 0)
        };
        let details = |r: &Rounds| {
            json!({
                "throughput_per_round": r.throughput,
                "cpu_us_per_request_per_round": r.cpu_us,
                "cpu_us_per_request_median": spread(&r.cpu_us).0,
                "requests": r.requests,
                "failed": r.failed,
                "first_failure": r.first_failure,
            })
        };
        rows.push(Row {
            metric: format!("{metric} vs {}", kind.name()),
            ours: Some(om),
            ours_text: format!(
                "{}; CPU {} µs/req",
                fmt_spread(&ours.throughput, "req/s"),
                num(spread(&ours.cpu_us).0)
            ),
            baseline: Some(bm),
            baseline_text: format!(
                "{}; CPU {} µs/req",
                fmt_spread(&base.throughput, "req/s"),
                num(spread(&base.cpu_us).0)
            ),
            ratio: Some(ratio),
            target: (*target_text).to_owned(),
            met,
            unit: "req/s".to_owned(),
            details: json!({
                "ours": details(ours),
                "baseline": details(base),
                "cpu_ratio_ours_over_baseline": spread(&ours.cpu_us).0 / spread(&base.cpu_us).0,
                "concurrency": CONCURRENCY,
            }),
        });
    }
    Ok(rows)
}

/// RSS of ours and of wiremock sampled during sustained v5 load.
async fn memory(ctx: &Ctx, sample_token: &str) -> Result<Row> {
    let mut series = Vec::new();
    for kind in [Kind::Ours, Kind::Wiremock] {
        let server = ServerProcess::start(kind, &ctx.bodies_dir, 200)?;
        let token = if kind == Kind::Ours {
            password_token(server.addr).await?
        } else {
            sample_token.to_owned()
        };
        let template = v5_template(&token);
        let chunk = ctx.plan.memory_time / ctx.plan.memory_samples;
        let mut samples = vec![(0.0, procfs::rss_bytes(server.pid())? as f64 / MB)];
        let mut requests = 0;
        let started = Instant::now();
        for _ in 0..ctx.plan.memory_samples {
            let outcome = load::run(
                server.addr,
                &template,
                Spec {
                    concurrency: CONCURRENCY,
                    max_requests: u64::MAX,
                    max_time: chunk,
                },
            )
            .await?;
            requests += outcome.ok;
            samples.push((
                started.elapsed().as_secs_f64(),
                procfs::rss_bytes(server.pid())? as f64 / MB,
            ));
        }
        eprintln!(
            "  {:8}: {requests} requests, RSS (s, MB) {samples:?}",
            kind.name()
        );
        series.push((samples, requests));
    }
    let last = |s: &[(f64, f64)]| s.last().map_or(f64::NAN, |x| x.1);
    // "Flat": from a third of the way in to the end, growth below 2 MB (the journal ring and
    // the token map are bounded; wiremock keeps every request).
    let third = |s: &[(f64, f64)]| s[s.len() / 3].1;
    let (ours, ours_requests) = &series[0];
    let (base, base_requests) = &series[1];
    let ours_growth = last(ours) - third(ours);
    let base_growth = last(base) - third(base);
    Ok(Row {
        metric: format!(
            "mock RSS after {} s sustained v5 load",
            ctx.plan.memory_time.as_secs()
        ),
        ours: Some(last(ours)),
        ours_text: format!(
            "{} MB (+{} MB over the last ⅔; {} req)",
            num(last(ours)),
            num(ours_growth),
            ours_requests
        ),
        baseline: Some(last(base)),
        baseline_text: format!(
            "wiremock {} MB (+{} MB over the last ⅔; {} req)",
            num(last(base)),
            num(base_growth),
            base_requests
        ),
        ratio: Some(last(ours) / last(base)),
        target: "flat (< 2 MB growth over the last ⅔)".to_owned(),
        met: Some(ours_growth < 2.0),
        unit: "MB".to_owned(),
        details: json!({
            "ours_rss_mb_by_second": ours,
            "wiremock_rss_mb_by_second": base,
            "ours_requests": ours_requests,
            "wiremock_requests": base_requests,
        }),
    })
}

/// In-process start to first answered request: ours vs a fresh wiremock server.
///
/// `MockServer::start()` takes servers from a pool: a dropped one is reset and handed back,
/// which measures a reset, not a start. Keeping every server alive instead made each further
/// wiremock start slower (its threads pile up: medians of 2.6 ms after 40). So the baseline is
/// `MockServer::builder().start()`, the unpooled start the pool itself performs for a new
/// server, and both servers are dropped after each measurement (outside the timed window).
async fn startup(ctx: &Ctx) -> Result<Row> {
    let probe = Template::get("/services/oauth2/userinfo", Vec::new());
    let mut ours_ms = Vec::new();
    let mut base_ms = Vec::new();
    // Alternating, the order swapped each time, so both see the same machine.
    for i in 0..ctx.plan.startup_iterations {
        for ours_turn in [i % 2 == 0, i % 2 == 1] {
            let t0 = Instant::now();
            if ours_turn {
                let mock = PardotMock::builder().start().await?;
                let (status, _, _) = load::once(mock.addr(), &probe).await?;
                ours_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                ensure!(status.as_u16() == 403, "ours answered {status}");
                mock.shutdown().await;
            } else {
                let server = wiremock::MockServer::builder().start().await;
                let (status, _, _) = load::once(*server.address(), &probe).await?;
                base_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                ensure!(status.as_u16() == 404, "wiremock answered {status}");
                drop(server);
            }
        }
    }
    let (om, _, _) = spread(&ours_ms);
    let (bm, _, _) = spread(&base_ms);
    Ok(Row {
        metric: "in-process mock start to first answered request".to_owned(),
        ours: Some(om),
        ours_text: fmt_spread(&ours_ms, "ms"),
        baseline: Some(bm),
        baseline_text: format!("wiremock (unpooled) {}", fmt_spread(&base_ms, "ms")),
        ratio: Some(om / bm),
        target: "≤ 1× wiremock".to_owned(),
        met: Some(om <= bm),
        unit: "ms".to_owned(),
        details: json!({ "ours_ms": ours_ms, "wiremock_ms": base_ms }),
    })
}

/// Time per authenticated GET through `PardotClient` (cached token) vs raw `reqwest` with a
/// fixed header, alternating, one request at a time, against one mock process.
async fn client_overhead(ctx: &Ctx) -> Result<Vec<Row>> {
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, 200)?;
    let url = server.url();
    let secret = password_token(server.addr).await?;
    let token_secret = secret.clone();
    let source = provide_token_fn("bench", move || {
        let secret = token_secret.clone();
        async move {
            let now = SystemTime::now();
            Ok(AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + Duration::from_secs(7200)),
            )
            .with_scopes(Scopes::parse("api pardot_api")))
        }
    });
    let client = PardotClient::builder(Arc::new(source), PardotHost::custom(&url)?)
        .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
        .max_concurrent(None)
        .no_proxy()
        .build()?;
    let raw = reqwest::Client::builder().no_proxy().build()?;
    let full_url = format!("{url}{V5_PATH}");
    let ours_once = || async {
        let r = client.get(V5_PATH).send().await?;
        ensure!(r.status() == 200, "PardotClient got {}", r.status());
        Ok(r.into_bytes().len())
    };
    let raw_once = || async { raw_get(&raw, &full_url, &secret).await.map(|b| b.len()) };
    ensure!(ours_once().await? == raw_once().await?, "different bodies");
    for _ in 0..50 {
        ours_once().await?;
        raw_once().await?;
    }
    let me = std::process::id();
    let n = ctx.plan.overhead_requests;
    // Time per request: one request of each in turn (the order swapped every pair), each
    // timed on its own, compared by their medians. Load on a shared 2-core machine swings from
    // one 100 ms to the next (blocks of 200 requests differed by up to 1.7×); request-by-request
    // alternation puts both sides under the same swings, and the median ignores the stalls.
    let pairs = ctx.plan.overhead_rounds * n;
    let (mut ours_each, mut raw_each) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for i in 0..pairs {
        for ours_turn in [i % 2 == 0, i % 2 == 1] {
            let t0 = Instant::now();
            if ours_turn {
                ours_once().await?;
                ours_each.push(t0.elapsed().as_secs_f64() * 1e6);
            } else {
                raw_once().await?;
                raw_each.push(t0.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    // CPU per request: the process's CPU time over blocks of one kind (it cannot be read per
    // request), in short blocks, the order swapped each round, compared per round.
    let (mut ours_us, mut raw_us, mut ours_cpu, mut raw_cpu) = (vec![], vec![], vec![], vec![]);
    for round in 0..ctx.plan.overhead_rounds {
        for ours_turn in [round % 2 == 0, round % 2 == 1] {
            let (c0, t0) = (procfs::cpu_time(me)?, Instant::now());
            for _ in 0..n {
                if ours_turn {
                    ours_once().await?;
                } else {
                    raw_once().await?;
                }
            }
            let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
            let cpu = (procfs::cpu_time(me)? - c0).as_secs_f64() * 1e6 / n as f64;
            if ours_turn {
                ours_us.push(us);
                ours_cpu.push(cpu);
            } else {
                raw_us.push(us);
                raw_cpu.push(cpu);
            }
        }
    }
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
    let (oc, _, _) = spread(&ours_cpu);
    let (bc, _, _) = spread(&raw_cpu);
    let (cpu_ratio, _, _) = spread(&cpu_ratios);
    Ok(vec![
        Row {
            metric: "authenticated GET via PardotClient (cached token), time/request".to_owned(),
            ours: Some(om),
            ours_text: format!("median {} µs (p90 {})", num(om), num(o90)),
            baseline: Some(bm),
            baseline_text: format!("raw reqwest median {} µs (p90 {})", num(bm), num(b90)),
            ratio: Some(om / bm),
            target: "≤ 1.05× (medians, alternating requests)".to_owned(),
            met: Some(om / bm <= 1.05),
            unit: "µs/request".to_owned(),
            details: json!({
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
            }),
        },
        Row {
            metric: "  same, client process CPU/request (incl. the load loop)".to_owned(),
            ours: Some(oc),
            ours_text: fmt_spread(&ours_cpu, "µs"),
            baseline: Some(bc),
            baseline_text: format!("raw reqwest {}", fmt_spread(&raw_cpu, "µs")),
            ratio: Some(cpu_ratio),
            target: "info".to_owned(),
            met: None,
            unit: "µs CPU/request".to_owned(),
            details: json!({
                "ours_cpu_us": ours_cpu,
                "raw_cpu_us": raw_cpu,
                "paired_ratios": cpu_ratios,
                "ratio_of_medians": oc / bc,
            }),
        },
    ])
}

/// The baseline of the client rows: a plain `reqwest` GET with the two headers set by hand.
async fn raw_get(raw: &reqwest::Client, url: &str, token: &str) -> Result<Bytes> {
    let r = raw
        .get(url)
        .bearer_auth(token)
        .header("Pardot-Business-Unit-Id", fixtures::BUSINESS_UNIT_ID)
        .send()
        .await?;
    ensure!(r.status() == 200, "reqwest got {}", r.status());
    Ok(r.bytes().await?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// 1000 callers at once through one client, with a valid token and then with the token
/// expired on the server: token fetches and the latency the refresh adds.
async fn expired_callers(ctx: &Ctx) -> Result<Row> {
    const CALLERS: usize = 1000;
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
    let client = Arc::new(
        PardotClient::builder(Arc::new(flow), PardotHost::custom(&url)?)
            .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
            .max_concurrent(None)
            .no_proxy()
            .build()?,
    );
    let path = "/api/v5/objects/prospects?fields=id,email&limit=20";
    let wave = |client: Arc<PardotClient>| async move {
        let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS + 1));
        let mut tasks = Vec::with_capacity(CALLERS);
        for _ in 0..CALLERS {
            let (client, barrier) = (client.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let t0 = Instant::now();
                let r = client.get(path).send().await;
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
        anyhow::Ok((ms, failures))
    };
    // Warm: one token, one connection pool.
    wave(client.clone()).await?;
    let mut fetches = Vec::new();
    let (mut add50, mut add99, mut failures) = (vec![], vec![], 0);
    let (mut valid_p50, mut valid_p99, mut exp_p50, mut exp_p99) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ctx.plan.callers_reps {
        let (valid, f1) = wave(client.clone()).await?;
        mock.expire_all_tokens()?;
        let before = mock.counts().route_total(Route::OAuthToken);
        let (expired, f2) = wave(client.clone()).await?;
        fetches.push(mock.counts().route_total(Route::OAuthToken) - before);
        failures += f1 + f2;
        valid_p50.push(percentile(&valid, 0.5));
        valid_p99.push(percentile(&valid, 0.99));
        exp_p50.push(percentile(&expired, 0.5));
        exp_p99.push(percentile(&expired, 0.99));
        add50.push(percentile(&expired, 0.5) - percentile(&valid, 0.5));
        add99.push(percentile(&expired, 0.99) - percentile(&valid, 0.99));
    }
    let all_one = fetches.iter().all(|f| *f == 1);
    Ok(Row {
        metric: "1000 concurrent callers on an expired token".to_owned(),
        ours: Some(fetches.iter().copied().max().unwrap_or(0) as f64),
        ours_text: format!(
            "token fetches per wave {fetches:?}; added p50 {} ms, p99 {} ms; {failures} failed",
            num(spread(&add50).0),
            num(spread(&add99).0)
        ),
        baseline: None,
        baseline_text: format!(
            "valid token: p50 {} ms, p99 {} ms",
            num(spread(&valid_p50).0),
            num(spread(&valid_p99).0)
        ),
        ratio: None,
        target: "exactly 1 token fetch; report added p50/p99".to_owned(),
        met: Some(all_one && failures == 0),
        unit: "token fetches".to_owned(),
        details: json!({
            "fetches_per_wave": fetches,
            "added_p50_ms": add50, "added_p99_ms": add99,
            "valid_p50_ms": valid_p50, "valid_p99_ms": valid_p99,
            "expired_p50_ms": exp_p50, "expired_p99_ms": exp_p99,
            "failed_requests": failures,
        }),
    })
}

const PROCESS_METRIC: &str = "JWT login + one Pardot call as a process (pardot-auth CLI)";

fn ensure_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import jwt, requests, cryptography"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        eprintln!(
            "bench: creating {} (pip install -r fixtures/clients/requirements.txt)",
            venv.display()
        );
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?
            .success();
        ensure!(ok, "python3 -m venv failed");
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(root.join("fixtures/clients/requirements.txt"))
            .status()
            .context("pip install")?
            .success();
        ensure!(
            ok,
            "pip install -r fixtures/clients/requirements.txt failed"
        );
    }
    Ok(python)
}

fn timed_run(mut command: Command) -> Result<f64> {
    let t0 = Instant::now();
    let out = command
        .stdin(Stdio::null())
        .output()
        .context("starting the process")?;
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    if !out.status.success() {
        bail!(
            "{:?} exited with {}: {}{}",
            command.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(ms)
}

/// `pardot-auth --flow jwt request GET …` (an empty token store, so it logs in) vs the seed 000
/// Python script, alternating, against one mock process.
async fn process_login(ctx: &Ctx) -> Result<Row> {
    let cli = ctx
        .opts
        .cli
        .clone()
        .map_err(|reason| anyhow::anyhow!(reason))?;
    let root = &ctx.opts.root;
    let python = ensure_venv(root)?;
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, 200)?;
    let url = server.url();
    let key_file = root.join("fixtures/keys/connected-app.key");
    let scratch = tempfile::tempdir()?;
    let env = [
        ("SF_LOGIN_URL", url.as_str()),
        ("SF_CLIENT_ID", fixtures::JWT_CONSUMER_KEY),
        ("SF_USERNAME", fixtures::INTEGRATION_USERNAME),
        ("PARDOT_URL", url.as_str()),
        ("PARDOT_BUSINESS_UNIT_ID", fixtures::BUSINESS_UNIT_ID),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ];
    let mut run_index = 0;
    let mut ours = || -> Result<f64> {
        run_index += 1;
        let store = scratch.path().join(format!("store-{run_index}"));
        let mut c = Command::new(&cli);
        c.args([
            "--flow",
            "jwt",
            "request",
            "GET",
            "/api/account/version/4/do/read",
            "-q",
            "format=json",
        ])
        .envs(env)
        .env("SF_PRIVATE_KEY_FILE", &key_file)
        .env("PARDOT_AUTH_STORE_DIR", &store)
        .current_dir(scratch.path());
        timed_run(c)
    };
    let script = root.join("fixtures/clients/seed000_jwt.py");
    let theirs = || -> Result<f64> {
        let mut c = Command::new(&python);
        c.arg(&script)
            .envs(env)
            .env("SF_PRIVATE_KEY_FILE", &key_file)
            .current_dir(scratch.path());
        timed_run(c)
    };
    // One untimed run of each fills the page cache.
    ours()?;
    theirs()?;
    let (mut o, mut t) = (vec![], vec![]);
    for _ in 0..ctx.plan.process_runs {
        o.push(ours()?);
        t.push(theirs()?);
    }
    let (om, _, _) = spread(&o);
    let (tm, _, _) = spread(&t);
    Ok(Row {
        metric: PROCESS_METRIC.to_owned(),
        ours: Some(om),
        ours_text: fmt_spread(&o, "ms"),
        baseline: Some(tm),
        baseline_text: format!("seed000_jwt.py {}", fmt_spread(&t, "ms")),
        ratio: Some(om / tm),
        target: "≤ 0.2× wall time".to_owned(),
        met: Some(om / tm <= 0.2),
        unit: "ms wall".to_owned(),
        details: json!({ "ours_ms": o, "python_ms": t }),
    })
}

/// RSS of a mock process holding 100k prospects, after it answered a v5 page.
async fn rss_prospects(ctx: &Ctx, _sample_token: &str) -> Result<Row> {
    let n = 100_000;
    let server = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, n)?;
    let token = password_token(server.addr).await?;
    let (status, _, _) = load::once(server.addr, &v5_template(&token)).await?;
    ensure!(status == StatusCode::OK, "v5 list answered {status}");
    let rss = procfs::rss_bytes(server.pid())? as f64 / MB;
    let small = ServerProcess::start(Kind::Ours, &ctx.bodies_dir, 200)?;
    let token = password_token(small.addr).await?;
    load::once(small.addr, &v5_template(&token)).await?;
    let small_rss = procfs::rss_bytes(small.pid())? as f64 / MB;
    Ok(Row {
        metric: "RSS: mock with 100k prospects".to_owned(),
        ours: Some(rss),
        ours_text: format!("{} MB", num(rss)),
        baseline: None,
        baseline_text: format!("(200 prospects: {} MB)", num(small_rss)),
        ratio: None,
        target: "≤ 50 MB".to_owned(),
        met: Some(rss <= 50.0),
        unit: "MB".to_owned(),
        details: json!({ "prospects": n, "rss_mb": rss, "rss_mb_200_prospects": small_rss }),
    })
}

/// RSS of a client process holding 10k cached tokens (`hold-tokens`).
async fn rss_tokens(_ctx: &Ctx) -> Result<Row> {
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
    Ok(Row {
        metric: "RSS: client holding 10k cached tokens".to_owned(),
        ours: Some(rss),
        ours_text: format!("{} MB", num(rss)),
        baseline: None,
        baseline_text: format!("(same process before: {} MB)", num(before)),
        ratio: None,
        target: "≤ 50 MB".to_owned(),
        met: Some(rss <= 50.0),
        unit: "MB".to_owned(),
        details: json!({ "tokens": n, "rss_mb": rss, "rss_mb_before": before }),
    })
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
        let instance = instance.clone();
        let source = provide_token_fn("bench", move || {
            let secret = secret.clone();
            let instance = instance.clone();
            async move {
                let now = SystemTime::now();
                Ok(AccessToken::new(
                    TokenKind::SalesforceBearer,
                    secret.into(),
                    now,
                    Expiry::Estimated(now + Duration::from_secs(7200)),
                )
                .with_scopes(Scopes::parse("api pardot_api refresh_token"))
                .with_instance_url(instance))
            }
        });
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

/// `xtask-bench profile v5|v5-tiny|password|jwt|startup|client SECONDS OUT`: one fresh `ours` server under the same
/// closed-loop load while `perf record -e cpu-clock --call-graph dwarf` samples it (release binaries keep
/// their unwind tables, so no debug build is needed) (the machine has no
/// hardware counters, so a software clock). Prints the perf data path.
pub async fn profile(root: &Path, args: &[String]) -> Result<()> {
    let what = args
        .first()
        .context("profile v5|v5-tiny|password|jwt|startup|client|client-raw SECONDS OUT")?
        .clone();
    let seconds: u64 = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let out = args.get(2).map_or_else(
        || root.join(format!("target/bench/perf-{what}.data")),
        PathBuf::from,
    );
    if what == "startup" {
        return profile_startup(seconds, &out).await;
    }
    if what == "client" || what == "client-raw" {
        return profile_client(root, seconds, &out, what == "client-raw").await;
    }
    let bodies = root.join("target/bench/bodies");
    let server = ServerProcess::start(Kind::Ours, &bodies, 200)?;
    let template = match what.as_str() {
        "v5" => v5_template(&password_token(server.addr).await?),
        // The same checks with a one-prospect page: the per-request floor of the mock.
        "v5-tiny" => {
            let mut t = v5_template(&password_token(server.addr).await?);
            t.path = "/api/v5/objects/prospects?fields=id&limit=1".to_owned();
            t
        }
        "password" => password_template(),
        "jwt" => Template::post_form(TOKEN_PATH, Arc::new(sign_pool(20_000).await?)),
        other => bail!("unknown profile target {other}"),
    };
    let mut perf = record_perf(server.pid(), seconds, &out)?;
    let outcome = load::run(
        server.addr,
        &template,
        Spec {
            concurrency: CONCURRENCY,
            max_requests: u64::MAX,
            max_time: Duration::from_secs(seconds),
        },
    )
    .await?;
    perf.wait()?;
    eprintln!(
        "profile {what}: {} req/s, {} failed; perf data in {}",
        num(outcome.throughput()),
        outcome.failed,
        out.display()
    );
    Ok(())
}

/// `perf record` of process `pid` for `seconds` (cpu-clock: this machine has no hardware
/// counters; DWARF call graphs: release binaries keep their unwind tables), into `out`.
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

/// What one RS256 verification costs here (jsonwebtoken on aws-lc-rs, the mock's path), in
/// this process on one thread: the floor under the JWT grant's CPU time per request.
fn rsa_verify_cost(pool: &[Bytes]) -> Result<Row> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(fixtures::CONNECTED_APP_CERT_PEM.as_bytes())?;
    let jwts: Vec<String> = pool
        .iter()
        .take(2_000)
        .filter_map(|body| {
            url::form_urlencoded::parse(body)
                .find(|(k, _)| k == "assertion")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    ensure!(!jwts.is_empty(), "no assertions to verify");
    let mut per_round = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        for jwt in &jwts {
            let (message, signature) = jwt.rsplit_once('.').context("a JWT")?;
            let ok = jsonwebtoken::crypto::verify(
                signature,
                message.as_bytes(),
                &key,
                jsonwebtoken::Algorithm::RS256,
            )?;
            ensure!(ok, "a pre-signed assertion does not verify");
        }
        per_round.push(t0.elapsed().as_secs_f64() * 1e6 / jwts.len() as f64);
    }
    Ok(Row {
        metric: "  RS256 verify alone (jsonwebtoken + aws-lc-rs), one thread".to_owned(),
        ours: Some(spread(&per_round).0),
        ours_text: fmt_spread(&per_round, "µs/verify"),
        baseline: None,
        baseline_text: "-".to_owned(),
        ratio: None,
        target: "info".to_owned(),
        met: None,
        unit: "µs/verify".to_owned(),
        details: json!({ "us_per_verify": per_round, "verifies_per_round": jwts.len() }),
    })
}

/// `profile startup`: this process starting in-process mocks (each answering one request)
/// again and again under `perf record`.
async fn profile_startup(seconds: u64, out: &Path) -> Result<()> {
    let mut perf = record_perf(std::process::id(), seconds, out)?;
    let probe = Template::get("/services/oauth2/userinfo", Vec::new());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut n = 0u32;
    while Instant::now() < deadline {
        let mock = PardotMock::builder().start().await?;
        load::once(mock.addr(), &probe).await?;
        mock.shutdown().await;
        n += 1;
    }
    perf.wait()?;
    eprintln!(
        "profile startup: {n} starts; perf data in {}",
        out.display()
    );
    Ok(())
}

/// `profile client`: this process sending sequential v5 GETs through `PardotClient` (cached
/// token) to a mock process, under `perf record`.
async fn profile_client(root: &Path, seconds: u64, out: &Path, raw: bool) -> Result<()> {
    let server = ServerProcess::start(Kind::Ours, &root.join("target/bench/bodies"), 200)?;
    let secret = password_token(server.addr).await?;
    let raw_client = reqwest::Client::builder().no_proxy().build()?;
    let full_url = format!("{}{V5_PATH}", server.url());
    let raw_secret = secret.clone();
    let source = provide_token_fn("bench", move || {
        let secret = secret.clone();
        async move {
            let now = SystemTime::now();
            Ok(AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + Duration::from_secs(7200)),
            ))
        }
    });
    let client = PardotClient::builder(Arc::new(source), PardotHost::custom(&server.url())?)
        .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
        .max_concurrent(None)
        .no_proxy()
        .build()?;
    client.get(V5_PATH).send().await?;
    let mut perf = record_perf(std::process::id(), seconds, out)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut n = 0u32;
    while Instant::now() < deadline {
        if raw {
            std::hint::black_box(raw_get(&raw_client, &full_url, &raw_secret).await?);
        } else {
            std::hint::black_box(client.get(V5_PATH).send().await?.into_bytes());
        }
        n += 1;
    }
    perf.wait()?;
    eprintln!(
        "profile client: {n} requests; perf data in {}",
        out.display()
    );
    Ok(())
}
