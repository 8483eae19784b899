//! The v5 prospects: list and read (`fields` required, relationship fields `campaign.*` and
//! `assignedUser.*`, the business unit's custom fields), create, update (PATCH), delete to
//! the recycle bin, undelete, and `do/upsertLatestByEmail`; all over the unit's one
//! prospect store, which v3/v4 reads and writes too.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::super::errors::ApiError;
use super::super::prospects::{
    CustomField, CustomType, Prospect, Shape, SortKey, V5Field, WriteKind, parse_v5_fields_with,
    v5_write_field,
};
use super::errors::{invalid, missing_property, wrong_type};
use super::objects::user_field;
use super::params::{ListRules, PageState, page_body_with, required_fields};
use super::request::{Call, Ctx, Reply};
use super::writes::{JsonType, Property, flag, parameters, text};

/// The prospects list: its sorts ("Prospect" v5 page: `orderBy` fields) and filters.
const RULES: ListRules = ListRules {
    path: "prospects",
    recycle_bin: true,
    sorts: &[("lastActivityAt", SortKey::LastActivityAt)],
    filters: &[],
};

/// The fields of `text` for the unit's prospects (code 130 naming an unknown one).
fn fields(ctx: &Ctx<'_>, text: &str) -> Result<Vec<V5Field>, ApiError> {
    parse_v5_fields_with(text, &ctx.unit.prospects.custom_fields())
        .map_err(|message| invalid(130, message))
}

/// The fields a write answers with: those of its `fields` parameter, else the id alone.
fn written_fields(ctx: &Ctx<'_>) -> Result<Vec<V5Field>, ApiError> {
    fields(ctx, ctx.param("fields").unwrap_or("id"))
}

/// A prospect's record with `wanted` as JSON.
fn record(ctx: &Ctx<'_>, p: &Prospect, wanted: &[V5Field], out: &mut String) {
    let user = |id: u64, name: &str| user_field(ctx.unit.related(), id, name);
    p.write_v5_json_with(wanted, &user, out);
}

fn answer(ctx: &Ctx<'_>, status: StatusCode, p: &Prospect, wanted: &[V5Field]) -> Reply {
    let mut body = String::with_capacity(128 + 24 * wanted.len());
    record(ctx, p, wanted, &mut body);
    Reply::Json(status, body)
}

fn prospect_id(id: &str) -> Result<u64, ApiError> {
    id.trim().parse().map_err(|_| ApiError::code(3))
}

/// `GET /api/v5/objects/prospects?fields=...`
pub(crate) async fn query(call: Call) -> Response {
    call.serve(|ctx| {
        let page_state = PageState::of(ctx, &RULES)?;
        let wanted = fields(ctx, &page_state.fields)?;
        let q = page_state.query(&RULES)?;
        let shape = Shape::V5(wanted.clone());
        let fragments = ctx.unit.prospects.fragments();
        let body = ctx.unit.prospects.with_page(&q, |total, page| {
            // Sized from the page (about 30 bytes per requested field) so a 200-prospect page
            // is not regrown and copied a dozen times: the list is the hot path of every load
            // test.
            let capacity = 128 + page.len() * (2 + 30 * wanted.len());
            let write = || {
                page_body_with(
                    ctx,
                    &RULES,
                    &page_state,
                    total,
                    page.len(),
                    capacity,
                    |out| {
                        fragments.write_page(&shape, page, ",", out, |p, out| {
                            record(ctx, p, &wanted, out);
                        });
                    },
                )
            };
            // The last page of a list depends on nothing but its prospects: kept whole.
            if page_state.has_next(page.len(), total) {
                Bytes::from(write())
            } else {
                fragments.page_body(&shape, total, page, write)
            }
        });
        Ok(Reply::KeptJson(StatusCode::OK, body))
    })
    .await
}

/// `GET /api/v5/objects/prospects/{id}?fields=...`
pub(crate) async fn read(call: Call, Path(id): Path<String>) -> Response {
    call.serve(|ctx| {
        let wanted = fields(ctx, required_fields(&ctx.pairs)?)?;
        let p = ctx
            .unit
            .prospects
            .by_id(prospect_id(&id)?)
            .ok_or_else(|| ApiError::code(3))?;
        Ok(answer(ctx, StatusCode::OK, &p, &wanted))
    })
    .await
}

/// How a prospect write body may set `name`: the standard fields by [`v5_write_field`], the
/// unit's custom fields by their `fieldId`.
fn property(custom: &[CustomField], name: &str) -> Property {
    if let Some(f) = custom.iter().find(|f| f.field_id == name) {
        let ty = match f.ty {
            CustomType::Number => JsonType::Int,
            CustomType::Text => JsonType::Text,
        };
        return Property::Writable(f.field_id.clone(), ty);
    }
    match v5_write_field(name) {
        None => Property::Unknown,
        Some((_, WriteKind::ReadOnly)) => Property::ReadOnly,
        Some((snake, kind)) => Property::Writable(
            snake.to_owned(),
            match kind {
                WriteKind::Bool => JsonType::Bool,
                WriteKind::Int => JsonType::Int,
                _ => JsonType::Text,
            },
        ),
    }
}

/// A prospect body's store parameters.
fn prospect_parameters(
    ctx: &Ctx<'_>,
    body: &Map<String, Value>,
) -> Result<Vec<(String, String)>, ApiError> {
    let custom = ctx.unit.prospects.custom_fields();
    parameters(body, |name| property(&custom, name))
}

/// `POST /api/v5/objects/prospects`: `201` with the new prospect. An email another live
/// prospect has is code 9 (the business unit does not allow duplicates through v5 create;
/// `upsertLatestByEmail` is the way to write "this address").
pub(crate) async fn create(call: Call, body: Bytes) -> Response {
    call.serve(|ctx| {
        let body = ctx.json_body(&body)?;
        let wanted = written_fields(ctx)?;
        let email = text(&body, "email")?.ok_or_else(|| missing_property("email"))?;
        let params: Vec<_> = prospect_parameters(ctx, &body)?
            .into_iter()
            .filter(|(k, _)| k != "email")
            .collect();
        let p = ctx.unit.prospects.create(email, &params, false, ctx.now)?;
        Ok(answer(ctx, StatusCode::CREATED, &p, &wanted))
    })
    .await
}

/// `PATCH /api/v5/objects/prospects/{id}`: `200` with the changed prospect.
pub(crate) async fn update(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    call.serve(|ctx| {
        let id = prospect_id(&id)?;
        let body = ctx.json_body(&body)?;
        let wanted = written_fields(ctx)?;
        let params = prospect_parameters(ctx, &body)?;
        let p = ctx.unit.prospects.update_by_id(id, &params, ctx.now)?;
        Ok(answer(ctx, StatusCode::OK, &p, &wanted))
    })
    .await
}

/// `DELETE /api/v5/objects/prospects/{id}`: `204`; the prospect goes to the recycle bin.
pub(crate) async fn delete(call: Call, Path(id): Path<String>) -> Response {
    call.serve(|ctx| {
        ctx.unit
            .prospects
            .delete_by_id(prospect_id(&id)?, ctx.now)?;
        Ok(Reply::NoContent)
    })
    .await
}

/// `POST /api/v5/objects/prospects/{id}/do/undelete`: `200` with the prospect, out of the
/// recycle bin (code 3 when it is not there).
pub(crate) async fn undelete(call: Call, Path(id): Path<String>) -> Response {
    call.serve(|ctx| {
        let wanted = written_fields(ctx)?;
        let p = ctx
            .unit
            .prospects
            .undelete_by_id(prospect_id(&id)?, ctx.now)?;
        Ok(answer(ctx, StatusCode::OK, &p, &wanted))
    })
    .await
}

/// `POST /api/v5/objects/prospects/do/upsertLatestByEmail` with
/// `{"matchEmail":…,"prospect":{…},"secondaryDeletedSearch":…}`: updates the most recently
/// updated prospect with `matchEmail` (`200`), or creates one (`201`). Without a live match,
/// `secondaryDeletedSearch` (default `true`) looks in the recycle bin and restores what it
/// finds.
pub(crate) async fn upsert_latest_by_email(call: Call, body: Bytes) -> Response {
    call.serve(|ctx| {
        let body = ctx.json_body(&body)?;
        let wanted = written_fields(ctx)?;
        for name in body.keys() {
            if !matches!(
                name.as_str(),
                "matchEmail" | "prospect" | "secondaryDeletedSearch"
            ) {
                return Err(super::errors::unknown_property(name));
            }
        }
        let email = text(&body, "matchEmail")?.ok_or_else(|| missing_property("matchEmail"))?;
        let prospect = match body.get("prospect") {
            Some(Value::Object(p)) => p.clone(),
            None => Map::new(),
            Some(_) => return Err(wrong_type("prospect", "an object")),
        };
        let search_deleted = flag(&body, "secondaryDeletedSearch")?.unwrap_or(true);
        let mut params = prospect_parameters(ctx, &prospect)?;
        if !params.iter().any(|(k, _)| k == "email") {
            params.push(("email".to_owned(), email.to_owned()));
        }
        let (p, created) =
            ctx.unit
                .prospects
                .upsert_latest_by_email(email, &params, search_deleted, ctx.now)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(answer(ctx, status, &p, &wanted))
    })
    .await
}
