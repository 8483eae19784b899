//! The Marketing Cloud Intelligence identity provider (`docs/reference/mci-service-account.md`):
//! discovery and the service-account token endpoint with a signed `client_assertion`.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use jsonwebtoken::{EncodingKey, Header, encode};
use pardot_auth_core::clock::unix_seconds;
use serde_json::{Value, json};

use crate::model::MCI_REGIONS;
use crate::oauth::assertion::ParsedJwt;
use crate::outcome::{plain, reporting};
use crate::request_params::RequestParams;
use crate::route::Outcome;
use crate::state::MockState;
use crate::support::random_hex;
use crate::virtual_host::VirtualHost;

/// Life of an MCI access token, and of an assertion without `exp`.
pub const MCI_TOKEN_LIFETIME_SECS: i64 = 300;
/// Clock skew allowed on `iat` in the future and on expiry.
pub const MCI_SKEW_SECS: i64 = 60;
/// The client-assertion type MCI requires.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) fn routes() -> Router {
    Router::new()
        .route("/{region}/.well-known/openid-configuration", get(discovery))
        .route("/{region}/token", any(token))
        .route("/{region}/jwks", get(jwks))
}

fn guard(vhost: &VirtualHost, region: &str) -> Option<Response> {
    (!vhost.serves_mci() || !MCI_REGIONS.contains(&region))
        .then(|| plain(StatusCode::NOT_FOUND, "not found", Outcome::Http(404)))
}

fn json_response(status: StatusCode, body: &Value, outcome: Outcome) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reporting(r, outcome)
}

fn error(status: StatusCode, error: Outcome, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
        error,
    )
}

async fn discovery(
    Extension(vhost): Extension<VirtualHost>,
    Path(region): Path<String>,
) -> Response {
    if let Some(r) = guard(&vhost, &region) {
        return r;
    }
    let issuer = format!("{}/{region}", vhost.public_base);
    let body = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
    });
    json_response(StatusCode::OK, &body, Outcome::Ok)
}

/// The mock signs MCI access tokens with a per-process HMAC key, which a JWKS cannot publish:
/// the key set is empty, and clients treat the token as opaque (as they should).
async fn jwks(Extension(vhost): Extension<VirtualHost>, Path(region): Path<String>) -> Response {
    if let Some(r) = guard(&vhost, &region) {
        return r;
    }
    json_response(StatusCode::OK, &json!({"keys": []}), Outcome::Ok)
}

async fn token(
    state: MockState,
    method: Method,
    Extension(vhost): Extension<VirtualHost>,
    Extension(params): Extension<Arc<RequestParams>>,
    Path(region): Path<String>,
) -> Response {
    if let Some(r) = guard(&vhost, &region) {
        return r;
    }
    if method != Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            Outcome::InvalidRequest,
            "use POST",
        );
    }
    let bad = StatusCode::BAD_REQUEST;
    for name in [
        "grant_type",
        "client_id",
        "client_assertion",
        "client_assertion_type",
    ] {
        if params.non_empty(name).is_none() {
            return error(
                bad,
                Outcome::InvalidRequest,
                &format!("missing parameter: {name}"),
            );
        }
    }
    if params.get("grant_type") != Some("client_credentials") {
        return error(
            bad,
            Outcome::UnsupportedGrantType,
            "grant type not supported",
        );
    }
    if params.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
        return error(
            bad,
            Outcome::InvalidRequest,
            &format!("client_assertion_type must be {CLIENT_ASSERTION_TYPE}"),
        );
    }
    let client_id = params.get("client_id").unwrap_or_default();
    let Some(account) = state
        .model()
        .mci_account(client_id)
        .filter(|a| a.region == region)
    else {
        return error(bad, Outcome::InvalidClient, "unknown service account");
    };
    let Some(jwt) = params.get("client_assertion").and_then(ParsedJwt::parse) else {
        return error(
            bad,
            Outcome::InvalidRequest,
            "client_assertion is not a JWT",
        );
    };
    if !jwt.verify_rs256(&account.key) {
        return error(
            StatusCode::UNAUTHORIZED,
            Outcome::InvalidClient,
            "client assertion signature is invalid",
        );
    }
    let claims = &jwt.claims;
    if claims.iss.as_str() != Some(client_id) || claims.sub.as_str() != Some(client_id) {
        return error(
            bad,
            Outcome::InvalidClient,
            "iss and sub must be the service account id",
        );
    }
    let aud_ok = claims
        .aud
        .strings()
        .any(|a| a.trim_end_matches('/') == account.audience);
    if !aud_ok {
        return error(bad, Outcome::InvalidGrant, "audience is invalid");
    }
    let now = unix_seconds(state.now());
    let Some(iat) = claims.iat.as_date() else {
        return error(bad, Outcome::InvalidGrant, "iat is required");
    };
    // Claims are the client's numbers: saturate rather than overflow.
    if iat > now.saturating_add(MCI_SKEW_SECS) {
        return error(bad, Outcome::InvalidGrant, "assertion issued in the future");
    }
    let exp = claims
        .exp
        .as_date()
        .unwrap_or(iat.saturating_add(MCI_TOKEN_LIFETIME_SECS));
    if exp.saturating_add(MCI_SKEW_SECS) < now {
        return error(bad, Outcome::InvalidGrant, "assertion expired");
    }
    let Some(jti) = claims.jti.as_str().filter(|j| !j.is_empty()) else {
        return error(bad, Outcome::InvalidGrant, "jti is required");
    };
    if !remember_jti(&state, client_id, jti, exp.saturating_add(MCI_SKEW_SECS)) {
        return error(
            bad,
            Outcome::InvalidGrant,
            "assertion already used (jti replayed)",
        );
    }

    let claims = json!({
        "iss": format!("{}/{region}", vhost.public_base),
        "sub": client_id,
        "aud": "https://api.intelligence.salesforce.com",
        "iat": now,
        "exp": now + MCI_TOKEN_LIFETIME_SECS,
        "jti": random_hex(32),
        "region": region,
    });
    let header = Header {
        kid: Some("pardot-mock".into()),
        ..Header::default()
    };
    let Ok(access_token) = encode(
        &header,
        &claims,
        &EncodingKey::from_secret(state.inner.mci_signing_key.as_bytes()),
    ) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Outcome::ServerError,
            "cannot sign the token",
        );
    };
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "expires_in": MCI_TOKEN_LIFETIME_SECS,
            "token_type": "Bearer",
        }),
        Outcome::Ok,
    )
}

/// Records a `jti` until `forget_after` (epoch seconds); `false` when already seen. The
/// cache is pruned by time, so memory stays bounded by the request rate over a few minutes.
fn remember_jti(state: &MockState, client_id: &str, jti: &str, forget_after: i64) -> bool {
    let key = format!("{client_id}\u{0}{jti}");
    let now = state.now();
    let forget_at = std::time::UNIX_EPOCH
        .checked_add(Duration::from_secs(
            u64::try_from(forget_after.max(0)).unwrap_or(0),
        ))
        // Past what this platform's clock can hold (Windows ends in 30828): keep it a century,
        // as good as forever for a replay check.
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now);
    let mut shard = state.inner.mci_jtis.write(&key);
    if shard.len() > 256 {
        shard.retain(|_, t| *t > now);
    }
    if shard.get(&key).is_some_and(|t| *t > now) {
        return false;
    }
    shard.insert(key, forget_at);
    true
}
