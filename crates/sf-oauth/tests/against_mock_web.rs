//! The web server flow against `pardot-mock` in-process, driven over plain HTTP: sf-oauth
//! builds the authorize URL and binds its loopback `CallbackReceiver` (whose URL the test
//! registers with the mock), the mock's `sign_in` fills in its login page, answers the
//! consent page, and the test follows the redirect to the receiver; then sf-oauth
//! exchanges the code with its PKCE verifier. Client and mock share one `ManualClock`.

mod common;
mod support;

use std::time::Duration;

use common::client;
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::url::Url;
use pardot_auth_core::{
    AccessToken, Clock, Error, ErrorClass, ErrorKind, Expiry, LoginHost, ManualClock, TokenKind,
    TokenSource,
};
use pardot_mock::sign_in::{Consent, Landing, SignInError, sign_in};
use pardot_mock::{Outcome, PardotMock, Route, fixtures as fx};
use sf_oauth::*;
use support::{
    ACCESS_DENIED, INTEGRATION_USER, NOT_ADMIN_APPROVED, ROTATING_APP, Refusal, SANDBOX_USER,
    UNAPPROVED_USER, User, WEB_APP, WEB_USER, assert_counts, assert_expires_on_the_clock,
    assert_oauth_error, assert_route_counts, assert_token_counts, assert_token_refusal, mock,
    oauth_source, refresh_flow, sign_in_as,
};
use tokio::task::JoinHandle;

const EXCHANGE: &str = "authorization code exchange";
const CALLBACK: &str = "web server flow callback";
/// A code used, expired or never issued.
const EXPIRED_CODE: Refusal = ("invalid_grant", "expired authorization code");

fn host(url: &str) -> LoginHost {
    LoginHost::custom(url).unwrap()
}

/// The flow of the web app (with its secret) as configured on the app: the fixture callback
/// URL `http://localhost:7777/callback`, which each attempt replaces with its receiver's.
fn web_flow(mock: &PardotMock, clock: &ManualClock, scopes: &[&str]) -> WebServerFlow {
    app_flow(&mock.url(), clock, WEB_APP, scopes)
}

/// A mock, its clock, and the web app's flow asking for `api` on it.
async fn mock_and_api_flow() -> (PardotMock, ManualClock, WebServerFlow) {
    let (mock, clock) = mock().await;
    let flow = web_flow(&mock, &clock, &["api"]);
    (mock, clock, flow)
}

/// The flow of the app `(consumer key, secret)` on the login host `login_url`, with the
/// fixture callback URL.
fn app_flow(
    login_url: &str,
    clock: &ManualClock,
    (consumer_key, secret): (&str, &str),
    scopes: &[&str],
) -> WebServerFlow {
    WebServerFlow::new(
        host(login_url),
        consumer_key,
        RedirectUrl::new(fx::WEB_CALLBACK_URL).unwrap(),
    )
    .with_client_secret(ClientSecret::new(secret))
    .with_scopes(scopes.iter().copied())
    .with_client(client(clock))
}

/// One authorization in progress: the URL to open, the receiver waiting (spawned) on its own
/// loopback port, the verifier and the redirect URI to exchange with.
struct Attempt {
    url: Url,
    state: CsrfState,
    verifier: PkceVerifier,
    redirect: RedirectUrl,
    received: JoinHandle<Result<AuthorizationCode, Error>>,
}

impl Attempt {
    /// Binds a receiver on `127.0.0.1:0`, registers its URL with the mock for `consumer_key`
    /// (unless `register` is false), builds the authorize URL through `customize`, and starts
    /// waiting for the redirect, expecting `expected` as state (default: the URL's).
    async fn start(
        mock: &PardotMock,
        clock: &ManualClock,
        flow: &WebServerFlow,
        consumer_key: &str,
        register: bool,
        customize: impl for<'a> FnOnce(AuthorizeUrlBuilder<'a>) -> AuthorizeUrlBuilder<'a>,
        expected: Option<CsrfState>,
    ) -> Self {
        let receiver =
            CallbackReceiver::bind(&RedirectUrl::new("http://127.0.0.1:0/callback").unwrap())
                .await
                .unwrap();
        let redirect = receiver.redirect_url().clone();
        assert_ne!(redirect.url().port(), Some(0));
        if register {
            mock.add_callback_url(consumer_key, redirect.as_str())
                .unwrap();
        }
        let ((url, state), verifier) =
            customize(flow.authorize_url().redirect(redirect.clone())).build();
        let expected = expected.unwrap_or_else(|| state.clone());
        let received =
            tokio::spawn(receiver.receive(&expected, DEFAULT_CALLBACK_TIMEOUT, clock.shared()));
        Self {
            url,
            state,
            verifier,
            redirect,
            received,
        }
    }

    /// [`start`](Self::start) for the web app, registering the receiver, expecting the URL's
    /// own state.
    async fn web(
        mock: &PardotMock,
        clock: &ManualClock,
        flow: &WebServerFlow,
        customize: impl for<'a> FnOnce(AuthorizeUrlBuilder<'a>) -> AuthorizeUrlBuilder<'a>,
    ) -> Self {
        Self::registered(mock, clock, flow, fx::WEB_CONSUMER_KEY, customize).await
    }

    /// [`start`](Self::start) for `consumer_key`'s app, registering the receiver, expecting
    /// the URL's own state.
    async fn registered(
        mock: &PardotMock,
        clock: &ManualClock,
        flow: &WebServerFlow,
        consumer_key: &str,
        customize: impl for<'a> FnOnce(AuthorizeUrlBuilder<'a>) -> AuthorizeUrlBuilder<'a>,
    ) -> Self {
        Self::start(mock, clock, flow, consumer_key, true, customize, None).await
    }

    /// Signs in as `username` in the browser, follows the redirect to the receiver, and
    /// returns what the receiver got, the receiver's page and whether consent was asked.
    async fn complete(
        self,
        user: User,
        consent: Consent,
    ) -> (Result<AuthorizationCode, Error>, Landing, bool, Pending) {
        let redirect = sign_in_as(self.url.as_str(), user, consent).await.unwrap();
        assert!(
            redirect
                .url()
                .as_str()
                .starts_with(&format!("{}?", self.redirect.as_str())),
            "redirects to the receiver: {redirect:?}"
        );
        assert_eq!(
            redirect.state().as_deref(),
            Some(self.state.secret().expose_secret()),
            "state is echoed verbatim"
        );
        let consent_shown = redirect.consent_shown();
        let page = redirect.follow().await.unwrap();
        let received = self.received.await.unwrap();
        (
            received,
            page,
            consent_shown,
            Pending {
                verifier: self.verifier,
                redirect: self.redirect,
            },
        )
    }
}

/// The authorize URL answers the OAuth error page (400) showing `line`, not a redirect.
async fn assert_error_page(authorize: &Url, line: &str) {
    let err = sign_in_as(authorize.as_str(), WEB_USER, Consent::Allow)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SignInError::ErrorPage { status: 400, line: shown } if shown == line),
        "{err}"
    );
}

/// What the exchange needs after the redirect.
struct Pending {
    verifier: PkceVerifier,
    redirect: RedirectUrl,
}

impl Pending {
    async fn exchange(
        self,
        flow: &WebServerFlow,
        code: AuthorizationCode,
    ) -> Result<AccessToken, Error> {
        flow.exchange_code_with_redirect(code, self.verifier, &self.redirect)
            .await
    }
}

/// A copy of a single-use value, to try it twice.
fn copy_code(code: &AuthorizationCode) -> AuthorizationCode {
    AuthorizationCode::new(code.secret().expose_secret().to_owned())
}

/// Runs an attempt for the web user (who approved the web app: no consent page) and returns
/// the code and what the exchange needs.
async fn web_user_code(
    mock: &PardotMock,
    clock: &ManualClock,
    flow: &WebServerFlow,
) -> (AuthorizationCode, Pending) {
    let attempt = Attempt::web(mock, clock, flow, |b| b).await;
    let (code, page, consent, pending) = attempt.complete(WEB_USER, Consent::Allow).await;
    assert!(!consent);
    assert_eq!(page.status, 200, "{page:?}");
    (code.unwrap(), pending)
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn web_flow_over_http_with_pkce_state_and_login_hint() {
    let (mock, clock) = mock().await;
    let flow = web_flow(&mock, &clock, &["api", "pardot_api"]);
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b.login_hint(fx::WEB_USERNAME)).await;
    let query: Vec<(String, String)> = attempt.url.query_pairs().into_owned().collect();
    assert_eq!(
        common::query_names(&attempt.url),
        [&common::AUTHORIZE_FIELDS[..], &["login_hint"]].concat()
    );
    assert_eq!(
        query[4].1,
        attempt.state.secret().expose_secret().to_string()
    );
    assert_eq!(query[5].1, attempt.verifier.challenge());

    // A wrong password shows the login page again with an error, and no redirect.
    let again = sign_in(
        attempt.url.as_str(),
        fx::WEB_USERNAME,
        "wrong",
        Consent::Allow,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&again, SignInError::LoginRefused { message }
            if message.starts_with("Please check your username and password.")),
        "{again}"
    );
    assert!(!attempt.received.is_finished(), "no redirect yet");
    let (code, page, consent, pending) = attempt.complete(WEB_USER, Consent::Allow).await;
    assert!(!consent, "the web user approved the web app before");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You can close this window"), "{page:?}");

    // The exchange (the mock signs the answer with the app's secret; the flow checks it).
    let token = pending.exchange(&flow, code.unwrap()).await.unwrap();
    assert!(matches!(token.kind(), TokenKind::SalesforceBearer));
    assert!(
        token
            .secret()
            .expose_secret()
            .starts_with(&fx::PRODUCTION_ORG_ID[..15])
    );
    assert_eq!(token.issued_at(), clock.now());
    assert_eq!(
        token.expiry(),
        Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION)
    );
    assert!(token.refresh_token().is_none(), "no refresh scope asked");
    let scopes = token.scopes().unwrap();
    assert!(!scopes.allows_refresh());
    let me = client(&clock)
        .userinfo(&host(&mock.url()), &token)
        .await
        .unwrap();
    assert_eq!(me.preferred_username, fx::WEB_USERNAME);
    assert_eq!(me.organization_id, fx::PRODUCTION_ORG_ID);

    let counts = mock.counts();
    // The login page opened twice (by hand, then by `complete`), shown again once after the
    // wrong password, and one redirect with a code.
    assert_counts(
        &mock,
        &[
            (Route::OAuthAuthorize, Outcome::LoginPage, 2),
            (Route::OAuthAuthorize, Outcome::LoginFailed, 1),
            (Route::OAuthAuthorize, Outcome::Ok, 1),
            (Route::OAuthToken, Outcome::Ok, 1),
        ],
    );
    assert_eq!(counts.route_total(Route::OAuthToken), 1);
}

#[tokio::test]
async fn web_flow_on_the_sandbox_login_host() {
    let (mock, clock) = mock().await;
    let flow = app_flow(&mock.sandbox_url(), &clock, WEB_APP, &["api"]);
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b).await;
    assert!(attempt.url.as_str().starts_with(&format!(
        "{}/services/oauth2/authorize?",
        mock.sandbox_url()
    )));
    // The sandbox user has not approved the web app: the consent page comes.
    let (code, _, consent, pending) = attempt.complete(SANDBOX_USER, Consent::Allow).await;
    assert!(consent);
    let token = pending.exchange(&flow, code.unwrap()).await.unwrap();
    assert!(
        token
            .identity_url()
            .unwrap()
            .contains(&format!("/id/{}/", fx::SANDBOX_ORG_ID))
    );
    assert_token_counts(&mock, &[(Outcome::Ok, 1)]);
}

#[tokio::test]
async fn web_flow_as_a_token_source() {
    let (mock, clock) = mock().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Url>();
    // Port 0: the flow binds a free port and sends the URL with it to the handler.
    let flow = WebServerFlow::new(
        host(&mock.url()),
        fx::WEB_CONSUMER_KEY,
        RedirectUrl::new("http://localhost:0/callback").unwrap(),
    )
    .with_client_secret(ClientSecret::new(fx::WEB_CONSUMER_SECRET))
    .with_scopes(["api", "refresh_token"])
    .with_client(client(&clock))
    .on_authorize_url(move |url| tx.send(url.clone()).unwrap());
    let running = tokio::spawn(async move { flow.token().await });

    let url = rx.recv().await.unwrap();
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    assert!(redirect.starts_with("http://localhost:") && !redirect.contains(":0/"));
    mock.add_callback_url(fx::WEB_CONSUMER_KEY, &redirect)
        .unwrap();
    let to_receiver = sign_in_as(url.as_str(), INTEGRATION_USER, Consent::Allow)
        .await
        .unwrap();
    assert!(!to_receiver.consent_shown());
    // The browser resolves `localhost` (the receiver listens on 127.0.0.1; a client that
    // tries ::1 first falls back to it).
    assert!(to_receiver.url().as_str().starts_with("http://localhost:"));
    assert_eq!(to_receiver.follow().await.unwrap().status, 200);
    let token = running.await.unwrap().unwrap();
    assert!(token.refresh_token().is_some());
    assert_token_counts(&mock, &[(Outcome::Ok, 1)]);
}

#[tokio::test]
async fn consent_page_allow_and_deny() {
    let (mock, clock, flow) = mock_and_api_flow().await;

    // The unapproved user denies: the redirect carries access_denied, the receiver reports it.
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b).await;
    let (denied, page, consent, _) = attempt.complete(UNAPPROVED_USER, Consent::Deny).await;
    assert!(consent);
    assert!(
        page.body.contains("end-user denied authorization"),
        "{page:?}"
    );
    let err = denied.unwrap_err();
    let source = assert_oauth_error(&err, CALLBACK, ACCESS_DENIED);
    assert!(matches!(
        source,
        OAuthError::Authorization {
            error: OAuthErrorCode::AccessDenied,
            ..
        }
    ));

    // Then allows: a code, and the approval is remembered.
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b).await;
    let (code, _, consent, pending) = attempt.complete(UNAPPROVED_USER, Consent::Allow).await;
    assert!(consent);
    pending.exchange(&flow, code.unwrap()).await.unwrap();
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b).await;
    let (code, _, consent, _) = attempt.complete(UNAPPROVED_USER, Consent::Allow).await;
    assert!(!consent, "approved once, not asked again");
    code.unwrap();

    // prompt=consent asks even a user who approved.
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b.prompt("consent")).await;
    let (code, _, consent, _) = attempt.complete(WEB_USER, Consent::Allow).await;
    assert!(consent);
    code.unwrap();

    assert_counts(
        &mock,
        &[
            (Route::OAuthAuthorize, Outcome::Consent, 3),
            (Route::OAuthAuthorize, Outcome::AccessDenied, 1),
            (Route::OAuthAuthorize, Outcome::Ok, 3),
            (Route::OAuthToken, Outcome::Ok, 1),
        ],
    );
}

#[tokio::test]
async fn authorization_codes_expire_after_15_minutes_on_the_shared_clock() {
    let (mock, clock, flow) = mock_and_api_flow().await;

    // One second before the end: still good.
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    clock.advance(Duration::from_secs(15 * 60 - 1));
    let token = pending.exchange(&flow, code).await.unwrap();
    assert_eq!(token.issued_at(), clock.now());

    // At 15 minutes: expired.
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    clock.advance(Duration::from_secs(15 * 60));
    let err = pending.exchange(&flow, code).await.unwrap_err();
    assert_token_refusal(&err, EXCHANGE, EXPIRED_CODE, OAuthErrorCode::InvalidGrant);
    assert!(err.help().unwrap().contains("single-use"), "{err}");
    assert_token_counts(&mock, &[(Outcome::Ok, 1), (Outcome::InvalidGrant, 1)]);
}

#[tokio::test]
async fn a_code_is_single_use() {
    let (mock, clock, flow) = mock_and_api_flow().await;
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    let again = copy_code(&code);
    let verifier = PkceVerifier::new(pending.verifier.secret().expose_secret().to_owned()).unwrap();
    let redirect = pending.redirect.clone();
    pending.exchange(&flow, code).await.unwrap();
    let err = flow
        .exchange_code_with_redirect(again, verifier, &redirect)
        .await
        .unwrap_err();
    assert_oauth_error(&err, EXCHANGE, EXPIRED_CODE);
    // A code that never existed reads the same.
    let err = flow
        .exchange_code_with_redirect(
            AuthorizationCode::new("aPrxNotACode=="),
            PkceVerifier::new_random(),
            &redirect,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"));
    assert_token_counts(&mock, &[(Outcome::Ok, 1), (Outcome::InvalidGrant, 2)]);
}

#[tokio::test]
async fn pkce_wrong_or_missing_verifier_and_the_code_is_used_up() {
    let (mock, clock, flow) = mock_and_api_flow().await;

    // Another request's verifier: invalid_request, and the code is gone even for the right one.
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    let again = copy_code(&code);
    let err = flow
        .exchange_code_with_redirect(code, PkceVerifier::new_random(), &pending.redirect)
        .await
        .unwrap_err();
    let bad_verifier = ("invalid_request", "invalid code verifier");
    assert_token_refusal(&err, EXCHANGE, bad_verifier, OAuthErrorCode::InvalidRequest);
    let err = pending.exchange(&flow, again).await.unwrap_err();
    assert_oauth_error(&err, EXCHANGE, EXPIRED_CODE);

    // sf-oauth always sends the verifier (the API takes one); a client that leaves it out gets
    // invalid_grant from the mock, and that burns the code for sf-oauth's exchange too.
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    let raw = common::http()
        .post(format!("{}/services/oauth2/token", mock.url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.secret().expose_secret()),
            ("client_id", fx::WEB_CONSUMER_KEY),
            ("client_secret", fx::WEB_CONSUMER_SECRET),
            ("redirect_uri", pending.redirect.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_grant", "error_description": "invalid code verifier"})
    );
    let err = pending.exchange(&flow, code).await.unwrap_err();
    assert_oauth_error(&err, EXCHANGE, EXPIRED_CODE);

    assert_token_counts(
        &mock,
        &[
            (Outcome::InvalidRequest, 1),
            (Outcome::InvalidGrant, 3),
            (Outcome::Ok, 0),
        ],
    );
}

#[tokio::test]
async fn redirect_uri_must_match_at_authorize_and_at_exchange() {
    let (mock, clock, flow) = mock_and_api_flow().await;

    // Exchanged with the app's fixture callback instead of the one used at authorize.
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    assert_ne!(pending.redirect.as_str(), fx::WEB_CALLBACK_URL);
    let err = flow
        .exchange_code(code, pending.verifier)
        .await
        .unwrap_err();
    let source = assert_oauth_error(
        &err,
        EXCHANGE,
        (
            "redirect_uri_mismatch",
            "redirect_uri mismatch with remote access object",
        ),
    );
    assert_eq!(source.code(), Some(&OAuthErrorCode::RedirectUriMismatch));
    assert!(err.help().unwrap().contains("Callback URLs"), "{err}");

    // A receiver URL nobody registered: the mock shows an error page and never redirects, so
    // the receiver waits until its timeout on the clock.
    let attempt = Attempt::start(
        &mock,
        &clock,
        &flow,
        fx::WEB_CONSUMER_KEY,
        false,
        |b| b,
        None,
    )
    .await;
    assert_error_page(
        &attempt.url,
        "error=redirect_uri_mismatch&error_description=redirect_uri%20mismatch%20with%20remote%20access%20object",
    )
    .await;
    clock.wait_for_sleepers(1).await;
    clock.advance(DEFAULT_CALLBACK_TIMEOUT);
    let err = attempt.received.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{CALLBACK} failed: timed out after 300s")),
        "{err}"
    );
    assert!(matches!(oauth_source(&err), OAuthError::Timeout(d) if *d == DEFAULT_CALLBACK_TIMEOUT));

    // An unknown consumer key: an error page too.
    let stranger = WebServerFlow::new(
        host(&mock.url()),
        "3MVG9.unknown.consumer.key",
        RedirectUrl::new(fx::WEB_CALLBACK_URL).unwrap(),
    );
    let ((url, _), _) = stranger.authorize_url().build();
    assert_error_page(
        &url,
        "error=invalid_client_id&error_description=client%20identifier%20invalid",
    )
    .await;

    assert_counts(
        &mock,
        &[
            (Route::OAuthToken, Outcome::RedirectUriMismatch, 1),
            (Route::OAuthAuthorize, Outcome::RedirectUriMismatch, 1),
            (Route::OAuthAuthorize, Outcome::InvalidClientId, 1),
        ],
    );
}

#[tokio::test]
async fn state_mismatch_on_a_real_redirect() {
    let (mock, clock, flow) = mock_and_api_flow().await;
    // The receiver waits for one request's state; the browser brings back another's.
    let attempt = Attempt::start(
        &mock,
        &clock,
        &flow,
        fx::WEB_CONSUMER_KEY,
        true,
        |b| b.state(CsrfState::new("state-of-another-request")),
        Some(CsrfState::new_random()),
    )
    .await;
    let (received, page, _, _) = attempt.complete(WEB_USER, Consent::Allow).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("state mismatch"), "{page:?}");
    let err = received.unwrap_err();
    assert!(
        matches!(oauth_source(&err), OAuthError::StateMismatch),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::NeverRetry);
    assert_eq!(err.context(), Some(CALLBACK));
    assert!(err.to_string().contains("possible CSRF"), "{err}");
    assert!(!err.to_string().contains("state-of-another-request"));
    // The code was issued but nobody exchanged it.
    assert_counts(&mock, &[(Route::OAuthAuthorize, Outcome::Ok, 1)]);
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 0);
}

#[tokio::test]
async fn public_pkce_app_exchanges_and_refreshes_without_a_secret() {
    let (mock, clock) = mock().await;
    let flow = WebServerFlow::new(
        host(&mock.url()),
        fx::PKCE_CONSUMER_KEY,
        RedirectUrl::new(fx::WEB_CALLBACK_URL).unwrap(),
    )
    .with_scopes(["api", "refresh_token"])
    .with_client(client(&clock));
    let attempt = Attempt::registered(&mock, &clock, &flow, fx::PKCE_CONSUMER_KEY, |b| b).await;
    let (code, _, _, pending) = attempt.complete(WEB_USER, Consent::Allow).await;
    let token = pending.exchange(&flow, code.unwrap()).await.unwrap();
    let refresh = token.refresh_token().unwrap().expose_secret().to_owned();
    let (again, outcome) = RefreshTokenFlow::new(
        host(&mock.url()),
        fx::PKCE_CONSUMER_KEY,
        RefreshToken::new(refresh),
    )
    .with_client(client(&clock))
    .refresh()
    .await
    .unwrap();
    assert!(!outcome.rotated);
    assert!(again.refresh_token().is_none());

    // The web app is not public: without its secret the exchange is refused.
    let secretless = WebServerFlow::new(
        host(&mock.url()),
        fx::WEB_CONSUMER_KEY,
        RedirectUrl::new(fx::WEB_CALLBACK_URL).unwrap(),
    )
    .with_scopes(["api"])
    .with_client(client(&clock));
    let (code, pending) = web_user_code(&mock, &clock, &secretless).await;
    let err = pending.exchange(&secretless, code).await.unwrap_err();
    assert_oauth_error(
        &err,
        EXCHANGE,
        ("invalid_client", "invalid client credentials"),
    );
    assert!(err.help().unwrap().contains("consumer secret"));
    assert!(!format!("{err:?}").contains(fx::WEB_CONSUMER_SECRET));

    assert_token_counts(&mock, &[(Outcome::Ok, 2), (Outcome::InvalidClient, 1)]);
}

#[tokio::test]
async fn refresh_token_by_scope_then_refresh_with_and_without_rotation() {
    let (mock, clock) = mock().await;
    let h = host(&mock.url());

    // `api` alone: no refresh token; `offline_access` or `refresh_token`: one.
    for (scopes, expect_refresh) in [
        (&["api"][..], false),
        (&["api", "offline_access"][..], true),
        (&["api", "refresh_token"][..], true),
    ] {
        let flow = web_flow(&mock, &clock, scopes);
        let (code, pending) = web_user_code(&mock, &clock, &flow).await;
        let token = pending.exchange(&flow, code).await.unwrap();
        assert_eq!(
            token.refresh_token().is_some(),
            expect_refresh,
            "{scopes:?}"
        );
        if !expect_refresh {
            continue;
        }
        // The web app does not rotate: the refresh token keeps working, nothing to persist.
        let refresh = refresh_flow(
            h.clone(),
            WEB_APP,
            token.refresh_token().unwrap().expose_secret().to_owned(),
            client(&clock),
        );
        for _ in 0..2 {
            let (t, outcome) = refresh.refresh().await.unwrap();
            assert!(!outcome.rotated);
            assert!(t.refresh_token().is_none());
            assert_eq!(
                client(&clock)
                    .userinfo(&h, &t)
                    .await
                    .unwrap()
                    .preferred_username,
                fx::WEB_USERNAME
            );
        }
    }
    assert_counts(&mock, &[(Route::OAuthToken, Outcome::Ok, 3 + 4)]);

    // The rotating app: each refresh replaces the token, the observer hears of it, and the
    // replaced one is dead.
    let flow = WebServerFlow::new(
        h.clone(),
        fx::ROTATING_CONSUMER_KEY,
        RedirectUrl::new(fx::WEB_CALLBACK_URL).unwrap(),
    )
    .with_client_secret(ClientSecret::new(fx::ROTATING_CONSUMER_SECRET))
    .with_scopes(["api", "refresh_token"])
    .with_client(client(&clock));
    let attempt = Attempt::registered(&mock, &clock, &flow, fx::ROTATING_CONSUMER_KEY, |b| b).await;
    let (code, _, consent, pending) = attempt.complete(WEB_USER, Consent::Allow).await;
    assert!(!consent);
    let token = pending.exchange(&flow, code.unwrap()).await.unwrap();
    let r0 = token.refresh_token().unwrap().expose_secret().to_owned();
    let rotations = common::Rotations::default();
    let refresh = refresh_flow(h.clone(), ROTATING_APP, r0.clone(), client(&clock))
        .on_rotation(rotations.observer());
    let (t1, outcome) = refresh.refresh().await.unwrap();
    assert!(outcome.rotated);
    let r1 = t1.refresh_token().unwrap().expose_secret().to_owned();
    assert_ne!(r1, r0);
    assert_eq!(rotations.seen(), std::slice::from_ref(&r1));
    assert_eq!(
        refresh
            .current_refresh_token()
            .await
            .secret()
            .expose_secret(),
        r1
    );

    let stale = refresh_flow(h.clone(), ROTATING_APP, r0, client(&clock));
    let err = stale.refresh().await.unwrap_err();
    assert_oauth_error(
        &err,
        "refresh token exchange",
        ("invalid_grant", "expired access/refresh token"),
    );
    // Reusing a rotated token revoked the chain: the current one is dead too.
    let err = refresh.refresh().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"));
    let counts = mock.counts();
    assert_eq!(counts.get(Route::OAuthToken, Outcome::Ok), 3 + 4 + 2);
    assert_token_counts(&mock, &[(Outcome::InvalidGrant, 2)]);
}

#[tokio::test]
async fn tokens_from_the_web_flow_expire_on_the_shared_clock() {
    let (mock, clock, flow) = mock_and_api_flow().await;
    let (code, pending) = web_user_code(&mock, &clock, &flow).await;
    let token = pending.exchange(&flow, code).await.unwrap();
    assert_expires_on_the_clock(&client(&clock), &clock, &host(&mock.url()), &token).await;
}

#[tokio::test]
async fn authorization_errors_arrive_through_the_redirect() {
    let (mock, clock) = mock().await;

    // A scope the app lacks: redirected with invalid_scope before any login page.
    let flow = web_flow(&mock, &clock, &["api", "chatter_api"]);
    let attempt = Attempt::web(&mock, &clock, &flow, |b| b).await;
    let redirect = sign_in_as(attempt.url.as_str(), WEB_USER, Consent::Allow)
        .await
        .unwrap();
    assert!(!redirect.login_shown(), "{redirect:?}");
    assert_eq!(redirect.error().as_deref(), Some("invalid_scope"));
    assert_eq!(redirect.follow().await.unwrap().status, 200);
    let err = attempt.received.await.unwrap().unwrap_err();
    let source = assert_oauth_error(
        &err,
        CALLBACK,
        (
            "invalid_scope",
            "requested scope is invalid, unknown, or malformed",
        ),
    );
    assert!(matches!(
        source,
        OAuthError::Authorization {
            error: OAuthErrorCode::InvalidScope,
            ..
        }
    ));

    // An admin-approved app and a user it does not list: invalid_app_access after the login.
    let flow = app_flow(
        &mock.url(),
        &clock,
        (fx::JWT_CONSUMER_KEY, fx::JWT_CONSUMER_SECRET),
        &["api"],
    );
    let attempt = Attempt::registered(&mock, &clock, &flow, fx::JWT_CONSUMER_KEY, |b| b).await;
    let (received, _, consent, _) = attempt.complete(UNAPPROVED_USER, Consent::Deny).await;
    assert!(!consent);
    let err = received.unwrap_err();
    assert_oauth_error(&err, CALLBACK, NOT_ADMIN_APPROVED);
    assert!(err.help().unwrap().contains("administrator"));

    // A pre-authorized user of the same app gets a code without a consent page.
    let attempt = Attempt::registered(&mock, &clock, &flow, fx::JWT_CONSUMER_KEY, |b| b).await;
    let (code, _, consent, pending) = attempt.complete(INTEGRATION_USER, Consent::Deny).await;
    assert!(!consent);
    pending.exchange(&flow, code.unwrap()).await.unwrap();

    let counts = mock.counts();
    assert_route_counts(
        &mock,
        Route::OAuthAuthorize,
        &[(Outcome::InvalidScope, 1), (Outcome::InvalidAppAccess, 1)],
    );
    assert_eq!(counts.route_total(Route::OAuthToken), 1);
}
