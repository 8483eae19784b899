//! The `[generate]` volume generator through the v3/v4 API: the same seed gives byte-identical
//! answers, another seed other answers; paging by id sees every generated record once;
//! times collide within seconds; relations point at records that exist.

mod pardot_support;

use std::collections::{BTreeMap, HashSet};

use pardot_mock::config::GenerateConfig;
use pardot_support::*;

fn generating(seed: u64) -> pardot_mock::config::MockConfig {
    let mut config = config();
    config.generate = Some(GenerateConfig {
        seed,
        business_unit: BU.to_owned(),
        prospects: 300,
        visitors: 120,
        visitor_activities: 2_500,
        visits: 150,
        visitor_page_views: 400,
        list_memberships: 500,
        opportunities: 80,
        email_clicks: 1_500,
    });
    config
}

/// Every id of a JSON page, one record (an object) or several (an array).
fn ids(answer: &Answer, element: &str) -> Vec<u64> {
    match &answer.json()["result"][element] {
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i["id"].as_u64()).collect(),
        serde_json::Value::Object(one) => one["id"].as_u64().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Pages `object` by id with `output=bulk`, as the docs advise: every page's body and the ids.
async fn page_all(env: &Env, object: &str, element: &str) -> (Vec<String>, Vec<u64>) {
    page_all_with(env, object, element, "").await
}

/// [`page_all`] with more criteria (`&name=value…`).
async fn page_all_with(
    env: &Env,
    object: &str,
    element: &str,
    extra: &str,
) -> (Vec<String>, Vec<u64>) {
    let (mut bodies, mut seen, mut last) = (Vec::new(), Vec::new(), 0);
    loop {
        let page = env
            .bearer_get(&format!(
                "/api/{object}/version/4/do/query?format=json&output=bulk&sort_by=id&sort_order=ascending&id_greater_than={last}{extra}"
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let got = ids(&page, element);
        bodies.push(page.body.clone());
        seen.extend(&got);
        match got.last() {
            Some(&id) if got.len() == 200 => last = id,
            _ => return (bodies, seen),
        }
    }
}

#[tokio::test]
async fn the_same_seed_gives_byte_identical_answers() {
    let first = env_with(generating(7)).await;
    let second = env_with(generating(7)).await;
    let other = env_with(generating(8)).await;
    for (object, element) in [
        ("prospect", "prospect"),
        ("visitor", "visitor"),
        ("visitorActivity", "visitor_activity"),
        ("listMembership", "list_membership"),
        ("opportunity", "opportunity"),
        ("emailClick", "emailClick"),
    ] {
        let (a, _) = page_all(&first, object, element).await;
        let (b, _) = page_all(&second, object, element).await;
        let (c, _) = page_all(&other, object, element).await;
        assert!(a == b, "{object}: same seed, other answers");
        assert!(a != c, "{object}: another seed, same answers");
    }
}

#[tokio::test]
async fn paging_by_id_sees_every_generated_record_once_and_relations_hold() {
    let env = env_with(generating(1)).await;
    let (_, prospects) = page_all(&env, "prospect", "prospect").await;
    // The three default prospects and the generated ones.
    assert_eq!(prospects.len(), 303);
    assert_eq!(prospects.iter().collect::<HashSet<_>>().len(), 303);
    let (_, visitors) = page_all(&env, "visitor", "visitor").await;
    assert_eq!(visitors.len(), 3 + 120);
    let (bodies, activities) = page_all(&env, "visitorActivity", "visitor_activity").await;
    assert_eq!(activities.len(), 10 + 2_500);
    assert_eq!(activities.iter().collect::<HashSet<_>>().len(), 2_510);

    let prospects: HashSet<u64> = prospects.into_iter().collect();
    let visitors: HashSet<u64> = visitors.into_iter().collect();
    let mut per_second: BTreeMap<String, usize> = BTreeMap::new();
    let mut created_in_id_order = true;
    let mut last_created = String::new();
    for body in &bodies {
        let page: serde_json::Value = serde_json::from_str(body).unwrap();
        let items = match &page["result"]["visitor_activity"] {
            serde_json::Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        for a in items {
            if let Some(p) = a["prospect_id"].as_u64() {
                assert!(prospects.contains(&p), "{a}");
            }
            if let Some(v) = a["visitor_id"].as_u64() {
                assert!(visitors.contains(&v), "{a}");
            }
            let created = a["created_at"].as_str().unwrap().to_owned();
            created_in_id_order &= created >= last_created;
            last_created.clone_from(&created);
            *per_second.entry(created).or_default() += 1;
        }
    }
    assert!(per_second.values().any(|&n| n >= 5), "no second is shared");
    assert!(!created_in_id_order, "ids follow the times exactly");
}

/// The items of `element` on a JSON page, one record (an object) or several (an array).
fn items(body: &str, element: &str) -> Vec<serde_json::Value> {
    let page: serde_json::Value = serde_json::from_str(body).unwrap();
    match &page["result"][element] {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

#[tokio::test]
async fn every_object_is_generated_with_its_relations_and_nested_records() {
    let env = env_with(generating(3)).await;
    let (_, visitors) = page_all(&env, "visitor", "visitor").await;
    let generated_visitors: Vec<String> = visitors
        .iter()
        .filter(|&&v| v >= 60_000_000)
        .map(u64::to_string)
        .collect();
    let (bodies, visits) = page_all_with(
        &env,
        "visit",
        "visit",
        &format!("&visitor_ids={}", generated_visitors.join(",")),
    )
    .await;
    assert_eq!(visits.len(), 150);
    let visitors: HashSet<u64> = visitors.into_iter().collect();
    for body in &bodies {
        for v in items(body, "visit") {
            assert!(visitors.contains(&v["visitor_id"].as_u64().unwrap()), "{v}");
        }
    }
    // A visit's page views, in `full` output, are the generated ones pointing at it.
    let mut page_views = 0;
    for visit in &visits {
        let read = env
            .bearer_get(&format!(
                "/api/visit/version/4/do/read/id/{visit}?format=json"
            ))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        page_views += match &read.json()["visit"]["visitor_page_views"]["visitor_page_view"] {
            serde_json::Value::Array(items) => items.len(),
            serde_json::Value::Object(_) => 1,
            _ => 0,
        };
    }
    assert_eq!(page_views, 400);

    let (_, memberships) = page_all(&env, "listMembership", "list_membership").await;
    let (_, opportunities) = page_all(&env, "opportunity", "opportunity").await;
    let (bodies, clicks) = page_all(&env, "emailClick", "emailClick").await;
    // The default fixtures' records, and the generated ones.
    let generated = |ids: &[u64], from: u64| ids.iter().filter(|&&id| id >= from).count();
    assert_eq!(generated(&memberships, 40_000_000), 500);
    assert_eq!(generated(&opportunities, 45_000_000), 80);
    assert_eq!(generated(&clicks, 100_000_000), 1_500);
    let mut created_in_id_order = true;
    let mut last_created = String::new();
    for body in &bodies {
        for click in items(body, "emailClick") {
            let created = click["created_at"].as_str().unwrap().to_owned();
            created_in_id_order &= created >= last_created;
            last_created = created;
        }
    }
    assert!(
        !created_in_id_order,
        "email click ids follow the times exactly"
    );
}

#[tokio::test]
async fn a_visitor_lists_its_generated_activities() {
    let env = env_with(generating(5)).await;
    let (bodies, _) = page_all(&env, "visitorActivity", "visitor_activity").await;
    let mut per_visitor: BTreeMap<u64, usize> = BTreeMap::new();
    for body in &bodies {
        for a in items(body, "visitor_activity") {
            if let Some(v) = a["visitor_id"].as_u64() {
                *per_visitor.entry(v).or_default() += 1;
            }
        }
    }
    let (&visitor, &count) = per_visitor
        .iter()
        .filter(|(v, _)| **v >= 60_000_000)
        .max_by_key(|(_, n)| **n)
        .expect("a generated visitor with activities");
    let read = env
        .bearer_get(&format!(
            "/api/visitor/version/4/do/read/id/{visitor}?format=json"
        ))
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    let listed = match &read.json()["visitor"]["visitor_activities"]["visitor_activity"] {
        serde_json::Value::Array(items) => items.len(),
        serde_json::Value::Object(_) => 1,
        _ => 0,
    };
    assert_eq!(listed, count);
}
