//! The servers under load, one per process so each round starts fresh and its CPU time and
//! memory can be read from `/proc`: ours (the mock library with the bench configuration),
//! wiremock serving the mock's bytes statically, and bare hyper serving the same bytes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use pardot_mock::config::GenerateConfig;
use pardot_mock::{MockConfig, PardotMock, ProspectConfig, fixtures};
use tower::ServiceExt;

use crate::announced::{announced, stop};
use crate::rs256::SignatureCheck;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// pardot-mock (A).
    Ours,
    /// wiremock with static bodies (B).
    Wiremock,
    /// bare hyper with static bodies (C).
    Hyper,
    /// The mock's public [`pardot_mock::router`] served by a plain hyper loop: the JWT
    /// budget's JWT side, served as its control is.
    Router,
    /// The same, verifying one RS256 signature before it answers each request: the JWT
    /// budget's control, a password grant plus one verification in the same request.
    RouterVerifying,
}

impl Kind {
    /// The name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Wiremock => "wiremock",
            Self::Hyper => "hyper",
            Self::Router => "router",
            Self::RouterVerifying => "router+verify",
        }
    }

    /// Parses [`Kind::name`].
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "ours" => Self::Ours,
            "wiremock" => Self::Wiremock,
            "hyper" => Self::Hyper,
            "router" => Self::Router,
            "router+verify" => Self::RouterVerifying,
            other => bail!("unknown server kind `{other}`"),
        })
    }
}

/// The v5 list the bench reads: 200 prospects of the production business unit.
pub const V5_PATH: &str = "/api/v5/objects/prospects?fields=id,email,firstName,lastName&limit=200";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/services/oauth2/token";
/// The v4 prospect query the bench reads: the same 200 prospects, one page, in bulk output.
pub const V4_QUERY_PATH: &str = "/api/prospect/version/4/do/query";
/// [`V4_QUERY_PATH`]'s query string, less `format=` (`json` or `xml` is appended).
const V4_QUERY: &str = "output=bulk&limit=200&sort_by=id&sort_order=ascending&format=";

/// The v4 prospect query page in `format` (`json` or `xml`).
pub fn v4_query_path(format: &str) -> String {
    format!("{V4_QUERY_PATH}?{V4_QUERY}{format}")
}

/// The bench configuration: the defaults, the per-BU concurrency limit and daily budget raised
/// so the limits do not turn load into errors, and `prospects` prospects in the production BU.
pub fn bench_config(prospects: usize) -> MockConfig {
    let mut config = MockConfig::defaults();
    for bu in &mut config.business_units {
        bu.concurrency_limit = 100_000;
        bu.daily_budget = u64::MAX / 4;
    }
    // The production BU's default prospects make way for the generated ones, and so do the
    // default list memberships, visitors, visits, activities, opportunities and email
    // clicks that point at them.
    config
        .prospects
        .retain(|p| p.business_unit != fixtures::BUSINESS_UNIT_ID);
    for table in [
        &mut config.list_memberships,
        &mut config.visitors,
        &mut config.visits,
        &mut config.visitor_page_views,
        &mut config.visitor_activities,
        &mut config.opportunities,
        &mut config.email_clicks,
    ] {
        table.retain(|m| m.business_unit != fixtures::BUSINESS_UNIT_ID);
    }
    let companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"];
    for i in 0..prospects {
        config.prospects.push(ProspectConfig {
            business_unit: fixtures::BUSINESS_UNIT_ID.to_owned(),
            id: 1_000_000 + i as u64,
            email: format!("prospect{i:06}@bench.example"),
            first_name: format!("First{i}"),
            last_name: format!("Last{i}"),
            company: companies[i % companies.len()].to_owned(),
            score: (i % 100) as i64,
            grade: Some("B".to_owned()),
            created_at: Some("2026-01-02 03:04:05".to_owned()),
            updated_at: Some("2026-02-03 04:05:06".to_owned()),
            fields: BTreeMap::new(),
            assigned_to: None,
        });
    }
    config
}

/// The static answers of the baselines, captured from our mock (same bytes, same type).
#[derive(Clone, Debug, Default)]
pub struct Bodies {
    /// The v5 list.
    pub v5: (String, Bytes),
    /// A password grant's answer.
    pub password: (String, Bytes),
    /// A JWT bearer grant's answer.
    pub jwt: (String, Bytes),
    /// The v4 prospect query page, `format=json`.
    pub v4_json: (String, Bytes),
    /// The v4 prospect query page, `format=xml`.
    pub v4_xml: (String, Bytes),
}

impl Bodies {
    /// Each body with its file name.
    fn named(&self) -> [(&'static str, &(String, Bytes)); 5] {
        [
            ("v5", &self.v5),
            ("password", &self.password),
            ("jwt", &self.jwt),
            ("v4-json", &self.v4_json),
            ("v4-xml", &self.v4_xml),
        ]
    }

    /// Writes the bodies under `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, (ctype, body)) in self.named() {
            std::fs::write(dir.join(format!("{name}.body")), body)?;
            std::fs::write(dir.join(format!("{name}.ctype")), ctype)?;
        }
        Ok(())
    }

    /// Reads what [`Bodies::save`] wrote.
    pub fn load(dir: &Path) -> Result<Self> {
        let read = |name: &str| -> Result<(String, Bytes)> {
            let body = std::fs::read(dir.join(format!("{name}.body")))
                .with_context(|| format!("reading {name}.body in {}", dir.display()))?;
            let ctype = std::fs::read_to_string(dir.join(format!("{name}.ctype")))?;
            Ok((ctype, Bytes::from(body)))
        };
        Ok(Self {
            v5: read("v5")?,
            password: read("password")?,
            jwt: read("jwt")?,
            v4_json: read("v4-json")?,
            v4_xml: read("v4-xml")?,
        })
    }
}

/// `xtask-bench serve KIND [--bodies DIR] [--prospects N] [--generate PROSPECTS,ACTIVITIES]
/// [--export-step SECS]` (the mock's `[generate]` table and `export_step_secs`): serves until
/// killed, after
/// printing `listening http://ADDR` on stdout.
pub async fn serve(args: &[String]) -> Result<()> {
    let kind = Kind::parse(args.first().map(String::as_str).unwrap_or(""))?;
    let mut bodies_dir = None;
    let mut prospects = 200;
    let mut generate = None;
    let mut export_step = None;
    let mut it = args.iter().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--bodies" => bodies_dir = it.next().map(PathBuf::from),
            "--prospects" => prospects = it.next().context("--prospects N")?.parse()?,
            "--generate" => {
                let counts = it.next().context("--generate PROSPECTS,ACTIVITIES")?;
                let (p, a) = counts
                    .split_once(',')
                    .context("--generate PROSPECTS,ACTIVITIES")?;
                generate = Some((p.parse()?, a.parse()?));
            }
            "--export-step" => {
                export_step = Some(it.next().context("--export-step SECS")?.parse()?);
            }
            other => bail!("unknown flag {other}"),
        }
    }
    match kind {
        Kind::Ours => {
            let mut config = bench_config(prospects);
            if let Some((prospects, visitor_activities)) = generate {
                config.generate = Some(GenerateConfig {
                    seed: 1,
                    business_unit: fixtures::BUSINESS_UNIT_ID.to_owned(),
                    prospects,
                    visitor_activities,
                    ..GenerateConfig::default()
                });
            }
            if let Some(secs) = export_step {
                config.export_step_secs = secs;
            }
            let mock = PardotMock::builder().config(config).start().await?;
            announce(&mock.url());
            std::future::pending::<()>().await;
            drop(mock);
        }
        Kind::Wiremock => {
            let bodies = Bodies::load(&bodies_dir.context("--bodies DIR")?)?;
            let server = wiremock_server(&bodies).await;
            announce(&server.uri());
            std::future::pending::<()>().await;
            drop(server);
        }
        Kind::Hyper => {
            let bodies = Bodies::load(&bodies_dir.context("--bodies DIR")?)?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(&format!("http://{}", listener.local_addr()?));
            serve_hyper(listener, Arc::new(bodies)).await?;
        }
        Kind::Router | Kind::RouterVerifying => {
            let state = PardotMock::builder()
                .config(bench_config(prospects))
                .build_state()?;
            let check = match kind {
                Kind::RouterVerifying => Some(Arc::new(SignatureCheck::new()?)),
                _ => None,
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(&format!("http://{}", listener.local_addr()?));
            serve_router(listener, pardot_mock::router(state), check).await?;
        }
    }
    Ok(())
}

fn announce(url: &str) {
    println!("listening {url}");
}

/// A wiremock server answering the bench's requests with the static bodies.
pub async fn wiremock_server(bodies: &Bodies) -> wiremock::MockServer {
    use wiremock::matchers::{body_string_contains, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    // Method, path, what the body (or the `format` parameter) must hold, the answer.
    let routes = [
        ("GET", "/api/v5/objects/prospects", None, None, &bodies.v5),
        (
            "POST",
            TOKEN_PATH,
            Some("grant_type=password"),
            None,
            &bodies.password,
        ),
        ("POST", TOKEN_PATH, Some("jwt-bearer"), None, &bodies.jwt),
        ("GET", V4_QUERY_PATH, None, Some("json"), &bodies.v4_json),
        ("GET", V4_QUERY_PATH, None, Some("xml"), &bodies.v4_xml),
    ];
    for (verb, route, body_holds, format, (ctype, body)) in routes {
        let mut mock = Mock::given(method(verb)).and(path(route));
        if let Some(text) = body_holds {
            mock = mock.and(body_string_contains(text));
        }
        if let Some(format) = format {
            mock = mock.and(query_param("format", format));
        }
        mock.respond_with(ResponseTemplate::new(200).set_body_raw(body.to_vec(), ctype.as_str()))
            .mount(&server)
            .await;
    }
    server
}

/// Bare hyper on `listener`, answering the bench's requests with `bodies` (404 for the rest).
pub async fn serve_hyper(listener: tokio::net::TcpListener, bodies: Arc<Bodies>) -> Result<()> {
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let bodies = bodies.clone();
        async move { Ok::<_, Infallible>(answer_static(req, &bodies).await) }
    });
    serve_each_connection(listener, service).await
}

/// `router` on `listener`, each connection served as [`serve_hyper`] serves it; with `check`,
/// every request first verifies its signature (500 if it did not verify).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    check: Option<Arc<SignatureCheck>>,
) -> Result<()> {
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let verified = check.as_ref().is_none_or(|c| c.verify().unwrap_or(false));
        let router = router.clone();
        async move {
            if !verified {
                let mut failed = Response::new(axum::body::Body::from("control: no verify"));
                *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(failed);
            }
            router.oneshot(req.map(axum::body::Body::new)).await
        }
    });
    serve_each_connection(listener, service).await
}

/// The bench's own accept loop: every connection on `listener` served by a copy of `service`
/// on a task of its own, HTTP/1.1 with `TCP_NODELAY`, until accepting fails.
async fn serve_each_connection<S, B>(listener: tokio::net::TcpListener, service: S) -> Result<()>
where
    S: hyper::service::Service<Request<hyper::body::Incoming>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer_static(
    req: Request<hyper::body::Incoming>,
    bodies: &Bodies,
) -> Response<Full<Bytes>> {
    let is_v5 = req.uri().path() == "/api/v5/objects/prospects";
    let is_token = req.uri().path() == TOKEN_PATH;
    let v4_format = (req.uri().path() == V4_QUERY_PATH).then(|| {
        let query = req.uri().query().unwrap_or_default();
        query.split('&').any(|pair| pair == "format=xml")
    });
    // Read the body like any server must, to tell the grants apart.
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let chosen = if is_v5 {
        Some(&bodies.v5)
    } else if let Some(xml) = v4_format {
        Some(if xml { &bodies.v4_xml } else { &bodies.v4_json })
    } else if is_token && body.starts_with(b"grant_type=password") {
        Some(&bodies.password)
    } else if is_token {
        Some(&bodies.jwt)
    } else {
        None
    };
    let mut response = match chosen {
        Some((ctype, bytes)) => {
            let mut r = Response::new(Full::new(bytes.clone()));
            if let Ok(v) = HeaderValue::from_str(ctype) {
                r.headers_mut().insert(CONTENT_TYPE, v);
            }
            r
        }
        None => Response::new(Full::new(Bytes::from_static(b"not found"))),
    };
    if chosen.is_none() {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}

/// A server in its own process (this binary's `serve`), killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `kind` and waits for its address.
    pub fn start(kind: Kind, bodies: &Path, prospects: usize) -> Result<Self> {
        Self::start_with(kind, bodies, prospects, &[])
    }

    /// [`ServerProcess::start`] with more `serve` flags (`--generate PROSPECTS,ACTIVITIES`).
    pub fn start_with(kind: Kind, bodies: &Path, prospects: usize, more: &[&str]) -> Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg("serve")
            .arg(kind.name())
            .arg("--bodies")
            .arg(bodies)
            .arg("--prospects")
            .arg(prospects.to_string())
            .args(more)
            .env("PARDOT_MOCK_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a bench server")?;
        let addr = announced(&mut child, Duration::from_secs(60), |line| {
            line.strip_prefix("listening http://")
                .and_then(|a| a.trim_end_matches('/').parse().ok())
        })
        .with_context(|| format!("the {} server did not print its address", kind.name()))?;
        Ok(Self { child, addr })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
