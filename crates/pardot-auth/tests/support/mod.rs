//! What the facade's tests against an in-process pardot-mock share: the configuration the
//! environment would give, the fixture keys, and one cheap Pardot call.

// Each test binary compiles its own copy and uses part of it.
#![allow(dead_code)]

use std::path::Path;

use pardot_auth::{Config, ConfigError, PardotClient, PardotError, StoredToken, TokenStore};
use pardot_mock::{PardotMock, fixtures};

/// The path of a fixture key (the mock's copies, inside its package).
pub fn key(name: &str) -> String {
    Path::new(fixtures::KEYS_DIR)
        .join(name)
        .display()
        .to_string()
}

/// The configuration the environment would give: the mock as every host and the fixtures'
/// business unit, unless `pairs` say otherwise.
pub fn config(mock: &PardotMock, pairs: &[(&str, String)]) -> Result<Config, ConfigError> {
    let url = mock.url();
    let base: Vec<(&str, String)> = vec![
        ("SF_LOGIN_URL", url.clone()),
        ("PARDOT_URL", url),
        ("PARDOT_BUSINESS_UNIT_ID", fixtures::BUSINESS_UNIT_ID.into()),
    ];
    Config::from_lookup(|name| {
        pairs
            .iter()
            .chain(base.iter())
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
}

/// The settings of `flow` (`password`, `refresh`, `web`, `device`) with the fixtures' web app
/// and its secret, `extra` set over them.
pub fn web_app(flow: &str, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("PARDOT_AUTH_FLOW", flow.to_owned()),
        ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into()),
        ("SF_CLIENT_SECRET", fixtures::WEB_CONSUMER_SECRET.into()),
    ];
    for (name, value) in extra {
        vars.retain(|(k, _)| k != name);
        vars.push((name, value.clone()));
    }
    vars
}

/// Leaves the fixtures' web refresh token in `store` under `key`, as `pardot-auth login web`
/// would.
pub async fn seed_web_refresh_token(store: &dyn TokenStore, key: &str) {
    let token = StoredToken::refresh_only(fixtures::WEB_REFRESH_TOKEN.into());
    store.save(key, &token).await.unwrap();
}

/// The number of prospects on the first page, or why the call failed.
pub async fn try_prospects(client: &PardotClient) -> Result<usize, PardotError> {
    let page: serde_json::Value = client
        .get("/api/v5/objects/prospects")
        .query([("fields", "id,email")])
        .send()
        .await?
        .json()?;
    Ok(page["values"].as_array().map_or(0, Vec::len))
}

/// The number of prospects on the first page.
pub async fn prospects(client: &PardotClient) -> usize {
    try_prospects(client).await.unwrap()
}
