//! The v5 Export API: `POST /api/v5/exports` (create), `GET /api/v5/exports` (list),
//! `GET /api/v5/exports/{id}` (read) and `GET /api/v5/exports/{id}/results/{n}` (download a
//! result file as CSV).
//!
//! Every call passes the same checks as the other v5 routes (a Bearer token, the
//! business-unit header, the unit's in-flight limit and daily budget). An export reads the
//! same stores the v3/v4 `do/query` answers come from; its files are streamed a page of
//! records at a time, so a file of a million rows is never held in memory.

mod body;
mod call;
mod columns;
mod procedure;
mod registry;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use self::call::{ExportCall, not_found};
use self::registry::{BOM, Export, Exports, PAGE, REPRESENTATION, Status};
use super::PardotApi;
use super::errors::{ApiError, message};
use super::render::{self, Format};
// The export list pages as every v5 list does.
use super::v5::{MAX_LIMIT, page_limit};
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::support::write_json_string;

/// The export routes.
pub(crate) fn routes() -> Router {
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

/// The boolean member `name` of a body object: `false` when absent, code 154 with `message`
/// when it is not a boolean.
fn flag(
    object: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    message: &str,
) -> Result<bool, ApiError> {
    object.get(name).map_or(Ok(false), |v| {
        v.as_bool().ok_or_else(|| invalid(154, message))
    })
}

fn json(status: StatusCode, body: String) -> Response {
    render::respond(status, Format::Json, body)
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

/// Cuts a complete export's files (a pass over its records, off the async workers) if
/// that was not done yet.
async fn cut_files(api: &Arc<PardotApi>, unit: usize, export: &Arc<Export>, now: SystemTime) {
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

/// `POST /api/v5/exports`: queues an export; `201` with its JSON.
async fn create(call: ExportCall, body: Bytes) -> Response {
    call.answer(async |api, unit| {
        let now = call.state.now();
        let request = body::parse_create(
            &call.headers,
            &body,
            now,
            &api.units[unit].prospects.custom_fields(),
        )?;
        let step = Duration::from_secs(call.state.config().export_step_secs);
        let export = Exports::of(&call.state).create(unit, request, now, step);
        // With no step the export is complete at once.
        cut_files(api, unit, &export, now).await;
        let mut body = String::with_capacity(512);
        export.write_json(now, &call.base, None, &mut body);
        Ok(json(StatusCode::CREATED, body))
    })
    .await
}

/// `GET /api/v5/exports/{id}`: the export's JSON (`fields` may name the members wanted).
async fn read(call: ExportCall, Path(id): Path<String>) -> Response {
    call.answer(async |api, unit| {
        let only = representation_fields(call.params.get("fields"))?;
        let export = call.export(unit, &id)?;
        let now = call.state.now();
        cut_files(api, unit, &export, now).await;
        let mut body = String::with_capacity(512);
        export.write_json(now, &call.base, only.as_deref(), &mut body);
        Ok(json(StatusCode::OK, body))
    })
    .await
}

/// `GET /api/v5/exports?fields=…`: the unit's exports, oldest first, `limit` (at most
/// 1000) a page, filtered by `status`; no `resultRefs` (read an export for those).
async fn list(call: ExportCall) -> Response {
    call.answer(async |_, unit| {
        let body = list_page(&call.state, unit, &call.params, &call.base)?;
        Ok(json(StatusCode::OK, body))
    })
    .await
}

/// The body of one page of the export list.
fn list_page(
    state: &MockState,
    unit: usize,
    params: &RequestParams,
    base: &str,
) -> Result<String, ApiError> {
    // A page token carries the request's parameters and the last id shown.
    let decoded;
    let params = match params.get("nextPageToken") {
        Some(token) => {
            decoded = RequestParams {
                query: serde_urlencoded::from_str(token)
                    .map_err(|_| invalid(51, "nextPageToken"))?,
                form: Vec::new(),
            };
            if decoded.get("after").is_none() {
                return Err(invalid(51, "nextPageToken"));
            }
            &decoded
        }
        None => params,
    };
    let param = |name: &str| params.get(name);
    let only = representation_fields(Some(param("fields").ok_or_else(|| invalid(36, "fields"))?))?
        .unwrap_or_default();
    let only: Vec<String> = only.into_iter().filter(|n| n != "resultRefs").collect();
    let limit = page_limit(param("limit"))
        .ok_or_else(|| invalid(23, format!("limit must be 1 to {MAX_LIMIT}")))?;
    let status = param("status")
        .map(|s| Status::parse(s).ok_or_else(|| invalid(51, format!("status: {s}"))))
        .transpose()?;
    let after: u64 = param("after")
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
        let mut next: Vec<(String, String)> = params
            .query
            .iter()
            .filter(|(k, _)| ["fields", "limit", "status"].contains(&k.as_str()))
            .cloned()
            .collect();
        next.push(("after".into(), last.id.to_string()));
        serde_urlencoded::to_string(&next).unwrap_or_default()
    });
    match &next {
        Some(token) => {
            write_json_string(token, &mut body);
            body.push_str(",\"nextPageUrl\":");
            let url = format!(
                "{base}/api/v5/exports?{}",
                serde_urlencoded::to_string([("nextPageToken", token)]).unwrap_or_default()
            );
            write_json_string(&url, &mut body);
        }
        None => body.push_str("null,\"nextPageUrl\":null"),
    }
    body.push('}');
    Ok(body)
}

/// `GET /api/v5/exports/{id}/results/{n}`: result file `n` (from 1) as CSV, streamed.
async fn download(call: ExportCall, Path((id, file)): Path<(String, String)>) -> Response {
    call.answer(async |api, unit| {
        let export = call.export(unit, &id)?;
        let now = call.state.now();
        if export.is_expired(now) {
            return Err(not_found("the export has expired"));
        }
        if export.status(now) != Status::Complete {
            return Err(not_found("the export is not complete"));
        }
        cut_files(api, unit, &export, now).await;
        let part = file
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| export.cut().and_then(|files| files.get(n)).copied())
            .ok_or_else(|| not_found("no result file with this number"))?;
        let mut head = String::new();
        if export.request.include_bom {
            head.push_str(BOM);
        }
        head.push_str(&export.request.columns.header());
        // The stream owns what it reads: the Pardot state, the export and its cursor.
        let reader = FileReader {
            api: Arc::clone(api),
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
        Ok(response)
    })
    .await
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
