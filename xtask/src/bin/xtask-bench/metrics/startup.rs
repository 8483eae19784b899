//! In-process start to first answered request: ours vs a fresh wiremock server and vs a bare
//! hyper server (a listener and an accept loop answering 404: the floor of any server's start),
//! each measured in the same rounds.
//!
//! `MockServer::start()` takes servers from a pool: a dropped one is reset and handed back,
//! which measures a reset, not a start. Keeping every server alive instead made each further
//! wiremock start slower (its threads pile up: medians of 2.6 ms after 40). So the baseline is
//! `MockServer::builder().start()`, the unpooled start the pool itself performs for a new
//! server, and every server is dropped after each measurement (outside the timed window).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, ensure};
use pardot_mock::PardotMock;
use serde_json::json;

use crate::context::Ctx;
use crate::load::{self, Template};
use crate::report::{Row, fmt_spread, median};
use crate::rounds;
use crate::servers::{Bodies, serve_hyper};

/// The servers started.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Ours,
    Wiremock,
    Hyper,
}

/// One start to first answer of `side`, in ms.
async fn start_to_first_answer(side: Side, probe: &Template) -> Result<f64> {
    let t0 = Instant::now();
    match side {
        Side::Ours => {
            let mock = PardotMock::builder().start().await?;
            let (status, _, _) = load::once(mock.addr(), probe).await?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            ensure!(status.as_u16() == 403, "ours answered {status}");
            mock.shutdown().await;
            Ok(ms)
        }
        Side::Wiremock => {
            let server = wiremock::MockServer::builder().start().await;
            let (status, _, _) = load::once(*server.address(), probe).await?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            ensure!(status.as_u16() == 404, "wiremock answered {status}");
            drop(server);
            Ok(ms)
        }
        Side::Hyper => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = tokio::spawn(serve_hyper(listener, Arc::new(Bodies::default())));
            let (status, _, _) = load::once(addr, probe).await?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            ensure!(status.as_u16() == 404, "hyper answered {status}");
            server.abort();
            Ok(ms)
        }
    }
}

/// Its two rows: against bare hyper and against unpooled wiremock.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    eprintln!("bench: in-process start to first answer");
    let probe = Template::get("/services/oauth2/userinfo", Vec::new());
    let sides = [Side::Ours, Side::Wiremock, Side::Hyper];
    let samples = rounds::alternate(ctx.plan.startup_iterations, &sides, async |_, side| {
        start_to_first_answer(side, &probe).await
    })
    .await?;
    let [ours_ms, wiremock_ms, hyper_ms] = [&samples[0], &samples[1], &samples[2]];
    let om = median(ours_ms);
    let details = json!({ "ours_ms": ours_ms, "wiremock_ms": wiremock_ms, "hyper_ms": hyper_ms });
    // The wiremock row keeps the name it had before the hyper row joined it, so the runs kept
    // in `docs/bench/` compare by name.
    let row = |metric: &str, baseline: &str, base_ms: &[f64], most: f64| {
        let bm = median(base_ms);
        Row::new(metric, "ms", om, fmt_spread(ours_ms, "ms"))
            .against(bm, format!("{baseline} {}", fmt_spread(base_ms, "ms")))
            .target(&format!("≤ {most}× {baseline}"), Some(om <= most * bm))
            .details(details.clone())
    };
    Ok(vec![
        row(
            "in-process mock start to first answered request vs bare hyper",
            "bare hyper",
            hyper_ms,
            2.0,
        ),
        row(
            "in-process mock start to first answered request",
            "wiremock (unpooled)",
            wiremock_ms,
            0.7,
        ),
    ])
}
