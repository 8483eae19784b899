//! Two processes sharing one `FileStore` share one token and one refresh.
//!
//! The parent test starts pardot-mock, then runs this test binary twice more at once, each
//! time with only `file_store_child` selected and the mock's URL and the store directory in
//! the environment. The children are real, separate processes competing for the OS file lock.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::PasswordSource;
use pardot_auth_core::{AccessToken, Expiry, SystemClock, TokenKind, TokenSource};
use pardot_http::CachedTokenSource;
use pardot_http::store::{FileStore, StoredToken, TokenStore};
use pardot_mock::{PardotMock, Route};

const URL_VAR: &str = "PARDOT_HTTP_TEST_CHILD_MOCK_URL";
const DIR_VAR: &str = "PARDOT_HTTP_TEST_CHILD_STORE_DIR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_token_and_one_refresh() {
    let mock = PardotMock::start().await;
    // A slow token endpoint, so the second process surely arrives while the first fetches.
    mock.set_latency(Duration::from_millis(300), Some(Route::OAuthToken.into()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The store starts with an expired token: both processes need a refresh at once.
    let store = FileStore::new(dir.path()).unwrap();
    let past = SystemTime::now() - Duration::from_secs(3 * 3600);
    let expired = AccessToken::new(
        TokenKind::SalesforceBearer,
        "00D5g00000AcmeP!expired".into(),
        past,
        Expiry::Estimated(past + Duration::from_secs(7200)),
    );
    store
        .save("shared", &StoredToken::default().updated_with(&expired))
        .await
        .unwrap();

    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        tokio::process::Command::new(&exe)
            .args([
                "file_store_child",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(URL_VAR, mock.url())
            .env(DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let wait = |child: tokio::process::Child| async move {
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("child finished in time")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.find("CHILD ").map(|i| l[i..].to_owned()))
            .unwrap_or_else(|| panic!("no result line in {stdout}"));
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line}"))
        };
        (field("fetches"), field("adoptions"), field("issued_ms"))
    };
    let (ra, rb) = tokio::join!(wait(a), wait(b));

    assert_eq!(
        mock.counts().token_requests_ok(),
        1,
        "one refresh for two processes"
    );
    assert_eq!(mock.counts().route_total(Route::OAuthToken), 1);
    assert_eq!(ra.0 + rb.0, 1, "exactly one process fetched: {ra:?} {rb:?}");
    assert_eq!(
        ra.1 + rb.1,
        1,
        "the other used the stored token: {ra:?} {rb:?}"
    );
    assert_eq!(ra.2, rb.2, "both hold the same token");
    let stored = store.load("shared").await.unwrap().unwrap().access.unwrap();
    assert!(!stored.is_same_as(&expired));
}

/// The child half of the test above; does nothing unless started by it.
#[tokio::test]
async fn file_store_child() {
    let (Ok(url), Ok(dir)) = (std::env::var(URL_VAR), std::env::var(DIR_VAR)) else {
        return;
    };
    let clock = SystemClock::shared();
    let source = PasswordSource::integration(&url, clock.clone());
    let cache = CachedTokenSource::builder(Arc::new(source))
        .clock(clock)
        .store(Arc::new(FileStore::new(dir).unwrap()))
        .store_key("shared")
        .build();
    let token = cache.token().await.unwrap();
    let issued_ms = token
        .issued_at()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let m = cache.metrics();
    println!(
        "CHILD fetches={} adoptions={} issued_ms={issued_ms}",
        m.fetches, m.store_adoptions
    );
}
