//! The v3/v4 Pardot API of the mock: legacy login, account read, prospect query, read,
//! create, update and upsert in XML and JSON, and every error code with its exact envelope,
//! status and content type.

mod pardot_support;

use pardot_mock::{Outcome, Route};
use std::time::Duration;

use pardot_support::*;

/// Ada (prospect 1001 of `fixtures/mock.toml`) as v3/v4 render her: (field, XML text, JSON).
const ADA: &[(&str, &str, &str)] = &[
    ("id", "1001", "1001"),
    ("campaign_id", "", "null"),
    ("salutation", "", "null"),
    ("first_name", "Ada", "\"Ada\""),
    ("last_name", "Lovelace", "\"Lovelace\""),
    ("email", "ada@example.com", "\"ada@example.com\""),
    ("password", "", "null"),
    ("company", "Analytical Engines", "\"Analytical Engines\""),
    ("website", "", "null"),
    ("job_title", "Engineer", "\"Engineer\""),
    ("department", "", "null"),
    ("country", "", "null"),
    ("address_one", "", "null"),
    ("address_two", "", "null"),
    ("city", "London", "\"London\""),
    ("state", "", "null"),
    ("territory", "", "null"),
    ("zip", "", "null"),
    ("phone", "", "null"),
    ("fax", "", "null"),
    ("source", "", "null"),
    ("annual_revenue", "", "null"),
    ("employees", "", "null"),
    ("industry", "", "null"),
    ("years_in_business", "", "null"),
    ("comments", "", "null"),
    ("notes", "", "null"),
    ("score", "120", "120"),
    ("grade", "A", "\"A\""),
    ("last_activity_at", "", "null"),
    ("recent_interaction", "Never active", "\"Never active\""),
    ("crm_lead_fid", "", "null"),
    ("crm_contact_fid", "", "null"),
    ("crm_owner_fid", "", "null"),
    ("crm_account_fid", "", "null"),
    ("salesforce_fid", "", "null"),
    ("crm_last_sync", "", "null"),
    ("crm_url", "", "null"),
    ("is_do_not_email", "<>", "false"),
    ("is_do_not_call", "<>", "false"),
    ("opted_out", "<>", "false"),
    ("is_reviewed", "<>", "false"),
    ("is_starred", "<>", "false"),
    (
        "created_at",
        "2024-01-15 09:30:00",
        "\"2024-01-15 09:30:00\"",
    ),
    (
        "updated_at",
        "2024-06-01 12:00:00",
        "\"2024-06-01 12:00:00\"",
    ),
];

/// Ada's `<prospect>` element at `depth` (4 spaces each): empty text is `<x/>`, a false flag
/// `<x></x>` (marked `<>` in the table).
fn ada_xml(depth: usize) -> String {
    let pad = "    ".repeat(depth);
    let mut out = format!("{pad}<prospect>\n");
    for (name, xml, _) in ADA {
        match *xml {
            "" => out.push_str(&format!("{pad}    <{name}/>\n")),
            "<>" => out.push_str(&format!("{pad}    <{name}></{name}>\n")),
            text => out.push_str(&format!("{pad}    <{name}>{text}</{name}>\n")),
        }
    }
    out.push_str(&format!("{pad}</prospect>\n"));
    out
}

fn ada_json() -> String {
    let fields: Vec<String> = ADA
        .iter()
        .map(|(name, _, json)| format!("\"{name}\":{json}"))
        .collect();
    format!("{{{}}}", fields.join(","))
}

const XML_HEAD: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n";
const JSON_HEAD: &str = r#"{"@attributes":{"stat":"ok","version":1}"#;

fn is_api_key(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn legacy_login_in_xml_and_json() {
    let env = env().await;
    let form = [
        ("email", V3_EMAIL),
        ("password", V3_PASSWORD),
        ("user_key", V3_USER_KEY),
    ];
    let xml = env.post("/api/login/version/3", &form, &[]).await;
    assert_eq!(
        (xml.status, xml.content_type.as_str()),
        (200, XML),
        "{xml:?}"
    );
    let key = xml
        .body
        .strip_prefix(&format!("{XML_HEAD}    <api_key>"))
        .and_then(|rest| rest.strip_suffix("</api_key>\n</rsp>\n"))
        .unwrap_or_else(|| panic!("shape: {}", xml.body));
    assert!(is_api_key(key), "{key}");

    // The same user logging in again while the key lives gets the same key, here in JSON.
    let json = env
        .post("/api/login/version/3?format=json", &form, &[])
        .await;
    json.assert(200, JSON, &format!(r#"{JSON_HEAD},"api_key":"{key}"}}"#));

    // A v4 account gets <version>4</version>; fields in the query string work for login.
    let path = format!(
        "/api/login/version/4?email={V4_EMAIL}&password={V4_PASSWORD}&user_key={V4_USER_KEY}"
    );
    let v4 = env.post(&path, &[], &[]).await;
    let key4 = v4
        .body
        .strip_prefix(&format!("{XML_HEAD}    <api_key>"))
        .and_then(|rest| rest.strip_suffix("</api_key>\n    <version>4</version>\n</rsp>\n"))
        .unwrap_or_else(|| panic!("shape: {}", v4.body));
    assert!(is_api_key(key4) && key4 != key);
    let v4json = env.post(&format!("{path}&format=json"), &[], &[]).await;
    v4json.assert(
        200,
        JSON,
        &format!(r#"{JSON_HEAD},"api_key":"{key4}","version":4}}"#),
    );
}

#[tokio::test]
async fn login_failure_15_and_lock_131() {
    let env = env().await;
    let bad = [
        ("email", V3_EMAIL),
        ("password", "wrong"),
        ("user_key", V3_USER_KEY),
    ];
    env.post("/api/login/version/3", &bad, &[]).await.assert(
        401,
        XML,
        &xml_fail(15, "Login failed"),
    );
    env.post("/api/login/version/3?format=json", &bad, &[])
        .await
        .assert(401, JSON, &json_fail(15, "Login failed"));
    let unknown = [
        ("email", "nobody@acme.example"),
        ("password", "x"),
        ("user_key", V3_USER_KEY),
    ];
    env.post("/api/login/version/4", &unknown, &[])
        .await
        .assert(401, XML, &xml_fail(15, "Login failed"));
    for _ in 0..3 {
        env.post("/api/login/version/3", &bad, &[]).await;
    }
    // Five failures in a row: even the right password is refused now.
    let good = [
        ("email", V3_EMAIL),
        ("password", V3_PASSWORD),
        ("user_key", V3_USER_KEY),
    ];
    let locked = "Your account is locked due to too many failed login attempts. Reset your password at https://pi.pardot.com/user/passwordReset";
    env.post("/api/login/version/3", &good, &[])
        .await
        .assert(400, XML, &xml_fail(131, locked));
    env.post("/api/login/version/3?format=json", &good, &[])
        .await
        .assert(400, JSON, &json_fail(131, locked));
    // Another user is not affected.
    env.api_key(V4_EMAIL, V4_PASSWORD, V4_USER_KEY).await;
}

fn account_xml() -> String {
    format!(
        "{XML_HEAD}    <account>\n        <id>1001</id>\n        <company>Acme Corporation</company>\n        <level>SFDC Ultimate Edition</level>\n        <website>https://www.acme.example</website>\n        <vanity_domain/>\n        <plugin_campaign_id/>\n        <tracking_code_template>piAId = '1001';</tracking_code_template>\n        <address1/>\n        <address2/>\n        <city/>\n        <state/>\n        <territory/>\n        <zip/>\n        <country/>\n        <phone/>\n        <fax/>\n        <created_at>2025-03-10 12:00:00</created_at>\n        <updated_at>2025-03-10 12:00:00</updated_at>\n    </account>\n</rsp>\n"
    )
}

fn account_json() -> String {
    format!(
        r#"{JSON_HEAD},"account":{{"id":1001,"company":"Acme Corporation","level":"SFDC Ultimate Edition","website":"https://www.acme.example","vanity_domain":null,"plugin_campaign_id":null,"tracking_code_template":"piAId = '1001';","address1":null,"address2":null,"city":null,"state":null,"territory":null,"zip":null,"country":null,"phone":null,"fax":null,"created_at":"2025-03-10 12:00:00","updated_at":"2025-03-10 12:00:00"}}}}"#
    )
}

#[tokio::test]
async fn account_read_with_bearer_and_with_api_key() {
    let env = env().await;
    env.bearer_get("/api/account/version/4/do/read")
        .await
        .assert(200, XML, &account_xml());
    env.bearer_get("/api/account/version/4/do/read?format=json")
        .await
        .assert(200, JSON, &account_json());
    let key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    let auth = pardot_auth(&key, V3_USER_KEY);
    env.get(
        "/api/account/version/3/do/read",
        &[("Authorization", &auth)],
    )
    .await
    .assert(200, XML, &account_xml());
    // Both keys as POST form fields (a popular client sends them so).
    env.post(
        "/api/account/version/3/do/read?format=json",
        &[("api_key", &key), ("user_key", V3_USER_KEY)],
        &[],
    )
    .await
    .assert(200, JSON, &account_json());
}

#[tokio::test]
async fn prospect_query_shapes() {
    let env = env().await;
    // Three prospects, newest first by default.
    let all = env
        .bearer_ok("/api/prospect/version/4/do/query?format=json", JSON)
        .await;
    let v = all.json();
    assert_eq!(v["result"]["total_results"], 3);
    let ids: Vec<_> = v["result"]["prospect"]
        .as_array()
        .expect("several prospects are an array")
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1003, 1002, 1001]);

    // Exactly one match: an object, not a one-element array; total_results a number.
    let one = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&id_less_than=1002")
        .await;
    one.assert(
        200,
        JSON,
        &format!(
            r#"{JSON_HEAD},"result":{{"total_results":1,"prospect":{}}}}}"#,
            ada_json()
        ),
    );
    env.bearer_get("/api/prospect/version/4/do/query?id_less_than=1002")
        .await
        .assert(
            200,
            XML,
            &format!(
                "{XML_HEAD}    <result>\n        <total_results>1</total_results>\n{}    </result>\n</rsp>\n",
                ada_xml(2)
            ),
        );

    // Criteria, sorting, paging and v4 `fields`.
    let page = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&sort_by=id&sort_order=ascending&limit=1&offset=1&fields=email,score")
        .await;
    page.assert(
        200,
        JSON,
        &format!(
            r#"{JSON_HEAD},"result":{{"total_results":3,"prospect":{{"id":1002,"email":"grace@example.com","score":95}}}}}}"#
        ),
    );
    let after = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&created_after=2024-02-01&updated_after=2024-06-30")
        .await;
    assert_eq!(after.json()["result"]["prospect"]["id"], 1002);
    let none = env
        .bearer_get("/api/prospect/version/4/do/query?format=json&id_greater_than=5000")
        .await;
    none.assert(
        200,
        JSON,
        &format!(r#"{JSON_HEAD},"result":{{"total_results":0}}}}"#),
    );
    env.bearer_get("/api/prospect/version/4/do/query?id_greater_than=5000")
        .await
        .assert(
            200,
            XML,
            &format!("{XML_HEAD}    <result>\n        <total_results>0</total_results>\n    </result>\n</rsp>\n"),
        );
    // Query validation codes.
    for (query, code, message) in [
        (
            "limit=201",
            23,
            "Invalid value specified for limit (max 200)",
        ),
        ("sort_by=name", 19, "Invalid value specified for sort_by"),
        (
            "sort_order=up",
            20,
            "Invalid value specified for sort_order",
        ),
        ("offset=-1", 21, "Invalid value specified for offset"),
        ("created_after=someday", 7, "Invalid timestamp"),
        (
            "fields=email,nope",
            130,
            "One or more of the specified fields are invalid",
        ),
    ] {
        env.bearer_get(&format!("/api/prospect/version/4/do/query?{query}"))
            .await
            .assert(400, XML, &xml_fail(code, message));
    }
}

#[tokio::test]
async fn prospect_read_create_update_upsert() {
    let env = env().await;
    let read_xml = format!("{XML_HEAD}{}</rsp>\n", ada_xml(1));
    let read_json = format!(r#"{JSON_HEAD},"prospect":{}}}"#, ada_json());
    env.bearer_get("/api/prospect/version/4/do/read/id/1001")
        .await
        .assert(200, XML, &read_xml);
    env.bearer_get("/api/prospect/version/4/do/read/id/1001?format=json")
        .await
        .assert(200, JSON, &read_json);
    env.bearer_get("/api/prospect/version/4/do/read/email/ada@example.com")
        .await
        .assert(200, XML, &read_xml);
    env.bearer_get("/api/prospect/version/3/do/read/email/ada@example.com?format=json")
        .await
        .assert(200, JSON, &read_json);

    // Create: fields as parameters, stamped with the mock clock.
    let created = env.bearer_ok("/api/prospect/version/4/do/create/email/new@example.com?format=json&first_name=Neu&score=7", JSON).await;
    let p = &created.json()["prospect"];
    assert_eq!(
        (
            &p["id"],
            &p["email"],
            &p["first_name"],
            &p["score"],
            &p["created_at"]
        ),
        (
            &serde_json::json!(1004),
            &serde_json::json!("new@example.com"),
            &serde_json::json!("Neu"),
            &serde_json::json!(7),
            &serde_json::json!("2025-03-10 12:00:00")
        )
    );
    let created_xml = env
        .bearer_ok(
            "/api/prospect/version/3/do/create/email/xml@example.com",
            XML,
        )
        .await;
    assert!(
        created_xml
            .body
            .contains("<id>1005</id>\n        <campaign_id/>"),
        "{}",
        created_xml.body
    );

    // Update by id, later than creation: persisted and re-stamped.
    env.clock.advance(Duration::from_secs(90));
    let updated = env
        .bearer_get("/api/prospect/version/4/do/update/id/1004?format=json&company=Acme")
        .await;
    assert_eq!(updated.json()["prospect"]["company"], "Acme");
    assert_eq!(
        updated.json()["prospect"]["updated_at"],
        "2025-03-10 12:01:30"
    );
    let again = env
        .bearer_get("/api/prospect/version/4/do/read/id/1004")
        .await;
    again.assert_contains("<company>Acme</company>");

    // Upsert: updates an existing email, creates a new one.
    let up = env
        .bearer_get(
            "/api/prospect/version/4/do/upsert/email/grace@example.com?format=json&city=Arlington",
        )
        .await;
    assert_eq!(
        (
            up.json()["prospect"]["id"].as_i64(),
            up.json()["prospect"]["city"].as_str()
        ),
        (Some(1002), Some("Arlington"))
    );
    let up_new = env
        .bearer_get("/api/prospect/version/4/do/upsert/email/fresh@example.com?format=json")
        .await;
    assert_eq!(up_new.json()["prospect"]["id"], 1006);
    let all = env
        .bearer_get("/api/prospect/version/4/do/query?format=json")
        .await;
    assert_eq!(all.json()["result"]["total_results"], 6);
}

/// Each v3/v4 error: (name, code, message, status), checked in XML and JSON.
#[tokio::test]
async fn error_codes_in_xml_and_json() {
    let env = env().await;
    let token = env.user_token();
    let bearer = format!("Bearer {token}");
    let v3_key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    let v4_key = env.api_key(V4_EMAIL, V4_PASSWORD, V4_USER_KEY).await;
    let v3_auth = pardot_auth(&v3_key, V3_USER_KEY);
    let v4_auth = pardot_auth(&v4_key, V4_USER_KEY);
    let sandbox_token = format!("Bearer {}", env.token(SANDBOX_USER, JWT_APP));
    let no_scope = format!("Bearer {}", env.token(USER, NO_PARDOT_APP));
    let access_denied = "Access Denied: User associated with access token is not valid for the Pardot Business Unit ID specified in Pardot-Business-Unit-Id header";
    let bu_missing =
        "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.";
    let bad_token = "access_token is invalid, unknown, or malformed";

    struct Case<'a> {
        name: &'a str,
        path: String,
        headers: Vec<(&'a str, String)>,
        code: u32,
        message: &'a str,
        status: u16,
    }
    let case =
        |name, path: &str, headers: Vec<(&'static str, String)>, code, message, status| Case {
            name,
            path: path.to_owned(),
            headers,
            code,
            message,
            status,
        };
    let bu = |v: &str| ("Pardot-Business-Unit-Id", v.to_owned());
    let auth = |v: &str| ("Authorization", v.to_owned());
    let cases = vec![
        case(
            "1 unknown api_key",
            "/api/account/version/3/do/read",
            vec![auth(&pardot_auth(
                "0000000000000000000000000000000a",
                V3_USER_KEY,
            ))],
            1,
            "Invalid API key or user key",
            401,
        ),
        case(
            "1 wrong user_key",
            "/api/account/version/3/do/read",
            vec![auth(&pardot_auth(&v3_key, V4_USER_KEY))],
            1,
            "Invalid API key or user key",
            401,
        ),
        case(
            "1 no credentials",
            "/api/account/version/3/do/read",
            vec![],
            1,
            "Invalid API key or user key",
            401,
        ),
        case(
            "1 credentials in the query string",
            &format!("/api/account/version/3/do/read?api_key={v3_key}&user_key={V3_USER_KEY}"),
            vec![],
            1,
            "Invalid API key or user key",
            401,
        ),
        case(
            "3 unknown prospect id",
            "/api/prospect/version/4/do/read/id/999",
            vec![auth(&bearer), bu(BU)],
            3,
            "Invalid prospect ID",
            400,
        ),
        case(
            "3 update unknown id",
            "/api/prospect/version/4/do/update/id/999?city=X",
            vec![auth(&bearer), bu(BU)],
            3,
            "Invalid prospect ID",
            400,
        ),
        case(
            "4 unknown email",
            "/api/prospect/version/4/do/read/email/nobody@example.com",
            vec![auth(&bearer), bu(BU)],
            4,
            "Invalid prospect email address",
            400,
        ),
        case(
            "9 duplicate email",
            "/api/prospect/version/4/do/create/email/ada@example.com",
            vec![auth(&bearer), bu(BU)],
            9,
            "A prospect with the specified email address already exists",
            400,
        ),
        case(
            "9 duplicate email (v3 account)",
            "/api/prospect/version/3/do/create/email/ada@example.com",
            vec![auth(&v3_auth)],
            9,
            "A prospect with the specified email address already exists",
            400,
        ),
        case(
            "15 login",
            "/api/login/version/3?email=x@y.z&password=p&user_key=k",
            vec![],
            15,
            "Login failed",
            401,
        ),
        case(
            "49 user without the business unit",
            "/api/account/version/4/do/read",
            vec![auth(&sandbox_token), bu(BU)],
            49,
            access_denied,
            400,
        ),
        case(
            "88 v4 account on version 3",
            "/api/account/version/3/do/read",
            vec![auth(&v4_auth)],
            88,
            "Your account must use version 4 of the API.",
            400,
        ),
        case(
            "89 v3 account on version 4",
            "/api/account/version/4/do/read",
            vec![auth(&v3_auth)],
            89,
            "Your account is unable to use version 4 of the API.",
            400,
        ),
        case(
            "184 unknown token",
            "/api/account/version/4/do/read",
            vec![auth("Bearer 00D5g00000AcmeP!nope"), bu(BU)],
            184,
            bad_token,
            401,
        ),
        case(
            "184 token without pardot_api",
            "/api/account/version/4/do/read",
            vec![auth(&no_scope), bu(BU)],
            184,
            bad_token,
            401,
        ),
        case(
            "201 unknown business unit",
            "/api/account/version/4/do/read",
            vec![auth(&bearer), bu("0Uv000000000001CAA")],
            201,
            bu_missing,
            400,
        ),
        case(
            "201 inactive business unit",
            "/api/account/version/4/do/read",
            vec![auth(&bearer), bu(OFF_BU)],
            201,
            bu_missing,
            400,
        ),
        case(
            "201 missing header",
            "/api/account/version/4/do/read",
            vec![auth(&bearer)],
            201,
            bu_missing,
            400,
        ),
        case(
            "201 15-character id",
            "/api/account/version/4/do/read",
            vec![auth(&bearer), bu(&BU[..15])],
            201,
            bu_missing,
            400,
        ),
        case(
            "201 demo unit on the production host",
            "/api/account/version/4/do/read",
            vec![auth(&sandbox_token), bu(DEMO_BU)],
            201,
            bu_missing,
            400,
        ),
    ];
    for c in &cases {
        for json in [false, true] {
            let sep = if c.path.contains('?') { '&' } else { '?' };
            let path = if json {
                format!("{}{sep}format=json", c.path)
            } else {
                c.path.clone()
            };
            let headers: Vec<(&str, &str)> =
                c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = if c.path.starts_with("/api/login/") {
                env.post(&path, &[], &headers).await
            } else {
                env.get(&path, &headers).await
            };
            let (ct, body) = if json {
                (JSON, json_fail(c.code, c.message))
            } else {
                (XML, xml_fail(c.code, c.message))
            };
            assert_eq!(
                (
                    answer.status,
                    answer.content_type.as_str(),
                    answer.body.as_str()
                ),
                (c.status, ct, body.as_str()),
                "case `{}` (json: {json})",
                c.name
            );
        }
    }
}

#[tokio::test]
async fn demo_host_rule() {
    let env = env().await;
    let sandbox = format!("Bearer {}", env.token(SANDBOX_USER, JWT_APP));
    let prod = format!("Bearer {}", env.user_token());
    let demo_path = "/demo/api/prospect/version/4/do/read/id/2001?format=json";
    let ok = env
        .get(
            demo_path,
            &[
                ("Authorization", &sandbox),
                ("Pardot-Business-Unit-Id", DEMO_BU),
            ],
        )
        .await;
    assert_eq!(
        (ok.status, ok.json()["prospect"]["email"].as_str()),
        (200, Some("demo@example.com"))
    );
    // The production unit called on the demo host, and by Host header.
    let bu_missing =
        "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.";
    env.get(
        "/demo/api/account/version/4/do/read",
        &bearer_headers(&prod),
    )
    .await
    .assert(400, XML, &xml_fail(201, bu_missing));
    env.get(
        "/api/account/version/4/do/read?format=json",
        &[
            ("Authorization", &prod),
            ("Pardot-Business-Unit-Id", BU),
            ("Host", "pi.demo.pardot.com"),
        ],
    )
    .await
    .assert(400, JSON, &json_fail(201, bu_missing));
    let by_host = env
        .get(
            "/api/prospect/version/4/do/read/id/2001?format=json",
            &[
                ("Authorization", &sandbox),
                ("Pardot-Business-Unit-Id", DEMO_BU),
                ("Host", "pi.demo.pardot.com"),
            ],
        )
        .await;
    assert_eq!(by_host.status, 200, "{by_host:?}");
    // A production api_key is unknown on the demo host.
    let key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    env.get(
        "/demo/api/account/version/3/do/read",
        &[("Authorization", &pardot_auth(&key, V3_USER_KEY))],
    )
    .await
    .assert(401, XML, &xml_fail(1, "Invalid API key or user key"));
}

#[tokio::test]
async fn header_credentials_win_over_body_fields() {
    let env = env().await;
    let key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    // Good header, bad body fields: accepted.
    let ok = env
        .post(
            "/api/account/version/3/do/read?format=json",
            &[
                ("api_key", "00000000000000000000000000000000"),
                ("user_key", "bad"),
            ],
            &[("Authorization", &pardot_auth(&key, V3_USER_KEY))],
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    // Bad header, good body fields: refused.
    env.post(
        "/api/account/version/3/do/read?format=json",
        &[("api_key", &key), ("user_key", V3_USER_KEY)],
        &[(
            "Authorization",
            &pardot_auth("00000000000000000000000000000000", V3_USER_KEY),
        )],
    )
    .await
    .assert(401, JSON, &json_fail(1, "Invalid API key or user key"));
}

#[tokio::test]
async fn api_key_expires_after_60_minutes_on_the_mock_clock() {
    let env = env().await;
    let key = env.api_key(V4_EMAIL, V4_PASSWORD, V4_USER_KEY).await;
    let auth = pardot_auth(&key, V4_USER_KEY);
    env.clock.advance(Duration::from_secs(59 * 60 + 59));
    let ok = env
        .get(
            "/api/account/version/4/do/read",
            &[("Authorization", &auth)],
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    env.clock.advance(Duration::from_secs(1));
    env.get(
        "/api/account/version/4/do/read",
        &[("Authorization", &auth)],
    )
    .await
    .assert(401, XML, &xml_fail(1, "Invalid API key or user key"));
    // Logging in again gives a new key.
    let fresh = env.api_key(V4_EMAIL, V4_PASSWORD, V4_USER_KEY).await;
    assert_ne!(fresh, key);
}

#[tokio::test]
async fn expired_salesforce_token_is_184_inactive() {
    let env = env().await;
    let token = env.user_token();
    // Sessions of the default org last 2 hours.
    env.clock.advance(Duration::from_secs(2 * 60 * 60));
    let auth = format!("Bearer {token}");
    let message = INACTIVE_TOKEN;
    env.get("/api/account/version/4/do/read", &bearer_headers(&auth))
        .await
        .assert(401, XML, &xml_fail(184, message));
}

#[tokio::test]
async fn legacy_status_mode_sends_200_and_400_for_expired_tokens() {
    let mut config = config();
    config.pardot_status_mode = pardot_mock::config::PardotStatusMode::Legacy;
    let env = env_with(config).await;
    let token = env.user_token();
    let auth = format!("Bearer {token}");
    env.get(
        "/api/account/version/4/do/read?format=json",
        &bearer_headers("Bearer nope"),
    )
    .await
    .assert(
        200,
        JSON,
        &json_fail(184, "access_token is invalid, unknown, or malformed"),
    );
    env.get(
        "/api/prospect/version/4/do/read/id/999",
        &bearer_headers(&auth),
    )
    .await
    .assert(200, XML, &xml_fail(3, "Invalid prospect ID"));
    env.clock.advance(Duration::from_secs(2 * 60 * 60));
    env.get("/api/account/version/4/do/read", &bearer_headers(&auth))
        .await
        .assert(400, XML, &xml_fail(184, INACTIVE_TOKEN));
}

#[tokio::test]
async fn reset_and_expire_all_reach_the_pardot_state() {
    let env = env().await;
    let key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    let auth = pardot_auth(&key, V3_USER_KEY);
    // The "expire all tokens" control also ends legacy api_keys.
    env.mock.expire_all_tokens().unwrap();
    env.get(
        "/api/account/version/3/do/read",
        &[("Authorization", &auth)],
    )
    .await
    .assert(401, XML, &xml_fail(1, "Invalid API key or user key"));

    // Writes persist until POST /__mock/reset, which also unlocks accounts.
    env.bearer_expect(
        "/api/prospect/version/4/do/create/email/temp@example.com",
        200,
    )
    .await;
    let bad = [
        ("email", V3_EMAIL),
        ("password", "wrong"),
        ("user_key", V3_USER_KEY),
    ];
    for _ in 0..6 {
        env.post("/api/login/version/3", &bad, &[]).await;
    }
    let reset = env.post("/__mock/reset", &[], &[]).await;
    assert_eq!(reset.status, 204, "{reset:?}");
    env.bearer_get("/api/prospect/version/4/do/read/email/temp@example.com")
        .await
        .assert(400, XML, &xml_fail(4, "Invalid prospect email address"));
    env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
}

#[tokio::test]
async fn read_by_crm_fid_and_counters() {
    let env = env().await;
    env.bearer_get("/api/prospect/version/4/do/update/id/1003?salesforce_fid=00Q5g00000ABCDE")
        .await;
    let found = env
        .bearer_get("/api/prospect/version/4/do/read/fid/00Q5g00000ABCDE?format=json")
        .await;
    assert_eq!(found.json()["prospect"]["id"], 1003, "{found:?}");
    env.bearer_get("/api/prospect/version/4/do/read/fid/nope")
        .await
        .assert(400, XML, &xml_fail(77, "Invalid prospect fid"));
    // Failures are counted per route with their Pardot code.
    let counts = env.mock.counts();
    assert_eq!(counts.get(Route::PardotV4, Outcome::Pardot(77)), 1);
    assert_eq!(counts.get(Route::PardotV4, Outcome::Ok), 2);
}

/// What a widely used Python client sends: POST with every parameter (api_key, user_key,
/// format, criteria, fields) in a form body.
#[tokio::test]
async fn post_form_bodies_like_python_clients() {
    let env = env().await;
    let login = env
        .post(
            "/api/login/version/4",
            &[
                ("email", V4_EMAIL),
                ("password", V4_PASSWORD),
                ("user_key", V4_USER_KEY),
                ("format", "json"),
            ],
            &[],
        )
        .await;
    assert_eq!((login.status, login.content_type.as_str()), (200, JSON));
    let key = login.json()["api_key"].as_str().unwrap().to_owned();
    let creds = [
        ("api_key", key.as_str()),
        ("user_key", V4_USER_KEY),
        ("format", "json"),
    ];
    let mut form = creds.to_vec();
    form.extend([("first_name", "Form"), ("company", "Posted Inc")]);
    let created = env
        .post(
            "/api/prospect/version/4/do/create/email/form@example.com",
            &form,
            &[],
        )
        .await;
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(created.json()["prospect"]["company"], "Posted Inc");
    // A v4 account that allows duplicate emails: a second create works, and read by email
    // returns both (an array).
    env.post(
        "/api/prospect/version/4/do/create/email/form@example.com",
        &form,
        &[],
    )
    .await;
    let both = env
        .post(
            "/api/prospect/version/4/do/read/email/form@example.com",
            &creds,
            &[],
        )
        .await;
    assert_eq!(
        both.json()["prospect"].as_array().map(Vec::len),
        Some(2),
        "{both:?}"
    );
    let mut query = creds.to_vec();
    query.extend([
        ("id_greater_than", "1003"),
        ("sort_by", "id"),
        ("sort_order", "ascending"),
    ]);
    let found = env
        .post("/api/prospect/version/4/do/query", &query, &[])
        .await;
    let v = found.json();
    assert_eq!(v["result"]["total_results"], 2, "{found:?}");
    assert_eq!(v["result"]["prospect"][0]["email"], "form@example.com");
}

/// Update and upsert answer the same `<prospect>` envelope in XML as read does.
#[tokio::test]
async fn update_and_upsert_in_xml() {
    let env = env().await;
    let updated = env
        .bearer_ok(
            "/api/prospect/version/4/do/update/email/ada@example.com?job_title=Analyst",
            XML,
        )
        .await;
    let expected = format!("{XML_HEAD}{}</rsp>\n", ada_xml(1))
        .replace(
            "<job_title>Engineer</job_title>",
            "<job_title>Analyst</job_title>",
        )
        .replace(
            "<updated_at>2024-06-01 12:00:00</updated_at>",
            "<updated_at>2025-03-10 12:00:00</updated_at>",
        );
    assert_eq!(updated.body, expected);
    let upserted = env
        .bearer_ok(
            "/api/prospect/version/3/do/upsert/id/1001?job_title=Engineer",
            XML,
        )
        .await;
    assert_eq!(
        upserted.body,
        format!("{XML_HEAD}{}</rsp>\n", ada_xml(1)).replace(
            "<updated_at>2024-06-01 12:00:00</updated_at>",
            "<updated_at>2025-03-10 12:00:00</updated_at>"
        )
    );
}

/// An untouched default mock builds its Pardot state on the first Pardot request (building
/// it was a third of a start), stamped with the start time as if built at start.
#[tokio::test]
async fn a_default_mocks_account_is_created_at_its_start_though_built_later() {
    let env = env_of(pardot_mock::PardotMock::builder()).await;
    env.clock.advance(Duration::from_secs(3 * 3600));
    let answer = env
        .bearer_get("/api/account/version/4/do/read?format=json")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json()["account"]["created_at"],
        "2025-03-10 12:00:00",
        "the start time (start_time()), not the first request's"
    );
}
