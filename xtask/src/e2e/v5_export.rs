//! The v5 export row (issue 19): what an integration written against v5 does, checked against
//! what a v4 sync of the same business unit sees. On a mock with a `[generate]` volume it
//! upserts 1,000 prospects through `do/upsertLatestByEmail` (500 generated prospects that
//! have visitor activities, 500 new addresses), puts them on a new list through v5 lists and
//! list memberships, then runs two exports through `PardotClient::export` (the list's
//! memberships, and the visitor activities of a date range), moving the shared `ManualClock`
//! whenever the helper waits, so nothing sleeps. Each export must hold exactly the records
//! v4 `do/query` returns for the same selection (ids and key fields), and none is empty.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use pardot_auth_core::{Clock, ManualClock};
use pardot_http::{ExportDone, ExportPolling, ExportRequest, PardotClient};
use pardot_mock::config::GenerateConfig;
use pardot_mock::{MockConfig, fixtures};
use serde_json::{Value, json};

use super::Ran;
use super::objects::{query, records};
use super::support::{V5_PROSPECTS, integration_client, mock_with, ran};

/// The mock clock's start, 2025-03-10 12:00:00 UTC (a whole second, so v4's second-precision
/// bounds are exact), and an hour before it.
const START_SECS: u64 = 1_741_608_000;
const HOUR_BEFORE_START: &str = "2025-03-10T11:00:00Z";
/// Generated prospects get ids from here on (the mock's `[generate]` ranges).
const GENERATED_PROSPECT_IDS: u64 = 50_000_000;
/// Prospects upserted: half existing generated ones, half new addresses.
const UPSERTS: usize = 1_000;
/// The largest v4 page.
const V4_PAGE: usize = 200;
/// The activity window: the generator's first 1,000 seconds (10 activities a second from
/// 2024-01-01 00:00:00 UTC), bounds inclusive as the Export API's are.
const WINDOW_START: &str = "2024-01-01T00:00:00Z";
const WINDOW_END: &str = "2024-01-01T00:16:39Z";
/// The same window for v4, whose `created_after`/`created_before` are strict: a second
/// further out on each side (generated times are whole seconds).
const V4_AFTER: &str = "2023-12-31 23:59:59";
const V4_BEFORE: &str = "2024-01-01 00:16:40";
/// The fields compared: the v5 export name beside where the v4 JSON record holds it.
const MEMBERSHIP_FIELDS: [(&str, &str); 5] = [
    ("id", "/id"),
    ("listId", "/list_id"),
    ("prospectId", "/prospect_id"),
    ("optedOut", "/opted_out"),
    ("createdAt", "/created_at"),
];
/// v4 embeds an activity's campaign (`campaign: {id, name}`); v5 names the relationship.
const ACTIVITY_FIELDS: [(&str, &str); 7] = [
    ("id", "/id"),
    ("prospectId", "/prospect_id"),
    ("visitorId", "/visitor_id"),
    ("type", "/type"),
    ("campaign.id", "/campaign/id"),
    ("campaign.name", "/campaign/name"),
    ("createdAt", "/created_at"),
];

/// Result files of at most 64 KiB, so the activities come in several.
const FILE_BYTES: u64 = 64 * 1024;
/// Records by id, each its key fields as text in the order of the field table.
type Keyed = BTreeMap<u64, Vec<String>>;

/// 2,000 generated prospects and 20,000 activities (2,000 seconds of them), most pointing at
/// a generated prospect; nothing else generated.
fn generating() -> MockConfig {
    let mut config = MockConfig::defaults();
    config.generate = Some(GenerateConfig {
        prospects: 2_000,
        visitors: 400,
        visitor_activities: 20_000,
        ..GenerateConfig::new(19, fixtures::BUSINESS_UNIT_ID)
    });
    config
}

/// A v4 JSON value as the export's CSV writes it: `null` empty, times in v5 form.
fn v4_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => match s.split_once(' ') {
            // `YYYY-MM-DD HH:MM:SS`, UTC in the mock, is `YYYY-MM-DDTHH:MM:SS+00:00` in v5.
            Some((date, time)) if date.len() == 10 && time.len() == 8 => {
                format!("{date}T{time}+00:00")
            }
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}

/// Every v4 `do/query` record of `object` with `criteria`, paged by `id_greater_than`, keyed
/// by id with the v4 side of `fields`.
async fn v4_keyed(
    client: &PardotClient,
    (object, element): (&str, &str),
    criteria: &[(&str, String)],
    fields: &[(&str, &str)],
) -> Result<Keyed> {
    let mut keyed = Keyed::new();
    let mut last = 0;
    loop {
        let mut page_criteria = criteria.to_vec();
        page_criteria.extend([
            ("id_greater_than", last.to_string()),
            ("sort_by", "id".to_owned()),
            ("sort_order", "ascending".to_owned()),
        ]);
        let page = records(&query(client, object, &page_criteria).await?, element);
        for record in &page {
            let id = record["id"]
                .as_u64()
                .with_context(|| format!("a {object} without an id: {record}"))?;
            let cells = fields
                .iter()
                .map(|(_, v4)| v4_cell(record.pointer(v4).unwrap_or(&Value::Null)))
                .collect();
            keyed.insert(id, cells);
            last = last.max(id);
        }
        if page.len() < V4_PAGE {
            return Ok(keyed);
        }
    }
}

/// Runs `request` through the export helper, moving `clock` a second at a time whenever
/// something waits on it; the rows keyed by id with the export side of `fields`, and the
/// helper's answer.
async fn export_keyed(
    client: &PardotClient,
    clock: &ManualClock,
    request: ExportRequest,
    fields: &[(&str, &str)],
) -> Result<(Keyed, ExportDone)> {
    let client = client.clone();
    let mut task = tokio::spawn(async move {
        let mut rows = Vec::new();
        let done = client
            .export(&request, &ExportPolling::default(), |row| {
                rows.push(row.to_vec())
            })
            .await;
        (done, rows)
    });
    let (done, rows) = loop {
        tokio::select! {
            finished = &mut task => break finished.context("the export task panicked")?,
            () = clock.wait_for_sleepers(1) => clock.advance(Duration::from_secs(1)),
        }
    };
    let done = done.context("the export helper failed")?;
    ensure!(
        done.polls > 0,
        "export {} was complete when created: nothing waited on the mock clock",
        done.id
    );
    let column = |name: &str| done.header.iter().position(|h| h == name);
    let columns = fields
        .iter()
        .map(|(v5, _)| column(v5).with_context(|| format!("no `{v5}` column: {:?}", done.header)))
        .collect::<Result<Vec<_>>>()?;
    let mut keyed = Keyed::new();
    for row in &rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|&c| row.get(c).cloned().unwrap_or_default())
            .collect();
        let id = cells[0]
            .parse()
            .with_context(|| format!("an exported row without an id: {row:?}"))?;
        ensure!(
            keyed.insert(id, cells).is_none(),
            "record {id} exported twice"
        );
    }
    Ok((keyed, done))
}

/// The same records, key fields and all; `what` names them in the failure.
fn same(what: &str, exported: &Keyed, queried: &Keyed) -> Result<()> {
    ensure!(!queried.is_empty(), "{what}: the v4 query found nothing");
    let only_exported: Vec<_> = exported
        .keys()
        .filter(|id| !queried.contains_key(id))
        .collect();
    let only_queried: Vec<_> = queried
        .keys()
        .filter(|id| !exported.contains_key(id))
        .collect();
    ensure!(
        only_exported.is_empty() && only_queried.is_empty(),
        "{what}: {} exported, {} queried; only exported {:?}, only queried {:?}",
        exported.len(),
        queried.len(),
        &only_exported[..only_exported.len().min(5)],
        &only_queried[..only_queried.len().min(5)]
    );
    if let Some((id, cells)) = exported.iter().find(|(id, cells)| queried[*id] != **cells) {
        anyhow::bail!(
            "{what}: record {id} exported as {cells:?}, queried as {:?}",
            queried[id]
        );
    }
    Ok(())
}

/// The emails of the generated prospects, by id (v5 list, 1,000 a page).
async fn generated_emails(client: &PardotClient) -> Result<BTreeMap<u64, String>> {
    let mut emails = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let request = client.get(V5_PROSPECTS).query([("fields", "id,email")]);
        let request = match &token {
            Some(t) => request.query([("nextPageToken", t.as_str())]),
            None => request.query([
                ("limit", "1000"),
                (
                    "idGreaterThanOrEqualTo",
                    &GENERATED_PROSPECT_IDS.to_string(),
                ),
            ]),
        };
        let page: Value = request.send().await.context("v5 prospects")?.json()?;
        for p in page["values"].as_array().context("no `values` array")? {
            if let (Some(id), Some(email)) = (p["id"].as_u64(), p["email"].as_str()) {
                emails.insert(id, email.to_owned());
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(emails),
        }
    }
}

/// A v5 POST of `body` to `path`; the answer's status must be `want`, and its `id` comes back.
async fn v5_post(client: &PardotClient, path: &str, body: &Value, want: u16) -> Result<u64> {
    let response = client
        .post(path)
        .query([("fields", "id")])
        .json(body)
        .send()
        .await
        .with_context(|| format!("POST {path} {body}"))?;
    ensure!(
        response.status() == want,
        "POST {path} {body} answered {} (expected {want})",
        response.status()
    );
    let answer: Value = response.json()?;
    answer["id"]
        .as_u64()
        .with_context(|| format!("POST {path} answered no id: {answer}"))
}

/// The row.
pub(crate) async fn upsert_list_export() -> Result<Ran> {
    let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(START_SECS));
    let mock = mock_with(&clock, generating()).await?;
    let client = integration_client(&mock, &clock.shared())?;
    let activity_criteria = [
        ("created_after", V4_AFTER.to_owned()),
        ("created_before", V4_BEFORE.to_owned()),
    ];
    let activities = ("visitorActivity", "visitor_activity");
    let window = v4_keyed(&client, activities, &activity_criteria, &ACTIVITY_FIELDS).await?;

    // Half the upserts: generated prospects with activities in the window.
    let active: BTreeSet<u64> = window
        .values()
        .filter_map(|cells| cells[1].parse().ok())
        .filter(|&id| id >= GENERATED_PROSPECT_IDS)
        .collect();
    let emails = generated_emails(&client).await?;
    let existing: Vec<(u64, &String)> = active
        .iter()
        .filter_map(|id| emails.get(id).map(|e| (*id, e)))
        .take(UPSERTS / 2)
        .collect();
    ensure!(
        existing.len() == UPSERTS / 2,
        "only {} generated prospects have activities in the window",
        existing.len()
    );
    let upsert = format!("{V5_PROSPECTS}/do/upsertLatestByEmail");
    let upserting = Instant::now();
    let mut prospects = Vec::with_capacity(UPSERTS);
    for (id, email) in &existing {
        let body = json!({"matchEmail": email, "prospect": {"jobTitle": "Exported"}});
        let upserted = v5_post(&client, &upsert, &body, 200).await?;
        ensure!(
            upserted == *id,
            "upserting {email} updated {upserted}, not {id}"
        );
        prospects.push(upserted);
    }
    for i in 0..UPSERTS / 2 {
        let body = json!({
            "matchEmail": format!("export-row-{i:03}@e2e.example"),
            "prospect": {"firstName": "Export", "lastName": format!("Row {i}")},
        });
        prospects.push(v5_post(&client, &upsert, &body, 201).await?);
    }
    let upserted_in = upserting.elapsed();
    let distinct: BTreeSet<u64> = prospects.iter().copied().collect();
    ensure!(
        distinct.len() == UPSERTS,
        "{UPSERTS} upserts gave {} prospects",
        distinct.len()
    );

    let list = v5_post(
        &client,
        "/api/v5/objects/lists",
        &json!({"name": "Export row"}),
        201,
    )
    .await?;
    let mut memberships = BTreeSet::new();
    for prospect in &prospects {
        let body = json!({"listId": list, "prospectId": prospect});
        memberships.insert(v5_post(&client, "/api/v5/objects/list-memberships", &body, 201).await?);
    }

    // Every membership created in the hour before the export: the list's, made at START.
    let exporting = Instant::now();
    let started = clock.now();
    let request = ExportRequest::new(
        "list_membership.filter_by_created_at",
        MEMBERSHIP_FIELDS.map(|(v5, _)| v5),
    )
    .argument("createdAfter", HOUR_BEFORE_START)
    .max_file_size_bytes(FILE_BYTES);
    let (exported, members_done) =
        export_keyed(&client, &clock, request, &MEMBERSHIP_FIELDS).await?;
    let on_list = v4_keyed(
        &client,
        ("listMembership", "list_membership"),
        &[("list_id", list.to_string())],
        &MEMBERSHIP_FIELDS,
    )
    .await?;
    same("the list's memberships", &exported, &on_list)?;
    ensure!(
        on_list.keys().copied().collect::<BTreeSet<_>>() == memberships,
        "the list holds other memberships than the {} created",
        memberships.len()
    );

    let request = ExportRequest::new(
        "visitor_activity.filter_by_created_at",
        ACTIVITY_FIELDS.map(|(v5, _)| v5),
    )
    .argument("createdAfter", WINDOW_START)
    .argument("createdBefore", WINDOW_END)
    .max_file_size_bytes(FILE_BYTES);
    let (exported, activities_done) =
        export_keyed(&client, &clock, request, &ACTIVITY_FIELDS).await?;
    let export_real = exporting.elapsed();
    let export_mock = clock.now().duration_since(started).unwrap_or_default();
    same("the window's visitor activities", &exported, &window)?;

    // The activities of the upserted prospects, by v4 `prospect_id` (a list of ids), 100 at a time.
    let mut theirs = Keyed::new();
    for batch in existing.chunks(100) {
        let ids: Vec<String> = batch.iter().map(|(id, _)| id.to_string()).collect();
        let mut criteria = activity_criteria.to_vec();
        criteria.push(("prospect_id", ids.join(",")));
        theirs.extend(v4_keyed(&client, activities, &criteria, &ACTIVITY_FIELDS).await?);
    }
    let upserted: BTreeSet<String> = existing.iter().map(|(id, _)| id.to_string()).collect();
    let exported_theirs: Keyed = exported
        .into_iter()
        .filter(|(_, cells)| upserted.contains(&cells[1]))
        .collect();
    same(
        "the upserted prospects' activities",
        &exported_theirs,
        &theirs,
    )?;

    eprintln!(
        "e2e v5 export: {UPSERTS} upserts ({} existing) in {:.0} ms; exports in {:.0} ms \
         real, {} s mock: {} memberships ({} files, {} polls), {} activities ({} files, {} \
         polls), {} of the upserted prospects'",
        UPSERTS / 2,
        upserted_in.as_secs_f64() * 1000.0,
        export_real.as_secs_f64() * 1000.0,
        export_mock.as_secs(),
        members_done.rows,
        members_done.files,
        members_done.polls,
        activities_done.rows,
        activities_done.files,
        activities_done.polls,
        exported_theirs.len()
    );
    Ok(ran(&mock))
}
