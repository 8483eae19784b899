//! The JWT bearer grant, a fresh pre-signed assertion per request (so every request costs the
//! mock an RS256 verification), against wiremock and bare hyper for information; and its
//! target: a JWT grant does a password grant's work plus one signature check, so its CPU per
//! request is held to that of a password grant plus one RS256 verification, plus 10%.
//!
//! The target is measured against a control ([`budget_row`]): a server that verifies one
//! signature, the way the mock does, before it answers each password grant. Both sides serve
//! the mock's public router on the same loop, in alternating rounds under the same load. The
//! sum of the password row's CPU and the RS256 row's time, measured apart, is kept beside it
//! for information ([`sum_row`]): on two cores shared with the load generator a request that
//! computes 16 µs longer costs the server more than 16 µs of CPU, because the load generator,
//! answered less often, sleeps and is woken more (cross-CPU wake-ups and preemptions; the
//! control shows how much), so the sum of two rows measured at different rates is no floor.

use anyhow::Result;
use serde_json::{Value, json};

use super::throughput::{self, Load, Side};
use super::{password_grant, rsa_verify};
use crate::context::Ctx;
use crate::report::{Row, num};
use crate::requests::{jwt_template, password_template};
use crate::rounds;
use crate::servers::Kind;

/// The name of its rows (before " vs BASELINE").
const METRIC: &str = "JWT bearer grant, fresh pre-signed assertion per request, RS256 verify";
/// The name of [`budget_row`].
const BUDGET_METRIC: &str =
    "JWT grant CPU/request vs password grant + one RS256 verify in the same request (control)";
/// The target of [`budget_row`].
const BUDGET_TARGET: &str = "≤ 1.1× (password grant + RS256 verify)";
/// The share over the control the JWT grant may cost.
const BUDGET_SLACK: f64 = 1.1;

/// Its three rows: against wiremock and bare hyper, and the budget.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    let warm = |_: &str| jwt_template(ctx.warm_jwt.clone());
    let timed = |_: &str| jwt_template(ctx.timed_jwt.clone());
    let mut rows = throughput::rows(
        ctx,
        &Load {
            metric: METRIC,
            warm: &warm,
            timed: &timed,
            ours_needs_token: false,
            // No assertion is sent twice in a timed window.
            ours_max_requests: ctx.timed_jwt.len() as u64,
            targets: &[(Kind::Wiremock, None, "info"), (Kind::Hyper, None, "info")],
        },
    )
    .await?;
    rows.push(budget_row(ctx).await?);
    Ok(rows)
}

/// The JWT grant's CPU per request against the control's, a password grant whose server
/// verifies one RS256 signature first, both on [`Kind::Router`]'s loop, in alternating rounds.
async fn budget_row(ctx: &Ctx) -> Result<Row> {
    eprintln!("bench: {BUDGET_METRIC}");
    let sides = [Kind::Router, Kind::RouterVerifying];
    let rounds = rounds::alternate(ctx.plan.rounds, &sides, async |round, kind| {
        if kind == Kind::Router {
            let warm = |_: &str| jwt_template(ctx.warm_jwt.clone());
            let timed = |_: &str| jwt_template(ctx.timed_jwt.clone());
            let max = ctx.timed_jwt.len() as u64;
            throughput::measure_round(ctx, round, kind, warm, timed, false, max).await
        } else {
            let password = |_: &str| password_template();
            throughput::measure_round(ctx, round, kind, password, password, false, u64::MAX).await
        }
    })
    .await?;
    let [jwt, control] = [&rounds[0], &rounds[1]].map(|r| Side::of(r));
    Ok(budget(&jwt, &control))
}

/// [`budget_row`] from its two sides' rounds.
fn budget(jwt: &Side, control: &Side) -> Row {
    let (jwt_cpu, control_cpu) = (jwt.cpu_us_median(), control.cpu_us_median());
    let met = jwt_cpu <= BUDGET_SLACK * control_cpu && jwt.failed() + control.failed() == 0;
    Row::new(
        BUDGET_METRIC,
        "µs/request",
        jwt_cpu,
        format!("{} µs CPU/req", num(jwt_cpu)),
    )
    .against(
        control_cpu,
        format!("control {} µs CPU/req", num(control_cpu)),
    )
    .target(BUDGET_TARGET, Some(met))
    .details(json!({
        "jwt": jwt.details(),
        "control": control.details(),
        "budget_us": BUDGET_SLACK * control_cpu,
    }))
}

/// Ours' median CPU µs per request in a throughput row named `metric` vs wiremock.
fn ours_cpu_us(rows: &[Row], metric: &str) -> Option<f64> {
    let name = format!("{metric} vs {}", Kind::Wiremock.name());
    let row = rows.iter().find(|r| r.metric == name)?;
    row.details["ours"]["cpu_us_per_request_median"].as_f64()
}

/// For information: the JWT row's CPU per request against the password row's plus the RS256
/// row's time, three figures measured apart (the budget's first form; see the module's
/// comment for why it is no floor); None unless all three were measured.
pub fn sum_row(rows: &[Row]) -> Option<Row> {
    let password = ours_cpu_us(rows, password_grant::METRIC)?;
    let jwt = ours_cpu_us(rows, METRIC)?;
    let verify = rows.iter().find(|r| r.metric == rsa_verify::METRIC)?.ours?;
    let floor = password + verify;
    Some(
        Row::new(
            "JWT grant CPU/request vs password grant CPU/request + one RS256 verify",
            "µs/request",
            jwt,
            format!("{} µs CPU/req", num(jwt)),
        )
        .against(
            floor,
            format!("{} + {} = {} µs", num(password), num(verify), num(floor)),
        )
        .target("info", None)
        .details(json!({
            "jwt_cpu_us": jwt,
            "password_cpu_us": password,
            "rs256_verify_us": verify,
            "one_point_one_times_sum_us": Value::from(BUDGET_SLACK * floor),
        })),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::net::TcpListener;

    use super::*;
    use crate::load::{self, Outcome, Template};
    use crate::requests::sign_pool;
    use crate::rs256::SignatureCheck;
    use crate::servers::{bench_config, serve_router};

    /// The status of `template`'s first request to a fresh bench mock on the router's loop.
    async fn status_of(check: Option<SignatureCheck>, template: &Template) -> Result<u16> {
        let state = pardot_mock::PardotMock::builder()
            .config(bench_config(1))
            .build_state()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = pardot_mock::router(state);
        let server = tokio::spawn(serve_router(listener, router, check.map(Arc::new)));
        let answer = load::once(addr, template).await;
        server.abort();
        Ok(answer?.0.as_u16())
    }

    #[tokio::test]
    async fn the_budgets_sides_answer_their_grants_and_the_control_checks_its_signature()
    -> Result<()> {
        let jwt = jwt_template(Arc::new(sign_pool(2).await?));
        assert_eq!(status_of(None, &jwt).await?, 200);
        let control = Some(SignatureCheck::new()?);
        assert_eq!(status_of(control, &password_template()).await?, 200);
        let broken = Some(SignatureCheck::tampered()?);
        assert_eq!(status_of(broken, &password_template()).await?, 500);
        Ok(())
    }

    fn grant_row(metric: &str, cpu_us: f64) -> Row {
        Row::new(format!("{metric} vs wiremock"), "req/s", 1.0, String::new())
            .details(json!({ "ours": { "cpu_us_per_request_median": cpu_us } }))
    }

    fn side(cpu_us: &[f64], failed: u64) -> Side {
        let rounds: Vec<_> = cpu_us
            .iter()
            .map(|&cpu| {
                let outcome = Outcome {
                    ok: 1_000,
                    failed,
                    elapsed: Duration::from_secs(1),
                    first_failure: None,
                };
                (outcome, cpu)
            })
            .collect();
        Side::of(&rounds)
    }

    #[test]
    fn the_budget_is_the_controls_median_plus_ten_percent() {
        let control = side(&[50.0, 30.0, 31.0], 0);
        let met = |jwt: &[f64]| budget(&side(jwt, 0), &control).met;
        // The control's median is 31 µs: the budget 34.1 µs.
        assert_eq!(met(&[34.0, 90.0, 20.0]), Some(true));
        assert_eq!(met(&[34.2, 34.2, 20.0]), Some(false));
        let failing = budget(&side(&[20.0], 1), &control);
        assert_eq!(failing.met, Some(false));
    }

    #[test]
    fn the_sum_of_rows_measured_apart_is_information() {
        let verify = Row::new(rsa_verify::METRIC, "µs/verify", 15.0, String::new());
        let rows = vec![
            grant_row(password_grant::METRIC, 15.0),
            grant_row(METRIC, 45.0),
            verify,
        ];
        let row = sum_row(&rows).expect("all three rows are there");
        assert_eq!(row.met, None);
        assert_eq!(row.ratio, Some(1.5));
        assert!(sum_row(&rows[..2]).is_none());
    }
}
