//! What every grant handler shares: the request as a [`GrantContext`], the login checks and
//! the success body. The dispatcher (`grants`) builds the context; the grant handlers (`grants`,
//! `code`, `device`, `jwt`) use it.

use axum::http::HeaderMap;
use pardot_auth_core::clock::unix_millis;

use super::errors::*;
use super::{OAuthError, TokenBody, identity_url, instance_url};
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// What a grant handler gets.
pub(crate) struct GrantContext<'a> {
    pub state: &'a MockState,
    pub vhost: &'a VirtualHost,
    pub login: LoginVhost,
    pub params: &'a RequestParams,
    pub headers: &'a HeaderMap,
}

/// Builds the success body of the password, refresh, code, device and client-credentials
/// grants: `access_token, [refresh_token], signature, scope, instance_url, id, token_type,
/// issued_at`.
pub(crate) fn full_body(
    ctx: &GrantContext<'_>,
    user: usize,
    app: usize,
    scopes: &str,
    chain: Option<u64>,
    refresh_token: Option<String>,
) -> TokenBody {
    let state = ctx.state;
    let (access_token, record) = state.issue_access(user, Some(app), scopes, chain);
    let id = identity_url(ctx.vhost, state, user);
    let issued_at = unix_millis(record.issued).to_string();
    let org = &state.model().orgs[state.user(user).org];
    TokenBody {
        access_token,
        refresh_token,
        signature: Some(state.model().apps[app].signature_key.sign(&id, &issued_at)),
        scope: scopes.to_owned(),
        instance_url: instance_url(ctx.vhost, org),
        id,
        token_type: "Bearer",
        issued_at: Some(issued_at),
    }
}

/// Ends an interactive grant (code, device) for an approved `user`: counts the login against
/// the org's limit, issues a refresh token when the scopes earn one, and answers the full body.
pub(crate) fn new_session_body(
    ctx: &GrantContext<'_>,
    user: usize,
    app: usize,
    scopes: &str,
) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    if !state.count_login(state.user(user).org) {
        return Err(RATE_LIMIT);
    }
    let (refresh_token, chain) = if wants_refresh(scopes) {
        let (token, chain) = state.issue_refresh(user, app, scopes, None);
        (Some(token), Some(chain))
    } else {
        (None, None)
    };
    Ok(full_body(ctx, user, app, scopes, chain, refresh_token))
}

/// Locked org, then inactive user, then the login rate limit.
pub(crate) fn check_login_allowed(
    ctx: &GrantContext<'_>,
    user: usize,
    inactive: OAuthError,
) -> Result<(), OAuthError> {
    let u = ctx.state.user(user);
    if ctx.state.model().orgs[u.org].locked {
        return Err(INACTIVE_ORG);
    }
    if !u.active {
        return Err(inactive);
    }
    Ok(())
}

/// Whether the granted scopes earn a refresh token.
pub(crate) fn wants_refresh(scopes: &str) -> bool {
    scopes
        .split_whitespace()
        .any(|s| s == "refresh_token" || s == "offline_access")
}
