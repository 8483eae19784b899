//! A v5 create (`POST`) is not idempotent: Pardot makes a second record for a second copy
//! (the mock does too). So once a create may have reached the server, the client never sends
//! it again: not when the connection drops after the request was written, not after a 5xx
//! (503 included), not after a timeout. A local server counts the copies it receives.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pardot_auth_core::testing::CountingSource;
use pardot_auth_core::{BusinessUnitId, ManualClock, PardotHost};
use pardot_http::{PardotClient, PardotError, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BU: &str = "0Uv5A000000PAuMSAW";

/// What the server does once it has read a whole request.
#[derive(Debug, Clone, Copy)]
enum After {
    /// Closes the connection without a word.
    Close,
    /// Answers 500.
    ServerError,
    /// Answers 503 (which for an idempotent request means "wait and retry").
    Unavailable,
    /// Keeps the connection open and never answers.
    Hang,
}

/// Reads one request (head and `Content-Length` body); `false` when the peer went away first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return true;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Answers with `status` and a plain-text body (what a proxy in front of Pardot sends), then
/// closes.
async fn answer(stream: &mut TcpStream, status: &str) {
    let body = "upstream error";
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
}

/// A server on a free local port doing `after` with every request; the count of requests it
/// read whole.
async fn server(after: After) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&received);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            if !read_request(&mut stream).await {
                continue;
            }
            count.fetch_add(1, Ordering::SeqCst);
            match after {
                After::Close => drop(stream),
                After::ServerError => answer(&mut stream, "500 Internal Server Error").await,
                After::Unavailable => answer(&mut stream, "503 Service Unavailable").await,
                After::Hang => held.push(stream),
            }
        }
    });
    (url, received)
}

/// A client of `url` on a manual clock, retrying up to `max_retries` times.
fn client(url: &str, max_retries: u32) -> (ManualClock, PardotClient) {
    let clock = ManualClock::new();
    let tokens = CountingSource::new(clock.shared());
    let c = PardotClient::builder(tokens.shared(), PardotHost::custom(url).unwrap())
        .business_unit(BU.parse::<BusinessUnitId>().unwrap())
        .clock(clock.shared())
        .no_proxy()
        .retry_policy(RetryPolicy::default().max_retries(max_retries))
        .build()
        .unwrap();
    (clock, c)
}

#[tokio::test]
async fn a_create_that_may_have_reached_the_server_is_sent_once() {
    for after in [
        After::Close,
        After::ServerError,
        After::Unavailable,
        After::Hang,
    ] {
        let (url, received) = server(after).await;
        let (clock, c) = client(&url, 3);
        let call = tokio::spawn({
            let c = c.clone();
            async move {
                c.post("/api/v5/objects/prospects")
                    .json(&serde_json::json!({"email": "once@example.com"}))
                    // Bounds the hanging case; the other two answer at once.
                    .timeout(Duration::from_millis(300))
                    .send()
                    .await
            }
        });
        // A retry would first wait on the clock: seeing that waiter is the failure.
        let e = tokio::select! {
            result = call => result.unwrap().unwrap_err(),
            () = clock.wait_for_sleepers(1) => panic!("{after:?}: the create is being retried"),
        };
        let expected = match after {
            After::Close => matches!(e, PardotError::Transport(_)),
            After::ServerError | After::Unavailable => matches!(e, PardotError::Http { .. }),
            After::Hang => matches!(e, PardotError::Timeout(_)),
        };
        assert!(expected, "{after:?}: {e}");
        assert_eq!(received.load(Ordering::SeqCst), 1, "{after:?}");
        let m = c.metrics();
        assert_eq!(
            (m.attempts, m.transport_retries, m.throttle_retries),
            (1, 0, 0),
            "{after:?}"
        );
    }
}

#[tokio::test]
async fn a_get_after_the_same_failures_is_retried() {
    // The contrast that shows the server above would see a retry: an idempotent read is sent
    // again after a dropped connection.
    let (url, received) = server(After::Close).await;
    let (clock, c) = client(&url, 1);
    let call = tokio::spawn({
        let c = c.clone();
        async move { c.get("/api/v5/objects/prospects").send().await }
    });
    clock.wait_for_sleepers(1).await;
    clock.advance(Duration::from_secs(30));
    let e = call.await.unwrap().unwrap_err();
    assert!(matches!(e, PardotError::Transport(_)), "{e}");
    assert_eq!(received.load(Ordering::SeqCst), 2);
}
