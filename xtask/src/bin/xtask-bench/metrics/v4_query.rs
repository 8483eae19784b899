//! A v4 prospect query page (`do/query`, 200 prospects, bulk output, every auth check), in
//! JSON and in XML, against wiremock and bare hyper serving the same bytes.

use anyhow::Result;

use super::throughput::{self, Load, WIREMOCK_TARGET};
use crate::context::Ctx;
use crate::report::Row;
use crate::requests::v4_query_template;

/// Its four rows: JSON and XML, each against wiremock and bare hyper.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (format, name) in [("json", "JSON"), ("xml", "XML")] {
        let metric = format!("v4 prospect query page, {name} (200 prospects, all auth checks)");
        let template = |token: &str| v4_query_template(token, format);
        rows.extend(
            throughput::rows(
                ctx,
                &Load {
                    metric: &metric,
                    warm: &template,
                    timed: &template,
                    ours_needs_token: true,
                    ours_max_requests: u64::MAX,
                    targets: WIREMOCK_TARGET,
                },
            )
            .await?,
        );
    }
    Ok(rows)
}
