//! Bodies without a `Content-Length` (chunked transfer encoding, the pieces written one by
//! one): the client keeps every byte in order and still refuses more than its limit.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pardot_auth_core::{AccessToken, Expiry, PardotHost, TokenKind, provide_token_fn};
use pardot_http::{PardotClient, PardotError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one connection: reads the request head, then answers 200 with `pieces` as separate
/// chunks, each written and flushed on its own.
async fn chunked_server(pieces: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await.unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                  transfer-encoding: chunked\r\n\r\n",
            )
            .await
            .unwrap();
        for piece in pieces {
            let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
            chunk.extend_from_slice(&piece);
            chunk.extend_from_slice(b"\r\n");
            // A closed connection (the client gave up at its limit) ends the answer early.
            if socket.write_all(&chunk).await.is_err() || socket.flush().await.is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}")
}

fn client(url: &str, limit: usize) -> PardotClient {
    let source = provide_token_fn("fixed", || async {
        let now = SystemTime::now();
        Ok(AccessToken::new(
            TokenKind::SalesforceBearer,
            "tok".to_owned().into(),
            now,
            Expiry::Estimated(now + Duration::from_secs(7200)),
        ))
    });
    PardotClient::builder(Arc::new(source), PardotHost::custom(url).unwrap())
        .business_unit("0Uv5A000000PAuMSAW".parse().unwrap())
        .max_response_bytes(limit)
        .no_proxy()
        .build()
        .unwrap()
}

/// One GET of the chunked answer `pieces`, with a body limit of `limit` bytes.
async fn get(
    pieces: Vec<Vec<u8>>,
    limit: usize,
) -> Result<pardot_http::PardotResponse, PardotError> {
    let url = chunked_server(pieces).await;
    client(&url, limit)
        .get("/api/v5/objects/prospects")
        .send()
        .await
}

fn pieces(sizes: &[usize]) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, n)| vec![b'a' + i as u8; *n])
        .collect()
}

#[tokio::test]
async fn a_body_in_many_pieces_arrives_whole_and_in_order() {
    let sent = pieces(&[700, 1, 1300, 64]);
    let answer = get(sent.clone(), 4096).await.unwrap();
    assert_eq!(answer.bytes().as_ref(), sent.concat().as_slice());
}

#[tokio::test]
async fn a_body_in_one_piece_arrives_whole() {
    let sent = pieces(&[1500]);
    let answer = get(sent.clone(), 1500).await.unwrap();
    assert_eq!(answer.bytes().as_ref(), sent.concat().as_slice());
}

#[tokio::test]
async fn an_empty_body_is_empty() {
    let answer = get(Vec::new(), 16).await.unwrap();
    assert!(answer.bytes().is_empty());
}

#[tokio::test]
async fn pieces_past_the_limit_are_refused() {
    // No single piece is over the limit; together they are.
    let e = get(pieces(&[1000, 1000, 1000]), 2500).await.unwrap_err();
    assert!(
        matches!(e, PardotError::BodyTooLarge { limit: 2500 }),
        "{e}"
    );
}

#[tokio::test]
async fn a_first_piece_past_the_limit_is_refused() {
    let e = get(pieces(&[3000, 10]), 2500).await.unwrap_err();
    assert!(
        matches!(e, PardotError::BodyTooLarge { limit: 2500 }),
        "{e}"
    );
}
