//! `PardotClient::export` against pardot-mock, on one `ManualClock` shared by the client and
//! the mock: the helper's waits are sleeps on that clock, which the test moves when the helper
//! is waiting, so nothing sleeps for real.

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::{V5_PROSPECTS, pardot_host};
use pardot_auth_core::{
    AccessToken, BusinessUnitId, Clock, Expiry, ManualClock, TokenKind, provide_token_fn,
};
use pardot_http::{ExportDone, ExportError, ExportPolling, ExportRequest, PardotClient};
use pardot_mock::config::GenerateConfig;
use pardot_mock::{MockConfig, Outcome, PardotMock, Route, fixtures};
use secrecy::SecretString;

/// 2025-03-10 12:00:00 UTC.
fn clock() -> ManualClock {
    ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_741_608_000))
}

/// The default config plus 2,500 generated visitor activities (the first minutes of 2024).
fn config() -> MockConfig {
    let mut config = MockConfig::defaults();
    config.generate = Some(GenerateConfig {
        seed: 3,
        business_unit: fixtures::BUSINESS_UNIT_ID.to_owned(),
        prospects: 20,
        visitors: 30,
        visitor_activities: 2_500,
        visits: 0,
        visitor_page_views: 0,
        list_memberships: 0,
        opportunities: 0,
        email_clicks: 0,
    });
    config
}

/// Tokens live 60 days on the mock and for the client.
const TOKEN_LIFE: Duration = Duration::from_secs(60 * 24 * 60 * 60);

async fn mock(clock: &ManualClock, step: Duration) -> PardotMock {
    PardotMock::builder()
        .config(config())
        .export_step(step)
        .session_timeout(TOKEN_LIFE)
        .clock(clock)
        .start()
        .await
        .unwrap()
}

/// A clock, a [`mock`] on it with the export step `step`, and a [`client`] of the mock.
async fn setup(step: Duration) -> (ManualClock, PardotMock, PardotClient) {
    let clock = clock();
    let mock = mock(&clock, step).await;
    let c = client(&mock, &clock).await;
    (clock, mock, c)
}

/// A client of the mock with a token that outlives every test, fetched already.
async fn client(mock: &PardotMock, clock: &ManualClock) -> PardotClient {
    let bu: BusinessUnitId = fixtures::BUSINESS_UNIT_ID.parse().unwrap();
    let secret = mock
        .issue_access_token(fixtures::INTEGRATION_USERNAME, fixtures::JWT_CONSUMER_KEY)
        .unwrap();
    let token_clock = clock.clone();
    let source = provide_token_fn("issued by the mock", move || {
        let now = token_clock.now();
        let token = AccessToken::new(
            TokenKind::SalesforceBearer,
            SecretString::from(secret.clone()),
            now,
            Expiry::Known(now + TOKEN_LIFE),
        );
        async move { Ok(token) }
    });
    let client = PardotClient::builder(Arc::new(source), pardot_host(mock))
        .business_unit(bu)
        .clock(clock.shared())
        .no_proxy()
        .build()
        .unwrap();
    client
        .get(V5_PROSPECTS)
        .query([("fields", "id")])
        .send()
        .await
        .unwrap();
    client
}

/// The generated activities of 2024-01-01 00:00 to 01:00.
fn activities() -> ExportRequest {
    ExportRequest::new(
        "visitor_activity.filter_by_created_at",
        ["id", "type", "campaign.name", "createdAt"],
    )
    .argument("createdAfter", "2024-01-01T00:00:00Z")
    .argument("createdBefore", "2024-01-01T01:00:00Z")
}

/// Runs the helper, moving the clock by `tick` whenever something waits on it, until the
/// helper returns; the rows it handed on come back beside its answer. The client's token
/// was fetched before and outlives the test, so the only waits are the helper's.
async fn run(
    client: &PardotClient,
    clock: &ManualClock,
    request: ExportRequest,
    polling: ExportPolling,
    tick: Duration,
) -> (Result<ExportDone, ExportError>, Vec<Vec<String>>) {
    let client = client.clone();
    let mut task = tokio::spawn(async move {
        let mut rows = Vec::new();
        let done = client
            .export(&request, &polling, |row| rows.push(row.to_vec()))
            .await;
        (done, rows)
    });
    loop {
        tokio::select! {
            finished = &mut task => return finished.unwrap(),
            () = clock.wait_for_sleepers(1) => clock.advance(tick),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_polled_on_the_clock_and_every_file_is_read() {
    let (clock, mock, c) = setup(Duration::from_secs(5)).await;
    let polling = ExportPolling::default().waits(Duration::from_secs(4), Duration::from_secs(60));
    let request = activities().max_file_size_bytes(16 * 1024);
    let (done, rows) = run(&c, &clock, request, polling, Duration::from_secs(4)).await;
    let done = done.unwrap();
    // Waiting at 0 s and 4 s, complete at 12 s (waits of 4 s, then 8 s).
    assert_eq!(done.polls, 2);
    assert_eq!(done.header, ["id", "type", "campaign.name", "createdAt"]);
    assert!(done.files > 5, "files of 16 KiB: {}", done.files);
    assert_eq!((done.rows, rows.len()), (2_500, 2_500));
    let mut ids: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2_500, "every activity once");
    assert!(rows.iter().all(|r| r[3].starts_with("2024-01-01T00:")));
    let counts = mock.counts();
    // One create, two status reads, one download per file: nothing else.
    assert_eq!(
        counts.route_total(Route::PardotExport),
        3 + done.files as u64
    );
    assert_eq!(counts.route_total(Route::OAuthToken), 0);
    assert_eq!(
        counts.get(Route::PardotExport, Outcome::Ok),
        3 + done.files as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_polls_are_bounded_in_number_and_in_time() {
    let (clock, _mock, c) = setup(Duration::from_secs(3_600)).await;
    let few = ExportPolling::default()
        .waits(Duration::from_secs(10), Duration::from_secs(10))
        .max_polls(3);
    let (done, rows) = run(&c, &clock, activities(), few, Duration::from_secs(10)).await;
    assert!(
        matches!(done, Err(ExportError::TooManyPolls { polls: 3, .. })),
        "{done:?}"
    );
    assert!(rows.is_empty());
    let short = ExportPolling::default()
        .waits(Duration::from_secs(10), Duration::from_secs(40))
        .time_limit(Duration::from_secs(60));
    let (done, _) = run(&c, &clock, activities(), short, Duration::from_secs(10)).await;
    // Waits of 10 s and 20 s; a third of 40 s would end at 70 s, past the limit.
    match done {
        Err(ExportError::TimedOut { elapsed, limit, .. }) => {
            assert_eq!(
                (elapsed, limit),
                (Duration::from_secs(30), Duration::from_secs(60))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_the_server_gives_up_on_is_a_failure() {
    let clock = clock();
    // Eight days a step: the mock cancels the export after seven.
    let mock = mock(&clock, Duration::from_secs(8 * 24 * 60 * 60)).await;
    let c = client(&mock, &clock).await;
    let daily = ExportPolling::default()
        .waits(Duration::from_secs(86_400), Duration::from_secs(86_400))
        .time_limit(Duration::from_secs(30 * 86_400));
    let (done, _) = run(&c, &clock, activities(), daily, Duration::from_secs(86_400)).await;
    assert!(matches!(done, Err(ExportError::Failed { .. })), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_export_is_the_api_error() {
    let (clock, _mock, c) = setup(Duration::from_secs(5)).await;
    let unknown = ExportRequest::new("visitor_activity.filter_by_created_at", ["id", "email"])
        .argument("createdAfter", "2024-01-01T00:00:00Z")
        .argument("createdBefore", "2024-01-02T00:00:00Z");
    let (done, _) = run(
        &c,
        &clock,
        unknown,
        ExportPolling::default(),
        Duration::from_secs(1),
    )
    .await;
    match done {
        Err(ExportError::Request(e)) => assert!(e.to_string().contains("130"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_first_read_seven_days_after_it_completed_is_expired() {
    let (clock, _mock, c) = setup(Duration::from_secs(5)).await;
    let late = ExportPolling::default()
        .waits(
            Duration::from_secs(8 * 86_400),
            Duration::from_secs(8 * 86_400),
        )
        .time_limit(Duration::from_secs(30 * 86_400));
    let (done, rows) = run(
        &c,
        &clock,
        activities(),
        late,
        Duration::from_secs(8 * 86_400),
    )
    .await;
    assert!(
        matches!(done, Err(ExportError::Expired { id: 1 })),
        "{done:?}"
    );
    assert!(rows.is_empty());
}
