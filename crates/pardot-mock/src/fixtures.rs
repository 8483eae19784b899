//! The names and values of the default configuration (`fixtures/mock.toml`), as constants,
//! so tests in other crates never repeat a literal. TEST ONLY: all of these are public.

/// The production org id (18 characters).
pub const PRODUCTION_ORG_ID: &str = "00D5g00000AcmePEAR";
/// The production org's My Domain name (`{base}/my/acme`).
pub const PRODUCTION_MY_DOMAIN: &str = "acme";
/// The sandbox org id.
pub const SANDBOX_ORG_ID: &str = "00D5g00000AcmeSEAR";
/// The sandbox org's My Domain name (`{base}/my/acme--uat`).
pub const SANDBOX_MY_DOMAIN: &str = "acme--uat";

/// The JWT app (certificate `fixtures/keys/connected-app.crt`, admin-approved users).
pub const JWT_CONSUMER_KEY: &str = "3MVG9mock.JWT.app.consumer.key.for.tests";
/// The JWT app's secret.
pub const JWT_CONSUMER_SECRET: &str = "mock-jwt-app-secret-0001";
/// The web app (callbacks `http://localhost:7777/callback`, `http://127.0.0.1:7777/callback`).
pub const WEB_CONSUMER_KEY: &str = "3MVG9mock.WEB.app.consumer.key.for.tests";
/// The web app's secret.
pub const WEB_CONSUMER_SECRET: &str = "mock-web-app-secret-0002";
/// The web app's first callback URL (the loopback callback of `docs/flows/web-server.md`).
pub const WEB_CALLBACK_URL: &str = "http://localhost:7777/callback";
/// The client-credentials app (runs as [`CC_RUN_AS_USERNAME`], My Domain only).
pub const CC_CONSUMER_KEY: &str = "3MVG9mock.CC.app.consumer.key.for.tests";
/// The client-credentials app's secret.
pub const CC_CONSUMER_SECRET: &str = "mock-cc-app-secret-0003";
/// An app with refresh-token rotation on.
pub const ROTATING_CONSUMER_KEY: &str = "3MVG9mock.ROTATE.app.consumer.key.for.tests";
/// The rotating app's secret.
pub const ROTATING_CONSUMER_SECRET: &str = "mock-rotate-app-secret-0004";
/// A public PKCE app (no secret).
pub const PKCE_CONSUMER_KEY: &str = "3MVG9mock.PKCE.public.app.consumer.key";

/// The integration user (production; pre-authorized for the JWT app; BU access).
pub const INTEGRATION_USERNAME: &str = "integration@acme.example";
/// Its id.
pub const INTEGRATION_USER_ID: &str = "0055g00000IntgAAAR";
/// Its password.
pub const INTEGRATION_PASSWORD: &str = "mock-password-1";
/// Its security token.
pub const INTEGRATION_SECURITY_TOKEN: &str = "MOCKSECURITYTOKEN1";
/// A user on a trusted IP (no security token needed), approved for the web app.
pub const WEB_USERNAME: &str = "web@acme.example";
/// Its password.
pub const WEB_PASSWORD: &str = "mock-password-2";
/// The client-credentials run-as user.
pub const CC_RUN_AS_USERNAME: &str = "ccrun@acme.example";
/// An inactive user (pre-authorized for the JWT app).
pub const INACTIVE_USERNAME: &str = "inactive@acme.example";
/// Its password.
pub const INACTIVE_PASSWORD: &str = "mock-password-4";
/// Its security token.
pub const INACTIVE_SECURITY_TOKEN: &str = "MOCKSECURITYTOKEN4";
/// An active user nobody approved.
pub const UNAPPROVED_USERNAME: &str = "unapproved@acme.example";
/// Its password.
pub const UNAPPROVED_PASSWORD: &str = "mock-password-5";
/// Its security token.
pub const UNAPPROVED_SECURITY_TOKEN: &str = "MOCKSECURITYTOKEN5";
/// The sandbox integration user.
pub const SANDBOX_USERNAME: &str = "integration@acme.example.uat";
/// Its password.
pub const SANDBOX_PASSWORD: &str = "mock-password-6";
/// Its security token.
pub const SANDBOX_SECURITY_TOKEN: &str = "MOCKSECURITYTOKEN6";

/// The seeded refresh token of [`WEB_USERNAME`] for the web app.
pub const WEB_REFRESH_TOKEN: &str =
    "5Aep861mock.seeded.refresh.token.web.user.0000000000000000000000000000";
/// The seeded refresh token of [`WEB_USERNAME`] for the rotating app.
pub const ROTATING_REFRESH_TOKEN: &str =
    "5Aep861mock.seeded.refresh.token.rotating.0000000000000000000000000000";

/// The production business unit (`pi.pardot.com`), accessible to the integration user.
pub const BUSINESS_UNIT_ID: &str = "0Uv5g0000008OQUCA2";
/// The demo business unit (`pi.demo.pardot.com`), accessible to the sandbox user.
pub const DEMO_BUSINESS_UNIT_ID: &str = "0Uv5g00000DemoBCAR";
/// An inactive business unit.
pub const INACTIVE_BUSINESS_UNIT_ID: &str = "0Uv5g00000OffBuCAJ";

/// The legacy v3 user's email.
pub const LEGACY_V3_EMAIL: &str = "legacy-v3@acme.example";
/// Its password.
pub const LEGACY_V3_PASSWORD: &str = "mock-legacy-password-3";
/// Its user key.
pub const LEGACY_V3_USER_KEY: &str = "0123456789abcdef0123456789abcdef";
/// The legacy v4 user's email.
pub const LEGACY_V4_EMAIL: &str = "legacy-v4@acme.example";
/// Its password.
pub const LEGACY_V4_PASSWORD: &str = "mock-legacy-password-4";
/// Its user key.
pub const LEGACY_V4_USER_KEY: &str = "fedcba9876543210fedcba9876543210";

/// The MCI service account id.
pub const MCI_SERVICE_ACCOUNT_ID: &str = "mci-sa-0001";
/// Its region.
pub const MCI_REGION: &str = "us1";

/// The directory of the key files below (and `connected-app.pkcs1.key`, the JWT app's key in
/// PKCS#1 form), inside this crate's package (wherever cargo keeps its source), for a test that
/// needs a key as a path (`SF_PRIVATE_KEY_FILE`).
pub const KEYS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys");
/// The JWT app's private key (PKCS#8 PEM; `fixtures/keys/connected-app.key`). TEST ONLY.
pub const CONNECTED_APP_KEY_PEM: &str = include_str!("../fixtures/keys/connected-app.key");
/// The JWT app's certificate (`fixtures/keys/connected-app.crt`).
pub const CONNECTED_APP_CERT_PEM: &str = include_str!("../fixtures/keys/connected-app.crt");
/// A private key no app trusts (`fixtures/keys/untrusted.key`). TEST ONLY.
pub const UNTRUSTED_KEY_PEM: &str = include_str!("../fixtures/keys/untrusted.key");
/// The MCI service account's private key (PKCS#1 PEM). TEST ONLY.
pub const MCI_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/keys/mci-service-account.key");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockConfig;

    #[test]
    fn constants_match_the_default_config() {
        let c = MockConfig::defaults();
        let user = |name: &str| c.users.iter().find(|u| u.username == name).unwrap();
        let app = |key: &str| c.apps.iter().find(|a| a.consumer_key == key).unwrap();
        assert_eq!(c.orgs[0].id, PRODUCTION_ORG_ID);
        assert_eq!(c.orgs[0].my_domain.as_deref(), Some(PRODUCTION_MY_DOMAIN));
        assert_eq!(c.orgs[1].id, SANDBOX_ORG_ID);
        assert_eq!(c.orgs[1].my_domain.as_deref(), Some(SANDBOX_MY_DOMAIN));
        let i = user(INTEGRATION_USERNAME);
        assert_eq!(
            (
                i.id.as_str(),
                i.password.as_str(),
                i.security_token.as_str()
            ),
            (
                INTEGRATION_USER_ID,
                INTEGRATION_PASSWORD,
                INTEGRATION_SECURITY_TOKEN
            )
        );
        assert_eq!(user(WEB_USERNAME).password, WEB_PASSWORD);
        assert_eq!(user(INACTIVE_USERNAME).password, INACTIVE_PASSWORD);
        assert_eq!(
            user(INACTIVE_USERNAME).security_token,
            INACTIVE_SECURITY_TOKEN
        );
        assert_eq!(user(UNAPPROVED_USERNAME).password, UNAPPROVED_PASSWORD);
        assert_eq!(
            user(UNAPPROVED_USERNAME).security_token,
            UNAPPROVED_SECURITY_TOKEN
        );
        assert_eq!(user(SANDBOX_USERNAME).password, SANDBOX_PASSWORD);
        assert_eq!(
            user(SANDBOX_USERNAME).security_token,
            SANDBOX_SECURITY_TOKEN
        );
        assert!(user(CC_RUN_AS_USERNAME).active);
        assert_eq!(app(JWT_CONSUMER_KEY).consumer_secret, JWT_CONSUMER_SECRET);
        assert_eq!(app(WEB_CONSUMER_KEY).consumer_secret, WEB_CONSUMER_SECRET);
        assert_eq!(app(WEB_CONSUMER_KEY).callback_urls[0], WEB_CALLBACK_URL);
        assert_eq!(app(CC_CONSUMER_KEY).consumer_secret, CC_CONSUMER_SECRET);
        assert_eq!(
            app(ROTATING_CONSUMER_KEY).consumer_secret,
            ROTATING_CONSUMER_SECRET
        );
        assert!(app(PKCE_CONSUMER_KEY).public_pkce);
        assert!(
            c.refresh_tokens
                .iter()
                .any(|r| r.token == WEB_REFRESH_TOKEN)
        );
        assert!(
            c.refresh_tokens
                .iter()
                .any(|r| r.token == ROTATING_REFRESH_TOKEN)
        );
        let bu = |id: &str| c.business_units.iter().find(|b| b.id == id).unwrap();
        assert!(bu(BUSINESS_UNIT_ID).active);
        assert_eq!(
            bu(DEMO_BUSINESS_UNIT_ID).host,
            crate::config::PardotHostKind::Demo
        );
        assert!(!bu(INACTIVE_BUSINESS_UNIT_ID).active);
        let l = |e: &str| c.legacy_users.iter().find(|l| l.email == e).unwrap();
        assert_eq!(
            (
                l(LEGACY_V3_EMAIL).password.as_str(),
                l(LEGACY_V3_EMAIL).user_key.as_str(),
                l(LEGACY_V3_EMAIL).api_version
            ),
            (LEGACY_V3_PASSWORD, LEGACY_V3_USER_KEY, 3)
        );
        assert_eq!(
            (
                l(LEGACY_V4_EMAIL).password.as_str(),
                l(LEGACY_V4_EMAIL).user_key.as_str(),
                l(LEGACY_V4_EMAIL).api_version
            ),
            (LEGACY_V4_PASSWORD, LEGACY_V4_USER_KEY, 4)
        );
        assert_eq!(c.mci_service_accounts[0].id, MCI_SERVICE_ACCOUNT_ID);
        assert_eq!(c.mci_service_accounts[0].region, MCI_REGION);
    }
}
