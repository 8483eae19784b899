//! Byte-exact prospect answers (v3/v4 XML and JSON queries, v5 list and read) against a
//! recorded golden file, so a change of the rendering code cannot change a single byte.
//! Regenerate (only when an answer is meant to change) with `PARDOT_MOCK_BLESS=1`.

mod pardot_support;

use pardot_mock::config::ProspectConfig;
use pardot_support::*;

const GOLDEN: &str = "tests/golden/prospect_bodies.txt";

fn prospect(id: u64, email: &str) -> ProspectConfig {
    ProspectConfig::new(BU, id, email)
}

/// The default config plus prospects whose text needs every kind of JSON and XML escape.
fn golden_config() -> pardot_mock::MockConfig {
    let mut config = config();
    let mut odd = prospect(2001, "odd\"quote@example.com");
    odd.first_name = "Back\\slash \"quoted\" <tag> & 'apos'".to_owned();
    odd.last_name = "Ctl\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f} end".to_owned();
    odd.company = "Ünïcødé 日本 🦀 / slash".to_owned();
    odd.score = -5;
    odd.grade = Some("A+".to_owned());
    odd.created_at = Some("2023-12-31 23:59:59".to_owned());
    odd.updated_at = Some("2024-06-01 00:00:01".to_owned());
    odd.fields.insert("job_title".to_owned(), "CTO".to_owned());
    odd.fields
        .insert("is_starred".to_owned(), "true".to_owned());
    odd.fields.insert("campaign_id".to_owned(), "42".to_owned());
    odd.fields
        .insert("campaign_name".to_owned(), "Spring \"26\"".to_owned());
    odd.fields.insert(
        "last_activity_at".to_owned(),
        "2025-01-02 03:04:05".to_owned(),
    );
    config.prospects.push(odd);
    let mut plain = prospect(2002, "plain@example.com");
    plain
        .fields
        .insert("campaign_id".to_owned(), "7".to_owned());
    config.prospects.push(plain);
    for i in 0..25 {
        let mut p = prospect(3000 + i, &format!("bulk{i}@example.com"));
        p.first_name = format!("Bulk {i}");
        p.score = i64::try_from(i * 7 % 11).unwrap_or_default();
        config.prospects.push(p);
    }
    config
}

const V5: &[&str] = &[
    "/api/v5/objects/prospects?fields=id,email",
    "/api/v5/objects/prospects?fields=id,email,firstName,lastName,company,score,grade,jobTitle,isStarred,createdAt,updatedAt,lastActivityAt,salesforceId,recentInteraction,isDeleted&limit=1000",
    "/api/v5/objects/prospects?fields=id,campaign.id,campaign.name,isDeleted,firstName&limit=3",
    "/api/v5/objects/prospects?fields=campaign.name,id&orderBy=createdAt%20DESC&limit=4",
    "/api/v5/objects/prospects?fields=id,score,updatedAt&orderBy=updatedAt&idGreaterThan=2000&limit=5",
    "/api/v5/objects/prospects?fields=id,lastActivityAt&orderBy=lastActivityAt%20DESC",
    "/api/v5/objects/prospects/2001?fields=id,email,firstName,lastName,company,campaign.id,campaign.name,isDeleted",
    "/api/v5/objects/prospects/2002?fields=campaign.name,id,score",
    "/api/v5/objects/prospects/1001?fields=id,email,grade,createdAt",
];

const V34: &[&str] = &[
    "/api/prospect/version/4/do/query",
    "/api/prospect/version/4/do/query?format=json",
    "/api/prospect/version/4/do/query?format=json&limit=3&offset=1&sort_by=created_at&sort_order=ascending",
    "/api/prospect/version/4/do/query?id_greater_than=2000&limit=2&fields=email,first_name,campaign",
    "/api/prospect/version/4/do/query?format=json&id_greater_than=2000&limit=2&fields=email,first_name,campaign",
    "/api/prospect/version/3/do/query?format=json&id_greater_than=1999&id_less_than=2003",
    "/api/prospect/version/3/do/query?id_greater_than=1999&id_less_than=2003",
];

#[tokio::test]
async fn prospect_answers_are_byte_identical_to_the_golden_file() {
    let env = env_with(golden_config()).await;
    let mut got = String::new();
    for path in V5.iter().chain(V34) {
        let mut answer = env.bearer_get(path).await;
        // Follow one nextPageToken so a second page is covered too.
        for page in 0..2 {
            got.push_str(&format!(
                "== {path} (page {page})\n{} {}\n{}\n",
                answer.status, answer.content_type, answer.body
            ));
            if !path.starts_with("/api/v5") || page > 0 {
                break;
            }
            let next = answer
                .json()
                .get("nextPageToken")
                .and_then(|t| t.as_str().map(str::to_owned));
            match next {
                Some(token) => {
                    answer = env
                        .bearer_get(&format!("/api/v5/objects/prospects?nextPageToken={token}"))
                        .await;
                }
                _ => break,
            }
        }
    }
    // The port is random: the base URL inside nextPageUrl is the only varying part.
    let got = got.replace(&env.mock.url().to_string(), "{BASE}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("PARDOT_MOCK_BLESS").is_some() {
        std::fs::write(&path, &got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).expect("golden file");
    assert!(got == want, "answers differ from {GOLDEN}:\n{got}");
}
