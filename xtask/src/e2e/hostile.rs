//! `cargo xtask e2e --hostile`: the `pardot-mock` binary, as its own process on loopback,
//! under [`Load::hostile_requests`] malformed and random requests,
//! [`Load::slow_connections`] clients that send half a request and stop, and well-formed
//! traffic interleaved. Bounded in count and in time ([`RUN_LIMIT`]); it stops by itself.
//!
//! Checked: no panic in the mock's stderr; no 5xx but the documented one (the SOAP login's
//! 500); every slow connection dropped (EOF or reset) once the header or body read timeout
//! passed; every well-formed request served; the mock's RSS grows less than
//! [`RSS_GROWTH_LIMIT_KB`] after its journal is full and stays under [`RSS_PEAK_LIMIT_KB`].
//! The rates of well-formed requests alone and under load are printed, never asserted.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pardot_mock::fixtures;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod probes;

use self::probes::probe;
use crate::mock_process::{Launch, MockProcess};
use crate::proc_status::status_kb;

/// How much traffic the run sends, and when.
struct Load {
    /// Malformed and random requests sent.
    hostile_requests: u64,
    /// Hostile requests in flight at once (one connection each).
    hostile_workers: u64,
    /// How often the run says how far it got.
    progress_every: u64,
    /// Clients that send half a request and stop.
    slow_connections: usize,
    /// Well-formed requests timed alone, before the hostile load.
    baseline_requests: u64,
    /// At most this many well-formed requests under load (within the business unit's daily
    /// budget).
    max_well_formed: u64,
    /// Hostile requests after which the journal (10,000 entries) is full and the RSS baseline
    /// is read.
    journal_full_after: u64,
}

const LOAD: Load = Load {
    hostile_requests: 100_000,
    hostile_workers: 16,
    progress_every: 10_000,
    slow_connections: 500,
    baseline_requests: 300,
    max_well_formed: 20_000,
    journal_full_after: 20_000,
};

/// The mock's read timeouts in this run (short, so the slow clients are dropped soon).
const READ_TIMEOUT_MS: u64 = 2_000;
/// The mock's open-files limit: the slow clients, the workers and room to spare.
const OPEN_FILES: u32 = 4_096;
/// A hostile request neither answered nor closed after this long counts as hung.
const CLIENT_GIVE_UP: Duration = Duration::from_secs(20);
/// The most the mock's RSS may grow from then to the end.
const RSS_GROWTH_LIMIT_KB: u64 = 5 * 1024;
/// The most the mock's RSS may reach at all: a full journal of hostile requests must stay
/// small (before entries were bounded, it reached about 1 GB).
const RSS_PEAK_LIMIT_KB: u64 = 256 * 1024;
/// The whole run's bound.
const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);
/// The only 5xx the mock documents: the SOAP login answers 500 with a SOAP fault.
const DOCUMENTED_5XX_PATH: &str = "/services/Soap/";

/// Runs the hostile traffic against a fresh mock binary; whether every check held.
pub(crate) fn run(root: &Path) -> Result<bool> {
    let out_dir = crate::target_dir(root).join("e2e");
    std::fs::create_dir_all(&out_dir)?;
    let stderr_path = out_dir.join("hostile-mock.stderr");
    let stderr = File::create(&stderr_path)?;
    let timeout = READ_TIMEOUT_MS.to_string();
    let flags = [
        "--header-read-timeout-ms",
        timeout.as_str(),
        "--body-read-timeout-ms",
        timeout.as_str(),
        "--max-connections",
        "2048",
    ];
    eprintln!("e2e --hostile: building and starting pardot-mock…");
    let mut mock = MockProcess::launch(
        root,
        Launch {
            flags: &flags,
            stderr: stderr.into(),
            open_files: Some(OPEN_FILES),
        },
    )?;
    let open_files = soft_open_files(mock.pid())?;
    if open_files < LOAD.slow_connections as u64 + 2 * LOAD.hostile_workers + 64 {
        bail!(
            "the mock may open only {open_files} files; {} slow connections need more",
            LOAD.slow_connections
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let url = mock.url().to_owned();
    let pid = mock.pid();
    let report = runtime.block_on(async {
        tokio::time::timeout(RUN_LIMIT, traffic(&url, pid))
            .await
            .map_err(|_| anyhow::anyhow!("the run took longer than {} s", RUN_LIMIT.as_secs()))?
    })?;
    let still_running = mock.is_running();
    drop(mock);
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let panics = log.matches("panicked").count();
    Ok(report.print_and_check(panics, still_running, &stderr_path))
}

/// What the run saw.
struct Report {
    hostile_elapsed: Duration,
    shapes: BTreeMap<&'static str, (u64, Duration, Duration)>,
    statuses: BTreeMap<u16, u64>,
    unanswered: u64,
    hung: Vec<String>,
    undocumented_5xx: Vec<String>,
    documented_5xx: u64,
    slow: SlowReport,
    baseline: Rate,
    under_load: Rate,
    well_formed_failures: Vec<String>,
    rss_start_kb: u64,
    rss_full_kb: u64,
    rss_end_kb: u64,
    rss_peak_kb: u64,
}

struct Rate {
    count: u64,
    elapsed: Duration,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

#[derive(Default)]
struct SlowReport {
    headers_dropped: u64,
    bodies_answered_408: u64,
    early: u64,
    not_dropped: u64,
    wrong_answer: Vec<String>,
    latest_drop: Duration,
}

impl Report {
    fn print_and_check(&self, panics: usize, still_running: bool, stderr: &Path) -> bool {
        let mut checks: Vec<(bool, String)> = Vec::new();
        let total: u64 = self.statuses.values().sum::<u64>() + self.unanswered;
        let statuses = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "hostile requests: {total} in {:.1} s ({} at a time), answers {statuses}; \
             closed without an answer: {}",
            self.hostile_elapsed.as_secs_f64(),
            LOAD.hostile_workers,
            self.unanswered,
        );
        for (shape, (n, total, slowest)) in &self.shapes {
            println!(
                "  {shape:<36} {n:>6} requests, {:>6.1} ms on average, slowest {:>7.1} ms",
                total.as_secs_f64() * 1000.0 / (*n).max(1) as f64,
                slowest.as_secs_f64() * 1000.0
            );
        }
        checks.push((
            total == LOAD.hostile_requests && self.hung.is_empty(),
            format!(
                "every hostile request answered or closed ({} hung{})",
                self.hung.len(),
                first(&self.hung)
            ),
        ));
        checks.push((
            self.undocumented_5xx.is_empty(),
            format!(
                "no undocumented 5xx ({} documented SOAP-login 500s, {} others{})",
                self.documented_5xx,
                self.undocumented_5xx.len(),
                first(&self.undocumented_5xx)
            ),
        ));
        let slow = &self.slow;
        println!(
            "slow connections: {}; half headers dropped without an answer: {}, \
             half bodies answered 408 and closed: {}; the last dropped {:.2} s after connecting \
             (read timeouts {:.1} s)",
            LOAD.slow_connections,
            slow.headers_dropped,
            slow.bodies_answered_408,
            slow.latest_drop.as_secs_f64(),
            READ_TIMEOUT_MS as f64 / 1000.0,
        );
        checks.push((
            slow.headers_dropped + slow.bodies_answered_408 == LOAD.slow_connections as u64
                && slow.early == 0,
            format!(
                "every slow connection dropped after its read timeout ({} still open, {} dropped early, {} wrong answers{})",
                slow.not_dropped,
                slow.early,
                slow.wrong_answer.len(),
                first(&slow.wrong_answer)
            ),
        ));
        println!(
            "well-formed requests (v5 list with a valid token, password grant): alone {} at {:.0}/s; \
             under hostile load {} at {:.0}/s",
            self.baseline.count,
            self.baseline.per_second(),
            self.under_load.count,
            self.under_load.per_second(),
        );
        checks.push((
            self.well_formed_failures.is_empty() && self.under_load.count > 0,
            format!(
                "every well-formed request served ({} failed{})",
                self.well_formed_failures.len(),
                first(&self.well_formed_failures)
            ),
        ));
        let growth = self.rss_end_kb.saturating_sub(self.rss_full_kb);
        println!(
            "mock RSS: {:.1} MB at the start, {:.1} MB with the journal full (after {} \
             hostile requests), {:.1} MB at the end: growth {:.2} MB; peak {:.1} MB",
            mb(self.rss_start_kb),
            mb(self.rss_full_kb),
            LOAD.journal_full_after,
            mb(self.rss_end_kb),
            mb(growth),
            mb(self.rss_peak_kb),
        );
        checks.push((
            growth < RSS_GROWTH_LIMIT_KB,
            format!(
                "RSS growth after the journal is full under {} MB",
                mb(RSS_GROWTH_LIMIT_KB)
            ),
        ));
        checks.push((
            self.rss_peak_kb < RSS_PEAK_LIMIT_KB,
            format!("peak RSS under {} MB", mb(RSS_PEAK_LIMIT_KB)),
        ));
        checks.push((
            panics == 0,
            format!(
                "no panic in the mock's stderr ({panics}; {})",
                stderr.display()
            ),
        ));
        checks.push((
            still_running,
            "the mock still running at the end".to_owned(),
        ));
        let mut ok = true;
        for (held, what) in &checks {
            println!("  {} {what}", if *held { "PASS" } else { "FAIL" });
            ok &= held;
        }
        ok
    }
}

fn first(list: &[String]) -> String {
    list.first()
        .map(|s| format!("; first: {s}"))
        .unwrap_or_default()
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// What every request of the run needs to know.
struct Target {
    addr: SocketAddr,
    url: String,
    /// A live token of the integration user (production business unit): well-formed traffic.
    token: String,
    /// A live token of the sandbox user (demo business unit): hostile requests that get past
    /// authentication, without touching the well-formed traffic's limits.
    demo_token: String,
}

async fn traffic(url: &str, pid: u32) -> Result<Report> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .context("the mock's address")?;
    let token = admin_token(&http, url, fixtures::INTEGRATION_USERNAME).await?;
    let demo_token = admin_token(&http, url, fixtures::SANDBOX_USERNAME).await?;
    let target = Arc::new(Target {
        addr,
        url: url.to_owned(),
        token,
        demo_token,
    });

    let mut baseline_failures = Vec::new();
    let started = Instant::now();
    for i in 0..LOAD.baseline_requests {
        if let Err(e) = well_formed(&http, &target, i).await {
            baseline_failures.push(e);
        }
    }
    let baseline = Rate {
        count: LOAD.baseline_requests,
        elapsed: started.elapsed(),
    };
    let rss_start_kb = status_kb(pid, "VmRSS")?;

    let slow = tokio::spawn(slow_connections(addr));
    let done = Arc::new(AtomicBool::new(false));
    let well_formed_task = {
        let (http, target, done) = (http.clone(), Arc::clone(&target), Arc::clone(&done));
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let started = Instant::now();
            let mut count = 0;
            while !done.load(Ordering::Relaxed) && count < LOAD.max_well_formed {
                if let Err(e) = well_formed(&http, &target, count).await {
                    failures.push(e);
                }
                count += 1;
            }
            (
                Rate {
                    count,
                    elapsed: started.elapsed(),
                },
                failures,
            )
        })
    };

    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let rss_full = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..LOAD.hostile_workers)
        .map(|_| {
            let (target, next, tally, rss_full) = (
                Arc::clone(&target),
                Arc::clone(&next),
                Arc::clone(&tally),
                Arc::clone(&rss_full),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= LOAD.hostile_requests {
                        break;
                    }
                    if i == LOAD.journal_full_after {
                        rss_full.store(status_kb(pid, "VmRSS").unwrap_or(0), Ordering::Relaxed);
                    }
                    if i > 0 && i % LOAD.progress_every == 0 {
                        eprintln!(
                            "e2e --hostile: {i} requests sent in {:.0} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    let probe = probe(i, &target);
                    let sent = Instant::now();
                    let answer = send(target.addr, &probe).await;
                    tally.lock().unwrap_or_else(|p| p.into_inner()).add(
                        &probe,
                        answer,
                        sent.elapsed(),
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let hostile_elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (under_load, mut well_formed_failures) = well_formed_task.await?;
    well_formed_failures.extend(baseline_failures);
    let slow = slow.await?;
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Report {
        hostile_elapsed,
        shapes: tally.shapes,
        statuses: tally.statuses,
        unanswered: tally.unanswered,
        hung: tally.hung,
        undocumented_5xx: tally.undocumented_5xx,
        documented_5xx: tally.documented_5xx,
        slow,
        baseline,
        under_load,
        well_formed_failures,
        rss_start_kb,
        rss_full_kb: rss_full.load(Ordering::Relaxed),
        rss_end_kb: status_kb(pid, "VmRSS")?,
        rss_peak_kb: status_kb(pid, "VmHWM")?,
    })
}

/// A live access token for `username` from the mock's admin route.
async fn admin_token(http: &reqwest::Client, url: &str, username: &str) -> Result<String> {
    let answer: serde_json::Value = http
        .post(format!("{url}/__mock/tokens"))
        .json(&serde_json::json!({
            "username": username,
            "consumer_key": fixtures::JWT_CONSUMER_KEY,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    answer["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token from /__mock/tokens")
}

/// One well-formed request: mostly a v5 list with a valid token, every tenth a password
/// grant. `Err` says what went wrong.
async fn well_formed(
    http: &reqwest::Client,
    target: &Target,
    i: u64,
) -> std::result::Result<(), String> {
    let request = if i % 10 == 9 {
        http.post(format!("{}/services/oauth2/token", target.url))
            .form(&[
                ("grant_type", "password"),
                ("client_id", fixtures::WEB_CONSUMER_KEY),
                ("client_secret", fixtures::WEB_CONSUMER_SECRET),
                ("username", fixtures::WEB_USERNAME),
                ("password", fixtures::WEB_PASSWORD),
            ])
    } else {
        http.get(format!(
            "{}/api/v5/objects/prospects?fields=id,email&limit=5",
            target.url
        ))
        .bearer_auth(&target.token)
        .header("Pardot-Business-Unit-Id", fixtures::BUSINESS_UNIT_ID)
    };
    match request.send().await {
        Ok(r) if r.status() == 200 => r.bytes().await.map(drop).map_err(|e| e.to_string()),
        Ok(r) => Err(format!("well-formed request {i}: HTTP {}", r.status())),
        Err(e) => Err(format!("well-formed request {i}: {e}")),
    }
}

/// Opens [`Load::slow_connections`] connections at once; half send half a header block, half a
/// whole header block and half the body; each waits for the mock to drop it.
async fn slow_connections(addr: SocketAddr) -> SlowReport {
    let timeout = Duration::from_millis(READ_TIMEOUT_MS);
    let clients: Vec<_> = (0..LOAD.slow_connections)
        .map(|i| {
            tokio::spawn(async move {
                let half_body = i % 2 == 1;
                let bytes: &[u8] = if half_body {
                    b"POST /services/oauth2/token HTTP/1.1\r\nHost: login.salesforce.com\r\n\
                      Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n\
                      grant_type=password&username="
                } else {
                    b"POST /services/oauth2/token HTTP/1.1\r\nHost: login.salesforce.com\r\nContent-Ty"
                };
                let started = Instant::now();
                let mut stream = TcpStream::connect(addr).await.ok()?;
                stream.write_all(bytes).await.ok()?;
                let mut answer = Vec::new();
                let closed = tokio::time::timeout(
                    timeout + CLIENT_GIVE_UP,
                    read_until_closed(&mut stream, &mut answer),
                )
                .await
                .is_ok();
                Some((half_body, closed, answer, started.elapsed()))
            })
        })
        .collect();
    let mut report = SlowReport::default();
    for client in clients {
        let Ok(Some((half_body, closed, answer, elapsed))) = client.await else {
            report.not_dropped += 1;
            report
                .wrong_answer
                .push("could not connect or write".to_owned());
            continue;
        };
        if !closed {
            report.not_dropped += 1;
            continue;
        }
        report.latest_drop = report.latest_drop.max(elapsed);
        if elapsed < timeout {
            report.early += 1;
        }
        let status = status_of(&answer);
        match (half_body, status) {
            (false, None) => report.headers_dropped += 1,
            (true, Some(408)) => report.bodies_answered_408 += 1,
            (_, status) => report.wrong_answer.push(format!(
                "half {} answered {status:?}",
                if half_body { "body" } else { "headers" }
            )),
        }
    }
    report
}

/// Reads until the peer closes (EOF or reset), keeping the first 4 KiB.
async fn read_until_closed(stream: &mut TcpStream, kept: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = 4096usize.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}

/// The status of an HTTP/1.x answer's first line.
fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

/// One hostile request: what it is, its bytes, and whether the client closes its side after
/// sending (for framing that promises more than it sends).
struct Probe {
    shape: &'static str,
    path: String,
    bytes: Vec<u8>,
    half_close: bool,
}

enum Answer {
    Status(u16),
    Closed,
    Hung,
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    unanswered: u64,
    hung: Vec<String>,
    undocumented_5xx: Vec<String>,
    documented_5xx: u64,
    /// Per shape: requests, their total time and the slowest.
    shapes: BTreeMap<&'static str, (u64, Duration, Duration)>,
}

impl Tally {
    fn add(&mut self, probe: &Probe, answer: Answer, took: Duration) {
        let shape = self.shapes.entry(probe.shape).or_default();
        shape.0 += 1;
        shape.1 += took;
        shape.2 = shape.2.max(took);
        match answer {
            Answer::Status(status) => {
                *self.statuses.entry(status).or_default() += 1;
                if status >= 500 {
                    if status == 500 && probe.path.contains(DOCUMENTED_5XX_PATH) {
                        self.documented_5xx += 1;
                    } else {
                        self.undocumented_5xx
                            .push(format!("{status} for {} ({})", probe.shape, probe.path));
                    }
                }
            }
            Answer::Closed => self.unanswered += 1,
            Answer::Hung => self.hung.push(format!("{} ({})", probe.shape, probe.path)),
        }
    }
}

/// Sends `probe` on a new connection and reads the status line of the answer, if any.
async fn send(addr: SocketAddr, probe: &Probe) -> Answer {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        // The mock may answer (413, 431) and close before taking everything.
        let _ = stream.write_all(&probe.bytes).await;
        if probe.half_close {
            let _ = stream.shutdown().await;
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !answer.contains(&b'\n') {
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 => answer.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        status_of(&answer)
    };
    match tokio::time::timeout(CLIENT_GIVE_UP, exchange).await {
        Ok(Some(status)) => Answer::Status(status),
        Ok(None) => Answer::Closed,
        Err(_) => Answer::Hung,
    }
}

/// The soft open-files limit of a process, from `/proc/PID/limits`.
fn soft_open_files(pid: u32) -> Result<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .with_context(|| format!("reading /proc/{pid}/limits"))?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no open-files line in /proc/PID/limits")?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()
        .unwrap_or("");
    Ok(if soft == "unlimited" {
        u64::MAX
    } else {
        soft.parse().context("the open-files limit")?
    })
}
