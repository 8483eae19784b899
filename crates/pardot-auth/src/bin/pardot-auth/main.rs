//! `pardot-auth`: log in to Pardot (Account Engagement) and Marketing Cloud Intelligence by
//! every Salesforce route, keep the token, check the setup, call the API, run the mock.
//!
//! Exit codes: 0 success; 1 unexpected failure; 2 usage or configuration error (a missing or
//! bad variable or flag); 3 refused (credentials, approval, audience, business unit, scope:
//! fix the setup, retrying will not help); 4 temporary (network, timeout, throttling, a server
//! down: try again later); 5 local file or token-store error.

mod keygen;
mod whoami;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand, ValueEnum};
use pardot_auth::core::secrecy::ExposeSecret;
use pardot_auth::core::url::Url;
use pardot_auth::pardot_http::store::StoredToken;
use pardot_auth::{
    AccessToken, Config, ConfigError, ConnectError, Connector, Error, ErrorClass, FileStore, Flow,
    FlowConfig, PardotError, StoreKind, TokenKind, TokenStore,
};

/// Log in to Pardot (Account Engagement) and Marketing Cloud Intelligence by every Salesforce
/// route, keep the token, check the setup, call the API, run the mock.
///
/// Settings come from flags, then the environment, then a `.env` file in the current directory
/// or a parent (PARDOT_AUTH_FLOW, SF_LOGIN_URL, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_USERNAME,
/// SF_PASSWORD, SF_SECURITY_TOKEN, SF_PRIVATE_KEY_FILE, SF_REDIRECT_URI, SF_REFRESH_TOKEN,
/// PARDOT_URL, PARDOT_BUSINESS_UNIT_ID, PARDOT_EMAIL, PARDOT_PASSWORD, PARDOT_USER_KEY,
/// MCI_SERVICE_ACCOUNT_ID, MCI_DISCOVERY_URL, MCI_PRIVATE_KEY_FILE), and where tokens are kept
/// and limits shared (PARDOT_AUTH_STORE=file|redis|memory, default file; PARDOT_AUTH_STORE_DIR,
/// PARDOT_AUTH_REDIS_URL, PARDOT_AUTH_GOVERNOR, PARDOT_AUTH_DAILY_BUDGET, PARDOT_AUTH_DAY_OFFSET,
/// PARDOT_AUTH_REDIS_PREFIX, PARDOT_AUTH_REDIS_ON_FAILURE, PARDOT_AUTH_STORE_ENCRYPTION_KEY).
/// Secrets are read from the environment only, never from flags.
///
/// Exit codes: 0 ok; 1 unexpected; 2 usage or configuration; 3 refused (fix the setup);
/// 4 temporary (try again); 5 local file or token store.
#[derive(Debug, Parser)]
#[command(name = "pardot-auth", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Directory of the file token store (one 0600 JSON file per credential) and of the host
    /// governor. Default: $XDG_CACHE_HOME/pardot-auth or ~/.cache/pardot-auth.
    #[arg(long, global = true, env = "PARDOT_AUTH_STORE_DIR", value_name = "DIR")]
    store_dir: Option<PathBuf>,
    /// The flow for token, whoami and request (PARDOT_AUTH_FLOW).
    #[arg(long, global = true, value_enum)]
    flow: Option<FlowArg>,
    /// Salesforce login URL (SF_LOGIN_URL): https://login.salesforce.com, https://test.salesforce.com, a My Domain URL, `production` or `sandbox`.
    #[arg(long, global = true, value_name = "URL")]
    login_url: Option<String>,
    /// Connected app consumer key (SF_CLIENT_ID).
    #[arg(long, global = true, value_name = "KEY")]
    client_id: Option<String>,
    /// Salesforce username (SF_USERNAME).
    #[arg(long, global = true)]
    username: Option<String>,
    /// PEM private key of the connected app (SF_PRIVATE_KEY_FILE).
    #[arg(long, global = true, value_name = "FILE")]
    private_key_file: Option<PathBuf>,
    /// Loopback redirect URI of the web flow (SF_REDIRECT_URI; default http://localhost:7777/callback).
    #[arg(long, global = true, value_name = "URL")]
    redirect_uri: Option<String>,
    /// Pardot host (PARDOT_URL): https://pi.pardot.com or https://pi.demo.pardot.com.
    #[arg(long, global = true, value_name = "URL")]
    pardot_url: Option<String>,
    /// Business unit id, 0Uv… (PARDOT_BUSINESS_UNIT_ID).
    #[arg(long, global = true, value_name = "ID")]
    business_unit: Option<String>,
    /// Legacy Pardot user email (PARDOT_EMAIL).
    #[arg(long, global = true)]
    email: Option<String>,
    /// More log output on stderr (-v info, -vv debug; default: warnings such as retries on a
    /// terminal, errors only otherwise); PARDOT_AUTH_LOG sets a filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// The flows, with the other spellings `PARDOT_AUTH_FLOW` accepts (`Flow::parse`): `_` for
/// `-` and the grants' own names.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FlowArg {
    #[value(aliases = ["jwt-bearer", "jwt_bearer"])]
    Jwt,
    Password,
    #[value(aliases = ["web-server", "web_server", "authorization-code", "authorization_code"])]
    Web,
    #[value(aliases = ["refresh-token", "refresh_token"])]
    Refresh,
    #[value(alias = "client_credentials")]
    ClientCredentials,
    #[value(aliases = ["device-code", "device_code"])]
    Device,
    Legacy,
    Mci,
}

impl FlowArg {
    fn name(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Password => "password",
            Self::Web => "web",
            Self::Refresh => "refresh",
            Self::ClientCredentials => "client-credentials",
            Self::Device => "device",
            Self::Legacy => "legacy",
            Self::Mci => "mci",
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a 2048-bit RSA key and a self-signed X.509 certificate for a connected app's
    /// "Use digital signatures" (the JWT bearer flow).
    Keygen(keygen::KeygenArgs),
    /// Run a flow and keep its token (and refresh token) in the token store.
    Login {
        /// The flow.
        #[arg(value_enum)]
        flow: FlowArg,
        /// Web flow: print the authorize URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Web and device flows: scopes to ask for (repeat; default: the app's).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Web and device flows: how long to wait for the person, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
    },
    /// Print a fresh access token (from the store, renewed when needed).
    Token {
        /// Print the token itself on stdout (it is a secret); without it, only what it is.
        #[arg(long)]
        show_secret: bool,
    },
    /// Preflight: check the credential, userinfo and a cheap Pardot call; one line of
    /// diagnosis.
    Whoami,
    /// Make an authenticated call and print the body on stdout.
    Request {
        /// HTTP method (GET, POST, PATCH, DELETE…).
        method: String,
        /// Path on the Pardot host (/api/v5/objects/prospects), or on --base-url for mci.
        path: String,
        /// Query parameter NAME=VALUE (repeat).
        #[arg(long = "query", short = 'q', value_name = "NAME=VALUE")]
        query: Vec<String>,
        /// Form field NAME=VALUE (repeat), sent as application/x-www-form-urlencoded.
        #[arg(
            long = "form",
            short = 'f',
            value_name = "NAME=VALUE",
            conflicts_with = "json"
        )]
        form: Vec<String>,
        /// A JSON body.
        #[arg(long, value_name = "JSON")]
        json: Option<String>,
        /// mci flow: the base URL of the Intelligence API.
        #[arg(long, value_name = "URL")]
        base_url: Option<Url>,
    },
    /// The fake Salesforce login server, Pardot API and MCI identity provider.
    Mock {
        #[command(subcommand)]
        command: MockCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MockCommand {
    /// Serve a configuration until Ctrl-C or SIGTERM, exactly as `pardot-mock serve`.
    Serve(pardot_mock::serve::ServeArgs),
}

/// Exit codes (documented in the README and `--help`).
mod exit {
    pub const FAILURE: u8 = 1;
    pub const CONFIG: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const TEMPORARY: u8 = 4;
    pub const LOCAL: u8 = 5;
}

/// A failure of a command: the one line to print and the exit code.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn class_code(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::RetryLater { .. } => exit::TEMPORARY,
        ErrorClass::CallerBug => exit::CONFIG,
        _ => exit::REFUSED,
    }
}

fn core_failure(e: &Error) -> Failure {
    let mut message = e.to_string();
    if let Some(help) = e.help()
        && !message.contains(help)
    {
        message = format!("{message} ({help})");
    }
    Failure::new(class_code(e.class()), message)
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self::new(exit::CONFIG, e.to_string())
    }
}

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        match &e {
            ConnectError::Token(inner) => core_failure(inner),
            ConnectError::Store(_) => Self::new(exit::LOCAL, e.to_string()),
            ConnectError::Client(p) => Self::new(class_code(p.class()), e.to_string()),
            ConnectError::NeedsLogin { .. } => Self::new(exit::REFUSED, e.to_string()),
            _ => Self::new(exit::CONFIG, e.to_string()),
        }
    }
}

impl From<PardotError> for Failure {
    fn from(e: PardotError) -> Self {
        let code = match &e {
            PardotError::Store(_) => exit::LOCAL,
            PardotError::Token(inner) => class_code(inner.class()),
            other => class_code(other.class()),
        };
        Self::new(code, e.to_string())
    }
}

impl From<pardot_auth::pardot_http::store::StoreError> for Failure {
    fn from(e: pardot_auth::pardot_http::store::StoreError) -> Self {
        Self::new(exit::LOCAL, e.to_string())
    }
}

fn main() -> ExitCode {
    // Load .env first so the variables clap reads itself (PARDOT_AUTH_STORE_DIR, the mock's)
    // may come from it too; a malformed file is reported when the configuration is read.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pardot-auth: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let code = runtime.block_on(run(cli));
    runtime.block_on(let_background_tasks_finish(
        runtime.handle(),
        Duration::from_secs(2),
    ));
    code
}

/// Waits (at most `bound`) until no task is left on the runtime. A Redis governor's permits
/// are let go from `Drop` by tasks spawned here (the cache releases its refresh lease itself);
/// ending the process before they reach Redis would leave a permit taken until it expires.
async fn let_background_tasks_finish(runtime: &tokio::runtime::Handle, bound: Duration) {
    let started = tokio::time::Instant::now();
    while runtime.metrics().num_alive_tasks() > 0 && started.elapsed() < bound {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PARDOT_AUTH_LOG").unwrap_or_else(|_| {
        // On a terminal, warnings (retries after throttling, a refused stored refresh token,
        // the password flow's retirement) are progress a person wants to see; in a pipe or
        // a log only errors, unless asked.
        EnvFilter::new(match verbose {
            0 if std::io::stderr().is_terminal() => "warn",
            0 => "error",
            1 => "info",
            _ => "debug",
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Mock {
            command: MockCommand::Serve(args),
        } => return pardot_mock::serve::serve(args).await,
        Command::Login {
            flow,
            no_browser,
            scopes,
            timeout,
        } => {
            login(
                &cli.global,
                flow,
                no_browser,
                scopes,
                Duration::from_secs(timeout),
            )
            .await
        }
        Command::Token { show_secret } => token(&cli.global, show_secret).await,
        Command::Whoami => whoami::run(&cli.global).await,
        Command::Request {
            method,
            path,
            query,
            form,
            json,
            base_url,
        } => request(&cli.global, &method, &path, &query, &form, json, base_url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("pardot-auth: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Reads the configuration: flags first, then the environment and `.env`.
fn load_config(global: &Global, flow: Option<FlowArg>) -> Result<Config, Failure> {
    let mut overrides: HashMap<&'static str, String> = HashMap::new();
    let mut put = |name: &'static str, value: Option<String>| {
        if let Some(v) = value {
            overrides.insert(name, v);
        }
    };
    put(
        "PARDOT_AUTH_FLOW",
        flow.or(global.flow).map(|f| f.name().to_owned()),
    );
    put("SF_LOGIN_URL", global.login_url.clone());
    put("SF_CLIENT_ID", global.client_id.clone());
    put("SF_USERNAME", global.username.clone());
    put(
        "SF_PRIVATE_KEY_FILE",
        global
            .private_key_file
            .as_ref()
            .map(|p| p.display().to_string()),
    );
    put("SF_REDIRECT_URI", global.redirect_uri.clone());
    put("PARDOT_URL", global.pardot_url.clone());
    put("PARDOT_BUSINESS_UNIT_ID", global.business_unit.clone());
    put("PARDOT_EMAIL", global.email.clone());
    put(
        "PARDOT_AUTH_STORE_DIR",
        global.store_dir.as_ref().map(|p| p.display().to_string()),
    );
    // The CLI keeps tokens in files unless told otherwise (`.env` is already in the
    // environment: main loaded it).
    let store_unset = std::env::var("PARDOT_AUTH_STORE").map_or(true, |v| v.trim().is_empty());
    if store_unset {
        put("PARDOT_AUTH_STORE", Some("file".to_owned()));
    }
    Ok(Config::from_env_with(|name| overrides.get(name).cloned())?)
}

/// The connector for commands that use the store (token, whoami, request), with the store
/// opened once.
async fn connector(global: &Global) -> Result<(Connector, Arc<dyn TokenStore>), Failure> {
    let connector = Connector::new(load_config(global, None)?);
    let store = connector.token_store().await?;
    Ok((connector.store(store.clone()), store))
}

/// Where the record named `key` is kept, for a person to read.
fn record_location(config: &Config, key: &str) -> Result<String, Failure> {
    let fleet = &config.fleet;
    Ok(match fleet.store {
        StoreKind::File => {
            let store = FileStore::new(config.effective_store_dir()?)?;
            format!("Stored in {}", store.path_of(key)?.display())
        }
        StoreKind::Redis => format!(
            "Stored in Redis at {} (prefix {}, record {key})",
            fleet
                .redis_url
                .as_ref()
                .map_or("(no URL)", |url| url.shown()),
            fleet.redis_prefix.as_deref().unwrap_or("pardot-auth"),
        ),
        _ => {
            "Kept in memory only (PARDOT_AUTH_STORE=memory): gone when this command ends".to_owned()
        }
    })
}

fn describe(token: &AccessToken) -> String {
    let kind = match token.kind() {
        TokenKind::SalesforceBearer => "Salesforce access token",
        TokenKind::LegacyApiKey { .. } => "legacy Pardot api_key",
        TokenKind::MciBearer => "Marketing Cloud Intelligence token",
        _ => "token",
    };
    let left = token
        .expires_at()
        .duration_since(SystemTime::now())
        .map(|d| format!("expires in {}", minutes(d)))
        .unwrap_or_else(|_| "expired".into());
    let mut text = format!("{kind}, {left}");
    if let Some(scopes) = token.scopes() {
        let list: Vec<&str> = scopes.iter().collect();
        text.push_str(&format!(", scopes: {}", list.join(" ")));
    }
    if let Some(url) = token.instance_url() {
        text.push_str(&format!(
            ", instance {}",
            url.as_str().trim_end_matches('/')
        ));
    }
    if token.refresh_token().is_some() {
        text.push_str(", with a refresh token");
    }
    text
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

async fn login(
    global: &Global,
    flow: FlowArg,
    no_browser: bool,
    scopes: Vec<String>,
    timeout: Duration,
) -> Result<(), Failure> {
    let config = load_config(global, Some(flow))?;
    let key = config.store_key();
    let location = record_location(&config, &key)?;
    let countdown: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>> = Arc::new(Mutex::new(None));
    let mut connector = Connector::new(config.clone());
    let store = connector.token_store().await?;
    connector = connector
        .store(store.clone())
        .scopes(scopes)
        .interactive_timeout(timeout);
    match flow {
        FlowArg::Web => {
            connector = connector.on_authorize_url(move |url| {
                eprintln!("Sign in to Salesforce in your browser:\n  {url}");
                if !no_browser && !open_browser(url.as_str()) {
                    eprintln!("(could not open a browser; open the URL above yourself)");
                }
                eprintln!("Waiting for the redirect to the loopback receiver…");
            });
        }
        FlowArg::Device => {
            let countdown = countdown.clone();
            connector = connector.on_device_code(move |auth| {
                eprintln!(
                    "To sign in, open {} and enter the code {}",
                    auth.verification_uri, auth.user_code
                );
                let handle = tokio::spawn(device_countdown(auth.expires_at));
                if let Ok(mut slot) = countdown.lock() {
                    *slot = Some(handle);
                }
            });
        }
        _ => {}
    }
    let source = connector.flow_source()?.source;
    let result = source.token().await;
    if let Ok(mut slot) = countdown.lock()
        && let Some(handle) = slot.take()
    {
        handle.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
    let token = result.map_err(|e| core_failure(&e))?;
    {
        let lease = store.lock(&key, Duration::from_secs(30)).await?;
        let mut existing = store.load(&key).await?.unwrap_or_default();
        // `login refresh` keeps the refresh token it was given (a response that rotates it
        // replaces it below), so later runs of the web, device or refresh flow can renew.
        if let FlowConfig::RefreshToken { refresh_token, .. } = &config.flow {
            existing.refresh_token = Some(refresh_token.clone());
        }
        let record: StoredToken = existing.updated_with(&token);
        store.save_fenced(&lease, &record).await?;
    }
    println!(
        "Logged in ({} flow): {}. {location}",
        flow.name(),
        describe(&token)
    );
    if token.refresh_token().is_some()
        && let Some(settings) = same_store_settings(&config)
    {
        println!(
            "Next: `pardot-auth token`, `whoami` and `request`, or connect() with the same \
             settings ({settings}), renew the access token with the stored refresh token."
        );
    }
    Ok(())
}

/// The settings that point `connect` at the store this command used (none for memory).
fn same_store_settings(config: &Config) -> Option<String> {
    match config.fleet.store {
        StoreKind::Redis => {
            Some("PARDOT_AUTH_STORE=redis, the same PARDOT_AUTH_REDIS_URL and prefix".to_owned())
        }
        StoreKind::File => Some(format!(
            "PARDOT_AUTH_STORE=file, PARDOT_AUTH_STORE_DIR={}",
            config.effective_store_dir().ok()?.display()
        )),
        _ => None,
    }
}

/// Shows the time left for the device code on a terminal, once a second; elsewhere a line a
/// minute (a log file does not need a countdown).
async fn device_countdown(expires_at: SystemTime) {
    let terminal = std::io::stderr().is_terminal();
    let step = if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(60)
    };
    loop {
        let left = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        if left.is_zero() {
            break;
        }
        if terminal {
            eprint!(
                "\rWaiting for approval… code expires in {}   ",
                minutes(left)
            );
        } else {
            eprintln!("Waiting for approval… code expires in {}", minutes(left));
        }
        tokio::time::sleep(step).await;
    }
}

/// Opens `url` in the default browser; false when no opener is available.
fn open_browser(url: &str) -> bool {
    #[cfg(target_os = "macos")]
    let mut cmd = std::process::Command::new("open");
    #[cfg(target_os = "windows")]
    let mut cmd = {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    };
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let mut cmd = std::process::Command::new("xdg-open");
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

async fn token(global: &Global, show_secret: bool) -> Result<(), Failure> {
    let (connector, _store) = connector(global).await?;
    let cache = connector.cache().await?;
    let token = cache.get().await.map_err(|e| core_failure(&e))?;
    if show_secret {
        println!("{}", token.secret().expose_secret());
    } else {
        println!("{}", describe(&token));
        eprintln!("(the token is a secret: add --show-secret to print it)");
    }
    Ok(())
}

fn pairs(items: &[String], what: &str) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| {
                    Failure::new(exit::CONFIG, format!("{what} `{item}` is not NAME=VALUE"))
                })
        })
        .collect()
}

async fn request(
    global: &Global,
    method: &str,
    path: &str,
    query: &[String],
    form: &[String],
    json: Option<String>,
    base_url: Option<Url>,
) -> Result<(), Failure> {
    let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::new(exit::CONFIG, format!("`{method}` is not an HTTP method")))?;
    let query = pairs(query, "--query")?;
    let form = pairs(form, "--form")?;
    let json: Option<serde_json::Value> = json
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Failure::new(exit::CONFIG, format!("--json is not JSON: {e}")))?;
    let (connector, _store) = connector(global).await?;
    if connector.config().flow.flow() == Flow::Mci {
        let base = base_url.ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                "the mci flow calls the Intelligence API: give its base URL with --base-url",
            )
        })?;
        let client = connector.connect_mci(base).await?;
        let mut full = path.to_owned();
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair(k, v)
                        .finish()
                })
                .collect();
            full = format!("{full}?{}", q.join("&"));
        }
        let response = client
            .send(method, &full, json.as_ref())
            .await
            .map_err(|e| core_failure(&e))?;
        return print_body(response.status(), response.bytes());
    }
    let client = connector.connect().await?;
    let mut req = client.request(method, path);
    if !query.is_empty() {
        req = req.query(query);
    }
    if !form.is_empty() {
        req = req.form(form);
    }
    if let Some(value) = &json {
        req = req.json(value);
    }
    let response = req.send().await?;
    print_body(response.status(), response.bytes())
}

fn print_body(status: http::StatusCode, body: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = out.write_all(body).and_then(|()| {
        if body.ends_with(b"\n") {
            Ok(())
        } else {
            out.write_all(b"\n")
        }
    });
    written.map_err(|e| Failure::new(exit::LOCAL, format!("cannot write the body: {e}")))?;
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::new(
            if status.is_server_error() || status.as_u16() == 429 {
                exit::TEMPORARY
            } else {
                exit::REFUSED
            },
            format!("the server answered HTTP {status}"),
        ))
    }
}
