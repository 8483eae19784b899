//! What every scenario needs: a mock on a shared clock, clients that bypass proxies, the
//! fixture keys, and the mock's request count.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use pardot_auth_core::{
    BusinessUnitId, ErrorClass, LoginHost, ManualClock, PardotErrorCode, PardotHost, SharedClock,
    TokenSource,
};
use pardot_http::{PardotClient, PardotError, RetryPolicy};
use pardot_mock::sign_in::{Consent, sign_in};
use pardot_mock::{JournalEntry, MockConfig, Outcome, PardotMock, Route, fixtures};
use sf_oauth::{
    AuthorizationCode, CallbackReceiver, JwtBearer, OAuthClient, PkceVerifier, PrivateKey,
    RedirectUrl, WebServerFlow,
};
use url::Url;

use super::Ran;

/// The v5 prospects path every Pardot scenario reads.
pub(crate) const V5_PROSPECTS: &str = "/api/v5/objects/prospects";

/// A mock with the default configuration (`fixtures/mock.toml`) on `clock`.
pub(crate) async fn mock_on(clock: &ManualClock) -> Result<PardotMock> {
    mock_with(clock, MockConfig::defaults()).await
}

/// How most scenarios start: a new manual clock, its handle for the clients, and a mock with
/// the default configuration on it.
pub(crate) async fn staged() -> Result<(ManualClock, SharedClock, PardotMock)> {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let mock = mock_on(&clock).await?;
    Ok((clock, shared, mock))
}

/// A mock with `config` (the defaults with a change the scenario names) on `clock`.
pub(crate) async fn mock_with(clock: &ManualClock, config: MockConfig) -> Result<PardotMock> {
    PardotMock::builder()
        .config(config)
        .clock(clock)
        .start()
        .await
        .context("pardot-mock did not start")
}

/// The error of a call that must fail; `what` says what its success would mean.
pub(crate) fn refused<T, E>(outcome: std::result::Result<T, E>, what: &'static str) -> Result<E> {
    outcome.err().context(what)
}

/// Checks that Salesforce refused the grant for good: `invalid_grant`, never retried.
pub(crate) fn ensure_grant_refused(err: &pardot_auth_core::Error) -> Result<()> {
    ensure!(err.code() == Some("invalid_grant"), "{err}");
    ensure!(err.class() == ErrorClass::NeverRetry, "{err}");
    Ok(())
}

/// Checks that Pardot refused the call for good with `code`, never retried.
pub(crate) fn ensure_pardot_refused(err: &PardotError, code: PardotErrorCode) -> Result<()> {
    ensure!(err.pardot_code() == Some(code), "{err}");
    ensure!(err.class() == ErrorClass::NeverRetry, "{err}");
    Ok(())
}

/// Checks that a request answered 200; `what` names it.
pub(crate) fn ensure_200(status: reqwest::StatusCode, what: &str) -> Result<()> {
    ensure!(status == 200, "{what} answered {status}");
    Ok(())
}

/// Requests the mock answered (every route but its admin routes).
pub(crate) fn requests(mock: &PardotMock) -> u64 {
    mock.counts()
        .iter()
        .filter(|(route, _, _)| *route != Route::Admin)
        .map(|(_, _, n)| n)
        .sum()
}

/// The row's report: the mock's request count.
pub(crate) fn ran(mock: &PardotMock) -> Ran {
    Ran {
        mock_requests: Some(requests(mock)),
    }
}

/// One counter of the mock (`route`, `outcome`).
pub(crate) fn count(mock: &PardotMock, route: Route, outcome: Outcome) -> u64 {
    mock.counts().get(route, outcome)
}

/// The latest request the mock journaled on `route`.
pub(crate) fn last_request(mock: &PardotMock, route: Route) -> Result<JournalEntry> {
    mock.journal()
        .into_iter()
        .rev()
        .find(|e| e.route == route)
        .with_context(|| format!("no {route:?} request in the journal"))
}

/// Checks one counter of the mock (`route`, `outcome`), showing them all when it is off.
pub(crate) fn ensure_count(
    mock: &PardotMock,
    route: Route,
    outcome: Outcome,
    expected: u64,
) -> Result<()> {
    let counted = count(mock, route, outcome);
    ensure!(
        counted == expected,
        "{counted} answers {route:?} {outcome:?}, expected {expected}: {:?}",
        mock.counts()
    );
    Ok(())
}

/// Every answer of a route, whatever the outcome.
pub(crate) fn total(mock: &PardotMock, route: Route) -> u64 {
    mock.counts().route_total(route)
}

/// The person in the web server flow, played by the mock's `sign_in` over plain HTTP: logs
/// in as the web user at `authorize`, allows on the consent page when it shows, and follows
/// the redirect to the loopback receiver; whether the consent page was shown.
pub(crate) async fn sign_in_to_receiver(authorize: &Url) -> Result<bool> {
    let callback = sign_in(
        authorize.as_str(),
        fixtures::WEB_USERNAME,
        fixtures::WEB_PASSWORD,
        Consent::Allow,
    )
    .await?;
    ensure!(
        callback.error().is_none(),
        "the mock redirected with an error: {callback:?}"
    );
    let landed = callback.follow().await?;
    ensure!(
        landed.status == 200 && landed.body.contains("Signed in"),
        "the receiver answered {}: {}",
        landed.status,
        landed.body
    );
    Ok(callback.consent_shown())
}

/// A plain HTTP client for loopback: no proxy, no automatic redirects.
pub(crate) fn http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building an HTTP client")
}

/// The OAuth client of every flow: the shared clock, no proxy.
pub(crate) fn oauth(clock: &SharedClock) -> Result<OAuthClient> {
    OAuthClient::builder()
        .clock(clock.clone())
        .no_proxy()
        .build()
        .context("building the OAuth client")
}

/// A login host at a mock URL (`{base}`, `{base}/sandbox`, `{base}/my/NAME`).
pub(crate) fn login_host(url: &str) -> Result<LoginHost> {
    LoginHost::custom(url).with_context(|| format!("login host {url}"))
}

/// A Pardot host at a mock URL (`{base}` or `{base}/demo`).
pub(crate) fn pardot_host(url: &str) -> Result<PardotHost> {
    PardotHost::custom(url).with_context(|| format!("Pardot host {url}"))
}

/// A fixture key from `fixtures/keys/` (test-only keys).
pub(crate) fn key(name: &str) -> Result<PrivateKey> {
    let path = crate::project_root().join("fixtures/keys").join(name);
    PrivateKey::from_pem_file(&path).with_context(|| format!("reading {}", path.display()))
}

/// The production business unit of the fixtures.
pub(crate) fn bu() -> Result<BusinessUnitId> {
    business_unit(fixtures::BUSINESS_UNIT_ID)
}

/// A business unit id from the fixtures.
pub(crate) fn business_unit(id: &str) -> Result<BusinessUnitId> {
    id.parse().with_context(|| format!("business unit {id}"))
}

/// The JWT bearer flow of the fixtures' JWT app for `username` on the login host `url`.
pub(crate) fn jwt(url: &str, username: &str, clock: &SharedClock) -> Result<JwtBearer> {
    Ok(JwtBearer::new(
        login_host(url)?,
        fixtures::JWT_CONSUMER_KEY,
        username,
        key("connected-app.key")?,
    )
    .with_client(oauth(clock)?))
}

/// Retries quick enough for a row in real time: `max` retries, backing off from `first_ms`
/// up to `cap_ms` milliseconds, none after `within`.
pub(crate) fn quick_retries(max: u32, first_ms: u64, cap_ms: u64, within: Duration) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(max)
        .backoff(
            Duration::from_millis(first_ms),
            Duration::from_millis(cap_ms),
        )
        .max_elapsed(within)
}

/// A Pardot client on `host` for `bu`, with the shared clock.
pub(crate) fn pardot_client(
    source: Arc<dyn TokenSource>,
    host: &str,
    bu: BusinessUnitId,
    clock: &SharedClock,
) -> Result<PardotClient> {
    PardotClient::builder(source, pardot_host(host)?)
        .business_unit(bu)
        .clock(clock.clone())
        .no_proxy()
        .build()
        .context("building the Pardot client")
}

/// The integration user's JWT client against the production hosts of `mock`.
pub(crate) fn integration_client(mock: &PardotMock, clock: &SharedClock) -> Result<PardotClient> {
    let flow = jwt(&mock.url(), fixtures::INTEGRATION_USERNAME, clock)?;
    pardot_client(Arc::new(flow), &mock.url(), bu()?, clock)
}

/// Reads the v5 prospects with `fields` and returns the emails.
pub(crate) async fn prospect_emails(client: &PardotClient) -> Result<Vec<String>> {
    let response = client
        .get(V5_PROSPECTS)
        .query([("fields", "id,email")])
        .send()
        .await
        .context("GET /api/v5/objects/prospects")?;
    ensure_200(response.status(), "v5 prospects")?;
    let page: serde_json::Value = response.json().context("v5 prospects body")?;
    let values = page["values"]
        .as_array()
        .context("v5 prospects body has no `values` array")?;
    Ok(values
        .iter()
        .filter_map(|p| p["email"].as_str().map(str::to_owned))
        .collect())
}

/// A web server flow attempt of the public PKCE app (no secret; not yet approved by the web
/// user, so the Allow page shows): the loopback receiver waits on a free port that the mock
/// knows as a callback; the person opens `url`.
pub(crate) struct PkceAttempt {
    pub(crate) flow: WebServerFlow,
    pub(crate) url: Url,
    pub(crate) verifier: PkceVerifier,
    waiting:
        tokio::task::JoinHandle<std::result::Result<AuthorizationCode, pardot_auth_core::Error>>,
}

impl PkceAttempt {
    /// Binds the receiver, registers it with `mock`, builds the authorize URL and starts
    /// waiting (up to `wait`) for the redirect.
    pub(crate) async fn start(
        mock: &PardotMock,
        clock: &SharedClock,
        wait: std::time::Duration,
    ) -> Result<Self> {
        let receiver =
            CallbackReceiver::bind(&RedirectUrl::new("http://127.0.0.1:0/callback")?).await?;
        let redirect = receiver.redirect_url().clone();
        mock.add_callback_url(fixtures::PKCE_CONSUMER_KEY, redirect.as_str())?;
        let flow = WebServerFlow::new(
            login_host(&mock.url())?,
            fixtures::PKCE_CONSUMER_KEY,
            redirect,
        )
        .with_scopes(["api", "pardot_api", "refresh_token"])
        .with_client(oauth(clock)?);
        let ((url, state), verifier) = flow.authorize_url().build();
        let waiting = tokio::spawn(receiver.receive(&state, wait, clock.clone()));
        Ok(Self {
            flow,
            url,
            verifier,
            waiting,
        })
    }

    /// The code the receiver got, once the person is through (bounded).
    pub(crate) async fn code(&mut self) -> Result<AuthorizationCode> {
        Ok(
            tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.waiting)
                .await
                .context("the receiver got no redirect within 10 s")?
                .context("the receiver task failed")??,
        )
    }
}
