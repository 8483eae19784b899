//! The front door end to end: the `pardot-auth` facade (`Config` + `connect`), its CLI, and
//! the `pardot-mock` binary as other projects run it.

use anyhow::{Context, Result, ensure};
use pardot_mock::fixtures as fx;

use super::{Body, Ran, Scenario};
use crate::mock_process::MockProcess;

/// The facade and binary rows.
pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "facade: Config::from_lookup + connect (JWT)",
            body: Body::NotBuilt(
                "pardot_auth::connect is not committed yet (crates/pardot-auth at HEAD has Config only)",
            ),
        },
        Scenario {
            name: "CLI: login jwt, whoami, request",
            body: Body::NotBuilt("the pardot-auth CLI (feature `cli`) is not committed yet"),
        },
        Scenario {
            name: "mock binary serves fixtures/mock.toml",
            body: Body::Run(|| Box::pin(mock_binary())),
        },
    ]
}

/// `pardot-mock serve` on a free port: a password grant over HTTP, then the admin counters.
async fn mock_binary() -> Result<Ran> {
    let root = crate::project_root();
    let mock = tokio::task::spawn_blocking(move || MockProcess::start(&root)).await??;
    let http = super::support::http()?;
    let password = format!(
        "{}{}",
        fx::INTEGRATION_PASSWORD,
        fx::INTEGRATION_SECURITY_TOKEN
    );
    let response = http
        .post(format!("{}/services/oauth2/token", mock.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", fx::WEB_CONSUMER_KEY),
            ("client_secret", fx::WEB_CONSUMER_SECRET),
            ("username", fx::INTEGRATION_USERNAME),
            ("password", password.as_str()),
        ])
        .send()
        .await?;
    ensure!(
        response.status() == 200,
        "password grant: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await?;
    let token = body["access_token"].as_str().context("no access_token")?;
    let prospects = http
        .get(format!(
            "{}/api/v5/objects/prospects?fields=id,email",
            mock.url()
        ))
        .bearer_auth(token)
        .header("Pardot-Business-Unit-Id", fx::BUSINESS_UNIT_ID)
        .send()
        .await?;
    ensure!(
        prospects.status() == 200,
        "v5 prospects: {}",
        prospects.status()
    );
    let counts: serde_json::Value = http
        .get(format!("{}/__mock/counts", mock.url()))
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        counts["oauth.token"]["ok"] == 1 && counts["pardot.v5"]["ok"] == 1,
        "admin counts: {counts}"
    );
    Ok(Ran {
        mock_requests: Some(2),
    })
}
