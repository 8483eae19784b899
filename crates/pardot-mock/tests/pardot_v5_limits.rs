//! The v5 prospects API of the mock, and the per-business-unit limits (concurrency, code 66;
//! daily budget, code 122) in v3/v4 and v5.

mod pardot_support;

use std::sync::Arc;
use std::time::Duration;

use pardot_auth_core::BusinessUnitId;
use pardot_support::*;

#[tokio::test]
async fn v5_query_pages_with_next_page_token() {
    let env = env().await;
    let first = env
        .bearer_ok(
            "/api/v5/objects/prospects?fields=id,email,firstName,score,createdAt&limit=2",
            JSON,
        )
        .await;
    let v = first.json();
    let token = v["nextPageToken"].as_str().expect("a next page").to_owned();
    let base = env.mock.url();
    assert_eq!(
        first.body,
        format!(
            r#"{{"values":[{{"id":1001,"email":"ada@example.com","firstName":"Ada","score":120,"createdAt":"2024-01-15T09:30:00+00:00"}},{{"id":1002,"email":"grace@example.com","firstName":"Grace","score":95,"createdAt":"2024-02-20T14:00:00+00:00"}}],"nextPageToken":"{token}","nextPageUrl":"{base}/api/v5/objects/prospects?nextPageToken={token}"}}"#
        )
    );
    // The next page URL alone carries the query.
    let next_url = v["nextPageUrl"]
        .as_str()
        .unwrap()
        .strip_prefix(base.as_str())
        .unwrap()
        .to_owned();
    env.bearer_get(&next_url).await.assert(
        200,
        JSON,
        r#"{"values":[{"id":1003,"email":"alan@example.com","firstName":"Alan","score":80,"createdAt":"2024-03-10T10:00:00+00:00"}],"nextPageToken":null,"nextPageUrl":null}"#,
    );
    // Ordering, filters and sub-object fields.
    env.bearer_get("/api/v5/objects/prospects?fields=id,campaign.name,isDeleted&orderBy=createdAt%20DESC&idLessThan=1003")
        .await
        .assert(
            200,
            JSON,
            r#"{"values":[{"id":1002,"isDeleted":false,"campaign":null},{"id":1001,"isDeleted":false,"campaign":null}],"nextPageToken":null,"nextPageUrl":null}"#,
        );
}

#[tokio::test]
async fn v5_read_and_validation_errors() {
    let env = env().await;
    env.bearer_get("/api/v5/objects/prospects/1002?fields=id,lastName,grade,updatedAt")
        .await
        .assert(
            200,
            JSON,
            r#"{"id":1002,"lastName":"Hopper","grade":"B+","updatedAt":"2024-07-04T08:15:00+00:00"}"#,
        );
    for (path, status, code, message) in [
        (
            "/api/v5/objects/prospects",
            400,
            36,
            "One or more required parameter values are missing: fields",
        ),
        (
            "/api/v5/objects/prospects/1002",
            400,
            36,
            "One or more required parameter values are missing: fields",
        ),
        (
            "/api/v5/objects/prospects?fields=id,first_name",
            400,
            130,
            "Invalid field: first_name",
        ),
        (
            "/api/v5/objects/prospects?fields=id&limit=1001",
            400,
            23,
            "Invalid value specified for limit (max 1000)",
        ),
        (
            "/api/v5/objects/prospects?fields=id&orderBy=email",
            400,
            19,
            "Invalid value specified for orderBy: email",
        ),
        (
            "/api/v5/objects/prospects?nextPageToken=garbage!",
            400,
            51,
            "Invalid value specified for nextPageToken",
        ),
        (
            "/api/v5/objects/prospects/999?fields=id",
            404,
            3,
            "Invalid prospect ID",
        ),
    ] {
        let answer = env.bearer_get(path).await;
        assert_eq!(
            (
                answer.status,
                answer.content_type.as_str(),
                answer.body.as_str()
            ),
            (status, JSON, v5_fail(code, message).as_str()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn v5_auth_errors() {
    let env = env().await;
    let path = "/api/v5/objects/prospects?fields=id";
    env.get(path, &[])
        .await
        .assert(401, JSON, &v5_fail(49, "Access Denied"));
    let key = env.api_key(V4_EMAIL, V4_PASSWORD, V4_USER_KEY).await;
    env.get(path, &[("Authorization", &pardot_auth(&key, V4_USER_KEY))])
        .await
        .assert(401, JSON, &v5_fail(49, "Access Denied"));
    env.get(path, &bearer_headers("Bearer nope")).await.assert(
        401,
        JSON,
        &v5_fail(184, "access_token is invalid, unknown, or malformed"),
    );
    let token = format!("Bearer {}", env.user_token());
    env.get(
        path,
        &[
            ("Authorization", &token),
            ("Pardot-Business-Unit-Id", OFF_BU),
        ],
    )
    .await
    .assert(
        403,
        JSON,
        &v5_fail(
            201,
            "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.",
        ),
    );
    let sandbox = format!("Bearer {}", env.token(SANDBOX_USER, JWT_APP));
    env.get(path, &bearer_headers(&sandbox))
        .await
        .assert(
            401,
            JSON,
            &v5_fail(49, "Access Denied: User associated with access token is not valid for the Pardot Business Unit ID specified in Pardot-Business-Unit-Id header"),
        );
    // The sandbox user on the demo host is fine.
    let demo = env
        .get(
            "/demo/api/v5/objects/prospects?fields=id,email",
            &[
                ("Authorization", &sandbox),
                ("Pardot-Business-Unit-Id", DEMO_BU),
            ],
        )
        .await;
    demo.assert(
        200,
        JSON,
        r#"{"values":[{"id":2001,"email":"demo@example.com"}],"nextPageToken":null,"nextPageUrl":null}"#,
    );
    env.clock.advance(Duration::from_secs(2 * 60 * 60));
    env.get(path, &bearer_headers(&token))
        .await
        .assert(401, JSON, &v5_fail(184, INACTIVE_TOKEN));
}

const LIMIT_66: &str =
    "You have exceeded your concurrent request limit.  Please wait, before trying again";

/// Five requests held in flight (the mock's gate parks them after they took their slot), so
/// the sixth is refused with 66 in every format and API; releasing them frees the slots.
#[tokio::test]
async fn concurrency_limit_under_a_parallel_burst() {
    let env = Arc::new(env().await);
    let api = env.mock.state().pardot();
    let bu: BusinessUnitId = BU.parse().unwrap();
    api.hold_requests();
    let burst: Vec<_> = (0..5)
        .map(|i| {
            let env = Arc::clone(&env);
            tokio::spawn(async move {
                if i % 2 == 0 {
                    env.bearer_get("/api/account/version/4/do/read?format=json")
                        .await
                } else {
                    env.bearer_get("/api/v5/objects/prospects?fields=id").await
                }
            })
        })
        .collect();
    api.wait_for_held_requests(5).await;
    assert_eq!(api.in_flight(&bu), Some(5));

    env.bearer_get("/api/account/version/4/do/read")
        .await
        .assert(400, XML, &xml_fail(66, LIMIT_66));
    env.bearer_get("/api/prospect/version/4/do/query?format=json")
        .await
        .assert(400, JSON, &json_fail(66, LIMIT_66));
    env.bearer_get("/api/v5/objects/prospects?fields=id")
        .await
        .assert(429, JSON, &v5_fail(66, LIMIT_66));
    // Another business unit has its own slots: its request gets one (and is held too).
    let sandbox = format!("Bearer {}", env.token(SANDBOX_USER, JWT_APP));
    let demo = tokio::spawn({
        let env = Arc::clone(&env);
        async move {
            env.get(
                "/demo/api/account/version/4/do/read?format=json",
                &[
                    ("Authorization", &sandbox),
                    ("Pardot-Business-Unit-Id", DEMO_BU),
                ],
            )
            .await
        }
    });
    api.wait_for_held_requests(6).await;
    assert_eq!(api.in_flight(&DEMO_BU.parse().unwrap()), Some(1));
    api.release_requests();
    assert_eq!(demo.await.unwrap().status, 200);
    for task in burst {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    assert_eq!(api.in_flight(&bu), Some(0));
    // Error paths give their slot back too: fill the limit with failing requests.
    for _ in 0..10 {
        env.bearer_get("/api/prospect/version/4/do/read/id/999")
            .await;
    }
    assert_eq!(api.in_flight(&bu), Some(0));
}

#[tokio::test]
async fn daily_budget_resets_at_midnight_on_the_mock_clock() {
    let mut config = config();
    config.business_units[0].daily_budget = 3;
    let env = env_with(config).await;
    let api = env.mock.state().pardot();
    let bu: BusinessUnitId = BU.parse().unwrap();
    let key = env.api_key(V3_EMAIL, V3_PASSWORD, V3_USER_KEY).await;
    let legacy = pardot_auth(&key, V3_USER_KEY);
    for _ in 0..3 {
        let ok = env.bearer_get("/api/account/version/4/do/read").await;
        assert_eq!(ok.status, 200);
    }
    assert_eq!(api.daily_used(&bu, start_time()), Some(3));
    env.bearer_get("/api/account/version/4/do/read")
        .await
        .assert(400, XML, &xml_fail(122, "Daily API rate limit met"));
    env.get(
        "/api/account/version/3/do/read?format=json",
        &[("Authorization", &legacy)],
    )
    .await
    .assert(400, JSON, &json_fail(122, "Daily API rate limit met"));
    env.bearer_get("/api/v5/objects/prospects?fields=id")
        .await
        .assert(429, JSON, &v5_fail(122, "Daily API rate limit met"));
    // Refused requests are not counted.
    assert_eq!(api.daily_used(&bu, start_time()), Some(3));
    // 12:00 -> 23:59:59 still the same day; one second later a new day.
    env.clock.advance(Duration::from_secs(12 * 3600 - 1));
    assert_eq!(
        env.bearer_get("/api/account/version/4/do/read")
            .await
            .status,
        400
    );
    env.clock.advance(Duration::from_secs(1));
    env.bearer_expect("/api/account/version/4/do/read?format=json", 200)
        .await;
}

/// The same hooks over HTTP (`/__mock/pardot`, `/hold`, `/release`) for tests in any language.
#[tokio::test]
async fn admin_routes_hold_and_report() {
    let env = Arc::new(env().await);
    let hold = env.post("/__mock/pardot/hold", &[], &[]).await;
    assert_eq!(hold.status, 204, "{hold:?}");
    let burst: Vec<_> = (0..5)
        .map(|_| {
            let env = Arc::clone(&env);
            tokio::spawn(async move { env.bearer_get("/api/account/version/4/do/read").await })
        })
        .collect();
    env.mock.state().pardot().wait_for_held_requests(5).await;
    let status = env.get("/__mock/pardot", &[]).await;
    assert_eq!((status.status, status.content_type.as_str()), (200, JSON));
    let v = status.json();
    assert_eq!(v["held"], 5);
    assert_eq!(
        v["business_units"][0],
        serde_json::json!({
            "id": BU, "host": "production", "active": true, "concurrency_limit": 5,
            "in_flight": 5, "daily_budget": 25000, "daily_used": 5, "prospects": 3
        })
    );
    assert_eq!(v["business_units"][1]["host"], "demo");
    env.bearer_get("/api/account/version/4/do/read")
        .await
        .assert(400, XML, &xml_fail(66, LIMIT_66));
    let release = env.post("/__mock/pardot/release", &[], &[]).await;
    assert_eq!(release.status, 204);
    for task in burst {
        assert_eq!(task.await.unwrap().status, 200);
    }
    assert_eq!(env.get("/__mock/pardot", &[]).await.json()["held"], 0);
}

#[tokio::test]
async fn pardot_admin_routes_follow_the_admin_switch() {
    let mut config = config();
    config.admin_routes = false;
    let env = env_with(config).await;
    assert_eq!(env.get("/__mock/pardot", &[]).await.status, 404);
    assert_eq!(env.post("/__mock/pardot/hold", &[], &[]).await.status, 404);
    // The API itself is unaffected (nothing is held).
    assert_eq!(
        env.bearer_get("/api/account/version/4/do/read")
            .await
            .status,
        200
    );
}
