//! Every metric of the bench issue, one module per metric group, each measured side by side
//! with its baseline in one run (`crate::rounds`).

use anyhow::Result;

use crate::context::Ctx;
use crate::report::Row;

mod cli_process;
mod client_overhead;
mod expired_callers;
mod export;
mod fleet;
mod jwt_grant;
mod memory;
mod password_grant;
mod rsa_verify;
pub mod rss;
mod startup;
mod throughput;
mod v34_objects;
mod v4_query;
mod v5_list;

pub use client_overhead::bench_client;
pub use jwt_grant::sum_row as jwt_sum_row;

/// The metric groups `--only` picks from, in the order a run measures them.
pub const GROUPS: [&str; 14] = [
    "v5", "v4", "password", "jwt", "rsa", "memory", "startup", "client", "callers", "cli", "rss",
    "fleet", "objects", "export",
];

/// The rows of one group of [`GROUPS`].
pub async fn measure(group: &str, ctx: &Ctx) -> Result<Vec<Row>> {
    Ok(match group {
        "v5" => v5_list::rows(ctx).await?,
        "v4" => v4_query::rows(ctx).await?,
        "password" => password_grant::rows(ctx).await?,
        "jwt" => jwt_grant::rows(ctx).await?,
        "rsa" => vec![rsa_verify::row(ctx).await?],
        "memory" => vec![memory::row(ctx).await?],
        "startup" => startup::rows(ctx).await?,
        "client" => client_overhead::rows(ctx).await?,
        "callers" => vec![expired_callers::row(ctx).await?],
        "cli" => vec![cli_process::row(ctx).await],
        "rss" => rss::rows(ctx).await?,
        "fleet" => fleet::rows(ctx).await?,
        "objects" => v34_objects::rows(ctx).await?,
        "export" => export::rows(ctx).await?,
        other => anyhow::bail!("unknown group `{other}`"),
    })
}
