//! The JWT bearer grant (`docs/reference/salesforce-oauth.md#jwt-bearer-grant`), checked in the
//! order given there: parse, `iss`, `aud`, signature, `exp`, `sub`, approval.

use pardot_auth_core::clock::unix_seconds;

use super::assertion::ParsedJwt;
use super::errors::*;
use super::grant_context::{GrantContext, check_login_allowed};
use super::{OAuthError, TokenBody, identity_url, instance_url, org_allowed_on};
use crate::config::OrgKind;
use crate::model::Org;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// How far in the past `exp` may be (Salesforce's clock-skew allowance).
pub const EXP_SKEW_SECS: i64 = 180;

/// `url` without one trailing `/`: audiences compare that way, and without regard to ASCII case.
fn without_slash(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

/// Whether `text` is `parts` joined, ASCII case aside (so no joined copy is made).
fn is_joined(text: &str, parts: &[&str]) -> bool {
    let mut rest = text.as_bytes();
    for part in parts {
        match rest.split_at_checked(part.len()) {
            Some((head, tail)) if head.eq_ignore_ascii_case(part.as_bytes()) => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// Whether an org accepts `aud` when called on `vhost` (the mock README's virtual-host rules):
/// its real login host, its My Domain URL (real or mock form), or the URL it was called on.
/// One trailing `/` and ASCII case do not count.
fn audience_accepted(aud: &str, vhost: &VirtualHost, org: Option<&Org>) -> bool {
    let aud = without_slash(aud);
    if aud.eq_ignore_ascii_case(without_slash(&vhost.public_base)) {
        return true;
    }
    let kind = match (org, vhost.login()) {
        (Some(o), _) => Some(o.kind),
        (None, Some(LoginVhost::Sandbox)) => Some(OrgKind::Sandbox),
        (None, Some(LoginVhost::Production)) => Some(OrgKind::Production),
        _ => None,
    };
    let login_host = match kind {
        Some(OrgKind::Production) => Some("https://login.salesforce.com"),
        Some(OrgKind::Sandbox) => Some("https://test.salesforce.com"),
        None => None,
    };
    if login_host.is_some_and(|host| aud.eq_ignore_ascii_case(host)) {
        return true;
    }
    let Some(name) = org.and_then(|o| o.my_domain.as_deref()) else {
        return false;
    };
    is_joined(aud, &["https://", name, ".my.salesforce.com"])
        || is_joined(aud, &["https://", name, ".sandbox.my.salesforce.com"])
        // A My Domain name is letters, digits and `-` (the model checks): it never ends in `/`.
        || is_joined(aud, &[&vhost.origin, "/my/", name])
}

pub(crate) fn jwt_bearer(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let model = state.model();
    let jwt = ctx
        .params
        .non_empty("assertion")
        .and_then(ParsedJwt::parse)
        .ok_or(INVALID_ASSERTION)?;
    let claims = &jwt.claims;
    // `prn` is the old name of `sub`; when both are present `prn` wins.
    let subject = claims.prn.as_str().or_else(|| claims.sub.as_str());
    let (Some(iss), Some(subject), Some(exp)) =
        (claims.iss.as_str(), subject, claims.exp.as_date())
    else {
        return Err(INVALID_ASSERTION);
    };

    let app = model.app_by_key(iss).ok_or(INVALID_CLIENT_ID)?;
    let user = model.user_by_username(subject);
    let org = user.map(|u| &model.orgs[model.users[u].org]);

    if let Some(o) = org
        && !org_allowed_on(o, &ctx.login)
    {
        return Err(AUDIENCE_INVALID);
    }
    if !claims
        .aud
        .strings()
        .any(|a| audience_accepted(a, ctx.vhost, org))
    {
        return Err(AUDIENCE_INVALID);
    }

    let app_ref = &model.apps[app];
    let verified = app_ref
        .certificate
        .as_ref()
        .is_some_and(|key| jwt.verify_rs256(key));
    if !verified {
        return Err(INVALID_ASSERTION);
    }

    // `exp` is the client's number: saturate rather than overflow.
    if exp.saturating_add(EXP_SKEW_SECS) < unix_seconds(state.now()) {
        return Err(EXPIRED_CODE);
    }

    // An unknown username answers like an unapproved one (what Salesforce is seen to do).
    let user = user.ok_or(NOT_APPROVED)?;
    check_login_allowed(ctx, user, INACTIVE_USER)?;
    if !state.is_approved(user, app) {
        return Err(NOT_APPROVED);
    }
    if !state.count_login(model.users[user].org) {
        return Err(RATE_LIMIT);
    }

    let scopes = app_ref.scopes.join(" ");
    let (access_token, _) = state.issue_access(user, Some(app), &scopes, None);
    let org = &model.orgs[model.users[user].org];
    Ok(TokenBody {
        access_token,
        refresh_token: None,
        signature: None,
        scope: scopes,
        instance_url: instance_url(ctx.vhost, org),
        id: identity_url(ctx.vhost, state, user),
        token_type: "Bearer",
        issued_at: None,
    })
}
