//! The crate is self-contained (publishable): everything it embeds lives inside the crate, and
//! the embedded default configuration and test keys are byte-for-byte copies of the
//! workspace's canonical `fixtures/` files that other crates, CI and the docs point to.

mod common;

use std::path::{Path, PathBuf};

use common::{assertion, claims, json_of, token};
use pardot_auth_core::{Clock, ManualClock};
use pardot_mock::config::DEFAULT_CONFIG_TOML;
use pardot_mock::{PardotMock, fixtures};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root, when the crate is built inside its repository (not from a package).
fn workspace_root() -> Option<PathBuf> {
    let root = crate_dir().join("../..");
    root.join("fixtures/mock.toml").is_file().then_some(root)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The crate's copies, as embedded, next to the workspace file each must equal.
const COPIES: &[(&str, &str)] = &[
    ("fixtures/mock.toml", DEFAULT_CONFIG_TOML),
    (
        "fixtures/keys/connected-app.key",
        fixtures::CONNECTED_APP_KEY_PEM,
    ),
    (
        "fixtures/keys/connected-app.crt",
        fixtures::CONNECTED_APP_CERT_PEM,
    ),
    ("fixtures/keys/untrusted.key", fixtures::UNTRUSTED_KEY_PEM),
    (
        "fixtures/keys/mci-service-account.key",
        fixtures::MCI_PRIVATE_KEY_PEM,
    ),
];

#[test]
fn embedded_copies_equal_the_workspace_fixtures_byte_for_byte() {
    let Some(root) = workspace_root() else {
        eprintln!("skipped: not inside the pardot-auth workspace (packaged crate)");
        return;
    };
    for (rel, embedded) in COPIES {
        let canonical = read(&root.join(rel));
        assert!(
            canonical == *embedded,
            "crates/pardot-mock/{rel} differs from the canonical {rel}: copy it over \
             (cp {rel} crates/pardot-mock/{rel})"
        );
        assert_eq!(read(&crate_dir().join(rel)), *embedded, "{rel}");
    }
    // Files the embedded config names but the fixtures module does not export, and the PKCS#1
    // form of the JWT app's key that other crates' tests read from `fixtures::KEYS_DIR`.
    for rel in [
        "fixtures/keys/untrusted.crt",
        "fixtures/keys/mci-service-account.pub.pem",
        "fixtures/keys/connected-app.pkcs1.key",
    ] {
        assert!(
            read(&root.join(rel)) == read(&crate_dir().join(rel)),
            "crates/pardot-mock/{rel} differs from {rel}"
        );
    }
}

/// Every `include_str!`/`include_bytes!` in `src/` resolves inside the crate directory, so
/// `cargo package` carries everything the library needs.
#[test]
fn sources_embed_nothing_from_outside_the_crate() {
    let root = crate_dir().canonicalize().unwrap();
    let mut pending = vec![crate_dir().join("src")];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = read(&path);
            for mac in ["include_str!(\"", "include_bytes!(\""] {
                for (at, _) in text.match_indices(mac) {
                    let rest = &text[at + mac.len()..];
                    let rel = &rest[..rest.find('"').unwrap()];
                    let target = path.parent().unwrap().join(rel);
                    let resolved = target
                        .canonicalize()
                        .unwrap_or_else(|e| panic!("{}: {rel}: {e}", path.display()));
                    assert!(
                        resolved.starts_with(&root),
                        "{} embeds {rel}, outside the crate",
                        path.display()
                    );
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 8, "found only {seen} embedded files");
}

/// Relative key paths resolve against the config file's directory, for the crate's copy and
/// for the workspace's `fixtures/mock.toml` (what `pardot-mock serve --config` is given): a
/// JWT grant verified with the certificate read from `keys/connected-app.crt` succeeds.
#[tokio::test]
async fn both_config_files_load_their_key_files() {
    let mut files = vec![crate_dir().join("fixtures/mock.toml")];
    if let Some(root) = workspace_root() {
        files.push(root.join("fixtures/mock.toml"));
    }
    for file in files {
        let clock = ManualClock::new();
        let mock = PardotMock::builder()
            .clock(&clock)
            .config_file(&file)
            .start()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let c = claims(
            fixtures::INTEGRATION_USERNAME,
            "https://login.salesforce.com",
            clock.now(),
        );
        let a = assertion(fixtures::CONNECTED_APP_KEY_PEM, &c);
        let (status, _, body) = token(
            &mock.url(),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", a.as_str()),
            ],
        )
        .await;
        assert_eq!(status, 200, "{}: {body}", file.display());
        assert!(json_of(&body)["access_token"].is_string());
    }
}
