//! The token endpoint's password grant against wiremock (bare hyper for information).

use anyhow::Result;

use super::throughput::{self, Load, WIREMOCK_TARGET};
use crate::context::Ctx;
use crate::report::Row;
use crate::requests::password_template;

/// The name of its rows (before " vs BASELINE").
pub const METRIC: &str = "token endpoint, password grant";

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    let password = |_: &str| password_template();
    throughput::rows(
        ctx,
        &Load {
            metric: METRIC,
            warm: &password,
            timed: &password,
            ours_needs_token: false,
            ours_max_requests: u64::MAX,
            targets: WIREMOCK_TARGET,
        },
    )
    .await
}
