//! Every sign-in route through the real crates (sf-oauth, pardot-legacy, pardot-http) against
//! an in-process mock on a clock shared with the clients.

use pardot_mock::{Outcome, Route};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{
    Clock, Expiry, LEGACY_API_KEY_LIFETIME, ManualClock, TokenKind, TokenSource,
};
use pardot_http::{CachedTokenSource, PardotClient};
use pardot_legacy::{LegacyCredentials, LegacyLogin};
use pardot_mock::fixtures as fx;
use sf_oauth::{
    ClientCredentials, ClientSecret, DeviceFlow, JWT_CLIENT_ASSERTION_TYPE, MciServiceAccount,
    Password, RefreshToken, RefreshTokenFlow, UsernamePassword,
};

use super::Ran;
use super::support::{
    PkceAttempt, bu, count, ensure_count, ensure_grant_refused, http, integration_client, jwt, key,
    last_request, login_host, oauth, pardot_client, pardot_host, prospect_emails, ran, refused,
    sign_in_to_receiver, staged, total,
};

/// JWT bearer (a server-to-server sync) and the first Pardot calls with its token (v4 XML, v5 JSON).
pub(crate) async fn jwt_bearer() -> Result<Ran> {
    let (clock, shared, mock) = staged().await?;
    let token = jwt(&mock.url(), fx::INTEGRATION_USERNAME, &shared)?
        .token()
        .await?;
    ensure!(
        matches!(token.kind(), TokenKind::SalesforceBearer),
        "token kind {:?}",
        token.kind()
    );
    ensure!(
        token
            .secret()
            .expose_secret()
            .starts_with(&fx::PRODUCTION_ORG_ID[..15]),
        "the access token does not start with the org id"
    );
    ensure!(
        token.refresh_token().is_none(),
        "JWT bearer must not return a refresh token"
    );
    ensure!(
        token.expiry()
            == Expiry::Estimated(clock.now() + pardot_auth_core::DEFAULT_SALESFORCE_SESSION),
        "expiry {:?} is not the 2-hour estimate on the shared clock",
        token.expiry()
    );

    let client = integration_client(&mock, &shared)?;
    let account = client.get("/api/account/version/4/do/read").send().await?;
    let envelope = account.envelope().context("v4 account read: no envelope")?;
    ensure!(envelope.is_ok(), "v4 account read: stat is not ok");
    ensure!(
        account.text()?.contains("Acme Corporation"),
        "v4 account read: not the fixture account"
    );
    let emails = prospect_emails(&client).await?;
    ensure!(
        emails.iter().any(|e| e == "ada@example.com"),
        "v5 prospects: {emails:?}"
    );
    ensure_count(&mock, Route::OAuthToken, Outcome::Ok, 2).context("token requests")?;
    ensure!(
        count(&mock, Route::PardotV4, Outcome::Ok) == 1
            && count(&mock, Route::PardotV5, Outcome::Ok) == 1
    );
    Ok(ran(&mock))
}

/// Username-password (being retired): password + security token, userinfo, a wrong password.
pub(crate) async fn password() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let host = login_host(&mock.url())?;
    let flow = |password: &str| -> Result<UsernamePassword> {
        Ok(UsernamePassword::new(
            host.clone(),
            fx::WEB_CONSUMER_KEY,
            ClientSecret::new(fx::WEB_CONSUMER_SECRET),
            fx::INTEGRATION_USERNAME,
            Password::new(password),
        )
        .with_security_token(Password::new(fx::INTEGRATION_SECURITY_TOKEN))
        .with_client(oauth(&shared)?))
    };
    let token = flow(fx::INTEGRATION_PASSWORD)?.token().await?;
    ensure!(matches!(token.kind(), TokenKind::SalesforceBearer));
    let me = oauth(&shared)?.userinfo(&host, &token).await?;
    ensure!(
        me.preferred_username == fx::INTEGRATION_USERNAME
            && me.organization_id == fx::PRODUCTION_ORG_ID,
        "userinfo: {} in {}",
        me.preferred_username,
        me.organization_id
    );
    let wrong = flow("not-the-password")?.token().await;
    ensure_grant_refused(&refused(wrong, "a wrong password was accepted")?)?;
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 1);
    ensure!(count(&mock, Route::OAuthToken, Outcome::InvalidGrant) == 1);
    ensure!(count(&mock, Route::OAuthUserinfo, Outcome::Ok) == 1);
    Ok(ran(&mock))
}

/// Web server flow with PKCE: the loopback receiver on a free port, the mock's login and
/// Allow pages driven over plain HTTP, the redirect to the receiver, the code exchange.
pub(crate) async fn web_server_http() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    // The public PKCE app: no secret, so PKCE alone protects the code; not yet approved by
    // the web user, so the Allow page shows.
    let mut attempt = PkceAttempt::start(&mock, &shared, Duration::from_secs(60)).await?;

    let consent_shown = sign_in_to_receiver(&attempt.url).await?;
    ensure!(
        consent_shown,
        "the Allow page was not shown for an app the user never approved"
    );
    let code = attempt.code().await?;
    let replay = sf_oauth::AuthorizationCode::new(code.secret().expose_secret());
    let token = attempt.flow.exchange_code(code, attempt.verifier).await?;
    ensure!(matches!(token.kind(), TokenKind::SalesforceBearer));
    ensure!(
        token.refresh_token().is_some(),
        "scope refresh_token asked, no refresh token returned"
    );
    let exchange = last_request(&mock, Route::OAuthToken)?;
    ensure!(
        exchange.param("grant_type") == Some("authorization_code")
            && exchange
                .param("code_verifier")
                .is_some_and(|v| v.len() >= 43),
        "the exchange did not carry the PKCE verifier"
    );
    // A code is single-use.
    let again = attempt
        .flow
        .exchange_code(replay, sf_oauth::PkceVerifier::new_random())
        .await;
    ensure_grant_refused(&refused(again, "a used code was accepted again")?)?;
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 1);
    Ok(ran(&mock))
}

/// Refresh token with rotation (sf-oauth): each refresh rotates, the observer sees each new
/// token, and the spent one is refused.
pub(crate) async fn refresh_rotation() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let flow_for = |token: &str| -> Result<RefreshTokenFlow> {
        Ok(RefreshTokenFlow::new(
            login_host(&mock.url())?,
            fx::ROTATING_CONSUMER_KEY,
            RefreshToken::new(token),
        )
        .with_client_secret(ClientSecret::new(fx::ROTATING_CONSUMER_SECRET))
        .with_client(oauth(&shared)?))
    };
    let flow = flow_for(fx::ROTATING_REFRESH_TOKEN)?.on_rotation({
        let seen = seen.clone();
        move |new| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(new.secret().expose_secret().to_owned());
            }
        }
    });
    let (first, one) = flow.refresh().await?;
    let (_, two) = flow.refresh().await?;
    ensure!(
        one.rotated && two.rotated,
        "the rotating app did not rotate"
    );
    ensure!(first.refresh_token().is_some());
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    ensure!(
        seen.len() == 2
            && seen[0] != seen[1]
            && !seen.iter().any(|t| t == fx::ROTATING_REFRESH_TOKEN),
        "observer saw {} distinct new tokens",
        seen.len()
    );
    ensure!(flow.current_refresh_token().await.secret().expose_secret() == seen[1]);
    let spent = flow_for(fx::ROTATING_REFRESH_TOKEN)?.refresh().await;
    ensure_grant_refused(&refused(spent, "the spent refresh token was accepted")?)?;
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 2);
    ensure!(count(&mock, Route::OAuthToken, Outcome::InvalidGrant) == 1);
    Ok(ran(&mock))
}

/// Client credentials on the My Domain host (refused elsewhere), then a Pardot call with it.
pub(crate) async fn client_credentials() -> Result<Ran> {
    let (_, shared, mock) = staged().await?;
    let flow = |url: &str| -> Result<ClientCredentials> {
        Ok(ClientCredentials::new(
            login_host(url)?,
            fx::CC_CONSUMER_KEY,
            ClientSecret::new(fx::CC_CONSUMER_SECRET),
        )
        .with_client(oauth(&shared)?))
    };
    let my_domain = mock.my_domain_url(fx::PRODUCTION_MY_DOMAIN);
    let token = flow(&my_domain)?.token().await?;
    let me = oauth(&shared)?
        .userinfo(&login_host(&my_domain)?, &token)
        .await?;
    ensure!(
        me.preferred_username == fx::CC_RUN_AS_USERNAME,
        "runs as {}",
        me.preferred_username
    );
    let err = flow(&mock.url())?
        .token()
        .await
        .err()
        .context("client credentials worked outside My Domain")?;
    ensure!(
        err.code() == Some("invalid_grant")
            && err
                .to_string()
                .contains("request not supported on this domain"),
        "{err}"
    );
    let client = pardot_client(Arc::new(flow(&my_domain)?), &mock.url(), bu()?, &shared)?;
    ensure!(!prospect_emails(&client).await?.is_empty());
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 2);
    ensure!(count(&mock, Route::PardotV5, Outcome::Ok) == 1);
    Ok(ran(&mock))
}

/// Device flow: start, one poll while pending, approval scripted on the mock, the token.
/// The poll interval passes on the shared clock, so nothing sleeps.
pub(crate) async fn device() -> Result<Ran> {
    let (clock, shared, mock) = staged().await?;
    let flow = Arc::new(
        DeviceFlow::new(login_host(&mock.url())?, fx::WEB_CONSUMER_KEY)
            .with_scopes(["api", "pardot_api", "refresh_token"])
            .with_client(oauth(&shared)?),
    );
    let auth = flow.start().await?;
    ensure!(
        !auth.user_code.is_empty() && auth.verification_uri.contains("/setup/connect"),
        "device authorization: {auth:?}"
    );
    let user_code = auth.user_code.clone();
    let interval = auth.interval;
    let polling = tokio::spawn({
        let flow = flow.clone();
        async move { flow.poll(&auth).await }
    });
    // First poll, before anyone approved: pending.
    wait_for_sleep(&clock).await?;
    clock.advance(interval);
    wait_for_sleep(&clock).await?;
    ensure_count(&mock, Route::OAuthToken, Outcome::AuthorizationPending, 1)?;
    // The person enters the code and allows (scripted on the mock); the next poll succeeds.
    mock.approve_device(&user_code, fx::WEB_USERNAME)?;
    clock.advance(interval);
    let token = tokio::time::timeout(Duration::from_secs(10), polling)
        .await
        .context("the device flow did not finish within 10 s")?
        .context("the polling task failed")??;
    ensure!(matches!(token.kind(), TokenKind::SalesforceBearer));
    ensure!(
        token.refresh_token().is_some(),
        "scope refresh_token asked, no refresh token returned"
    );
    let grants: Vec<(Outcome, u16)> = mock
        .journal()
        .into_iter()
        .filter(|e| e.route == Route::OAuthToken && e.param("grant_type") == Some("device"))
        .map(|e| (e.outcome, e.status))
        .collect();
    ensure!(
        grants == [(Outcome::AuthorizationPending, 400), (Outcome::Ok, 200)],
        "device polls: {grants:?}"
    );
    Ok(ran(&mock))
}

/// Waits (bounded) until a task sleeps on the shared clock.
pub(crate) async fn wait_for_sleep(clock: &ManualClock) -> Result<()> {
    tokio::time::timeout(Duration::from_secs(10), clock.wait_for_sleepers(1))
        .await
        .context("nothing waited on the shared clock within 10 s")
}

/// The legacy api_key login (v4 user), a v4 read through pardot-http, and the 60-minute
/// key replaced ahead of expiry on the shared clock.
pub(crate) async fn legacy() -> Result<Ran> {
    let (clock, shared, mock) = staged().await?;
    let login = LegacyLogin::builder(LegacyCredentials::new(
        fx::LEGACY_V4_EMAIL,
        fx::LEGACY_V4_PASSWORD,
        fx::LEGACY_V4_USER_KEY,
    )?)
    .host(pardot_host(&mock.url())?)
    .http_client(http()?)
    .clock(shared.clone())
    .build()?;
    let token = login.token().await?;
    ensure!(
        matches!(token.kind(), TokenKind::LegacyApiKey { .. }),
        "token kind {:?}",
        token.kind()
    );
    ensure!(
        token.expiry() == Expiry::Known(clock.now() + LEGACY_API_KEY_LIFETIME),
        "api_key expiry {:?}",
        token.expiry()
    );
    let client = PardotClient::builder(login.into_shared(), pardot_host(&mock.url())?)
        .clock(shared.clone())
        .no_proxy()
        .build()?;
    let path = "/api/account/version/4/do/read";
    let first = client.get(path).send().await?;
    ensure!(
        first.envelope().is_some_and(|e| e.is_ok()),
        "v4 read with the api_key failed"
    );
    // Pardot hands out the same api_key until it dies (60 min), so there is nothing to
    // refresh ahead: once it is past, the cache logs in before the call, and the call never
    // sees a rejection.
    clock.advance(LEGACY_API_KEY_LIFETIME + Duration::from_secs(60));
    let second = client.get(path).query([("format", "json")]).send().await?;
    ensure!(second.envelope().is_some_and(|e| e.is_ok()) && second.attempts() == 1);
    ensure_count(&mock, Route::PardotLogin, Outcome::Ok, 3)
        .context("one login for the direct token, one for the client, one after the key died")?;
    ensure!(
        client.metrics().token.fetches == 2,
        "{:?}",
        client.metrics()
    );
    ensure!(total(&mock, Route::PardotV4) == 2 && count(&mock, Route::PardotV4, Outcome::Ok) == 2);
    Ok(ran(&mock))
}

/// MCI service account: issuance (`expires_in` 300), refreshed ahead of expiry by
/// pardot-http's cache on the shared clock, and a replayed assertion (`jti`) refused.
pub(crate) async fn mci() -> Result<Ran> {
    let (clock, shared, mock) = staged().await?;
    let flow = Arc::new(
        MciServiceAccount::new(
            mock.mci_discovery_url(fx::MCI_REGION).parse()?,
            fx::MCI_SERVICE_ACCOUNT_ID,
            key("mci-service-account.key")?,
        )
        .with_client(oauth(&shared)?),
    );
    let cache = CachedTokenSource::builder(flow.clone())
        .clock(shared.clone())
        .jitter(0.0)
        .build();
    let first = cache.get().await?;
    ensure!(
        matches!(first.kind(), TokenKind::MciBearer),
        "{:?}",
        first.kind()
    );
    ensure!(
        first.expiry() == Expiry::Known(clock.now() + Duration::from_secs(300)),
        "expiry {:?} is not issue + expires_in 300",
        first.expiry()
    );
    clock.advance(Duration::from_secs(200));
    ensure!(cache.get().await?.is_same_as(&first), "refreshed too early");
    ensure!(count(&mock, Route::MciToken, Outcome::Ok) == 1);
    // 245 s: inside the refresh margin (min(5 min, 20% of 300 s) = 60 s), still valid.
    clock.advance(Duration::from_secs(45));
    ensure!(!first.is_expired(clock.now()));
    let second = cache.get().await?;
    ensure!(
        !second.is_same_as(&first),
        "not refreshed inside the margin"
    );
    ensure!(count(&mock, Route::MciToken, Outcome::Ok) == 2);
    ensure!(cache.metrics().refreshes == 1, "{:?}", cache.metrics());

    let sent = last_request(&mock, Route::MciToken)?;
    let assertion = sent
        .param("client_assertion")
        .context("the MCI token request had no client_assertion")?
        .to_owned();
    let endpoint = flow.token_endpoint().await?;
    let replay = http()?
        .post(endpoint)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", fx::MCI_SERVICE_ACCOUNT_ID),
            ("client_assertion_type", JWT_CLIENT_ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await?;
    let status = replay.status();
    let body: serde_json::Value = replay.json().await?;
    ensure!(
        status == 400 && body["error"] == "invalid_grant",
        "replayed assertion answered {status} {body}"
    );
    ensure!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("jti")),
        "{body}"
    );
    ensure!(count(&mock, Route::MciToken, Outcome::InvalidGrant) == 1);
    Ok(ran(&mock))
}
