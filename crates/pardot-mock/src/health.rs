//! `pardot-mock health [URL]`: asks a running mock whether it is ready, with nothing but the
//! standard library's TCP stream, so a container without a shell or curl (`FROM scratch`) can
//! run it as its health check. Plain HTTP/1.1 only: the mock itself serves no TLS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use url::Url;

use crate::admin::HEALTH_PATH;

/// The base URL `pardot-mock health` asks when given none (the binary's default address).
pub const DEFAULT_HEALTH_URL: &str = "http://127.0.0.1:8717";

/// How long each of connecting, sending and reading may take.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// The most of an answer read (the health answer is a few dozen bytes).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Asks the mock at `base` (`http://host[:port]`, a path prefix allowed) for
/// `GET {base}/__mock/health`: the mock's version when it answers `200 {"status":"ok"}`,
/// else why not.
pub fn check(base: &str) -> Result<String, String> {
    let base = Url::parse(base).map_err(|e| format!("`{base}` is not a URL: {e}"))?;
    if base.scheme() != "http" {
        return Err(format!(
            "`{base}`: only http:// is supported (the mock serves no TLS)"
        ));
    }
    let url = format!("{}{HEALTH_PATH}", base.as_str().trim_end_matches('/'));
    let url = Url::parse(&url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let answer = get(&url).map_err(|e| format!("GET {url}: {e}"))?;
    let (status, body) = parse_answer(&answer).ok_or_else(|| {
        format!(
            "GET {url}: not an HTTP answer: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        )
    })?;
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let ok = json.as_ref().and_then(|j| j["status"].as_str()) == Some("ok");
    match (status, ok) {
        (200, true) => Ok(json
            .as_ref()
            .and_then(|j| j["version"].as_str())
            .unwrap_or("unknown")
            .to_owned()),
        _ => Err(format!(
            "GET {url}: HTTP {status}: {}",
            pardot_auth_core::redact::excerpt(body.as_bytes(), 200)
        )),
    }
}

/// One `GET` with `Connection: close`; the raw answer.
fn get(url: &Url) -> Result<Vec<u8>, String> {
    let addrs = url.socket_addrs(|| Some(80)).map_err(|e| e.to_string())?;
    let mut last = String::from("the host name resolved to no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, HEALTH_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("connect {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    stream
        .set_read_timeout(Some(HEALTH_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(HEALTH_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        url.path()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    Ok(answer)
}

/// The status code and the body of an HTTP/1.1 answer with a `Content-Length` (what the mock
/// sends for a small JSON body).
fn parse_answer(answer: &[u8]) -> Option<(u16, &str)> {
    let text = std::str::from_utf8(answer).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head
        .strip_prefix("HTTP/1.")?
        .get(2..)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_and_bad_urls_refused() {
        let answer = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\nno";
        assert_eq!(parse_answer(answer), Some((503, "no")));
        assert_eq!(parse_answer(b"SSH-2.0-OpenSSH\r\n"), None);
        assert!(
            check("https://127.0.0.1:1")
                .unwrap_err()
                .contains("only http://")
        );
        assert!(check("127.0.0.1:8717").unwrap_err().contains("not a URL"));
    }
}
