//! The web server flow with PKCE on a loopback redirect URI.
//!
//! ```sh
//! SF_CLIENT_ID=3MVG9... SF_REDIRECT_URI=http://localhost:7777/callback \
//!   cargo run -p sf-oauth --example web_server_flow
//! ```
//!
//! Register `SF_REDIRECT_URI` as a Callback URL of the connected app. `SF_LOGIN_URL` picks the
//! login server (`production`, `sandbox`, a My Domain URL, or the mock's URL); `SF_CLIENT_SECRET`
//! is sent when set. The program prints the authorize URL, waits up to 5 minutes for the
//! browser to come back, and prints what it got (never the token itself).

mod token_summary;

use std::time::Duration;

use pardot_auth_core::{LoginHost, SystemClock};
use sf_oauth::{CallbackReceiver, ClientSecret, RedirectUrl, WebServerFlow};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client_id = std::env::var("SF_CLIENT_ID").map_err(|_| "set SF_CLIENT_ID")?;
    let redirect = std::env::var("SF_REDIRECT_URI")
        .unwrap_or_else(|_| "http://localhost:7777/callback".to_owned());
    let host =
        LoginHost::parse(&std::env::var("SF_LOGIN_URL").unwrap_or_else(|_| "production".into()))?;

    let redirect = RedirectUrl::new(redirect)?;
    let mut flow = WebServerFlow::new(host, client_id, redirect.clone()).with_scopes([
        "api",
        "pardot_api",
        "refresh_token",
    ]);
    if let Ok(secret) = std::env::var("SF_CLIENT_SECRET") {
        flow = flow.with_client_secret(ClientSecret::new(secret));
    }

    // Listen first, so the redirect cannot arrive before we are ready.
    let receiver = CallbackReceiver::bind(&redirect).await?;
    let redirect = receiver.redirect_url().clone();
    let ((url, state), verifier) = flow.authorize_url().redirect(redirect.clone()).build();
    println!("Open this URL in your browser to sign in:\n\n  {url}\n");
    println!("Waiting for the redirect to {redirect} ...");

    let code = receiver
        .receive(&state, Duration::from_secs(300), SystemClock::shared())
        .await?;
    let token = flow
        .exchange_code_with_redirect(code, verifier, &redirect)
        .await?;
    token_summary::print("Signed in.", &token);
    Ok(())
}
