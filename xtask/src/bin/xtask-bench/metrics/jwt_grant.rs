//! The JWT bearer grant, a fresh pre-signed assertion per request (so every request costs the
//! mock an RS256 verification), against wiremock (bare hyper for information).

use anyhow::Result;

use super::throughput::{self, Load};
use crate::context::Ctx;
use crate::report::Row;
use crate::requests::jwt_template;
use crate::servers::Kind;

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    let warm = |_: &str| jwt_template(ctx.warm_jwt.clone());
    let timed = |_: &str| jwt_template(ctx.timed_jwt.clone());
    throughput::rows(
        ctx,
        &Load {
            metric: "JWT bearer grant, fresh pre-signed assertion per request, RS256 verify",
            warm: &warm,
            timed: &timed,
            ours_needs_token: false,
            // No assertion is sent twice in a timed window.
            ours_max_requests: ctx.timed_jwt.len() as u64,
            targets: &[
                (Kind::Wiremock, Some(1.0), "≥ 1× wiremock"),
                (Kind::Hyper, None, "info"),
            ],
        },
    )
    .await
}
