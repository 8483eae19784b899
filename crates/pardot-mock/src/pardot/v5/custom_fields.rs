//! The v5 `custom-fields` object: the business unit's prospect custom fields (`id`, `name`,
//! `fieldId`, `type`, `isRequired`, `createdAt`, `updatedAt`). A created field is a field of
//! the unit's prospects at once, in v5 (by its `fieldId`) and in v3/v4 (an element of that
//! name); a deleted one is gone (custom fields have no recycle bin).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::super::errors::ApiError;
use super::super::prospects::{CustomField, CustomType, NewField};
use super::super::render::{Node, field, write_json};
use super::super::time::iso_datetime;
use super::errors::{invalid, missing_property, read_only_property, unknown_field, wrong_type};
use super::params::{ListRules, PageState, field_names, page_body, required_fields};
use super::request::{Call, Ctx, Reply};
use super::writes::{flag, text};

const RULES: ListRules = ListRules {
    path: "custom-fields",
    recycle_bin: false,
    sorts: &[],
    filters: &[],
};

/// The fields of a custom field, in answer order.
const FIELDS: [&str; 7] = [
    "id",
    "name",
    "fieldId",
    "type",
    "isRequired",
    "createdAt",
    "updatedAt",
];

/// What a write may set: the rest are read-only (`fieldId` and `type` only on create).
const UPDATABLE: [&str; 2] = ["name", "isRequired"];

fn wanted(text: &str) -> Result<Vec<&str>, ApiError> {
    field_names(text)
        .into_iter()
        .map(|name| {
            FIELDS
                .iter()
                .copied()
                .find(|f| *f == name)
                .ok_or_else(|| unknown_field(name))
        })
        .collect()
}

fn node(f: &CustomField, wanted: &[&str]) -> Node {
    Node::Record(
        wanted
            .iter()
            .map(|name| {
                let value = match *name {
                    "id" => Node::Int(i64::try_from(f.id).unwrap_or(i64::MAX)),
                    "name" => Node::Text(f.name.clone()),
                    "fieldId" => Node::Text(f.field_id.clone()),
                    "type" => Node::Text(f.ty.name().to_owned()),
                    "isRequired" => Node::Bool(f.required),
                    "createdAt" => Node::Text(iso_datetime(f.created_at)),
                    _ => Node::Text(iso_datetime(f.updated_at)),
                };
                field(name, value)
            })
            .collect(),
    )
}

fn answer(status: StatusCode, f: &CustomField, text: &str) -> Result<Reply, ApiError> {
    let mut body = String::with_capacity(256);
    write_json(&node(f, &wanted(text)?), &mut body);
    Ok(Reply::Json(status, body))
}

fn find(ctx: &Ctx<'_>, id: &str) -> Result<CustomField, ApiError> {
    let id: u64 = id.trim().parse().map_err(|_| ApiError::code(109))?;
    ctx.unit
        .prospects
        .custom_fields()
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| ApiError::code(109))
}

/// `GET /api/v5/objects/custom-fields?fields=...`
pub(crate) async fn query(call: Call) -> Response {
    call.serve(|ctx| {
        let page_state = PageState::of(ctx, &RULES)?;
        let wanted = wanted(&page_state.fields)?;
        let q = page_state.query(&RULES)?;
        let mut matches: Vec<CustomField> = ctx
            .unit
            .prospects
            .custom_fields()
            .into_iter()
            .filter(|f| q.admits_record(f.id, f.created_at, f.updated_at, false))
            .collect();
        match q.sort {
            super::super::prospects::SortKey::CreatedAt => {
                matches.sort_by_key(|f| (f.created_at, f.id));
            }
            super::super::prospects::SortKey::UpdatedAt => {
                matches.sort_by_key(|f| (f.updated_at, f.id));
            }
            _ => {}
        }
        if q.descending {
            matches.reverse();
        }
        let total = matches.len();
        let page: Vec<CustomField> = matches.into_iter().skip(q.offset).take(q.limit).collect();
        let body = page_body(ctx, &RULES, &page_state, total, &page, 160, |f, out| {
            write_json(&node(f, &wanted), out);
        });
        Ok(Reply::Json(StatusCode::OK, body))
    })
    .await
}

/// `GET /api/v5/objects/custom-fields/{id}?fields=...`
pub(crate) async fn read(call: Call, Path(id): Path<String>) -> Response {
    call.serve(|ctx| {
        let fields = required_fields(&ctx.pairs)?;
        wanted(fields)?;
        answer(StatusCode::OK, &find(ctx, &id)?, fields)
    })
    .await
}

/// Refuses a body property no write of a custom field sets (`allowed` are the ones this write
/// sets).
fn check_properties(
    body: &serde_json::Map<String, serde_json::Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
    for name in body.keys() {
        if allowed.contains(&name.as_str()) {
            continue;
        }
        return Err(if FIELDS.contains(&name.as_str()) {
            read_only_property(name)
        } else {
            super::errors::unknown_property(name)
        });
    }
    Ok(())
}

/// `POST /api/v5/objects/custom-fields` with `name`, `fieldId`, `type` (`Text` or `Number`)
/// and optionally `isRequired`: `201` with the field.
pub(crate) async fn create(call: Call, body: Bytes) -> Response {
    call.serve(|ctx| {
        let body = ctx.json_body(&body)?;
        let fields = ctx.param("fields").unwrap_or("id");
        wanted(fields)?;
        check_properties(&body, &["name", "fieldId", "type", "isRequired"])?;
        let name = text(&body, "name")?.ok_or_else(|| missing_property("name"))?;
        let field_id = text(&body, "fieldId")?.ok_or_else(|| missing_property("fieldId"))?;
        let ty = text(&body, "type")?.ok_or_else(|| missing_property("type"))?;
        let ty = CustomType::parse(ty).ok_or_else(|| wrong_type("type", "Text or Number"))?;
        if field_id.is_empty()
            || !field_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                154,
                format!("Invalid property in request: fieldId `{field_id}` is not a valid name"),
            ));
        }
        let required = flag(&body, "isRequired")?.unwrap_or(false);
        let new = NewField {
            name,
            field_id,
            ty,
            required,
        };
        let f = ctx.unit.prospects.add_custom_field(new, ctx.now)?;
        answer(StatusCode::CREATED, &f, fields)
    })
    .await
}

/// `PATCH /api/v5/objects/custom-fields/{id}` (`name`, `isRequired`): `200` with the field.
pub(crate) async fn update(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    call.serve(|ctx| {
        let id = find(ctx, &id)?.id;
        let body = ctx.json_body(&body)?;
        let fields = ctx.param("fields").unwrap_or("id");
        wanted(fields)?;
        check_properties(&body, &UPDATABLE)?;
        let name = text(&body, "name")?.map(str::to_owned);
        let required = flag(&body, "isRequired")?;
        let f = ctx
            .unit
            .prospects
            .update_custom_field(id, ctx.now, |f| {
                if let Some(name) = name {
                    f.name = name;
                }
                if let Some(required) = required {
                    f.required = required;
                }
            })
            .ok_or_else(|| ApiError::code(109))?;
        answer(StatusCode::OK, &f, fields)
    })
    .await
}

/// `DELETE /api/v5/objects/custom-fields/{id}`: `204`; prospects no longer show it.
pub(crate) async fn delete(call: Call, Path(id): Path<String>) -> Response {
    call.serve(|ctx| {
        let id = find(ctx, &id)?.id;
        ctx.unit
            .prospects
            .remove_custom_field(id)
            .ok_or_else(|| ApiError::code(109))?;
        Ok(Reply::NoContent)
    })
    .await
}
