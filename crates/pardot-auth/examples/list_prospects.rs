//! The README's example: log in by JWT bearer and list prospects.
//!
//! With `PARDOT_AUTH_FLOW` set it uses your environment (a real org); without it, it starts
//! an in-process `pardot-mock` and uses the repository's TEST ONLY fixture key.
//!
//! ```sh
//! cargo run -p pardot-auth --example list_prospects
//! ```

use pardot_auth::{Config, connect};
use pardot_mock::{PardotMock, fixtures};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end of main when used.
    let mut _mock = None;
    let config = if std::env::var_os("PARDOT_AUTH_FLOW").is_some() {
        Config::from_env()?
    } else {
        let mock = PardotMock::start().await;
        let key = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/keys/connected-app.key"
        );
        let url = mock.url();
        let config = Config::from_lookup(|name| {
            Some(match name {
                "PARDOT_AUTH_FLOW" => "jwt".into(),
                "SF_LOGIN_URL" | "PARDOT_URL" => url.clone(),
                "SF_CLIENT_ID" => fixtures::JWT_CONSUMER_KEY.into(),
                "SF_USERNAME" => fixtures::INTEGRATION_USERNAME.into(),
                "SF_PRIVATE_KEY_FILE" => key.into(),
                "PARDOT_BUSINESS_UNIT_ID" => fixtures::BUSINESS_UNIT_ID.into(),
                _ => return None,
            })
        })?;
        _mock = Some(mock);
        config
    };

    let client = connect(config).await?;
    let page: serde_json::Value = client
        .get("/api/v5/objects/prospects")
        .query([("fields", "id,email")])
        .send()
        .await?
        .json()?;
    for p in page["values"].as_array().into_iter().flatten() {
        println!("{} {}", p["id"], p["email"]);
    }
    Ok(())
}
