//! What the facade's tests against an in-process pardot-mock share: the configuration the
//! environment would give, the fixture keys, and one cheap Pardot call.

// Each test binary compiles its own copy and uses part of it.
#![allow(dead_code)]

use std::path::Path;

use pardot_auth::{Config, ConfigError, PardotClient, PardotError};
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
