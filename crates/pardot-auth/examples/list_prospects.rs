//! The README's example: log in by JWT bearer and list prospects.
//!
//! With `PARDOT_AUTH_FLOW` set it uses your environment (a real org); without it, it starts
//! an in-process `pardot-mock` and uses the mock's TEST ONLY fixture key.
//!
//! ```sh
//! cargo run -p pardot-auth --example list_prospects
//! ```

use pardot_auth::{Config, connect};
use pardot_mock::{PardotMock, fixtures};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock and the key's directory, kept alive until the end of main when used.
    let mut _mock = None;
    let config = if std::env::var_os("PARDOT_AUTH_FLOW").is_some() {
        Config::from_env()?
    } else {
        let mock = PardotMock::start().await;
        // The TEST ONLY key, from the mock crate, so the example needs no file of the repository.
        let key_dir = tempfile::tempdir()?;
        let key = key_dir.path().join("connected-app.key");
        std::fs::write(&key, fixtures::CONNECTED_APP_KEY_PEM)?;
        let url = mock.url();
        let config = Config::from_lookup(|name| {
            Some(match name {
                "PARDOT_AUTH_FLOW" => "jwt".into(),
                "SF_LOGIN_URL" | "PARDOT_URL" => url.clone(),
                "SF_CLIENT_ID" => fixtures::JWT_CONSUMER_KEY.into(),
                "SF_USERNAME" => fixtures::INTEGRATION_USERNAME.into(),
                "SF_PRIVATE_KEY_FILE" => key.display().to_string(),
                "PARDOT_BUSINESS_UNIT_ID" => fixtures::BUSINESS_UNIT_ID.into(),
                _ => return None,
            })
        })?;
        _mock = Some((mock, key_dir));
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
