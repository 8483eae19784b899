//! `POST /services/oauth2/token`: JWT bearer, password, refresh token and client credentials
//! here; [`dispatch`] also routes `authorization_code` (`code`), `device` and
//! `response_type=device_code` (`device`).

use axum::http::Method;
use axum::response::{IntoResponse, Response};

use super::errors::*;
use super::grant_context::{GrantContext, check_login_allowed, full_body};
use super::login_request::LoginRequest;
use super::{OAuthError, TokenBody, client_auth, org_allowed_on, secret_eq};
use crate::virtual_host::LoginVhost;

/// The JWT bearer grant type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(crate) async fn token_endpoint(request: LoginRequest) -> Response {
    if request.method != Method::POST {
        return MUST_POST.into_response();
    }
    let ctx = request.grant_context();
    // The device flow's first step uses `response_type`, not `grant_type`
    // (`docs/reference/salesforce-oauth.md#device-flow`).
    if ctx.params.get("grant_type").is_none()
        && ctx.params.get("response_type") == Some("device_code")
    {
        return super::device::device_authorization(&ctx);
    }
    match dispatch(&ctx) {
        Ok(body) => body.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Picks the grant (or the device authorization, `response_type=device_code`).
pub(crate) fn dispatch(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    match ctx.params.get("grant_type") {
        Some("password") => password(ctx),
        Some("refresh_token") => refresh(ctx),
        Some("client_credentials") => client_credentials(ctx),
        Some(JWT_BEARER) => super::jwt::jwt_bearer(ctx),
        Some("authorization_code") => super::code::authorization_code(ctx),
        Some("device") => super::device::device_grant(ctx),
        _ => Err(UNSUPPORTED_GRANT_TYPE),
    }
}

/// Looks up the app by `client_id` and checks its secret (required when `need_secret`).
pub(crate) fn authenticate_client(
    ctx: &GrantContext<'_>,
    need_secret: bool,
) -> Result<usize, OAuthError> {
    let (id, secret) = client_auth(ctx.params, ctx.headers);
    let app = id
        .as_deref()
        .and_then(|id| ctx.state.model().app_by_key(id))
        .ok_or(INVALID_CLIENT_ID)?;
    let expected = &ctx.state.model().apps[app].consumer_secret;
    match secret {
        Some(s) if secret_eq(&s, expected) => Ok(app),
        Some(_) => Err(INVALID_CLIENT),
        None if need_secret => Err(INVALID_CLIENT),
        None => Ok(app),
    }
}

/// Scopes requested with `scope`, checked against the app's; the app's when absent.
fn granted_scopes(ctx: &GrantContext<'_>, app: usize) -> Result<String, OAuthError> {
    let app_scopes = &ctx.state.model().apps[app].scopes;
    match ctx.params.non_empty("scope") {
        None => Ok(app_scopes.join(" ")),
        Some(requested) => {
            let wanted: Vec<&str> = requested.split_whitespace().collect();
            if wanted.iter().all(|w| app_scopes.iter().any(|s| s == w)) {
                Ok(wanted.join(" "))
            } else {
                Err(INVALID_SCOPE)
            }
        }
    }
}

fn password(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let app = authenticate_client(ctx, true)?;
    let user = ctx
        .params
        .non_empty("username")
        .and_then(|u| state.model().user_by_username(u))
        .ok_or(AUTHENTICATION_FAILURE)?;
    let u = state.user(user);
    let org = &state.model().orgs[u.org];
    if !org_allowed_on(org, &ctx.login) || !org.password_flow {
        return Err(AUTHENTICATION_FAILURE);
    }
    let given = ctx.params.get("password").unwrap_or_default();
    // `given` is the password followed by the security token: compared in two parts, in
    // constant time, without joining the two.
    let with_token = given.len() == u.password.len() + u.security_token.len()
        && given.is_char_boundary(u.password.len())
        && {
            let (password, token) = given.split_at(u.password.len());
            secret_eq(password, &u.password) & secret_eq(token, &u.security_token)
        };
    let ok = with_token || (u.trusted_ip && secret_eq(given, &u.password));
    if !ok {
        return Err(AUTHENTICATION_FAILURE);
    }
    check_login_allowed(ctx, user, INACTIVE_USER)?;
    // A self-authorize app needs no earlier approval for this grant (and the grant records
    // none: it issues no refresh token); only an admin-approved app checks the assignment.
    if !state.is_assigned(user, app) {
        return Err(INVALID_APP_ACCESS);
    }
    let scopes = granted_scopes(ctx, app)?;
    if !state.count_login(u.org) {
        return Err(RATE_LIMIT);
    }
    Ok(full_body(ctx, user, app, &scopes, None, None))
}

fn refresh(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let (id, secret) = client_auth(ctx.params, ctx.headers);
    let app = id
        .as_deref()
        .and_then(|id| state.model().app_by_key(id))
        .ok_or(INVALID_CLIENT_ID)?;
    let app_ref = &state.model().apps[app];
    match secret {
        Some(s) if !secret_eq(&s, &app_ref.consumer_secret) => return Err(INVALID_CLIENT),
        None if app_ref.require_secret_for_refresh => return Err(INVALID_CLIENT),
        _ => {}
    }
    let token = ctx.params.non_empty("refresh_token").ok_or(EXPIRED_TOKEN)?;
    let tokens = &state.inner.tokens;
    let record = tokens.refresh_record(token).ok_or(EXPIRED_TOKEN)?;
    if record.app != app || tokens.chain_revoked(record.chain) {
        return Err(EXPIRED_TOKEN);
    }
    if record.rotated {
        // Reuse of a rotated token: the whole chain dies (Refresh Token Rotation).
        tokens.revoke_chain(record.chain);
        return Err(EXPIRED_TOKEN);
    }
    let org = &state.model().orgs[state.user(record.user).org];
    if !org_allowed_on(org, &ctx.login) {
        return Err(EXPIRED_TOKEN);
    }
    check_login_allowed(ctx, record.user, INACTIVE_USER_REFRESH)?;
    let new_refresh = if state.model().app_runtime(app).rotation() {
        if let Some(r) = tokens.refresh.write(token).get_mut(token) {
            r.rotated = true;
        }
        Some(
            state
                .issue_refresh(record.user, app, &record.scopes, Some(record.chain))
                .0,
        )
    } else {
        None
    };
    Ok(full_body(
        ctx,
        record.user,
        app,
        &record.scopes,
        Some(record.chain),
        new_refresh,
    ))
}

/// Scopes a client-credentials token may never carry.
const CC_EXCLUDED: [&str; 4] = ["full", "web", "offline_access", "refresh_token"];

fn client_credentials(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let app = authenticate_client(ctx, true)?;
    let LoginVhost::MyDomain(domain) = &ctx.login else {
        return Err(NOT_ON_THIS_DOMAIN);
    };
    let app_ref = &state.model().apps[app];
    if !app_ref.client_credentials {
        return Err(UNSUPPORTED_GRANT_TYPE);
    }
    let user = app_ref.run_as.ok_or(NO_CC_USER)?;
    let org = &state.model().orgs[state.user(user).org];
    if !org_allowed_on(org, &LoginVhost::MyDomain(domain.clone())) {
        // The app is not installed in the org this My Domain belongs to.
        return Err(INVALID_CLIENT_ID);
    }
    check_login_allowed(ctx, user, INACTIVE_USER)?;
    let scopes: Vec<&str> = app_ref
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !CC_EXCLUDED.contains(s))
        .collect();
    if scopes.is_empty() {
        return Err(NO_VALID_SCOPES);
    }
    if !state.count_login(state.user(user).org) {
        return Err(RATE_LIMIT);
    }
    Ok(full_body(ctx, user, app, &scopes.join(" "), None, None))
}
