//! The Python JWT bearer client (`fixtures/clients/jwt_bearer_pyjwt.py`, PyJWT 2 + requests) run
//! against the `pardot-mock` binary serving `fixtures/mock.toml`: a JWT bearer grant that
//! must answer 200, then a Pardot account read that must answer `stat="ok"`.
//!
//! The Python interpreter: `$PARDOT_MOCK_PYTHON`, else `target/ci-venv/bin/python` (which
//! `.ci/run` creates from `fixtures/clients/requirements.txt`), else `python3` when it can
//! import `jwt` and `requests`. Without one the test says so and passes, except under CI
//! (`CI` set), where a missing interpreter is a failure.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pardot-mock");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn can_import(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import jwt, requests, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

async fn python() -> Option<String> {
    if let Ok(p) = std::env::var("PARDOT_MOCK_PYTHON") {
        return Some(p);
    }
    let venv = root().join("target/ci-venv/bin/python");
    for candidate in [venv.to_string_lossy().into_owned(), "python3".to_owned()] {
        if can_import(&candidate).await {
            return Some(candidate);
        }
    }
    None
}

#[tokio::test]
async fn python_jwt_bearer_client_against_the_binary() {
    let Some(python) = python().await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: no Python with PyJWT and requests (run .ci/run, or set PARDOT_MOCK_PYTHON)"
        );
        eprintln!(
            "skipped: no Python with PyJWT and requests (pip install -r fixtures/clients/requirements.txt)"
        );
        return;
    };
    let config = root().join("fixtures/mock.toml");
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    // A bound on a wait for a child process, not a timing assertion.
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the binary printed its URL")
        .expect("stdout readable")
        .expect("a first line");
    let url = line
        .strip_prefix("pardot-mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();

    let script = root().join("fixtures/clients/jwt_bearer_pyjwt.py");
    let output = Command::new(&python)
        .arg(&script)
        .env("SF_LOGIN_URL", &url)
        .env("PARDOT_URL", &url)
        .env("SF_CLIENT_ID", pardot_mock::fixtures::JWT_CONSUMER_KEY)
        .env("SF_USERNAME", pardot_mock::fixtures::INTEGRATION_USERNAME)
        .env(
            "SF_PRIVATE_KEY_FILE",
            root().join("fixtures/keys/connected-app.key"),
        )
        .env(
            "PARDOT_BUSINESS_UNIT_ID",
            pardot_mock::fixtures::BUSINESS_UNIT_ID,
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Python JWT bearer client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("Status: 200"), "{stdout}");
    assert!(stdout.contains("OK: account 1001"), "{stdout}");
    let _ = child.kill().await;
}
