//! Revoke, userinfo, identity URL, introspect, and the retired SOAP login.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pardot_auth_core::SalesforceId;
use pardot_auth_core::clock::unix_seconds;
use serde_json::{Value, json};

use super::errors::{INVALID_CLIENT, INVALID_CLIENT_ID};
use super::login_request::LoginRequest;
use super::{OAuthError, bearer_token, client_auth, identity_url, instance_url, secret_eq};
use crate::issued_tokens::AccessRecord;
use crate::model::User;
use crate::outcome::{plain, reporting};
use crate::route::Outcome;

fn bad_token() -> Response {
    plain(
        StatusCode::FORBIDDEN,
        "Bad_OAuth_Token",
        Outcome::BadOAuthToken,
    )
}

fn json_response(status: StatusCode, value: &Value, content_type: &'static str) -> Response {
    let mut r = (status, value.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(super::TOKEN_CACHE_CONTROL),
    );
    r
}

fn revoke_error(error: Outcome, description: &'static str) -> Response {
    let r = json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
        "application/json",
    );
    reporting(r, error)
}

/// `POST|GET /services/oauth2/revoke` with `token`.
pub(crate) async fn revoke(LoginRequest { state, params, .. }: LoginRequest) -> Response {
    if let Some(hint) = params.non_empty("token_type_hint")
        && hint != "access_token"
        && hint != "refresh_token"
    {
        return revoke_error(Outcome::UnsupportedTokenType, "Token type not supported");
    }
    let Some(token) = params.non_empty("token") else {
        return revoke_error(Outcome::InvalidToken, "Token was invalid");
    };
    let tokens = &state.inner.tokens;
    if tokens.live_access(token, state.now()).is_some() {
        tokens.remove_access(token);
    } else if let Some(record) = tokens.refresh_record(token)
        && !tokens.chain_revoked(record.chain)
    {
        tokens.revoke_chain(record.chain);
    } else {
        return revoke_error(Outcome::InvalidToken, "Token was invalid");
    }
    StatusCode::OK.into_response()
}

fn live_bearer(request: &LoginRequest) -> Option<AccessRecord> {
    let token = bearer_token(&request.headers, &request.params)?;
    let state = &request.state;
    state.inner.tokens.live_access(&token, state.now())
}

fn urls(instance: &str, org18: &str, user18: &str) -> Value {
    json!({
        "enterprise": format!("{instance}/services/Soap/c/{{version}}/{org18}"),
        "metadata": format!("{instance}/services/Soap/m/{{version}}/{org18}"),
        "partner": format!("{instance}/services/Soap/u/{{version}}/{org18}"),
        "rest": format!("{instance}/services/data/v{{version}}/"),
        "sobjects": format!("{instance}/services/data/v{{version}}/sobjects/"),
        "search": format!("{instance}/services/data/v{{version}}/search/"),
        "query": format!("{instance}/services/data/v{{version}}/query/"),
        "recent": format!("{instance}/services/data/v{{version}}/recent/"),
        "tooling_soap": format!("{instance}/services/Soap/T/{{version}}/{org18}"),
        "tooling_rest": format!("{instance}/services/data/v{{version}}/tooling/"),
        "profile": format!("{instance}/{user18}"),
        "feeds": format!("{instance}/services/data/v{{version}}/chatter/feeds"),
        "groups": format!("{instance}/services/data/v{{version}}/chatter/groups"),
        "users": format!("{instance}/services/data/v{{version}}/chatter/users"),
        "feed_items": format!("{instance}/services/data/v{{version}}/chatter/feed-items"),
        "feed_elements": format!("{instance}/services/data/v{{version}}/chatter/feed-elements"),
        "custom_domain": instance,
    })
}

fn profile_picture(instance: &str) -> String {
    format!("{instance}/img/userprofile/default_profile_200_v2.png")
}

/// The `photos` object of userinfo and the identity URL.
fn photos(instance: &str) -> Value {
    json!({
        "picture": profile_picture(instance),
        "thumbnail": format!("{instance}/img/userprofile/default_profile_45_v2.png"),
    })
}

/// The user's first and last name, or the username when both are empty.
fn display_name(user: &User) -> String {
    let name = format!("{} {}", user.first_name, user.last_name);
    match name.trim() {
        "" => user.username.clone(),
        trimmed => trimmed.to_owned(),
    }
}

/// The username before the `@`.
fn nickname(user: &User) -> &str {
    user.username.split('@').next().unwrap_or_default()
}

/// `GET /services/oauth2/userinfo` (OpenID Connect).
pub(crate) async fn userinfo(request: LoginRequest) -> Response {
    let Some(record) = live_bearer(&request) else {
        return bad_token();
    };
    let LoginRequest { state, vhost, .. } = &request;
    let user = state.user(record.user);
    let org = &state.model().orgs[user.org];
    let instance = instance_url(vhost, org);
    let body = json!({
        "sub": identity_url(vhost, state, record.user),
        "user_id": user.id.as_str(),
        "organization_id": org.id.as_str(),
        "preferred_username": user.username,
        "nickname": nickname(user),
        "name": display_name(user),
        "email": user.email,
        "email_verified": true,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "zoneinfo": "America/Los_Angeles",
        "photos": photos(&instance),
        "profile": format!("{instance}/{}", user.id),
        "picture": profile_picture(&instance),
        "address": {},
        "is_salesforce_integration_user": false,
        "urls": urls(&instance, org.id.as_str(), user.id.as_str()),
        "active": user.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28_800_000,
        "updated_at": "2024-01-01T00:00:00Z",
    });
    json_response(StatusCode::OK, &body, "application/json;charset=UTF-8")
}

/// `GET /id/{org}/{user}`: the identity URL.
pub(crate) async fn identity(
    Path((org_text, user_text)): Path<(String, String)>,
    request: LoginRequest,
) -> Response {
    let Some(record) = live_bearer(&request) else {
        return bad_token();
    };
    let LoginRequest { state, vhost, .. } = &request;
    let model = state.model();
    let token_org = &model.orgs[record.org];
    if SalesforceId::parse(&org_text).ok().as_ref() != Some(&token_org.id) {
        return plain(StatusCode::FORBIDDEN, "Wrong_Org", Outcome::WrongOrg);
    }
    let Some(user_index) = SalesforceId::parse(&user_text)
        .ok()
        .and_then(|id| model.user_by_id(&id))
        .filter(|u| model.users[*u].org == record.org)
    else {
        return plain(StatusCode::NOT_FOUND, "Bad_Id", Outcome::BadId);
    };
    let user = &model.users[user_index];
    if !user.active {
        return plain(StatusCode::FORBIDDEN, "Inactive", Outcome::Inactive);
    }
    let instance = instance_url(vhost, token_org);
    let body = json!({
        "id": identity_url(vhost, state, user_index),
        "asserted_user": user_index == record.user,
        "user_id": user.id.as_str(),
        "organization_id": token_org.id.as_str(),
        "username": user.username,
        "nick_name": nickname(user),
        "display_name": display_name(user),
        "email": user.email,
        "email_verified": true,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "timezone": "America/Los_Angeles",
        "photos": photos(&instance),
        "addr_street": null, "addr_city": null, "addr_state": null,
        "addr_country": null, "addr_zip": null,
        "mobile_phone": null, "mobile_phone_verified": false,
        "is_lightning_login_user": false,
        "status": {"created_date": null, "body": null},
        "urls": urls(&instance, token_org.id.as_str(), user.id.as_str()),
        "active": user.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28_800_000,
        "last_modified_date": "2024-01-01T00:00:00.000+0000",
        "is_app_installed": true,
    });
    json_response(StatusCode::OK, &body, "application/json;charset=UTF-8")
}

/// `POST /services/oauth2/introspect` (RFC 7662), client-authenticated.
pub(crate) async fn introspect(
    LoginRequest {
        state,
        vhost,
        params,
        headers,
        ..
    }: LoginRequest,
) -> Response {
    let (id, secret) = client_auth(&params, &headers);
    let model = state.model();
    let Some(app) = id.as_deref().and_then(|id| model.app_by_key(id)) else {
        return INVALID_CLIENT_ID.into_response();
    };
    if !secret.is_some_and(|s| secret_eq(&s, &model.apps[app].consumer_secret)) {
        return OAuthError::into_response(INVALID_CLIENT);
    }
    let inactive = || {
        json_response(
            StatusCode::OK,
            &json!({"active": false}),
            "application/json;charset=UTF-8",
        )
    };
    let Some(token) = params.non_empty("token") else {
        return inactive();
    };
    let tokens = &state.inner.tokens;
    // A live access token also tells when it expires; a refresh token does not expire.
    let (user, scopes, token_type, issued, expires) = if let Some(record) =
        tokens.live_access(token, state.now())
        && record.app == Some(app)
    {
        let scopes = Arc::clone(&record.scopes);
        (
            record.user,
            scopes,
            "access_token",
            record.issued,
            Some(record.expires),
        )
    } else if let Some(record) = tokens.refresh_record(token)
        && record.app == app
        && !record.rotated
        && !tokens.chain_revoked(record.chain)
    {
        let scopes = Arc::clone(&record.scopes);
        (record.user, scopes, "refresh_token", record.issued, None)
    } else {
        return inactive();
    };
    let mut body = json!({
        "active": true,
        "scope": &*scopes,
        "client_id": &model.apps[app].consumer_key,
        "username": state.user(user).username,
        "sub": identity_url(&vhost, &state, user),
        "token_type": token_type,
    });
    if let Some(expires) = expires {
        body["exp"] = json!(unix_seconds(expires));
    }
    body["iat"] = json!(unix_seconds(issued));
    body["nbf"] = json!(unix_seconds(issued));
    json_response(StatusCode::OK, &body, "application/json;charset=UTF-8")
}

/// `POST /services/Soap/{kind}/{version}`: SOAP login is retired and not served.
/// Only on a login host: elsewhere [`LoginRequest`] answers "not a login host".
pub(crate) async fn soap_login(_: LoginRequest) -> Response {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>sf:UNSUPPORTED_API_VERSION</faultcode><faultstring>UNSUPPORTED_API_VERSION: pardot-mock does not serve the retired SOAP login; use OAuth 2.0 at /services/oauth2/token (JWT bearer, client credentials, web server or password grant)</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
    let mut r = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    reporting(r, Outcome::SoapNotSupported)
}
