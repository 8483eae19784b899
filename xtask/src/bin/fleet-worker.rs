//! `fleet-worker`: one process of a fleet sharing a business unit, for the fleet rows of
//! `cargo xtask e2e` and the bench. It builds a `PardotClient` directly from pardot-http and
//! sf-oauth (a `CachedTokenSource` over the password or the refresh-token flow, a Redis or
//! file token store, a `process`, `host` or `redis` governor with an optional shared daily
//! budget and a failure policy), runs `--callers` concurrent callers of a Pardot v5 GET, each
//! making `--calls` calls, and prints one JSON line of results per wave:
//!
//! ```text
//! {"wave":0,"ok":100,"errors":{"budget":3},"elapsed_ms":41.2,"fences":[7],"token":"5f1c…"}
//! ```
//!
//! `errors` counts the typed errors by kind (see [`kind`]); `fences` lists the fences of the
//! store leases this process took during the wave (its refreshes); `token` is a fingerprint
//! of the access token it ended the wave on (never the token). With `--waves N > 1` the worker
//! reads one line from stdin before each wave, so a driver can act between waves (expire
//! tokens, stop Redis) while every worker waits. A line `{"event":"lease","fence":N}` is
//! printed the moment a store lease is taken, so a driver can kill the lease holder.
//!
//! The fixtures' users and apps (`pardot_mock::fixtures`) are the credentials: no secret is
//! passed on the command line.

use std::collections::BTreeMap;
use std::hash::{Hash as _, Hasher as _};
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pardot_auth_core::{BusinessUnitId, LoginHost, PardotHost, TokenSource};
use pardot_http::store::{
    FileStore, RedisConnection, RedisTokenStore, StoreError, StoreLease, StoredToken, TokenStore,
};
use pardot_http::{
    CachedTokenSource, DEFAULT_PERMIT_TTL, FailurePolicy, Governor, PardotClient, PardotError,
};
use pardot_mock::fixtures as fx;
use secrecy::ExposeSecret as _;
use sf_oauth::{ClientSecret, OAuthClient, Password, RefreshGrant, UsernamePassword};

/// The store key every worker of a fleet shares.
const STORE_KEY: &str = "fleet";

/// The path every caller reads.
const V5_PROSPECTS: &str = "/api/v5/objects/prospects";

/// What the worker was asked to do.
#[derive(Debug)]
struct Args {
    mock: String,
    bu: BusinessUnitId,
    callers: usize,
    calls: usize,
    waves: usize,
    redis: Option<String>,
    prefix: String,
    store: StoreKind,
    store_dir: PathBuf,
    governor: GovernorKind,
    host_dir: Option<PathBuf>,
    budget: Option<u64>,
    on_failure: FailurePolicy,
    flow: FlowKind,
    lease_ttl: Option<Duration>,
    permit_ttl: Duration,
}

#[derive(Debug, Clone, Copy)]
enum StoreKind {
    Redis,
    File,
}

#[derive(Debug, Clone, Copy)]
enum GovernorKind {
    Process,
    Host,
    Redis,
}

#[derive(Debug, Clone, Copy)]
enum FlowKind {
    /// The integration user's password grant through the web app.
    Password,
    /// Only the refresh token in the store (the rotating app): no other way to log in.
    Refresh,
}

const USAGE: &str = "usage: fleet-worker --mock URL --bu BU --store-dir DIR [--callers N] [--calls N] \
[--waves N] [--redis URL] [--prefix P] [--store redis|file] [--governor process|host|redis] \
[--host-dir DIR] [--budget N] [--on-failure fail_closed|fail_open] [--flow password|refresh] \
[--lease-ttl-ms N] [--permit-ttl-ms N]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args> {
    let mut values = BTreeMap::new();
    while let Some(name) = args.next() {
        let Some(name) = name.strip_prefix("--").map(str::to_owned) else {
            bail!("unexpected argument `{name}`\n{USAGE}");
        };
        let value = args
            .next()
            .with_context(|| format!("--{name} needs a value\n{USAGE}"))?;
        values.insert(name, value);
    }
    let mut take = |name: &str| values.remove(name);
    let number = |text: Option<String>, default: u64| -> Result<u64> {
        text.map_or(Ok(default), |t| {
            t.parse().with_context(|| format!("`{t}` is not a number"))
        })
    };
    let args = Args {
        mock: take("mock").context(USAGE)?,
        bu: take("bu").context(USAGE)?.parse().context("--bu")?,
        callers: usize::try_from(number(take("callers"), 1)?)?,
        calls: usize::try_from(number(take("calls"), 1)?)?,
        waves: usize::try_from(number(take("waves"), 1)?)?.max(1),
        redis: take("redis"),
        prefix: take("prefix").unwrap_or_else(|| "fleet".to_owned()),
        store: match take("store").as_deref() {
            None | Some("redis") => StoreKind::Redis,
            Some("file") => StoreKind::File,
            Some(other) => bail!("unknown store `{other}` (redis, file)"),
        },
        store_dir: take("store-dir").context(USAGE)?.into(),
        governor: match take("governor").as_deref() {
            None | Some("redis") => GovernorKind::Redis,
            Some("process") => GovernorKind::Process,
            Some("host") => GovernorKind::Host,
            Some(other) => bail!("unknown governor `{other}` (process, host, redis)"),
        },
        host_dir: take("host-dir").map(PathBuf::from),
        budget: take("budget").map(|b| number(Some(b), 0)).transpose()?,
        on_failure: match take("on-failure").as_deref() {
            None | Some("fail_closed") => FailurePolicy::FailClosed,
            Some("fail_open") => FailurePolicy::FailOpen,
            Some(other) => bail!("unknown failure policy `{other}` (fail_closed, fail_open)"),
        },
        flow: match take("flow").as_deref() {
            None | Some("password") => FlowKind::Password,
            Some("refresh") => FlowKind::Refresh,
            Some(other) => bail!("unknown flow `{other}` (password, refresh)"),
        },
        lease_ttl: take("lease-ttl-ms")
            .map(|t| number(Some(t), 0).map(Duration::from_millis))
            .transpose()?,
        permit_ttl: take("permit-ttl-ms")
            .map(|t| number(Some(t), 0).map(Duration::from_millis))
            .transpose()?
            .unwrap_or(DEFAULT_PERMIT_TTL),
    };
    if let Some(unknown) = values.keys().next() {
        bail!("unknown option --{unknown}\n{USAGE}");
    }
    Ok(args)
}

/// A store that reports the fences of the leases it grants (stdout at once, and per wave).
#[derive(Debug)]
struct ReportingStore {
    inner: Arc<dyn TokenStore>,
    fences: Mutex<Vec<u64>>,
}

impl ReportingStore {
    fn take_fences(&self) -> Vec<u64> {
        std::mem::take(&mut *self.fences.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait::async_trait]
impl TokenStore for ReportingStore {
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        self.inner.load(key).await
    }
    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        self.inner.save(key, record).await
    }
    async fn save_fenced(
        &self,
        lease: &StoreLease,
        record: &StoredToken,
    ) -> Result<(), StoreError> {
        self.inner.save_fenced(lease, record).await
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner.remove(key).await
    }
    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError> {
        let lease = self.inner.lock(key, wait).await?;
        emit(&serde_json::json!({"event": "lease", "fence": lease.fence()}));
        self.fences
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(lease.fence());
        Ok(lease)
    }
    async fn revision(&self, key: &str) -> Result<u64, StoreError> {
        self.inner.revision(key).await
    }
    async fn changed(&self, key: &str, since: u64, timeout: Duration) -> Result<u64, StoreError> {
        self.inner.changed(key, since, timeout).await
    }
}

/// Prints one JSON line and flushes it, so the driver sees it at once.
fn emit(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// The kind of a failed call, as counted in the results.
fn kind(error: &PardotError) -> String {
    match error {
        PardotError::Api { code, .. } => format!("api_{code}"),
        PardotError::Throttled { .. } => "throttled".to_owned(),
        PardotError::BudgetExhausted { .. } => "budget".to_owned(),
        PardotError::Store(_) => "store".to_owned(),
        PardotError::Token(_) => "token".to_owned(),
        PardotError::Timeout(_) => "timeout".to_owned(),
        PardotError::Transport(_) => "transport".to_owned(),
        PardotError::Http { .. } => "http".to_owned(),
        _ => "other".to_owned(),
    }
}

/// A fingerprint of a token, equal across processes for the same token, that does not
/// reveal it.
fn fingerprint(secret: &str) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    secret.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

async fn store(args: &Args, redis: Option<&RedisConnection>) -> Result<Arc<dyn TokenStore>> {
    Ok(match args.store {
        StoreKind::Redis => {
            let connection = redis.context("--store redis needs --redis")?;
            let mut store = RedisTokenStore::new(connection.clone()).with_prefix(&args.prefix)?;
            if let Some(ttl) = args.lease_ttl {
                store = store.with_lease_ttl(ttl);
            }
            Arc::new(store)
        }
        StoreKind::File => Arc::new(FileStore::new(&args.store_dir)?),
    })
}

fn governor(args: &Args, redis: Option<&RedisConnection>) -> Result<Governor> {
    let limit = pardot_http::PARDOT_CONCURRENCY_LIMIT;
    let governor = match args.governor {
        GovernorKind::Process => Governor::new(Some(limit)),
        GovernorKind::Host => {
            let dir = args.host_dir.as_ref().unwrap_or(&args.store_dir);
            Governor::host(dir, args.bu.as_str(), limit)?
        }
        GovernorKind::Redis => {
            let connection = redis.context("--governor redis needs --redis")?;
            Governor::redis(
                connection.clone(),
                &args.prefix,
                args.bu.as_str(),
                limit,
                args.permit_ttl,
            )?
        }
    };
    let governor = match args.budget {
        Some(budget) => governor.with_daily_budget(budget),
        None => governor,
    };
    Ok(governor.with_failure_policy(args.on_failure))
}

fn source(args: &Args, oauth: &OAuthClient) -> Result<Arc<dyn TokenSource>> {
    let host = LoginHost::custom(&args.mock)?;
    Ok(match args.flow {
        FlowKind::Password => Arc::new(
            UsernamePassword::new(
                host,
                fx::WEB_CONSUMER_KEY,
                ClientSecret::new(fx::WEB_CONSUMER_SECRET),
                fx::INTEGRATION_USERNAME,
                Password::new(fx::INTEGRATION_PASSWORD),
            )
            .with_security_token(Password::new(fx::INTEGRATION_SECURITY_TOKEN))
            .with_client(oauth.clone()),
        ),
        FlowKind::Refresh => Arc::new(pardot_auth_core::provide_token_fn(
            "refresh token only",
            || async {
                Err(pardot_auth_core::Error::config(
                    "this worker only refreshes with the stored refresh token",
                ))
            },
        )),
    })
}

async fn build(args: &Args) -> Result<(PardotClient, Arc<ReportingStore>)> {
    let redis = match &args.redis {
        Some(url) => Some(RedisConnection::open(url).await?),
        None => None,
    };
    let oauth = OAuthClient::builder()
        .no_proxy()
        .build()
        .context("building the OAuth client")?;
    let reporting = Arc::new(ReportingStore {
        inner: store(args, redis.as_ref()).await?,
        fences: Mutex::new(Vec::new()),
    });
    let mut cache = CachedTokenSource::builder(source(args, &oauth)?)
        .store(reporting.clone())
        .store_key(STORE_KEY);
    if let FlowKind::Refresh = args.flow {
        let host = LoginHost::custom(&args.mock)?;
        let grant = RefreshGrant::new(host, fx::ROTATING_CONSUMER_KEY)
            .with_client_secret(ClientSecret::new(fx::ROTATING_CONSUMER_SECRET))
            .with_client(oauth.clone());
        cache = cache.refresh_grant(Arc::new(grant));
    }
    let client = PardotClient::builder_with_cache(cache.build(), PardotHost::custom(&args.mock)?)
        .business_unit(args.bu.clone())
        .governor(governor(args, redis.as_ref())?)
        .no_proxy()
        .build()?;
    Ok((client, reporting))
}

/// One wave: every caller makes its calls; returns the successes and the errors by kind.
async fn wave(client: &PardotClient, callers: usize, calls: usize) -> (u64, BTreeMap<String, u64>) {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut results = Vec::with_capacity(calls);
                for _ in 0..calls {
                    let answer = client
                        .get(V5_PROSPECTS)
                        .query([("fields", "id")])
                        .send()
                        .await;
                    results.push(match answer {
                        Ok(response) if response.status() == 200 => Ok(()),
                        Ok(response) => Err(format!("http_{}", response.status().as_u16())),
                        Err(e) => Err(kind(&e)),
                    });
                }
                results
            })
        })
        .collect();
    let mut ok = 0;
    let mut errors = BTreeMap::new();
    for task in tasks {
        let results = task.await.unwrap_or_else(|_| vec![Err("panic".to_owned())]);
        for result in results {
            match result {
                Ok(()) => ok += 1,
                Err(kind) => *errors.entry(kind).or_insert(0) += 1,
            }
        }
    }
    (ok, errors)
}

async fn run(args: Args) -> Result<()> {
    let (client, store) = build(&args).await?;
    let mut stdin = std::io::stdin().lock();
    for index in 0..args.waves {
        if args.waves > 1 {
            let mut go = String::new();
            if stdin.read_line(&mut go)? == 0 {
                bail!("stdin closed before wave {index}");
            }
        }
        let started = Instant::now();
        let (ok, errors) = wave(&client, args.callers, args.calls).await;
        let token = client
            .token_cache()
            .and_then(CachedTokenSource::cached)
            .map(|t| fingerprint(t.secret().expose_secret()));
        emit(&serde_json::json!({
            "wave": index,
            "ok": ok,
            "errors": errors,
            "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0,
            "fences": store.take_fences(),
            "token": token,
        }));
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("fleet-worker: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fleet-worker: no runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet-worker: {e:#}");
            emit(&serde_json::json!({"fatal": format!("{e:#}")}));
            std::process::ExitCode::FAILURE
        }
    }
}
