//! The fault scenarios, each through pardot-http's `PardotClient` with a real sf-oauth flow,
//! asserted on the mock's counters and journal; and the fault matrix (`--faults`): every
//! flow against every fault, one table.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{ErrorClass, ManualClock, PardotErrorCode, SystemClock, TokenSource};
use pardot_http::store::{FileStore, StoredToken, TokenStore};
use pardot_http::{CachedTokenSource, PardotClient, PardotError};
use pardot_mock::{
    MockConfig, Outcome, PardotApi, PardotMock, PardotStatusMode, Route, RouteGroup, fixtures as fx,
};
use sf_oauth::{ClientSecret, RefreshGrant};
use tokio::task::JoinHandle;

use super::Ran;
use super::support::{
    V5_PROSPECTS, bu, business_unit, count, ensure_count, ensure_pardot_refused,
    integration_client, jwt, login_host, mock_with, oauth, pardot_client, pardot_host,
    prospect_emails, quick_retries, ran, refused, requests, staged, total,
};

pub(crate) mod matrix;

const V4_ACCOUNT: &str = "/api/account/version/4/do/read";

/// A v5 prospects request on `client`, returning the attempts it took.
async fn v5(client: &PardotClient) -> Result<u32, PardotError> {
    client
        .get(V5_PROSPECTS)
        .query([("fields", "id,email")])
        .send()
        .await
        .map(|r| r.attempts())
}

/// Holds the mock's Pardot answers and sends `n` v5 requests on `client` at once; returns
/// their tasks once 5 of them are held at the mock (the others wait or are refused).
async fn send_held(
    api: &PardotApi,
    client: &PardotClient,
    n: usize,
) -> Result<Vec<JoinHandle<Result<u32, PardotError>>>> {
    api.hold_requests();
    let tasks = (0..n)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { v5(&c).await })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(10), api.wait_for_held_requests(5))
        .await
        .context("5 requests never reached the mock")?;
    Ok(tasks)
}

/// Waits (bounded, real time) until `done` holds; the mock's counters move on other tasks.
async fn until(what: &str, mut done: impl FnMut() -> bool) -> Result<()> {
    for _ in 0..1000 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("timed out waiting until {what}")
}

/// The org's session (15 min on the mock) ends before the client's 2-hour estimate: the
/// next call is rejected, the client refreshes once and retries once (v5 JSON and v4 XML).
pub(crate) async fn expiry_mid_run() -> Result<Ran> {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let mock = PardotMock::builder()
        .clock(&clock)
        .session_timeout(Duration::from_secs(15 * 60))
        .start()
        .await?;
    let client = integration_client(&mock, &shared)?;
    ensure!(v5(&client).await? == 1);
    clock.advance(Duration::from_secs(16 * 60));
    ensure!(v5(&client).await? == 2, "v5: not exactly one retry");
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 2).context("v5: not one refresh")?;
    ensure!(total(&mock, Route::PardotV5) == 3 && count(&mock, Route::PardotV5, Outcome::Ok) == 2);

    ensure!(client.get(V4_ACCOUNT).send().await?.attempts() == 1);
    clock.advance(Duration::from_secs(16 * 60));
    let again = client.get(V4_ACCOUNT).send().await?;
    ensure!(again.attempts() == 2 && again.envelope().is_some_and(|e| e.is_ok()));
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 3).context("v4: not one refresh")?;
    ensure!(total(&mock, Route::PardotV4) == 3 && count(&mock, Route::PardotV4, Outcome::Ok) == 2);
    let m = client.metrics();
    ensure!(m.expiry_retries == 2 && m.token.fetches == 3, "{m:?}");
    Ok(ran(&mock))
}

/// `pardot_status_mode = "legacy"`: a token that timed out answers HTTP 400 (not 401), an
/// unknown one 200 with `stat="fail"`; the client reads expiry from the body either way: one
/// refresh, one retry each.
pub(crate) async fn status_400_for_expiry() -> Result<Ran> {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let mut config = MockConfig::defaults();
    config.pardot_status_mode = PardotStatusMode::Legacy;
    let mock = PardotMock::builder()
        .config(config)
        .clock(&clock)
        .session_timeout(Duration::from_secs(15 * 60))
        .start()
        .await?;
    let client = integration_client(&mock, &shared)?;
    ensure!(client.get(V4_ACCOUNT).send().await?.attempts() == 1);
    clock.advance(Duration::from_secs(16 * 60));
    let resp = client.get(V4_ACCOUNT).send().await?;
    ensure!(resp.attempts() == 2 && resp.envelope().is_some_and(|e| e.is_ok()));
    mock.expire_all_tokens()?;
    let resp = client.get(V4_ACCOUNT).send().await?;
    ensure!(resp.attempts() == 2 && resp.envelope().is_some_and(|e| e.is_ok()));
    let answers: Vec<(u16, Outcome)> = mock
        .journal()
        .into_iter()
        .filter(|e| e.route == Route::PardotV4)
        .map(|e| (e.status, e.outcome))
        .collect();
    let expected = [
        (200, Outcome::Ok),
        (400, Outcome::Pardot(184)),
        (200, Outcome::Ok),
        (200, Outcome::Pardot(184)),
        (200, Outcome::Ok),
    ];
    ensure!(
        answers == expected,
        "v4 answers {answers:?}, expected {expected:?}"
    );
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 3).context("not one refresh each")?;
    ensure!(client.metrics().expiry_retries == 2);
    Ok(ran(&mock))
}

/// Error 66: with the governor (5 per BU) no request is refused while the mock holds 5 in
/// flight; without it, the extra requests get 66 and the retry policy absorbs each one.
pub(crate) async fn error_66_governor() -> Result<Ran> {
    // Real time here: the retry backoff of the ungoverned client must pass on its own.
    let mock = PardotMock::builder().start().await?;
    let clock = SystemClock::shared();
    let api = mock.state().pardot();
    let unit = bu()?;

    let governed = integration_client(&mock, &clock)?;
    let tasks = send_held(&api, &governed, 20).await?;
    until("the 15 others wait for the governor", || {
        governed.metrics().throttled_waits >= 15
    })
    .await?;
    ensure!(
        api.in_flight(&unit) == Some(5),
        "in flight: {:?}",
        api.in_flight(&unit)
    );
    ensure!(
        total(&mock, Route::PardotV5) == 0,
        "a request got past the governor: {:?}",
        mock.counts()
    );
    api.release_requests();
    for t in tasks {
        ensure!(t.await?? == 1, "a governed request was retried");
    }
    ensure!(
        count(&mock, Route::PardotV5, Outcome::Ok) == 20 && total(&mock, Route::PardotV5) == 20
    );

    let ungoverned = PardotClient::builder(
        Arc::new(jwt(&mock.url(), fx::INTEGRATION_USERNAME, &clock)?),
        pardot_host(&mock.url())?,
    )
    .business_unit(unit)
    .max_concurrent(None)
    .retry_policy(quick_retries(40, 5, 50, Duration::from_secs(20)))
    .no_proxy()
    .build()?;
    let tasks = send_held(&api, &ungoverned, 8).await?;
    until("3 requests were refused with 66", || {
        count(&mock, Route::PardotV5, Outcome::Pardot(66)) >= 3
    })
    .await?;
    api.release_requests();
    for t in tasks {
        t.await??;
    }
    let refused = count(&mock, Route::PardotV5, Outcome::Pardot(66));
    ensure_count(&mock, Route::PardotV5, Outcome::Ok, 28)?;
    ensure!(total(&mock, Route::PardotV5) == 28 + refused);
    ensure!(
        ungoverned.metrics().throttle_retries == refused,
        "{refused} refusals, {:?}",
        ungoverned.metrics()
    );
    Ok(ran(&mock))
}

/// A business unit with a daily budget of 2: the third call gets 122 and fails at once.
pub(crate) async fn daily_limit() -> Result<Ran> {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let mut config = MockConfig::defaults();
    config.business_units[0].daily_budget = 2;
    let mock = mock_with(&clock, config).await?;
    let client = integration_client(&mock, &shared)?;
    v5(&client).await?;
    v5(&client).await?;
    let third = refused(v5(&client).await, "the third call passed")?;
    ensure_pardot_refused(&third, PardotErrorCode::DAILY_LIMIT)?;
    ensure!(count(&mock, Route::PardotV5, Outcome::Pardot(122)) == 1);
    ensure!(total(&mock, Route::PardotV5) == 3, "the 122 was retried");
    Ok(ran(&mock))
}

/// Refresh-token rotation through the transport: a file store holds the refresh token, the
/// cache redeems it with sf-oauth's refresh flow, keeps each rotated one, never reuses one.
pub(crate) async fn rotation_in_store() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path())?);
    store
        .save(
            "rotating",
            &StoredToken::refresh_only(fx::ROTATING_REFRESH_TOKEN.into()),
        )
        .await?;
    let host = login_host(&mock.url())?;
    let oauth_client = oauth(&shared)?;
    let grant = RefreshGrant::new(host, fx::ROTATING_CONSUMER_KEY)
        .with_client_secret(ClientSecret::new(fx::ROTATING_CONSUMER_SECRET))
        .with_client(oauth_client);
    let no_login = pardot_auth_core::provide_token_fn("refresh only", || async {
        Err(pardot_auth_core::Error::config(
            "this client may only use its stored refresh token",
        ))
    });
    let cache = CachedTokenSource::builder(Arc::new(no_login))
        .clock(shared.clone())
        .store(store.clone())
        .store_key("rotating")
        .refresh_grant(Arc::new(grant))
        .build();
    let client = PardotClient::builder_with_cache(cache, pardot_host(&mock.url())?)
        .business_unit(bu()?)
        .clock(shared.clone())
        .no_proxy()
        .build()?;
    let stored = || async {
        store
            .load("rotating")
            .await?
            .and_then(|t| t.refresh_token)
            .map(|t| t.expose_secret().to_owned())
            .context("no refresh token in the store")
    };
    v5(&client).await?;
    let r1 = stored().await?;
    ensure!(
        r1 != fx::ROTATING_REFRESH_TOKEN,
        "the rotated token was not stored"
    );
    mock.expire_all_tokens()?;
    ensure!(v5(&client).await? == 2, "expiry not retried once");
    let r2 = stored().await?;
    ensure!(r2 != r1, "the second rotation was not stored");
    let redeemed: Vec<String> = mock
        .journal()
        .into_iter()
        .filter(|e| e.route == Route::OAuthToken)
        .filter_map(|e| e.param("refresh_token").map(str::to_owned))
        .collect();
    ensure!(
        redeemed == [fx::ROTATING_REFRESH_TOKEN.to_owned(), r1],
        "refresh tokens redeemed out of order or twice ({} redeemed)",
        redeemed.len()
    );
    ensure!(
        count(&mock, Route::OAuthToken, Outcome::Ok) == 2 && total(&mock, Route::OAuthToken) == 2
    );
    Ok(ran(&mock))
}

/// The admin revokes the app's approval: the next call's token is rejected, the JWT grant is
/// refused, and nothing is retried; a fresh client sends exactly one request.
pub(crate) async fn revoked_approval() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let client = integration_client(&mock, &shared)?;
    v5(&client).await?;
    mock.revoke_app_approval(fx::JWT_CONSUMER_KEY)?;
    let err = refused(v5(&client).await, "a call after revocation passed")?;
    ensure!(err.class() == ErrorClass::NeverRetry, "{err}");
    ensure!(
        err.to_string().contains("hasn't approved this consumer"),
        "{err}"
    );
    ensure!(
        total(&mock, Route::PardotV5) == 2,
        "the rejected call was re-sent"
    );
    ensure!(count(&mock, Route::OAuthToken, Outcome::InvalidGrant) == 1);

    let before = requests(&mock);
    let fresh = integration_client(&mock, &shared)?;
    let err = refused(v5(&fresh).await, "a fresh client got in")?;
    ensure!(err.class() == ErrorClass::NeverRetry, "{err}");
    ensure!(
        requests(&mock) == before + 1,
        "a fresh client sent {} requests, expected exactly 1",
        requests(&mock) - before
    );
    ensure!(count(&mock, Route::OAuthToken, Outcome::InvalidGrant) == 2);
    Ok(ran(&mock))
}

/// An inactive business unit: error 201, never retried, exactly one Pardot request.
pub(crate) async fn wrong_business_unit() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let flow = jwt(&mock.url(), fx::INTEGRATION_USERNAME, &shared)?;
    let client = pardot_client(
        Arc::new(flow),
        &mock.url(),
        business_unit(fx::INACTIVE_BUSINESS_UNIT_ID)?,
        &shared,
    )?;
    let answer = client.get(V4_ACCOUNT).send().await;
    let err = refused(answer, "an inactive business unit answered")?;
    ensure_pardot_refused(&err, PardotErrorCode::BUSINESS_UNIT_NOT_FOUND)?;
    ensure!(
        count(&mock, Route::PardotV4, Outcome::Pardot(201)) == 1
            && total(&mock, Route::PardotV4) == 1
    );
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 1);
    Ok(ran(&mock))
}

/// A sandbox's business unit lives on the demo host: it answers there (JWT on the sandbox
/// login host) and answers 201, with a hint naming pi.demo.pardot.com, on production.
pub(crate) async fn demo_host() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let demo_bu = business_unit(fx::DEMO_BUSINESS_UNIT_ID)?;
    let source: Arc<dyn TokenSource> =
        Arc::new(jwt(&mock.sandbox_url(), fx::SANDBOX_USERNAME, &shared)?);
    let on_demo = pardot_client(source.clone(), &mock.demo_url(), demo_bu.clone(), &shared)?;
    let emails = prospect_emails(&on_demo).await?;
    ensure!(emails == ["demo@example.com"], "demo prospects: {emails:?}");
    let on_prod = pardot_client(source, &mock.url(), demo_bu, &shared)?;
    let err = refused(v5(&on_prod).await, "the demo BU answered on production")?;
    ensure_pardot_refused(&err, PardotErrorCode::BUSINESS_UNIT_NOT_FOUND)?;
    ensure!(err.to_string().contains("pi.demo.pardot.com"), "{err}");
    ensure!(
        count(&mock, Route::PardotV5, Outcome::Ok) == 1
            && count(&mock, Route::PardotV5, Outcome::Pardot(201)) == 1
    );
    Ok(ran(&mock))
}

/// 1000 concurrent calls right after every token expired: exactly one token request.
pub(crate) async fn single_flight() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let client = integration_client(&mock, &shared)?;
    v5(&client).await?;
    mock.expire_all_tokens()?;
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { v5(&c).await })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    ensure!(
        count(&mock, Route::OAuthToken, Outcome::Ok) == 2 && total(&mock, Route::OAuthToken) == 2,
        "token requests: {:?} (expected 1 + the first login)",
        mock.counts().route_total(Route::OAuthToken)
    );
    ensure!(count(&mock, Route::PardotV5, Outcome::Ok) == 1001);
    let m = client.metrics();
    ensure!(m.requests == 1001 && m.token.fetches == 2, "{m:?}");
    ensure!(
        m.attempts == 1001 + m.expiry_retries && m.expiry_retries <= 5,
        "{m:?}"
    );
    Ok(ran(&mock))
}

/// 503 answers are retried within the policy's bound (then a typed error after exactly
/// 1 + max_retries requests); a mock that stops answering costs one per-attempt timeout per
/// attempt, never the full delay.
pub(crate) async fn unavailable_and_slow() -> Result<Ran> {
    // Real time: the backoff and the timeouts must pass on their own.
    let mock = PardotMock::builder().start().await?;
    let clock = SystemClock::shared();
    let client = PardotClient::builder(
        Arc::new(jwt(&mock.url(), fx::INTEGRATION_USERNAME, &clock)?),
        pardot_host(&mock.url())?,
    )
    .business_unit(bu()?)
    .retry_policy(quick_retries(3, 5, 20, Duration::from_secs(10)))
    .no_proxy()
    .build()?;
    ensure!(v5(&client).await? == 1);

    mock.fail_next(Route::PardotV5, 2, 503, "Service Unavailable")?;
    ensure!(v5(&client).await? == 3, "two 503s: not exactly two retries");
    ensure!(
        client.metrics().throttle_retries == 2,
        "{:?}",
        client.metrics()
    );

    mock.fail_next(Route::PardotV5, 10, 503, "Service Unavailable")?;
    let err = v5(&client)
        .await
        .err()
        .context("ten 503s ended in a success")?;
    ensure!(
        matches!(err, PardotError::Throttled { attempts: 4, .. }),
        "expected Throttled after 4 attempts: {err}"
    );
    ensure!(err.class() == ErrorClass::RETRY, "{err}");
    ensure!(
        count(&mock, Route::PardotV5, Outcome::Fault) == 2 + 4,
        "{:?}",
        mock.counts()
    );
    mock.fault(pardot_mock::Fault::Clear)?;

    mock.set_latency(Duration::from_secs(5), Some(RouteGroup::Pardot.into()))?;
    let started = std::time::Instant::now();
    let err = client
        .get(V5_PROSPECTS)
        .query([("fields", "id")])
        .timeout(Duration::from_millis(250))
        .send()
        .await
        .err()
        .context("a 5 s answer beat a 250 ms timeout")?;
    let waited = started.elapsed();
    ensure!(
        matches!(err, PardotError::Timeout(_) | PardotError::Transport(_)),
        "expected a timeout: {err}"
    );
    // Four attempts of 250 ms at most, plus backoff: far below the 5 s the mock would take.
    ensure!(
        waited < Duration::from_millis(2500),
        "the call waited {waited:?}"
    );
    mock.set_latency(Duration::ZERO, None)?;
    ensure!(v5(&client).await? == 1, "no recovery after the slow spell");
    Ok(ran(&mock))
}
