//! The v5 objects of the mock against the default fixtures: byte-exact answers of every
//! object and operation (a golden file, as for v3/v4), the one store both generations share
//! (a v5 write seen by a v4 query and the other way round), custom fields on prospects, the
//! recycle bin, and no idempotency on creates. Regenerate the golden file (only when an
//! answer is meant to change) with `PARDOT_MOCK_BLESS=1`.

mod pardot_support;

use std::time::Duration;

use pardot_support::*;

const GOLDEN: &str = "tests/golden/v5_bodies.txt";

/// One step of the golden script.
enum Step {
    Get(&'static str),
    /// A write with a JSON body (sent as `application/json`).
    Send(&'static str, &'static str, &'static str),
    /// A write with a body of another content type.
    SendAs(&'static str, &'static str, &'static str, &'static str),
    Delete(&'static str),
    /// A v3/v4 call with a form body.
    Form(&'static str, &'static [(&'static str, &'static str)]),
    Advance(Duration),
}

use Step::{Advance, Delete, Form, Get, Send, SendAs};

const POST: &str = "POST";
const PATCH: &str = "PATCH";

/// Every object's list and read (with relationships, sorts, filters and paging), then the
/// writes and what they change, then the errors.
const SCRIPT: &[Step] = &[
    // Reads of every object.
    Get("/api/v5/objects/campaigns?fields=id,name,cost,salesforceId,createdAt"),
    Get("/api/v5/objects/campaigns?fields=id,name&orderBy=name%20DESC&limit=2"),
    Get("/api/v5/objects/campaigns/7002?fields=id,name,salesforceId"),
    Get("/api/v5/objects/lists?fields=id,name,title,isPublic,isDynamic,isDeleted,updatedAt"),
    Get("/api/v5/objects/lists/752?fields=id,name,description"),
    Get("/api/v5/objects/lists/752?fields=id,isCrmVisible"),
    Get(
        "/api/v5/objects/list-memberships?fields=id,listId,prospectId,optedOut,list.name,prospect.email",
    ),
    Get("/api/v5/objects/list-memberships?fields=id,listId,isDeleted&deleted=all&listId=752"),
    Get("/api/v5/objects/list-memberships?fields=id&deleted=true"),
    Get("/api/v5/objects/list-memberships/9002?fields=id,listId,prospectId,createdAt"),
    Get("/api/v5/objects/users?fields=id,email,firstName,lastName,role"),
    Get("/api/v5/objects/users/3001?fields=id,email,jobTitle,timezone"),
    Get("/api/v5/objects/visitors?fields=id,prospectId,pageViewCount,ipAddress,prospect.email"),
    Get("/api/v5/objects/visitors?fields=id,hostname&prospectId=1002"),
    Get("/api/v5/objects/visitors/5001?fields=id,campaignParameter,sourceParameter"),
    Get(
        "/api/v5/objects/visits?fields=id,visitorId,prospectId,durationInSeconds,visitor.ipAddress",
    ),
    Get("/api/v5/objects/visits/6004?fields=id,visitorPageViewCount,firstVisitorPageViewAt"),
    Get(
        "/api/v5/objects/visitor-activities?fields=id,type,typeName,prospectId,campaignId,campaign.name,createdAt&limit=3",
    ),
    Get("/api/v5/objects/visitor-activities?fields=id,type,details&prospectId=1001&type=6"),
    Get(
        "/api/v5/objects/visitor-activities/150001?fields=id,details,emailId,campaign.id,campaign.name",
    ),
    Get(
        "/api/v5/objects/opportunities?fields=id,name,value,probability,status,campaign.name,isDeleted&orderBy=value%20DESC",
    ),
    Get("/api/v5/objects/opportunities?fields=id,name&deleted=true"),
    Get("/api/v5/objects/opportunities/4001?fields=id,name,stage,closedAt,campaignId"),
    Get("/api/v5/objects/custom-fields?fields=id,name,fieldId"),
    Form(
        "/api/prospect/version/4/do/assign/id/1002?format=json&fields=id",
        &[("user_id", "3002")],
    ),
    Get(
        "/api/v5/objects/prospects?fields=id,email,assignedUserId,assignedUser.email,assignedUser.firstName,campaign.name",
    ),
    // Paging: the token carries the query; the id and time filters of every object.
    Get("/api/v5/objects/visitor-activities?fields=id&limit=4&idGreaterThanOrEqualTo=150003"),
    Get(
        "/api/v5/objects/lists?fields=id,updatedAt&updatedAtAfterOrEqualTo=2024-03-01T00:00:00%2B00:00&orderBy=updatedAt",
    ),
    Get("/api/v5/objects/campaigns?fields=id&idLessThanOrEqualTo=7002&idGreaterThan=7001"),
    // Writes, an hour later.
    Advance(Duration::from_secs(3600)),
    Send(
        POST,
        "/api/v5/objects/prospects?fields=id,email,firstName,score,isDoNotEmail,createdAt,updatedAt",
        r#"{"email":"katherine@example.com","firstName":"Katherine","score":12,"isDoNotEmail":true}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/prospects/1004?fields=id,firstName,company,updatedAt",
        r#"{"firstName":"Kate","company":"NASA"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects/do/upsertLatestByEmail?fields=id,email,jobTitle,updatedAt",
        r#"{"matchEmail":"ada@example.com","prospect":{"jobTitle":"Analyst"}}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects/do/upsertLatestByEmail?fields=id,email,lastName,createdAt",
        r#"{"matchEmail":"mary@example.com","prospect":{"lastName":"Somerville"}}"#,
    ),
    Delete("/api/v5/objects/prospects/1005"),
    Get("/api/v5/objects/prospects?fields=id,email,isDeleted&deleted=true"),
    Send(
        POST,
        "/api/v5/objects/prospects/1005/do/undelete?fields=id,isDeleted,updatedAt",
        "",
    ),
    Send(
        POST,
        "/api/v5/objects/lists?fields=id,name,isPublic,title,createdAt",
        r#"{"name":"Beta testers","isPublic":true,"title":"Beta"}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/lists/753?fields=id,description,updatedAt",
        r#"{"description":"People who came"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/list-memberships?fields=id,listId,prospectId,optedOut,list.name",
        r#"{"listId":753,"prospectId":1003,"optedOut":true}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/list-memberships/9001?fields=id,optedOut,updatedAt",
        r#"{"optedOut":true}"#,
    ),
    Send(PATCH, "/api/v5/objects/lists/752", r#"{"title":"News"}"#),
    Delete("/api/v5/objects/list-memberships/9002"),
    Delete("/api/v5/objects/lists/754"),
    Get(
        "/api/v5/objects/list-memberships?fields=id,listId,isDeleted,updatedAt&deleted=all&updatedAtAfterOrEqualTo=2025-03-10T13:00:00%2B00:00",
    ),
    Send(
        POST,
        "/api/v5/objects/custom-fields?fields=id,name,fieldId,type,isRequired,createdAt",
        r#"{"name":"Shoe size","fieldId":"shoe_size","type":"Number"}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/custom-fields/6001?fields=id,name,isRequired,updatedAt",
        r#"{"name":"Shoe size (EU)","isRequired":true}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/prospects/1001?fields=id,shoe_size",
        r#"{"shoe_size":38}"#,
    ),
    Get("/api/v5/objects/prospects/1001?fields=id,email,shoe_size"),
    Get("/api/prospect/version/4/do/read/id/1001?format=json"),
    Get("/api/v5/objects/custom-fields/6001?fields=id,fieldId,type"),
    Delete("/api/v5/objects/custom-fields/6001"),
    Get("/api/v5/objects/custom-fields?fields=id"),
    // Errors.
    Get("/api/v5/objects/lists"),
    Get("/api/v5/objects/lists?fields=id,nope"),
    Get("/api/v5/objects/lists?fields=id&limit=1001"),
    Get("/api/v5/objects/lists?fields=id&orderBy=title"),
    Get("/api/v5/objects/lists?fields=id&orderBy=name%20SIDEWAYS"),
    Get("/api/v5/objects/users?fields=id&deleted=true"),
    Get("/api/v5/objects/lists?fields=id&idGreaterThan=many"),
    Get("/api/v5/objects/lists?fields=id&nextPageToken=garbage"),
    Get("/api/v5/objects/lists/999?fields=id"),
    Get("/api/v5/objects/forms?fields=id"),
    Get("/api/v5/objects/visitor-activities?fields=id,campaign.nope"),
    Send(POST, "/api/v5/objects/campaigns", r#"{"name":"x"}"#),
    Send(POST, "/api/v5/objects/lists", ""),
    SendAs(
        POST,
        "/api/v5/objects/lists",
        "text/plain",
        r#"{"name":"x"}"#,
    ),
    Send(POST, "/api/v5/objects/lists", r#"{"name":"#),
    Send(POST, "/api/v5/objects/lists", r#"{"title":"No name"}"#),
    Send(
        POST,
        "/api/v5/objects/lists",
        r#"{"name":"x","colour":"red"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/lists",
        r#"{"name":"x","isDynamic":true}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/lists",
        r#"{"name":"x","isPublic":"yes"}"#,
    ),
    Send(PATCH, "/api/v5/objects/lists/752", r#"{"id":5}"#),
    Send(
        POST,
        "/api/v5/objects/list-memberships",
        r#"{"listId":752,"prospectId":1001}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/list-memberships",
        r#"{"listId":999,"prospectId":1001}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/list-memberships/9003",
        r#"{"listId":753}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects",
        r#"{"email":"ada@example.com"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects",
        r#"{"firstName":"No email"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects",
        r#"{"email":"x@example.com","createdAt":"2020-01-01"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/prospects",
        r#"{"email":"x@example.com","score":"high"}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/prospects/1999",
        r#"{"firstName":"Nobody"}"#,
    ),
    Send(POST, "/api/v5/objects/prospects/1001/do/undelete", ""),
    Send(
        POST,
        "/api/v5/objects/prospects/do/upsertLatestByEmail",
        r#"{"prospect":{"firstName":"x"}}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/custom-fields",
        r#"{"name":"Email","fieldId":"email","type":"Text"}"#,
    ),
    Send(
        POST,
        "/api/v5/objects/custom-fields",
        r#"{"name":"Colour","fieldId":"colour","type":"Colour"}"#,
    ),
    Send(
        PATCH,
        "/api/v5/objects/custom-fields/6001",
        r#"{"name":"gone"}"#,
    ),
];

async fn send(
    env: &Env,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> Answer {
    let token = env.user_token();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = env
        .http
        .request(method, format!("{}{path}", env.mock.url()))
        .header("Authorization", format!("Bearer {token}"))
        .header("Pardot-Business-Unit-Id", BU);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    Answer::read(
        req.body(body.to_owned())
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

async fn send_json(env: &Env, method: &str, path: &str, body: &str) -> Answer {
    send(env, method, path, Some("application/json"), body).await
}

async fn run_script(env: &Env) -> String {
    let mut out = String::new();
    for step in SCRIPT {
        let (label, answer) = match step {
            Get(path) => (format!("GET {path}"), env.bearer_get(path).await),
            Send(method, path, body) => (
                format!("{method} {path} {body}"),
                send_json(env, method, path, body).await,
            ),
            SendAs(method, path, content_type, body) => (
                format!("{method} {path} ({content_type}) {body}"),
                send(env, method, path, Some(content_type), body).await,
            ),
            Delete(path) => (
                format!("DELETE {path}"),
                send(env, "DELETE", path, None, "").await,
            ),
            Form(path, form) => {
                let auth = format!("Bearer {}", env.user_token());
                let headers = bearer_headers(&auth);
                (
                    format!("POST {path} {form:?}"),
                    env.post(path, form, &headers).await,
                )
            }
            Advance(by) => {
                env.clock.advance(*by);
                out.push_str(&format!("-- clock +{}s\n", by.as_secs()));
                continue;
            }
        };
        // The page tokens hold the mock's address: name it the same in every run.
        let body = answer.body.replace(env.mock.url().as_str(), "{base}");
        out.push_str(&format!(
            "== {label}\n{} {}\n{body}\n",
            answer.status, answer.content_type
        ));
    }
    out
}

#[tokio::test]
async fn v5_answers_are_byte_identical_to_the_golden_file() {
    let env = env().await;
    assert_golden(GOLDEN, &run_script(&env).await);
}

/// The ids of a v5 list answer.
fn ids(answer: &Answer) -> Vec<u64> {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v["id"].as_u64().expect("id"))
        .collect()
}

/// The ids of a v4 JSON query answer (one record is an object, none leaves the key out).
fn v4_ids(answer: &Answer, element: &str) -> Vec<u64> {
    assert_eq!(answer.status, 200, "{answer:?}");
    match &answer.json()["result"][element] {
        serde_json::Value::Array(items) => {
            items.iter().map(|i| i["id"].as_u64().unwrap()).collect()
        }
        serde_json::Value::Object(one) => vec![one["id"].as_u64().unwrap()],
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn a_v5_write_is_seen_by_v4_and_a_v4_write_by_v5() {
    let env = env().await;
    let token = env.user_token();
    let auth = format!("Bearer {token}");
    let headers = bearer_headers(&auth);
    // v5 -> v4: a list, a membership and a prospect made in v5.
    let list = send_json(&env, POST, "/api/v5/objects/lists", r#"{"name":"From v5"}"#).await;
    let list_id = list.created_id();
    let prospect = send_json(
        &env,
        POST,
        "/api/v5/objects/prospects?fields=id,email",
        r#"{"email":"v5@example.com","firstName":"Five"}"#,
    )
    .await;
    let prospect_id = prospect.created_id();
    let membership = send_json(
        &env,
        POST,
        "/api/v5/objects/list-memberships",
        &format!(r#"{{"listId":{list_id},"prospectId":{prospect_id}}}"#),
    )
    .await;
    assert_eq!(membership.status, 201, "{membership:?}");
    let v4 = env
        .get(
            &format!("/api/listMembership/version/4/do/query?format=json&list_id={list_id}"),
            &headers,
        )
        .await;
    assert_eq!(
        v4.json()["result"]["list_membership"]["prospect_id"],
        prospect_id
    );
    let v4_prospect = env
        .get(
            "/api/prospect/version/4/do/read/email/v5@example.com?format=json",
            &headers,
        )
        .await;
    assert_eq!(v4_prospect.json()["prospect"]["first_name"], "Five");
    // v4 -> v5: a list and a prospect update made in v4.
    let made = env
        .post(
            "/api/list/version/4/do/create?format=json",
            &[("name", "From v4")],
            &headers,
        )
        .await;
    let v4_list = made.json()["list"]["id"].as_u64().unwrap();
    env.post(
        &format!("/api/prospect/version/4/do/update/id/{prospect_id}?format=json"),
        &[("company", "Four Ltd")],
        &headers,
    )
    .await;
    let seen = env
        .bearer_get(&format!("/api/v5/objects/lists/{v4_list}?fields=id,name"))
        .await;
    seen.assert(
        200,
        JSON,
        &format!(r#"{{"id":{v4_list},"name":"From v4"}}"#),
    );
    let seen = env
        .bearer_get(&format!(
            "/api/v5/objects/prospects/{prospect_id}?fields=company"
        ))
        .await;
    seen.assert(200, JSON, r#"{"company":"Four Ltd"}"#);
    // A v5 delete is a v4 recycle-bin record, and a v4 delete hides the prospect from v5.
    let deleted = send(
        &env,
        "DELETE",
        &format!("/api/v5/objects/prospects/{prospect_id}"),
        None,
        "",
    )
    .await;
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    let bin = env
        .get(
            &format!(
                "/api/prospect/version/4/do/query?format=json&deleted=true&id_greater_than={}",
                prospect_id - 1
            ),
            &headers,
        )
        .await;
    assert_eq!(v4_ids(&bin, "prospect"), vec![prospect_id]);
    env.post(
        "/api/prospect/version/4/do/delete/id/1003?format=json",
        &[],
        &headers,
    )
    .await;
    let live = env
        .bearer_get("/api/v5/objects/prospects?fields=id&idGreaterThan=1000&idLessThan=1010")
        .await;
    assert_eq!(ids(&live), vec![1001, 1002]);
    env.bearer_expect("/api/v5/objects/prospects/1003?fields=id", 404)
        .await;
}

#[tokio::test]
async fn a_retried_v5_create_makes_a_second_record() {
    let env = env().await;
    let body = r#"{"name":"Twice"}"#;
    let first = send_json(&env, POST, "/api/v5/objects/lists", body).await;
    let second = send_json(&env, POST, "/api/v5/objects/lists", body).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_ne!(first.json()["id"], second.json()["id"]);
    let twice = env
        .bearer_get("/api/v5/objects/lists?fields=id&name=Twice")
        .await;
    assert_eq!(ids(&twice).len(), 2, "{twice:?}");
}

#[tokio::test]
async fn pages_see_every_record_once_and_upsert_picks_the_latest() {
    let env = env().await;
    for (object, want) in [
        ("campaigns", vec![7001_u64, 7002, 7003]),
        ("list-memberships", vec![9001, 9002, 9003, 9004]),
        ("visitor-activities", (150_001..=150_010).collect()),
    ] {
        let mut seen = Vec::new();
        let mut path = format!("/api/v5/objects/{object}?fields=id&limit=3");
        loop {
            let page = env.bearer_get(&path).await;
            seen.extend(ids(&page));
            match page.json()["nextPageUrl"].as_str() {
                Some(url) => {
                    path = url
                        .strip_prefix(env.mock.url().as_str())
                        .expect("same base")
                        .to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen, want, "{object}");
    }
    // Two prospects share an address; upsert updates the one updated last.
    const UPSERT: &str = "/api/v5/objects/prospects/do/upsertLatestByEmail";
    let twin = |first_name: &str| {
        format!(r#"{{"matchEmail":"twin@example.com","prospect":{{"firstName":"{first_name}"}}}}"#)
    };
    let made = send_json(&env, POST, &format!("{UPSERT}?fields=id"), &twin("One")).await;
    let first = made.created_id();
    env.clock.advance(Duration::from_secs(10));
    // v5 create refuses a second prospect with the address, so the twin comes by a rename.
    let body = r#"{"email":"twin2@example.com"}"#;
    let other = send_json(&env, POST, "/api/v5/objects/prospects?fields=id", body).await;
    let second = other.json()["id"].as_u64().unwrap();
    let rename = format!("/api/v5/objects/prospects/{second}");
    let renamed = send_json(&env, PATCH, &rename, r#"{"email":"twin@example.com"}"#).await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    let latest = format!("{UPSERT}?fields=id,firstName");
    let upsert = send_json(&env, POST, &latest, &twin("Latest")).await;
    let expected = format!(r#"{{"id":{second},"firstName":"Latest"}}"#);
    upsert.assert(200, JSON, &expected);
    assert_ne!(first, second);
}
