//! Logs in with the legacy Pardot login and prints what a caller needs to know, never the keys.
//!
//! ```sh
//! PARDOT_EMAIL=api@example.com PARDOT_PASSWORD=… PARDOT_USER_KEY=<32 hex> \
//! PARDOT_URL=https://pi.pardot.com   # or demo, or the mock's URL (http://127.0.0.1:PORT)
//! cargo run -p pardot-legacy --example legacy_login
//! ```
//!
//! Salesforce retired this login for new integrations; see docs/migrating-from-legacy-login.md.

use pardot_auth_core::{AuthScheme, PardotHost, TokenSource};
use pardot_legacy::{LegacyCredentials, LegacyLogin};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Display, not Debug: the message names the code and the usual fix.
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let credentials = LegacyCredentials::new(
        env("PARDOT_EMAIL")?,
        env("PARDOT_PASSWORD")?,
        env("PARDOT_USER_KEY")?,
    )?;
    let host = match std::env::var("PARDOT_URL") {
        Ok(text) => PardotHost::parse(&text)?,
        Err(_) => PardotHost::Production,
    };
    let login = LegacyLogin::builder(credentials).host(host).build()?;

    let token = login.token().await?;
    let version = login
        .api_version()
        .ok_or("the login did not report a version")?;
    let headers = AuthScheme::for_pardot(&token, None)?.headers(&token)?;
    println!("logged in: account uses API version {version}");
    println!(
        "api_key valid for {} minutes (until unix time {})",
        token.lifetime().as_secs() / 60,
        pardot_auth_core::clock::unix_seconds(token.expires_at())
    );
    println!(
        "send {} header(s) (`Authorization: Pardot api_key=…, user_key=…`) to /api/…/version/{version}/…",
        headers.len()
    );
    Ok(())
}
