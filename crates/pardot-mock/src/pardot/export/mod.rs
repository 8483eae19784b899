//! The v5 Export API: `POST /api/v5/exports` (create), `GET /api/v5/exports` (list),
//! `GET /api/v5/exports/{id}` (read) and `GET /api/v5/exports/{id}/results/{n}` (download a
//! result file as CSV).
//!
//! Every call passes the same checks as the other v5 routes (a Bearer token, the
//! business-unit header, the unit's in-flight limit and daily budget). An export reads the
//! same stores the v3/v4 `do/query` answers come from; its files are streamed a page of
//! records at a time, so a file of a million rows is never held in memory.

mod columns;
mod procedure;
mod registry;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;

use self::columns::Columns;
use self::procedure::Procedure;
use self::registry::{BOM, Export, ExportRequest, Exports, PAGE, REPRESENTATION, Status};
use super::errors::{ApiError, message};
use super::render::{self, Format};
use super::{Admitted, PardotApi};
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// The size of a result file when the request names none: 100 MiB.
pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;
/// The smallest `maxFileSizeBytes` accepted.
pub(crate) const MIN_MAX_FILE_SIZE: u64 = 1024;
/// The largest `maxFileSizeBytes` accepted: 1 GiB.
pub(crate) const MAX_MAX_FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// The most exports one list page holds, and the default.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 200;

/// The export routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/v5/exports", get(list).post(create))
        .route("/api/v5/exports/{id}", get(read))
        .route("/api/v5/exports/{id}/results/{file}", get(download))
}

/// Forgets every export (with the mock's reset).
pub(crate) fn reset(state: &MockState) {
    Exports::of(state).clear();
}

/// The error `code` with its table message and `detail` after it.
fn invalid(code: u32, detail: impl std::fmt::Display) -> ApiError {
    let text = message(code).unwrap_or("Invalid request");
    ApiError::with_message(code, format!("{}: {detail}", text.trim_end_matches('.')))
}

/// Code 109 (404): no such export or file of the caller's business unit.
fn not_found(detail: &str) -> ApiError {
    invalid(109, detail)
}

fn error(e: &ApiError) -> Response {
    super::outcome(render::v5_error(e), e)
}

/// The request's base URL (for `resultRefs` and `nextPageUrl`).
fn public_base(vhost: Option<&Extension<VirtualHost>>, headers: &HeaderMap, uri: &Uri) -> String {
    vhost.map_or_else(
        || super::public_base(headers, uri.path()),
        |Extension(v)| v.public_base.clone(),
    )
}

/// Admits a request as the other v5 routes do: a Pardot host, a Bearer token, the unit's
/// limits; the answer to send instead when one fails.
async fn admit<'a>(
    api: &'a PardotApi,
    state: &MockState,
    vhost: Option<&Extension<VirtualHost>>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Admitted<'a>, Response> {
    let Some(host) = super::host::pardot_host(vhost, headers, uri) else {
        return Err(super::not_a_pardot_host());
    };
    api.admit_bearer(state, headers, host)
        .await
        .map_err(|e| error(&e))
}

/// The index of the admitted unit in the Pardot state.
fn unit_index(api: &PardotApi, admitted: &Admitted<'_>) -> usize {
    api.units
        .iter()
        .position(|u| std::ptr::eq(u, admitted.unit))
        .unwrap_or_default()
}

fn json(status: StatusCode, body: String) -> Response {
    render::respond(status, Format::Json, body)
}

/// The query pairs of a request.
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The members a `fields` parameter names (`None`: every member), each one checked.
fn representation_fields(text: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let names: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = names.iter().find(|n| !REPRESENTATION.contains(&n.as_str())) {
        return Err(invalid(130, format!("Invalid field: {bad}")));
    }
    if names.is_empty() {
        return Err(invalid(36, "fields"));
    }
    Ok(Some(names))
}

/// Reads a create body into what the export asks for.
fn parse_create(
    headers: &HeaderMap,
    body: &[u8],
    now: std::time::SystemTime,
) -> Result<ExportRequest, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json_type {
        return Err(ApiError::code(151));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::code(152));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| ApiError::code(150))?;
    let object = value.as_object().ok_or_else(|| ApiError::code(150))?;
    const KNOWN: [&str; 4] = [
        "fields",
        "procedure",
        "includeByteOrderMark",
        "maxFileSizeBytes",
    ];
    if let Some(key) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid(154, key));
    }
    let procedure = Procedure::parse(
        object
            .get("procedure")
            .ok_or_else(|| invalid(153, "procedure"))?,
        now,
    )?;
    let columns = Columns::parse(
        procedure.selection.object,
        object.get("fields").ok_or_else(|| invalid(153, "fields"))?,
    )?;
    let include_bom = match object.get("includeByteOrderMark") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| invalid(154, "includeByteOrderMark must be a boolean"))?,
    };
    let max_file_size = match object.get("maxFileSizeBytes") {
        None => DEFAULT_MAX_FILE_SIZE,
        Some(v) => v
            .as_u64()
            .filter(|n| (MIN_MAX_FILE_SIZE..=MAX_MAX_FILE_SIZE).contains(n))
            .ok_or_else(|| {
                invalid(
                    154,
                    format!(
                        "maxFileSizeBytes must be a whole number from {MIN_MAX_FILE_SIZE} to {MAX_MAX_FILE_SIZE}"
                    ),
                )
            })?,
    };
    Ok(ExportRequest {
        procedure,
        columns,
        include_bom,
        max_file_size,
    })
}

/// `POST /api/v5/exports`: queues an export; `201` with its JSON.
async fn create(
    State(state): State<MockState>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let api = state.pardot();
    let admitted = match admit(&api, &state, vhost.as_ref(), &headers, &uri).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let now = state.now();
    let request = match parse_create(&headers, &body, now) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let step = Duration::from_secs(state.config().export_step_secs);
    let unit = unit_index(&api, &admitted);
    let export = Exports::of(&state).create(unit, request, now, step);
    // With no step the export is complete at once.
    cut_files(&api, unit, &export, now).await;
    let base = public_base(vhost.as_ref(), &headers, &uri);
    let mut body = String::with_capacity(512);
    export.write_json(now, &base, None, &mut body);
    json(StatusCode::CREATED, body)
}

/// Cuts a complete export's files (a pass over its records, off the async workers) if
/// that was not done yet.
async fn cut_files(
    api: &Arc<PardotApi>,
    unit: usize,
    export: &Arc<Export>,
    now: std::time::SystemTime,
) {
    if export.status(now) != Status::Complete || export.is_expired(now) || export.cut().is_some() {
        return;
    }
    let api = Arc::clone(api);
    let export = Arc::clone(export);
    let _ = tokio::task::spawn_blocking(move || {
        export.files(&api.units[unit]);
    })
    .await;
}

/// `GET /api/v5/exports/{id}`: the export's JSON (`fields` may name the members wanted).
async fn read(
    State(state): State<MockState>,
    Path(id): Path<String>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let api = state.pardot();
    let admitted = match admit(&api, &state, vhost.as_ref(), &headers, &uri).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let unit = unit_index(&api, &admitted);
    let pairs = query_pairs(&uri);
    let only = match representation_fields(param(&pairs, "fields")) {
        Ok(only) => only,
        Err(e) => return error(&e),
    };
    let Some(export) = id
        .parse()
        .ok()
        .and_then(|id| Exports::of(&state).get(unit, id))
    else {
        return error(&not_found("no export with this id"));
    };
    let now = state.now();
    cut_files(&api, unit, &export, now).await;
    let base = public_base(vhost.as_ref(), &headers, &uri);
    let mut body = String::with_capacity(512);
    export.write_json(now, &base, only.as_deref(), &mut body);
    json(StatusCode::OK, body)
}

/// `GET /api/v5/exports?fields=…`: the unit's exports, oldest first, `limit` (at most
/// 1000) a page, filtered by `status`; no `resultRefs` (read an export for those).
async fn list(
    State(state): State<MockState>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let api = state.pardot();
    let admitted = match admit(&api, &state, vhost.as_ref(), &headers, &uri).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let unit = unit_index(&api, &admitted);
    let pairs = query_pairs(&uri);
    let base = public_base(vhost.as_ref(), &headers, &uri);
    match list_page(&state, unit, &pairs, &base) {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => error(&e),
    }
}

/// The body of one page of the export list.
fn list_page(
    state: &MockState,
    unit: usize,
    pairs: &[(String, String)],
    base: &str,
) -> Result<String, ApiError> {
    // A page token carries the request's parameters and the last id shown.
    let token = param(pairs, "nextPageToken");
    let decoded: Vec<(String, String)>;
    let pairs = match token {
        Some(token) => {
            decoded = serde_urlencoded::from_str(token)
                .ok()
                .filter(|p: &Vec<(String, String)>| param(p, "after").is_some())
                .ok_or_else(|| invalid(51, "nextPageToken"))?;
            &decoded[..]
        }
        None => pairs,
    };
    let only = representation_fields(Some(
        param(pairs, "fields").ok_or_else(|| invalid(36, "fields"))?,
    ))?
    .unwrap_or_default();
    let only: Vec<String> = only.into_iter().filter(|n| n != "resultRefs").collect();
    let limit = match param(pairs, "limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid(23, format!("limit must be 1 to {MAX_LIMIT}")))?,
    };
    let status = param(pairs, "status")
        .map(|s| Status::parse(s).ok_or_else(|| invalid(51, format!("status: {s}"))))
        .transpose()?;
    let after: u64 = param(pairs, "after")
        .map(|a| a.parse().map_err(|_| invalid(51, "nextPageToken")))
        .transpose()?
        .unwrap_or(0);
    let now = state.now();
    let mut matching = Exports::of(state)
        .of_unit(unit, after)
        .into_iter()
        .filter(|e| status.is_none_or(|s| e.status(now) == s));
    let page: Vec<Arc<Export>> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let mut body = String::with_capacity(128 + page.len() * 256);
    body.push_str("{\"values\":[");
    for (i, export) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        export.write_json(now, base, Some(&only), &mut body);
    }
    body.push_str("],\"nextPageToken\":");
    let next = page.last().filter(|_| more).map(|last| {
        let mut next: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| ["fields", "limit", "status"].contains(&k.as_str()))
            .cloned()
            .collect();
        next.push(("after".into(), last.id.to_string()));
        serde_urlencoded::to_string(&next).unwrap_or_default()
    });
    match &next {
        Some(token) => {
            render::write_json_string(token, &mut body);
            body.push_str(",\"nextPageUrl\":");
            let url = format!(
                "{base}/api/v5/exports?{}",
                serde_urlencoded::to_string([("nextPageToken", token)]).unwrap_or_default()
            );
            render::write_json_string(&url, &mut body);
        }
        None => body.push_str("null,\"nextPageUrl\":null"),
    }
    body.push('}');
    Ok(body)
}

/// `GET /api/v5/exports/{id}/results/{n}`: result file `n` (from 1) as CSV, streamed.
async fn download(
    State(state): State<MockState>,
    Path((id, file)): Path<(String, String)>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let api = state.pardot();
    let admitted = match admit(&api, &state, vhost.as_ref(), &headers, &uri).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let unit = unit_index(&api, &admitted);
    let Some(export) = id
        .parse()
        .ok()
        .and_then(|id| Exports::of(&state).get(unit, id))
    else {
        return error(&not_found("no export with this id"));
    };
    let now = state.now();
    if export.is_expired(now) {
        return error(&not_found("the export has expired"));
    }
    if export.status(now) != Status::Complete {
        return error(&not_found("the export is not complete"));
    }
    cut_files(&api, unit, &export, now).await;
    let part = file
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|n| export.cut().and_then(|files| files.get(n)).copied());
    let Some(part) = part else {
        return error(&not_found("no result file with this number"));
    };
    let mut head = String::new();
    if export.request.include_bom {
        head.push_str(BOM);
    }
    head.push_str(&export.request.columns.header());
    // The stream owns what it reads: the Pardot state, the export and its cursor.
    let reader = FileReader {
        api: Arc::clone(&api),
        unit,
        export,
        after: part.after,
        last: part.last,
        head: Some(head),
    };
    let stream = futures::stream::unfold(reader, |mut reader| async move {
        reader
            .next_chunk()
            .map(|chunk| (Ok::<_, Infallible>(Bytes::from(chunk)), reader))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response
}

/// Writes one result file a page of records at a time.
struct FileReader {
    api: Arc<PardotApi>,
    unit: usize,
    export: Arc<Export>,
    /// The id the next page's records come after.
    after: u64,
    /// The id of the file's last record.
    last: u64,
    /// The byte order mark and header, until written.
    head: Option<String>,
}

impl FileReader {
    /// The next piece of the file (`None` at its end).
    fn next_chunk(&mut self) -> Option<String> {
        if self.after >= self.last {
            return self.head.take();
        }
        let mut chunk = self.head.take().unwrap_or_default();
        let request = &self.export.request;
        let scanned = request.columns.scan(
            &self.api.units[self.unit],
            self.export.selection(),
            self.after,
            Some(self.last.saturating_add(1)),
            PAGE,
            &mut |_, row| chunk.push_str(row),
        );
        self.after = match scanned.last {
            Some(last) if !scanned.exhausted => last,
            _ => self.last,
        };
        Some(chunk)
    }
}
