//! The CLI tests' scaffolding: an in-process mock and a temp directory around
//! [`pardot_auth::testing::CliHarness`], and the settings of each flow.

use std::path::Path;

use pardot_auth::testing::{CliHarness, CliOutput, RunningCli};
use pardot_mock::{AppConfig, PardotMock, fixtures};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_pardot-auth");

/// One finished command.
pub type Out = CliOutput;

/// A fixture key's path (the mock's copies, inside its package), as a variable's value.
pub fn fixture_key(name: &str) -> String {
    Path::new(fixtures::KEYS_DIR)
        .join(name)
        .display()
        .to_string()
}

/// The binary pointed at its own mock, in its own temp directory.
pub struct Harness {
    pub mock: PardotMock,
    pub dir: TempDir,
    cli: CliHarness,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_mock(PardotMock::start().await)
    }

    /// The binary pointed at a mock that also knows the JWT app `consumer_key` (see
    /// [`jwt_app`]).
    pub async fn with_jwt_app(consumer_key: &str, cert_pem: &str, scopes: &[&str]) -> Self {
        let app = jwt_app(consumer_key, cert_pem, scopes);
        Self::with_mock(PardotMock::builder().app(app).start().await.unwrap())
    }

    pub fn with_mock(mock: PardotMock) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cli = CliHarness::new(BIN, dir.path()).hosts(&mock.url(), fixtures::BUSINESS_UNIT_ID);
        Self { mock, dir, cli }
    }

    /// Runs one command to the end.
    pub async fn run(&self, args: &[&str], vars: &[(&str, String)]) -> Out {
        self.cli.run(args, vars).await.unwrap()
    }

    /// Runs one command and checks its exit code, showing stderr when it differs.
    pub async fn run_exit(&self, code: i32, args: &[&str], vars: &[(&str, String)]) -> Out {
        let out = self.run(args, vars).await;
        assert_eq!(out.code, code, "`{}`: {}", args.join(" "), out.stderr);
        out
    }

    /// The binary's token store directory.
    pub fn store(&self) -> &Path {
        self.cli.store()
    }

    /// Starts a command the test talks to while it runs.
    pub fn spawn(&self, args: &[&str], vars: &[(&str, String)]) -> RunningCli {
        self.cli.spawn(args, vars).unwrap()
    }
}

/// Asserts that `text` contains `needle`, showing `text` when it does not.
#[track_caller]
pub fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "`{needle}` expected in:\n{text}");
}

pub fn jwt_vars() -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_AUTH_FLOW", "jwt".into()),
        ("SF_CLIENT_ID", fixtures::JWT_CONSUMER_KEY.into()),
        ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
        ("SF_PRIVATE_KEY_FILE", fixture_key("connected-app.key")),
    ]
}

/// The password flow's settings, with `password` as SF_PASSWORD (password + security token).
pub fn password_vars(password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_AUTH_FLOW", "password".into()),
        ("SF_CLIENT_ID", fixtures::WEB_CONSUMER_KEY.into()),
        ("SF_CLIENT_SECRET", fixtures::WEB_CONSUMER_SECRET.into()),
        ("SF_USERNAME", fixtures::INTEGRATION_USERNAME.into()),
        ("SF_PASSWORD", password.into()),
    ]
}

pub fn legacy_vars() -> Vec<(&'static str, String)> {
    vec![
        ("PARDOT_EMAIL", fixtures::LEGACY_V3_EMAIL.into()),
        ("PARDOT_PASSWORD", fixtures::LEGACY_V3_PASSWORD.into()),
        ("PARDOT_USER_KEY", fixtures::LEGACY_V3_USER_KEY.into()),
    ]
}

/// `base` with `extra` set over it.
pub fn with(
    mut base: Vec<(&'static str, String)>,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    for (k, v) in extra {
        base.retain(|(b, _)| b != k);
        base.push((k, v.clone()));
    }
    base
}

/// Asserts that `path` exists and (on Unix) only its owner may read it.
pub fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    assert!(path.exists());
}

/// An app for the JWT flow with `cert_pem`, pre-authorizing the integration user.
pub fn jwt_app(consumer_key: &str, cert_pem: &str, scopes: &[&str]) -> AppConfig {
    let scopes: Vec<String> = scopes.iter().map(|s| format!("\"{s}\"")).collect();
    toml::from_str(&format!(
        "consumer_key = \"{consumer_key}\"\ncertificate_pem = '''\n{cert_pem}'''\nscopes = [{}]\n\
         permitted_users = \"admin_approved\"\npre_authorized = [\"{}\"]\n",
        scopes.join(", "),
        fixtures::INTEGRATION_USERNAME
    ))
    .unwrap()
}
