//! `cargo xtask e2e --faults`: every flow against every fault, one cell each, printed as one
//! table and asserted cell by cell.
//!
//! Each cell is its own `pardot-mock` and its own client stack, built the way
//! `pardot_auth::Connector` builds it (the flow from a `Config`, `pardot-http`'s cache and
//! client) but with short bounds so a fault costs milliseconds: a 500 ms token fetch timeout,
//! a 500 ms per-attempt timeout, backoffs of a few milliseconds. The call is `account read`
//! (v4), which every flow can make. A cell shows the outcome and, in brackets, the requests
//! the mock saw; `n/a` where the fault cannot happen to the flow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail, ensure};
use pardot_auth::pardot_http::store::MemoryStore;
use pardot_auth::{Config, Connector};
use pardot_auth_core::{
    ErrorClass, ErrorKind, ManualClock, PardotErrorCode, SharedClock, SystemClock,
};
use pardot_http::{CachedTokenSource, PardotClient, PardotError};
use pardot_mock::{MockConfig, PardotMock, PardotStatusMode, Route, fixtures as fx};

use super::super::support::{business_unit, count, quick_retries, requests, total};
use super::V4_ACCOUNT;

/// The longest one token fetch may take in a cell.
const FETCH_TIMEOUT: Duration = Duration::from_millis(500);
/// The longest one Pardot attempt may take in a cell.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// The mock's added latency for "slow past the timeout": four times the fetch bound.
const SLOW: Duration = Duration::from_secs(2);
/// A token answer larger than sf-oauth's and pardot-legacy's 64 KiB bound.
const OVERSIZED_BYTES: usize = 256 * 1024;
/// The mock's session timeout where the matrix moves the clock past it.
const SESSION: Duration = Duration::from_secs(15 * 60);
/// The longest one cell may run.
const CELL_TIMEOUT: Duration = Duration::from_secs(30);

/// The flows of the matrix, one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowKind {
    Jwt,
    Password,
    ClientCredentials,
    Refresh,
    Legacy,
}

const FLOWS: [FlowKind; 5] = [
    FlowKind::Jwt,
    FlowKind::Password,
    FlowKind::ClientCredentials,
    FlowKind::Refresh,
    FlowKind::Legacy,
];

impl FlowKind {
    fn name(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Password => "password",
            Self::ClientCredentials => "client-credentials",
            Self::Refresh => "refresh (rotating)",
            Self::Legacy => "legacy",
        }
    }

    /// The route that hands out this flow's tokens.
    fn token_route(self) -> Route {
        match self {
            Self::Legacy => Route::PardotLogin,
            _ => Route::OAuthToken,
        }
    }

    /// The connected app the flow signs in with (none for legacy).
    fn consumer_key(self) -> Option<&'static str> {
        match self {
            Self::Jwt => Some(fx::JWT_CONSUMER_KEY),
            Self::Password => Some(fx::WEB_CONSUMER_KEY),
            Self::ClientCredentials => Some(fx::CC_CONSUMER_KEY),
            Self::Refresh => Some(fx::ROTATING_CONSUMER_KEY),
            Self::Legacy => None,
        }
    }

    /// The settings `Config::from_lookup` reads, with the login server at `login` (the
    /// mock, or a proxy in front of it) and Pardot at `pardot`.
    fn vars(self, mock: &PardotMock, login: &str, pardot: &str) -> Vec<(&'static str, String)> {
        let key = crate::project_root().join("fixtures/keys/connected-app.key");
        let mut vars: Vec<(&'static str, String)> = match self {
            Self::Jwt => vec![
                ("PARDOT_AUTH_FLOW", "jwt".into()),
                ("SF_CLIENT_ID", fx::JWT_CONSUMER_KEY.into()),
                ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
                ("SF_PRIVATE_KEY_FILE", key.display().to_string()),
            ],
            Self::Password => vec![
                ("PARDOT_AUTH_FLOW", "password".into()),
                ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::WEB_CONSUMER_SECRET.into()),
                ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
                (
                    "SF_PASSWORD",
                    format!(
                        "{}{}",
                        fx::INTEGRATION_PASSWORD,
                        fx::INTEGRATION_SECURITY_TOKEN
                    ),
                ),
            ],
            Self::ClientCredentials => vec![
                ("PARDOT_AUTH_FLOW", "client-credentials".into()),
                ("SF_CLIENT_ID", fx::CC_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::CC_CONSUMER_SECRET.into()),
            ],
            Self::Refresh => vec![
                ("PARDOT_AUTH_FLOW", "refresh".into()),
                ("SF_CLIENT_ID", fx::ROTATING_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::ROTATING_CONSUMER_SECRET.into()),
                ("SF_REFRESH_TOKEN", fx::ROTATING_REFRESH_TOKEN.into()),
            ],
            Self::Legacy => vec![
                ("PARDOT_AUTH_FLOW", "legacy".into()),
                ("PARDOT_EMAIL", fx::LEGACY_V4_EMAIL.into()),
                ("PARDOT_PASSWORD", fx::LEGACY_V4_PASSWORD.into()),
                ("PARDOT_USER_KEY", fx::LEGACY_V4_USER_KEY.into()),
            ],
        };
        // Client credentials are served on the org's My Domain only.
        let login = match self {
            Self::ClientCredentials => format!(
                "{login}{}",
                mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN)
                    .trim_start_matches(&mock.url())
            ),
            _ => login.to_owned(),
        };
        vars.extend([
            ("SF_LOGIN_URL", login),
            ("PARDOT_URL", pardot.to_owned()),
            ("PARDOT_BUSINESS_UNIT_ID", fx::BUSINESS_UNIT_ID.into()),
        ]);
        vars
    }
}

/// The faults of the matrix, one row each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    TokenUnavailable,
    TokenSlow,
    TokenGarbage,
    TokenOversized,
    TokenConnectionReset,
    EarlyExpiry,
    Concurrency66,
    Daily122,
    Invalid184,
    Status400For401,
    RotatedRefreshReused,
    RevokedApproval,
    ClockAhead,
    ClockBehind,
}

const FAULTS: [FaultKind; 14] = [
    FaultKind::TokenUnavailable,
    FaultKind::TokenSlow,
    FaultKind::TokenGarbage,
    FaultKind::TokenOversized,
    FaultKind::TokenConnectionReset,
    FaultKind::EarlyExpiry,
    FaultKind::Concurrency66,
    FaultKind::Daily122,
    FaultKind::Invalid184,
    FaultKind::Status400For401,
    FaultKind::RotatedRefreshReused,
    FaultKind::RevokedApproval,
    FaultKind::ClockAhead,
    FaultKind::ClockBehind,
];

impl FaultKind {
    fn name(self) -> &'static str {
        match self {
            Self::TokenUnavailable => "token endpoint 503",
            Self::TokenSlow => "token endpoint slow past timeout",
            Self::TokenGarbage => "token endpoint garbage body",
            Self::TokenOversized => "token endpoint oversized body",
            Self::TokenConnectionReset => "token endpoint connection reset",
            Self::EarlyExpiry => "early expiry",
            Self::Concurrency66 => "error 66",
            Self::Daily122 => "error 122",
            Self::Invalid184 => "error 184",
            Self::Status400For401 => "400 instead of 401",
            Self::RotatedRefreshReused => "rotated refresh token reused",
            Self::RevokedApproval => "revoked approval",
            Self::ClockAhead => "clock skew +5 min",
            Self::ClockBehind => "clock skew -5 min",
        }
    }
}

/// One cell's result: the outcome as printed, and the requests the mock saw.
struct Cell {
    outcome: String,
    mock_requests: u64,
}

/// A mock, a client for one flow on it, and the proxy in front of it when there is one.
struct Rig {
    mock: PardotMock,
    flow: FlowKind,
    client: PardotClient,
    proxy: Option<tokio::task::JoinHandle<()>>,
    /// The clock the mock and the client share, when they do.
    shared: Option<ManualClock>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(proxy) = self.proxy.take() {
            proxy.abort();
        }
    }
}

/// What a rig is built with beside the flow.
struct RigSettings {
    config: MockConfig,
    /// The client's clock.
    clock: SharedClock,
    /// A clock the mock shares with the client (`clock` is then ignored).
    shared: Option<ManualClock>,
    /// Connections a proxy in front of the token server resets before it forwards.
    resets: usize,
}

impl Default for RigSettings {
    fn default() -> Self {
        Self {
            config: MockConfig::defaults(),
            clock: SystemClock::shared(),
            shared: None,
            resets: 0,
        }
    }
}

impl Rig {
    async fn start(flow: FlowKind, settings: RigSettings) -> Result<Self> {
        let mut builder = PardotMock::builder().config(settings.config);
        let clock = match &settings.shared {
            Some(shared) => {
                builder = builder.clock(shared);
                shared.shared()
            }
            None => settings.clock,
        };
        let mock = builder.start().await.context("pardot-mock did not start")?;
        let (proxy, front) = if settings.resets > 0 {
            let (addr, task) = resetting_proxy(mock.addr(), settings.resets).await?;
            (Some(task), format!("http://{addr}"))
        } else {
            (None, mock.url())
        };
        // The legacy login lives on the Pardot host: the proxy stands in for it there.
        let (login, pardot) = match flow {
            FlowKind::Legacy => (mock.url(), front),
            _ => (front, mock.url()),
        };
        let client = client(flow, &flow.vars(&mock, &login, &pardot), &clock)?;
        Ok(Self {
            mock,
            flow,
            client,
            proxy,
            shared: settings.shared,
        })
    }

    /// Another client of the same flow on the same mock, as a second process would have.
    fn second_client(&self) -> Result<PardotClient> {
        let url = self.mock.url();
        client(
            self.flow,
            &self.flow.vars(&self.mock, &url, &url),
            &SystemClock::shared(),
        )
    }

    fn token_requests(&self) -> u64 {
        total(&self.mock, self.flow.token_route())
    }

    fn pardot_requests(&self) -> u64 {
        total(&self.mock, Route::PardotV4)
    }
}

/// The flow of `vars` as `Connector` builds it, behind a cache and a client with the
/// matrix's short bounds.
fn client(flow: FlowKind, vars: &[(&str, String)], clock: &SharedClock) -> Result<PardotClient> {
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?;
    let host = config.pardot_host.clone();
    let source = Connector::new(config)
        .clock(clock.clone())
        .flow_source()
        .context("building the flow")?;
    let mut cache = CachedTokenSource::builder(source.source)
        .clock(clock.clone())
        .store(Arc::new(MemoryStore::new()))
        .store_key("matrix")
        .fetch_timeout(FETCH_TIMEOUT)
        .backoff(Duration::from_millis(2), Duration::from_millis(10));
    if let Some(grant) = source.refresh_grant {
        cache = cache.refresh_grant(grant);
    }
    let mut b = PardotClient::builder_with_cache(cache.build(), host)
        .clock(clock.clone())
        .timeout(ATTEMPT_TIMEOUT)
        .retry_policy(quick_retries(3, 2, 10, Duration::from_secs(5)))
        .no_proxy();
    if flow != FlowKind::Legacy {
        b = b.business_unit(business_unit(fx::BUSINESS_UNIT_ID)?);
    }
    Ok(b.build()?)
}

/// A loopback proxy in front of `target` that resets the first `resets` connections (zero
/// linger: the client reads a TCP RST) and forwards the rest byte for byte.
async fn resetting_proxy(
    target: SocketAddr,
    resets: usize,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut left = resets;
        while let Ok((mut inbound, _)) = listener.accept().await {
            if left > 0 {
                left -= 1;
                let _ = inbound.set_zero_linger();
                drop(inbound);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((addr, task))
}

/// `account read` on `client`: the attempts it took.
async fn read(client: &PardotClient) -> Result<u32, PardotError> {
    client.get(V4_ACCOUNT).send().await.map(|r| r.attempts())
}

/// A call that must succeed, in exactly `attempts` attempts.
async fn read_ok(client: &PardotClient, attempts: u32) -> Result<()> {
    let took = read(client).await.context("the call failed")?;
    ensure!(took == attempts, "{took} attempts, expected {attempts}");
    Ok(())
}

/// A call that must fail on the token fetch with one of `kinds`: the kind and class it had.
async fn token_failure(
    client: &PardotClient,
    kinds: &[ErrorKind],
) -> Result<(ErrorKind, ErrorClass)> {
    match read(client).await {
        Ok(_) => bail!("the call passed"),
        Err(PardotError::Token(e)) => {
            ensure!(kinds.contains(&e.kind()), "expected one of {kinds:?}: {e}");
            Ok((e.kind(), e.class()))
        }
        Err(other) => bail!("expected a token error: {other}"),
    }
}

fn v4_error(code: u32, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rsp stat="fail" version="1.0"><err code="{code}">{message}</err></rsp>"#
    )
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::RetryLater { .. } => "RetryLater",
        ErrorClass::RefreshAndRetry => "RefreshAndRetry",
        ErrorClass::NeverRetry => "NeverRetry",
        _ => "CallerBug",
    }
}

/// A token endpoint fault on the first fetch: the typed error (one of `kinds`) before the
/// mock's `SLOW` delay could pass and with no Pardot request, then, once the fault is gone,
/// the next call succeeds on one more fetch.
async fn token_fault_then_recovery(
    rig: &Rig,
    kinds: &[ErrorKind],
    inject: impl FnOnce(&PardotMock, Route) -> Result<()>,
) -> Result<String> {
    inject(&rig.mock, rig.flow.token_route())?;
    let started = Instant::now();
    let (kind, class) = token_failure(&rig.client, kinds).await?;
    let waited = started.elapsed();
    ensure!(waited < SLOW, "the failure took {waited:?}");
    ensure!(
        rig.pardot_requests() == 0,
        "Pardot was called without a token"
    );
    rig.mock.fault(pardot_mock::Fault::Clear)?;
    read_ok(&rig.client, 1).await?;
    ensure!(
        count(&rig.mock, Route::PardotV4, pardot_mock::Outcome::Ok) == 1,
        "{:?}",
        rig.mock.counts()
    );
    Ok(format!("{kind:?} error, {}; then ok", class_name(class)))
}

async fn run_cell(flow: FlowKind, fault: FaultKind) -> Result<Option<Cell>> {
    let rig = match fault {
        FaultKind::RotatedRefreshReused if flow != FlowKind::Refresh => return Ok(None),
        FaultKind::RevokedApproval if flow == FlowKind::Legacy => return Ok(None),
        FaultKind::TokenConnectionReset => {
            Rig::start(
                flow,
                RigSettings {
                    resets: 1,
                    ..RigSettings::default()
                },
            )
            .await?
        }
        FaultKind::Status400For401 => {
            let mut config = MockConfig::defaults();
            config.pardot_status_mode = PardotStatusMode::Legacy;
            for org in &mut config.orgs {
                org.session_timeout_secs = SESSION.as_secs();
            }
            Rig::start(
                flow,
                RigSettings {
                    config,
                    shared: Some(ManualClock::new()),
                    ..RigSettings::default()
                },
            )
            .await?
        }
        FaultKind::ClockAhead | FaultKind::ClockBehind => {
            let skew = Duration::from_secs(5 * 60);
            let now = SystemTime::now();
            let start = if fault == FaultKind::ClockAhead {
                now + skew
            } else {
                now - skew
            };
            Rig::start(
                flow,
                RigSettings {
                    clock: ManualClock::starting_at(start).shared(),
                    ..RigSettings::default()
                },
            )
            .await?
        }
        _ => Rig::start(flow, RigSettings::default()).await?,
    };
    let outcome = run_fault(&rig, fault).await?;
    Ok(Some(Cell {
        outcome,
        mock_requests: requests(&rig.mock),
    }))
}

async fn run_fault(rig: &Rig, fault: FaultKind) -> Result<String> {
    let flow = rig.flow;
    match fault {
        FaultKind::TokenUnavailable => {
            token_fault_then_recovery(
                rig,
                &[ErrorKind::Server, ErrorKind::InvalidResponse],
                |mock, route| Ok(mock.fail_next(route, 1, 503, "Service Unavailable")?),
            )
            .await
        }
        FaultKind::TokenSlow => {
            token_fault_then_recovery(rig, &[ErrorKind::Timeout], |mock, route| {
                Ok(mock.set_latency(SLOW, Some(route.into()))?)
            })
            .await
        }
        FaultKind::TokenGarbage => {
            token_fault_then_recovery(rig, &[ErrorKind::InvalidResponse], |mock, route| {
                Ok(mock.fail_next(route, 1, 200, "<html><body>Gateway says hi")?)
            })
            .await
        }
        FaultKind::TokenOversized => {
            token_fault_then_recovery(rig, &[ErrorKind::InvalidResponse], |mock, route| {
                Ok(mock.fail_next(route, 1, 200, &"x".repeat(OVERSIZED_BYTES))?)
            })
            .await
        }
        FaultKind::TokenConnectionReset => {
            // The proxy reset the first connection: the mock never saw that attempt.
            let outcome =
                token_fault_then_recovery(rig, &[ErrorKind::Transport], |_, _| Ok(())).await?;
            ensure!(rig.token_requests() == 1, "{:?}", rig.mock.counts());
            Ok(outcome)
        }
        FaultKind::EarlyExpiry => {
            read_ok(&rig.client, 1).await?;
            rig.mock.expire_all_tokens()?;
            read_ok(&rig.client, 2).await?;
            ensure!(rig.token_requests() == 2, "not one refresh");
            Ok("ok: 1 refresh, 1 retry".into())
        }
        FaultKind::Concurrency66 => {
            rig.mock.fail_next(
                Route::PardotV4,
                1,
                400,
                &v4_error(
                    66,
                    "You have exceeded your concurrent request limit.  Please wait, before trying again",
                ),
            )?;
            read_ok(&rig.client, 2).await?;
            ensure!(rig.client.metrics().throttle_retries == 1);
            Ok("ok: 1 retry after backoff".into())
        }
        FaultKind::Daily122 => {
            rig.mock.fail_next(
                Route::PardotV4,
                1,
                400,
                &v4_error(122, "Daily API rate limit met"),
            )?;
            let err = read(&rig.client).await.err().context("the call passed")?;
            ensure!(
                err.pardot_code() == Some(PardotErrorCode::DAILY_LIMIT)
                    && err.class() == ErrorClass::NeverRetry,
                "{err}"
            );
            ensure!(rig.pardot_requests() == 1, "the 122 was retried");
            Ok("NeverRetry (122), not retried".into())
        }
        FaultKind::Invalid184 => {
            read_ok(&rig.client, 1).await?;
            rig.mock.fail_next(
                Route::PardotV4,
                1,
                401,
                &v4_error(184, "access_token is invalid, unknown, or malformed"),
            )?;
            read_ok(&rig.client, 2).await?;
            ensure!(rig.client.metrics().expiry_retries == 1);
            Ok("ok: 1 refresh, 1 retry".into())
        }
        FaultKind::Status400For401 => {
            read_ok(&rig.client, 1).await?;
            // An OAuth session ends on the mock's clock before the client's 2-hour estimate
            // (Pardot answers 400); a legacy api_key the client knows the life of is ended by
            // the mock instead (Pardot answers 200 with stat="fail").
            let clock = rig.shared.as_ref().context("no shared clock")?;
            let (rejected, said) = if flow == FlowKind::Legacy {
                rig.mock.expire_all_tokens()?;
                (200, "the 200 stat=\"fail\"")
            } else {
                clock.advance(SESSION + Duration::from_secs(60));
                (400, "the 400")
            };
            read_ok(&rig.client, 2).await?;
            let statuses: Vec<u16> = rig
                .mock
                .journal()
                .into_iter()
                .filter(|e| e.route == Route::PardotV4)
                .map(|e| e.status)
                .collect();
            ensure!(statuses == [200, rejected, 200], "v4 statuses {statuses:?}");
            ensure!(rig.token_requests() == 2, "not one refresh");
            Ok(format!("ok: {said} read as expiry, 1 retry"))
        }
        FaultKind::RotatedRefreshReused => {
            read_ok(&rig.client, 1).await?;
            // A second process still holds the refresh token the first one rotated away.
            let stale = rig.second_client()?;
            let class = match read(&stale).await {
                Err(PardotError::Token(e)) => {
                    ensure!(e.message().contains("expired access/refresh token"), "{e}");
                    e.class()
                }
                other => bail!("a reused refresh token was accepted: {:?}", other.err()),
            };
            ensure!(class == ErrorClass::NeverRetry, "{class:?}");
            ensure!(rig.token_requests() == 2, "the stale token was tried twice");
            Ok("NeverRetry, 1 token request".into())
        }
        FaultKind::RevokedApproval => {
            read_ok(&rig.client, 1).await?;
            let key = flow.consumer_key().context("no connected app")?;
            rig.mock.revoke_app_approval(key)?;
            // The password and client credentials grants never needed an approval on a
            // self-authorize app: the revoked token is replaced.
            if matches!(flow, FlowKind::Password | FlowKind::ClientCredentials) {
                read_ok(&rig.client, 2).await?;
                return Ok("ok: a new token, no approval needed".into());
            }
            let err = read(&rig.client)
                .await
                .err()
                .context("a revoked app got in")?;
            ensure!(err.class() == ErrorClass::NeverRetry, "{err}");
            ensure!(rig.pardot_requests() == 2, "the rejected call was re-sent");
            // The cache tries the stored refresh token, then the flow itself (for the refresh
            // flow: the configured refresh token), each once.
            let grants = if flow == FlowKind::Refresh { 3 } else { 2 };
            ensure!(
                rig.token_requests() == grants,
                "{} token requests, expected {grants}",
                rig.token_requests()
            );
            Ok("NeverRetry, not retried".into())
        }
        FaultKind::ClockAhead | FaultKind::ClockBehind => {
            read_ok(&rig.client, 1).await?;
            read_ok(&rig.client, 1).await?;
            ensure!(rig.token_requests() == 1, "the token was not kept");
            Ok("ok".into())
        }
    }
}

/// Runs every cell, prints the table, and says whether every cell held.
pub(crate) fn run() -> Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for fault in FAULTS {
        let mut cells = Vec::new();
        for flow in FLOWS {
            let result = runtime.block_on(async {
                tokio::time::timeout(CELL_TIMEOUT, run_cell(flow, fault))
                    .await
                    .unwrap_or_else(|_| bail!("timed out after {}s", CELL_TIMEOUT.as_secs()))
            });
            cells.push(match result {
                Ok(Some(cell)) => format!("{} [{}]", cell.outcome, cell.mock_requests),
                Ok(None) => "n/a".to_owned(),
                Err(e) => {
                    failures.push(format!("{} x {}: {e:#}", fault.name(), flow.name()));
                    "FAIL".to_owned()
                }
            });
        }
        rows.push((fault.name(), cells));
    }
    print_table(&rows);
    for failure in &failures {
        println!("FAIL {failure}");
    }
    let cells = FAULTS.len() * FLOWS.len();
    println!(
        "\n{} of {cells} cells held, {} failed, in {:.1}s",
        cells - failures.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(failures.is_empty())
}

fn print_table(rows: &[(&str, Vec<String>)]) {
    println!(
        "fault matrix: outcome [requests the mock saw] per flow; token fetch bound {}ms, attempt \
         bound {}ms\n",
        FETCH_TIMEOUT.as_millis(),
        ATTEMPT_TIMEOUT.as_millis()
    );
    let mut header = vec!["fault".to_owned()];
    header.extend(FLOWS.iter().map(|f| f.name().to_owned()));
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for (fault, cells) in rows {
        println!("| {fault} | {} |", cells.join(" | "));
    }
}
