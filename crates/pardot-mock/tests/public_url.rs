//! `public_url`: a mock bound on loopback but reached by another name writes that name into
//! every absolute URL it sends, and never its bind address.

mod common;

use common::*;
use pardot_mock::fixtures::*;
use pardot_mock::{MockError, PardotMock};
use serde_json::Value;

/// A name only the advertised URLs carry; nothing listens on it.
const PUBLIC: &str = "http://pardot-mock.test:18717";

async fn public_mock() -> PardotMock {
    PardotMock::builder()
        .public_url(format!("{PUBLIC}/"))
        .start()
        .await
        .unwrap()
}

/// A successful answer whose `body` names the public URL and not the address the request
/// went to; the body as JSON.
fn advertises_public(mock: &PardotMock, status: u16, body: &str) -> Value {
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(PUBLIC), "{body}");
    let bound = mock.addr().to_string();
    assert!(!body.contains(&bound), "bind address {bound} in {body}");
    assert!(!body.contains("127.0.0.1"), "{body}");
    json_of(body)
}

/// `v[field]` is a string starting with `prefix`.
fn assert_starts_with(v: &Value, field: &str, prefix: &str) {
    let text = v[field].as_str().unwrap_or_default();
    assert!(text.starts_with(prefix), "{field}: {v}");
}

async fn get_text(url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = http().get(url);
    if let Some(token) = bearer {
        request = request
            .bearer_auth(token)
            .header("Pardot-Business-Unit-Id", BUSINESS_UNIT_ID);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn token_identity_and_userinfo_name_the_public_url() {
    let mock = public_mock().await;
    assert_eq!(mock.advertised_url(), PUBLIC);
    let (status, _, body) = integration_login(&mock.url()).await;
    let v = advertises_public(&mock, status, &body);
    assert_eq!(v["instance_url"], PUBLIC);
    assert_eq!(v["id"], integration_identity_url(PUBLIC));
    let token = v["access_token"].as_str().unwrap();

    // The identity URL is fetched on the bound address; its body still names the public one.
    let identity = integration_identity_url(&mock.url());
    let (status, body) = get_text(&identity, Some(token)).await;
    advertises_public(&mock, status, &body);
    let userinfo = format!("{}/services/oauth2/userinfo", mock.url());
    let (status, body) = get_text(&userinfo, Some(token)).await;
    advertises_public(&mock, status, &body);
}

#[tokio::test]
async fn the_prefixed_hosts_compose_with_the_public_url() {
    let mock = public_mock().await;
    let password = format!("{SANDBOX_PASSWORD}{SANDBOX_SECURITY_TOKEN}");
    let (status, _, body) = token(
        &mock.sandbox_url(),
        &password_form(SANDBOX_USERNAME, &password),
    )
    .await;
    let v = advertises_public(&mock, status, &body);
    assert_eq!(v["instance_url"], PUBLIC);
    assert_starts_with(&v, "id", &format!("{PUBLIC}/sandbox/id/"));
}

#[tokio::test]
async fn discovery_device_flow_pages_and_next_page_links_name_the_public_url() {
    let mock = public_mock().await;

    let (status, body) = get_text(&mock.mci_discovery_url(MCI_REGION), None).await;
    let v = advertises_public(&mock, status, &body);
    assert_eq!(v["issuer"], format!("{PUBLIC}/{MCI_REGION}"));

    let started = start_device(&mock.url()).await;
    assert_eq!(
        started["verification_uri"],
        format!("{PUBLIC}/setup/connect")
    );

    // The login page's form posts to a path, so the browser stays on the name it used.
    let authorize = format!(
        "{}/my/{PRODUCTION_MY_DOMAIN}/services/oauth2/authorize?response_type=code&client_id={WEB_CONSUMER_KEY}&redirect_uri={WEB_CALLBACK_URL}",
        mock.url()
    );
    let (status, page) = get_text(&authorize, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!(
            "action=\"/my/{PRODUCTION_MY_DOMAIN}/services/oauth2/authorize\""
        )),
        "{page}"
    );
    assert!(!page.contains("127.0.0.1"), "{page}");

    let bearer = mock
        .issue_access_token(INTEGRATION_USERNAME, JWT_CONSUMER_KEY)
        .unwrap();
    let list = format!("{}/api/v5/objects/prospects?fields=id&limit=2", mock.url());
    let (status, body) = get_text(&list, Some(&bearer)).await;
    let v = advertises_public(&mock, status, &body);
    let next_page = format!("{PUBLIC}/api/v5/objects/prospects?nextPageToken=");
    assert_starts_with(&v, "nextPageUrl", &next_page);
}

#[tokio::test]
async fn a_public_url_with_a_path_is_refused_at_start() {
    let err = PardotMock::builder()
        .public_url("http://pardot-mock.test/base")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, MockError::Config(_)), "{err}");
    assert!(err.to_string().contains("public_url"), "{err}");
}
