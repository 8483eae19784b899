//! [`connect`], [`connect_mci`] and [`Connector`]: a [`Config`] becomes a flow, a cache and a
//! client.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pardot_auth_core::url::Url;
use pardot_auth_core::{
    AccessToken, Error, LoginHost, RefreshTokenGrant, SharedClock, SystemClock, TokenSource,
    is_loopback,
};
use pardot_http::store::TokenStore;
use pardot_http::{CachedTokenSource, PardotClient, PardotError};
use pardot_legacy::{LegacyCredentials, LegacyLogin};
use secrecy::{ExposeSecret, SecretString};
use sf_oauth::{
    ClientCredentials, ClientSecret, DeviceAuthorization, DeviceFlow, JwtBearer, MciServiceAccount,
    OAuthClient, Password, PrivateKey, RedirectUrl, RefreshGrant, RefreshToken, RefreshTokenFlow,
    UsernamePassword, WebServerFlow,
};

use crate::config::{Config, ConfigError, Flow, FlowConfig};
use crate::connect_error::ConnectError;
use crate::fleet::Backends;
use crate::mci::MciClient;

/// Shows the web server flow's authorize URL to a person (open a browser, print it).
pub type AuthorizeUrlHook = Arc<dyn Fn(&Url) + Send + Sync>;
/// Shows the device flow's user code and verification URI to a person.
pub type DeviceCodeHook = Arc<dyn Fn(&DeviceAuthorization) + Send + Sync>;

/// A flow built from a [`Config`]: the token source and, for flows that keep a refresh token,
/// the grant that redeems it.
pub struct FlowSource {
    /// Fetches a fresh token on every call (no cache).
    pub source: Arc<dyn TokenSource>,
    /// Redeems a stored refresh token (web, device, refresh flows), used by the cache before
    /// it falls back to `source`.
    pub refresh_grant: Option<Arc<dyn RefreshTokenGrant>>,
}

pardot_auth_core::debug_shows!(
    FlowSource as this,
    complete {
        source: this.source,
        refresh_grant: this.refresh_grant.is_some(),
    }
);

/// Builds clients from a [`Config`], with the settings [`connect`] leaves at their defaults.
///
/// Defaults: the system clock, the token store and governor the [`Config`] names (in memory
/// and in this process unless `PARDOT_AUTH_STORE` / `PARDOT_AUTH_GOVERNOR` say otherwise), the
/// record named [`Config::store_key`], proxies ignored when every host is a loopback address
/// (a proxy cannot reach the caller's loopback), and no interactive steps.
///
/// **Flows that need a person.** The web server and device flows cannot run unattended. By
/// default `connect` uses the refresh token kept in the token store (put there by
/// `pardot-auth login web` / `login device`: with `PARDOT_AUTH_STORE=file` and the same
/// `PARDOT_AUTH_STORE_DIR` as the CLI, or a shared Redis store) and refreshes with it; when the store has none it fails with
/// [`ConnectError::NeedsLogin`] rather than wait for someone who is not there. Give
/// [`on_authorize_url`](Self::on_authorize_url) or [`on_device_code`](Self::on_device_code)
/// and it asks the person instead: the flow runs once, and later refreshes use the refresh
/// token it got.
#[derive(Clone)]
pub struct Connector {
    config: Config,
    clock: SharedClock,
    store: Option<Arc<dyn TokenStore>>,
    store_key: Option<String>,
    scopes: Vec<String>,
    authorize_hook: Option<AuthorizeUrlHook>,
    device_hook: Option<DeviceCodeHook>,
    interactive_timeout: Duration,
    first_token: FirstToken,
    /// The one `reqwest` client every part shares, built when first needed: each build loads
    /// the system root certificates, which cost more CPU than a whole short CLI run.
    http: OnceLock<reqwest::Client>,
}

pardot_auth_core::debug_shows!(Connector as this {
    config: this.config,
    store: this.store,
    store_key: this.store_key,
    scopes: this.scopes,
    interactive: this.is_interactive(),
});

/// When [`Connector::connect`] (and `connect_mci`) fetches the first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FirstToken {
    /// Before returning the client, so bad credentials fail `connect` itself.
    #[default]
    AtConnect,
    /// With the first request (a client for a program that may never call the API).
    OnFirstRequest,
}

/// How long an interactive step may take by default (the person signs in or types a code).
pub const DEFAULT_INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

impl Connector {
    /// A connector for `config` with every default.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            clock: SystemClock::shared(),
            store: None,
            store_key: None,
            scopes: Vec::new(),
            authorize_hook: None,
            device_hook: None,
            interactive_timeout: DEFAULT_INTERACTIVE_TIMEOUT,
            first_token: FirstToken::AtConnect,
            http: OnceLock::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pardot_auth_core::builder_setters! {
        /// Uses this clock for every wait and time stamp (flows, cache, client).
        pub fn clock(clock: SharedClock) => clock = clock;

        /// Keeps tokens in this store instead of the one the [`Config`] names. A `FileStore`
        /// shares one token between processes and with the CLI.
        pub fn store(store: Arc<dyn TokenStore>) => store = Some(store);

        /// The name of the record the store keeps this credential under (default
        /// [`Config::store_key`]; not the store encryption key).
        pub fn store_key(key: impl Into<String>) => store_key = Some(key.into());
    }

    /// Scopes the web server and device flows ask for (default: none named, so Salesforce
    /// grants the connected app's scopes).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    pardot_auth_core::builder_setters! {
        /// Lets the web server flow run: `hook` shows the authorize URL to a person, then the
        /// loopback receiver waits for the redirect.
        pub fn on_authorize_url(hook: impl Fn(&Url) + Send + Sync + 'static)
            => authorize_hook = Some(Arc::new(hook));

        /// Lets the device flow run: `hook` shows the user code and verification URI.
        pub fn on_device_code(hook: impl Fn(&DeviceAuthorization) + Send + Sync + 'static)
            => device_hook = Some(Arc::new(hook));

        /// The longest an interactive step may wait for the person (default 5 minutes).
        pub fn interactive_timeout(timeout: Duration) => interactive_timeout = timeout;

        /// When the first token is fetched (default [`FirstToken::AtConnect`]: bad credentials
        /// show up at once, not on the first request).
        pub fn fetch_first_token(when: FirstToken) => first_token = when;
    }

    /// The clock every wait and time stamp goes through.
    pub(crate) fn shared_clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The record name in use.
    pub fn key(&self) -> String {
        self.store_key
            .clone()
            .unwrap_or_else(|| self.config.store_key())
    }

    fn is_interactive(&self) -> bool {
        match self.config.flow.flow() {
            Flow::WebServer => self.authorize_hook.is_some(),
            Flow::Device => self.device_hook.is_some(),
            _ => true,
        }
    }

    /// True when every host the configuration names is a loopback address (tests, the mock).
    fn loopback_only(&self) -> bool {
        let pardot = Url::parse(self.config.pardot_host.base_url())
            .map(|u| is_loopback(&u))
            .unwrap_or(false);
        let login = |host: &LoginHost| {
            Url::parse(host.base_url())
                .map(|u| is_loopback(&u))
                .unwrap_or(false)
        };
        match &self.config.flow {
            FlowConfig::JwtBearer { login: l, .. }
            | FlowConfig::Password { login: l, .. }
            | FlowConfig::WebServer { login: l, .. }
            | FlowConfig::RefreshToken { login: l, .. }
            | FlowConfig::ClientCredentials { login: l, .. }
            | FlowConfig::Device { login: l, .. } => login(l) && pardot,
            FlowConfig::Legacy { .. } => pardot,
            FlowConfig::Mci { discovery_url, .. } => is_loopback(discovery_url),
        }
    }

    /// The one `reqwest` client shared by the OAuth flows, the legacy login and the Pardot
    /// client (clones share its connection pool), built on first use.
    ///
    /// It follows no redirect (none of these APIs redirect, and following one could carry a
    /// credential elsewhere) and connects within 10 s. It has no client-wide total timeout on
    /// purpose: each crate bounds its own exchanges per request (`sf-oauth` 30 s,
    /// `pardot-http` 60 s per attempt, `pardot-legacy` 30 s per login on the clock), and a
    /// client-wide bound would cut `pardot-http`'s longer attempts short. Bodies are bounded
    /// by the crates too.
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, ConnectError> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let built = build_http(self.loopback_only())?;
        Ok(self.http.get_or_init(|| built).clone())
    }

    pub(crate) fn oauth_client(&self) -> Result<OAuthClient, ConnectError> {
        // sf-oauth still sets its 30 s timeout on each request and bounds each body.
        OAuthClient::builder()
            .clock(self.clock.clone())
            .http_client(self.http_client()?)
            .build()
            .map_err(ConnectError::Token)
    }

    /// Builds the configured flow: the uncached token source, and the refresh grant for flows
    /// that keep a refresh token. `login` in the CLI uses this to force a fresh sign-in.
    ///
    /// For the web server and device flows without a hook, the source fails with
    /// [`ConnectError::NeedsLogin`]'s message when called.
    pub fn flow_source(&self) -> Result<FlowSource, ConnectError> {
        let oauth = self.oauth_client()?;
        let secret = |s: &SecretString| ClientSecret::new(s.expose_secret());
        let grant = |login: &LoginHost, client_id: &str, client_secret: Option<&SecretString>| {
            let grant = RefreshGrant::new(login.clone(), client_id).with_client(oauth.clone());
            Arc::new(with_secret(
                grant,
                client_secret,
                RefreshGrant::with_client_secret,
            )) as Arc<dyn RefreshTokenGrant>
        };
        let flow = self.config.flow.flow();
        // Web and device: the flow runs only when a hook can reach a person; without one, the
        // stored refresh token is all there is.
        let interactive = |source: Option<Arc<dyn TokenSource>>, grant| FlowSource {
            source: source.unwrap_or_else(|| Arc::new(NeedsPerson { flow })),
            refresh_grant: Some(grant),
        };
        Ok(match &self.config.flow {
            FlowConfig::JwtBearer {
                login,
                client_id,
                username,
                private_key_file,
            } => FlowSource {
                source: Arc::new(
                    JwtBearer::new(
                        login.clone(),
                        client_id.as_str(),
                        username.as_str(),
                        read_key(private_key_file)?,
                    )
                    .with_client(oauth),
                ),
                refresh_grant: None,
            },
            FlowConfig::Password {
                login,
                client_id,
                client_secret,
                username,
                password,
            } => FlowSource {
                source: Arc::new(
                    UsernamePassword::new(
                        login.clone(),
                        client_id.as_str(),
                        secret(client_secret),
                        username.as_str(),
                        Password::new(password.expose_secret()),
                    )
                    .with_client(oauth),
                ),
                refresh_grant: None,
            },
            FlowConfig::ClientCredentials {
                login,
                client_id,
                client_secret,
            } => FlowSource {
                source: Arc::new(
                    ClientCredentials::new(
                        login.clone(),
                        client_id.as_str(),
                        secret(client_secret),
                    )
                    .with_client(oauth),
                ),
                refresh_grant: None,
            },
            FlowConfig::RefreshToken {
                login,
                client_id,
                client_secret,
                refresh_token,
            } => {
                let f = RefreshTokenFlow::new(
                    login.clone(),
                    client_id.as_str(),
                    RefreshToken::new(refresh_token.expose_secret()),
                )
                .with_client(oauth.clone());
                FlowSource {
                    source: Arc::new(with_secret(
                        f,
                        client_secret.as_ref(),
                        RefreshTokenFlow::with_client_secret,
                    )),
                    refresh_grant: Some(grant(login, client_id, client_secret.as_ref())),
                }
            }
            FlowConfig::WebServer {
                login,
                client_id,
                client_secret,
                redirect_uri,
            } => {
                let refresh_grant = grant(login, client_id, client_secret.as_ref());
                let source = match &self.authorize_hook {
                    None => None,
                    Some(hook) => {
                        let redirect = RedirectUrl::new(redirect_uri.as_str()).map_err(|e| {
                            ConfigError::Invalid {
                                variable: "SF_REDIRECT_URI",
                                reason: e.to_string(),
                            }
                        })?;
                        let hook = hook.clone();
                        let f = WebServerFlow::new(login.clone(), client_id.as_str(), redirect)
                            .with_client(oauth)
                            .with_callback_timeout(self.interactive_timeout)
                            .with_scopes(self.scopes.clone())
                            .on_authorize_url(move |url| hook(url));
                        let f = with_secret(
                            f,
                            client_secret.as_ref(),
                            WebServerFlow::with_client_secret,
                        );
                        Some(Arc::new(f) as Arc<dyn TokenSource>)
                    }
                };
                interactive(source, refresh_grant)
            }
            FlowConfig::Device {
                login,
                client_id,
                client_secret,
            } => {
                let refresh_grant = grant(login, client_id, client_secret.as_ref());
                let source = self.device_hook.as_ref().map(|hook| {
                    let hook = hook.clone();
                    let f = DeviceFlow::new(login.clone(), client_id.as_str())
                        .with_client(oauth)
                        .with_timeout(self.interactive_timeout)
                        .with_scopes(self.scopes.clone())
                        .with_prompt(move |auth| hook(auth));
                    let f = with_secret(f, client_secret.as_ref(), DeviceFlow::with_client_secret);
                    Arc::new(f) as Arc<dyn TokenSource>
                });
                interactive(source, refresh_grant)
            }
            FlowConfig::Legacy {
                email,
                password,
                user_key,
            } => {
                let credentials = LegacyCredentials::new(
                    email.as_str(),
                    password.clone(),
                    user_key.expose_secret(),
                )
                .map_err(|e| ConfigError::Invalid {
                    variable: "PARDOT_EMAIL / PARDOT_PASSWORD / PARDOT_USER_KEY",
                    reason: e.to_string(),
                })?;
                let login = LegacyLogin::builder(credentials)
                    .host(self.config.pardot_host.clone())
                    .clock(self.clock.clone())
                    .http_client(self.http_client()?)
                    .build()
                    .map_err(|e| ConnectError::Token(e.into()))?;
                FlowSource {
                    source: Arc::new(login),
                    refresh_grant: None,
                }
            }
            FlowConfig::Mci {
                service_account_id,
                discovery_url,
                private_key_file,
            } => FlowSource {
                source: Arc::new(
                    MciServiceAccount::new(
                        discovery_url.clone(),
                        service_account_id.as_str(),
                        read_key(private_key_file)?,
                    )
                    .with_client(oauth),
                ),
                refresh_grant: None,
            },
        })
    }

    /// The store in use: the one given to [`store`](Self::store), or the one the [`Config`]
    /// names, opened (a Redis store connects here).
    pub async fn token_store(&self) -> Result<Arc<dyn TokenStore>, ConnectError> {
        self.store_on(&Backends::open(&self.config, self.store.is_some()).await?)
    }

    fn store_on(&self, backends: &Backends) -> Result<Arc<dyn TokenStore>, ConnectError> {
        match &self.store {
            Some(store) => Ok(store.clone()),
            None => backends.store(&self.config),
        }
    }

    /// The flow behind a [`CachedTokenSource`] (refresh ahead, single flight, the store).
    ///
    /// Fails with [`ConnectError::NeedsLogin`] when the flow needs a person, no hook is set,
    /// and the store holds no refresh token.
    pub async fn cache(&self) -> Result<CachedTokenSource, ConnectError> {
        self.cache_on(self.token_store().await?).await
    }

    async fn cache_on(
        &self,
        store: Arc<dyn TokenStore>,
    ) -> Result<CachedTokenSource, ConnectError> {
        let flow = self.flow_source()?;
        let key = self.key();
        if !self.is_interactive() {
            let record = store.load(&key).await?;
            if record.and_then(|r| r.refresh_token).is_none() {
                return Err(ConnectError::NeedsLogin {
                    flow: self.config.flow.flow(),
                });
            }
        }
        let mut b = CachedTokenSource::builder(flow.source)
            .clock(self.clock.clone())
            .store(store)
            .store_key(key);
        if let Some(grant) = flow.refresh_grant {
            b = b.refresh_grant(grant);
        }
        if matches!(self.config.flow.flow(), Flow::WebServer | Flow::Device) {
            // The person needs time; the cache's default fetch deadline is a minute.
            b = b.fetch_timeout(self.interactive_timeout + Duration::from_secs(60));
        }
        Ok(b.build())
    }

    /// A ready [`PardotClient`]: the flow, wrapped in the cache, on the configured Pardot host
    /// and business unit, held to the configured governor (concurrency limit, daily budget).
    /// Fetches the first token unless told not to.
    pub async fn connect(&self) -> Result<PardotClient, ConnectError> {
        let flow = self.config.flow.flow();
        if flow == Flow::Mci {
            return Err(ConnectError::WrongFlow(
                "a Marketing Cloud Intelligence token cannot call the Pardot API: use connect_mci",
            ));
        }
        if flow != Flow::Legacy && self.config.business_unit.is_none() {
            return Err(ConnectError::NoBusinessUnit { flow });
        }
        let backends = Backends::open(&self.config, self.store.is_some()).await?;
        let cache = self.cache_on(self.store_on(&backends)?).await?;
        let mut b =
            PardotClient::builder_with_cache(cache.clone(), self.config.pardot_host.clone())
                .clock(self.clock.clone())
                .governor(backends.governor(&self.config)?);
        if let Some(bu) = &self.config.business_unit {
            b = b.business_unit(bu.clone());
        }
        // The shared client (proxy choice included); pardot-http still applies its
        // per-attempt timeout and body bound.
        let client = b.http_client(self.http_client()?).build()?;
        if self.first_token == FirstToken::AtConnect {
            cache.get().await.map_err(ConnectError::Token)?;
        }
        Ok(client)
    }

    /// A ready [`MciClient`] calling the Intelligence API at `base_url` with the service
    /// account's cached token. Fetches the first token unless told not to.
    pub async fn connect_mci(&self, base_url: Url) -> Result<MciClient, ConnectError> {
        if self.config.flow.flow() != Flow::Mci {
            return Err(ConnectError::WrongFlow(
                "connect_mci needs the mci flow (a Marketing Cloud Intelligence service account)",
            ));
        }
        pardot_auth_core::ensure_secure_with(&base_url, self.config.insecure_http).map_err(
            |e| ConfigError::Invalid {
                variable: "base_url",
                reason: e.to_string(),
            },
        )?;
        let cache = self.cache().await?;
        // The shared client when its proxy choice fits the API host too; MciClient bounds each
        // request (30 s) and body itself.
        let http = if is_loopback(&base_url) == self.loopback_only() {
            self.http_client()?
        } else {
            build_http(is_loopback(&base_url))?
        };
        if self.first_token == FirstToken::AtConnect {
            cache.get().await.map_err(ConnectError::Token)?;
        }
        Ok(MciClient::new(http, cache, base_url))
    }
}

/// Connects `config` with every default (see [`Connector`]): builds the flow, wraps it in
/// `pardot-http`'s cache, and returns a [`PardotClient`] for the configured Pardot host and
/// business unit, after fetching the first token.
///
/// The web server and device flows need a person: here they only work from a refresh token
/// kept in the token store. With `PARDOT_AUTH_STORE=file` (and the CLI's
/// `PARDOT_AUTH_STORE_DIR`, or its default directory), `connect` reuses the refresh token that
/// `pardot-auth login web` stored; with the default in-memory store it fails with
/// [`ConnectError::NeedsLogin`]. Or use [`Connector`] with a hook.
pub async fn connect(config: Config) -> Result<PardotClient, ConnectError> {
    Connector::new(config).connect().await
}

/// Connects an MCI `config` (`PARDOT_AUTH_FLOW=mci`): an [`MciClient`] sending the service
/// account's cached token as `Authorization: Bearer …` to `base_url`.
pub async fn connect_mci(config: Config, base_url: Url) -> Result<MciClient, ConnectError> {
    Connector::new(config).connect_mci(base_url).await
}

/// A client that follows no redirect and connects within 10 s (see
/// [`Connector::http_client`]); `no_proxy` when every host it will reach is a loopback address.
fn build_http(no_proxy: bool) -> Result<reqwest::Client, ConnectError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pardot-auth/", env!("CARGO_PKG_VERSION")));
    if no_proxy {
        b = b.no_proxy();
    }
    b.build().map_err(|e| {
        ConnectError::Client(PardotError::Config(format!(
            "could not build the HTTP client: {e}"
        )))
    })
}

/// `flow` with the app's consumer secret set through `set`, when the app has one (the
/// web, device and refresh flows work with public apps too).
fn with_secret<F>(
    flow: F,
    client_secret: Option<&SecretString>,
    set: fn(F, ClientSecret) -> F,
) -> F {
    match client_secret {
        Some(s) => set(flow, ClientSecret::new(s.expose_secret())),
        None => flow,
    }
}

fn read_key(path: &std::path::Path) -> Result<PrivateKey, ConnectError> {
    PrivateKey::from_pem_file(path).map_err(|e| ConnectError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The source of an interactive flow nobody can answer: says what to do instead.
#[derive(Debug)]
struct NeedsPerson {
    flow: Flow,
}

#[async_trait::async_trait]
impl TokenSource for NeedsPerson {
    async fn token(&self) -> Result<AccessToken, Error> {
        Err(Error::config(
            ConnectError::NeedsLogin { flow: self.flow }.to_string(),
        ))
    }
}
