//! A `PardotClient` against an in-process pardot-mock: a v5 query, a forced token expiry the
//! client recovers from by itself, and a v3/v4 envelope read.
//!
//! ```sh
//! cargo run -p pardot-http --example quickstart
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pardot_auth_core::{
    AccessToken, Error, Expiry, PardotHost, Scopes, TokenKind, provide_token_fn,
};
use pardot_http::PardotClient;
use pardot_mock::{PardotMock, fixtures};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = Arc::new(PardotMock::start().await);

    // Any TokenSource works (sf-oauth's JWT bearer flow in production); here the mock
    // issues tokens directly.
    let issuer = mock.clone();
    let source = provide_token_fn("mock", move || {
        let issuer = issuer.clone();
        async move {
            let secret = issuer
                .issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)
                .map_err(|e| Error::config(e.to_string()))?;
            let now = SystemTime::now();
            Ok(AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + Duration::from_secs(2 * 3600)),
            )
            .with_scopes(Scopes::parse("api pardot_api")))
        }
    });

    let client = PardotClient::builder(Arc::new(source), PardotHost::custom(&mock.url())?)
        .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
        .daily_budget(20_000)
        .no_proxy()
        .build()?;

    let page: serde_json::Value = client
        .get("/api/v5/objects/prospects")
        .query([("fields", "id,email"), ("limit", "5")])
        .send()
        .await?
        .json()?;
    println!(
        "v5: {} prospects on the first page",
        page["values"].as_array().map_or(0, Vec::len)
    );

    // The session ends on the server; the client notices (code 184), fetches one new token
    // and retries once.
    mock.expire_all_tokens()?;
    let account = client.get("/api/account/version/4/do/read").send().await?;
    let envelope = account.envelope().ok_or("a v4 answer has an envelope")?;
    println!(
        "v4 account read after the expiry: stat ok = {}, {} attempts",
        envelope.is_ok(),
        account.attempts()
    );

    let m = client.metrics();
    println!(
        "requests {}, HTTP attempts {}, expiry retries {}, token fetches {}, refreshes {}",
        m.requests, m.attempts, m.expiry_retries, m.token.fetches, m.token.refreshes
    );
    println!("governor: {:?}", client.governor().usage());
    Ok(())
}
