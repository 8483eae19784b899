//! In-process start to first answered request: ours vs a fresh wiremock server.
//!
//! `MockServer::start()` takes servers from a pool: a dropped one is reset and handed back,
//! which measures a reset, not a start. Keeping every server alive instead made each further
//! wiremock start slower (its threads pile up: medians of 2.6 ms after 40). So the baseline is
//! `MockServer::builder().start()`, the unpooled start the pool itself performs for a new
//! server, and both servers are dropped after each measurement (outside the timed window).

use std::time::Instant;

use anyhow::{Result, ensure};
use pardot_mock::PardotMock;
use serde_json::json;

use crate::context::Ctx;
use crate::load::{self, Template};
use crate::report::{Row, fmt_spread, median};
use crate::rounds;

/// Its row.
pub async fn row(ctx: &Ctx) -> Result<Row> {
    eprintln!("bench: in-process start to first answer");
    let probe = Template::get("/services/oauth2/userinfo", Vec::new());
    let (ours_ms, base_ms) = rounds::ours_and_baseline(ctx.plan.startup_iterations, async |ours| {
        let t0 = Instant::now();
        if ours {
            let mock = PardotMock::builder().start().await?;
            let (status, _, _) = load::once(mock.addr(), &probe).await?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            ensure!(status.as_u16() == 403, "ours answered {status}");
            mock.shutdown().await;
            Ok(ms)
        } else {
            let server = wiremock::MockServer::builder().start().await;
            let (status, _, _) = load::once(*server.address(), &probe).await?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            ensure!(status.as_u16() == 404, "wiremock answered {status}");
            drop(server);
            Ok(ms)
        }
    })
    .await?;
    let (om, bm) = (median(&ours_ms), median(&base_ms));
    Ok(Row::new(
        "in-process mock start to first answered request",
        "ms",
        om,
        fmt_spread(&ours_ms, "ms"),
    )
    .against(
        bm,
        format!("wiremock (unpooled) {}", fmt_spread(&base_ms, "ms")),
    )
    .target("≤ 1× wiremock", Some(om <= bm))
    .details(json!({ "ours_ms": ours_ms, "wiremock_ms": base_ms })))
}
