//! `grant_type=authorization_code` (`docs/reference/salesforce-oauth.md#authorization-code-grant`):
//! client authentication, the single-use code, `redirect_uri`, PKCE (S256 only), then the token
//! body with a `refresh_token` when the granted scopes include `refresh_token` or `offline_access`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::errors::*;
use super::grant_context::{GrantContext, check_login_allowed, new_session_body};
use super::web::web;
use super::{OAuthError, TokenBody, client_auth, org_allowed_on, secret_eq};

oauth_errors! {
    /// `redirect_uri` missing at the code exchange.
    REDIRECT_URI_MISSING: RedirectUriMissing, "redirect_uri not provided";
    /// `redirect_uri` differs from the one used at authorize.
    REDIRECT_URI_MISMATCH: RedirectUriMismatch, "redirect_uri mismatch with remote access object";
    /// A PKCE challenge was given at authorize but no `code_verifier` now (spec: `invalid_grant`).
    VERIFIER_MISSING: InvalidGrant, "invalid code verifier";
    /// The `code_verifier` does not match the challenge (spec: `invalid_request`).
    VERIFIER_MISMATCH: InvalidRequest, "invalid code verifier";
}

/// `base64url(SHA-256(verifier))` without padding (RFC 7636 S256).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn authorization_code(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let model = state.model();
    let (id, secret) = client_auth(ctx.params, ctx.headers);
    let app = id
        .as_deref()
        .and_then(|id| model.app_by_key(id))
        .ok_or(INVALID_CLIENT_ID)?;
    let app_ref = &model.apps[app];
    // An app without a secret (public) cannot be authenticated by one, not even an empty one.
    let secret_given = match secret.filter(|s| !s.is_empty()) {
        Some(s)
            if !app_ref.consumer_secret.is_empty() && secret_eq(&s, &app_ref.consumer_secret) =>
        {
            true
        }
        Some(_) => return Err(INVALID_CLIENT),
        None if app_ref.public_pkce => false,
        None => return Err(INVALID_CLIENT),
    };

    // The code is consumed by the first exchange that names it with the right client, so a
    // second attempt (even after a failed PKCE check) answers like a reused code.
    let code = ctx.params.non_empty("code").ok_or(EXPIRED_CODE)?;
    let record = web(state)
        .codes
        .take_if(code, |c| c.app == app)
        .ok_or(EXPIRED_CODE)?;
    if state.now() >= record.expires {
        return Err(EXPIRED_CODE);
    }
    let user = record.user;
    if !org_allowed_on(&model.orgs[state.user(user).org], &ctx.login) {
        // Another login server never issued this code.
        return Err(EXPIRED_CODE);
    }
    match ctx.params.non_empty("redirect_uri") {
        None => return Err(REDIRECT_URI_MISSING),
        Some(r) if r != record.redirect_uri => return Err(REDIRECT_URI_MISMATCH),
        Some(_) => {}
    }
    match (
        &record.code_challenge,
        ctx.params.non_empty("code_verifier"),
    ) {
        (Some(_), None) => return Err(VERIFIER_MISSING),
        (Some(challenge), Some(verifier)) if !secret_eq(&pkce_s256(verifier), challenge) => {
            return Err(VERIFIER_MISMATCH);
        }
        // A public app without a secret must have used PKCE.
        (None, _) if !secret_given => return Err(INVALID_CLIENT),
        _ => {}
    }
    check_login_allowed(ctx, user, INACTIVE_USER)?;
    if state.inner.tokens.is_withdrawn(user, app) {
        // The approval was revoked after the code was issued.
        return Err(EXPIRED_CODE);
    }
    new_session_body(ctx, user, app, &record.scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::grant_context::wants_refresh;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(wants_refresh("api offline_access"));
        assert!(!wants_refresh("api full"));
    }
}
