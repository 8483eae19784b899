//! The v5 prospects list (200 prospects, every auth check) against wiremock and bare hyper.

use anyhow::Result;

use super::throughput::{self, Load};
use crate::context::Ctx;
use crate::report::Row;
use crate::requests::v5_template;
use crate::servers::Kind;

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    throughput::rows(
        ctx,
        &Load {
            metric: "v5 prospects list (200 prospects, all auth checks)",
            warm: &v5_template,
            timed: &v5_template,
            ours_needs_token: true,
            ours_max_requests: u64::MAX,
            targets: &[
                (Kind::Wiremock, Some(1.0), "≥ 1× wiremock"),
                (Kind::Hyper, Some(0.5), "≥ 0.5× hyper"),
            ],
        },
    )
    .await
}
