//! Clients that send half a request and stop (slowloris), too many headers, or more
//! connections than the cap, over real sockets on tokio's paused clock: every wait below is
//! virtual, so the timeouts are exact and nothing sleeps.

use std::time::Duration;

use pardot_mock::PardotMock;
use pardot_mock::config::{MockConfig, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const BODY_TIMEOUT: Duration = Duration::from_secs(3);
/// A complete request the mock answers 200 (the admin clock needs no credentials).
const FULL_REQUEST: &[u8] = b"GET /__mock/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

async fn mock_with(max_connections: usize) -> PardotMock {
    let mut config = MockConfig::defaults();
    config.server = ServerConfig {
        header_read_timeout_ms: millis(HEADER_TIMEOUT),
        body_read_timeout_ms: millis(BODY_TIMEOUT),
        max_connections,
    };
    PardotMock::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("small")
}

/// Connects and sends `bytes`, then waits for the mock to close the connection; what it
/// answered (empty when it closed without a word) and the virtual time since connecting.
async fn send_and_wait_for_close(mock: &PardotMock, bytes: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(mock.addr()).await.expect("connects");
    stream.write_all(bytes).await.expect("writes");
    (read_to_close(&mut stream).await, started.elapsed())
}

/// Everything the mock sends until it closes (a reset counts as a close); panics when it
/// keeps the connection open far beyond every timeout.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(20 * BODY_TIMEOUT, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the mock never closed the connection");
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> Option<&str> {
    answer.strip_prefix("HTTP/1.1 ")?.get(..3)
}

#[tokio::test(start_paused = true)]
async fn half_sent_headers_are_dropped_after_the_header_read_timeout() {
    let mock = mock_with(16).await;
    let (answer, waited) =
        send_and_wait_for_close(&mock, b"GET /__mock/clock HTTP/1.1\r\nHost: x\r\n").await;
    assert_eq!(answer, "", "closed without an answer");
    assert!(waited >= HEADER_TIMEOUT, "dropped after {waited:?}");
    assert!(
        waited < BODY_TIMEOUT,
        "the header timeout fired, {waited:?}"
    );

    // The same request completed is served: the close above came from the timeout.
    let (answer, _) = send_and_wait_for_close(&mock, FULL_REQUEST).await;
    assert_eq!(status_of(&answer), Some("200"), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_is_dropped_after_the_header_read_timeout() {
    let mock = mock_with(16).await;
    let (answer, waited) = send_and_wait_for_close(&mock, b"").await;
    assert_eq!(answer, "");
    assert!(waited >= HEADER_TIMEOUT, "dropped after {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_kept_alive_connection_gets_the_whole_header_read_timeout_for_each_head() {
    let mock = mock_with(16).await;
    let mut stream = TcpStream::connect(mock.addr()).await.expect("connects");
    // The first head is awaited for a while before it comes, so the connection's timer is
    // armed for its deadline; the second head must still get its own full period.
    // (A sleep on the paused clock lets the mock wait for that head before time moves.)
    tokio::time::sleep(HEADER_TIMEOUT / 2).await;
    stream
        .write_all(b"GET /__mock/clock HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let first = read_one_answer(&mut stream).await;
    assert_eq!(status_of(&first), Some("200"), "{first}");

    let second_started = Instant::now();
    stream
        .write_all(b"GET /__mock/clock HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    let answer = read_to_close(&mut stream).await;
    let waited = second_started.elapsed();
    assert_eq!(answer, "", "closed without an answer");
    assert!(waited >= HEADER_TIMEOUT, "dropped after {waited:?}");
    assert!(waited < HEADER_TIMEOUT * 2, "dropped after {waited:?}");
}

/// Reads one answer with a `content-length` off a connection that stays open.
async fn read_one_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .expect("a content-length")
                .parse()
                .expect("a number");
            if body.len() >= length {
                return text;
            }
        }
        let read = tokio::time::timeout(BODY_TIMEOUT, stream.read(&mut chunk)).await;
        let read = read.expect("answered in time").expect("reads");
        assert!(read > 0, "closed before the answer was whole");
        answer.extend_from_slice(&chunk[..read]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_body_is_answered_408_after_the_body_read_timeout() {
    let mock = mock_with(16).await;
    let (answer, waited) = send_and_wait_for_close(
        &mock,
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
          grant_type=pass",
    )
    .await;
    assert_eq!(status_of(&answer), Some("408"), "{answer}");
    assert!(waited >= BODY_TIMEOUT, "answered after {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_body_trickling_in_is_cut_at_the_body_read_timeout() {
    let mock = mock_with(16).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(mock.addr()).await.expect("connects");
    stream
        .write_all(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n")
        .await
        .expect("writes");
    // One byte every quarter of the timeout: never idle for long, but never done in time.
    for _ in 0..64 {
        tokio::time::sleep(BODY_TIMEOUT / 4).await;
        if stream.write_all(b"a").await.is_err() || started.elapsed() > 2 * BODY_TIMEOUT {
            break;
        }
    }
    let answer = read_to_close(&mut stream).await;
    assert_eq!(status_of(&answer), Some("408"), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn the_header_block_is_bounded_in_count_and_size() {
    let mock = mock_with(16).await;
    // Host and Connection plus extra fields: exactly the most allowed, then one more.
    for (extra, status) in [
        (pardot_mock::MAX_HEADERS - 2, "200"),
        (pardot_mock::MAX_HEADERS - 1, "431"),
    ] {
        let fields: String = (0..extra).map(|i| format!("X-Field-{i}: v\r\n")).collect();
        let request =
            format!("GET /__mock/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{fields}\r\n");
        let (answer, _) = send_and_wait_for_close(&mock, request.as_bytes()).await;
        assert_eq!(status_of(&answer), Some(status), "{extra} fields: {answer}");
    }

    let huge = "v".repeat(pardot_mock::MAX_HEADER_BYTES + 1);
    let (answer, _) = send_and_wait_for_close(
        &mock,
        format!("GET /__mock/clock HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status_of(&answer), Some("431"), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_cap_wait_until_a_slot_frees() {
    let mock = mock_with(2).await;
    let started = Instant::now();
    // Two silent connections take both slots until the header timeout drops them.
    let _first = TcpStream::connect(mock.addr()).await.expect("connects");
    let _second = TcpStream::connect(mock.addr()).await.expect("connects");
    let (answer, waited) = send_and_wait_for_close(&mock, FULL_REQUEST).await;
    assert_eq!(status_of(&answer), Some("200"), "{answer}");
    assert!(
        started.elapsed() >= HEADER_TIMEOUT,
        "served after {waited:?}, before a slot was free"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_finishes_while_a_client_is_stuck_mid_request() {
    let mock = mock_with(16).await;
    let mut stuck = TcpStream::connect(mock.addr()).await.expect("connects");
    stuck
        .write_all(b"GET /__mock/clock HTTP/1.1\r\nHo")
        .await
        .expect("writes");
    // Let the mock accept it before stopping.
    tokio::task::yield_now().await;
    mock.shutdown().await;
    assert_eq!(read_to_close(&mut stuck).await, "");
}

#[tokio::test(start_paused = true)]
async fn a_cap_beyond_what_a_semaphore_holds_means_no_cap() {
    let mock = mock_with(usize::MAX).await;
    let (answer, _) = send_and_wait_for_close(&mock, FULL_REQUEST).await;
    assert_eq!(status_of(&answer), Some("200"), "{answer}");
}
