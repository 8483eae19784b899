//! The requests the bench sends (the v5 list, the password and JWT grants) and the clients that
//! send them outside the load generator (`PardotClient`, raw `reqwest`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use pardot_auth_core::{AccessToken, Expiry, PardotHost, Scopes, TokenKind, TokenSource};
use pardot_http::PardotClient;
use pardot_mock::fixtures;
use serde_json::{Value, json};

use crate::load::{self, Template};
use crate::servers::{TOKEN_PATH, V5_PATH, v4_query_path};

/// The v5 prospects list with `token` and the business unit header.
pub fn v5_template(token: &str) -> Template {
    pardot_get(V5_PATH, token)
}

/// The v4 prospect query page in `format` (`json` or `xml`), authorized like the v5 list.
pub fn v4_query_template(token: &str, format: &str) -> Template {
    pardot_get(&v4_query_path(format), token)
}

/// A GET of a Pardot API `path` with `token` and the business unit header.
fn pardot_get(path: &str, token: &str) -> Template {
    let headers = vec![
        (
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer ?")),
        ),
        (
            HeaderName::from_static("pardot-business-unit-id"),
            HeaderValue::from_static(fixtures::BUSINESS_UNIT_ID),
        ),
    ];
    Template::get(path, headers)
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    Bytes::from(s.finish())
}

fn password_body() -> Bytes {
    let password = format!(
        "{}{}",
        fixtures::INTEGRATION_PASSWORD,
        fixtures::INTEGRATION_SECURITY_TOKEN
    );
    form(&[
        ("grant_type", "password"),
        ("client_id", fixtures::WEB_CONSUMER_KEY),
        ("client_secret", fixtures::WEB_CONSUMER_SECRET),
        ("username", fixtures::INTEGRATION_USERNAME),
        ("password", &password),
    ])
}

/// The password grant of the integration user.
pub fn password_template() -> Template {
    Template::post_form(TOKEN_PATH, Arc::new(vec![password_body()]))
}

/// JWT bearer grants, request `i` sending assertion `i` of `assertions` (see [`sign_pool`]).
pub fn jwt_template(assertions: Arc<Vec<Bytes>>) -> Template {
    Template::post_form(TOKEN_PATH, assertions)
}

/// Signs `n` JWT bearer assertions (as grant form bodies), each with its own `exp`, on two
/// threads.
pub async fn sign_pool(n: usize) -> Result<Vec<Bytes>> {
    let key = Arc::new(jsonwebtoken::EncodingKey::from_rsa_pem(
        fixtures::CONNECTED_APP_KEY_PEM.as_bytes(),
    )?);
    let now = pardot_auth_core::clock::unix_seconds(SystemTime::now());
    let halves = [(0, n / 2), (n / 2, n)];
    let mut tasks = Vec::new();
    for (from, to) in halves {
        let key = key.clone();
        tasks.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<Bytes>> {
                let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                (from..to)
                    .map(|i| {
                        let claims = json!({
                            "iss": fixtures::JWT_CONSUMER_KEY,
                            "sub": fixtures::INTEGRATION_USERNAME,
                            "aud": "https://login.salesforce.com",
                            // Distinct per assertion: no two requests carry the same JWT.
                            "exp": now + 3_600 + i as i64,
                        });
                        let jwt = jsonwebtoken::encode(&header, &claims, &key)?;
                        Ok(form(&[
                            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                            ("assertion", &jwt),
                        ]))
                    })
                    .collect()
            },
        ));
    }
    let mut pool = Vec::with_capacity(n);
    for t in tasks {
        pool.extend(t.await??);
    }
    Ok(pool)
}

/// A fresh access token from the password grant of the server at `addr`.
pub async fn password_token(addr: SocketAddr) -> Result<String> {
    let (status, _, body) = load::once(addr, &password_template()).await?;
    ensure!(
        status == StatusCode::OK,
        "password grant answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let v: Value = serde_json::from_slice(&body)?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")
}

/// A source that hands out `secret` as a Salesforce token valid for two hours, with `scopes`
/// (and `instance`, when given), without asking any server.
pub fn fixed_token_source(
    secret: String,
    scopes: &str,
    instance: Option<url::Url>,
) -> impl TokenSource + use<> {
    let scopes = Scopes::parse(scopes);
    pardot_auth_core::provide_token_fn("bench", move || {
        let (secret, scopes, instance) = (secret.clone(), scopes.clone(), instance.clone());
        async move {
            let now = SystemTime::now();
            let token = AccessToken::new(
                TokenKind::SalesforceBearer,
                secret.into(),
                now,
                Expiry::Estimated(now + Duration::from_secs(7200)),
            )
            .with_scopes(scopes);
            Ok(match instance {
                Some(url) => token.with_instance_url(url),
                None => token,
            })
        }
    })
}

/// A `PardotClient` on the production business unit of the server at `url`, with no
/// concurrency limit of its own and no proxy.
pub fn pardot_client(source: Arc<dyn TokenSource>, url: &str) -> Result<PardotClient> {
    Ok(PardotClient::builder(source, PardotHost::custom(url)?)
        .business_unit(fixtures::BUSINESS_UNIT_ID.parse()?)
        .max_concurrent(None)
        .no_proxy()
        .build()?)
}

/// The baseline of the client rows: a plain `reqwest` GET with the two headers set by hand.
pub async fn raw_get(raw: &reqwest::Client, url: &str, token: &str) -> Result<Bytes> {
    let r = raw
        .get(url)
        .bearer_auth(token)
        .header("Pardot-Business-Unit-Id", fixtures::BUSINESS_UNIT_ID)
        .send()
        .await?;
    ensure!(r.status() == 200, "reqwest got {}", r.status());
    Ok(r.bytes().await?)
}
