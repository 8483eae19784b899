//! The v5 prospects endpoints: `GET /api/v5/objects/prospects` and `.../prospects/{id}`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::api::Unit;
use super::errors::ApiError;
use super::prospects::{Deleted, Query, SortKey, V5Field, parse_v5_fields};
use super::render;
use super::{Backend, Caller, PardotApi, time};
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// The most rows one v5 page may ask for.
const MAX_LIMIT: usize = 1000;

fn validation(code: u32, message: impl Into<String>) -> ApiError {
    ApiError::with_message(code, message.into())
}

fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
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

fn error(e: &ApiError) -> Response {
    super::outcome(render::v5_error(e), e)
}

/// v5 takes only Bearer tokens: anything else is 49 `Access Denied`.
async fn authenticate<'a>(
    api: &'a PardotApi,
    state: &MockState,
    headers: &HeaderMap,
    host: crate::config::PardotHostKind,
) -> Result<super::Admitted<'a>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| ApiError::code(49))?;
    let bu = headers
        .get(pardot_auth_core::BUSINESS_UNIT_HEADER)
        .and_then(|v| v.to_str().ok());
    let unit = api.check_bearer(state, token.trim(), bu, host)?;
    api.admit(unit, Caller::Bearer, Backend::now(state)).await
}

/// A v5 request's admission: a Pardot host, a Bearer token, then the unit's limits; the
/// answer to send instead when one fails.
async fn admit<'a>(
    api: &'a PardotApi,
    state: &MockState,
    vhost: Option<&Extension<VirtualHost>>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<super::Admitted<'a>, Response> {
    let Some(host) = super::host::pardot_host(vhost, headers, uri) else {
        return Err(super::not_a_pardot_host());
    };
    authenticate(api, state, headers, host)
        .await
        .map_err(|e| error(&e))
}

/// The state of a v5 query, carried from page to page inside `nextPageToken`.
#[derive(Debug, Clone, PartialEq)]
struct PageState {
    fields: String,
    order_by: String,
    limit: usize,
    offset: usize,
    deleted: String,
    filters: Vec<(String, String)>,
}

const FILTERS: [&str; 6] = [
    "idGreaterThan",
    "idLessThan",
    "createdAtAfter",
    "createdAtBefore",
    "updatedAtAfter",
    "updatedAtBefore",
];

impl PageState {
    fn encode(&self) -> String {
        let mut pairs = vec![
            ("fields".to_owned(), self.fields.clone()),
            ("orderBy".to_owned(), self.order_by.clone()),
            ("limit".to_owned(), self.limit.to_string()),
            ("offset".to_owned(), self.offset.to_string()),
            ("deleted".to_owned(), self.deleted.clone()),
        ];
        pairs.extend(self.filters.iter().cloned());
        let text = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(text)
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).ok()?;
        let mut state = Self::from_pairs(&pairs).ok()?;
        state.offset = param(&pairs, "offset")?.parse().ok()?;
        Some(state)
    }

    fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let fields = required_fields(pairs)?.to_owned();
        let limit = match param(pairs, "limit") {
            None => 200,
            Some(l) => l
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    validation(
                        23,
                        format!("Invalid value specified for limit (max {MAX_LIMIT})"),
                    )
                })?,
        };
        Ok(Self {
            fields,
            order_by: param(pairs, "orderBy").unwrap_or("id ASC").to_owned(),
            limit,
            offset: 0,
            deleted: param(pairs, "deleted").unwrap_or("false").to_owned(),
            filters: FILTERS
                .iter()
                .filter_map(|f| param(pairs, f).map(|v| ((*f).to_owned(), v.to_owned())))
                .collect(),
        })
    }

    fn query(&self) -> Result<Query, ApiError> {
        let mut q = Query {
            limit: self.limit,
            offset: self.offset,
            ..Query::default()
        };
        q.deleted = Deleted::parse(&self.deleted).ok_or_else(|| {
            validation(
                27,
                "Invalid value specified for deleted (true, false or all)",
            )
        })?;
        let mut order = self.order_by.split_whitespace();
        q.sort = match order.next() {
            Some("id") | None => SortKey::Id,
            Some("createdAt") => SortKey::CreatedAt,
            Some("updatedAt") => SortKey::UpdatedAt,
            Some("lastActivityAt") => SortKey::LastActivityAt,
            Some(other) => {
                return Err(validation(
                    19,
                    format!("Invalid value specified for orderBy: {other}"),
                ));
            }
        };
        q.descending = match order.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(_) => {
                return Err(validation(
                    20,
                    format!("Invalid value specified for orderBy: {}", self.order_by),
                ));
            }
        };
        for (name, value) in &self.filters {
            let bad = || validation(51, format!("Invalid value specified for {name}: {value}"));
            match name.as_str() {
                "idGreaterThan" => q.id_greater_than = Some(value.parse().map_err(|_| bad())?),
                "idLessThan" => q.id_less_than = Some(value.parse().map_err(|_| bad())?),
                _ => {
                    let t = time::parse_datetime(value).ok_or_else(bad)?;
                    match name.as_str() {
                        "createdAtAfter" => q.created_after = Some(t),
                        "createdAtBefore" => q.created_before = Some(t),
                        "updatedAtAfter" => q.updated_after = Some(t),
                        _ => q.updated_before = Some(t),
                    }
                }
            }
        }
        Ok(q)
    }
}

/// The `fields` parameter, which every v5 request must carry.
fn required_fields(pairs: &[(String, String)]) -> Result<&str, ApiError> {
    param(pairs, "fields")
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| {
            validation(
                36,
                "One or more required parameter values are missing: fields",
            )
        })
}

fn fields(text: &str) -> Result<Vec<V5Field>, ApiError> {
    parse_v5_fields(text).map_err(|message| validation(130, message))
}

/// Admits a v5 request, then answers `200` with the JSON body `answer` writes for the caller's
/// unit and the query pairs, or the v5 error it returns.
async fn serve(
    state: &MockState,
    vhost: Option<&Extension<VirtualHost>>,
    headers: &HeaderMap,
    uri: &Uri,
    answer: impl FnOnce(&Unit, &[(String, String)]) -> Result<String, ApiError>,
) -> Response {
    let api = state.pardot();
    // Held until the answer is written: the unit's in-flight slot.
    let admitted = match admit(&api, state, vhost, headers, uri).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match answer(admitted.unit, &query_pairs(uri)) {
        Ok(body) => render::respond(StatusCode::OK, render::Format::Json, body),
        Err(e) => error(&e),
    }
}

/// `GET /api/v5/objects/prospects?fields=...`
pub(crate) async fn query(
    State(state): State<MockState>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let public_base = || {
        vhost.as_ref().map_or_else(
            || super::public_base(&headers, uri.path()),
            |Extension(v)| v.public_base.clone(),
        )
    };
    serve(&state, vhost.as_ref(), &headers, &uri, |unit, pairs| {
        list_page(unit, pairs, public_base)
    })
    .await
}

/// The body of one page of the prospects list.
fn list_page(
    unit: &Unit,
    pairs: &[(String, String)],
    public_base: impl FnOnce() -> String,
) -> Result<String, ApiError> {
    let state = match param(pairs, "nextPageToken") {
        Some(token) => PageState::decode(token)
            .ok_or_else(|| validation(51, "Invalid value specified for nextPageToken"))?,
        None => PageState::from_pairs(pairs)?,
    };
    let wanted = fields(&state.fields)?;
    let q = state.query()?;
    let (total, page) = unit.prospects.query(&q);
    let next = (q.offset + page.len() < total).then(|| {
        PageState {
            offset: q.offset + page.len(),
            ..state
        }
        .encode()
    });
    let next_url = next.as_ref().map(|token| {
        format!(
            "{}/api/v5/objects/prospects?nextPageToken={token}",
            public_base()
        )
    });
    // Written directly (no value tree): the list is the hot path of every load test.
    // Sized from the page (about 30 bytes per requested field) so a 200-prospect page is not
    // regrown and copied a dozen times.
    let mut body = String::with_capacity(128 + page.len() * (2 + 30 * wanted.len()));
    body.push_str("{\"values\":[");
    for (i, p) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        p.write_v5_json(&wanted, &mut body);
    }
    body.push_str("],\"nextPageToken\":");
    match &next {
        Some(token) => render::write_json_string(token, &mut body),
        None => body.push_str("null"),
    }
    body.push_str(",\"nextPageUrl\":");
    match &next_url {
        Some(url) => render::write_json_string(url, &mut body),
        None => body.push_str("null"),
    }
    body.push('}');
    Ok(body)
}

/// `GET /api/v5/objects/prospects/{id}?fields=...`
pub(crate) async fn read(
    State(state): State<MockState>,
    Path(id): Path<String>,
    vhost: Option<Extension<VirtualHost>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve(&state, vhost.as_ref(), &headers, &uri, |unit, pairs| {
        let wanted = required_fields(pairs).and_then(fields)?;
        let id: u64 = id.parse().map_err(|_| ApiError::code(3))?;
        let p = unit.prospects.by_id(id).ok_or_else(|| ApiError::code(3))?;
        let mut body = String::with_capacity(128 + 24 * wanted.len());
        p.write_v5_json(&wanted, &mut body);
        Ok(body)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        let pairs = vec![
            ("fields".to_owned(), "id,email".to_owned()),
            ("limit".to_owned(), "2".to_owned()),
            ("idGreaterThan".to_owned(), "5".to_owned()),
        ];
        let mut state = PageState::from_pairs(&pairs).unwrap();
        state.offset = 4;
        assert_eq!(PageState::decode(&state.encode()), Some(state.clone()));
        assert_eq!(PageState::decode("!!"), None);
        let q = state.query().unwrap();
        assert_eq!((q.limit, q.offset, q.id_greater_than), (2, 4, Some(5)));
        let missing = PageState::from_pairs(&[]).unwrap_err();
        assert_eq!(missing.code, 36);
        let too_many = PageState::from_pairs(&[
            ("fields".to_owned(), "id".to_owned()),
            ("limit".to_owned(), "1001".to_owned()),
        ])
        .unwrap_err();
        assert_eq!(too_many.code, 23);
    }
}
