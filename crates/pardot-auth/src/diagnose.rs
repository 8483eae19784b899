//! [`Diagnosis`], what [`diagnose`](fn@crate::diagnose) finds: can this setup call Pardot,
//! and if not, which known mistake is it?
//!
//! The diagnosis checks the credentials as configured, not a token kept from an earlier run:
//! it fetches a fresh token with the configured flow (and replaces the stored one only when
//! that succeeded), asks Salesforce's userinfo whose token it is, and makes one cheap Pardot
//! call with it (`account read`, v4, then v3 for v3 accounts). The flows that need a person
//! (web server, device) are checked through the refresh token they keep in the token store;
//! when the store holds only an access token, only that token can be checked, and the
//! diagnosis says so ([`TokenChecked::StoredOnly`]). This module is the vocabulary: each
//! known setup mistake, its fix and its class; `diagnose_check.rs`, above it, runs the checks.

use std::fmt;

use pardot_auth_core::{BusinessUnitId, ErrorClass};

use crate::config::Flow;

/// What was checked: the credentials themselves, or only a token kept from an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenChecked {
    /// A token fetched just now with the configured credentials (or the stored refresh token
    /// of a flow that keeps one).
    Fresh,
    /// Only the access token in the token store: the flow needs a person to sign in and the
    /// store holds no refresh token, so the sign-in itself was not checked.
    StoredOnly {
        /// The flow that needs a person.
        flow: Flow,
    },
}

impl fmt::Display for TokenChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fresh => f.write_str("checked with a fresh token"),
            Self::StoredOnly { flow } => write!(
                f,
                "checked the stored token only: the {flow} flow needs a person and the store \
                 has no refresh token; run `pardot-auth login {flow}` to check the sign-in itself"
            ),
        }
    }
}

/// The Pardot call that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PardotCall {
    /// The Pardot base URL called.
    pub host: String,
    /// The business unit sent (Salesforce tokens; none for a legacy api_key).
    pub business_unit: Option<BusinessUnitId>,
    /// The v3/v4 API version the account answered on.
    pub api_version: u8,
}

/// The verdict of [`diagnose`](fn@crate::diagnose): all good, or one known setup mistake with what to do about
/// it. `Display` is one line: a short label (`not approved:`, `wrong BU:`…), what was seen,
/// and the fix ([`fix`](Self::fix)). Never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnosis {
    /// The credentials work and Pardot answered (for MCI: the service account got a token).
    Ok {
        /// Who the token belongs to: `username (org 00D…)`, the legacy email, or the MCI
        /// service account.
        user: String,
        /// The Pardot call that answered; `None` for MCI, whose tokens cannot call Pardot.
        pardot: Option<PardotCall>,
        /// Whether the credentials or only a stored token were checked.
        checked: TokenChecked,
    },
    /// Username-password flow: `invalid_grant: authentication failure`.
    WrongPassword {
        /// The username that was refused.
        username: String,
    },
    /// `invalid_client_id`: the login server does not know the consumer key.
    UnknownConsumerKey {
        /// The consumer key sent.
        client_id: String,
    },
    /// `invalid_client`: the consumer secret (or the client assertion's key) is wrong.
    WrongClientSecret,
    /// JWT bearer: `invalid assertion`, the signature does not verify against the app's
    /// certificate (none uploaded, or another key).
    CertificateMismatch,
    /// `user hasn't approved this consumer` or `invalid_app_access`: the user is neither
    /// pre-authorized for the app nor has approved it.
    NotPreAuthorized {
        /// The user.
        username: String,
    },
    /// JWT `audience is invalid`: the login host does not serve the user's org (sandbox vs
    /// production).
    WrongLoginHost {
        /// The login host configured.
        login: String,
    },
    /// Client credentials outside the org's My Domain.
    MyDomainRequired,
    /// `unsupported_grant_type` (or no run-as user): the flow is not enabled on the app.
    FlowNotEnabled {
        /// The flow.
        flow: Flow,
        /// What the server said.
        detail: String,
    },
    /// `inactive_user` / `inactive user`.
    InactiveUser,
    /// `inactive_org`: the org is locked, closed or suspended.
    OrgLocked,
    /// The refresh token was revoked, expired or already rotated.
    RefreshTokenRejected {
        /// The flow.
        flow: Flow,
    },
    /// A web or device flow with no refresh token and no access token in the store.
    NeedsLogin {
        /// The flow.
        flow: Flow,
    },
    /// The signed assertion is out of date for the server: this machine's clock is off.
    ClockSkew {
        /// What the server said.
        detail: String,
    },
    /// The token lacks the `pardot_api` scope, or the login asked for a scope the app lacks.
    MissingScope {
        /// The scopes granted, or what the server said.
        granted: String,
    },
    /// `rate_limit_exceeded`: too many logins in the last hour.
    LoginRateLimited,
    /// Legacy login: code 15, wrong email, password or user key.
    LegacyLoginFailed {
        /// The email.
        email: String,
    },
    /// Legacy login: code 131, the account is locked after failed logins.
    LegacyAccountLocked,
    /// Legacy login: code 126, the account may not use the email/password/user key login
    /// (Salesforce retired it; SSO users never had it).
    LegacyLoginRetired,
    /// A legacy api_key was refused (code 1).
    LegacyApiKeyExpired,
    /// The token was refused by userinfo or Pardot (code 184) although it has `pardot_api`.
    TokenRejected {
        /// What was checked.
        checked: TokenChecked,
        /// What the server said.
        detail: String,
    },
    /// Code 201: Pardot does not know the business unit on this host, or it is inactive.
    BusinessUnitNotFound {
        /// The business unit.
        business_unit: String,
        /// The Pardot host asked.
        host: String,
    },
    /// Code 201 here, but the other Pardot host (production vs demo) serves the business unit.
    BusinessUnitOnOtherHost {
        /// The business unit.
        business_unit: String,
        /// The host that serves it.
        host: String,
        /// True when that host is the demo one.
        demo: bool,
    },
    /// Code 49: the token's user is not linked to the business unit (no Account Engagement
    /// access there).
    NoPardotAccess {
        /// The business unit.
        business_unit: String,
    },
    /// Code 76: API access is disabled for the account.
    ApiDisabled,
    /// Code 53: the client's IP address must be activated first.
    IpNotActivated,
    /// Code 46: the API user lacks permissions.
    InsufficientPermissions,
    /// Code 122: the business unit's daily API limit is used up.
    DailyLimit,
    /// Code 66: too many requests in flight for the business unit.
    ConcurrencyLimit,
    /// No answer: DNS, connection, TLS or a timeout.
    Unreachable {
        /// Which server.
        what: &'static str,
        /// The reason.
        detail: String,
    },
    /// The server answered a 5xx or something that is not its API's answer.
    ServerTrouble {
        /// Which server.
        what: &'static str,
        /// What it answered.
        detail: String,
    },
    /// The configuration is incomplete or wrong (a variable, a key file).
    Config {
        /// What is wrong.
        detail: String,
    },
    /// The token store failed.
    TokenStore {
        /// What failed.
        detail: String,
    },
    /// Any other answer, as it came.
    Other {
        /// What to do about it.
        class: ErrorClass,
        /// The error.
        detail: String,
    },
}

impl Diagnosis {
    /// True for [`Diagnosis::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }

    /// What to do next, as the transport classes errors: `None` when all is well;
    /// `RetryLater` for a passing condition (limits, network, a server down);
    /// `CallerBug` for a configuration to fix; `NeverRetry` for a setup mistake.
    pub fn class(&self) -> Option<ErrorClass> {
        Some(match self {
            Self::Ok { .. } => return None,
            Self::LoginRateLimited
            | Self::ConcurrencyLimit
            | Self::Unreachable { .. }
            | Self::ServerTrouble { .. } => ErrorClass::RETRY,
            Self::Config { .. } | Self::TokenStore { .. } => ErrorClass::CallerBug,
            Self::Other { class, .. } => *class,
            _ => ErrorClass::NeverRetry,
        })
    }

    /// The short label the one-line report starts with.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ok { .. } => "OK",
            Self::WrongPassword { .. } => "wrong password",
            Self::UnknownConsumerKey { .. } => "unknown consumer key",
            Self::WrongClientSecret => "wrong client secret",
            Self::CertificateMismatch => "certificate mismatch",
            Self::NotPreAuthorized { .. } => "not approved",
            Self::WrongLoginHost { .. } => "wrong audience",
            Self::MyDomainRequired => "My Domain required",
            Self::FlowNotEnabled { .. } => "flow not enabled",
            Self::InactiveUser => "inactive user",
            Self::OrgLocked => "org locked",
            Self::RefreshTokenRejected { .. } => "refresh token rejected",
            Self::NeedsLogin { .. } => "needs login",
            Self::ClockSkew { .. } => "clock skew",
            Self::MissingScope { .. } => "missing scope",
            Self::LoginRateLimited => "login rate limit",
            Self::LegacyLoginFailed { .. } => "legacy login failed",
            Self::LegacyAccountLocked => "legacy account locked",
            Self::LegacyLoginRetired => "legacy login retired",
            Self::LegacyApiKeyExpired => "legacy api_key expired",
            Self::TokenRejected { .. } => "token expired or revoked",
            Self::BusinessUnitNotFound { .. } => "wrong BU",
            Self::BusinessUnitOnOtherHost { demo: true, .. } => "BU on demo host",
            Self::BusinessUnitOnOtherHost { demo: false, .. } => "BU on production host",
            Self::NoPardotAccess { .. } => "no Pardot access",
            Self::ApiDisabled => "API disabled",
            Self::IpNotActivated => "IP not activated",
            Self::InsufficientPermissions => "insufficient permissions",
            Self::DailyLimit => "daily limit",
            Self::ConcurrencyLimit => "concurrency limit",
            Self::Unreachable { .. } => "unreachable",
            Self::ServerTrouble { .. } => "server trouble",
            Self::Config { .. } => "configuration",
            Self::TokenStore { .. } => "token store",
            Self::Other { .. } => "failed",
        }
    }

    /// What was seen, in a few words (no secret).
    fn finding(&self) -> String {
        match self {
            Self::Ok { .. } => String::new(),
            Self::WrongPassword { username } => format!(
                "Salesforce refused the password of {username} (invalid_grant: authentication failure)"
            ),
            Self::UnknownConsumerKey { client_id } => {
                format!("the login server does not know the consumer key {client_id}")
            }
            Self::WrongClientSecret => {
                "the login server refused the consumer secret (invalid_client)".into()
            }
            Self::CertificateMismatch => {
                "the JWT signature does not verify against the connected app's certificate \
                 (invalid_grant: invalid assertion)"
                    .into()
            }
            Self::NotPreAuthorized { username } => {
                format!("{username} may not use this connected app")
            }
            Self::WrongLoginHost { login } => {
                format!("{login} does not serve this user's org (audience is invalid)")
            }
            Self::MyDomainRequired => {
                "the client credentials flow only works on the org's My Domain".into()
            }
            Self::FlowNotEnabled { flow, detail } => {
                format!("the {flow} flow is not enabled on the connected app ({detail})")
            }
            Self::InactiveUser => "the user is inactive".into(),
            Self::OrgLocked => "the org is locked, closed or suspended (inactive_org)".into(),
            Self::RefreshTokenRejected { flow } => format!(
                "Salesforce refused the {flow} flow's refresh token (revoked, expired or already rotated)"
            ),
            Self::NeedsLogin { flow } => {
                format!("the {flow} flow needs a person and the token store has no token for it")
            }
            Self::ClockSkew { detail } => {
                format!("the login server judged the signed assertion out of date ({detail})")
            }
            Self::MissingScope { granted } => {
                format!("the token was granted `{granted}`, which lacks pardot_api")
            }
            Self::LoginRateLimited => {
                "Salesforce refused the login: too many logins in the last hour".into()
            }
            Self::LegacyLoginFailed { email } => {
                format!("the legacy login of {email} failed (code 15)")
            }
            Self::LegacyAccountLocked => {
                "the Pardot account is locked after too many failed logins (code 131)".into()
            }
            Self::LegacyLoginRetired => {
                "Pardot refused the legacy login for this account (code 126: invalid \
                 authentication mechanism)"
                    .into()
            }
            Self::LegacyApiKeyExpired => "Pardot refused the api_key (code 1)".into(),
            Self::TokenRejected { checked, detail } => {
                let which = match checked {
                    TokenChecked::Fresh => "new",
                    TokenChecked::StoredOnly { .. } => "stored",
                };
                format!("the {which} access token was refused ({detail})")
            }
            Self::BusinessUnitNotFound {
                business_unit,
                host,
            } => format!(
                "Pardot does not know business unit {business_unit} on {host}, or it is inactive (code 201)"
            ),
            Self::BusinessUnitOnOtherHost {
                business_unit,
                host,
                ..
            } => format!("business unit {business_unit} is served by {host}"),
            Self::NoPardotAccess { business_unit } => {
                format!("the token's user is not valid for business unit {business_unit} (code 49)")
            }
            Self::ApiDisabled => "API access is disabled for this account (code 76)".into(),
            Self::IpNotActivated => "this client's IP address is not activated (code 53)".into(),
            Self::InsufficientPermissions => {
                "the API user lacks permission to read the account (code 46)".into()
            }
            Self::DailyLimit => "the daily API request limit is used up (code 122)".into(),
            Self::ConcurrencyLimit => {
                "too many requests in flight for this business unit (code 66)".into()
            }
            Self::Unreachable { what, detail } => format!("no answer from {what}: {detail}"),
            Self::ServerTrouble { what, detail } => format!("{what} answered {detail}"),
            Self::Config { detail } | Self::TokenStore { detail } | Self::Other { detail, .. } => {
                detail.clone()
            }
        }
    }

    /// What to do about it (empty for `Ok` and `Other`).
    pub fn fix(&self) -> String {
        match self {
            Self::RefreshTokenRejected { flow } | Self::NeedsLogin { flow } => {
                format!("run `pardot-auth login {flow}` for a new refresh token")
            }
            Self::BusinessUnitOnOtherHost { host, .. } => format!(
                "set PARDOT_URL={host} (sandboxes and developer orgs use pi.demo.pardot.com)"
            ),
            other => other.fix_text().to_owned(),
        }
    }

    /// The fixes that name nothing of the setup.
    fn fix_text(&self) -> &'static str {
        match self {
            Self::Ok { .. }
            | Self::Other { .. }
            | Self::RefreshTokenRejected { .. }
            | Self::NeedsLogin { .. }
            | Self::BusinessUnitOnOtherHost { .. } => "",
            Self::WrongPassword { .. } => {
                "set SF_PASSWORD to the password followed by the user's security token (Settings > \
                 Reset My Security Token), unless the IP is trusted; the org may also block the \
                 username-password flow: prefer the JWT bearer flow"
            }
            Self::UnknownConsumerKey { .. } => {
                "copy the consumer key from Setup > App Manager > View; use the sandbox login host \
                 for a sandbox org's app; a new connected app can take up to 10 minutes to work"
            }
            Self::WrongClientSecret => {
                "copy the consumer secret again (Setup > App Manager > View > Manage Consumer Details)"
            }
            Self::CertificateMismatch => {
                "upload the certificate of SF_PRIVATE_KEY_FILE to the connected app (\"Use digital \
                 signatures\"), or point SF_PRIVATE_KEY_FILE at the key of the uploaded one \
                 (`pardot-auth keygen` makes a pair)"
            }
            Self::NotPreAuthorized { .. } => {
                "in Setup > App Manager > Manage > Edit Policies set \"Admin approved users are \
                 pre-authorized\", then add the user's profile or permission set (or approve the \
                 app once in a browser)"
            }
            Self::WrongLoginHost { .. } => {
                "use SF_LOGIN_URL=https://login.salesforce.com for production and developer orgs, \
                 https://test.salesforce.com for sandboxes, or the org's My Domain URL"
            }
            Self::MyDomainRequired => {
                "set SF_LOGIN_URL to the org's My Domain URL (https://NAME.my.salesforce.com)"
            }
            Self::FlowNotEnabled { .. } => {
                "enable the flow on the connected app (for client credentials: \"Enable Client \
                 Credentials Flow\" and a Run As user), or pick another PARDOT_AUTH_FLOW"
            }
            Self::InactiveUser => "activate the user, or use an active integration user",
            Self::OrgLocked => "the org must be reactivated by Salesforce or its administrator",
            Self::ClockSkew { .. } => {
                "set this machine's clock right (enable NTP time synchronisation)"
            }
            Self::MissingScope { .. } => {
                "add \"Access Pardot services (pardot_api)\" to the connected app's OAuth scopes, \
                 then log in again"
            }
            Self::LoginRateLimited => "wait, and keep tokens in a store so runs reuse them",
            Self::LegacyLoginFailed { .. } => {
                "check PARDOT_EMAIL, PARDOT_PASSWORD and PARDOT_USER_KEY (Settings > My Profile); \
                 five failures in a row lock the account"
            }
            Self::LegacyAccountLocked => {
                "reset the password at https://pi.pardot.com/user/passwordReset"
            }
            Self::LegacyLoginRetired => {
                "move to a Salesforce OAuth flow (docs/migrating-from-legacy-login.md)"
            }
            Self::LegacyApiKeyExpired => {
                "api_keys live 60 minutes: run `pardot-auth login legacy` for a new one \
                 (connect() renews it by itself)"
            }
            Self::TokenRejected { .. } => {
                "log in again; if a fresh token is refused too, check the user's Account \
                 Engagement access"
            }
            Self::BusinessUnitNotFound { .. } => {
                "copy the 18-character id from Setup > Account Engagement > Business Unit Setup; \
                 sandboxes and developer orgs use pi.demo.pardot.com"
            }
            Self::NoPardotAccess { .. } => {
                "link the Salesforce user to an Account Engagement user of this business unit \
                 (Salesforce User Sync), or use another business unit"
            }
            Self::ApiDisabled => "ask an Account Engagement administrator to enable API access",
            Self::IpNotActivated => {
                "activate this client's IP address in the account's security settings"
            }
            Self::InsufficientPermissions => "give the API user a role that may read the account",
            Self::DailyLimit => {
                "wait for the daily reset, or lower the request rate (PARDOT_AUTH_DAILY_BUDGET)"
            }
            Self::ConcurrencyLimit => {
                "other programs use the business unit's 5 concurrent requests; try again, and \
                 share a governor (PARDOT_AUTH_GOVERNOR)"
            }
            Self::Unreachable { .. } | Self::ServerTrouble { .. } => {
                "check the URL, the network, proxies and TLS interception; try again later"
            }
            Self::Config { .. } => "fix the setting named above",
            Self::TokenStore { .. } => {
                "check PARDOT_AUTH_STORE, its directory or Redis URL, and the encryption key"
            }
        }
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Self::Ok {
            user,
            pardot,
            checked,
        } = self
        {
            return match pardot {
                Some(call) => {
                    let unit = call
                        .business_unit
                        .as_ref()
                        .map(|b| format!(" business unit {b}"))
                        .unwrap_or_default();
                    write!(
                        f,
                        "OK: {user} can call Pardot{unit} on {} (API v{}); {checked}",
                        call.host, call.api_version
                    )
                }
                None => write!(f, "OK: {user} has a token; {checked}"),
            };
        }
        write!(f, "{}: {}", self.label(), self.finding())?;
        let fix = self.fix();
        if !fix.is_empty() {
            write!(f, "; {fix}")?;
        }
        Ok(())
    }
}
