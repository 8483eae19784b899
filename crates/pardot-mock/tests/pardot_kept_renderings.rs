//! The list pages keep each prospect's rendering for the next page that shows it: every
//! write path (v3/v4 actions, v5 writes and upserts, custom fields, delete and undelete,
//! reset) must show on the very next page, in v4 JSON, v4 XML and v5.

mod pardot_support;

use pardot_support::*;

const V4_JSON: &str =
    "/api/prospect/version/4/do/query?sort_by=id&sort_order=ascending&format=json";
const V4_XML: &str = "/api/prospect/version/4/do/query?sort_by=id&sort_order=ascending";
const V5: &str =
    "/api/v5/objects/prospects?fields=id,email,company,isDeleted,assignedUserId&deleted=all";

/// The three pages, each read twice: the second read is served from what the first kept, and
/// must be the same bytes.
async fn pages(env: &Env) -> [String; 3] {
    let mut out: [String; 3] = Default::default();
    for (i, path) in [V4_JSON, V4_XML, V5].into_iter().enumerate() {
        let first = env.bearer_get(path).await;
        assert_eq!(first.status, 200, "{path}: {first:?}");
        let again = env.bearer_get(path).await;
        assert_eq!(first.body, again.body, "{path} read twice");
        out[i] = first.body;
    }
    out
}

/// A write through one of the API's paths.
enum Write {
    /// A v3/v4 form POST.
    V4(&'static str, &'static [(&'static str, &'static str)]),
    /// A v5 call with a JSON body.
    V5(&'static str, &'static str, &'static str),
}

impl Write {
    /// Sends it as the integration user; its status.
    async fn send(&self, env: &Env) -> u16 {
        let auth = format!("Bearer {}", env.user_token());
        let headers = [
            ("Authorization", auth.as_str()),
            ("Pardot-Business-Unit-Id", BU),
        ];
        let answer = match self {
            Self::V4(path, form) => env.post(path, form, &headers).await,
            Self::V5(method, path, body) => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut request = env
                    .http
                    .request(method, format!("{}{path}", env.mock.url()))
                    .header("Content-Type", "application/json")
                    .body(*body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                Answer::read(request.send().await.expect("request sent")).await
            }
        };
        answer.status
    }
}

/// A write, the status it answers, and what each page (v4 JSON, v4 XML, v5) must then
/// contain and lack (empty: nothing).
type Step = (
    &'static str,
    Write,
    u16,
    [&'static str; 3],
    [&'static str; 3],
);

const STEPS: &[Step] = &[
    (
        "v4 update",
        Write::V4(
            "/api/prospect/version/4/do/update/id/1001?format=json",
            &[("company", "Four Ltd")],
        ),
        200,
        [
            r#""company":"Four Ltd""#,
            "<company>Four Ltd</company>",
            r#""company":"Four Ltd""#,
        ],
        ["Analytical Engines"; 3],
    ),
    (
        "v4 upsert",
        Write::V4(
            "/api/prospect/version/4/do/upsert/email/ada@example.com?format=json",
            &[("company", "Upserted Ltd")],
        ),
        200,
        [
            r#""company":"Upserted Ltd""#,
            "<company>Upserted Ltd</company>",
            r#""company":"Upserted Ltd""#,
        ],
        ["Four Ltd"; 3],
    ),
    (
        "v4 assign",
        Write::V4(
            "/api/prospect/version/4/do/assign/id/1001?format=json",
            &[("user_id", "3001")],
        ),
        200,
        [
            r#""assigned_to":{"user":{"id":3001"#,
            "<assigned_to>",
            r#""assignedUserId":3001"#,
        ],
        ["", "", ""],
    ),
    (
        "v4 unassign",
        Write::V4(
            "/api/prospect/version/4/do/unassign/id/1001?format=json",
            &[],
        ),
        200,
        ["\"company\"", "<company>", "\"company\""],
        ["assigned_to", "assigned_to", r#""assignedUserId":3001"#],
    ),
    (
        "v5 update",
        Write::V5(
            "PATCH",
            "/api/v5/objects/prospects/1001?fields=id",
            r#"{"company":"Patched Ltd"}"#,
        ),
        200,
        [
            r#""company":"Patched Ltd""#,
            "<company>Patched Ltd</company>",
            r#""company":"Patched Ltd""#,
        ],
        ["Upserted Ltd"; 3],
    ),
    (
        "v5 upsert",
        Write::V5(
            "POST",
            "/api/v5/objects/prospects/do/upsertLatestByEmail?fields=id",
            r#"{"matchEmail":"ada@example.com","prospect":{"company":"Latest Ltd"}}"#,
        ),
        200,
        [
            r#""company":"Latest Ltd""#,
            "<company>Latest Ltd</company>",
            r#""company":"Latest Ltd""#,
        ],
        ["Patched Ltd"; 3],
    ),
    // Out to the recycle bin and back, by v5 and by v4.
    (
        "v5 delete",
        Write::V5("DELETE", "/api/v5/objects/prospects/1001", ""),
        204,
        [
            "\"company\"",
            "<company>",
            r#"{"id":1001,"email":"ada@example.com","company":"Latest Ltd","isDeleted":true"#,
        ],
        ["Latest Ltd", "Latest Ltd", ""],
    ),
    (
        "v5 undelete",
        Write::V5(
            "POST",
            "/api/v5/objects/prospects/1001/do/undelete?fields=id",
            "",
        ),
        200,
        [
            "Latest Ltd",
            "Latest Ltd",
            r#""company":"Latest Ltd","isDeleted":false"#,
        ],
        ["", "", ""],
    ),
    (
        "v4 delete",
        Write::V4("/api/prospect/version/4/do/delete/id/1001", &[]),
        204,
        [
            "\"company\"",
            "<company>",
            r#""company":"Latest Ltd","isDeleted":true"#,
        ],
        ["Latest Ltd", "Latest Ltd", ""],
    ),
    // A new custom field shows (empty) in every v4 record; gone again when deleted.
    (
        "custom field created",
        Write::V5(
            "POST",
            "/api/v5/objects/custom-fields?fields=id",
            r#"{"name":"Shoe size","fieldId":"shoe_size","type":"Number"}"#,
        ),
        201,
        [r#""shoe_size":null"#, "<shoe_size/>", "\"company\""],
        ["", "", ""],
    ),
    (
        "custom field set",
        Write::V4(
            "/api/prospect/version/4/do/update/id/1002?format=json",
            &[("shoe_size", "42")],
        ),
        200,
        [
            r#""shoe_size":42"#,
            "<shoe_size>42</shoe_size>",
            "\"company\"",
        ],
        ["", "", ""],
    ),
    (
        "custom field deleted",
        // The business unit's first custom field.
        Write::V5("DELETE", "/api/v5/objects/custom-fields/6001", ""),
        204,
        ["\"company\"", "<company>", "\"company\""],
        ["shoe_size", "shoe_size", ""],
    ),
];

#[tokio::test]
async fn every_write_shows_on_the_next_page() {
    let env = env().await;
    let initial = pages(&env).await;
    for page in &initial {
        assert!(page.contains("Analytical Engines"), "{page}");
    }
    for (step, write, status, contains, lacks) in STEPS {
        assert_eq!(write.send(&env).await, *status, "{step}");
        let pages = pages(&env).await;
        for (page, (want, unwanted)) in pages.iter().zip(contains.iter().zip(lacks)) {
            assert!(page.contains(want), "{step}: {want:?} missing in {page}");
            assert!(
                unwanted.is_empty() || !page.contains(unwanted),
                "{step}: {unwanted:?} still in {page}"
            );
        }
    }
    // A reset brings back the configured prospects, and their pages byte for byte.
    env.mock.reset();
    assert_eq!(pages(&env).await, initial, "after a reset");
}
