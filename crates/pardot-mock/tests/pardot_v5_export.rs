//! The v5 Export API: byte-exact answers (create, read through every status, list, download,
//! errors) against a recorded golden file, and the behaviour behind them: the files hold
//! exactly the records a v4 query returns, are cut at `maxFileSizeBytes`, exports of a unit
//! run one after another on the mock clock, expire after seven days and go with a reset.
//! Regenerate the golden file (only when an answer is meant to change) with
//! `PARDOT_MOCK_BLESS=1`.

mod pardot_support;

use std::collections::BTreeSet;
use std::time::Duration;

use pardot_mock::config::GenerateConfig;
use pardot_mock::{Outcome, Route};
use pardot_support::*;

const GOLDEN: &str = "tests/golden/export_bodies.txt";

/// The mock's default step: five seconds `Waiting`, five `Processing`.
const STEP: Duration = Duration::from_secs(5);

/// A step of the golden script: a request, or moving the clock.
enum Step {
    Get(&'static str),
    Post(&'static str, &'static str),
    /// A request with other headers (`Authorization`, business unit) than the user's.
    Raw(&'static str, &'static [(&'static str, &'static str)]),
    Advance(Duration),
}

impl Env {
    /// `POST {base}{path}` with a JSON body, the integration user's token and the unit.
    async fn bearer_post_json(&self, path: &str, body: &str) -> Answer {
        self.bearer_post(path, body, "application/json").await
    }

    async fn bearer_post(&self, path: &str, body: &str, content_type: &str) -> Answer {
        let resp = self
            .http
            .post(format!("{}{path}", self.mock.url()))
            .bearer_auth(self.user_token())
            .header("Pardot-Business-Unit-Id", BU)
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Answer {
            status,
            content_type,
            body: resp.text().await.expect("body"),
        }
    }

    /// Creates an export (which must be accepted) and returns its id.
    async fn create_export(&self, body: &str) -> u64 {
        let answer = self.bearer_post_json("/api/v5/exports", body).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.json()["id"].as_u64().expect("id")
    }

    /// The export's JSON.
    async fn export(&self, id: u64) -> serde_json::Value {
        let answer = self.bearer_get(&format!("/api/v5/exports/{id}")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()
    }

    /// Every result file of a complete export, by its `resultRefs`.
    async fn files(&self, id: u64) -> Vec<String> {
        let export = self.export(id).await;
        assert_eq!(export["status"], "Complete", "{export}");
        let base = self.mock.url().to_string();
        let mut files = Vec::new();
        for url in export["resultRefs"].as_array().into_iter().flatten() {
            let path = url.as_str().expect("a URL").replace(&base, "");
            let answer = self.bearer_get(&path).await;
            assert_eq!(
                (answer.status, answer.content_type.as_str()),
                (200, "text/csv; charset=utf-8")
            );
            files.push(answer.body);
        }
        files
    }
}

const VISITS_2024: &str = r#"{"fields":["id","prospectId","visitorId","type","typeName","details","campaign.name","createdAt"],"procedure":{"name":"visitor_activity.filter_by_created_at","arguments":{"createdAfter":"2024-01-01T00:00:00+00:00","createdBefore":"2024-12-30T00:00:00+00:00"}}}"#;

const SCRIPT: &[Step] = &[
    Step::Post("/api/v5/exports", VISITS_2024),
    Step::Get("/api/v5/exports/1"),
    Step::Advance(STEP),
    Step::Get("/api/v5/exports/1?fields=id,status,updatedAt"),
    Step::Get("/api/v5/exports/1/results/1"),
    Step::Advance(STEP),
    Step::Get("/api/v5/exports/1"),
    Step::Get("/api/v5/exports/1/results/1"),
    Step::Get("/api/v5/exports/1/results/2"),
    // Two more: the second waits for the first.
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id","listId","prospectId","optedOut","createdAt","updatedAt"],"procedure":{"name":"list_membership.filter_by_created_at","arguments":{"createdAfter":"2024-01-01T00:00:00Z","createdBefore":"2024-12-31T00:00:00Z","deleted":"all"}},"includeByteOrderMark":true}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id","email","firstName","campaign.name","updatedAt"],"procedure":{"name":"prospect.filter_by_updated_at","arguments":{"updatedAfter":"2024-06-01T00:00:00Z","updatedBefore":"2025-03-10T00:00:00Z"}},"maxFileSizeBytes":1024}"#,
    ),
    Step::Get("/api/v5/exports?fields=id,status,procedure,createdAt,updatedAt"),
    Step::Get("/api/v5/exports?fields=id,status&limit=1&status=Waiting"),
    Step::Advance(STEP),
    Step::Advance(STEP),
    Step::Get("/api/v5/exports/2"),
    Step::Get("/api/v5/exports/2/results/1"),
    Step::Get("/api/v5/exports/3?fields=id,status"),
    Step::Advance(STEP),
    Step::Advance(STEP),
    Step::Get("/api/v5/exports/3"),
    Step::Get("/api/v5/exports/3/results/1"),
    // Seven days after it completed, the first export's data is gone.
    Step::Advance(Duration::from_secs(7 * 24 * 60 * 60)),
    Step::Get("/api/v5/exports/1"),
    Step::Get("/api/v5/exports/1/results/1"),
    // Errors.
    Step::Get("/api/v5/exports/99"),
    Step::Get("/api/v5/exports/1?fields=id,nope"),
    Step::Get("/api/v5/exports"),
    Step::Get("/api/v5/exports?fields=id&status=Done"),
    Step::Post("/api/v5/exports", ""),
    Step::Post("/api/v5/exports", "{not json"),
    Step::Post("/api/v5/exports", r#"{"fields":["id"]}"#),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id"],"procedure":{"name":"visitor_activity.filter_by_created_at","arguments":{"createdAfter":"2024-01-01T00:00:00Z"}}}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id","email"],"procedure":{"name":"visitor_activity.filter_by_created_at","arguments":{"createdAfter":"2025-01-01T00:00:00Z"}}}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id"],"procedure":{"name":"visitor.filter_by_created_at","arguments":{"createdAfter":"2025-01-01T00:00:00Z"}}}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id"],"procedure":{"name":"prospect.filter_by_created_at","arguments":{"createdAfter":"2025-01-01T00:00:00Z","prospectOnly":true}}}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id"],"object":"visitorActivity","procedure":{"name":"prospect.filter_by_created_at","arguments":{"createdAfter":"2025-01-01T00:00:00Z"}}}"#,
    ),
    Step::Post(
        "/api/v5/exports",
        r#"{"fields":["id"],"procedure":{"name":"prospect.filter_by_created_at","arguments":{"createdAfter":"2025-01-01T00:00:00Z"}},"maxFileSizeBytes":10}"#,
    ),
    Step::Raw("/api/v5/exports/1", &[]),
    Step::Raw(
        "/api/v5/exports/1",
        &[
            ("Authorization", "Bearer not-a-token"),
            ("Pardot-Business-Unit-Id", "0Uv5g0000008OQUCA2"),
        ],
    ),
];

#[tokio::test]
async fn export_answers_are_byte_identical_to_the_golden_file() {
    let env = env().await;
    let mut got = String::new();
    for step in SCRIPT {
        let (label, answer) = match step {
            Step::Advance(by) => {
                env.clock.advance(*by);
                got.push_str(&format!("== (the clock moves {}s)\n", by.as_secs()));
                continue;
            }
            Step::Get(path) => (format!("GET {path}"), env.bearer_get(path).await),
            Step::Post(path, body) => (
                format!("POST {path} {body}"),
                env.bearer_post_json(path, body).await,
            ),
            Step::Raw(path, headers) => (
                format!("GET {path} with {headers:?}"),
                env.get(path, headers).await,
            ),
        };
        got.push_str(&format!(
            "== {label}\n{} {}\n{}\n",
            answer.status, answer.content_type, answer.body
        ));
    }
    assert_golden(GOLDEN, &got.replace(&env.mock.url().to_string(), "{BASE}"));
    // Every export call is counted on its own route.
    let counts = env.mock.counts();
    assert!(counts.get(Route::PardotExport, Outcome::Ok) >= 15);
    assert_eq!(counts.get(Route::PardotExport, Outcome::Pardot(109)), 4);
    assert_eq!(counts.get(Route::PardotV5, Outcome::Ok), 0);
}

#[tokio::test]
async fn a_content_type_other_than_json_is_refused() {
    let env = env().await;
    env.bearer_post("/api/v5/exports", VISITS_2024, "text/plain")
        .await
        .assert(400, JSON, &v5_fail(151, "Unsupported content-type"));
}

/// The ids in the first column of every file (after each file's header).
fn ids(files: &[String]) -> Vec<u64> {
    files
        .iter()
        .flat_map(|f| f.trim_start_matches('\u{feff}').lines().skip(1))
        .map(|row| row.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// A mock with 3,000 generated visitor activities (in January 2024).
async fn generated_env() -> Env {
    let mut config = config();
    config.generate = Some(GenerateConfig {
        seed: 7,
        business_unit: BU.to_owned(),
        prospects: 40,
        visitors: 60,
        visitor_activities: 3_000,
        visits: 0,
        visitor_page_views: 0,
        list_memberships: 0,
        opportunities: 0,
        email_clicks: 0,
    });
    env_with(config).await
}

#[tokio::test]
async fn the_files_hold_exactly_the_records_a_v4_query_returns() {
    let env = generated_env().await;
    let (after, before) = ("2024-01-01T00:01:00Z", "2024-01-01T00:04:00Z");
    let id = env
        .create_export(&format!(
            r#"{{"fields":["id","type","createdAt"],"procedure":{{"name":"visitor_activity.filter_by_created_at","arguments":{{"createdAfter":"{after}","createdBefore":"{before}","type":[1,2,4,6]}}}},"maxFileSizeBytes":2048}}"#
        ))
        .await;
    env.clock.advance(STEP * 2);
    let files = env.files(id).await;
    assert!(files.len() > 3, "cut into several files: {}", files.len());
    for file in &files {
        assert!(file.len() <= 2048, "a file of {} bytes", file.len());
        assert!(file.starts_with("id,type,createdAt\r\n"), "{file}");
    }
    let exported = ids(&files);
    let unique: BTreeSet<u64> = exported.iter().copied().collect();
    assert_eq!(unique.len(), exported.len(), "no record twice");
    // The v4 query of the same range and types, paged by id: its bounds are strict, a
    // second either side of the export's inclusive ones (records are made on whole seconds).
    let mut queried = BTreeSet::new();
    let mut last = 0;
    loop {
        let answer = env
            .bearer_get(&format!(
                "/api/visitorActivity/version/4/do/query?format=json&created_after=2024-01-01%2000:00:59&created_before=2024-01-01%2000:04:01&type=1,2,4,6&id_greater_than={last}&sort_by=id&sort_order=ascending&limit=200"
            ))
            .await;
        let json = answer.json();
        let page = &json["result"]["visitor_activity"];
        let rows: Vec<u64> = match page {
            serde_json::Value::Array(rows) => {
                rows.iter().map(|r| r["id"].as_u64().unwrap()).collect()
            }
            serde_json::Value::Object(_) => vec![page["id"].as_u64().unwrap()],
            _ => Vec::new(),
        };
        match rows.last() {
            Some(&id) => last = id,
            None => break,
        }
        queried.extend(rows);
    }
    assert!(!queried.is_empty());
    assert_eq!(unique, queried);
}

#[tokio::test]
async fn exports_of_a_unit_run_one_after_another_and_go_with_a_reset() {
    let env = generated_env().await;
    let body = r#"{"fields":["id"],"procedure":{"name":"visitor_activity.filter_by_updated_at","arguments":{"updatedAfter":"2024-01-01T00:00:00Z","updatedBefore":"2024-01-01T01:00:00Z"}},"includeByteOrderMark":true}"#;
    let first = env.create_export(body).await;
    let second = env.create_export(body).await;
    let status = async |id| env.export(id).await["status"].as_str().unwrap().to_owned();
    env.clock.advance(STEP);
    assert_eq!(
        (status(first).await, status(second).await),
        ("Processing".into(), "Waiting".into())
    );
    env.clock.advance(STEP);
    assert_eq!(
        (status(first).await, status(second).await),
        ("Complete".into(), "Waiting".into())
    );
    env.clock.advance(STEP * 2);
    assert_eq!(status(second).await, "Complete");
    let files = env.files(second).await;
    assert!(files.iter().all(|f| f.starts_with("\u{feff}id\r\n")));
    assert_eq!(ids(&files).len(), 3_000, "every generated activity");
    env.mock.reset();
    env.bearer_get(&format!("/api/v5/exports/{first}"))
        .await
        .assert(
            404,
            JSON,
            &v5_fail(
                109,
                "The requested record was not found: no export with this id",
            ),
        );
}

#[tokio::test]
async fn a_zero_step_completes_an_export_at_once() {
    let env = env_of(
        pardot_mock::PardotMock::builder()
            .config(config())
            .export_step(Duration::ZERO),
    )
    .await;
    let answer = env
        .bearer_post_json(
            "/api/v5/exports",
            r#"{"fields":["id","listId"],"procedure":{"name":"list_membership.filter_by_created_at","arguments":{"createdAfter":"2024-05-01T00:00:00Z","createdBefore":"2024-12-01T00:00:00Z"}}}"#,
        )
        .await
        .json();
    assert_eq!(answer["status"], "Complete", "{answer}");
    assert_eq!(answer["resultRefs"].as_array().map(Vec::len), Some(1));
}
