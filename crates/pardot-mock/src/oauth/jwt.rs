//! The JWT bearer grant (`docs/reference/salesforce-oauth.md#jwt-bearer-grant`), checked in the
//! order given there: parse, `iss`, `aud`, signature, `exp`, `sub`, approval.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pardot_auth_core::clock::unix_seconds;
use serde_json::Value;

use super::errors::*;
use super::grant_context::{GrantContext, check_login_allowed};
use super::{OAuthError, TokenBody, identity_url, instance_url, org_allowed_on};
use crate::config::OrgKind;
use crate::model::Org;
use crate::rsa_key::Rs256Key;
use crate::virtual_host::{LoginVhost, VirtualHost};

/// How far in the past `exp` may be (Salesforce's clock-skew allowance).
pub const EXP_SKEW_SECS: i64 = 180;

/// The longest RS256 signature checked (an 8192-bit key's), in bytes.
const MAX_SIGNATURE: usize = 8192 / 8;

/// A compact JWS split into its parts; padding (`=`) tolerated as Salesforce does.
pub(crate) struct ParsedJwt {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: String,
}

impl ParsedJwt {
    pub(crate) fn parse(token: &str) -> Option<Self> {
        let token = token.trim();
        // Padding is rare: only then is the token copied without it.
        let token: Cow<'_, str> = if token.contains('=') {
            Cow::Owned(token.chars().filter(|c| *c != '=').collect())
        } else {
            Cow::Borrowed(token)
        };
        let (signing_input, s) = token.rsplit_once('.')?;
        let (h, c) = signing_input.split_once('.')?;
        if c.contains('.') || h.is_empty() || c.is_empty() || s.is_empty() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
        if !header.is_object() || !claims.is_object() {
            return None;
        }
        Some(Self {
            header,
            claims,
            signing_input: signing_input.to_owned(),
            signature: s.to_owned(),
        })
    }

    /// Whether the header says RS256 and the signature verifies with `key`.
    pub(crate) fn verify_rs256(&self, key: &Rs256Key) -> bool {
        if self.header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return false;
        }
        // Decoded on the stack: a signature longer than the longest key's cannot verify.
        let mut signature = [0_u8; MAX_SIGNATURE];
        let Ok(len) = URL_SAFE_NO_PAD.decode_slice(&self.signature, &mut signature) else {
            return false;
        };
        key.verifies(self.signing_input.as_bytes(), &signature[..len])
    }

    pub(crate) fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim sent as a number or a numeric string.
    pub(crate) fn date_claim(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// `aud` as a list (a JWT may send one string or an array).
    pub(crate) fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

fn normalise(url: &str) -> String {
    url.strip_suffix('/').unwrap_or(url).to_ascii_lowercase()
}

/// The audiences an org accepts when called on `vhost` (the mock README's virtual-host rules): its
/// real login host, its My Domain URL (real or mock form), and the URL it was called on.
fn accepted_audiences(vhost: &VirtualHost, org: Option<&Org>) -> Vec<String> {
    let mut out = vec![normalise(&vhost.public_base)];
    let kind = match (org, vhost.login()) {
        (Some(o), _) => Some(o.kind),
        (None, Some(LoginVhost::Sandbox)) => Some(OrgKind::Sandbox),
        (None, Some(LoginVhost::Production)) => Some(OrgKind::Production),
        _ => None,
    };
    match kind {
        Some(OrgKind::Production) => out.push("https://login.salesforce.com".into()),
        Some(OrgKind::Sandbox) => out.push("https://test.salesforce.com".into()),
        None => {}
    }
    if let Some(name) = org.and_then(|o| o.my_domain.as_deref()) {
        let name = name.to_ascii_lowercase();
        out.push(format!("https://{name}.my.salesforce.com"));
        out.push(format!("https://{name}.sandbox.my.salesforce.com"));
        out.push(normalise(&format!("{}/my/{name}", vhost.origin)));
    }
    out
}

pub(crate) fn jwt_bearer(ctx: &GrantContext<'_>) -> Result<TokenBody, OAuthError> {
    let state = ctx.state;
    let model = state.model();
    let jwt = ctx
        .params
        .non_empty("assertion")
        .and_then(ParsedJwt::parse)
        .ok_or(INVALID_ASSERTION)?;
    // `prn` is the old name of `sub`; when both are present `prn` wins.
    let subject = jwt.str_claim("prn").or_else(|| jwt.str_claim("sub"));
    let (Some(iss), Some(subject), Some(exp)) =
        (jwt.str_claim("iss"), subject, jwt.date_claim("exp"))
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
    let accepted = accepted_audiences(ctx.vhost, org);
    if !jwt
        .audiences()
        .iter()
        .any(|a| accepted.contains(&normalise(a)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tolerates_padding_and_reads_string_dates() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let c =
            URL_SAFE_NO_PAD.encode(br#"{"iss":"k","sub":"u","aud":["a","b"],"exp":"1795610048"}"#);
        let jwt = ParsedJwt::parse(&format!("{h}==.{c}=.c2ln")).unwrap();
        assert_eq!(jwt.date_claim("exp"), Some(1_795_610_048));
        assert_eq!(jwt.audiences(), vec!["a", "b"]);
        assert!(ParsedJwt::parse("a.b").is_none());
        assert!(ParsedJwt::parse("not-a-jwt").is_none());
        assert!(ParsedJwt::parse("....").is_none());
    }
}
