//! The checks behind [`diagnose`](fn@crate::diagnose): a fresh token with the configured credentials, userinfo,
//! one cheap Pardot call, and the reading of each failure as a [`Diagnosis`].

use std::time::Duration;

use pardot_auth_core::{
    AccessToken, AuthScheme, BusinessUnitId, Error, ErrorKind, LoginHost, PardotHost, Scopes,
    TokenKind,
};
use pardot_http::store::{StoreError, StoreLease, StoredToken, TokenStore};
use pardot_legacy::envelope::{self, ApiError};

use crate::config::{Config, Flow, FlowConfig};
use crate::connect::{Connector, FlowSource};
use crate::connect_error::ConnectError;
use crate::diagnose::{Diagnosis, PardotCall, TokenChecked};

/// Longest Pardot answer read.
const MAX_BODY: usize = 1024 * 1024;
/// The longest one Pardot call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest the diagnosis waits for another holder of the store record (a refresh under way).
const LEASE_WAIT: Duration = Duration::from_secs(30);

/// Checks `connector`'s setup end to end and names what is wrong, if anything.
///
/// 1. A fresh token with the credentials as configured (the flow itself, not the token
///    store's copy; web, device and refresh flows redeem the store's refresh token as
///    `connect` would). The stored record is replaced only when this succeeds.
/// 2. For a Salesforce token, userinfo (who it is) and its scopes (`pardot_api`).
/// 3. `account read` on the configured Pardot host and business unit (v4, then v3 for v3
///    accounts); a code 201 is retried once on the other host (production vs demo) to tell
///    a wrong business unit from a wrong host.
///
/// The web server and device flows never ask a person here: with no refresh token in the
/// store, only a stored access token can be checked, and the result says so
/// ([`TokenChecked::StoredOnly`]). An MCI service account is checked up to its token (its
/// tokens cannot call Pardot).
pub async fn diagnose(connector: &Connector) -> Diagnosis {
    match check(connector).await {
        Ok(found) | Err(found) => found,
    }
}

async fn check(connector: &Connector) -> Result<Diagnosis, Diagnosis> {
    let config = connector.config();
    let flow = config.flow.flow();
    if !matches!(flow, Flow::Legacy | Flow::Mci) && config.business_unit.is_none() {
        return Err(connect_failure(
            config,
            ConnectError::NoBusinessUnit { flow },
        ));
    }
    let (token, checked) = token(connector).await?;
    if let FlowConfig::Mci {
        service_account_id, ..
    } = &config.flow
    {
        return Ok(Diagnosis::Ok {
            user: format!("the Marketing Cloud Intelligence service account {service_account_id}"),
            pardot: None,
            checked,
        });
    }
    let user = match token.kind() {
        TokenKind::SalesforceBearer => who(connector, &token, checked).await?,
        _ => match &config.flow {
            FlowConfig::Legacy { email, .. } => format!("{email} (legacy api_key)"),
            _ => "the token".to_owned(),
        },
    };
    if let Some(scopes) = token.scopes()
        && !scopes.allows_pardot()
    {
        return Err(missing_scope(scopes));
    }
    let http = connector
        .http_client()
        .map_err(|e| connect_failure(config, e))?;
    let bu = config.business_unit.as_ref();
    match account_read(&http, &config.pardot_host, &token, bu).await? {
        Ok(api_version) => Ok(Diagnosis::Ok {
            user,
            pardot: Some(PardotCall {
                host: config.pardot_host.base_url().to_owned(),
                business_unit: match token.kind() {
                    TokenKind::SalesforceBearer => bu.cloned(),
                    _ => None,
                },
                api_version,
            }),
            checked,
        }),
        Err(api) => Err(pardot_failure(&http, config, &token, &api, checked).await),
    }
}

/// A fresh token, kept in the store on success, under the store's lease so no cache
/// redeems the same refresh token meanwhile.
async fn token(connector: &Connector) -> Result<(AccessToken, TokenChecked), Diagnosis> {
    let config = connector.config();
    let store = connector
        .token_store()
        .await
        .map_err(|e| connect_failure(config, e))?;
    let flow = connector
        .flow_source()
        .map_err(|e| connect_failure(config, e))?;
    let key = connector.key();
    let lease = store
        .lock(&key, LEASE_WAIT)
        .await
        .map_err(|e| store_failure(&e))?;
    let fetched = fetch_and_keep(connector, store.as_ref(), &lease, &key, flow).await;
    store.release(lease).await;
    fetched
}

async fn fetch_and_keep(
    connector: &Connector,
    store: &dyn TokenStore,
    lease: &StoreLease,
    key: &str,
    flow: FlowSource,
) -> Result<(AccessToken, TokenChecked), Diagnosis> {
    let config = connector.config();
    let name = config.flow.flow();
    let mut record = store
        .load(key)
        .await
        .map_err(|e| store_failure(&e))?
        .unwrap_or_default();
    let fetched = match (&flow.refresh_grant, &record.refresh_token) {
        (Some(grant), Some(refresh)) => match grant.refresh(refresh).await {
            Ok(token) => Ok(token),
            // As `connect` would: the refresh flow still has the configured token.
            Err(_) if name == Flow::RefreshToken => {
                configured_refresh_token(config, &mut record);
                flow.source.token().await
            }
            Err(e) => Err(e),
        },
        // A person would have to sign in: only the stored access token can be checked.
        _ if matches!(name, Flow::WebServer | Flow::Device) => {
            let now = connector.shared_clock().now();
            return match record.access.filter(|t| !t.is_expired(now)) {
                Some(token) => Ok((token, TokenChecked::StoredOnly { flow: name })),
                None => Err(Diagnosis::NeedsLogin { flow: name }),
            };
        }
        _ => {
            configured_refresh_token(config, &mut record);
            flow.source.token().await
        }
    };
    let token = fetched.map_err(|e| token_failure(config, &e))?;
    store
        .save_fenced(lease, &record.updated_with(&token))
        .await
        .map_err(|e| store_failure(&e))?;
    Ok((token, TokenChecked::Fresh))
}

/// The refresh flow's configured refresh token becomes the stored one when it is used (a
/// rotating app's answer replaces it again), as `pardot-auth login refresh` does.
fn configured_refresh_token(config: &Config, record: &mut StoredToken) {
    if let FlowConfig::RefreshToken { refresh_token, .. } = &config.flow {
        record.refresh_token = Some(refresh_token.clone());
    }
}

/// Who a Salesforce token belongs to, from userinfo.
async fn who(
    connector: &Connector,
    token: &AccessToken,
    checked: TokenChecked,
) -> Result<String, Diagnosis> {
    let config = connector.config();
    let Some((login, _)) = salesforce_app(config) else {
        return Err(Diagnosis::Config {
            detail: "a Salesforce token needs a Salesforce flow".into(),
        });
    };
    let oauth = connector
        .oauth_client()
        .map_err(|e| connect_failure(config, e))?;
    match oauth.userinfo(login, token).await {
        Ok(info) => Ok(format!(
            "{} (org {})",
            info.preferred_username, info.organization_id
        )),
        Err(e) if e.needs_refresh() => Err(Diagnosis::TokenRejected {
            checked,
            detail: format!("userinfo: {e}"),
        }),
        Err(e) => Err(network_or_other("the Salesforce login server", &e)),
    }
}

/// The login host and consumer key of a Salesforce flow.
fn salesforce_app(config: &Config) -> Option<(&LoginHost, &str)> {
    match &config.flow {
        FlowConfig::JwtBearer {
            login, client_id, ..
        }
        | FlowConfig::Password {
            login, client_id, ..
        }
        | FlowConfig::WebServer {
            login, client_id, ..
        }
        | FlowConfig::RefreshToken {
            login, client_id, ..
        }
        | FlowConfig::ClientCredentials {
            login, client_id, ..
        }
        | FlowConfig::Device {
            login, client_id, ..
        } => Some((login, client_id)),
        _ => None,
    }
}

fn username(config: &Config) -> String {
    match &config.flow {
        FlowConfig::JwtBearer { username, .. } | FlowConfig::Password { username, .. } => {
            username.clone()
        }
        FlowConfig::Legacy { email, .. } => email.clone(),
        _ => "the user".to_owned(),
    }
}

fn missing_scope(scopes: &Scopes) -> Diagnosis {
    Diagnosis::MissingScope {
        granted: scopes.iter().collect::<Vec<_>>().join(" "),
    }
}

fn store_failure(e: &StoreError) -> Diagnosis {
    Diagnosis::TokenStore {
        detail: e.to_string(),
    }
}

fn connect_failure(config: &Config, e: ConnectError) -> Diagnosis {
    match e {
        ConnectError::Token(inner) => token_failure(config, &inner),
        ConnectError::Store(store) => store_failure(&store),
        ConnectError::NeedsLogin { flow } => Diagnosis::NeedsLogin { flow },
        other => Diagnosis::Config {
            detail: other.to_string(),
        },
    }
}

/// A failure without a known setup mistake: the network, a server in trouble, or as it came.
fn network_or_other(what: &'static str, e: &Error) -> Diagnosis {
    let detail = e.to_string();
    match e.kind() {
        ErrorKind::Transport | ErrorKind::Timeout => Diagnosis::Unreachable { what, detail },
        ErrorKind::InvalidResponse => Diagnosis::ServerTrouble { what, detail },
        ErrorKind::Config => Diagnosis::Config { detail },
        _ if e.is_retryable() => Diagnosis::ServerTrouble { what, detail },
        _ => Diagnosis::Other {
            class: e.class(),
            detail,
        },
    }
}

/// Reads a failed token fetch: Salesforce's OAuth error codes and descriptions, the legacy
/// login's Pardot codes, or the network.
fn token_failure(config: &Config, e: &Error) -> Diagnosis {
    let flow = config.flow.flow();
    let said = e.message().to_ascii_lowercase();
    let has = |text: &str| said.contains(text);
    let what = if flow == Flow::Legacy {
        "the Pardot legacy login"
    } else {
        "the login server"
    };
    match e.code().unwrap_or_default() {
        "invalid_grant" if has("authentication failure") => Diagnosis::WrongPassword {
            username: username(config),
        },
        "invalid_grant" if has("hasn't approved") => Diagnosis::NotPreAuthorized {
            username: username(config),
        },
        "invalid_app_access" => Diagnosis::NotPreAuthorized {
            username: username(config),
        },
        "invalid_grant" if has("audience is invalid") => Diagnosis::WrongLoginHost {
            login: salesforce_app(config)
                .map(|(host, _)| host.to_string())
                .unwrap_or_default(),
        },
        "invalid_grant" if has("invalid assertion") => Diagnosis::CertificateMismatch,
        // The JWT bearer grant says `expired authorization code` for an `exp` in the past;
        // the MCI identity provider names `iat`/`exp` itself.
        "invalid_grant"
            if (flow == Flow::JwtBearer && has("expired authorization code"))
                || has("issued in the future")
                || has("assertion expired") =>
        {
            Diagnosis::ClockSkew {
                detail: e.message().to_owned(),
            }
        }
        "invalid_grant" if has("expired access/refresh token") => {
            Diagnosis::RefreshTokenRejected { flow }
        }
        "invalid_grant" if has("not supported on this domain") => Diagnosis::MyDomainRequired,
        "invalid_grant" if has("no client credentials user") => Diagnosis::FlowNotEnabled {
            flow,
            detail: e.message().to_owned(),
        },
        "unsupported_grant_type" => Diagnosis::FlowNotEnabled {
            flow,
            detail: e.message().to_owned(),
        },
        "invalid_grant" if has("inactive user") => Diagnosis::InactiveUser,
        "inactive_user" => Diagnosis::InactiveUser,
        "inactive_org" => Diagnosis::OrgLocked,
        "invalid_client_id" => Diagnosis::UnknownConsumerKey {
            client_id: salesforce_app(config)
                .map(|(_, id)| id.to_owned())
                .unwrap_or_default(),
        },
        "invalid_client" => Diagnosis::WrongClientSecret,
        "rate_limit_exceeded" => Diagnosis::LoginRateLimited,
        "15" if flow == Flow::Legacy => Diagnosis::LegacyLoginFailed {
            email: username(config),
        },
        "131" if flow == Flow::Legacy => Diagnosis::LegacyAccountLocked,
        "126" if flow == Flow::Legacy => Diagnosis::LegacyLoginRetired,
        _ => network_or_other(what, e),
    }
}

/// Reads a Pardot error answer to `account read`.
async fn pardot_failure(
    http: &reqwest::Client,
    config: &Config,
    token: &AccessToken,
    api: &ApiError,
    checked: TokenChecked,
) -> Diagnosis {
    let legacy = matches!(token.kind(), TokenKind::LegacyApiKey { .. });
    let business_unit = config
        .business_unit
        .as_ref()
        .map_or_else(String::new, |b| b.as_str().to_owned());
    match api.code.get() {
        1 if legacy => Diagnosis::LegacyApiKeyExpired,
        126 if legacy => Diagnosis::LegacyLoginRetired,
        201 => {
            let elsewhere = match other_host(&config.pardot_host) {
                Some(host)
                    if matches!(
                        account_read(http, &host, token, config.business_unit.as_ref()).await,
                        Ok(Ok(_))
                    ) =>
                {
                    Some(host)
                }
                _ => None,
            };
            match elsewhere {
                Some(host) => Diagnosis::BusinessUnitOnOtherHost {
                    business_unit,
                    demo: is_demo(&host),
                    host: host.base_url().to_owned(),
                },
                None => Diagnosis::BusinessUnitNotFound {
                    business_unit,
                    host: config.pardot_host.base_url().to_owned(),
                },
            }
        }
        49 => Diagnosis::NoPardotAccess { business_unit },
        184 => match token.scopes() {
            Some(scopes) if !scopes.allows_pardot() => missing_scope(scopes),
            _ => Diagnosis::TokenRejected {
                checked,
                detail: format!("Pardot code 184: {}", api.message),
            },
        },
        76 => Diagnosis::ApiDisabled,
        53 => Diagnosis::IpNotActivated,
        46 => Diagnosis::InsufficientPermissions,
        122 => Diagnosis::DailyLimit,
        66 => Diagnosis::ConcurrencyLimit,
        code => Diagnosis::Other {
            class: api.class(),
            detail: format!("Pardot error {code}: {}", api.message),
        },
    }
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

fn pardot_trouble(detail: String) -> Diagnosis {
    Diagnosis::ServerTrouble {
        what: "Pardot",
        detail,
    }
}

/// `account read` (v4, then v3 when the account is a v3 one): `Ok(Ok(version))` on success,
/// `Ok(Err(api))` for a Pardot error, `Err` when there was no readable answer.
async fn account_read(
    http: &reqwest::Client,
    host: &PardotHost,
    token: &AccessToken,
    bu: Option<&BusinessUnitId>,
) -> Result<Result<u8, ApiError>, Diagnosis> {
    let headers = AuthScheme::for_pardot(token, bu)
        .and_then(|s| s.headers(token))
        .map_err(|e| Diagnosis::Config {
            detail: e.to_string(),
        })?;
    let unreachable = |e: reqwest::Error| Diagnosis::Unreachable {
        what: "Pardot",
        detail: format!("{}: {e}", host.base_url()),
    };
    let mut version = 4;
    loop {
        let mut url = host.endpoint(&format!("/api/account/version/{version}/do/read"));
        url.query_pairs_mut().append_pair("format", "json");
        let mut response = http
            .post(url)
            .headers(headers.clone())
            .timeout(CALL_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(pardot_trouble(format!(
                    "HTTP {status} with a body larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let parsed = envelope::parse(&body).map_err(|e| {
            pardot_trouble(format!(
                "HTTP {status} with a body that is not an <rsp> envelope: {e}"
            ))
        })?;
        match parsed.into_result() {
            Ok(_) => return Ok(Ok(version)),
            // 89: "Your account is unable to use version 4 of the API."
            Err(api) if api.code.get() == 89 && version == 4 => version = 3,
            Err(api) => return Ok(Err(api)),
        }
    }
}

#[cfg(test)]
mod tests {
    use pardot_auth_core::ErrorClass;

    use super::*;

    #[test]
    fn the_other_host_of_a_mock_url_is_its_demo_prefix_and_back() {
        let base = PardotHost::custom("http://127.0.0.1:9/").unwrap();
        let demo = other_host(&base).unwrap();
        assert!(is_demo(&demo));
        assert!(!is_demo(&other_host(&demo).unwrap()));
        assert_eq!(other_host(&PardotHost::Production), Some(PardotHost::Demo));
    }

    #[test]
    fn classes_follow_what_a_person_must_do() {
        assert_eq!(Diagnosis::DailyLimit.class(), Some(ErrorClass::NeverRetry));
        assert_eq!(Diagnosis::ConcurrencyLimit.class(), Some(ErrorClass::RETRY));
        assert_eq!(
            Diagnosis::Config {
                detail: String::new()
            }
            .class(),
            Some(ErrorClass::CallerBug)
        );
    }
}
