//! `pardot-auth whoami`: a preflight that names the usual setup mistakes in one line.
//!
//! It uses the stored token when there is a live one (so it reports on what `token` and
//! `request` would send), else fetches one with the configured flow; then asks Salesforce's
//! userinfo who the token belongs to, and makes one cheap Pardot call (`account read`, v4,
//! then v3 for v3 accounts). Every known failure gets one line starting with its diagnosis:
//! `not approved`, `wrong audience`, `missing scope`, `wrong BU`, `BU on demo host` (or
//! `BU on production host`), `legacy api_key expired`, `token expired or revoked`.

use std::time::{Duration, SystemTime};

use pardot_auth::core::url::Url;
use pardot_auth::core::{AuthScheme, BusinessUnitId, LoginHost, PardotHost, is_loopback};
use pardot_auth::pardot_legacy::envelope::{self, ApiError};
use pardot_auth::{AccessToken, Config, Error, Flow, FlowConfig, OAuthClient, TokenKind};

use crate::{Failure, Global, connector, core_failure, describe, exit};

/// Longest Pardot answer whoami reads.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) async fn run(global: &Global) -> Result<(), Failure> {
    let (connector, store) = connector(global).await?;
    let config = connector.config().clone();
    let flow = config.flow.flow();
    let key = connector.key();

    let stored = store
        .load(&key)
        .await?
        .and_then(|r| r.access)
        .filter(|t| !t.is_expired(SystemTime::now()));
    let (token, from_store) = match stored {
        Some(t) => (t, true),
        None => {
            let cache = connector.cache().await?;
            match cache.get().await {
                Ok(t) => (t, false),
                Err(e) => return Err(diagnose_fetch(flow, &config, &e)),
            }
        }
    };

    if matches!(token.kind(), TokenKind::MciBearer) {
        println!(
            "OK: the Marketing Cloud Intelligence service account has a token ({})",
            describe(&token)
        );
        return Ok(());
    }

    let loopback = loopback(&config);
    let mut who = String::new();
    if matches!(token.kind(), TokenKind::SalesforceBearer) {
        let login = login_host(&config).ok_or_else(|| {
            Failure::new(exit::CONFIG, "a Salesforce token needs a Salesforce flow")
        })?;
        let mut b = OAuthClient::builder();
        if loopback {
            b = b.no_proxy();
        }
        let oauth = b.build().map_err(|e| core_failure(&e))?;
        match oauth.userinfo(&login, &token).await {
            Ok(info) => {
                who = format!("{} (org {})", info.preferred_username, info.organization_id);
            }
            Err(e) if e.needs_refresh() => {
                return Err(Failure::new(
                    exit::REFUSED,
                    format!(
                        "token expired or revoked: Salesforce refused the {} access token \
                         (userinfo: {e}); run `pardot-auth login {flow}` (connect() renews it by itself)",
                        if from_store { "stored" } else { "new" }
                    ),
                ));
            }
            Err(e) => return Err(core_failure(&e)),
        }
        if let Some(scopes) = token.scopes()
            && !scopes.allows_pardot()
        {
            let granted: Vec<&str> = scopes.iter().collect();
            return Err(missing_scope(&granted.join(" ")));
        }
    }

    let http = {
        let mut b = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none());
        if loopback {
            b = b.no_proxy();
        }
        b.build().map_err(|e| {
            Failure::new(exit::FAILURE, format!("cannot build the HTTP client: {e}"))
        })?
    };
    let bu = config.business_unit.as_ref();
    match account_read(&http, &config.pardot_host, &token, bu).await? {
        Ok(version) => {
            let user = if who.is_empty() {
                match &config.flow {
                    FlowConfig::Legacy { email, .. } => format!("{email} (legacy api_key)"),
                    _ => "the token".into(),
                }
            } else {
                who
            };
            let unit = match (token.kind(), bu) {
                (TokenKind::SalesforceBearer, Some(b)) => format!(" business unit {b}"),
                _ => String::new(),
            };
            println!(
                "OK: {user} can call Pardot{unit} on {} (API v{version})",
                config.pardot_host.base_url()
            );
            Ok(())
        }
        Err(api) => Err(diagnose_pardot(&http, &config, &token, &api, flow).await),
    }
}

fn loopback(config: &Config) -> bool {
    let pardot = Url::parse(config.pardot_host.base_url())
        .map(|u| is_loopback(&u))
        .unwrap_or(false);
    let login = login_host(config)
        .and_then(|h| Url::parse(h.base_url()).ok())
        .is_some_and(|u| is_loopback(&u));
    pardot || login
}

fn login_host(config: &Config) -> Option<LoginHost> {
    match &config.flow {
        FlowConfig::JwtBearer { login, .. }
        | FlowConfig::Password { login, .. }
        | FlowConfig::WebServer { login, .. }
        | FlowConfig::RefreshToken { login, .. }
        | FlowConfig::ClientCredentials { login, .. }
        | FlowConfig::Device { login, .. } => Some(login.clone()),
        _ => None,
    }
}

fn missing_scope(granted: &str) -> Failure {
    Failure::new(
        exit::REFUSED,
        format!(
            "missing scope: the token was granted `{granted}`, which lacks pardot_api; add \
             \"Access Pardot services (pardot_api)\" to the connected app's OAuth scopes, then log in again"
        ),
    )
}

/// One line for a failed token fetch.
fn diagnose_fetch(flow: Flow, config: &Config, e: &Error) -> Failure {
    let text = e.to_string();
    let code = e.code().unwrap_or_default();
    let line = if text.contains("hasn't approved this consumer") {
        format!(
            "not approved: the user has not approved this connected app, or is not pre-authorized \
             (Manage > Edit Policies: \"Admin approved users are pre-authorized\", then add the \
             user's profile or permission set) ({code})"
        )
    } else if text.contains("audience is invalid") {
        let login = login_host(config)
            .map(|h| h.to_string())
            .unwrap_or_default();
        format!(
            "wrong audience: {login} does not serve this user's org; use SF_LOGIN_URL=https://login.salesforce.com \
             for production and developer orgs, https://test.salesforce.com for sandboxes, or the org's \
             My Domain URL ({code})"
        )
    } else if code == "invalid_scope" {
        "missing scope: the login asked for a scope the connected app does not have (invalid_scope); \
         add it to the app or ask for fewer"
            .to_owned()
    } else if flow == Flow::Legacy && code == "15" {
        "legacy login failed: wrong email, password or user_key (code 15)".to_owned()
    } else {
        return core_failure(e);
    };
    Failure::new(exit::REFUSED, line)
}

/// One line for a Pardot error answer.
async fn diagnose_pardot(
    http: &reqwest::Client,
    config: &Config,
    token: &AccessToken,
    api: &ApiError,
    flow: Flow,
) -> Failure {
    let code = api.code.get();
    let bu = config
        .business_unit
        .as_ref()
        .map_or_else(String::new, |b| b.as_str().to_owned());
    let line = match code {
        1 if matches!(token.kind(), TokenKind::LegacyApiKey { .. }) => format!(
            "legacy api_key expired: Pardot refused the api_key (code 1: {}); api_keys live 60 \
             minutes: run `pardot-auth login legacy` for a new one (connect() renews it by itself)",
            api.message
        ),
        201 => {
            let other = other_host(&config.pardot_host);
            let found_elsewhere = match &other {
                Some(host) => matches!(
                    account_read(http, host, token, config.business_unit.as_ref()).await,
                    Ok(Ok(_))
                ),
                None => false,
            };
            match (found_elsewhere, other) {
                (true, Some(host)) => {
                    let which = if is_demo(&host) { "demo" } else { "production" };
                    format!(
                        "BU on {which} host: business unit {bu} is served by {} (sandboxes and \
                         developer orgs use pi.demo.pardot.com); set PARDOT_URL={}",
                        host.base_url(),
                        host.base_url()
                    )
                }
                _ => format!(
                    "wrong BU: Pardot does not know business unit {bu} on {} or it is inactive \
                     (code 201); copy the 18-character id from Setup > Account Engagement > \
                     Business Unit Setup",
                    config.pardot_host.base_url()
                ),
            }
        }
        49 => format!(
            "wrong BU: this user may not use business unit {bu} (code 49: {}); give the user \
             access to it in Account Engagement, or use another business unit",
            api.message
        ),
        184 => {
            if token
                .scopes()
                .is_some_and(pardot_auth::core::Scopes::allows_pardot)
            {
                format!(
                    "token expired or revoked: Pardot refused the access token (code 184); run \
                     `pardot-auth login {flow}`"
                )
            } else {
                return missing_scope(
                    &token
                        .scopes()
                        .map(|s| s.iter().collect::<Vec<_>>().join(" "))
                        .unwrap_or_else(|| "unknown scopes".into()),
                );
            }
        }
        _ => {
            return Failure::new(
                crate::class_code(api.class()),
                format!("Pardot error {code}: {}", api.message),
            );
        }
    };
    Failure::new(exit::REFUSED, line)
}

fn is_demo(host: &PardotHost) -> bool {
    match host {
        PardotHost::Demo => true,
        PardotHost::Custom(url) => url.path().trim_end_matches('/').ends_with("/demo"),
        _ => false,
    }
}

/// The other Pardot host: production and demo for the real ones; for a custom base URL the
/// mock's convention (`{base}` and `{base}/demo`).
fn other_host(host: &PardotHost) -> Option<PardotHost> {
    match host {
        PardotHost::Production => Some(PardotHost::Demo),
        PardotHost::Demo => Some(PardotHost::Production),
        PardotHost::Custom(url) => {
            let text = url.as_str().trim_end_matches('/');
            let other = match text.strip_suffix("/demo") {
                Some(base) => base.to_owned(),
                None => format!("{text}/demo"),
            };
            PardotHost::custom(&other).ok()
        }
        _ => None,
    }
}

/// `account read` (v4, then v3 when the account is a v3 one). `Ok(Ok(version))` on success,
/// `Ok(Err(api))` for a Pardot error, `Err` when there was no readable answer.
async fn account_read(
    http: &reqwest::Client,
    host: &PardotHost,
    token: &AccessToken,
    bu: Option<&BusinessUnitId>,
) -> Result<Result<u8, ApiError>, Failure> {
    let headers = AuthScheme::for_pardot(token, bu)
        .and_then(|s| s.headers(token))
        .map_err(|e| core_failure(&e))?;
    let mut version = 4;
    loop {
        let mut url = host.endpoint(&format!("/api/account/version/{version}/do/read"));
        url.query_pairs_mut().append_pair("format", "json");
        let mut response = http
            .post(url)
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| {
                Failure::new(
                    exit::TEMPORARY,
                    format!("cannot reach Pardot at {}: {e}", host.base_url()),
                )
            })?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            Failure::new(exit::TEMPORARY, format!("the Pardot answer broke off: {e}"))
        })? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Failure::new(
                    exit::FAILURE,
                    "the Pardot answer is larger than 1 MiB",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let parsed = envelope::parse(&body).map_err(|e| {
            Failure::new(
                if status.is_server_error() {
                    exit::TEMPORARY
                } else {
                    exit::FAILURE
                },
                format!(
                    "Pardot answered HTTP {status} with a body that is not an <rsp> envelope: {e}"
                ),
            )
        })?;
        match parsed.into_result() {
            Ok(_) => return Ok(Ok(version)),
            // 89: "Version 3 API users must use version 3".
            Err(api) if api.code.get() == 89 && version == 4 => version = 3,
            Err(api) => return Ok(Err(api)),
        }
    }
}
