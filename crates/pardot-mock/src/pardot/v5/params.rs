//! The query parameters every v5 list shares ("Version 5 overview"): `fields` (required),
//! `limit` (default 200, at most 1000), `orderBy` (one field of the object's list, `ASC` or
//! `DESC`), `deleted` (`true`/`false`/`all`, only for objects with a recycle bin), the id and
//! time filters, and `nextPageToken`, which carries all of them to the next page; then the
//! page answer `{"values":[…],"nextPageToken":…,"nextPageUrl":…}`.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::super::errors::ApiError;
use super::super::prospects::{Deleted, Query, SortKey};
use super::super::time;
use super::errors::{bad_parameter, invalid, missing_parameter};
use super::request::{Ctx, param};
use crate::support::write_json_string;

/// The most rows one v5 page may ask for.
pub(crate) const MAX_LIMIT: usize = 1000;
/// Rows a page has when `limit` is not given.
const DEFAULT_LIMIT: usize = 200;

/// The id and time filters every v5 object takes.
const COMMON_FILTERS: [&str; 12] = [
    "idGreaterThan",
    "idGreaterThanOrEqualTo",
    "idLessThan",
    "idLessThanOrEqualTo",
    "createdAtAfter",
    "createdAtAfterOrEqualTo",
    "createdAtBefore",
    "createdAtBeforeOrEqualTo",
    "updatedAtAfter",
    "updatedAtAfterOrEqualTo",
    "updatedAtBefore",
    "updatedAtBeforeOrEqualTo",
];

/// What an object's list takes beyond the common parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListRules {
    /// The v5 path name (`nextPageUrl` names it).
    pub path: &'static str,
    /// Whether the object has a recycle bin (`deleted` allowed).
    pub recycle_bin: bool,
    /// The `orderBy` fields beyond `id`, `createdAt` and `updatedAt`, with the sort each is.
    pub sorts: &'static [(&'static str, SortKey)],
    /// The object's own filters (their v5 names).
    pub filters: &'static [&'static str],
}

/// The state of a v5 query, carried from page to page inside `nextPageToken`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PageState {
    pub fields: String,
    order_by: String,
    limit: usize,
    offset: usize,
    deleted: String,
    /// Every filter given (common and the object's), in the order of [`COMMON_FILTERS`]
    /// then the object's.
    pub filters: Vec<(String, String)>,
}

impl PageState {
    /// The state of the page a request asks for: from its `nextPageToken`, else from its
    /// parameters.
    pub fn of(ctx: &Ctx<'_>, rules: &ListRules) -> Result<Self, ApiError> {
        match ctx.param("nextPageToken") {
            Some(token) => Self::decode(token, rules)
                .ok_or_else(|| invalid(51, "Invalid value specified for nextPageToken")),
            None => Self::from_pairs(&ctx.pairs, rules),
        }
    }

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

    fn decode(token: &str, rules: &ListRules) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).ok()?;
        let mut state = Self::from_pairs(&pairs, rules).ok()?;
        state.offset = param(&pairs, "offset")?.parse().ok()?;
        Some(state)
    }

    fn from_pairs(pairs: &[(String, String)], rules: &ListRules) -> Result<Self, ApiError> {
        let fields = required_fields(pairs)?.to_owned();
        let limit = page_limit(param(pairs, "limit")).ok_or_else(|| {
            invalid(
                23,
                format!("Invalid value specified for limit (max {MAX_LIMIT})"),
            )
        })?;
        // `false` is every object's default; only an object with a recycle bin has more.
        if !rules.recycle_bin && param(pairs, "deleted").is_some_and(|d| d != "false") {
            return Err(invalid(
                27,
                format!("The deleted parameter is not supported for {}", rules.path),
            ));
        }
        Ok(Self {
            fields,
            order_by: param(pairs, "orderBy").unwrap_or("id ASC").to_owned(),
            limit,
            offset: 0,
            deleted: param(pairs, "deleted").unwrap_or("false").to_owned(),
            filters: COMMON_FILTERS
                .iter()
                .chain(rules.filters)
                .filter_map(|f| param(pairs, f).map(|v| ((*f).to_owned(), v.to_owned())))
                .collect(),
        })
    }

    /// The store query of this page: the sort, the deleted flag, the id and time filters
    /// (the object's own filters are the caller's).
    pub fn query(&self, rules: &ListRules) -> Result<Query, ApiError> {
        let mut q = Query {
            limit: self.limit,
            offset: self.offset,
            ..Query::default()
        };
        q.deleted = Deleted::parse(&self.deleted).ok_or_else(|| {
            invalid(
                27,
                "Invalid value specified for deleted (true, false or all)",
            )
        })?;
        let mut order = self.order_by.split_whitespace();
        let key = order.next().unwrap_or("id");
        q.sort = match key {
            "id" => SortKey::Id,
            "createdAt" => SortKey::CreatedAt,
            "updatedAt" => SortKey::UpdatedAt,
            other => rules
                .sorts
                .iter()
                .find(|(name, _)| *name == other)
                .map(|(_, sort)| *sort)
                .ok_or_else(|| {
                    invalid(19, format!("Invalid value specified for orderBy: {other}"))
                })?,
        };
        q.descending = match order.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(_) => {
                return Err(invalid(
                    20,
                    format!("Invalid value specified for orderBy: {}", self.order_by),
                ));
            }
        };
        if order.next().is_some() {
            return Err(invalid(
                20,
                format!("Invalid value specified for orderBy: {}", self.order_by),
            ));
        }
        for (name, value) in &self.filters {
            apply_common_filter(&mut q, name, value)?;
        }
        Ok(q)
    }

    /// Whether a page of `shown` rows out of `total` matches has a page after it.
    pub fn has_next(&self, shown: usize, total: usize) -> bool {
        self.offset + shown < total
    }

    /// The token of the page after this one, which starts `shown` rows later.
    fn next(&self, shown: usize) -> String {
        Self {
            offset: self.offset + shown,
            ..self.clone()
        }
        .encode()
    }
}

/// Sets the id or time bound `name` (one of [`COMMON_FILTERS`]; others are left alone).
/// The store's bounds are strict, so an inclusive one moves by the smallest step: an id by
/// one, a time by a nanosecond.
fn apply_common_filter(q: &mut Query, name: &str, value: &str) -> Result<(), ApiError> {
    let bad = || bad_parameter(name, value);
    let id = || value.trim().parse::<u64>().map_err(|_| bad());
    let at = || time::parse_datetime(value).ok_or_else(bad);
    let tick = Duration::from_nanos(1);
    let earlier = |t: SystemTime| t.checked_sub(tick).unwrap_or(t);
    match name {
        "idGreaterThan" => q.id_greater_than = Some(id()?),
        "idGreaterThanOrEqualTo" => q.id_greater_than = Some(id()?.saturating_sub(1)),
        "idLessThan" => q.id_less_than = Some(id()?),
        "idLessThanOrEqualTo" => q.id_less_than = Some(id()?.saturating_add(1)),
        "createdAtAfter" => q.created_after = Some(at()?),
        "createdAtAfterOrEqualTo" => q.created_after = Some(earlier(at()?)),
        "createdAtBefore" => q.created_before = Some(at()?),
        "createdAtBeforeOrEqualTo" => q.created_before = Some(at()? + tick),
        "updatedAtAfter" => q.updated_after = Some(at()?),
        "updatedAtAfterOrEqualTo" => q.updated_after = Some(earlier(at()?)),
        "updatedAtBefore" => q.updated_before = Some(at()?),
        "updatedAtBeforeOrEqualTo" => q.updated_before = Some(at()? + tick),
        _ => {}
    }
    Ok(())
}

/// The rows a v5 page's `limit` asks for: [`DEFAULT_LIMIT`] without one, else a number from 1
/// to [`MAX_LIMIT`]; `None` when it is not one.
pub(crate) fn page_limit(limit: Option<&str>) -> Option<usize> {
    match limit {
        None => Some(DEFAULT_LIMIT),
        Some(l) => l
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n)),
    }
}

/// The `fields` parameter, which every v5 read and list must carry.
pub(super) fn required_fields(pairs: &[(String, String)]) -> Result<&str, ApiError> {
    param(pairs, "fields")
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| missing_parameter("fields"))
}

/// The names of a `fields` list, trimmed, without empty entries or repeats.
pub(super) fn field_names(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Writes one page answer: the rows (each by `write`), then the token and URL of the next
/// page when `total` matches go beyond this one.
pub(super) fn page_body<T>(
    ctx: &Ctx<'_>,
    rules: &ListRules,
    state: &PageState,
    total: usize,
    rows: &[T],
    bytes_per_row: usize,
    write: impl Fn(&T, &mut String),
) -> String {
    let capacity = 128 + rows.len() * bytes_per_row;
    page_body_with(ctx, rules, state, total, rows.len(), capacity, |body| {
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            write(row, body);
        }
    })
}

/// [`page_body`] with the `shown` rows written by `write_rows`, comma-separated, into a body
/// of `capacity` bytes.
pub(super) fn page_body_with(
    ctx: &Ctx<'_>,
    rules: &ListRules,
    state: &PageState,
    total: usize,
    shown: usize,
    capacity: usize,
    write_rows: impl FnOnce(&mut String),
) -> String {
    let next = state.has_next(shown, total).then(|| state.next(shown));
    let mut body = String::with_capacity(capacity);
    body.push_str("{\"values\":[");
    write_rows(&mut body);
    body.push_str("],\"nextPageToken\":");
    match &next {
        Some(token) => write_json_string(token, &mut body),
        None => body.push_str("null"),
    }
    body.push_str(",\"nextPageUrl\":");
    match &next {
        Some(token) => {
            let url = format!(
                "{}/api/v5/objects/{}?nextPageToken={token}",
                ctx.public_base(),
                rules.path
            );
            write_json_string(&url, &mut body);
        }
        None => body.push_str("null"),
    }
    body.push('}');
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_params::owned_pairs;

    const RULES: ListRules = ListRules {
        path: "prospects",
        recycle_bin: true,
        sorts: &[],
        filters: &[],
    };

    #[test]
    fn page_tokens_round_trip() {
        let mut state = PageState::from_pairs(
            &owned_pairs(&[
                ("fields", "id,email"),
                ("limit", "2"),
                ("idGreaterThan", "5"),
            ]),
            &RULES,
        )
        .unwrap();
        state.offset = 4;
        assert_eq!(
            PageState::decode(&state.encode(), &RULES),
            Some(state.clone())
        );
        assert_eq!(PageState::decode("!!", &RULES), None);
        let q = state.query(&RULES).unwrap();
        assert_eq!((q.limit, q.offset, q.id_greater_than), (2, 4, Some(5)));
        let missing = PageState::from_pairs(&[], &RULES).unwrap_err();
        assert_eq!(missing.code, 36);
        let too_many =
            PageState::from_pairs(&owned_pairs(&[("fields", "id"), ("limit", "1001")]), &RULES)
                .unwrap_err();
        assert_eq!(too_many.code, 23);
    }

    #[test]
    fn inclusive_bounds_move_by_the_smallest_step() {
        let state = PageState::from_pairs(
            &owned_pairs(&[
                ("fields", "id"),
                ("idGreaterThanOrEqualTo", "10"),
                ("idLessThanOrEqualTo", "20"),
                ("updatedAtAfterOrEqualTo", "2024-01-01T00:00:00+00:00"),
            ]),
            &RULES,
        )
        .unwrap();
        let q = state.query(&RULES).unwrap();
        assert_eq!((q.id_greater_than, q.id_less_than), (Some(9), Some(21)));
        let at = time::parse_datetime("2024-01-01T00:00:00+00:00").unwrap();
        assert!(q.admits_record(10, at, at, false));
        assert!(!q.admits_record(10, at, at - Duration::from_nanos(1), false));
        let no_bin = ListRules {
            recycle_bin: false,
            ..RULES
        };
        let refused = PageState::from_pairs(
            &owned_pairs(&[("fields", "id"), ("deleted", "true")]),
            &no_bin,
        );
        assert_eq!(refused.unwrap_err().code, 27);
    }
}
