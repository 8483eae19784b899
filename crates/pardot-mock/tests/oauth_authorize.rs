//! The web server flow over plain HTTP: authorize page, login, consent, redirect, code
//! exchange (PKCE, reuse, expiry), refresh after a code, runtime callback registration.

mod common;
mod web_support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use pardot_mock::sign_in::{Callback, Consent, sign_in};
use pardot_mock::{Outcome, PardotMock, Route, fixtures};
use serde_json::json;
use sha2::Sha256;
use web_support::{
    Page, User, WEB_USER, authorize_url, browser, get, pkce, query_map, split_location,
};

const CALLBACK: &str = fixtures::WEB_CALLBACK_URL;
const LOGIN_ERROR: &str = "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";

/// A user who has not approved the web app yet: the consent page comes after the login.
const UNAPPROVED_USER: User<'static> =
    (fixtures::UNAPPROVED_USERNAME, fixtures::UNAPPROVED_PASSWORD);
/// The integration user, pre-authorized for the admin-approved (JWT) app.
const INTEGRATION_USER: User<'static> = (
    fixtures::INTEGRATION_USERNAME,
    fixtures::INTEGRATION_PASSWORD,
);
/// The refusal of a code that is spent, expired, revoked or from another host.
const EXPIRED_CODE: OAuthErr = ("invalid_grant", "expired authorization code");
/// The callback redirect (state `a`) of a user the admin-approved app does not list.
const INVALID_APP_ACCESS_REDIRECT: &str = "error=invalid_app_access&error_description=user+is+not+admin+approved+to+access+this+app&state=a";

/// Authorize parameters of the admin-approved (JWT) app, state `a`.
const JWT_APP_PARAMS: [(&str, &str); 4] = [
    ("response_type", "code"),
    ("client_id", fixtures::JWT_CONSUMER_KEY),
    ("redirect_uri", CALLBACK),
    ("state", "a"),
];

/// Asserts `n` whole web flows: `n` login pages, `n` codes, `n` code exchanges.
#[track_caller]
fn assert_web_flows(mock: &PardotMock, n: u64) {
    assert_counts(
        mock,
        &[
            (Route::OAuthAuthorize, Outcome::LoginPage, n),
            (Route::OAuthAuthorize, Outcome::Ok, n),
            (Route::OAuthToken, Outcome::Ok, n),
        ],
    );
}

/// Authorize parameters of the app `client_id` with the PKCE `challenge`.
fn pkce_params<'a>(client_id: &'a str, challenge: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("code_challenge", challenge),
    ]
}

fn web_params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("redirect_uri", CALLBACK),
    ];
    p.extend_from_slice(extra);
    p
}

/// Opens the authorize URL and logs in; returns the page after the login.
async fn login(mock: &PardotMock, params: &[(&str, &str)], (username, password): User<'_>) -> Page {
    let client = browser();
    let page = get(&client, &authorize_url(&mock.url(), params), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_html();
    page.form()
        .log_in(&client, &mock.url(), (username, password))
        .await
}

/// Exchanges the web app's `code` with its PKCE `verifier` on the mock's main host.
async fn redeem(mock: &PardotMock, code: &str, verifier: &str) -> TokenAnswer {
    exchange(&mock.url(), code, &[("code_verifier", verifier)]).await
}

/// [`redeem`]s a code that must be accepted; the answer's body.
async fn redeemed(mock: &PardotMock, code: &str, verifier: &str) -> String {
    let (status, _, body) = redeem(mock, code, verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Asserts the refusal of a spent, expired, revoked or foreign code.
#[track_caller]
fn assert_code_expired(answer: &TokenAnswer) {
    assert_oauth_error(answer, EXPIRED_CODE.0, EXPIRED_CODE.1);
}

/// The mock's journal as `GET /__mock/journal` shows it (secrets masked).
async fn journal_text(mock: &PardotMock) -> String {
    http_get(format!("{}/__mock/journal", mock.url()))
        .await
        .text()
        .await
        .unwrap()
}

async fn exchange(base: &str, code: &str, extra: &[(&str, &str)]) -> TokenAnswer {
    let mut form = with_fields(&code_form(code, ""), &[("code_verifier", None)]);
    form.extend_from_slice(extra);
    token(base, &form).await
}

/// The web app's code exchange with its secret, the fixture callback and `verifier`.
fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("client_secret", fixtures::WEB_CONSUMER_SECRET),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ]
}

/// Signs in through the mock's `sign_in` (allowing on a consent page) and returns the
/// redirect to the callback, for tests of what comes after the pages.
async fn signed_in(
    base: &str,
    params: &[(&str, &str)],
    (username, password): User<'_>,
) -> Callback {
    sign_in(
        &authorize_url(base, params),
        username,
        password,
        Consent::Allow,
    )
    .await
    .unwrap()
}

/// The code [`signed_in`] brings back for the web user.
async fn web_user_code(base: &str, params: &[(&str, &str)]) -> String {
    signed_in(base, params, WEB_USER)
        .await
        .code()
        .expect("a code")
}

/// A code for the web user (approved for the web app) with a PKCE challenge.
async fn web_code(mock: &PardotMock, scope: Option<&str>) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut extra = vec![("code_challenge", challenge.as_str())];
    if let Some(s) = scope {
        extra.push(("scope", s));
    }
    let code = web_user_code(&mock.url(), &web_params(&extra)).await;
    (code, verifier)
}

#[tokio::test]
async fn success_with_pkce_and_state() {
    let (mock, _clock) = mock().await;
    let (verifier, challenge) = pkce();
    let state = "st@te/ü &x=1+2";
    let client = browser();
    let url = authorize_url(
        &mock.url(),
        &web_params(&[
            ("state", state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", fixtures::WEB_USERNAME),
        ]),
    );
    let page = get(&client, &url, None).await;
    assert_eq!(page.status, 200);
    page.assert_html();
    assert!(page.body.contains("<title>Login | Salesforce</title>"));
    assert!(
        page.body
            .contains("<label for=\"username\">Username</label>")
    );
    assert!(
        page.body
            .contains("<label for=\"password\">Password</label>")
    );
    let form = page.form();
    assert_eq!(form.action, "/services/oauth2/authorize");
    assert_eq!(form.labels, ["username", "password"]);
    assert_eq!(form.field("username"), Some(fixtures::WEB_USERNAME)); // login_hint
    assert_eq!(form.field("password"), Some(""));
    assert_eq!(form.field("step"), Some("login"));
    assert_eq!(form.field("txn").map(str::len), Some(32));
    assert_eq!(form.buttons, [("".into(), "".into(), "Login".into())]);

    let after = form
        .set("password", fixtures::WEB_PASSWORD)
        .submit(&client, &mock.url(), Some("Login"), None)
        .await;
    assert_eq!(after.status, 302, "{}", after.body);
    assert_eq!(after.headers["cache-control"], "no-store");
    let (target, pairs) = split_location(after.location());
    assert_eq!(target, CALLBACK);
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].0, "code");
    let code = &pairs[0].1;
    assert!(
        code.starts_with("aPrx") && code.ends_with("==") && code.len() == 78,
        "{code}"
    );
    assert_eq!(pairs[1], ("state".to_owned(), state.to_owned()));

    let (status, headers, body) = redeem(&mock, code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
    let v = json_of(&body);
    assert_eq!(sorted_keys(&v), TOKEN_FIELDS_WITH_REFRESH);
    assert!(
        v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("00D5g00000AcmeP!")
    );
    assert!(v["refresh_token"].as_str().unwrap().starts_with("5Aep861"));
    assert_eq!(
        v["scope"],
        "api pardot_api refresh_token offline_access web openid id"
    );
    assert_eq!(v["instance_url"], mock.url());
    assert_eq!(
        v["id"],
        format!(
            "{}/id/{}/0055g00000WebUsAAJ",
            mock.url(),
            fixtures::PRODUCTION_ORG_ID
        )
    );
    assert_eq!(v["token_type"], "Bearer");
    let issued_at = v["issued_at"].as_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(fixtures::WEB_CONSUMER_SECRET.as_bytes()).unwrap();
    mac.update(v["id"].as_str().unwrap().as_bytes());
    mac.update(issued_at.as_bytes());
    assert_eq!(v["signature"], STANDARD.encode(mac.finalize().into_bytes()));
    let info = mock
        .lookup_access_token(v["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info.username, fixtures::WEB_USERNAME);
    assert_eq!(
        info.consumer_key.as_deref(),
        Some(fixtures::WEB_CONSUMER_KEY)
    );

    assert_web_flows(&mock, 1);
}

#[tokio::test]
async fn wrong_password_shows_the_page_again() {
    let (mock, _clock) = mock().await;
    let client = browser();
    let page = get(
        &client,
        &authorize_url(&mock.url(), &web_params(&[("state", "s1")])),
        None,
    )
    .await;
    let form = page.form();
    let txn = form.field("txn").unwrap().to_owned();
    let again = form
        .log_in(
            &client,
            &mock.url(),
            (fixtures::WEB_USERNAME, "wrong-password"),
        )
        .await;
    assert_eq!(again.status, 200);
    again.assert_html();
    assert_eq!(again.text_of("error").as_deref(), Some(LOGIN_ERROR));
    assert!(again.body.contains("role=\"alert\""));
    let form2 = again.form();
    assert_eq!(form2.field("username"), Some(fixtures::WEB_USERNAME));
    assert_eq!(form2.field("password"), Some(""));
    assert_eq!(form2.field("txn"), Some(txn.as_str()));
    // The security token is for API logins; the page wants the bare password.
    let with_token = form2
        .log_in(
            &client,
            &mock.url(),
            (
                fixtures::INTEGRATION_USERNAME,
                &common::integration_password(),
            ),
        )
        .await;
    assert_eq!(with_token.text_of("error").as_deref(), Some(LOGIN_ERROR));
    // Unknown user: the same message.
    let unknown = form2
        .log_in(&client, &mock.url(), ("nobody@acme.example", "x"))
        .await;
    assert_eq!(unknown.text_of("error").as_deref(), Some(LOGIN_ERROR));
    let ok = form2
        .set("password", fixtures::WEB_PASSWORD)
        .submit(&client, &mock.url(), Some("Login"), None)
        .await;
    assert_eq!(ok.status, 302);
    assert_eq!(query_map(ok.location())["state"], "s1");
    assert_counts(&mock, &[(Route::OAuthAuthorize, Outcome::LoginFailed, 3)]);

    // A transaction id the mock does not know: an error page, never a redirect.
    let stale = page
        .form()
        .set("txn", "not-a-transaction")
        .log_in(&client, &mock.url(), WEB_USER)
        .await;
    assert_eq!(stale.status, 400);
    assert!(stale.headers.get("location").is_none());
    assert_eq!(
        stale.text_of("message").as_deref(),
        Some(
            "Your login page has expired or is unknown. Start the login again from your application."
        )
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_allow_remembers_approval() {
    let (mock, _clock) = mock().await;
    let client = browser();
    let params = web_params(&[("state", "xyz")]);
    let consent = login(&mock, &params, UNAPPROVED_USER).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    consent.assert_html();
    assert!(
        consent
            .body
            .contains("<title>Allow Access | Salesforce</title>")
    );
    assert!(consent.body.contains("<li><code>pardot_api</code></li>"));
    let form = consent.form();
    assert_eq!(form.field("step"), Some("consent"));
    assert_eq!(
        form.buttons,
        [
            ("decision".into(), "allow".into(), "oaapprove".into()),
            ("decision".into(), "deny".into(), "oadeny".into())
        ]
    );
    let denied = form
        .submit(&client, &mock.url(), Some("oadeny"), None)
        .await;
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.location(),
        format!(
            "{CALLBACK}?error=access_denied&error_description=end-user+denied+authorization&state=xyz"
        )
    );
    // The transaction is over: posting the same form again is refused.
    let replay = form
        .submit(&client, &mock.url(), Some("oaapprove"), None)
        .await;
    assert_eq!(replay.status, 400);

    // Allow this time: a code, and the approval is remembered (no consent page next time).
    let consent = login(&mock, &params, UNAPPROVED_USER).await;
    let allowed = consent
        .form()
        .submit(&client, &mock.url(), Some("oaapprove"), None)
        .await;
    assert_eq!(allowed.status, 302);
    let q = query_map(allowed.location());
    assert_eq!(q["state"], "xyz");
    let (status, _, body) = exchange(&mock.url(), &q["code"], &[]).await;
    assert_eq!(status, 200, "{body}");
    let direct = login(&mock, &params, UNAPPROVED_USER).await;
    assert_eq!(direct.status, 302);
    assert!(
        direct
            .location()
            .starts_with(&format!("{CALLBACK}?code=aPrx"))
    );
    assert_counts(&mock, &[(Route::OAuthAuthorize, Outcome::AccessDenied, 1)]);
}

#[tokio::test]
async fn prompt_values_and_the_session_cookie() {
    let (mock, _clock) = mock().await;
    let client = browser();
    // prompt=consent: the Allow/Deny page even for an approved user.
    let consent = login(&mock, &web_params(&[("prompt", "consent")]), WEB_USER).await;
    consent.assert_step("consent");
    let cookie = consent.session_cookie();
    let set_cookie = consent.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{set_cookie}"
    );

    // With the session cookie, a second authorize skips the login page.
    let url = authorize_url(&mock.url(), &web_params(&[("state", "again")]));
    let skipped = get(&client, &url, Some(&cookie)).await;
    assert_eq!(skipped.status, 302);
    assert_eq!(query_map(skipped.location())["state"], "again");
    // prompt=login always asks, cookie or not; so does select_account.
    for prompt in ["login", "select_account", "login consent"] {
        let url = authorize_url(&mock.url(), &web_params(&[("prompt", prompt)]));
        let asked = get(&client, &url, Some(&cookie)).await;
        assert_eq!(asked.status, 200, "{prompt}");
        assert_eq!(asked.form().field("step"), Some("login"), "{prompt}");
    }
    // prompt=consent with the cookie: straight to the consent page.
    let url = authorize_url(&mock.url(), &web_params(&[("prompt", "consent")]));
    let page = get(&client, &url, Some(&cookie)).await;
    assert_eq!(page.form().field("step"), Some("consent"));
    // immediate=true without a session cannot show a page.
    let url = authorize_url(
        &mock.url(),
        &web_params(&[("immediate", "true"), ("state", "i")]),
    );
    let immediate = get(&client, &url, None).await;
    assert_eq!(immediate.status, 302);
    assert_eq!(
        immediate.location(),
        format!(
            "{CALLBACK}?error=immediate_unsuccessful&error_description=immediate+unsuccessful&state=i"
        )
    );
    let immediate = get(&client, &url, Some(&cookie)).await;
    assert!(
        immediate
            .location()
            .starts_with(&format!("{CALLBACK}?code="))
    );
    // A garbage cookie is ignored.
    let page = get(
        &client,
        &authorize_url(&mock.url(), &web_params(&[])),
        Some("sid=nope"),
    )
    .await;
    assert_eq!(page.form().field("step"), Some("login"));
}

async fn assert_error_page(mock: &PardotMock, params: &[(&str, &str)], line: &str) {
    let page = get(&browser(), &authorize_url(&mock.url(), params), None).await;
    assert_eq!(page.status, 400, "{}", page.body);
    page.assert_html();
    assert!(page.headers.get("location").is_none());
    assert_eq!(page.text_of("oauth-error").as_deref(), Some(line));
}

#[tokio::test]
async fn bad_client_gets_an_error_page_not_a_redirect() {
    let (mock, _clock) = mock().await;
    let line = "error=invalid_client_id&error_description=client%20identifier%20invalid";
    let unknown = [
        ("response_type", "code"),
        ("client_id", "3MVG9nope"),
        ("redirect_uri", CALLBACK),
    ];
    assert_error_page(&mock, &unknown, line).await;
    assert_error_page(
        &mock,
        &[("response_type", "code"), ("redirect_uri", CALLBACK)],
        line,
    )
    .await;
    assert_error_page(
        &mock,
        &[
            ("response_type", "code"),
            ("client_id", fixtures::WEB_CONSUMER_KEY),
        ],
        "error=redirect_uri_missing&error_description=redirect_uri%20not%20provided",
    )
    .await;
    assert_counts(
        &mock,
        &[(Route::OAuthAuthorize, Outcome::InvalidClientId, 2)],
    );
}

#[tokio::test]
async fn unregistered_redirect_uri_and_runtime_registration() {
    let (mock, _clock) = mock().await;
    let line = "error=redirect_uri_mismatch&error_description=redirect_uri%20mismatch%20with%20remote%20access%20object";
    let receiver = "http://127.0.0.1:54321/oauth/callback";
    let params = [
        ("response_type", "code"),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("redirect_uri", receiver),
        ("state", "r"),
    ];
    assert_error_page(&mock, &params, line).await;
    // Exact comparison: a trailing slash or another port is another URL.
    let mut near = params;
    near[2].1 = "http://localhost:7777/callback/";
    assert_error_page(&mock, &near, line).await;

    mock.add_callback_url(fixtures::WEB_CONSUMER_KEY, receiver)
        .unwrap();
    let page = login(&mock, &params, WEB_USER).await;
    assert_eq!(page.status, 302);
    let (target, pairs) = split_location(page.location());
    assert_eq!(target, receiver);
    let code = &pairs[0].1;
    let (status, _, body) = token(
        &mock.url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", fixtures::WEB_CONSUMER_KEY),
            ("client_secret", fixtures::WEB_CONSUMER_SECRET),
            ("redirect_uri", receiver),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Over HTTP.
    let other = "http://127.0.0.1:54322/cb";
    let r = http_post_json(
        format!(
            "{}/__mock/apps/{}/callbacks",
            mock.url(),
            fixtures::PKCE_CONSUMER_KEY
        ),
        &json!({"url": other}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.text().await.unwrap(),
        json!({"callback_urls": ["http://localhost:7777/callback", "http://127.0.0.1:7777/callback", other]}).to_string()
    );
    let r = http_post_json(
        format!("{}/__mock/apps/nope/callbacks", mock.url()),
        &json!({"url": other}),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().await.unwrap(),
        json!({"error": "pardot-mock: unknown consumer key `nope`"}).to_string()
    );
    let r = http_post_json(
        format!(
            "{}/__mock/apps/{}/callbacks",
            mock.url(),
            fixtures::PKCE_CONSUMER_KEY
        ),
        &json!({"url": "not a url"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(mock.add_callback_url("nope", other).is_err());
}

#[tokio::test]
async fn other_authorize_errors_redirect_with_state() {
    let (mock, _clock) = mock().await;
    let client = browser();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("response_type", "token"),
                ("client_id", fixtures::WEB_CONSUMER_KEY),
                ("redirect_uri", CALLBACK),
                ("state", "s"),
            ],
            "error=unsupported_response_type&error_description=response+type+not+supported&state=s",
        ),
        (
            &[
                ("response_type", "code"),
                ("client_id", fixtures::WEB_CONSUMER_KEY),
                ("redirect_uri", CALLBACK),
                ("scope", "api full"),
                ("state", "s"),
            ],
            "error=invalid_scope&error_description=requested+scope+is+invalid%2C+unknown%2C+or+malformed&state=s",
        ),
        (
            &[
                ("response_type", "code"),
                ("client_id", fixtures::WEB_CONSUMER_KEY),
                ("redirect_uri", CALLBACK),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
                ("state", "s"),
            ],
            "error=invalid_request&error_description=code_challenge_method+not+supported&state=s",
        ),
    ];
    for (params, query) in cases {
        let page = get(&client, &authorize_url(&mock.url(), params), None).await;
        assert_eq!(page.status, 302, "{query}");
        assert_eq!(page.location(), format!("{CALLBACK}?{query}"));
    }
    // Not a login host.
    let page = get(
        &client,
        &authorize_url(&format!("{}/demo", mock.url()), &web_params(&[])),
        None,
    )
    .await;
    assert_eq!(page.status, 404);
}

#[tokio::test]
async fn code_is_single_use() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, None).await;
    redeemed(&mock, &code, &verifier).await;
    assert_code_expired(&redeem(&mock, &code, &verifier).await);
    let unknown = exchange(&mock.url(), "aPrxnope==", &[]).await;
    assert_code_expired(&unknown);
}

#[tokio::test]
async fn code_expires_after_15_minutes_on_the_mock_clock() {
    let (mock, clock) = mock().await;
    let (early, early_verifier) = web_code(&mock, None).await;
    let (late, late_verifier) = web_code(&mock, None).await;
    clock.advance(Duration::from_secs(15 * 60 - 1));
    let ok = redeem(&mock, &early, &early_verifier).await;
    assert_eq!(ok.0, 200, "{}", ok.2);
    clock.advance(Duration::from_secs(1));
    assert_code_expired(&redeem(&mock, &late, &late_verifier).await);
}

#[tokio::test]
async fn pkce_mismatch_and_missing_verifier() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, None).await;
    let wrong = exchange(
        &mock.url(),
        &code,
        &[(
            "code_verifier",
            "a-different-verifier-of-enough-length-0123456789",
        )],
    )
    .await;
    assert_oauth_error(&wrong, "invalid_request", "invalid code verifier");
    // The failed attempt used the code up.
    assert_code_expired(&redeem(&mock, &code, &verifier).await);

    let (code, _) = web_code(&mock, None).await;
    let missing = exchange(&mock.url(), &code, &[]).await;
    assert_oauth_error(&missing, "invalid_grant", "invalid code verifier");

    // No code_challenge_method at authorize means S256.
    let (verifier, challenge) = pkce();
    let code = web_user_code(&mock.url(), &web_params(&[("code_challenge", &challenge)])).await;
    redeemed(&mock, &code, &verifier).await;
}

#[tokio::test]
async fn exchange_checks_client_and_redirect_uri() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, None).await;
    let form = code_form(&code, &verifier);
    for (changes, error, description) in [
        (
            vec![("client_secret", Some("wrong"))],
            "invalid_client",
            "invalid client credentials",
        ),
        (
            vec![("client_secret", None)],
            "invalid_client",
            "invalid client credentials",
        ),
        (
            vec![
                ("client_id", Some(fixtures::ROTATING_CONSUMER_KEY)),
                ("client_secret", Some(fixtures::ROTATING_CONSUMER_SECRET)),
            ],
            "invalid_grant",
            "expired authorization code",
        ),
        // Those failures did not use the code up; a wrong redirect_uri does.
        (
            vec![("redirect_uri", Some("http://127.0.0.1:7777/callback"))],
            "redirect_uri_mismatch",
            "redirect_uri mismatch with remote access object",
        ),
    ] {
        let form = with_fields(&form, &changes);
        assert_token_error(&mock.url(), &form, (error, description)).await;
    }

    let (code, verifier) = web_code(&mock, None).await;
    let form = with_fields(&code_form(&code, &verifier), &[("redirect_uri", None)]);
    assert_token_error(
        &mock.url(),
        &form,
        ("redirect_uri_missing", "redirect_uri not provided"),
    )
    .await;

    // Client authentication by HTTP Basic works too.
    let (code, verifier) = web_code(&mock, None).await;
    let client = (fixtures::WEB_CONSUMER_KEY, fixtures::WEB_CONSUMER_SECRET);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, _, body) = token_basic(&mock.url(), client, &form).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn public_pkce_app_needs_no_secret_but_needs_pkce() {
    let (mock, _clock) = mock().await;
    let (verifier, challenge) = pkce();
    let params = pkce_params(fixtures::PKCE_CONSUMER_KEY, &challenge);
    // Not approved yet: consent first.
    let callback = signed_in(&mock.url(), &params, WEB_USER).await;
    assert!(callback.consent_shown());
    let code = callback.code().expect("a code");
    let ok = token(
        &mock.url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", fixtures::PKCE_CONSUMER_KEY),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(ok.0, 200, "{}", ok.2);
    assert_eq!(json_of(&ok.2)["scope"], "api pardot_api refresh_token");

    // Without a challenge, a public app without a secret is refused.
    let code = web_user_code(&mock.url(), &params[..3]).await;
    assert_token_error(
        &mock.url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", fixtures::PKCE_CONSUMER_KEY),
            ("redirect_uri", CALLBACK),
        ],
        INVALID_CLIENT,
    )
    .await;
}

#[tokio::test]
async fn refresh_token_only_when_the_scopes_ask_for_it() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, Some("api pardot_api")).await;
    let body = redeemed(&mock, &code, &verifier).await;
    let v = json_of(&body);
    assert!(v.get("refresh_token").is_none(), "{body}");
    assert_eq!(v["scope"], "api pardot_api");
    let (code, verifier) = web_code(&mock, Some("api offline_access")).await;
    let (_, _, body) = redeem(&mock, &code, &verifier).await;
    assert!(json_of(&body)["refresh_token"].is_string(), "{body}");
}

#[tokio::test]
async fn refresh_without_rotation_after_a_code() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, Some("api refresh_token")).await;
    let (_, _, body) = redeem(&mock, &code, &verifier).await;
    let refresh = json_of(&body)["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, _, body) = token(
            &mock.url(),
            &refresh_form(
                &refresh,
                fixtures::WEB_CONSUMER_KEY,
                fixtures::WEB_CONSUMER_SECRET,
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let v = json_of(&body);
        assert!(v.get("refresh_token").is_none(), "{body}");
        assert_eq!(v["scope"], "api refresh_token");
    }
}

#[tokio::test]
async fn refresh_with_rotation_after_a_code() {
    let (mock, _clock) = mock().await;
    let (verifier, challenge) = pkce();
    let params = pkce_params(fixtures::ROTATING_CONSUMER_KEY, &challenge);
    let code = web_user_code(&mock.url(), &params).await;
    let (status, _, body) = token(
        &mock.url(),
        &with_fields(
            &code_form(&code, &verifier),
            &[
                ("client_id", Some(fixtures::ROTATING_CONSUMER_KEY)),
                ("client_secret", Some(fixtures::ROTATING_CONSUMER_SECRET)),
            ],
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first = json_of(&body)["refresh_token"].as_str().unwrap().to_owned();
    let access = json_of(&body)["access_token"].as_str().unwrap().to_owned();
    let refresh = |t: String| {
        let url = mock.url();
        async move {
            token(
                &url,
                &refresh_form(
                    &t,
                    fixtures::ROTATING_CONSUMER_KEY,
                    fixtures::ROTATING_CONSUMER_SECRET,
                ),
            )
            .await
        }
    };
    let (status, _, body) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{body}");
    let second = json_of(&body)["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    // Reusing the rotated token kills the chain, the new token and the code's access token.
    let reused = refresh(first).await;
    assert_oauth_error(&reused, EXPIRED_TOKEN.0, EXPIRED_TOKEN.1);
    let after = refresh(second).await;
    assert_oauth_error(&after, EXPIRED_TOKEN.0, EXPIRED_TOKEN.1);
    assert!(mock.lookup_access_token(&access).is_none());
}

#[tokio::test]
async fn sandbox_and_my_domain_hosts() {
    let (mock, _clock) = mock().await;
    let client = browser();
    let sandbox = mock.sandbox_url();
    let params = web_params(&[("state", "sb")]);
    let page = get(&client, &authorize_url(&sandbox, &params), None).await;
    let form = page.form();
    assert_eq!(form.action, "/sandbox/services/oauth2/authorize");
    // A production user cannot log in on the sandbox host.
    let refused = form.log_in(&client, &mock.url(), WEB_USER).await;
    assert_eq!(refused.text_of("error").as_deref(), Some(LOGIN_ERROR));
    let consent = form
        .log_in(
            &client,
            &mock.url(),
            (fixtures::SANDBOX_USERNAME, fixtures::SANDBOX_PASSWORD),
        )
        .await;
    assert_eq!(consent.form().action, "/sandbox/services/oauth2/authorize");
    let done = consent
        .form()
        .submit(&client, &mock.url(), Some("oaapprove"), None)
        .await;
    let code = query_map(done.location())["code"].clone();
    // Exchanged on the production host: that server never issued it.
    let wrong_host = exchange(&mock.url(), &code, &[]).await;
    assert_code_expired(&wrong_host);

    let my = mock.my_domain_url(fixtures::PRODUCTION_MY_DOMAIN);
    let code = web_user_code(&my, &params).await;
    let (status, _, body) = exchange(&my, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json_of(&body)["id"],
        format!("{my}/id/{}/0055g00000WebUsAAJ", fixtures::PRODUCTION_ORG_ID)
    );
}

#[tokio::test]
async fn admin_approved_app_needs_assignment() {
    let (mock, _clock) = mock().await;
    mock.add_callback_url(fixtures::JWT_CONSUMER_KEY, CALLBACK)
        .unwrap();
    let page = login(&mock, &JWT_APP_PARAMS, UNAPPROVED_USER).await;
    assert_eq!(page.status, 302);
    assert_eq!(
        page.location(),
        format!("{CALLBACK}?{INVALID_APP_ACCESS_REDIRECT}")
    );
    // A pre-authorized user goes straight through (no consent page).
    let page = login(&mock, &JWT_APP_PARAMS, INTEGRATION_USER).await;
    assert_eq!(page.status, 302);
    assert!(page.location().starts_with(&format!("{CALLBACK}?code=")));
}

#[tokio::test]
async fn reset_forgets_codes() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, None).await;
    mock.reset();
    assert_code_expired(&redeem(&mock, &code, &verifier).await);
}

/// A web code and its verifier, issued before the web app's approval is revoked.
async fn code_before_a_revoked_approval(mock: &PardotMock) -> (String, String) {
    let code = web_code(mock, None).await;
    mock.revoke_app_approval(fixtures::WEB_CONSUMER_KEY)
        .unwrap();
    code
}

#[tokio::test]
async fn revoked_approval_kills_pending_codes_and_asks_again() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = code_before_a_revoked_approval(&mock).await;
    assert_code_expired(&redeem(&mock, &code, &verifier).await);
    // The configured approval is withdrawn too: the consent page comes back.
    let page = login(&mock, &web_params(&[]), WEB_USER).await;
    page.assert_step("consent");
}

#[tokio::test]
async fn journal_masks_the_login_password() {
    let (mock, _clock) = mock().await;
    let _ = web_code(&mock, None).await;
    let journal = journal_text(&mock).await;
    assert!(journal.contains(r#"["password","***"]"#), "{journal}");
    assert!(!journal.contains(fixtures::WEB_PASSWORD));
    // Rust tests read the unmasked values.
    let posted = mock
        .journal()
        .into_iter()
        .find(|e| e.method == "POST" && e.route == Route::OAuthAuthorize)
        .unwrap();
    assert!(
        posted
            .form
            .contains(&("password".to_owned(), fixtures::WEB_PASSWORD.to_owned()))
    );
}

#[tokio::test]
async fn journal_masks_the_login_transaction_code_and_verifier() {
    let (mock, _clock) = mock().await;
    let (code, verifier) = web_code(&mock, None).await;
    redeemed(&mock, &code, &verifier).await;
    let txn = mock
        .journal()
        .into_iter()
        .find_map(|e| e.param("txn").map(str::to_owned))
        .unwrap();
    assert_eq!(txn.len(), 32);
    let journal = journal_text(&mock).await;
    assert!(journal.contains(r#"["txn","***"]"#), "{journal}");
    assert!(journal.contains(r#"["code","***"]"#), "{journal}");
    assert!(journal.contains(r#"["code_verifier","***"]"#), "{journal}");
    for secret in [&txn, &code, &verifier] {
        assert!(!journal.contains(secret.as_str()), "{secret} in {journal}");
    }
}

#[tokio::test]
async fn locked_org_and_inactive_user() {
    use pardot_mock::{AppConfig, MockConfig, OrgConfig, UserConfig};
    let mut config = MockConfig::empty();
    let mut org = OrgConfig::production("00D000000000001");
    org.locked = true;
    config.orgs.push(org);
    config.users.push(UserConfig::new(
        "005000000000001",
        "locked@x.example",
        "pw-1",
        "00D000000000001",
    ));
    let mut inactive = UserConfig::new(
        "005000000000002",
        "gone@x.example",
        "pw-2",
        "00D000000000001",
    );
    inactive.active = false;
    config.users.push(inactive);
    let mut app = AppConfig::new("3MVG9locked", "locked-secret");
    app.callback_urls = vec![CALLBACK.to_owned()];
    config.apps.push(app);
    let mock = PardotMock::builder().config(config).start().await.unwrap();
    let params = [
        ("response_type", "code"),
        ("client_id", "3MVG9locked"),
        ("redirect_uri", CALLBACK),
        ("state", "l"),
    ];
    let page = login(&mock, &params, ("locked@x.example", "pw-1")).await;
    assert_eq!(page.status, 302);
    assert_eq!(
        page.location(),
        format!(
            "{CALLBACK}?error=inactive_org&error_description=organization+is+locked%2C+closed%2C+or+suspended&state=l"
        )
    );
    let page = login(&mock, &params, ("gone@x.example", "pw-2")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text_of("error").as_deref(), Some(LOGIN_ERROR));
}

#[tokio::test]
async fn public_app_cannot_skip_pkce_with_an_empty_basic_secret() {
    let (mock, _clock) = mock().await;
    let params = [
        ("response_type", "code"),
        ("client_id", fixtures::PKCE_CONSUMER_KEY),
        ("redirect_uri", CALLBACK),
    ];
    let callback = signed_in(&mock.url(), &params, WEB_USER).await;
    assert!(callback.consent_shown());
    let code = callback.code().expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let r = token_basic(&mock.url(), (fixtures::PKCE_CONSUMER_KEY, ""), &form).await;
    assert_oauth_error(&r, INVALID_CLIENT.0, INVALID_CLIENT.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_get_distinct_codes() {
    let (mock, _clock) = mock().await;
    let mock = std::sync::Arc::new(mock);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let mock = mock.clone();
        tasks.push(tokio::spawn(async move {
            let state = format!("state-{i}");
            let (verifier, challenge) = pkce();
            let callback = signed_in(
                &mock.url(),
                &web_params(&[("state", &state), ("code_challenge", &challenge)]),
                WEB_USER,
            )
            .await;
            assert_eq!(callback.state(), Some(state));
            let code = callback.code().expect("a code");
            let (status, _, body) = redeem(&mock, &code, &verifier).await;
            assert_eq!(status, 200, "{body}");
            code
        }));
    }
    let mut codes = std::collections::HashSet::new();
    for t in tasks {
        codes.insert(t.await.unwrap());
    }
    assert_eq!(codes.len(), 40);
    assert_web_flows(&mock, 40);
}

/// The revoke fault on an admin-approved app removes the user's assignment: the login page
/// answers `invalid_app_access` (no consent page the user could click through).
#[tokio::test]
async fn revoked_assignment_on_an_admin_approved_app_redirects_invalid_app_access() {
    let (mock, _clock) = mock().await;
    mock.add_callback_url(fixtures::JWT_CONSUMER_KEY, CALLBACK)
        .unwrap();
    mock.fault(pardot_mock::Fault::RevokeApproval {
        consumer_key: fixtures::JWT_CONSUMER_KEY.into(),
        username: Some(fixtures::INTEGRATION_USERNAME.into()),
    })
    .unwrap();
    let page = login(&mock, &JWT_APP_PARAMS, INTEGRATION_USER).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(
        page.location(),
        format!("{CALLBACK}?{INVALID_APP_ACCESS_REDIRECT}")
    );
}

/// A code issued before the approval was revoked stays dead after the user approves again.
#[tokio::test]
async fn a_code_from_before_a_revoked_approval_stays_dead_after_a_new_allow() {
    let (mock, _clock) = mock().await;
    let (old_code, old_verifier) = code_before_a_revoked_approval(&mock).await;
    let consent = login(&mock, &web_params(&[]), WEB_USER).await;
    assert_eq!(consent.form().field("step"), Some("consent"));
    let allowed = consent
        .form()
        .submit(&browser(), &mock.url(), Some("oaapprove"), None)
        .await;
    assert_eq!(allowed.status, 302, "{}", allowed.body);
    assert_code_expired(&redeem(&mock, &old_code, &old_verifier).await);
    let new_code = query_map(allowed.location())["code"].clone();
    let (status, _, body) = exchange(&mock.url(), &new_code, &[]).await;
    assert_eq!(status, 200, "{body}");
}
