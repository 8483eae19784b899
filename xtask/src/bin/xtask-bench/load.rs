//! The closed-loop load generator: a fixed number of keep-alive HTTP/1.1 connections on
//! loopback, each sending its next request as soon as the previous answer is read, bounded in
//! requests and in time. It is not what is measured; it is the same for every server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One kind of request, sent again and again.
#[derive(Clone, Debug)]
pub struct Template {
    /// GET or POST.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// Extra headers (authorization, business unit, content type).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Request bodies; request `i` sends `bodies[i % len]`. Empty: no body.
    pub bodies: Arc<Vec<Bytes>>,
}

impl Template {
    /// A GET of `path` with `headers`.
    pub fn get(path: &str, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            headers,
            bodies: Arc::new(Vec::new()),
        }
    }

    /// A form POST of `path`, one body per request.
    pub fn post_form(path: &str, bodies: Arc<Vec<Bytes>>) -> Self {
        Self {
            method: Method::POST,
            path: path.to_owned(),
            headers: vec![(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )],
            bodies,
        }
    }

    fn request(&self, host: &HeaderValue, i: u64) -> Result<Request<Full<Bytes>>> {
        let body = if self.bodies.is_empty() {
            Bytes::new()
        } else {
            let len = self.bodies.len() as u64;
            self.bodies[usize::try_from(i % len)?].clone()
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str())
            .header(HOST, host.clone());
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        Ok(builder.body(Full::new(body))?)
    }
}

/// How much load: connections, and the bounds.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Connections, each with one request in flight.
    pub concurrency: usize,
    /// Stop after this many requests.
    pub max_requests: u64,
    /// Stop after this long.
    pub max_time: Duration,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Requests answered 200.
    pub ok: u64,
    /// Other answers and transport errors.
    pub failed: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// The first failure, for the report.
    pub first_failure: Option<String>,
}

impl Outcome {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

async fn connect(addr: SocketAddr) -> Result<http1::SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the sender is dropped; an error here shows up as a failed
        // request on the sender side.
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on a new connection: status, content type and body.
pub async fn once(addr: SocketAddr, template: &Template) -> Result<(StatusCode, String, Bytes)> {
    let mut sender = connect(addr).await?;
    let host = HeaderValue::from_str(&addr.to_string())?;
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        sender.send_request(template.request(&host, 0)?),
    )
    .await
    .context("no answer within 30 s")??;
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, content_type, body))
}

/// Runs the closed loop: `spec.concurrency` connections are opened first, then the clock
/// starts and each connection sends requests back to back until a bound is reached.
pub async fn run(addr: SocketAddr, template: &Template, spec: Spec) -> Result<Outcome> {
    let mut senders = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency {
        senders.push(connect(addr).await?);
    }
    let host = HeaderValue::from_str(&addr.to_string())?;
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let start = Instant::now();
    let deadline = start + spec.max_time;
    let mut tasks = Vec::with_capacity(senders.len());
    for mut sender in senders {
        let (next, ok, failed, first_failure) = (
            next.clone(),
            ok.clone(),
            failed.clone(),
            first_failure.clone(),
        );
        let template = template.clone();
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let note = |what: String| {
                failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut slot) = first_failure.lock() {
                    slot.get_or_insert(what);
                }
            };
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= spec.max_requests {
                    break;
                }
                let request = match template.request(&host, i) {
                    Ok(r) => r,
                    Err(e) => {
                        note(format!("building request: {e}"));
                        break;
                    }
                };
                if let Err(e) = sender.ready().await {
                    note(format!("connection closed: {e}"));
                    break;
                }
                match sender.send_request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        match response.into_body().collect().await {
                            Ok(body) if status == StatusCode::OK => {
                                std::hint::black_box(body.to_bytes());
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(body) => {
                                let body = body.to_bytes();
                                let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                                    .into_owned();
                                note(format!("HTTP {status}: {text}"));
                            }
                            Err(e) => note(format!("reading body: {e}")),
                        }
                    }
                    Err(e) => {
                        note(format!("sending: {e}"));
                        break;
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = start.elapsed();
    let first_failure = first_failure.lock().ok().and_then(|mut s| s.take());
    let outcome = Outcome {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed,
        first_failure,
    };
    if outcome.ok == 0 {
        bail!(
            "no request succeeded against {addr}: {}",
            outcome.first_failure.as_deref().unwrap_or("?")
        );
    }
    Ok(outcome)
}
