//! `cargo xtask e2e`: every flow and fault scenario against an in-process `pardot-mock`.
//!
//! Each scenario prints one row: PASS (it ran and every check held), FAIL (it ran and a check
//! failed, or it could not run), or NOT BUILT (the capability it needs does not exist yet, so
//! nothing was checked). A scenario never prints PASS for something it did not check.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// What one scenario reports when it ran to the end.
pub(crate) struct Ran {
    /// Requests the mock saw during the scenario (from its counters), when a mock was used.
    pub(crate) mock_requests: Option<u64>,
}

type ScenarioFuture = Pin<Box<dyn Future<Output = Result<Ran>>>>;

/// How a scenario is carried out.
enum Body {
    /// The scenario runs this.
    #[allow(dead_code)] // each scenario moves here from NotBuilt as its crates land
    Run(fn() -> ScenarioFuture),
    /// The capability is not built yet; the text says what is missing.
    NotBuilt(&'static str),
}

struct Scenario {
    name: &'static str,
    body: Body,
}

enum Verdict {
    Pass,
    Fail(String),
    NotBuilt(&'static str),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail(_) => "FAIL",
            Self::NotBuilt(_) => "NOT BUILT",
        })
    }
}

fn scenarios(browser: bool) -> Vec<Scenario> {
    const NEEDS_MOCK: &str = "needs pardot-mock (issues 4-6)";
    const NEEDS_FLOWS: &str = "needs sf-oauth flows (issue 7) and pardot-mock";
    const NEEDS_LEGACY: &str = "needs pardot-legacy (issue 8) and the mock's Pardot API (issue 6)";
    const NEEDS_HTTP: &str = "needs pardot-http (issue 9) and pardot-mock";
    const NEEDS_CLI: &str = "needs the pardot-auth facade and CLI (issue 10)";
    let mut list = vec![
        Scenario {
            name: "jwt bearer login + account read",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "username-password login",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "web server flow (PKCE, loopback callback)",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "refresh token with rotation",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "client credentials on My Domain",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "device flow",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "legacy api_key login",
            body: Body::NotBuilt(NEEDS_LEGACY),
        },
        Scenario {
            name: "MCI token: issue, expires_in 300, refresh ahead, replayed jti refused",
            body: Body::NotBuilt(NEEDS_FLOWS),
        },
        Scenario {
            name: "expiry mid-run -> one refresh, one retry",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "400 instead of 401 on expiry",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "error 66 burst vs the governor",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "daily limit 122 fails fast",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "revoked approval -> never retry",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "wrong business unit -> 201",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "demo host business unit",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "1000-caller single-flight",
            body: Body::NotBuilt(NEEDS_HTTP),
        },
        Scenario {
            name: "CLI: login jwt, whoami, request",
            body: Body::NotBuilt(NEEDS_CLI),
        },
        Scenario {
            name: "mock binary serves fixtures/mock.toml",
            body: Body::NotBuilt(NEEDS_MOCK),
        },
    ];
    if browser {
        list.push(Scenario {
            name: "web server flow in headless Chromium",
            body: Body::NotBuilt(
                "needs the mock's login page (issue 5) and the browser driver (issue 11)",
            ),
        });
    }
    list
}

pub(crate) fn run(args: &[String]) -> Result<bool> {
    let mut browser = false;
    for arg in args {
        match arg.as_str() {
            "--browser" => browser = true,
            other => bail!("unknown e2e option `{other}` (known: --browser)"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let rows: Vec<(&'static str, Verdict, Option<u64>, Duration)> = scenarios(browser)
        .into_iter()
        .map(|scenario| {
            let started = Instant::now();
            let (verdict, requests) = match scenario.body {
                Body::NotBuilt(why) => (Verdict::NotBuilt(why), None),
                Body::Run(f) => match runtime.block_on(f()) {
                    Ok(ran) => (Verdict::Pass, ran.mock_requests),
                    Err(e) => (Verdict::Fail(format!("{e:#}")), None),
                },
            };
            (scenario.name, verdict, requests, started.elapsed())
        })
        .collect();
    print_table(&rows);
    let failed = rows
        .iter()
        .filter(|(_, v, _, _)| matches!(v, Verdict::Fail(_)))
        .count();
    let not_built = rows
        .iter()
        .filter(|(_, v, _, _)| matches!(v, Verdict::NotBuilt(_)))
        .count();
    let passed = rows.len() - failed - not_built;
    println!("\n{passed} passed, {failed} failed, {not_built} not built");
    Ok(failed == 0)
}

fn print_table(rows: &[(&'static str, Verdict, Option<u64>, Duration)]) {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(8).max(8);
    println!(
        "{:<width$}  {:<9}  {:>13}  {:>9}",
        "scenario", "result", "mock requests", "time"
    );
    println!("{}", "-".repeat(width + 38));
    for (name, verdict, requests, elapsed) in rows {
        let requests = requests.map_or_else(|| "-".to_owned(), |n| n.to_string());
        println!(
            "{name:<width$}  {:<9}  {requests:>13}  {:>7.1}ms",
            verdict.to_string(),
            elapsed.as_secs_f64() * 1000.0
        );
        match verdict {
            Verdict::Fail(why) => println!("    why: {why}"),
            Verdict::NotBuilt(why) => println!("    {why}"),
            Verdict::Pass => {}
        }
    }
}
