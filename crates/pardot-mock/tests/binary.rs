//! The `pardot-mock` binary: serves fixtures/mock.toml over real HTTP, prints its URL, stops
//! gracefully on SIGTERM, documents its flags.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use pardot_auth_core::clock::unix_seconds;
use pardot_mock::fixtures::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pardot-mock");

fn fixture_config() -> String {
    format!("{}/../../fixtures/mock.toml", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn serves_the_fixture_config_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            &fixture_config(),
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the binary printed nothing")
        .unwrap()
        .unwrap();
    let url = line
        .strip_prefix("pardot-mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );

    // A JWT grant signed with the fixture key, as the Python JWT bearer client does.
    let now = std::time::SystemTime::now();
    let mut c = claims(INTEGRATION_USERNAME, &url, now);
    c["exp"] = serde_json::json!(unix_seconds(now) + 7 * 24 * 3600);
    let a = assertion(CONNECTED_APP_KEY_PEM, &c);
    let (status, _, body) = token(&url, &[("grant_type", JWT_GRANT), ("assertion", &a)]).await;
    assert_eq!(status, 200, "{body}");

    let r = http()
        .get(format!("{url}/us1/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // SIGTERM: graceful stop, exit code 0.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the binary did not stop")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn bad_config_exits_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("pardot-mock-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[[users]]\nid = \"005000000000001\"\nusername = \"a@b\"\norg = \"00D000000000001\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("users[0].org") && err.contains("unknown org"),
        "{err}"
    );
}

#[tokio::test]
async fn help_documents_every_flag() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--config", "--addr", "127.0.0.1:8717", "PARDOT_MOCK_CONFIG"] {
        assert!(help.contains(needle), "missing {needle}: {help}");
    }
    let out = Command::new(BIN).arg("--help").output().await.unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("serve") && help.contains("/sandbox"),
        "{help}"
    );
}
