//! The fleet rows: several `fleet-worker` processes (each with its own temporary directory,
//! so only Redis connects them, as on separate machines) against one business unit of an
//! in-process mock, each row asserting on the mock's token counts, its peak of requests in
//! flight and its error-66 count.
//!
//! Every Redis row starts its own `redis-server` by PID on a free loopback port (persistence
//! off, except AOF in the restart row) and stops it after. Without `redis-server` the Redis
//! rows are left out with a printed reason, except under CI (`CI` set), where they fail.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pardot_auth_core::{BusinessUnitId, ManualClock};
use pardot_http::store::{RedisTokenStore, StoredToken, TokenStore};
use pardot_mock::{
    ConcurrencyStats, Fault, Outcome, PardotMock, Route, RouteFilter, RouteGroup, fixtures as fx,
};
use secrecy::ExposeSecret as _;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::support::{bu, count, mock_on, ran, total};
use super::{Body, Ran, Scenario};

use pardot_http::testing::RedisServer;

/// The store key the workers share (the worker's `STORE_KEY`).
const STORE_KEY: &str = "fleet";

/// How long a driver waits for one worker line: far beyond any wave, so only a hang trips it.
const LINE_WAIT: Duration = Duration::from_secs(45);

pub(super) fn scenarios() -> Vec<Scenario> {
    let redis_rows = scenarios![
        "fleet: 8 processes x 50 callers, 3 expiries -> 4 token fetches, peak <= 5"
            => one_token_and_one_limit,
        "fleet: shared daily budget -> exactly B calls" => shared_budget,
        "fleet: refresh-token rotation -> one rotation, no reuse" => one_rotation,
        "fleet: kill -9 of the lease holder -> another takes over" => killed_lease_holder,
        "fleet: Redis restarted mid-run (fail_open, fail_closed)" => redis_restart,
    ];
    let mut rows = Vec::new();
    if RedisServer::available() {
        rows.extend(redis_rows);
    } else if std::env::var_os("CI").is_some() {
        rows.extend(redis_rows.into_iter().map(|row| Scenario {
            name: row.name,
            body: Body::Run(|| {
                Box::pin(async { bail!("{}, and CI is set", RedisServer::missing_reason()) })
            }),
        }));
    } else {
        eprintln!(
            "e2e: SKIPPED the {} Redis fleet rows: {}",
            redis_rows.len(),
            RedisServer::missing_reason()
        );
    }
    rows.extend(scenarios![
        "fleet: host governor, 4 processes, no Redis -> peak <= 5" => host_governor,
    ]);
    rows
}

/// The worker binary, built once (the first fleet row pays for it).
async fn worker_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if let Some(built) = BUILT.get() {
        return built.clone().map_err(anyhow::Error::msg);
    }
    let root = crate::project_root();
    let built = tokio::task::spawn_blocking(move || {
        let status = crate::run_cargo(
            &root,
            &["build", "--quiet", "-p", "xtask", "--bin", "fleet-worker"],
        )
        .map_err(|e| format!("{e:#}"))?;
        if !status.success() {
            return Err(format!("building fleet-worker failed ({status})"));
        }
        Ok(crate::target_dir(&root).join("debug/fleet-worker"))
    })
    .await?;
    BUILT
        .get_or_init(|| built)
        .clone()
        .map_err(anyhow::Error::msg)
}

/// One wave's results of one worker.
#[derive(Debug, Default)]
struct WaveResult {
    ok: u64,
    /// Errors by kind (`budget`, `store`, `api_66`, …).
    errors: Vec<(String, u64)>,
    /// Fences of the store leases the worker took.
    fences: Vec<u64>,
    /// The fingerprint of the token it ended on.
    token: Option<String>,
    elapsed_ms: f64,
}

impl WaveResult {
    fn failed(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    fn errors_of(&self, kind: &str) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A `fleet-worker` process, killed when dropped.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    name: String,
}

/// What every worker of a row is given, besides its own store directory.
#[derive(Clone, Default)]
struct Fleet {
    mock: String,
    redis: Option<String>,
    args: Vec<String>,
}

impl Fleet {
    fn new(mock: &PardotMock, redis: Option<&RedisServer>, args: &[&str]) -> Self {
        Self {
            mock: mock.url(),
            redis: redis.map(RedisServer::url),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Starts worker `index` with its own temporary store directory (kept in `dirs`).
    async fn start(&self, index: usize, dirs: &mut Vec<tempfile::TempDir>) -> Result<Worker> {
        let binary = worker_binary().await?;
        let dir = tempfile::tempdir().context("a worker directory")?;
        let mut command = Command::new(&binary);
        command
            .args(["--mock", &self.mock, "--bu", fx::BUSINESS_UNIT_ID])
            .arg("--store-dir")
            .arg(dir.path())
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(url) = &self.redis {
            command.args(["--redis", url]);
        }
        dirs.push(dir);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("worker stdout")?;
        Ok(Worker {
            stdin: child.stdin.take(),
            lines: BufReader::new(stdout).lines(),
            child,
            name: format!("worker {index}"),
        })
    }

    /// Starts `n` workers; their directories live as long as the returned list.
    async fn start_all(&self, n: usize) -> Result<(Vec<Worker>, Vec<tempfile::TempDir>)> {
        let (mut workers, mut dirs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            workers.push(self.start(i, &mut dirs).await?);
        }
        Ok((workers, dirs))
    }
}

impl Worker {
    /// Lets the worker start its next wave.
    async fn go(&mut self) -> Result<()> {
        let stdin = self.stdin.as_mut().context("worker stdin closed")?;
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
        Ok(())
    }

    /// The next JSON line (lease events included).
    async fn next_line(&mut self) -> Result<Value> {
        let line = tokio::time::timeout(LINE_WAIT, self.lines.next_line())
            .await
            .with_context(|| format!("{} said nothing within {LINE_WAIT:?}", self.name))??
            .with_context(|| format!("{} ended early", self.name))?;
        let value: Value =
            serde_json::from_str(&line).with_context(|| format!("{}: `{line}`", self.name))?;
        if let Some(fatal) = value.get("fatal") {
            bail!("{} failed: {fatal}", self.name);
        }
        Ok(value)
    }

    /// The next wave's results (lease events skipped: the wave line lists the fences).
    async fn wave(&mut self) -> Result<WaveResult> {
        loop {
            let value = self.next_line().await?;
            if value.get("wave").is_none() {
                continue;
            }
            let errors = value["errors"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default();
            return Ok(WaveResult {
                ok: value["ok"].as_u64().unwrap_or(0),
                errors,
                fences: value["fences"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default(),
                token: value["token"].as_str().map(str::to_owned),
                elapsed_ms: value["elapsed_ms"].as_f64().unwrap_or(0.0),
            });
        }
    }

    /// Waits for the worker to exit; fails if it did not exit cleanly.
    async fn finish(mut self) -> Result<()> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(LINE_WAIT, self.child.wait())
            .await
            .with_context(|| format!("{} did not exit", self.name))??;
        ensure!(status.success(), "{} exited with {status}", self.name);
        Ok(())
    }
}

/// Runs one wave on every worker at once (each waits for its go signal).
async fn wave_all(workers: &mut [Worker]) -> Result<Vec<WaveResult>> {
    for worker in workers.iter_mut() {
        worker.go().await?;
    }
    collect(workers).await
}

/// One wave against the mock's hold gate: the first 5 requests to be admitted are parked in
/// their slots until all 5 are there, so the fleet's limit is tested with requests held in
/// flight (a sixth arrival would be refused with 66 and counted), not only passing through.
async fn held_wave(workers: &mut [Worker], mock: &PardotMock) -> Result<Vec<WaveResult>> {
    let api = mock.state().pardot();
    api.hold_requests();
    for worker in workers.iter_mut() {
        worker.go().await?;
    }
    let held = tokio::time::timeout(LINE_WAIT, api.wait_for_held_requests(5)).await;
    api.release_requests();
    held.context("the fleet never had 5 requests in flight")?;
    collect(workers).await
}

/// The next wave's results of every worker.
async fn collect(workers: &mut [Worker]) -> Result<Vec<WaveResult>> {
    let mut results = Vec::with_capacity(workers.len());
    for worker in workers.iter_mut() {
        results.push(worker.wave().await?);
    }
    Ok(results)
}

async fn finish_all(workers: Vec<Worker>) -> Result<()> {
    for worker in workers {
        worker.finish().await?;
    }
    Ok(())
}

fn concurrency(mock: &PardotMock, unit: &BusinessUnitId) -> Result<ConcurrencyStats> {
    mock.concurrency(unit)
        .context("the mock does not know the business unit")
}

/// The limit held: no 66, at most 5 in flight at once at the mock.
fn limit_held(mock: &PardotMock, unit: &BusinessUnitId) -> Result<ConcurrencyStats> {
    let stats = concurrency(mock, unit)?;
    ensure!(
        stats.refused_66 == 0 && stats.peak_in_flight <= 5,
        "the fleet broke the limit: peak {} in flight, {} answers with 66",
        stats.peak_in_flight,
        stats.refused_66
    );
    Ok(stats)
}

/// The limit held and the held wave filled it: exactly 5 in flight at the peak.
fn limit_reached(mock: &PardotMock) -> Result<()> {
    let stats = limit_held(mock, &bu()?)?;
    ensure!(
        stats.peak_in_flight == 5,
        "peak {} in flight with 5 held",
        stats.peak_in_flight
    );
    Ok(())
}

fn redis() -> Result<RedisServer> {
    RedisServer::start().context("redis-server did not start")
}

/// A store on `server` as the workers see it (the driver seeds and reads it).
async fn store_on(server: &RedisServer) -> Result<RedisTokenStore> {
    Ok(RedisTokenStore::connect(&server.url())
        .await?
        .with_prefix("fleet")?)
}

/// A store on `server` seeded with the rotating app's refresh token, as an interactive login
/// would leave it.
async fn seeded_store(server: &RedisServer) -> Result<RedisTokenStore> {
    let store = store_on(server).await?;
    store
        .save(
            STORE_KEY,
            &StoredToken::refresh_only(fx::ROTATING_REFRESH_TOKEN.into()),
        )
        .await?;
    Ok(store)
}

/// A mock on `clock` whose `route` answers `millis` late, in real time.
async fn slow_mock(clock: &ManualClock, route: RouteFilter, millis: u64) -> Result<PardotMock> {
    let mock = mock_on(clock).await?;
    mock.fault(Fault::Latency {
        millis,
        route: Some(route),
    })?;
    Ok(mock)
}

/// 8 processes x 50 callers (one call each per wave) on one business unit, five waves with
/// the mock expiring every token before waves 1 to 3: one token fetch per expiry across the
/// fleet, no 66, exactly 5 in flight at the peak, every call answered.
async fn one_token_and_one_limit() -> Result<Ran> {
    let server = redis()?;
    let clock = ManualClock::new();
    // A little latency (in front of the mock's handlers) keeps the permits busy.
    let mock = slow_mock(&clock, RouteFilter::Group(RouteGroup::Pardot), 5).await?;
    let args = ["--callers", "50", "--calls", "1", "--waves", "5"];
    let (mut workers, _dirs) = Fleet::new(&mock, Some(&server), &args).start_all(8).await?;
    let mut ok = 0;
    // Waves 1 to 3 start on expired tokens; wave 4, on the tokens every process holds, sends
    // all 400 callers at the governor at once, against the hold gate.
    for wave in 0..5 {
        if (1..=3).contains(&wave) {
            mock.expire_all_tokens()?;
        }
        let results = if wave == 4 {
            held_wave(&mut workers, &mock).await?
        } else {
            wave_all(&mut workers).await?
        };
        for r in &results {
            ensure!(r.failed() == 0, "wave {wave}: calls failed: {:?}", r.errors);
            ok += r.ok;
        }
    }
    finish_all(workers).await?;
    ensure!(ok == 8 * 50 * 5, "{ok} calls succeeded of {}", 8 * 50 * 5);
    let fetches = total(&mock, Route::OAuthToken);
    ensure!(
        fetches == 4 && count(&mock, Route::OAuthToken, Outcome::Ok) == 4,
        "{fetches} token requests at the mock for 1 login and 3 expiries"
    );
    limit_reached(&mock)?;
    Ok(ran(&mock))
}

/// A daily budget B shared through Redis: exactly B calls reach Pardot, and every worker
/// then gets the typed budget error.
async fn shared_budget() -> Result<Ran> {
    const BUDGET: u64 = 60;
    let server = redis()?;
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let budget = BUDGET.to_string();
    let args = ["--callers", "5", "--calls", "10", "--budget", &budget];
    let (mut workers, _dirs) = Fleet::new(&mock, Some(&server), &args).start_all(4).await?;
    let mut ok = 0;
    for worker in &mut workers {
        let r = worker.wave().await?;
        ensure!(
            r.errors_of("budget") > 0 && r.errors_of("budget") == r.failed(),
            "{}: expected only budget errors, got {:?}",
            worker.name,
            r.errors
        );
        ok += r.ok;
    }
    finish_all(workers).await?;
    let reached = count(&mock, Route::PardotV5, Outcome::Ok);
    ensure!(
        ok == BUDGET && reached == BUDGET && total(&mock, Route::PardotV5) == BUDGET,
        "budget {BUDGET}: {ok} calls succeeded, {reached} reached Pardot"
    );
    limit_held(&mock, &bu()?)?;
    Ok(ran(&mock))
}

/// The refresh tokens the mock redeemed, in order.
fn redeemed(mock: &PardotMock) -> Vec<String> {
    mock.journal()
        .into_iter()
        .filter(|e| e.route == Route::OAuthToken)
        .filter_map(|e| e.param("refresh_token").map(str::to_owned))
        .collect()
}

/// Fails if the mock saw a refresh token twice.
fn no_reuse(mock: &PardotMock) -> Result<Vec<String>> {
    let tokens = redeemed(mock);
    let mut seen = std::collections::HashSet::new();
    ensure!(
        tokens.iter().all(|t| seen.insert(t.clone())),
        "a refresh token was redeemed twice ({} redemptions)",
        tokens.len()
    );
    Ok(tokens)
}

/// The refresh token the store holds.
async fn stored_refresh_token(store: &RedisTokenStore) -> Result<String> {
    let record = store.load(STORE_KEY).await?.context("no record")?;
    Ok(record
        .refresh_token
        .context("no refresh token stored")?
        .expose_secret()
        .to_owned())
}

/// Rotation on, the seeded refresh token in Redis: one refresh across the fleet, the rotated
/// token stored, every process on the same (newest) access token, no refresh token reused.
async fn one_rotation() -> Result<Ran> {
    let server = redis()?;
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let store = seeded_store(&server).await?;
    let args = ["--flow", "refresh", "--callers", "10", "--calls", "3"];
    let (mut workers, _dirs) = Fleet::new(&mock, Some(&server), &args).start_all(4).await?;
    let mut tokens = Vec::new();
    for worker in &mut workers {
        let r = worker.wave().await?;
        ensure!(r.failed() == 0, "{}: {:?}", worker.name, r.errors);
        tokens.push(r.token);
    }
    finish_all(workers).await?;
    ensure!(
        count(&mock, Route::OAuthToken, Outcome::Ok) == 1 && total(&mock, Route::OAuthToken) == 1,
        "{} token requests for one rotation",
        total(&mock, Route::OAuthToken)
    );
    ensure!(
        no_reuse(&mock)? == [fx::ROTATING_REFRESH_TOKEN],
        "the seeded refresh token was not the one redeemed"
    );
    let newest = stored_refresh_token(&store).await?;
    ensure!(
        newest != fx::ROTATING_REFRESH_TOKEN,
        "the rotated refresh token was not stored"
    );
    ensure!(
        tokens[0].is_some() && tokens.iter().all(|t| *t == tokens[0]),
        "the processes ended on different tokens"
    );
    limit_held(&mock, &bu()?)?;
    Ok(ran(&mock))
}

/// The lease holder is killed (SIGKILL) while its token request is slowed by the mock;
/// another process, already waiting, takes the lease when it expires and gets a token.
async fn killed_lease_holder() -> Result<Ran> {
    let server = redis()?;
    let clock = ManualClock::new();
    let mock = slow_mock(&clock, RouteFilter::Route(Route::OAuthToken), 8_000).await?;
    let fleet = Fleet::new(&mock, Some(&server), &["--lease-ttl-ms", "1500"]);
    let mut dirs = Vec::new();
    let mut holder = fleet.start(0, &mut dirs).await?;
    let first = holder.next_line().await?;
    let holder_fence = first["fence"]
        .as_u64()
        .with_context(|| format!("expected a lease event, got {first}"))?;
    let mut other = fleet.start(1, &mut dirs).await?;
    holder.child.start_kill()?;
    holder.child.wait().await?;
    let killed = Instant::now();
    mock.fault(Fault::Clear)?;
    let r = other.wave().await?;
    let took = killed.elapsed();
    ensure!(
        r.ok == 1 && r.failed() == 0,
        "the second process: {:?}",
        r.errors
    );
    ensure!(
        r.fences.iter().any(|&f| f > holder_fence),
        "the second process did not take a newer lease ({:?} after {holder_fence})",
        r.fences
    );
    other.finish().await?;
    eprintln!(
        "e2e fleet: the lease was taken over and a token fetched {:.2} s after the kill",
        took.as_secs_f64()
    );
    Ok(ran(&mock))
}

/// Runs the restart row once with `policy`; returns the errors of the wave with Redis down.
async fn restart_with(policy: &str) -> Result<(u64, u64, u64)> {
    const CALLS: u64 = 3 * 5 * 4;
    let mut server = RedisServer::start_append_only().context("redis-server did not start")?;
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let store = seeded_store(&server).await?;
    let args = [
        "--flow",
        "refresh",
        "--callers",
        "5",
        "--calls",
        "4",
        "--waves",
        "4",
        "--on-failure",
        policy,
    ];
    let (mut workers, _dirs) = Fleet::new(&mock, Some(&server), &args).start_all(3).await?;
    let all_ok = |results: &[WaveResult], when: &str| -> Result<()> {
        for r in results {
            ensure!(r.failed() == 0, "{policy}, {when}: {:?}", r.errors);
        }
        Ok(())
    };
    all_ok(&wave_all(&mut workers).await?, "Redis up")?;
    let before = stored_refresh_token(&store).await?;
    server.kill();
    let down = wave_all(&mut workers).await?;
    server.restart().map_err(anyhow::Error::msg)?;
    all_ok(&wave_all(&mut workers).await?, "Redis back")?;
    // A refresh after the restart uses the refresh token Redis kept (AOF).
    mock.expire_all_tokens()?;
    all_ok(&wave_all(&mut workers).await?, "refresh after the restart")?;
    finish_all(workers).await?;
    // The driver's own connection broke with the restart: read through a new one.
    let after = stored_refresh_token(&store_on(&server).await?).await?;
    let redeemed = no_reuse(&mock)?;
    ensure!(
        redeemed.len() == 2 && redeemed[1] == before && after != before,
        "{policy}: the refresh token did not survive the restart ({} redemptions)",
        redeemed.len()
    );
    let ok: u64 = down.iter().map(|r| r.ok).sum();
    let store_errors: u64 = down.iter().map(|r| r.errors_of("store")).sum();
    let other: u64 = down.iter().map(|r| r.failed()).sum::<u64>() - store_errors;
    ensure!(
        other == 0 && ok + store_errors == CALLS,
        "{policy}: {down:?}"
    );
    let slowest = down.iter().map(|r| r.elapsed_ms).fold(0.0, f64::max);
    eprintln!(
        "e2e fleet: {policy} with Redis down: {ok} ok, {store_errors} typed store errors, slowest worker {slowest:.0} ms"
    );
    Ok((ok, store_errors, total(&mock, Route::PardotV5)))
}

/// Redis killed and restarted (AOF on) between waves: with fail_open the waves complete on
/// the process-local fallback; with fail_closed the calls of the outage fail with the typed
/// store error and nothing else; either way the refresh token survives and none is reused.
async fn redis_restart() -> Result<Ran> {
    let (open_ok, open_errors, open_requests) = restart_with("fail_open").await?;
    ensure!(
        open_errors == 0 && open_ok == 60,
        "fail_open: {open_errors} errors with Redis down"
    );
    let (closed_ok, closed_errors, closed_requests) = restart_with("fail_closed").await?;
    ensure!(
        closed_ok == 0 && closed_errors == 60,
        "fail_closed: {closed_ok} calls went through with Redis down"
    );
    Ok(Ran {
        mock_requests: Some(open_requests + closed_requests),
    })
}

/// The host governor: 4 processes on one machine, no Redis, each with its own file store;
/// only the governor's directory is shared. The mock never sees more than 5 at once.
async fn host_governor() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = slow_mock(&clock, RouteFilter::Group(RouteGroup::Pardot), 5).await?;
    let governor_dir = tempfile::tempdir()?;
    let dir = governor_dir.path().display().to_string();
    let args = [
        "--store",
        "file",
        "--governor",
        "host",
        "--host-dir",
        &dir,
        "--callers",
        "10",
        "--calls",
        "5",
        "--waves",
        "2",
    ];
    let (mut workers, _dirs) = Fleet::new(&mock, None, &args).start_all(4).await?;
    // The second wave starts on the token every process holds: all callers at once.
    let free = wave_all(&mut workers).await?;
    let held = held_wave(&mut workers, &mock).await?;
    for r in free.iter().chain(&held) {
        ensure!(r.ok == 50 && r.failed() == 0, "{:?}", r.errors);
    }
    finish_all(workers).await?;
    // Each process has its own token store: one login each.
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 4);
    limit_reached(&mock)?;
    Ok(ran(&mock))
}
