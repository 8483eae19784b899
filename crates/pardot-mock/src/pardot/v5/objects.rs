//! The v5 objects over the v3/v4 object stores (campaigns, lists, list memberships, users,
//! visitors, visits, visitor activities, opportunities): each one's path, sorts, filters and
//! writes; its fields are the camelCase of its v3/v4 fields (with the renames each object
//! page shows), `createdAt`/`updatedAt`, `isDeleted` where it has a recycle bin, and
//! `<relationship>.<field>` for every id field that names another record (`campaign.name`,
//! `list.name`, `prospect.email`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::super::errors::ApiError;
use super::super::objects::{
    FieldFilter, FieldType, Kind, Record, Related, Schema, Show, Target, Value, create_record,
    delete_record, update_record,
};
use super::super::prospects::{SortKey, v5_name};
use super::super::render::{Node, field, write_json};
use super::super::time::{iso_datetime, parse_datetime};
use super::errors::{
    bad_parameter, method_not_allowed, missing_property, unknown_field, unknown_object,
};
use super::params::{ListRules, PageState, field_names, page_body, required_fields};
use super::request::{Call, Ctx, Reply};
use super::writes::{JsonType, Property, parameters};

/// One v5 object served from a v3/v4 object store.
#[derive(Debug)]
pub(super) struct V5Object {
    /// Its records.
    kind: Kind,
    /// Its list's rules (the path, the recycle bin, sorts and filters).
    rules: ListRules,
    /// Whether it takes create, update (PATCH) and delete.
    writes: bool,
    /// Fields whose v5 name is not the camelCase of the v3/v4 name, as `(v5, v3/v4)`.
    renames: &'static [(&'static str, &'static str)],
    /// v3/v4 fields the object's v5 page does not list (not fields in v5).
    v4_only: &'static [&'static str],
}

/// The served objects ("Version 5 overview" object list; each object's page for its fields,
/// sorts, filters and operations).
static OBJECTS: [V5Object; 8] = [
    V5Object {
        kind: Kind::Campaign,
        rules: ListRules {
            path: "campaigns",
            recycle_bin: false,
            sorts: &[("name", SortKey::Field("name"))],
            filters: &["name"],
        },
        writes: false,
        renames: &[("salesforceId", "crm_fid")],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::List,
        rules: ListRules {
            path: "lists",
            recycle_bin: true,
            sorts: &[("name", SortKey::Field("name"))],
            filters: &["name"],
        },
        writes: true,
        renames: &[],
        v4_only: &["is_crm_visible"],
    },
    V5Object {
        kind: Kind::ListMembership,
        rules: ListRules {
            path: "list-memberships",
            recycle_bin: true,
            sorts: &[],
            filters: &["listId", "prospectId"],
        },
        writes: true,
        renames: &[],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::User,
        rules: ListRules {
            path: "users",
            recycle_bin: false,
            sorts: &[],
            filters: &[],
        },
        writes: false,
        renames: &[],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::Visitor,
        rules: ListRules {
            path: "visitors",
            recycle_bin: false,
            sorts: &[],
            filters: &["prospectId"],
        },
        writes: false,
        renames: &[],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::Visit,
        rules: ListRules {
            path: "visits",
            recycle_bin: false,
            sorts: &[],
            filters: &["visitorId", "prospectId"],
        },
        writes: false,
        renames: &[],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::VisitorActivity,
        rules: ListRules {
            path: "visitor-activities",
            recycle_bin: false,
            sorts: &[],
            filters: &["prospectId", "visitorId", "type", "campaignId"],
        },
        writes: false,
        renames: &[],
        v4_only: &[],
    },
    V5Object {
        kind: Kind::Opportunity,
        rules: ListRules {
            path: "opportunities",
            recycle_bin: true,
            sorts: &[
                ("probability", SortKey::Field("probability")),
                ("value", SortKey::Field("value")),
            ],
            filters: &["campaignId"],
        },
        writes: false,
        renames: &[],
        v4_only: &[],
    },
];

/// The object at `path` (code 2, 404, for one the mock does not serve).
fn object(path: &str) -> Result<&'static V5Object, ApiError> {
    OBJECTS
        .iter()
        .find(|o| o.rules.path == path)
        .ok_or_else(|| unknown_object(path))
}

fn by_kind(kind: Kind) -> Option<&'static V5Object> {
    OBJECTS.iter().find(|o| o.kind == kind)
}

/// Where a plain v5 field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    CreatedAt,
    UpdatedAt,
    IsDeleted,
    /// A field of the schema, by index.
    Own(usize),
}

/// A field a request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    /// A field of the record.
    Plain(String, Column),
    /// `<relationship>.<field>`: a field of the record the id field `link` names.
    Related {
        relationship: String,
        link: usize,
        field: String,
    },
}

/// The v5 name of field `i` of `schema`.
fn v5_field_name(schema: &Schema, renames: &[(&str, &str)], i: usize) -> String {
    let name = schema.fields[i].name;
    renames
        .iter()
        .find(|(_, old)| *old == name)
        .map_or_else(|| v5_name(name), |(new, _)| (*new).to_owned())
}

/// The plain field `name` of `kind`'s records.
fn column(kind: Kind, name: &str) -> Option<Column> {
    let schema = kind.schema();
    let renames = by_kind(kind).map_or(&[][..], |o| o.renames);
    let v4_only = by_kind(kind).map_or(&[][..], |o| o.v4_only);
    match name {
        "id" => return Some(Column::Id),
        "createdAt" => return Some(Column::CreatedAt),
        "updatedAt" => return Some(Column::UpdatedAt),
        "isDeleted" if by_kind(kind).is_some_and(|o| o.rules.recycle_bin) => {
            return Some(Column::IsDeleted);
        }
        _ => {}
    }
    (0..schema.fields.len())
        .filter(|&i| {
            schema.fields[i].show != Show::Never && !v4_only.contains(&schema.fields[i].name)
        })
        .find(|&i| v5_field_name(schema, renames, i) == name)
        .map(Column::Own)
}

/// The prospect fields a `prospect.<field>` relationship field may name.
const PROSPECT_FIELDS: [(&str, &str); 3] = [
    ("email", "email"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
];

/// Parses a `fields` list of `kind` (code 130 naming an unknown field).
fn wanted(kind: Kind, text: &str) -> Result<Vec<Wanted>, ApiError> {
    let schema = kind.schema();
    field_names(text)
        .into_iter()
        .map(|name| {
            if let Some(c) = column(kind, name) {
                return Ok(Wanted::Plain(name.to_owned(), c));
            }
            let (relationship, sub) = name.split_once('.').ok_or_else(|| unknown_field(name))?;
            let link = match column(kind, &format!("{relationship}Id")) {
                Some(Column::Own(i)) => i,
                _ => return Err(unknown_field(name)),
            };
            let known = match schema.fields[link].refers {
                Some(Target::Object(target)) => {
                    matches!(column(target, sub), Some(c) if c != Column::IsDeleted)
                }
                Some(Target::Prospect) => {
                    sub == "id" || PROSPECT_FIELDS.iter().any(|(v5, _)| *v5 == sub)
                }
                None => false,
            };
            if !known {
                return Err(unknown_field(name));
            }
            Ok(Wanted::Related {
                relationship: relationship.to_owned(),
                link,
                field: sub.to_owned(),
            })
        })
        .collect()
}

fn id_node(id: u64) -> Node {
    Node::Int(i64::try_from(id).unwrap_or(i64::MAX))
}

/// A value of field `name` as v5 JSON: numbers, strings and booleans as themselves (an unset
/// boolean is `false`, as in v3/v4), a time (a `…_at` field, kept as v3/v4 text) in ISO 8601.
fn value_node(name: &str, value: &Value, ty: FieldType) -> Node {
    match (value, ty) {
        (Value::Null, FieldType::Bool) => Node::Bool(false),
        (Value::Null, _) => Node::Null,
        (Value::Int(n), _) => Node::Int(*n),
        (Value::Bool(b), _) => Node::Bool(*b),
        (Value::Text(t), _) => match parse_datetime(t).filter(|_| name.ends_with("_at")) {
            Some(at) => Node::Text(iso_datetime(at)),
            None => Node::Text(t.to_string()),
        },
    }
}

fn column_node(schema: &Schema, record: &Record, column: Column) -> Node {
    match column {
        Column::Id => id_node(record.id),
        Column::CreatedAt => Node::Text(iso_datetime(record.created_at)),
        Column::UpdatedAt => Node::Text(iso_datetime(record.updated_at)),
        Column::IsDeleted => Node::Bool(record.deleted),
        Column::Own(i) => record.values.get(i).map_or(Node::Null, |v| {
            value_node(schema.fields[i].name, v, schema.fields[i].ty)
        }),
    }
}

/// The v5 value of field `name` of the user with `id`, `null` when there is none (the
/// prospects' `assignedUser.<name>`).
pub(super) fn user_field(unit: Related<'_>, id: u64, name: &str) -> Node {
    let user = unit.objects.store(Kind::User).get(id);
    match (user, column(Kind::User, name)) {
        (Some(r), Some(c)) => column_node(Kind::User.schema(), &r, c),
        _ => Node::Null,
    }
}

/// The value of `field` of the record `target` names with `id`: `None` when there is none.
fn related_node(unit: Related<'_>, target: Target, id: u64, field: &str) -> Option<Node> {
    match target {
        Target::Object(kind) => {
            let record = unit.objects.store(kind).get(id)?;
            column(kind, field).map(|c| column_node(kind.schema(), &record, c))
        }
        Target::Prospect => {
            let p = unit.prospects.by_id(id)?;
            if field == "id" {
                return Some(id_node(p.id));
            }
            PROSPECT_FIELDS
                .iter()
                .find(|(v5, _)| *v5 == field)
                .map(|(_, snake)| Node::opt_text(p.text(snake)))
        }
    }
}

/// The members of a relationship object so far: `None` when its id names no record.
type Members = Option<Vec<(String, Node)>>;

/// A record with the `wanted` fields: the plain ones in order, then each relationship as an
/// object (`null` when the id names nothing) in the order it was first asked for.
fn record_node(unit: Related<'_>, kind: Kind, record: &Record, wanted: &[Wanted]) -> Node {
    let schema = kind.schema();
    let mut out: Vec<(String, Node)> = Vec::with_capacity(wanted.len());
    let mut related: Vec<(String, Members)> = Vec::new();
    for w in wanted {
        match w {
            Wanted::Plain(name, c) => out.push(field(name, column_node(schema, record, *c))),
            Wanted::Related {
                relationship,
                link,
                field: sub,
            } => {
                let target = schema.fields[*link].refers;
                let id = record.values.get(*link).and_then(Value::as_id);
                let value = target
                    .zip(id)
                    .and_then(|(t, id)| related_node(unit, t, id, sub));
                let members = match related.iter_mut().find(|(r, _)| r == relationship) {
                    Some((_, members)) => members,
                    None => {
                        related.push((relationship.clone(), Some(Vec::new())));
                        &mut related.last_mut().expect("just pushed").1
                    }
                };
                match value {
                    None => *members = None,
                    Some(node) => {
                        if let Some(m) = members {
                            m.push(field(sub, node));
                        }
                    }
                }
            }
        }
    }
    for (name, members) in related {
        out.push(field(&name, members.map_or(Node::Null, Node::Record)));
    }
    Node::Record(out)
}

/// The object's own filters the page names, as store filters (code 51 for a malformed
/// value).
fn own_filters(o: &V5Object, state: &PageState) -> Result<Vec<FieldFilter>, ApiError> {
    let schema = o.kind.schema();
    let mut out = Vec::new();
    for (name, text) in &state.filters {
        if !o.rules.filters.contains(&name.as_str()) {
            continue;
        }
        let Some(Column::Own(i)) = column(o.kind, name) else {
            continue;
        };
        let ty = schema.fields[i].ty;
        let value = Value::parse(ty, text.trim())
            .ok()
            .filter(|v| ty != FieldType::Int || v.as_id().is_some())
            .ok_or_else(|| bad_parameter(name, text))?;
        out.push(FieldFilter::Equals(i, value));
    }
    Ok(out)
}

/// `GET /api/v5/objects/{object}?fields=...`
pub(crate) async fn query(call: Call, Path(path): Path<String>) -> Response {
    call.serve(|ctx| {
        let o = object(&path)?;
        let page_state = PageState::of(ctx, &o.rules)?;
        let wanted = wanted(o.kind, &page_state.fields)?;
        let q = page_state.query(&o.rules)?;
        let filters = own_filters(o, &page_state)?;
        let unit = ctx.unit.related();
        let (total, page) = unit.objects.store(o.kind).query(&q, &filters);
        let body = page_body(ctx, &o.rules, &page_state, total, &page, 64, |r, out| {
            write_json(&record_node(unit, o.kind, r, &wanted), out);
        });
        Ok(Reply::Json(StatusCode::OK, body))
    })
    .await
}

/// The live record with `id` at the path (code 109, 404, when there is none).
fn existing(ctx: &Ctx<'_>, o: &V5Object, id: &str) -> Result<Arc<Record>, ApiError> {
    id.trim()
        .parse()
        .ok()
        .and_then(|id| ctx.unit.objects.store(o.kind).get(id))
        .ok_or_else(|| ApiError::code(109))
}

fn answer(
    ctx: &Ctx<'_>,
    o: &V5Object,
    status: StatusCode,
    record: &Record,
    text: &str,
) -> Result<Reply, ApiError> {
    let wanted = wanted(o.kind, text)?;
    let mut body = String::with_capacity(256);
    write_json(
        &record_node(ctx.unit.related(), o.kind, record, &wanted),
        &mut body,
    );
    Ok(Reply::Json(status, body))
}

/// `GET /api/v5/objects/{object}/{id}?fields=...`
pub(crate) async fn read(call: Call, Path((path, id)): Path<(String, String)>) -> Response {
    call.serve(|ctx| {
        let o = object(&path)?;
        let fields = required_fields(&ctx.pairs)?;
        wanted(o.kind, fields)?;
        let record = existing(ctx, o, &id)?;
        answer(ctx, o, StatusCode::OK, &record, fields)
    })
    .await
}

/// The object at `path` if it takes writes (code 60, 405, otherwise).
fn writable(path: &str) -> Result<&'static V5Object, ApiError> {
    let o = object(path)?;
    if o.writes {
        Ok(o)
    } else {
        Err(method_not_allowed(path))
    }
}

/// How a write body may set `name` of `o`: its editable fields, and on create the id fields
/// that link the record (a membership's `listId` and `prospectId`).
fn property(o: &V5Object, creating: bool, name: &str) -> Property {
    let schema = o.kind.schema();
    match column(o.kind, name) {
        Some(Column::Own(i)) => {
            let f = &schema.fields[i];
            let links = f.refers.is_some() && schema.required.contains(&f.name);
            if f.editable || (creating && links) {
                let ty = match f.ty {
                    FieldType::Int => JsonType::Int,
                    FieldType::Text => JsonType::Text,
                    FieldType::Bool => JsonType::Bool,
                };
                Property::Writable(f.name.to_owned(), ty)
            } else {
                Property::ReadOnly
            }
        }
        Some(_) => Property::ReadOnly,
        None if name.contains('.') => Property::ReadOnly,
        None => Property::Unknown,
    }
}

/// `POST /api/v5/objects/{object}`: `201` with the new record.
pub(crate) async fn create(call: Call, Path(path): Path<String>, body: Bytes) -> Response {
    call.serve(|ctx| {
        let o = writable(&path)?;
        let body = ctx.json_body(&body)?;
        let fields = ctx.param("fields").unwrap_or("id");
        wanted(o.kind, fields)?;
        let params = parameters(&body, |name| property(o, true, name))?;
        let schema = o.kind.schema();
        for name in schema.required {
            if !params.iter().any(|(k, _)| k == name) {
                let i = schema.field_index(name).unwrap_or_default();
                return Err(missing_property(&v5_field_name(schema, o.renames, i)));
            }
        }
        let record = create_record(o.kind, ctx.unit.related(), &params, ctx.now)?;
        answer(ctx, o, StatusCode::CREATED, &record, fields)
    })
    .await
}

/// `PATCH /api/v5/objects/{object}/{id}`: `200` with the changed record.
pub(crate) async fn update(
    call: Call,
    Path((path, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    call.serve(|ctx| {
        let o = writable(&path)?;
        let id = existing(ctx, o, &id)?.id;
        let body = ctx.json_body(&body)?;
        let fields = ctx.param("fields").unwrap_or("id");
        wanted(o.kind, fields)?;
        let params = parameters(&body, |name| property(o, false, name))?;
        let record = update_record(o.kind, ctx.unit.related(), id, &params, ctx.now)?;
        answer(ctx, o, StatusCode::OK, &record, fields)
    })
    .await
}

/// `DELETE /api/v5/objects/{object}/{id}`: `204`; the record goes to the recycle bin (a list
/// takes its memberships with it).
pub(crate) async fn delete(call: Call, Path((path, id)): Path<(String, String)>) -> Response {
    call.serve(|ctx| {
        let o = writable(&path)?;
        let id = existing(ctx, o, &id)?.id;
        delete_record(o.kind, ctx.unit.related(), id, ctx.now)?;
        Ok(Reply::NoContent)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_the_camel_case_of_the_v34_fields_with_relationships() {
        assert_eq!(column(Kind::List, "isPublic"), Some(Column::Own(1)));
        assert_eq!(column(Kind::Campaign, "salesforceId"), Some(Column::Own(2)));
        assert_eq!(column(Kind::Campaign, "crmFid"), None);
        assert_eq!(column(Kind::Campaign, "isDeleted"), None);
        assert_eq!(column(Kind::List, "isDeleted"), Some(Column::IsDeleted));
        let w = wanted(Kind::VisitorActivity, "id,campaign.name,prospect.email").unwrap();
        assert_eq!(w.len(), 3);
        for bad in ["nope", "campaign.nope", "type.name", "campaign"] {
            assert_eq!(
                wanted(Kind::VisitorActivity, bad).unwrap_err().code,
                130,
                "{bad}"
            );
        }
        assert_eq!(
            property(object("lists").unwrap(), false, "isDynamic"),
            Property::ReadOnly
        );
        let memberships = object("list-memberships").unwrap();
        assert!(matches!(
            property(memberships, true, "listId"),
            Property::Writable(..)
        ));
        assert_eq!(property(memberships, false, "listId"), Property::ReadOnly);
        assert_eq!(property(memberships, false, "nope"), Property::Unknown);
    }
}
