//! Revoke, userinfo, identity URL, introspect, SOAP login; Host-header virtual hosts; chunked
//! bodies.

mod common;

use std::time::Duration;

use common::*;
use pardot_mock::fixtures::*;
use serde_json::json;

async fn get_bearer(url: &str, token: &str) -> (u16, String, String) {
    read_typed(http_get_bearer(url, token).await).await
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    read_typed(http_post_form(url, form).await).await
}

/// An answer read whole: status, content type (empty when none), body text.
async fn read_typed(r: reqwest::Response) -> (u16, String, String) {
    let (status, headers, body) = answer(r).await;
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, body)
}

#[tokio::test]
async fn userinfo_success_and_bad_token() {
    let (mock, _c) = mock().await;
    let t = integration_token(&mock);
    let url = format!("{}/services/oauth2/userinfo", mock.url());
    let (status, ct, body) = get_bearer(&url, &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "application/json;charset=UTF-8");
    let v = json_of(&body);
    assert_eq!(v["sub"], integration_identity_url(&mock.url()));
    assert_eq!(v["user_id"], INTEGRATION_USER_ID);
    assert_eq!(v["organization_id"], PRODUCTION_ORG_ID);
    assert_eq!(v["preferred_username"], INTEGRATION_USERNAME);

    let (status, ct, body) = get_bearer(&url, "00D5g00000AcmeP!garbage").await;
    assert_eq!((status, body.as_str()), (403, "Bad_OAuth_Token"));
    assert!(ct.starts_with("text/plain"));
}

#[tokio::test]
async fn identity_url_success_and_errors() {
    let (mock, _c) = mock().await;
    let t = integration_token(&mock);
    let id = integration_identity_url(&mock.url());
    let (status, _, body) = get_bearer(&id, &t).await;
    assert_eq!(status, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(v["id"], id);
    assert_eq!(v["username"], INTEGRATION_USERNAME);
    assert_eq!(v["asserted_user"], true);
    assert_eq!(v["organization_id"], PRODUCTION_ORG_ID);

    // oauth_token parameter works too.
    let r = http_get(format!("{id}?oauth_token={t}")).await;
    assert_eq!(r.status(), 200);

    let (s, _, b) = get_bearer(&id, "nope").await;
    assert_eq!((s, b.as_str()), (403, "Bad_OAuth_Token"));
    let wrong_org = format!("{}/id/{SANDBOX_ORG_ID}/{INTEGRATION_USER_ID}", mock.url());
    let (s, _, b) = get_bearer(&wrong_org, &t).await;
    assert_eq!((s, b.as_str()), (403, "Wrong_Org"));
    let bad_id = format!("{}/id/{PRODUCTION_ORG_ID}/005000000000000", mock.url());
    let (s, _, b) = get_bearer(&bad_id, &t).await;
    assert_eq!((s, b.as_str()), (404, "Bad_Id"));
    let inactive = format!("{}/id/{PRODUCTION_ORG_ID}/0055g00000InactAAB", mock.url());
    let (s, _, b) = get_bearer(&inactive, &t).await;
    assert_eq!((s, b.as_str()), (403, "Inactive"));
}

#[tokio::test]
async fn expired_session_is_refused_everywhere() {
    let (mock, clock) = mock().await;
    let t = integration_token(&mock);
    clock.advance(Duration::from_secs(2 * 3600));
    let (s, _, b) = get_bearer(&format!("{}/services/oauth2/userinfo", mock.url()), &t).await;
    assert_eq!((s, b.as_str()), (403, "Bad_OAuth_Token"));
    let (s, _, b) = post_form(
        &format!("{}/services/oauth2/revoke", mock.url()),
        &[("token", &t)],
    )
    .await;
    assert_error_body((s, &b), 400, "invalid_token", "Token was invalid");
}

#[tokio::test]
async fn revoke_access_token() {
    let (mock, _c) = mock().await;
    let t = integration_token(&mock);
    let url = format!("{}/services/oauth2/revoke", mock.url());
    let (s, _, b) = post_form(&url, &[("token", &t)]).await;
    assert_eq!((s, b.as_str()), (200, ""));
    assert!(mock.lookup_access_token(&t).is_none());
    let (s, ct, b) = post_form(&url, &[("token", &t)]).await;
    assert_eq!(s, 400);
    assert_eq!(ct, "application/json");
    assert_eq!(
        b,
        r#"{"error":"invalid_token","error_description":"Token was invalid"}"#
    );
}

#[tokio::test]
async fn revoke_refresh_token_by_get_kills_its_access_tokens() {
    let (mock, _c) = mock().await;
    let (_, _, body) = token(&mock.url(), &web_refresh_form()).await;
    let access = json_of(&body)["access_token"].as_str().unwrap().to_owned();
    let r = http_get(format!(
        "{}/services/oauth2/revoke?token={WEB_REFRESH_TOKEN}",
        mock.url()
    ))
    .await;
    assert_eq!(r.status(), 200);
    assert!(mock.lookup_access_token(&access).is_none());
    assert_token_error(&mock.url(), &web_refresh_form(), EXPIRED_TOKEN).await;
}

#[tokio::test]
async fn revoke_with_an_unknown_token_type_is_unsupported_token_type() {
    let (mock, _c) = mock().await;
    let (s, _, b) = post_form(
        &format!("{}/services/oauth2/revoke", mock.url()),
        &[("token", "x"), ("token_type_hint", "id_token")],
    )
    .await;
    assert_error_body(
        (s, &b),
        400,
        "unsupported_token_type",
        "Token type not supported",
    );
}

#[tokio::test]
async fn revoke_with_a_chunked_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mock, _c) = mock().await;
    let t = integration_token(&mock);
    let body = format!("token={t}");
    let (a, b) = body.split_at(body.len() / 2);
    // As a Node client sends it: chunked, no Content-Length.
    let request = format!(
        "POST /services/oauth2/revoke HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        mock.addr(),
        a.len(),
        b.len()
    );
    let mut stream = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(mock.lookup_access_token(&t).is_none());
    let entry = mock.journal().into_iter().last().unwrap();
    assert_eq!(entry.header("transfer-encoding"), Some("chunked"));
    assert_eq!(entry.param("token"), Some(t.as_str()));
}

#[tokio::test]
async fn introspect_access_refresh_and_unknown() {
    let (mock, _c) = mock().await;
    let url = format!("{}/services/oauth2/introspect", mock.url());
    let t = mock
        .issue_access_token(WEB_USERNAME, WEB_CONSUMER_KEY)
        .unwrap();
    let client = [
        ("client_id", WEB_CONSUMER_KEY),
        ("client_secret", WEB_CONSUMER_SECRET),
    ];
    let mut f = client.to_vec();
    f.push(("token", t.as_str()));
    let (s, _, b) = post_form(&url, &f).await;
    assert_eq!(s, 200, "{b}");
    let v = json_of(&b);
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "access_token");
    assert_eq!(v["username"], WEB_USERNAME);
    assert_eq!(v["client_id"], WEB_CONSUMER_KEY);
    assert_eq!(
        v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(),
        7200
    );

    let mut f = client.to_vec();
    f.push(("token", WEB_REFRESH_TOKEN));
    let v = json_of(&post_form(&url, &f).await.2);
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");

    let mut f = client.to_vec();
    f.push(("token", "nope"));
    let (s, _, b) = post_form(&url, &f).await;
    assert_eq!((s, b), (200, json!({"active": false}).to_string()));

    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", WEB_CONSUMER_KEY),
            ("client_secret", "x"),
            ("token", &t),
        ],
    )
    .await;
    assert_error_body((s, &b), 400, "invalid_client", "invalid client credentials");
    let (s, _, b) = post_form(&url, &[("client_id", "nope"), ("token", &t)]).await;
    assert_error_body(
        (s, &b),
        400,
        "invalid_client_id",
        "client identifier invalid",
    );
}

#[tokio::test]
async fn soap_login_points_to_oauth() {
    let (mock, _c) = mock().await;
    let r = http()
        .post(format!("{}/services/Soap/u/59.0", mock.url()))
        .header("content-type", "text/xml")
        .body("<soapenv:Envelope/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(body.contains("/services/oauth2/token"), "{body}");
}

#[tokio::test]
async fn real_host_names_in_the_host_header() {
    let (mock, clock) = mock().await;
    // test.salesforce.com -> the sandbox login host; identity URL on the real name.
    let pw = format!("{SANDBOX_PASSWORD}{SANDBOX_SECURITY_TOKEN}");
    let login = post(&mock.url(), "/services/oauth2/token")
        .header("host", "test.salesforce.com")
        .form(&password_form(SANDBOX_USERNAME, &pw));
    let (status, _, body) = answer(login.send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let v = json_of(&body);
    assert_eq!(
        v["id"],
        format!("https://test.salesforce.com/id/{SANDBOX_ORG_ID}/0055g00000SbxUsAAJ")
    );
    assert_eq!(v["instance_url"], "https://test.salesforce.com");

    // acme.my.salesforce.com accepts a JWT whose aud is that My Domain.
    let a = assertion(
        CONNECTED_APP_KEY_PEM,
        &claims(
            INTEGRATION_USERNAME,
            "https://acme.my.salesforce.com",
            pardot_auth_core::Clock::now(&clock),
        ),
    );
    let r = http()
        .post(format!("{}/services/oauth2/token", mock.url()))
        .header("host", "acme.my.salesforce.com")
        .form(&[("grant_type", JWT_GRANT), ("assertion", &a)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The Pardot demo host serves no login.
    let r = http()
        .post(format!("{}/services/oauth2/token", mock.url()))
        .header("host", "pi.demo.pardot.com")
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// The endpoints the front door answers itself (token, userinfo, revoke, introspect) leave
/// to the route table what it answers differently: `HEAD` without a body, 405 with `Allow`
/// for a method an endpoint does not serve, 404 for a path that is not exactly theirs; and
/// they refuse a host that is not a login host as the route table's handlers do.
#[tokio::test]
async fn login_endpoints_answer_every_method_and_host_as_the_route_table_does() {
    let (mock, _c) = mock().await;
    let base = mock.url();
    let client = http();
    let send = async |method: &str, path: &str, host: Option<&str>| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method, format!("{base}{path}"));
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (allow, length) = (header("allow"), header("content-length"));
        let status = response.status().as_u16();
        (status, allow, length, response.text().await.unwrap())
    };
    let some = |s: &str| Some(s.to_owned());

    let (status, allow, length, body) = send("HEAD", "/services/oauth2/userinfo", None).await;
    assert_eq!(
        (status, allow, length, body.as_str()),
        (403, None, some("15"), "")
    );
    let (status, allow, _, body) = send("DELETE", "/services/oauth2/userinfo", None).await;
    assert_eq!(
        (status, allow, body.as_str()),
        (405, some("GET,HEAD,POST"), "")
    );
    let (status, allow, _, _) = send("PATCH", "/services/oauth2/revoke", None).await;
    assert_eq!((status, allow), (405, some("GET,HEAD,POST")));
    let (status, allow, _, _) = send("GET", "/services/oauth2/introspect", None).await;
    assert_eq!((status, allow), (405, some("POST")));

    // The token endpoint takes every method and refuses all but POST itself.
    let (status, _, length, body) = send("HEAD", "/services/oauth2/token", None).await;
    assert_eq!((status, length, body.as_str()), (400, some("68"), ""));
    let (status, _, _, body) = send("PUT", "/services/oauth2/token", None).await;
    assert_eq!(status, 400);
    assert_eq!(json_of(&body)["error_description"], "must use HTTP POST");
    let (status, _, _, body) = send("POST", "/services/oauth2/token/", None).await;
    assert_eq!((status, body.as_str()), (404, ""));

    let (status, _, _, body) =
        send("GET", "/services/oauth2/userinfo", Some("pi.pardot.com")).await;
    assert_eq!((status, body.as_str()), (404, "not a login host"));
    let (status, _, _, body) = send("POST", "/sandbox/services/oauth2/token", None).await;
    assert_eq!(
        json_of(&body)["error"],
        "unsupported_grant_type",
        "{status} {body}"
    );
}
