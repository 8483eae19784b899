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
    format!("{}/fixtures/mock.toml", env!("CARGO_MANIFEST_DIR"))
}

/// Spawns the `serve` that `command` sets up (stdout piped, killed on drop) and reads the URL
/// in the first line it prints (`pardot-mock listening on URL`).
async fn spawn_serving(command: &mut Command) -> (tokio::process::Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
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
    (child, url)
}

#[tokio::test]
async fn serves_the_fixture_config_and_stops_on_sigterm() {
    let config = fixture_config();
    let (mut child, url) = spawn_serving(
        Command::new(BIN)
            .args(["serve", "--config", &config, "--addr", "127.0.0.1:0"])
            .stderr(Stdio::null()),
    )
    .await;
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

    let r = http_get(format!("{url}/us1/.well-known/openid-configuration")).await;
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
    for needle in [
        "--config",
        "--addr",
        "127.0.0.1:8717",
        "PARDOT_MOCK_CONFIG",
        "--public-url",
        "PARDOT_MOCK_PUBLIC_URL",
    ] {
        assert!(help.contains(needle), "missing {needle}: {help}");
    }
    let out = Command::new(BIN).arg("--help").output().await.unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("serve") && help.contains("/sandbox") && help.contains("health"),
        "{help}"
    );
}

/// Runs `pardot-mock health [url]`: exit code, stdout, stderr.
async fn health(url: &str) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(["health", url])
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn behind_a_name_it_advertises_the_public_url_answers_health_and_warns_off_loopback() {
    let public = "http://pardot-mock.test:18717";
    let (mut child, announced) = spawn_serving(
        Command::new(BIN)
            .args(["serve", "--addr", "0.0.0.0:0"])
            .env("PARDOT_MOCK_PUBLIC_URL", public)
            .env_remove("PARDOT_MOCK_LOG")
            .stderr(Stdio::piped()),
    )
    .await;
    let port = announced
        .strip_prefix("http://0.0.0.0:")
        .unwrap_or_else(|| panic!("not the wildcard address: {announced}"));
    let url = format!("http://127.0.0.1:{port}");

    let (code, out, err) = health(&url).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("healthy") && out.contains(env!("CARGO_PKG_VERSION")),
        "{out}"
    );

    let (status, _, body) = integration_login(&url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["instance_url"], public);

    // The browser login, played by the binary itself.
    let r = http_post_json(format!("{url}/__mock/sign-in"), &serde_json::json!({
            "authorize_url": format!(
                "{url}/services/oauth2/authorize?response_type=code&client_id={WEB_CONSUMER_KEY}&redirect_uri={WEB_CALLBACK_URL}"
            ),
            "username": WEB_USERNAME,
            "password": WEB_PASSWORD,
        })).await;
    assert_eq!(r.status(), 200);
    let signed: serde_json::Value = r.json().await.unwrap();
    assert!(signed["code"].as_str().is_some(), "{signed}");

    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARN")
            && stderr.contains("non-loopback")
            && stderr.contains("never expose it to a network"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("advertising {public}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn health_fails_with_the_reason_when_nothing_answers() {
    // A port that was just free: nothing listens on it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, out, err) = health(&url).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains(&format!("GET {url}/__mock/health")), "{err}");
    let (code, _, err) = health("https://127.0.0.1:1").await;
    assert_eq!(code, Some(1));
    assert!(err.contains("only http://"), "{err}");
}

#[tokio::test]
async fn a_bad_public_url_exits_2_naming_it() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--public-url",
            "http://pardot-mock.test/sub/path",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("public_url") && err.contains("/sub/path"),
        "{err}"
    );
}
