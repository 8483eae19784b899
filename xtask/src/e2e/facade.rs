//! The front door end to end: the `pardot-auth` facade (`Config` + `connect`), its CLI, and
//! the `pardot-mock` binary as other projects run it.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use pardot_auth::{Config, Connector, Flow, TokenKind};
use pardot_auth_core::{Clock, Expiry, ManualClock};
use pardot_mock::{Outcome, PardotMock, Route, fixtures as fx};

use super::support::{
    count, ensure_200, ensure_count, http, last_request, mock_on, prospect_emails, ran,
};
use super::{Ran, Scenario, cli};

/// The facade and binary rows.
pub(super) fn scenarios() -> Vec<Scenario> {
    scenarios![
        "facade: Config::from_lookup + connect (JWT)" => facade_jwt,
        "facade: password, client-credentials, refresh, legacy, mci" => facade_other_flows,
        "mock binary serves fixtures/mock.toml" => mock_binary,
    ]
}

fn fixture_key(name: &str) -> String {
    crate::project_root()
        .join("fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

/// A configuration as `Config::from_env` would read it from these variables (plus the
/// mock's hosts and the fixture business unit); unrelated variables are ignored.
fn config(mock: &PardotMock, vars: &[(&str, String)]) -> Result<Config> {
    let base = [
        ("SF_LOGIN_URL", mock.url()),
        ("PARDOT_URL", mock.url()),
        ("PARDOT_BUSINESS_UNIT_ID", fx::BUSINESS_UNIT_ID.to_owned()),
        ("UNRELATED_VARIABLE", "ignored".to_owned()),
    ];
    Ok(Config::from_lookup(|name| {
        vars.iter()
            .chain(base.iter())
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?)
}

fn jwt_vars() -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_AUTH_FLOW", "jwt".into()),
        ("SF_CLIENT_ID", fx::JWT_CONSUMER_KEY.into()),
        ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
        ("SF_PRIVATE_KEY_FILE", fixture_key("connected-app.key")),
    ]
}

/// `Config::from_lookup` + `connect` for the JWT flow: a ready client (first token fetched),
/// prospects, a forced expiry absorbed; then a `Connector` on the shared clock refreshing
/// ahead of the 2-hour estimate.
async fn facade_jwt() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    let cfg = config(&mock, &jwt_vars())?;
    ensure!(
        cfg.flow.flow() == Flow::JwtBearer,
        "flow {:?}",
        cfg.flow.flow()
    );
    let client = pardot_auth::connect(cfg).await?;
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 1)
        .context("connect did not fetch the first token")?;
    let emails = prospect_emails(&client).await?;
    ensure!(emails.len() == 3, "prospects: {emails:?}");
    mock.expire_all_tokens()?;
    let again = client.get("/api/account/version/4/do/read").send().await?;
    ensure!(again.attempts() == 2 && again.envelope().is_some_and(|e| e.is_ok()));
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 2);

    let shared = clock.shared();
    let client = Connector::new(config(&mock, &jwt_vars())?)
        .clock(shared.clone())
        .connect()
        .await?;
    let cached = client
        .token_cache()
        .and_then(|c| c.cached())
        .context("the connector's client has no cached token")?;
    ensure!(
        cached.expiry()
            == Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION),
        "expiry {:?}",
        cached.expiry()
    );
    clock.advance(Duration::from_secs(2 * 3600 - 60));
    ensure!(prospect_emails(&client).await?.len() == 3);
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 4)
        .context("no refresh ahead of the estimate")?;
    ensure!(
        count(&mock, Route::PardotV5, Outcome::Ok) == 2
            && mock.counts().route_total(Route::PardotV5) == 2
    );
    Ok(ran(&mock))
}

/// Every other flow that needs no person, through `Config::from_lookup` and `connect` /
/// `connect_mci`, one Pardot (or MCI) call each.
async fn facade_other_flows() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await?;
    // PARDOT_AUTH_FLOW is the flow's name, added in the loop.
    let cases: Vec<(Flow, Vec<(&str, String)>)> = vec![
        (
            Flow::Password,
            vec![
                ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::WEB_CONSUMER_SECRET.into()),
                ("SF_USERNAME", fx::INTEGRATION_USERNAME.into()),
                // Apart, as users copy them from other tools; the fault matrix sends them joined.
                ("SF_PASSWORD", fx::INTEGRATION_PASSWORD.into()),
                ("SF_SECURITY_TOKEN", fx::INTEGRATION_SECURITY_TOKEN.into()),
            ],
        ),
        (
            Flow::ClientCredentials,
            vec![
                ("SF_LOGIN_URL", mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN)),
                ("SF_CLIENT_ID", fx::CC_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::CC_CONSUMER_SECRET.into()),
            ],
        ),
        (
            Flow::RefreshToken,
            vec![
                ("SF_CLIENT_ID", fx::WEB_CONSUMER_KEY.into()),
                ("SF_CLIENT_SECRET", fx::WEB_CONSUMER_SECRET.into()),
                ("SF_REFRESH_TOKEN", fx::WEB_REFRESH_TOKEN.into()),
            ],
        ),
        (
            Flow::Legacy,
            vec![
                ("PARDOT_EMAIL", fx::LEGACY_V4_EMAIL.into()),
                ("PARDOT_PASSWORD", fx::LEGACY_V4_PASSWORD.into()),
                ("PARDOT_USER_KEY", fx::LEGACY_V4_USER_KEY.into()),
            ],
        ),
    ];
    for (flow, mut vars) in cases {
        vars.push(("PARDOT_AUTH_FLOW", flow.name().into()));
        let cfg = config(&mock, &vars)?;
        ensure!(
            cfg.flow.flow() == flow,
            "{flow:?}: parsed as {:?}",
            cfg.flow.flow()
        );
        let client = pardot_auth::connect(cfg)
            .await
            .with_context(|| format!("connect({flow:?})"))?;
        let account = client
            .get("/api/account/version/4/do/read")
            .send()
            .await
            .with_context(|| format!("{flow:?}: v4 account read"))?;
        ensure!(
            account.envelope().is_some_and(|e| e.is_ok()) && account.attempts() == 1,
            "{flow:?}: v4 account read failed"
        );
    }
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 3)?;
    ensure!(count(&mock, Route::PardotLogin, Outcome::Ok) == 1);
    ensure!(count(&mock, Route::PardotV4, Outcome::Ok) == 4);

    let mci = config(
        &mock,
        &[
            ("PARDOT_AUTH_FLOW", "mci".into()),
            ("MCI_SERVICE_ACCOUNT_ID", fx::MCI_SERVICE_ACCOUNT_ID.into()),
            ("MCI_DISCOVERY_URL", mock.mci_discovery_url(fx::MCI_REGION)),
            (
                "MCI_PRIVATE_KEY_FILE",
                fixture_key("mci-service-account.key"),
            ),
        ],
    )?;
    // The mock has no Intelligence data API; its discovery document stands in for one, so
    // the journal shows the Bearer header the client sent.
    let base = format!("{}/{}", mock.url(), fx::MCI_REGION).parse()?;
    let mci = Connector::new(mci)
        .clock(clock.shared())
        .connect_mci(base)
        .await?;
    let token = mci.token_cache().get().await?;
    ensure!(matches!(token.kind(), TokenKind::MciBearer));
    ensure!(token.expiry() == Expiry::Known(clock.now() + Duration::from_secs(300)));
    let answer = mci.get("/.well-known/openid-configuration").await?;
    ensure_200(answer.status(), "MCI client call")?;
    let sent = last_request(&mock, Route::MciDiscovery)?
        .header("authorization")
        .map(str::to_owned)
        .context("the MCI client sent no Authorization header")?;
    ensure!(
        sent.starts_with("Bearer ey"),
        "MCI client sent `{}…`",
        &sent[..sent.len().min(10)]
    );
    ensure!(count(&mock, Route::MciToken, Outcome::Ok) == 1);
    Ok(ran(&mock))
}

/// `pardot-mock serve` on a free port: a password grant over HTTP, a v5 call, the admin
/// counters.
async fn mock_binary() -> Result<Ran> {
    let mock = cli::start_mock().await?;
    let http = http()?;
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
    ensure_200(response.status(), "password grant")?;
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
    ensure_200(prospects.status(), "v5 prospects")?;
    let (total, counts) = cli::binary_requests(mock.url()).await?;
    ensure!(
        counts["oauth.token"]["ok"] == 1 && counts["pardot.v5"]["ok"] == 1 && total == 2,
        "admin counts: {counts}"
    );
    Ok(Ran {
        mock_requests: Some(total),
    })
}
