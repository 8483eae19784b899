//! The v3/v4 objects beside prospects (`campaign`, `list`, `listMembership`) against the
//! default fixtures: byte-exact answers of every action in XML and JSON (a golden file, as
//! for prospects), the query criteria and their codes, paging, the one-record quirk, writes on
//! the mock clock, and reset. Regenerate the golden file (only when an answer is meant to
//! change) with `PARDOT_MOCK_BLESS=1`.

mod pardot_support;

use std::time::Duration;

use pardot_support::*;

const GOLDEN: &str = "tests/golden/object_bodies.txt";

/// One step of the golden script: a request, or moving the mock clock.
enum Step {
    Get(&'static str),
    Post(&'static str, &'static [(&'static str, &'static str)]),
    Delete(&'static str),
    Advance(Duration),
}

use Step::{Advance, Delete, Get, Post};

/// Reads, queries (every output, criteria, filters, sorts, paging), then writes and the
/// queries that see them, then errors; XML and JSON for each kind of answer. One step a line:
/// the script is a table, read down.
#[rustfmt::skip]
const SCRIPT: &[Step] = &[
    // Campaigns.
    Get("/api/campaign/version/4/do/query"),
    Get("/api/campaign/version/4/do/query?format=json"),
    Get("/api/campaign/version/4/do/query?output=bulk"),
    Get("/api/campaign/version/4/do/query?format=json&output=bulk&limit=2"),
    Get("/api/campaign/version/4/do/query?format=json&output=simple&sort_by=cost"),
    Get("/api/campaign/version/4/do/query?format=json&sort_by=name&sort_order=descending&offset=1"),
    Get("/api/campaign/version/4/do/query?format=json&name=Trade%20Show%20Leads"),
    Get("/api/campaign/version/4/do/query?name=Trade%20Show%20Leads"),
    Get("/api/campaign/version/4/do/query?format=json&id_greater_than=9999"),
    Get("/api/campaign/version/4/do/query?id_greater_than=9999"),
    Get("/api/campaign/version/4/do/query?format=json&output=bulk&id_greater_than=9999"),
    Get("/api/campaign/version/4/do/query?output=bulk&id_greater_than=9999"),
    Get("/api/campaign/version/4/do/query?format=json&created_after=2024-01-01&created_before=2024-05-20T12:00:00%2B02:00"),
    Get("/api/campaign/version/4/do/query?format=json&updated_after=2024-04-15%2016:30:00&sort_by=updated_at"),
    Get("/api/campaign/version/3/do/read/id/7002"),
    Get("/api/campaign/version/4/do/read/id/7002?format=json"),
    Get("/api/campaign/version/4/do/read?id=7001&format=json"),
    // Lists.
    Get("/api/list/version/4/do/query"),
    Get("/api/list/version/4/do/query?format=json&sort_by=name"),
    Get("/api/list/version/4/do/read/id/752"),
    Get("/api/list/version/4/do/read/id/752?format=json"),
    // List memberships.
    Get("/api/listMembership/version/4/do/query"),
    Get("/api/listMembership/version/4/do/query?format=json"),
    Get("/api/listMembership/version/4/do/query?format=json&list_id=752"),
    Get("/api/listMembership/version/4/do/query?format=json&prospect_id=1003&deleted=true"),
    Get("/api/listMembership/version/4/do/query?format=json&deleted=all&sort_by=created_at&output=bulk"),
    Get("/api/listMembership/version/4/do/read/id/9002"),
    Get("/api/listMembership/version/4/do/read/list_id/752/prospect_id/1002?format=json"),
    // Visitors.
    Get("/api/visitor/version/4/do/query?format=json&output=simple"),
    Get("/api/visitor/version/4/do/query?prospect_ids=1002"),
    Get("/api/visitor/version/4/do/query?format=json&prospect_ids=1001,1003&output=mobile"),
    Get("/api/visitor/version/4/do/query?format=json&output=bulk&sort_by=updated_at"),
    Get("/api/visitor/version/4/do/read/id/5002"),
    Get("/api/visitor/version/3/do/read/id/5003?format=json"),
    // Visits.
    Get("/api/visit/version/4/do/query?visitor_ids=5001"),
    Get("/api/visit/version/4/do/query?format=json&prospect_ids=1002"),
    Get("/api/visit/version/4/do/query?format=json&ids=6002,6004&output=bulk"),
    Get("/api/visit/version/4/do/read/id/6004?format=json"),
    // Visitor activities.
    Get("/api/visitorActivity/version/4/do/query?format=json&limit=3"),
    Get("/api/visitorActivity/version/4/do/query?prospect_only=true&type=4,6"),
    Get("/api/visitorActivity/version/4/do/query?format=json&prospect_id=1001&email_only=true&sort_by=created_at&sort_order=ascending&output=simple"),
    Get("/api/visitorActivity/version/4/do/query?format=json&visitor_id=5001,5003&campaign_id=7001&output=bulk"),
    Get("/api/visitorActivity/version/4/do/query?format=json&prospect_only=false&sort_by=visitor_id&limit=2"),
    Get("/api/visitorActivity/version/4/do/read/id/150005"),
    Get("/api/visitorActivity/version/4/do/read/id/150009?format=json"),
    // Users.
    Get("/api/user/version/4/do/query"),
    Get("/api/user/version/4/do/query?format=json&sort_by=created_at&limit=1"),
    Get("/api/user/version/4/do/read/id/3002?format=json"),
    Get("/api/user/version/3/do/read/email/Legacy-V4@acme.example"),
    Get("/api/user/version/4/do/read?email=web@acme.example&format=json"),
    // Opportunities.
    Get("/api/opportunity/version/4/do/query?format=json&output=mobile"),
    Get("/api/opportunity/version/4/do/query?probability_greater_than=50&sort_by=value"),
    Get("/api/opportunity/version/4/do/query?format=json&prospect_email=grace@example.com"),
    Get("/api/opportunity/version/4/do/query?format=json&value_less_than=10000&output=bulk"),
    Get("/api/opportunity/version/4/do/read/id/4002"),
    // Prospect accounts.
    Get("/api/prospectAccount/version/4/do/describe"),
    Get("/api/prospectAccount/version/4/do/describe?format=json"),
    Get("/api/prospectAccount/version/4/do/query?format=json&sort_by=name"),
    Get("/api/prospectAccount/version/4/do/read/id/2201"),
    // Email clicks.
    Get("/api/emailClick/version/4/do/query"),
    Get("/api/emailClick/version/4/do/query?format=json&list_email_id=3301&id_greater_than=880001"),
    Get("/api/emailClick/version/3/do/query?format=json&created_after=2024-02-10&output=bulk"),
    // Writes, an hour later.
    Advance(Duration::from_secs(3600)),
    Post("/api/campaign/version/4/do/create", &[("name", "Autumn <Launch> & \"Co\""), ("cost", "750")]),
    Post("/api/campaign/version/4/do/update/id/7001?format=json", &[("cost", "99"), ("crm_fid", "ignored")]),
    Post("/api/list/version/4/do/create?format=json", &[("name", "Beta testers"), ("is_public", "1"), ("title", "Beta")]),
    Post("/api/list/version/4/do/update/id/753", &[("description", "People who came"), ("is_crm_visible", "false")]),
    Post("/api/listMembership/version/4/do/create/list_id/753/prospect_id/1003", &[]),
    Post("/api/listMembership/version/4/do/create?format=json", &[("list_id", "755"), ("prospect_id", "1001"), ("opted_out", "true")]),
    Post("/api/listMembership/version/4/do/update/list_id/752/prospect_id/1002?format=json", &[("opted_out", "false")]),
    Post("/api/opportunity/version/4/do/create/prospect_email/alan@example.com?format=json", &[("campaign_id", "7003"), ("name", "Second engine"), ("value", "30000"), ("probability", "25"), ("stage", "Qualification"), ("status", "open")]),
    Post("/api/opportunity/version/4/do/update/id/4001?format=json&output=simple", &[("probability", "90"), ("stage", "Negotiation")]),
    Post("/api/prospectAccount/version/4/do/create?format=json", &[("name", "Difference Engines GmbH"), ("region", "EMEA"), ("employees", "40")]),
    Post("/api/prospectAccount/version/4/do/update/id/2203?format=json", &[("fleet_size", "3"), ("website", "https://bletchley.example")]),
    Advance(Duration::from_secs(60)),
    Post("/api/listMembership/version/4/do/delete/id/9001", &[]),
    Post("/api/opportunity/version/4/do/delete/id/4003", &[]),
    Post("/api/opportunity/version/4/do/undelete/id/4004?format=json", &[]),
    Get("/api/opportunity/version/4/do/query?format=json&updated_after=today&sort_by=id&output=bulk"),
    Delete("/api/list/version/4/do/delete/id/754?format=json"),
    Get("/api/listMembership/version/4/do/query?format=json&updated_after=today&deleted=all&sort_by=updated_at"),
    Get("/api/list/version/4/do/query?format=json&updated_after=last_7_days"),
    Get("/api/campaign/version/4/do/query?format=json&created_after=today"),
    // Errors.
    Get("/api/campaign/version/4/do/query?id_greater_than=ten"),
    Get("/api/campaign/version/4/do/query?format=json&created_after=soon"),
    Get("/api/campaign/version/4/do/query?format=json&updated_before=2024-02-30"),
    Get("/api/campaign/version/4/do/query?format=json&sort_by=email"),
    Get("/api/campaign/version/4/do/query?format=json&sort_order=sideways"),
    Get("/api/campaign/version/4/do/query?format=json&limit=201"),
    Get("/api/campaign/version/4/do/query?format=json&offset=-1"),
    Get("/api/campaign/version/4/do/query?format=json&output=everything"),
    Get("/api/listMembership/version/4/do/query?format=json&deleted=maybe"),
    Get("/api/listMembership/version/4/do/query?format=json&list_id=newsletter"),
    Get("/api/campaign/version/4/do/read/id/424242"),
    Get("/api/campaign/version/4/do/read/id/abc?format=json"),
    Get("/api/campaign/version/4/do/read?format=json"),
    Get("/api/campaign/version/4/do/read/email/x@example.com?format=json"),
    Get("/api/campaign/version/4/do/delete/id/7001?format=json"),
    Get("/api/list/version/4/do/read/id/754?format=json"),
    Get("/api/list/version/4/do/delete/id/753?format=json"),
    Post("/api/list/version/4/do/create?format=json", &[("title", "No name")]),
    Post("/api/list/version/4/do/update/id/753?format=json", &[("name", "")]),
    Post("/api/list/version/4/do/update/id/753?format=json", &[("is_public", "perhaps")]),
    Post("/api/campaign/version/4/do/update/id/7002?format=json", &[("cost", "a lot")]),
    Get("/api/listMembership/version/4/do/read/id/9001?format=json"),
    Post("/api/listMembership/version/4/do/create/list_id/752/prospect_id/1002?format=json", &[]),
    Post("/api/listMembership/version/4/do/create/list_id/999/prospect_id/1002?format=json", &[]),
    Post("/api/listMembership/version/4/do/create/list_id/752/prospect_id/2001?format=json", &[]),
    Post("/api/listMembership/version/4/do/create?format=json", &[("list_id", "752")]),
    Get("/api/prospect/version/4/do/read/id/1001/list_id/752?format=json"),
    Get("/api/visit/version/4/do/query?format=json"),
    Get("/api/visit/version/4/do/query?format=json&visitor_ids=5001,x"),
    Get("/api/visit/version/4/do/read/id/6999?format=json"),
    Get("/api/visitor/version/4/do/query?format=json&prospect_ids=ada"),
    Get("/api/visitor/version/4/do/read/id/5999?format=json"),
    Get("/api/visitor/version/4/do/update/id/5001?format=json"),
    Get("/api/visitorActivity/version/4/do/query?format=json&prospect_only=maybe"),
    Get("/api/visitorActivity/version/4/do/query?format=json&type=click"),
    Get("/api/visitorActivity/version/4/do/query?format=json&sort_by=type"),
    Get("/api/visitorActivity/version/4/do/read/id/1?format=json"),
    Get("/api/visitorPageView/version/4/do/query?format=json"),
    Get("/api/user/version/4/do/read/id/3999?format=json"),
    Get("/api/user/version/4/do/read/email/nobody@acme.example?format=json"),
    Get("/api/user/version/4/do/read/fid/x?format=json"),
    Get("/api/user/version/4/do/create?format=json"),
    Get("/api/opportunity/version/4/do/read/id/4003?format=json"),
    Get("/api/emailClick/version/4/do/query?format=json&list_email_id=spring"),
    Get("/api/emailClick/version/4/do/read/id/880001?format=json"),
    // Prospect delete, last: the recycle bin keeps the prospect.
    Post("/api/prospect/version/4/do/delete/id/1003", &[]),
    Get("/api/prospect/version/4/do/read/id/1003?format=json"),
    Post("/api/prospect/version/4/do/delete/id/1003?format=json", &[]),
    Post("/api/prospect/version/4/do/delete?format=json", &[("email", "nobody@example.com")]),
    Post("/api/prospect/version/4/do/delete/fid/x?format=json", &[]),
    Post("/api/prospect/version/4/do/delete?format=json", &[]),
    Delete("/api/prospect/version/4/do/delete/email/grace@example.com"),
    Get("/api/prospect/version/4/do/query?format=json&deleted=true&fields=email"),
    Get("/api/prospectAccount/version/4/do/read/id/2999?format=json"),
    Post("/api/prospectAccount/version/4/do/update/id/2201?format=json", &[("fleet_size", "many")]),
    Post("/api/prospectAccount/version/4/do/create?format=json", &[("region", "EMEA")]),
    Get("/api/prospectAccount/version/4/do/delete/id/2201?format=json"),
    Get("/api/opportunity/version/4/do/query?format=json&probability_greater_than=high"),
    Get("/api/opportunity/version/4/do/query?format=json&prospect_email=nobody@example.com"),
    Post("/api/opportunity/version/4/do/undelete/id/4001?format=json", &[]),
    Post("/api/opportunity/version/4/do/create/prospect_id/1002?format=json", &[("campaign_id", "7002"), ("name", "x"), ("value", "1")]),
    Post("/api/opportunity/version/4/do/create/prospect_id/1002?format=json", &[("campaign_id", "7999"), ("name", "x"), ("value", "1"), ("probability", "5")]),
    Post("/api/opportunity/version/4/do/create/prospect_id/1999?format=json", &[("campaign_id", "7002"), ("name", "x"), ("value", "1"), ("probability", "5")]),
    Post("/api/opportunity/version/4/do/create/prospect_email/nobody@example.com?format=json", &[("campaign_id", "7002"), ("name", "x"), ("value", "1"), ("probability", "5")]),
    Post("/api/opportunity/version/4/do/update/id/4001?format=json", &[("probability", "150")]),
    Post("/api/opportunity/version/4/do/update/id/4001?format=json", &[("value", "lots")]),
    Post("/api/opportunity/version/4/do/update/id/4001?format=json", &[("status", "maybe")]),
    // Prospect assignment, appended so every answer above stays as it was.
    Post("/api/prospect/version/4/do/assign/id/1001", &[("user_id", "3002")]),
    Get("/api/prospect/version/4/do/read/id/1001?format=json"),
    Post("/api/prospect/version/3/do/assign/email/ada@example.com?format=json", &[("user_email", "LEGACY-V4@acme.example")]),
    Get("/api/prospect/version/4/do/query?format=json&fields=email,assigned_to"),
    Get("/api/prospect/version/4/do/query?format=json&fields=email&output=bulk"),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_id", "3003"), ("user_email", "legacy-v4@acme.example")]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_id", "3002"), ("user_email", "legacy-v4@acme.example")]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_id", "3002"), ("group_id", "1")]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("group_id", "1")]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_id", "3999")]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_email", "nobody@acme.example")]),
    Post("/api/prospect/version/4/do/assign/id/1003?format=json", &[("user_id", "3002")]),
    Post("/api/prospect/version/4/do/assign/email/nobody@example.com?format=json", &[("user_id", "3002")]),
    Advance(Duration::from_secs(60)),
    Post("/api/prospect/version/4/do/unassign/id/1001?format=json", &[]),
    Get("/api/prospect/version/3/do/read/id/1001"),
    // The assignment criteria of the prospect query: 1001 to Iris (by email), a new
    // prospect to Wendy (by id), one left unassigned.
    Post("/api/prospect/version/4/do/create/email/lin@example.com?format=json", &[]),
    Post("/api/prospect/version/4/do/create/email/mo@example.com?format=json", &[]),
    Post("/api/prospect/version/4/do/assign/id/1001?format=json", &[("user_email", "integration@acme.example")]),
    Post("/api/prospect/version/4/do/assign/email/lin@example.com?format=json", &[("user_id", "3002")]),
    Get("/api/prospect/version/4/do/query?format=json&fields=email&assigned=true"),
    Get("/api/prospect/version/4/do/query?fields=email&assigned=false"),
    Get("/api/prospect/version/4/do/query?format=json&fields=email&assigned=FALSE"),
    Get("/api/prospect/version/4/do/query?format=json&fields=email&assigned_to_user=3002"),
    Get("/api/prospect/version/3/do/query?format=json&assigned_to_user=Integration@acme.example"),
    Get("/api/prospect/version/4/do/query?fields=email&assigned_to_user=3003"),
    Get("/api/prospect/version/4/do/query?format=json&fields=email&assigned=false&assigned_to_user=3001"),
    Get("/api/prospect/version/4/do/query?format=json&assigned=maybe"),
    Get("/api/prospect/version/4/do/query?format=json&assigned_to_user=3999"),
    Get("/api/prospect/version/4/do/query?assigned_to_user=nobody@acme.example"),
    Get("/api/prospect/version/4/do/query?format=json&assigned_to_user="),
];

async fn run_script(env: &Env) -> String {
    let token = env.user_token();
    let auth = format!("Bearer {token}");
    let headers = bearer_headers(&auth);
    let mut out = String::new();
    for step in SCRIPT {
        let (label, answer) = match step {
            Get(path) => (format!("GET {path}"), env.get(path, &headers).await),
            Post(path, form) => (
                format!("POST {path} {form:?}"),
                env.post(path, form, &headers).await,
            ),
            Delete(path) => {
                let resp = env
                    .http
                    .delete(format!("{}{path}", env.mock.url()))
                    .header("Authorization", &auth)
                    .header("Pardot-Business-Unit-Id", BU)
                    .send()
                    .await
                    .expect("request sent");
                let status = resp.status().as_u16();
                let body = resp.text().await.expect("body");
                (
                    format!("DELETE {path}"),
                    Answer {
                        status,
                        content_type: String::new(),
                        body,
                    },
                )
            }
            Advance(by) => {
                env.clock.advance(*by);
                out.push_str(&format!("-- clock +{}s\n", by.as_secs()));
                continue;
            }
        };
        out.push_str(&format!(
            "== {label}\n{} {}\n{}\n",
            answer.status, answer.content_type, answer.body
        ));
    }
    out
}

#[tokio::test]
async fn object_answers_are_byte_identical_to_the_golden_file() {
    let env = env().await;
    assert_golden(GOLDEN, &run_script(&env).await);
}

/// The ids of a JSON query answer, whether Pardot wrote one record (an object) or several
/// (an array).
fn ids(answer: &Answer, element: &str) -> Vec<u64> {
    let body = answer.json();
    match &body["result"][element] {
        serde_json::Value::Array(items) => {
            items.iter().map(|i| i["id"].as_u64().unwrap()).collect()
        }
        serde_json::Value::Object(one) => vec![one["id"].as_u64().unwrap()],
        serde_json::Value::Null => Vec::new(),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn one_record_is_an_object_and_none_leaves_the_key_out() {
    let env = env().await;
    let one = env
        .bearer_get("/api/list/version/4/do/query?format=json&limit=1")
        .await;
    assert!(one.json()["result"]["list"].is_object(), "{}", one.body);
    assert_eq!(one.json()["result"]["total_results"], 3);
    let two = env
        .bearer_get("/api/list/version/4/do/query?format=json&limit=2")
        .await;
    assert!(two.json()["result"]["list"].is_array(), "{}", two.body);
    let none = env
        .bearer_get("/api/list/version/4/do/query?format=json&id_less_than=1")
        .await;
    none.assert(
        200,
        JSON,
        r#"{"@attributes":{"stat":"ok","version":1},"result":{"total_results":0}}"#,
    );
}

/// The bulk pull the docs advise: sorted by id, `id_greater_than` from the last id seen,
/// `output=bulk`; every record once, and no `total_results`.
#[tokio::test]
async fn paging_by_id_sees_every_record_once() {
    let env = env().await;
    for (object, element, want) in [
        ("campaign", "campaign", vec![7001_u64, 7002, 7003]),
        ("list", "list", vec![752, 753, 754]),
        (
            "listMembership",
            "list_membership",
            vec![9001, 9002, 9003, 9004],
        ),
        ("visitor", "visitor", vec![5001, 5002, 5003]),
        ("user", "user", vec![3001, 3002, 3003]),
        ("emailClick", "emailClick", vec![880_001, 880_002, 880_003]),
        (
            "visitorActivity",
            "visitor_activity",
            (150_001..=150_010).collect(),
        ),
    ] {
        let mut seen: Vec<u64> = Vec::new();
        let mut last = 0;
        loop {
            let page = env.bearer_expect(&format!(
                    "/api/{object}/version/4/do/query?format=json&output=bulk&sort_by=id&sort_order=ascending&limit=2&id_greater_than={last}"
                ), 200).await;
            assert!(
                page.json()["result"].get("total_results").is_none(),
                "{}",
                page.body
            );
            let ids = ids(&page, element);
            seen.extend(&ids);
            match ids.last() {
                Some(&id) if ids.len() == 2 => last = id,
                _ => break,
            }
        }
        assert_eq!(seen, want, "{object}");
        // Offset paging agrees.
        let offset = env
            .bearer_get(&format!(
                "/api/{object}/version/4/do/query?format=json&limit=2&offset=2"
            ))
            .await;
        let third_and_fourth: Vec<u64> = want.iter().skip(2).take(2).copied().collect();
        assert_eq!(ids(&offset, element), third_and_fourth, "{object}");
    }
}

#[tokio::test]
async fn writes_are_stamped_on_the_mock_clock_and_reset_restores_the_fixtures() {
    let env = env().await;
    env.clock.advance(Duration::from_secs(86_400 * 400));
    let created = env
        .bearer_post_form(
            "/api/campaign/version/4/do/create?format=json",
            &[("name", "Later")],
        )
        .await;
    assert_eq!(created.json()["campaign"]["id"], 7004, "{}", created.body);
    let updated = env
        .bearer_post_form(
            "/api/list/version/4/do/update/id/752?format=json",
            &[("title", "Renamed")],
        )
        .await;
    assert_eq!(updated.json()["list"]["updated_at"], "2026-04-14 12:00:00");
    assert_eq!(updated.json()["list"]["created_at"], "2024-01-10 15:42:36");
    let today = env
        .bearer_get("/api/list/version/4/do/query?format=json&updated_after=today")
        .await;
    assert_eq!(ids(&today, "list"), [752]);
    let today = env
        .bearer_get("/api/campaign/version/4/do/query?format=json&created_after=yesterday")
        .await;
    assert_eq!(ids(&today, "campaign"), [7004]);

    let bu = BU.parse().unwrap();
    let api = env.mock.state().pardot();
    assert_eq!(api.object_count(&bu, "campaign"), Some(4));
    env.mock.reset();
    assert_eq!(api.object_count(&bu, "campaign"), Some(3));
    let read = env
        .bearer_get("/api/list/version/4/do/read/id/752?format=json")
        .await;
    assert_eq!(read.json()["list"]["title"], "Newsletter", "{}", read.body);
    assert_eq!(read.json()["list"]["updated_at"], "2024-03-06 15:28:41");
}

/// Each business unit has its own records; the legacy api_key of a v3 account reaches them
/// on v3 only.
#[tokio::test]
async fn business_units_and_versions_keep_their_rules() {
    let env = env().await;
    let token = env.user_token();
    let demo = env
        .get_as(
            &token,
            DEMO_BU,
            "/demo/api/campaign/version/4/do/query?format=json",
        )
        .await;
    // The integration user has no demo unit: the usual 49 / 201 rules apply first.
    assert_eq!(demo.json()["@attributes"]["stat"], "fail", "{}", demo.body);
    let sandbox = env.token(SANDBOX_USER, JWT_APP);
    let demo = env
        .get_as(
            &sandbox,
            DEMO_BU,
            "/demo/api/campaign/version/4/do/query?format=json",
        )
        .await;
    assert_eq!(ids(&demo, "campaign"), [8001], "{}", demo.body);

    let api_key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    let legacy = pardot_auth(&api_key, V3_USER_KEY);
    let v3 = env
        .get(
            "/api/list/version/3/do/query?format=json",
            &[("Authorization", &legacy)],
        )
        .await;
    assert_eq!(ids(&v3, "list"), [752, 753, 754]);
    let v4 = env
        .get(
            "/api/list/version/4/do/query?format=json",
            &[("Authorization", &legacy)],
        )
        .await;
    v4.assert(
        400,
        JSON,
        &json_fail(89, "Your account is unable to use version 4 of the API."),
    );
}

/// A mock from the default configuration plus what `edit` adds through the builder.
async fn env_built(edit: impl FnOnce(pardot_mock::MockBuilder) -> pardot_mock::MockBuilder) -> Env {
    env_of(edit(pardot_mock::PardotMock::builder().config(config()))).await
}

#[tokio::test]
async fn builder_methods_seed_every_object_as_the_toml_tables_do() {
    use pardot_mock::{
        CustomFieldConfig, GenerateConfig, PardotObjectConfig as Entry, ProspectConfig,
    };
    let env = env_built(|b| {
        b.prospect(ProspectConfig::new(BU, 1100, "lin@example.com"))
            .campaign(Entry::new(BU, 7100).with("name", "Built").with("cost", 5))
            .list(
                Entry::new(BU, 760)
                    .with("name", "Built list")
                    .with("is_public", true),
            )
            .list_membership(
                Entry::new(BU, 9100)
                    .with("list_id", 760_u64)
                    .with("prospect_id", 1100_u64),
            )
            .visitor(Entry::new(BU, 5100).with("prospect_id", 1100_u64))
            .visit(
                Entry::new(BU, 6100)
                    .with("visitor_id", 5100_u64)
                    .with("prospect_id", 1100_u64),
            )
            .visitor_page_view(
                Entry::new(BU, 61100)
                    .with("visit_id", 6100_u64)
                    .with("url", "https://www.acme.example/built"),
            )
            .visitor_activity(
                Entry::new(BU, 150100)
                    .with("prospect_id", 1100_u64)
                    .with("type", 20)
                    .with("details", "built")
                    .with("visitor_id", 5100_u64)
                    .with("visit_id", 6100_u64)
                    .created_at("2024-06-01 10:00:00"),
            )
            .pardot_user(
                Entry::new(BU, 3100)
                    .with("email", "ops@acme.example")
                    .with("role", "Marketing")
                    .with("account", 1001),
            )
            .opportunity(
                Entry::new(BU, 4100)
                    .with("campaign_id", 7100_u64)
                    .with("prospect_id", 1100_u64)
                    .with("name", "Built deal")
                    .with("value", 900)
                    .with("probability", 10),
            )
            .email_click(
                Entry::new(BU, 880100)
                    .with("prospect_id", 1100_u64)
                    .with("url", "https://www.acme.example/click"),
            )
            .prospect_account_field(CustomFieldConfig::new(BU, "tier"))
            .prospect_account(
                Entry::new(BU, 2300)
                    .with("name", "Built Ltd")
                    .with("tier", "gold"),
            )
            .generate(GenerateConfig {
                prospects: 3,
                ..GenerateConfig::new(11, BU)
            })
    })
    .await;
    // Visits are queried by their visitors or prospects, as the docs require.
    for (object, element, id, extra) in [
        ("campaign", "campaign", 7100, ""),
        ("list", "list", 760, ""),
        ("listMembership", "list_membership", 9100, ""),
        ("visitor", "visitor", 5100, ""),
        ("visit", "visit", 6100, "&visitor_ids=5100"),
        ("visitorActivity", "visitor_activity", 150100, ""),
        ("user", "user", 3100, ""),
        ("opportunity", "opportunity", 4100, ""),
        ("emailClick", "emailClick", 880100, ""),
    ] {
        let answer = env
            .bearer_get(&format!(
                "/api/{object}/version/4/do/query?format=json&id_greater_than={}&id_less_than={}{extra}",
                id - 1,
                id + 1
            ))
            .await;
        assert_eq!(ids(&answer, element), [id], "{object}: {}", answer.body);
    }
    let visit = env
        .bearer_get("/api/visit/version/4/do/read/id/6100?format=json")
        .await;
    visit.assert_contains("https://www.acme.example/built");
    // The account carries its custom field, which describe lists.
    let account = env
        .bearer_get("/api/prospectAccount/version/4/do/read/id/2300?format=json")
        .await;
    assert_eq!(
        account.json()["prospectAccount"]["tier"],
        "gold",
        "{}",
        account.body
    );
    let describe = env
        .bearer_get("/api/prospectAccount/version/4/do/describe?format=json")
        .await;
    describe.assert_contains("\"tier\"");
    let generated = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&id_greater_than=49999999&sort_by=id&sort_order=ascending")
        .await;
    assert_eq!(
        ids(&generated, "prospect"),
        [50_000_000, 50_000_001, 50_000_002],
        "{}",
        generated.body
    );
}

#[tokio::test]
async fn a_builder_entry_is_checked_like_a_toml_entry() {
    let err = pardot_mock::PardotMock::builder()
        .config(config())
        .list_membership(
            pardot_mock::PardotObjectConfig::new(BU, 9100)
                .with("list_id", 999)
                .with("prospect_id", 1001),
        )
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("list_memberships[") && err.to_string().contains("999"),
        "{err}"
    );
}

/// The default configuration with prospect 1002 assigned to a user by `assigned_to`.
fn assigned_config(assigned_to: &str) -> pardot_mock::MockConfig {
    let mut config = config();
    let grace = config
        .prospects
        .iter_mut()
        .find(|p| p.id == 1002)
        .expect("prospect 1002 in the fixtures");
    grace.assigned_to = Some(assigned_to.to_owned());
    config
}

#[tokio::test]
async fn a_configured_assignment_is_read_queried_changed_and_reset() {
    // The TOML key, as a config file writes it.
    let toml = format!(
        "[[prospects]]\nbusiness_unit = \"{BU}\"\nid = 1200\nemail = \"kim@example.com\"\nassigned_to = \"3003\"\n"
    );
    let mut config = assigned_config("WEB@acme.example");
    config.prospects.extend(
        pardot_mock::MockConfig::from_toml(&toml)
            .expect("parses")
            .prospects,
    );
    let env = env_with(config).await;
    let assigned = |answer: &Answer| answer.json()["prospect"]["assigned_to"]["user"]["id"].clone();
    let grace = env
        .bearer_get("/api/prospect/version/4/do/read/id/1002?format=json")
        .await;
    assert_eq!(assigned(&grace), 3002, "{}", grace.body);
    let kim = env
        .bearer_get("/api/prospect/version/4/do/read/id/1200?format=json")
        .await;
    assert_eq!(assigned(&kim), 3003, "{}", kim.body);
    let xml = env
        .bearer_get("/api/prospect/version/3/do/read/id/1002")
        .await;
    xml.assert_contains("<assigned_to>");
    xml.assert_contains("<email>web@acme.example</email>");
    let query = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&assigned=true&sort_by=id&sort_order=ascending")
        .await;
    assert_eq!(ids(&query, "prospect"), [1002, 1200], "{}", query.body);
    // An unassign changes what later reads and queries see; a reset puts it back.
    let unassigned = env
        .bearer_post_form(
            "/api/prospect/version/4/do/unassign/id/1002?format=json",
            &[],
        )
        .await;
    assert!(
        unassigned.json()["prospect"].get("assigned_to").is_none(),
        "{}",
        unassigned.body
    );
    let query = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&assigned_to_user=3002")
        .await;
    assert_eq!(ids(&query, "prospect"), Vec::<u64>::new(), "{}", query.body);
    env.mock.reset();
    let query = env
        .bearer_get(
            "/api/prospect/version/4/do/query?format=json&assigned_to_user=web@acme.example",
        )
        .await;
    assert_eq!(ids(&query, "prospect"), [1002], "{}", query.body);
}

#[tokio::test]
async fn a_configured_assignment_to_no_such_user_names_the_prospect_and_the_user() {
    for (who, why) in [
        ("nobody@acme.example", "unknown email"),
        ("3999", "unknown id"),
        ("0", "no user has id 0"),
    ] {
        let err = pardot_mock::PardotMock::builder()
            .config(assigned_config(who))
            .start()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(id 1002).assigned_to") && err.contains(&format!("`{who}`")),
            "{why}: {err}"
        );
    }
    // Through the builder: the user comes from `pardot_user`, so it resolves.
    let env = env_built(|b| {
        b.pardot_user(
            pardot_mock::PardotObjectConfig::new(BU, 3100)
                .with("email", "ops@acme.example")
                .with("role", "Marketing")
                .with("account", 1001),
        )
        .prospect(
            pardot_mock::ProspectConfig::new(BU, 1100, "lin@example.com")
                .with_assigned_to("ops@acme.example"),
        )
    })
    .await;
    let lin = env
        .bearer_get("/api/prospect/version/4/do/read/id/1100?format=json")
        .await;
    assert_eq!(
        lin.json()["prospect"]["assigned_to"]["user"]["id"],
        3100,
        "{}",
        lin.body
    );
}
