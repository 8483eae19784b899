//! The v3/v4 objects row: a mock with a `[generate]` table, every object paged through
//! `PardotClient` incrementally by the criteria its docs give it, as a data sync would:
//! `id_greater_than` where documented, `updated_after` (a window paged by offset, as several
//! records share one second) on visitors and lists, and on visits (whose query needs one of
//! its id filters) `visitor_ids` of every visitor seen. After de-duplicating by id the
//! row must have seen every record the mock holds and no other.

use std::collections::BTreeSet;

use anyhow::{Context, Result, ensure};
use pardot_auth_core::ManualClock;
use pardot_http::PardotClient;
use pardot_mock::config::GenerateConfig;
use pardot_mock::{MockConfig, fixtures};
use serde_json::Value;

use super::Ran;
use super::support::{bu, integration_client, mock_with, ran};

/// The largest page Pardot answers.
const PAGE: usize = 200;

/// The records of `element` on a v4 JSON page: one record is an object, none no key.
pub(super) fn records(page: &Value, element: &str) -> Vec<Value> {
    match &page["result"][element] {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// One `do/query` page of `object` with `criteria`.
pub(super) async fn query(
    client: &PardotClient,
    object: &str,
    criteria: &[(&str, String)],
) -> Result<Value> {
    let path = format!("/api/{object}/version/4/do/query");
    let response = client
        .get(&path)
        .query([("format", "json")])
        .query(criteria.iter().map(|(k, v)| (*k, v.as_str())))
        .send()
        .await
        .with_context(|| format!("GET {path}"))?;
    ensure!(
        response.status() == 200,
        "{object} query answered {}: {}",
        response.status(),
        response.text().unwrap_or_default()
    );
    response
        .json()
        .with_context(|| format!("{object} query body"))
}

/// Pages `object` by `id_greater_than`, sorted by id, `output=bulk` (the bulk-pull advice).
async fn by_id(client: &PardotClient, object: &str, element: &str) -> Result<Vec<Value>> {
    let (mut seen, mut last) = (Vec::new(), 0);
    loop {
        let criteria = [
            ("id_greater_than", last.to_string()),
            ("sort_by", "id".to_owned()),
            ("sort_order", "ascending".to_owned()),
            ("output", "bulk".to_owned()),
        ];
        let page = records(&query(client, object, &criteria).await?, element);
        let full = page.len() == PAGE;
        if let Some(id) = page.last().and_then(|r| r["id"].as_u64()) {
            last = id;
        }
        seen.extend(page);
        if !full {
            return Ok(seen);
        }
    }
}

/// Pages `object` updated after a sync's last run (here: before any record), sorted by
/// `updated_at`, by offset within that window.
async fn by_updated(client: &PardotClient, object: &str, element: &str) -> Result<Vec<Value>> {
    let mut seen = Vec::new();
    loop {
        let criteria = [
            ("updated_after", "2020-01-01 00:00:00".to_owned()),
            ("sort_by", "updated_at".to_owned()),
            ("sort_order", "ascending".to_owned()),
            ("offset", seen.len().to_string()),
        ];
        let page = records(&query(client, object, &criteria).await?, element);
        let full = page.len() == PAGE;
        seen.extend(page);
        if !full {
            return Ok(seen);
        }
    }
}

/// Pages visits by `visitor_ids` (batches of 100 visitors), by offset within a batch.
async fn visits_of(client: &PardotClient, visitors: &BTreeSet<u64>) -> Result<Vec<Value>> {
    let ids: Vec<u64> = visitors.iter().copied().collect();
    let mut seen = Vec::new();
    for batch in ids.chunks(100) {
        let list = batch
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut offset = 0;
        loop {
            let criteria = [
                ("visitor_ids", list.clone()),
                ("offset", offset.to_string()),
                ("sort_by", "id".to_owned()),
            ];
            let page = records(&query(client, "visit", &criteria).await?, "visit");
            let full = page.len() == PAGE;
            offset += page.len();
            seen.extend(page);
            if !full {
                break;
            }
        }
    }
    Ok(seen)
}

fn ids(records: &[Value]) -> BTreeSet<u64> {
    records.iter().filter_map(|r| r["id"].as_u64()).collect()
}

/// The generated volume: small enough for a row, large enough for many pages and collisions.
fn generating() -> MockConfig {
    let mut config = MockConfig::defaults();
    // Deleted fixtures are left out, so every record the mock holds is one a default query
    // returns and the mock's counts are what a sync must see.
    config.list_memberships.retain(|r| !r.deleted);
    config.opportunities.retain(|r| !r.deleted);
    config.generate = Some(GenerateConfig {
        seed: 2024,
        business_unit: fixtures::BUSINESS_UNIT_ID.to_owned(),
        prospects: 3_000,
        visitors: 900,
        visitor_activities: 6_000,
        visits: 1_200,
        visitor_page_views: 2_000,
        list_memberships: 2_500,
        opportunities: 400,
        email_clicks: 3_500,
    });
    config
}

/// The row: page every object, compare with the mock's counts.
pub(crate) async fn paged() -> Result<Ran> {
    let clock = ManualClock::new();
    let mock = mock_with(&clock, generating()).await?;
    let client = integration_client(&mock, &clock.shared())?;
    let api = mock.state().pardot();
    let unit = bu()?;
    let prospects = ids(&by_id(&client, "prospect", "prospect").await?);
    let want = api.prospect_count(&unit).context("the unit's prospects")?;
    ensure!(
        prospects.len() == want,
        "prospects: saw {}, the mock holds {want}",
        prospects.len()
    );
    let visitors = ids(&by_updated(&client, "visitor", "visitor").await?);
    let mut seen = vec![("visitor", visitors.len())];
    seen.push(("visit", ids(&visits_of(&client, &visitors).await?).len()));
    seen.push((
        "list",
        ids(&by_updated(&client, "list", "list").await?).len(),
    ));
    for (object, element) in [
        ("campaign", "campaign"),
        ("listMembership", "list_membership"),
        ("visitorActivity", "visitor_activity"),
        ("user", "user"),
        ("opportunity", "opportunity"),
        ("prospectAccount", "prospectAccount"),
        ("emailClick", "emailClick"),
    ] {
        seen.push((object, ids(&by_id(&client, object, element).await?).len()));
    }
    for (object, count) in seen {
        let want = api
            .object_count(&unit, object)
            .with_context(|| format!("the mock's {object} count"))?;
        ensure!(
            count == want,
            "{object}: saw {count} distinct ids, the mock holds {want}"
        );
    }
    Ok(ran(&mock))
}
