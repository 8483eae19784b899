//! What the examples print of a token they got: where it works and how long, never the token.

use pardot_auth_core::AccessToken;

/// Prints `heading`, then the token's instance and identity URLs, scopes, estimated expiry
/// and whether a refresh token came with it.
pub fn print(heading: &str, token: &AccessToken) {
    println!("{heading}");
    println!(
        "  instance URL : {:?}",
        token.instance_url().map(|u| u.as_str())
    );
    println!("  identity URL : {:?}", token.identity_url());
    println!("  scopes       : {:?}", token.scopes());
    println!("  expires (est): {:?}", token.expiry());
    let refresh = if token.refresh_token().is_some() {
        "issued"
    } else {
        "none"
    };
    println!("  refresh token: {refresh}");
}
