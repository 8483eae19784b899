//! What one RS256 verification costs here, in this process on one thread, done the mock's way
//! (aws-lc-rs with the key parsed once, the signature base64-decoded per assertion): the floor
//! under the JWT grant's CPU time per request.

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pardot_mock::fixtures;
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, fmt_spread, median};
use crate::rounds;

/// The name of its row.
pub const METRIC: &str = "  RS256 verify alone (aws-lc-rs, key parsed once), one thread";

/// Its information row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    let pem = jsonwebtoken::DecodingKey::from_rsa_pem(fixtures::CONNECTED_APP_CERT_PEM.as_bytes())?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pem.try_get_as_bytes()?)
        .map_err(|e| anyhow::anyhow!("the connected app's key: {e}"))?;
    let jwts: Vec<String> = ctx
        .timed_jwt
        .iter()
        .take(2_000)
        .filter_map(|body| {
            url::form_urlencoded::parse(body)
                .find(|(k, _)| k == "assertion")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    ensure!(!jwts.is_empty(), "no assertions to verify");
    let per_round = rounds::repeat(3, async || {
        let t0 = Instant::now();
        for jwt in &jwts {
            let (message, signature) = jwt.rsplit_once('.').context("a JWT")?;
            let signature = URL_SAFE_NO_PAD.decode(signature)?;
            let ok = key.verify_sig(message.as_bytes(), &signature).is_ok();
            ensure!(ok, "a pre-signed assertion does not verify");
        }
        Ok(t0.elapsed().as_secs_f64() * 1e6 / jwts.len() as f64)
    })
    .await?;
    Ok(Row::new(
        METRIC,
        "µs/verify",
        median(&per_round),
        fmt_spread(&per_round, "µs/verify"),
    )
    .details(json!({ "us_per_verify": per_round, "verifies_per_round": jwts.len() })))
}
