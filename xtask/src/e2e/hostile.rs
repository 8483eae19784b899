//! `cargo xtask e2e --hostile`: the `pardot-mock` binary, as its own process on loopback,
//! under [`HOSTILE_REQUESTS`] malformed and random requests, [`SLOW_CONNECTIONS`] clients that
//! send half a request and stop, and well-formed traffic interleaved. Bounded in count and
//! in time ([`RUN_LIMIT`]); it stops by itself.
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
use pardot_mock::front_door::MAX_BODY_BYTES;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::mock_process::{Launch, MockProcess};
use crate::proc_status::status_kb;

/// Malformed and random requests sent.
const HOSTILE_REQUESTS: u64 = 100_000;
/// Hostile requests in flight at once (one connection each).
const HOSTILE_WORKERS: u64 = 16;
/// How often the run says how far it got.
const PROGRESS_EVERY: u64 = 10_000;
/// Clients that send half a request and stop.
const SLOW_CONNECTIONS: usize = 500;
/// The mock's read timeouts in this run (short, so the slow clients are dropped soon).
const READ_TIMEOUT_MS: u64 = 2_000;
/// The mock's open-files limit: the slow clients, the workers and room to spare.
const OPEN_FILES: u32 = 4_096;
/// A hostile request neither answered nor closed after this long counts as hung.
const CLIENT_GIVE_UP: Duration = Duration::from_secs(20);
/// Well-formed requests timed alone, before the hostile load.
const BASELINE_REQUESTS: u64 = 300;
/// At most this many well-formed requests under load (within the business unit's daily budget).
const MAX_WELL_FORMED: u64 = 20_000;
/// Hostile requests after which the journal (10,000 entries) is full and the RSS baseline
/// is read.
const JOURNAL_FULL_AFTER: u64 = 20_000;
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
    if open_files < SLOW_CONNECTIONS as u64 + 2 * HOSTILE_WORKERS + 64 {
        bail!(
            "the mock may open only {open_files} files; {SLOW_CONNECTIONS} slow connections need more"
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
            "hostile requests: {total} in {:.1} s ({HOSTILE_WORKERS} at a time), answers {statuses}; \
             closed without an answer: {}",
            self.hostile_elapsed.as_secs_f64(),
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
            total == HOSTILE_REQUESTS && self.hung.is_empty(),
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
            "slow connections: {SLOW_CONNECTIONS}; half headers dropped without an answer: {}, \
             half bodies answered 408 and closed: {}; the last dropped {:.2} s after connecting \
             (read timeouts {:.1} s)",
            slow.headers_dropped,
            slow.bodies_answered_408,
            slow.latest_drop.as_secs_f64(),
            READ_TIMEOUT_MS as f64 / 1000.0,
        );
        checks.push((
            slow.headers_dropped + slow.bodies_answered_408 == SLOW_CONNECTIONS as u64
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
            "mock RSS: {:.1} MB at the start, {:.1} MB with the journal full (after {JOURNAL_FULL_AFTER} \
             hostile requests), {:.1} MB at the end: growth {:.2} MB; peak {:.1} MB",
            mb(self.rss_start_kb),
            mb(self.rss_full_kb),
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
    for i in 0..BASELINE_REQUESTS {
        if let Err(e) = well_formed(&http, &target, i).await {
            baseline_failures.push(e);
        }
    }
    let baseline = Rate {
        count: BASELINE_REQUESTS,
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
            while !done.load(Ordering::Relaxed) && count < MAX_WELL_FORMED {
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
    let workers: Vec<_> = (0..HOSTILE_WORKERS)
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
                    if i >= HOSTILE_REQUESTS {
                        break;
                    }
                    if i == JOURNAL_FULL_AFTER {
                        rss_full.store(status_kb(pid, "VmRSS").unwrap_or(0), Ordering::Relaxed);
                    }
                    if i > 0 && i % PROGRESS_EVERY == 0 {
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

/// Opens [`SLOW_CONNECTIONS`] connections at once; half send half a header block, half a
/// whole header block and half the body; each waits for the mock to drop it.
async fn slow_connections(addr: SocketAddr) -> SlowReport {
    let timeout = Duration::from_millis(READ_TIMEOUT_MS);
    let clients: Vec<_> = (0..SLOW_CONNECTIONS)
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

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Paths of every kind the mock serves (no admin route: a random but valid fault would
/// change what the well-formed traffic gets), with some that are nothing.
const PATHS: &[&str] = &[
    "/services/oauth2/token",
    "/services/oauth2/revoke",
    "/services/oauth2/userinfo",
    "/services/oauth2/introspect",
    "/services/oauth2/authorize",
    "/id/00D5g00000AcmePEAR/0055g00000IntgAAAR",
    "/setup/connect",
    "/api/login/version/4",
    "/api/prospect/version/4/do/query",
    "/api/prospect/version/3/do/read/id/1001",
    "/api/campaign/version/4/do/query",
    "/api/v5/objects/prospects",
    "/api/v5/objects/prospects/1001",
    "/us1/token",
    "/us1/.well-known/openid-configuration",
    "/sandbox/services/oauth2/token",
    "/my/acme/services/oauth2/token",
    "/my/%%%/services/oauth2/token",
    "/demo/api/v5/objects/prospects",
    "/services/Soap/u/59.0",
    "/",
    "/nope/../../etc/passwd",
];

/// Read-only Pardot paths that a valid token gets past authentication on.
const READ_PATHS: &[&str] = &[
    "/demo/api/v5/objects/prospects",
    "/demo/api/prospect/version/4/do/query",
    "/demo/api/campaign/version/4/do/query",
    "/demo/api/account/version/4/do/read",
];

/// The request `i` of the run: shape `i % SHAPES`, its details drawn from a generator seeded
/// with `i`.
fn probe(i: u64, target: &Target) -> Probe {
    let mut rng = Rng::new(i);
    let path = rng.pick(PATHS).to_owned();
    let close = "Connection: close\r\n";
    let request = |method: &str, path: &str, headers: &str, body: &[u8]| {
        let mut bytes =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{close}\r\n")
                .into_bytes();
        bytes.extend_from_slice(body);
        bytes
    };
    // A POST whose Content-Length matches its body, after the `headers` given.
    let post = |path: &str, headers: &str, body: &str| {
        let headers = format!("{headers}Content-Length: {}\r\n", body.len());
        request("POST", path, &headers, body.as_bytes())
    };
    // A GET with this Host header line (none when `host` is `None`).
    let get_with_host = |path: &str, host: Option<&str>| {
        let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\n{host}{close}\r\n").into_bytes()
    };
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let json = "Content-Type: application/json\r\n";
    let (shape, path, bytes, half_close): (&'static str, String, Vec<u8>, bool) = match i % 16 {
        0 => {
            let long = "M".repeat(1 + rng.below(4000));
            let method = rng.pick(&[
                "FOO",
                "G E T",
                "GET\0",
                "get",
                "BREW",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "CONNECT",
                "HEAD",
                long.as_str(),
            ]);
            let bytes = request(method, &path, "", b"");
            ("bad method", path, bytes, false)
        }
        1 => {
            let bytes = get_with_host(&path, None);
            ("missing Host", path, bytes, false)
        }
        2 => {
            let host = "h".repeat(1 + rng.below(200 * 1024));
            let bytes = get_with_host(&path, Some(&host));
            ("huge Host", path, bytes, false)
        }
        3 => {
            let host = rng.pick(&[
                "acme.my.salesforce.com",
                "%zz.my.salesforce.com",
                "nobody.my.salesforce.com",
                "pi.pardot.com:99999",
                "[::1",
                "test.salesforce.com.evil.example",
                ".",
                "",
                "a..b",
                "my.salesforce.com",
                "pi.demo.pardot.com",
                "x\u{e9}.my.salesforce.com",
            ]);
            let bytes = get_with_host(&path, Some(host));
            ("odd Host", path, bytes, false)
        }
        4 => {
            let body = "grant_type=password&username=a";
            let promised = body.len() + 1 + rng.below(1 << 20);
            let headers = format!("{form}Content-Length: {promised}\r\n");
            let bytes = request("POST", &path, &headers, body.as_bytes());
            ("Content-Length beyond the body", path, bytes, true)
        }
        5 => {
            let length = rng.pick(&[
                "Content-Length: -1\r\n",
                "Content-Length: abc\r\n",
                "Content-Length: 1, 2\r\n",
                "Content-Length: 99999999999999999999999\r\n",
                "Content-Length: 3\r\nContent-Length: 4\r\n",
                "Content-Length: +3\r\n",
            ]);
            let bytes = request("POST", &path, length, b"abcd");
            ("bad Content-Length", path, bytes, true)
        }
        6 => {
            let (te, body): (&str, &[u8]) = match rng.below(7) {
                0 => ("chunked", b"zz\r\nabc\r\n0\r\n\r\n"),
                1 => ("chunked", b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
                2 => ("chunked", b"5\r\nab\r\n0\r\n\r\n"),
                3 => ("chunked", b"3\r\nabcXX4\r\nabcd\r\n"),
                4 => ("chunked", b"10\r\nabc"),
                5 => ("gzip, chunked", b"3\r\nabc\r\n0\r\n\r\n"),
                _ => ("chunked, identity", b"3\r\nabc\r\n0\r\n\r\n"),
            };
            let extra = if rng.below(4) == 0 {
                "Content-Length: 3\r\n"
            } else {
                ""
            };
            let headers = format!("{form}Transfer-Encoding: {te}\r\n{extra}");
            let bytes = request("POST", &path, &headers, body);
            ("chunked encoding errors", path, bytes, true)
        }
        7 => {
            let n = 1 + rng.below(4096);
            ("random bytes", path, rng.bytes(n), true)
        }
        8 => {
            let assertion = hostile_jwt(&mut rng);
            let (path, body) = if rng.below(2) == 0 {
                (
                    "/services/oauth2/token".to_owned(),
                    format!(
                        "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={assertion}"
                    ),
                )
            } else {
                (
                    "/us1/token".to_owned(),
                    format!(
                        "grant_type=client_credentials&client_assertion_type=\
                             urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion={assertion}"
                    ),
                )
            };
            let bytes = post(&path, form, &body);
            ("invalid JWT with extreme claims", path, bytes, false)
        }
        9 => {
            let query = rng.pick(&[
                "?%zz=%&%%%=%ff%fe&fields=%E0%80",
                "?fields=id%00email&limit=%2",
                "?a=%F0%9F%98&b=%C0%AF",
                "?%",
            ]);
            let path = format!(
                "{}{query}",
                rng.pick(&[
                    path.as_str(),
                    "/services/oauth2/token%ff",
                    "/api/v5/objects/prospects%00"
                ])
            );
            let body = "grant_type=%zz&password=%&username=%E0%80%80";
            let headers = format!("{form}Authorization: Bearer %00%ff\r\n");
            let bytes = post(&path, &headers, body);
            ("bad percent-encoding", path, bytes, false)
        }
        10 => {
            let base = rng.pick(READ_PATHS);
            let query: String = (0..10_000).map(|n| format!("a{}=1&", n % 10)).collect();
            let path = format!("{base}?fields=id&{query}");
            let headers = demo_headers(target);
            let bytes = request("GET", &path, &headers, b"");
            ("10,000-parameter query", base.to_owned(), bytes, false)
        }
        11 => {
            let depth = 1 + rng.below(100_000);
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let path = rng
                .pick(&[
                    "/__mock/faults",
                    "/services/oauth2/token",
                    "/us1/token",
                    "/api/v5/objects/prospects",
                ])
                .to_owned();
            let bytes = post(&path, json, &body);
            ("deep JSON", path, bytes, false)
        }
        12 => {
            let base = rng.pick(READ_PATHS);
            let junk = rng.pick(&[
                "fields=id,,,,%2C&limit=-1",
                "fields=id&limit=99999999999999999999999",
                "fields=id&orderBy=id%20SIDEWAYS",
                "fields=id&createdAtAfter=9999-99-99T99:99:99Z",
                "fields=id&nextPageToken=%FF%FE%00garbage",
                "fields=id&idGreaterThan=1e400",
                "created_after=2024-02-30%2025:61:61&offset=-5&sort_by=&limit=0",
                "id_greater_than=-9223372036854775809&format=json&output=bulk",
                "fields=campaign.id.name.x&deleted=maybe",
            ]);
            let path = format!("{base}?{junk}");
            let headers = demo_headers(target);
            let bytes = request("GET", &path, &headers, b"");
            (
                "valid token, hostile criteria",
                base.to_owned(),
                bytes,
                false,
            )
        }
        13 => {
            let auth = rng.pick(&[
                "Pardot api_key=, user_key=",
                "Pardot ,,,,",
                "Pardot api_key=\"x",
                "Pardot user_key=a, user_key=b, api_key=c",
                "Bearer",
                "Bearer \u{0}",
                "Basic !!!",
                "Pardot api_key=a,user_key=b,api_key=a,user_key=b,api_key=a,user_key=b",
            ]);
            let path = rng.pick(READ_PATHS).to_owned();
            let headers = format!(
                "Authorization: {auth}\r\nPardot-Business-Unit-Id: {}\r\n",
                fixtures::DEMO_BUSINESS_UNIT_ID
            );
            let bytes = request("GET", &path, &headers, b"");
            ("odd Authorization header", path, bytes, false)
        }
        14 => {
            let grant = rng.pick(&[
                "password",
                "refresh_token",
                "authorization_code",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
                "",
                "password&grant_type=refresh_token",
            ]);
            let long = "u".repeat(rng.below(100_000));
            let body = format!(
                "grant_type={grant}&client_id=nobody&username=nobody{long}@example&password=x&code=&refresh_token=%00&redirect_uri=javascript:alert(1)"
            );
            let path = rng
                .pick(&[
                    "/services/oauth2/token",
                    "/sandbox/services/oauth2/token",
                    "/api/login/version/4",
                    "/services/oauth2/revoke",
                ])
                .to_owned();
            let bytes = post(&path, form, &body);
            ("odd grant forms", path, bytes, false)
        }
        _ => {
            // Now and then a body at, just under or past the size limit; otherwise one
            // of a random size up to 64 KiB.
            let size = if i % 400 == 15 {
                [
                    MAX_BODY_BYTES - 1,
                    MAX_BODY_BYTES,
                    MAX_BODY_BYTES + 1,
                    2 * MAX_BODY_BYTES,
                ][rng.below(4)]
            } else {
                rng.below(64 * 1024)
            };
            let body = format!("username={}", "b".repeat(size.saturating_sub(9)));
            let bytes = post(&path, form, &body);
            ("bodies up to the limit and past it", path, bytes, false)
        }
    };
    Probe {
        shape,
        path,
        bytes,
        half_close,
    }
}

/// The headers of a request that passes authentication on the demo business unit.
fn demo_headers(target: &Target) -> String {
    format!(
        "Authorization: Bearer {}\r\nPardot-Business-Unit-Id: {}\r\n",
        target.demo_token,
        fixtures::DEMO_BUSINESS_UNIT_ID
    )
}

/// A JWT that is wrong in one of many ways: extreme or wrongly typed claims, odd headers,
/// missing or extra parts, huge or non-base64 segments.
fn hostile_jwt(rng: &mut Rng) -> String {
    let b64 = base64_url;
    let header = rng.pick(&[
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":["RS256"]}"#,
        r#"{"alg":"RS256","kid":"../../etc/passwd","x5u":"http://127.0.0.1:1/"}"#,
        "[]",
        "not json",
    ]);
    let long = "i".repeat(rng.below(50_000));
    let claims = rng.pick(&[
        r#"{"iss":"3MVG9mock.JWT.app.consumer.key.for.tests","sub":"integration@acme.example","aud":"https://login.salesforce.com","exp":1e300}"#,
        r#"{"iss":1,"sub":null,"aud":[],"exp":-1}"#,
        r#"{"exp":18446744073709551616,"iat":-9223372036854775809,"nbf":"tomorrow"}"#,
        r#"{"exp":9223372036854775807,"aud":[[[[["x"]]]]],"sub":{"a":1}}"#,
        r#"{"exp":0.5,"iss":"","sub":"","aud":""}"#,
        r#"{"jti":"\u0000","exp":"1","iss":true}"#,
        "{}",
        "1",
        long.as_str(),
    ]);
    let signature_len = rng.below(600);
    let signature = b64(&rng.bytes(signature_len));
    match rng.below(6) {
        0 => format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes())),
        1 => format!(
            "{}.{}.{signature}.extra.parts",
            b64(header.as_bytes()),
            b64(claims.as_bytes())
        ),
        2 => format!("!!!.{}.***", b64(claims.as_bytes())),
        3 => format!("{}..", b64(header.as_bytes())),
        _ => format!(
            "{}.{}.{signature}",
            b64(header.as_bytes()),
            b64(claims.as_bytes())
        ),
    }
}

/// Unpadded base64url, as JWT segments are written.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, b)| n | u32::from(*b) << (16 - 8 * k));
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]));
        }
    }
    out
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
