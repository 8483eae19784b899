//! The v3/v4 actions of the served objects: `query`, `read`, `create`, `update` and `delete`,
//! each answering as the object's docs say, with the documented codes.

use std::sync::Arc;
use std::time::SystemTime;

use axum::http::Method;

use super::criteria::{Criteria, Output, SortRules};
use super::custom::{self, CustomField};
use super::record::Record;
use super::schema::{Field, Kind, Match, Schema, Show, Target};
use super::store::FieldFilter;
use super::unit_objects::Related;
use super::value::FieldType;
use super::value::Value;
use crate::pardot::errors::ApiError;
use crate::pardot::render::{Node, field};

/// What an action answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The children of a `<rsp stat="ok">`.
    Body(Vec<(String, Node)>),
    /// HTTP 204 with no body (`delete`).
    NoContent,
}

/// A v3/v4 call to a served object.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The action (`query`, `read`, …).
    pub op: &'a str,
    /// The `/{name}/{value}` pairs after the action, in order.
    pub path: &'a [(&'a str, &'a str)],
    /// Every request parameter, form body first.
    pub params: &'a [(String, String)],
    /// The mock clock's time.
    pub now: SystemTime,
}

impl Request<'_> {
    /// A value from the path, else from the parameters.
    fn get(&self, name: &str) -> Option<&str> {
        self.path
            .iter()
            .copied()
            .chain(self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// Answers `request` on `kind` in `unit`.
pub(crate) fn answer(
    kind: Kind,
    unit: Related<'_>,
    request: &Request<'_>,
) -> Result<Reply, ApiError> {
    let schema = kind.schema();
    if !schema.actions.contains(&request.op) {
        return Err(ApiError::code(2));
    }
    let store = unit.objects.store(kind);
    let output = Output::parse(request.get("output"))?;
    let one = |record: &Record| {
        let node = record.node(schema, unit, output == Output::Full);
        Reply::Body(vec![field(schema.element, node)])
    };
    match request.op {
        "query" => query(schema, unit, request, output),
        "read" => target(schema, unit, request).map(|r| one(&r)),
        "create" => create(schema, unit, request).map(|r| one(&r)),
        "update" => {
            let id = target(schema, unit, request)?.id;
            update_record(kind, unit, id, request.params, request.now).map(|r| one(&r))
        }
        "delete" => delete(schema, unit, request),
        "describe" => Ok(describe(schema, unit)),
        "undelete" => {
            if request.path.iter().any(|(name, _)| *name != "id") {
                return Err(ApiError::code(51));
            }
            let id = parse_id(
                request.get("id").ok_or_else(|| ApiError::code(13))?,
                schema.not_found,
            )?;
            store
                .restore(id, request.now)
                .map(|_| Reply::NoContent)
                .ok_or_else(|| ApiError::code(schema.not_found))
        }
        _ => Err(ApiError::code(2)),
    }
}

fn query(
    schema: &Schema,
    unit: Related<'_>,
    request: &Request<'_>,
    output: Output,
) -> Result<Reply, ApiError> {
    let rules = SortRules {
        extra: schema.extra_sorts,
        default_key: "id",
        fixed_order: None,
        deleted: schema.deleted_criterion,
    };
    let criteria = Criteria::parse(|name| request.get(name), &rules, request.now)?;
    let filters = filters(schema, unit, request)?;
    let (total, page) = unit.objects.store(schema.kind).query(&criteria, &filters);
    let mut result = Vec::with_capacity(2);
    // Bulk output leaves the count out ("Bulk Data Pull": it lets the API answer faster).
    if output != Output::Bulk {
        result.push(field(
            "total_results",
            Node::Int(i64::try_from(total).unwrap_or(i64::MAX)),
        ));
    }
    let nested = output == Output::Full;
    let rows = page.iter().map(|r| r.node(schema, unit, nested)).collect();
    result.push(field(schema.element, Node::Repeated(rows)));
    Ok(Reply::Body(vec![field("result", Node::Record(result))]))
}

/// `do/describe`: `<result>` with one `<field>` per field the records show, its facts as
/// attributes (`id`, `label`, `required`, `custom`, `type`, `has_options`), the business
/// unit's custom fields last.
fn describe(schema: &Schema, unit: Related<'_>) -> Reply {
    let attributes = |id: &str, label: &str, required: bool, custom: bool, ty: &str| {
        Node::Attributes(vec![
            field("id", Node::Text(id.to_owned())),
            field("label", Node::Text(label.to_owned())),
            field("required", Node::Word(required)),
            field("custom", Node::Word(custom)),
            field("type", Node::Text(ty.to_owned())),
            field("has_options", Node::Word(false)),
        ])
    };
    let own = schema
        .fields
        .iter()
        .filter(|f| f.show != Show::Never)
        .map(|f| {
            let ty = if f.ty == FieldType::Int {
                "number"
            } else {
                "text"
            };
            attributes(
                f.name,
                &label(f.name),
                schema.required.contains(&f.name),
                false,
                ty,
            )
        });
    let custom = unit.objects.store(schema.kind).custom();
    let extra = custom
        .iter()
        .map(|f| attributes(&f.name, &f.label, f.required, true, f.type_name));
    let fields = own.chain(extra).collect();
    Reply::Body(vec![field(
        "result",
        Node::Record(vec![field("field", Node::Repeated(fields))]),
    )])
}

/// A standard field's label: its words capitalised (`billing_city`: `Billing City`).
fn label(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The object's query filters the request sets, each checked for its form; code 13 when the
/// object needs one of some filters and has none.
fn filters(
    schema: &Schema,
    unit: Related<'_>,
    request: &Request<'_>,
) -> Result<Vec<FieldFilter>, ApiError> {
    let needed = schema.query_needs_one_of;
    if !needed.is_empty() && !needed.iter().any(|name| request.get(name).is_some()) {
        return Err(ApiError::code(13));
    }
    let mut filters = Vec::new();
    for filter in schema.filters {
        let Some(text) = request.get(filter.param) else {
            continue;
        };
        let bad = || ApiError::code(filter.bad_value);
        let index = schema.field_index(filter.field);
        filters.push(match (filter.how, index) {
            (Match::AnyOf, index) => {
                let ids = text
                    .split(',')
                    .map(|id| id.trim().parse::<u64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| bad())?;
                FieldFilter::AnyOf(index, ids)
            }
            (Match::Equals, Some(i)) => {
                let f = &schema.fields[i];
                let value = Value::parse(f.ty, text)
                    .ok()
                    .filter(|v| f.ty != FieldType::Int || v.as_id().is_some())
                    .ok_or_else(bad)?;
                FieldFilter::Equals(i, value)
            }
            (Match::Present, Some(i)) => match text.trim() {
                "true" => FieldFilter::Present(i),
                "false" => continue,
                _ => return Err(bad()),
            },
            (how @ (Match::Above | Match::Below), Some(i)) => {
                let n: i64 = text.trim().parse().map_err(|_| bad())?;
                if how == Match::Above {
                    FieldFilter::Above(i, n)
                } else {
                    FieldFilter::Below(i, n)
                }
            }
            (Match::ProspectEmail, index) => {
                let ids: Vec<u64> = unit
                    .prospects
                    .by_email(text.trim())
                    .iter()
                    .map(|p| p.id)
                    .collect();
                if ids.is_empty() {
                    return Err(bad());
                }
                FieldFilter::AnyOf(index, ids)
            }
            // A table naming a field it does not have: nothing to filter on.
            (Match::Equals | Match::Present | Match::Above | Match::Below, None) => continue,
        });
    }
    Ok(filters)
}

/// Reads an id parameter: malformed is `code`.
fn parse_id(text: &str, code: u32) -> Result<u64, ApiError> {
    text.trim().parse().map_err(|_| ApiError::code(code))
}

/// The record a `read`, `update` or `delete` names: by `id` (path or parameter), by one of the
/// object's read keys (a user's `email`), or for a list membership by `list_id` and
/// `prospect_id`. Code 13 when nothing names one, 51 for a path naming another field, the
/// object's code (or the key's) when there is no such record.
fn target(
    schema: &Schema,
    unit: Related<'_>,
    request: &Request<'_>,
) -> Result<Arc<Record>, ApiError> {
    let store = unit.objects.store(schema.kind);
    let pair_allowed = schema.kind == Kind::ListMembership;
    if request.path.iter().any(|(name, _)| {
        *name != "id"
            && !schema.read_keys.iter().any(|(key, _)| key == name)
            && !(pair_allowed && matches!(*name, "list_id" | "prospect_id"))
    }) {
        return Err(ApiError::code(51));
    }
    if let Some(id) = request.get("id") {
        let id = parse_id(id, schema.not_found)?;
        return store
            .get(id)
            .ok_or_else(|| ApiError::code(schema.not_found));
    }
    for (key, code) in schema.read_keys {
        if let Some(wanted) = request.get(key) {
            let matches = |r: &Record| match r.get(schema, key) {
                Value::Text(t) => t.eq_ignore_ascii_case(wanted.trim()),
                _ => false,
            };
            return store.find(matches).ok_or_else(|| ApiError::code(*code));
        }
    }
    if pair_allowed
        && let (Some(list), Some(prospect)) = (request.get("list_id"), request.get("prospect_id"))
    {
        let list = parse_id(list, 55)?;
        let prospect = parse_id(prospect, 3)?;
        return store
            .find(|r| is_pair(schema, r, list, prospect))
            .ok_or_else(|| ApiError::code(schema.not_found));
    }
    Err(ApiError::code(13))
}

fn is_pair(schema: &Schema, record: &Record, list: u64, prospect: u64) -> bool {
    record.id_of(schema, "list_id") == Some(list)
        && record.id_of(schema, "prospect_id") == Some(prospect)
}

/// Sets the editable fields named by parameters (others are ignored, as Pardot ignores
/// unknown parameters). Clearing a required field is code 36; a value its rule refuses is the
/// rule's code; an id naming no record is the named object's code (3 for a prospect).
///
/// `custom` is the object's custom fields, read by the caller: an update runs this under the
/// store's write lock.
fn set_editable(
    schema: &Schema,
    unit: Related<'_>,
    custom: &[CustomField],
    record: &mut Record,
    params: &[(String, String)],
) -> Result<(), ApiError> {
    let own = schema.fields.len();
    for (name, text) in params {
        let Some(i) = schema.field_index(name) else {
            // A custom field: any value of its type; a required one may not be cleared.
            if let Some(i) = custom::index(custom, own, name) {
                let f = &custom[i - own];
                let value = Value::parse(f.ty, text)?;
                if value == Value::Null && f.required {
                    return Err(ApiError::code(36));
                }
                record.values[i] = value;
            }
            continue;
        };
        let f = &schema.fields[i];
        if !f.editable {
            continue;
        }
        let rule = schema.value_rules.iter().find(|r| r.field == f.name);
        let value =
            Value::parse(f.ty, text).map_err(|e| rule.map_or(e, |r| ApiError::code(r.code)))?;
        if value == Value::Null && schema.required.contains(&f.name) {
            return Err(ApiError::code(36));
        }
        if let Some(rule) = rule
            && value != Value::Null
            && !(rule.allows)(&value)
        {
            return Err(ApiError::code(rule.code));
        }
        check_reference(unit, f, &value)?;
        record.values[i] = value;
    }
    Ok(())
}

/// An id `field` holds names a record of the unit: else the named object's code (3 for a
/// prospect).
fn check_reference(unit: Related<'_>, field: &Field, value: &Value) -> Result<(), ApiError> {
    let (Some(target), Some(id)) = (field.refers, value.as_id()) else {
        return Ok(());
    };
    let (exists, code) = match target {
        Target::Prospect => (unit.prospects.by_id(id).is_some(), 3),
        Target::Object(kind) => (
            unit.objects.store(kind).get(id).is_some(),
            kind.schema().not_found,
        ),
    };
    if exists {
        Ok(())
    } else {
        Err(ApiError::code(code))
    }
}

/// The parameters of a `create`: the path's pairs (where the object takes them), then the
/// request's; a `prospect_email` becomes the `prospect_id` of that prospect (code 4 when
/// none has it).
fn create_params(
    schema: &Schema,
    unit: Related<'_>,
    request: &Request<'_>,
) -> Result<Vec<(String, String)>, ApiError> {
    let membership = schema.kind == Kind::ListMembership;
    let links_prospect = schema.create_links.contains(&"prospect_id");
    let allowed = |name: &str| {
        (membership && matches!(name, "list_id" | "prospect_id"))
            || schema.create_links.contains(&name)
            || (links_prospect && name == "prospect_email")
    };
    if request.path.iter().any(|(name, _)| !allowed(name)) {
        return Err(ApiError::code(51));
    }
    let mut params: Vec<(String, String)> = request
        .path
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain(request.params.iter().cloned())
        .collect();
    if links_prospect
        && !params.iter().any(|(k, _)| k == "prospect_id")
        && let Some((_, email)) = params.iter().find(|(k, _)| k == "prospect_email")
    {
        let prospect = unit
            .prospects
            .by_email(email.trim())
            .first()
            .map(|p| p.id)
            .ok_or_else(|| ApiError::code(4))?;
        params.push(("prospect_id".to_owned(), prospect.to_string()));
    }
    Ok(params)
}

fn create(
    schema: &Schema,
    unit: Related<'_>,
    request: &Request<'_>,
) -> Result<Arc<Record>, ApiError> {
    let params = create_params(schema, unit, request)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let custom = unit.objects.store(schema.kind).custom();
    let required = custom.iter().filter(|f| f.required).map(|f| &*f.name);
    for name in schema.required.iter().copied().chain(required) {
        match get(name) {
            None => return Err(ApiError::code(13)),
            Some(v) if v.trim().is_empty() => return Err(ApiError::code(36)),
            Some(_) => {}
        }
    }
    let mut template = Record::new(schema, 0, request.now);
    template.values = vec![Value::Null; schema.fields.len() + custom.len()].into_boxed_slice();
    set_editable(schema, unit, &custom, &mut template, &params)?;
    for name in schema.create_links {
        let (Some(i), Some(text)) = (schema.field_index(name), get(name)) else {
            continue;
        };
        let f = &schema.fields[i];
        let value = Value::parse(f.ty, text)
            .ok()
            .filter(|v| v.as_id().is_some())
            .ok_or_else(|| ApiError::code(3))?;
        check_reference(unit, f, &value)?;
        template.values[i] = value;
    }
    let store = unit.objects.store(schema.kind);
    if schema.kind != Kind::ListMembership {
        let made = store.insert_unless(
            |_| false,
            |id| Record {
                id,
                ..template.clone()
            },
        );
        return made.ok_or_else(|| ApiError::code(schema.not_found));
    }
    // A membership joins a list and a prospect that exist, at most once.
    let list = parse_id(get("list_id").unwrap_or_default(), 55)?;
    let prospect = parse_id(get("prospect_id").unwrap_or_default(), 3)?;
    if unit.objects.store(Kind::List).get(list).is_none() {
        return Err(ApiError::code(55));
    }
    if unit.prospects.by_id(prospect).is_none() {
        return Err(ApiError::code(3));
    }
    for (name, id) in [("list_id", list), ("prospect_id", prospect)] {
        if let Some(i) = schema.field_index(name) {
            template.values[i] = Value::Int(i64::try_from(id).unwrap_or(i64::MAX));
        }
    }
    store
        .insert_unless(
            |r| is_pair(schema, r, list, prospect),
            |id| Record { id, ..template },
        )
        .ok_or_else(|| ApiError::code(58))
}

/// Creates a record of `kind` from `params` at `now` by the rules of the v3/v4 `create` (the
/// v5 writes share them).
pub(crate) fn create_record(
    kind: Kind,
    unit: Related<'_>,
    params: &[(String, String)],
    now: SystemTime,
) -> Result<Arc<Record>, ApiError> {
    let request = Request {
        method: &Method::POST,
        op: "create",
        path: &[],
        params,
        now,
    };
    create(kind.schema(), unit, &request)
}

/// Sets the editable fields `params` name on the record of `kind` with `id`, updated at
/// `now` (the object's code when there is no such record).
pub(crate) fn update_record(
    kind: Kind,
    unit: Related<'_>,
    id: u64,
    params: &[(String, String)],
    now: SystemTime,
) -> Result<Arc<Record>, ApiError> {
    let schema = kind.schema();
    let store = unit.objects.store(kind);
    let custom = store.custom();
    store
        .update(id, |r| {
            set_editable(schema, unit, &custom, r, params)?;
            r.updated_at = now;
            Ok(())
        })
        .unwrap_or_else(|| Err(ApiError::code(schema.not_found)))
}

fn delete(schema: &Schema, unit: Related<'_>, request: &Request<'_>) -> Result<Reply, ApiError> {
    if schema.delete_needs_post && *request.method == Method::GET {
        return Err(ApiError::code(60));
    }
    let id = target(schema, unit, request)?.id;
    delete_record(schema.kind, unit, id, request.now)?;
    Ok(Reply::NoContent)
}

/// Moves the record of `kind` with `id` to the recycle bin at `now`; a list takes its
/// memberships with it (the object's code when there is no such record).
pub(crate) fn delete_record(
    kind: Kind,
    unit: Related<'_>,
    id: u64,
    now: SystemTime,
) -> Result<(), ApiError> {
    let schema = kind.schema();
    unit.objects
        .store(schema.kind)
        .update(id, |r| {
            r.deleted = true;
            r.updated_at = now;
            Ok::<_, ApiError>(())
        })
        .unwrap_or_else(|| Err(ApiError::code(schema.not_found)))?;
    if schema.kind == Kind::List {
        // A deleted list takes its memberships with it (to the recycle bin).
        let memberships = Kind::ListMembership.schema();
        let list = i64::try_from(id).unwrap_or(i64::MAX);
        unit.objects.store(Kind::ListMembership).update_all(
            |r| !r.deleted && r.get(memberships, "list_id") == &Value::Int(list),
            |r| {
                r.deleted = true;
                r.updated_at = now;
            },
        );
    }
    Ok(())
}
