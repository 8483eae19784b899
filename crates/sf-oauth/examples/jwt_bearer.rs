//! The JWT bearer flow.
//!
//! ```sh
//! cargo run -p sf-oauth --example jwt_bearer
//! ```
//!
//! Without environment variables it starts `pardot-mock` in-process and logs in as the
//! fixture integration user with the TEST ONLY key in `fixtures/keys/connected-app.key`.
//! To log in to a real org instead, set `SF_LOGIN_URL` (`production`, `sandbox`, or a My
//! Domain URL), `SF_CLIENT_ID`, `SF_USERNAME` and `SF_PRIVATE_KEY_FILE`.

mod token_summary;

use pardot_auth_core::{LoginHost, TokenSource};
use pardot_mock::{PardotMock, fixtures};
use sf_oauth::{JwtBearer, OAuthClient, PrivateKey};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the mock alive (it stops when dropped) for as long as the example runs.
    let (_mock, host, client_id, username, key) = match std::env::var("SF_LOGIN_URL") {
        Ok(login) => (
            None,
            LoginHost::parse(&login)?,
            std::env::var("SF_CLIENT_ID")?,
            std::env::var("SF_USERNAME")?,
            PrivateKey::from_pem_file(std::env::var("SF_PRIVATE_KEY_FILE")?)?,
        ),
        Err(_) => {
            let mock = PardotMock::start().await;
            println!("pardot-mock listening on {}", mock.url());
            let host = LoginHost::custom(&mock.url())?;
            (
                Some(mock),
                host,
                fixtures::JWT_CONSUMER_KEY.to_owned(),
                fixtures::INTEGRATION_USERNAME.to_owned(),
                PrivateKey::from_pem(fixtures::CONNECTED_APP_KEY_PEM)?,
            )
        }
    };

    // Loopback needs no proxy; a real org goes through whatever proxy the environment sets.
    let client = if _mock.is_some() {
        OAuthClient::builder().no_proxy().build()?
    } else {
        OAuthClient::new()
    };
    let flow = JwtBearer::new(host.clone(), client_id, username, key).with_client(client.clone());
    let token = flow.token().await?;
    token_summary::print("Logged in with the JWT bearer flow.", &token);

    let me = client.userinfo(&host, &token).await?;
    println!(
        "  user         : {} ({}), org {}",
        me.preferred_username, me.user_id, me.organization_id
    );
    Ok(())
}
