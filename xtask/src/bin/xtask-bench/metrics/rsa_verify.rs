//! What one RS256 verification costs here, in this process on one thread, done the mock's way
//! (aws-lc-rs with the key parsed once, the signature base64-decoded per assertion): the floor
//! under the JWT grant's CPU time per request.

use std::time::Instant;

use anyhow::{Result, ensure};
use serde_json::json;

use crate::context::Ctx;
use crate::report::{Row, fmt_spread, median};
use crate::rounds;
use crate::rs256::{assertion_of, connected_app_key, verifies};

/// The name of its row.
pub const METRIC: &str = "  RS256 verify alone (aws-lc-rs, key parsed once), one thread";

/// Its information row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    let key = connected_app_key()?;
    let jwts: Vec<String> = ctx
        .timed_jwt
        .iter()
        .take(2_000)
        .filter_map(|body| assertion_of(body))
        .collect();
    ensure!(!jwts.is_empty(), "no assertions to verify");
    let per_round = rounds::repeat(3, async || {
        let t0 = Instant::now();
        for jwt in &jwts {
            ensure!(
                verifies(&key, jwt)?,
                "a pre-signed assertion does not verify"
            );
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
