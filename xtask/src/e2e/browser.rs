//! `cargo xtask e2e --browser`: the web server flow in a real headless Chromium, driven over
//! WebDriver (fantoccini) through a chromedriver this scenario starts on a free port.

use pardot_mock::{Outcome, Route};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use pardot_auth_core::TokenKind;
use pardot_mock::fixtures as fx;

use super::Ran;
use super::support::{PkceAttempt, count, ran, staged};

const INSTALL_HINT: &str = "install them with `apt-get update && apt-get install -y chromium chromium-driver` \
     (Debian/Ubuntu; .ci/run does this), or put chromium and chromedriver on PATH";

/// Where the login page screenshot goes (relative to the workspace root).
pub(crate) const SCREENSHOT: &str = "target/e2e/login-page.png";

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver child process, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(binary: &Path, log: &Path) -> Result<Self> {
        // A free port: bind, read, release. chromedriver takes it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::builder().no_proxy().build()?;
        for _ in 0..200 {
            let ready = http
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if let Some(r) = ready {
                let status: serde_json::Value = r.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    return Ok(driver);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "chromedriver was not ready within 10 s (log: {})",
            log.display()
        )
    }
}

/// The web server flow in headless Chromium: open the authorize URL, fill the mock's login
/// form, allow, land on the loopback receiver, exchange the code, get a token.
pub(crate) async fn web_server_flow() -> Result<Ran> {
    let (Some(chromium), Some(chromedriver)) = (
        on_path(&["chromium", "chromium-browser", "google-chrome"]),
        on_path(&["chromedriver"]),
    ) else {
        bail!("Chromium and chromedriver are not installed: {INSTALL_HINT}");
    };
    let root = crate::project_root();
    let out = root.join("target/e2e");
    std::fs::create_dir_all(&out)?;
    let profile = tempfile::tempdir()?;
    let driver = Driver::start(&chromedriver, &out.join("chromedriver.log")).await?;

    let (_, shared, mock) = staged().await?;
    let mut attempt = PkceAttempt::start(&mock, &shared, Duration::from_secs(120)).await?;

    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--no-proxy-server".to_owned(),
        "--window-size=800,700".to_owned(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .context("chromedriver could not start a Chromium session")?;
    let outcome = drive(&browser, attempt.url.as_str(), &root.join(SCREENSHOT)).await;
    let _ = browser.close().await;
    let consent_shown = outcome?;

    let code = attempt.code().await?;
    let token = attempt.flow.exchange_code(code, attempt.verifier).await?;
    ensure!(matches!(token.kind(), TokenKind::SalesforceBearer));
    ensure!(token.refresh_token().is_some(), "no refresh token");
    ensure!(consent_shown, "the Allow page was not shown");
    ensure!(count(&mock, Route::OAuthToken, Outcome::Ok) == 1);
    drop(driver);
    Ok(ran(&mock))
}

/// The person's part, in the browser. Returns whether the Allow page was shown.
async fn drive(browser: &Client, authorize: &str, screenshot: &Path) -> Result<bool> {
    let wait = Duration::from_secs(15);
    browser.goto(authorize).await?;
    let username = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("input#username"))
        .await
        .context("the login page has no username field")?;
    let png = browser.screenshot().await?;
    ensure!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 4096,
        "the login page screenshot is not a PNG with content ({} bytes)",
        png.len()
    );
    std::fs::write(screenshot, png).with_context(|| format!("writing {}", screenshot.display()))?;
    username.send_keys(fx::WEB_USERNAME).await?;
    browser
        .find(Locator::Css("input#password"))
        .await?
        .send_keys(fx::WEB_PASSWORD)
        .await?;
    browser
        .find(Locator::Css("button#Login"))
        .await?
        .click()
        .await?;
    // Either the Allow page or, for an approved app, the receiver's page.
    let mut consent_shown = false;
    for _ in 0..(wait.as_millis() / 50) {
        // The page may be navigating; a failed read just means "look again".
        let source = browser.source().await.unwrap_or_default();
        if source.contains("Signed in") {
            return Ok(consent_shown);
        }
        if source.contains("Sign-in failed") {
            bail!("the receiver reported a failed sign-in: {source}");
        }
        if !consent_shown && let Ok(allow) = browser.find(Locator::Css("button#oaapprove")).await {
            consent_shown = true;
            allow.click().await?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at = browser.current_url().await?;
    bail!("the browser never reached the callback receiver (stuck at {at})")
}
