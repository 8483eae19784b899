//! What one RS256 verification costs here (jsonwebtoken on aws-lc-rs, the mock's path), in
//! this process on one thread: the floor under the JWT grant's CPU time per request.

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use pardot_mock::fixtures;
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, fmt_spread, median};
use crate::rounds;

/// The name of its row.
pub const METRIC: &str = "  RS256 verify alone (jsonwebtoken + aws-lc-rs), one thread";

/// Its information row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(fixtures::CONNECTED_APP_CERT_PEM.as_bytes())?;
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
            let ok = jsonwebtoken::crypto::verify(
                signature,
                message.as_bytes(),
                &key,
                jsonwebtoken::Algorithm::RS256,
            )?;
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
