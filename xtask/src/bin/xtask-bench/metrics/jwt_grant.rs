//! The JWT bearer grant, a fresh pre-signed assertion per request (so every request costs the
//! mock an RS256 verification), against wiremock and bare hyper for information; and its
//! target, from the same run: a JWT grant does a password grant's work plus one signature
//! check, so its CPU per request is held to the password grant's plus one RS256 verification,
//! plus 10% ([`cpu_budget_row`]).

use anyhow::Result;
use serde_json::{Value, json};

use super::throughput::{self, Load};
use super::{password_grant, rsa_verify};
use crate::context::Ctx;
use crate::report::{Row, num};
use crate::requests::jwt_template;
use crate::servers::Kind;

/// The name of its rows (before " vs BASELINE").
const METRIC: &str = "JWT bearer grant, fresh pre-signed assertion per request, RS256 verify";
/// The target of [`cpu_budget_row`].
const BUDGET_TARGET: &str = "≤ 1.1× (password CPU + RS256 verify)";

/// Its two rows.
pub async fn rows(ctx: &Ctx) -> Result<Vec<Row>> {
    let warm = |_: &str| jwt_template(ctx.warm_jwt.clone());
    let timed = |_: &str| jwt_template(ctx.timed_jwt.clone());
    throughput::rows(
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
    .await
}

/// Ours' median CPU µs per request in a throughput row named `metric` vs wiremock.
fn ours_cpu_us(rows: &[Row], metric: &str) -> Option<f64> {
    let name = format!("{metric} vs {}", Kind::Wiremock.name());
    let row = rows.iter().find(|r| r.metric == name)?;
    row.details["ours"]["cpu_us_per_request_median"].as_f64()
}

/// The JWT grant's CPU budget, from the rows of the password, JWT and RS256 groups of the same
/// run; None unless all three were measured.
pub fn cpu_budget_row(rows: &[Row]) -> Option<Row> {
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
        .target(BUDGET_TARGET, Some(jwt <= 1.1 * floor))
        .details(json!({
            "jwt_cpu_us": jwt,
            "password_cpu_us": password,
            "rs256_verify_us": verify,
            "budget_us": Value::from(1.1 * floor),
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant_row(metric: &str, cpu_us: f64) -> Row {
        Row::new(format!("{metric} vs wiremock"), "req/s", 1.0, String::new())
            .details(json!({ "ours": { "cpu_us_per_request_median": cpu_us } }))
    }

    #[test]
    fn the_budget_is_password_plus_one_verify_plus_ten_percent() {
        let verify = Row::new(rsa_verify::METRIC, "µs/verify", 15.0, String::new());
        let rows = |jwt_cpu| {
            vec![
                grant_row(password_grant::METRIC, 15.0),
                grant_row(METRIC, jwt_cpu),
                verify.clone(),
            ]
        };
        let met = cpu_budget_row(&rows(32.9)).and_then(|r| r.met);
        assert_eq!(met, Some(true));
        let over = cpu_budget_row(&rows(33.1)).and_then(|r| r.met);
        assert_eq!(over, Some(false));
        assert!(cpu_budget_row(&rows(30.0)[..2]).is_none());
    }
}
