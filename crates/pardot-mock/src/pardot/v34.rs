//! The v3/v4 API: `login`, `account/do/read` and the prospect operations, in XML (default)
//! and `format=json`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use pardot_auth_core::secrecy::ExposeSecret;

use super::errors::ApiError;
use super::host::pardot_host;
use super::objects::criteria::{Criteria, SortRules};
use super::objects::{self, Kind, Reply};
use super::prospects::{CustomField, Query, Shape, parse_v4_fields};
use super::render::{self, Format, Node, field};
use super::{Admitted, Backend, Caller, PardotApi, time};
use crate::config::PardotHostKind;
use crate::request_params::RequestParams;
use crate::state::MockState;
use crate::virtual_host::VirtualHost;

/// Request parameters: the query string and the form body, kept apart because credentials
/// are judged by where they came from.
pub(crate) struct Params {
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
}

impl Params {
    /// The front door's parse when present, else a parse of the request itself.
    pub(crate) fn new(
        front: Option<Extension<Arc<RequestParams>>>,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Self {
        if let Some(Extension(p)) = front {
            return Self {
                query: p.query.clone(),
                body: p.form.clone(),
            };
        }
        let query = uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| {
                ct.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let body = if is_form && !body.is_empty() {
            serde_urlencoded::from_bytes(body).unwrap_or_default()
        } else {
            Vec::new()
        };
        Self { query, body }
    }

    /// A parameter from the body, else from the query string.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.body
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn in_body(&self, name: &str) -> Option<&str> {
        self.body
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter (body first), for create/update field values.
    pub(super) fn all(&self) -> Vec<(String, String)> {
        self.body.iter().chain(self.query.iter()).cloned().collect()
    }
}

/// Parses `Authorization: Pardot api_key=..., user_key=...`.
pub(super) fn pardot_scheme(value: &str) -> Option<(String, String)> {
    let rest = value.trim().strip_prefix("Pardot")?.trim_start();
    let mut api_key = None;
    let mut user_key = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim() {
            "api_key" => api_key = Some(v),
            "user_key" => user_key = Some(v),
            _ => {}
        }
    }
    Some((api_key?, user_key?))
}

fn fail(api: &PardotApi, format: Format, error: &ApiError) -> Response {
    super::outcome(
        render::fail(format, error.v34_status(api.status_mode), error),
        error,
    )
}

/// What the v3/v4 handlers read of a request beside its path.
#[derive(FromRequest)]
pub(crate) struct Request {
    state: MockState,
    method: Method,
    vhost: Option<Extension<VirtualHost>>,
    front: Option<Extension<Arc<RequestParams>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Request {
    /// Its parameters and the Pardot host it reached (`None`: not a Pardot host).
    fn params_and_host(&self) -> (Params, Option<PardotHostKind>) {
        let params = Params::new(self.front.clone(), &self.uri, &self.headers, &self.body);
        let host = pardot_host(self.vhost.as_ref(), &self.headers, &self.uri);
        (params, host)
    }
}

/// `POST /api/login/version/{3|4}`: email, password and user_key from the form body or the
/// query string.
pub(crate) async fn login(Path(version): Path<String>, request: Request) -> Response {
    let (params, host) = request.params_and_host();
    let Request { state, method, .. } = request;
    let api = state.pardot();
    let format = Format::from_param(params.get("format"));
    if host.is_none() {
        return super::not_a_pardot_host();
    }
    if method != Method::POST {
        return fail(&api, format, &ApiError::code(60));
    }
    if let Err(e) = parse_version(&version) {
        return fail(&api, format, &e);
    }
    let (Some(email), Some(password), Some(user_key)) = (
        params.get("email"),
        params.get("password"),
        params.get("user_key"),
    ) else {
        return fail(&api, format, &ApiError::code(15));
    };
    match api
        .legacy
        .login(email, password, user_key, Backend::now(&state))
    {
        Ok(ok) => {
            let mut children = vec![field(
                "api_key",
                Node::Text(ok.api_key.expose_secret().to_owned()),
            )];
            if ok.api_version == 4 {
                children.push(field("version", Node::Int(4)));
            }
            render::ok(format, &children)
        }
        Err(e) => fail(&api, format, &e),
    }
}

fn parse_version(text: &str) -> Result<u8, ApiError> {
    match text {
        "3" => Ok(3),
        "4" => Ok(4),
        t if t.parse::<u32>().is_ok() => Err(ApiError::code(22)),
        _ => Err(ApiError::code(94)),
    }
}

/// The parts of a v3/v4 call.
struct Call<'a> {
    object: &'a str,
    version: &'a str,
    op: &'a str,
    id: Option<(&'a str, &'a str)>,
    /// A second `/{name}/{value}` pair (`listMembership`'s `list_id/{l}/prospect_id/{p}`).
    second: Option<(&'a str, &'a str)>,
}

/// `/api/{object}/version/{v}/do/{op}`, optionally followed by one or two `/{name}/{value}`
/// pairs (`/id/{id}`, `/email/{email}`, `/list_id/{l}/prospect_id/{p}`): the path's values in
/// route order, whichever of the three routes matched.
pub(crate) async fn call(Path(values): Path<Vec<String>>, request: Request) -> Response {
    let (params, host) = request.params_and_host();
    let pair = |i: usize| match (values.get(i), values.get(i + 1)) {
        (Some(name), Some(value)) => Some((name.as_str(), value.as_str())),
        _ => None,
    };
    let call = Call {
        object: &values[0],
        version: &values[1],
        op: &values[2],
        id: pair(3),
        second: pair(5),
    };
    let Request {
        state,
        method,
        headers,
        ..
    } = &request;
    handle(state, method, call, host, headers, &params).await
}

async fn handle(
    state: &MockState,
    method: &Method,
    call: Call<'_>,
    host: Option<PardotHostKind>,
    headers: &HeaderMap,
    params: &Params,
) -> Response {
    let Some(host) = host else {
        return super::not_a_pardot_host();
    };
    let api = state.pardot();
    let format = Format::from_param(params.get("format"));
    // DELETE is documented for deletes only ("Lists may only be deleted using HTTP methods
    // POST or DELETE").
    let delete = *method == Method::DELETE && call.op == "delete";
    if *method != Method::GET && *method != Method::POST && !delete {
        return fail(&api, format, &ApiError::code(60));
    }
    let version = match parse_version(call.version) {
        Ok(v) => v,
        Err(e) => return fail(&api, format, &e),
    };
    let now = Backend::now(state);
    let (unit, caller) = match authenticate(&api, state, headers, params, host, now) {
        Ok(found) => found,
        Err(e) => return fail(&api, format, &e),
    };
    if let Caller::Legacy(user) = caller {
        let account_version = api.legacy.user(user).map_or(version, |u| u.api_version);
        if account_version == 4 && version == 3 {
            return fail(&api, format, &ApiError::code(88));
        }
        if account_version == 3 && version == 4 {
            return fail(&api, format, &ApiError::code(89));
        }
    }
    let admitted = match api.admit(unit, caller, now).await {
        Ok(a) => a,
        Err(e) => return fail(&api, format, &e),
    };
    // The in-flight slot (inside `admitted`) is held until the answer is built, on every path.
    if let Some(kind) = Kind::from_url_name(call.object) {
        let path: Vec<(&str, &str)> = call.id.into_iter().chain(call.second).collect();
        let all = params.all();
        let request = objects::Request {
            method,
            op: call.op,
            path: &path,
            params: &all,
            now,
        };
        return match objects::answer(kind, admitted.unit.related(), &request) {
            Ok(Reply::Body(children)) => render::ok(format, &children),
            Ok(Reply::NoContent) => axum::http::StatusCode::NO_CONTENT.into_response(),
            Err(e) => fail(&api, format, &e),
        };
    }
    if call.second.is_some() {
        return fail(&api, format, &ApiError::code(2));
    }
    if (call.object, call.op) == ("prospect", "delete") {
        return match delete_prospect(admitted.unit, &call, params, now) {
            Ok(()) => axum::http::StatusCode::NO_CONTENT.into_response(),
            Err(e) => fail(&api, format, &e),
        };
    }
    if (call.object, call.op) == ("prospect", "query") {
        let page = v4_fields(version, params)
            .and_then(|fields| query_page(admitted.unit, params, format, fields.as_deref(), now));
        return match page {
            Ok(body) => render::respond(axum::http::StatusCode::OK, format, body),
            Err(e) => fail(&api, format, &e),
        };
    }
    match dispatch(&api, &admitted, version, &call, params, now) {
        Ok(children) => render::ok(format, &children),
        Err(e) => fail(&api, format, &e),
    }
}

/// A v4 call's `fields` list (code 130 naming an unknown field); v3 has none.
fn v4_fields(version: u8, params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if version == 4 {
        params.get("fields").map(parse_v4_fields).transpose()
    } else {
        Ok(None)
    }
}

/// `prospect/do/query`: the page written straight into one buffer, each prospect from its
/// kept rendering when a page showed it before, and the whole body kept for the next read of
/// the same prospects (every field: no v4 `fields` list).
fn query_page(
    unit: &super::api::Unit,
    params: &Params,
    format: Format,
    fields: Option<&[String]>,
    now: std::time::SystemTime,
) -> Result<Bytes, ApiError> {
    let q = v34_query(unit, params, now)?;
    let (custom, custom_revision) = unit.prospects.custom_fields_at_revision();
    let shape = Shape::V34 {
        format,
        custom_revision,
    };
    let fragments = unit.prospects.fragments();
    let body = unit.prospects.with_page(&q, |total, page| {
        let writer = render::QueryPage::new(format, "prospect", page.len());
        let render = |p: &super::Prospect, out: &mut String| {
            writer.write_item(&prospect_node(unit, p, fields, &custom), out);
        };
        let write = || {
            // About 900 bytes a prospect in JSON, 1,500 in XML: one allocation for the page.
            let per_prospect = match format {
                Format::Xml => 1536,
                Format::Json => 1024,
            };
            let mut out = writer.open(total, 256 + per_prospect * page.len());
            if fields.is_none() {
                fragments.write_page(&shape, page, writer.separator(), &mut out, render);
            } else {
                for (i, p) in page.iter().enumerate() {
                    if i > 0 {
                        out.push_str(writer.separator());
                    }
                    render(p, &mut out);
                }
            }
            writer.close(&mut out);
            out
        };
        match fields {
            None => fragments.page_body(&shape, total, page, write),
            Some(_) => Bytes::from(write()),
        }
    });
    Ok(body)
}

/// Finds the unit and caller: the `Authorization` header first (Bearer or Pardot scheme),
/// then api_key/user_key form fields of a POST body. Credentials in the query string are
/// refused (code 1), as current Pardot does.
fn authenticate<B: Backend>(
    api: &PardotApi,
    backend: &B,
    headers: &HeaderMap,
    params: &Params,
    host: PardotHostKind,
    now: std::time::SystemTime,
) -> Result<(usize, Caller), ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let legacy = |api_key: &str, user_key: &str| -> Result<(usize, Caller), ApiError> {
        let session = api.legacy.authenticate(api_key, user_key, now)?;
        let user = api
            .legacy
            .user(session.user)
            .ok_or_else(|| ApiError::code(1))?;
        let unit = &api.units[user.unit];
        // An api_key is only known on its account's own host.
        if !unit.active || unit.host != host {
            return Err(ApiError::code(1));
        }
        Ok((user.unit, Caller::Legacy(session.user)))
    };
    if let Some(value) = authorization {
        if let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        {
            let bu = headers
                .get(pardot_auth_core::BUSINESS_UNIT_HEADER)
                .and_then(|v| v.to_str().ok());
            let unit = api.check_bearer(backend, token.trim(), bu, host)?;
            return Ok((unit, Caller::Bearer));
        }
        return match pardot_scheme(value) {
            Some((api_key, user_key)) => legacy(&api_key, &user_key),
            None => Err(ApiError::code(1)),
        };
    }
    if let (Some(api_key), Some(user_key)) = (params.in_body("api_key"), params.in_body("user_key"))
    {
        return legacy(api_key, user_key);
    }
    // Credentials in the query string (deprecated, refused) or none at all.
    Err(ApiError::code(1))
}

type Children = Vec<(String, Node)>;

fn dispatch(
    api: &PardotApi,
    admitted: &Admitted<'_>,
    version: u8,
    call: &Call<'_>,
    params: &Params,
    now: std::time::SystemTime,
) -> Result<Children, ApiError> {
    let (object, op, id) = (call.object, call.op, call.id);
    let unit = admitted.unit;
    // Accounts that allow several prospects per email are the v4 accounts of legacy users.
    let v4_account = match admitted.caller {
        Caller::Legacy(user) => api.legacy.user(user).is_some_and(|u| u.api_version == 4),
        Caller::Bearer => false,
    };
    let fields = v4_fields(version, params)?;
    let custom = unit.prospects.custom_fields();
    let record = |p: &super::Prospect| prospect_node(unit, p, fields.as_deref(), &custom);
    let one = |p: &super::Prospect| vec![field("prospect", record(p))];
    // The target of read/update/upsert: from the path, else from `id` / `email` parameters.
    let target = id
        .map(|(f, v)| (f.to_owned(), v.to_owned()))
        .or_else(|| params.get("id").map(|v| ("id".to_owned(), v.to_owned())))
        .or_else(|| {
            params
                .get("email")
                .map(|v| ("email".to_owned(), v.to_owned()))
        });
    let values: Vec<(String, String)> = params
        .all()
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "format" | "output" | "api_key" | "user_key" | "fields" | "id"
            )
        })
        .collect();
    match (object, op) {
        ("account", "read") => Ok(vec![field("account", account_record(&unit.account))]),
        ("prospect", "read") => match target {
            Some((f, v)) if f == "id" => {
                let id = v.parse().map_err(|_| ApiError::code(3))?;
                unit.prospects
                    .by_id(id)
                    .map(|p| one(&p))
                    .ok_or_else(|| ApiError::code(3))
            }
            Some((f, v)) if f == "email" => {
                let found = unit.prospects.by_email(&v);
                match (found.first(), version) {
                    (None, _) => Err(ApiError::code(4)),
                    (Some(p), 3) => Ok(one(p)),
                    (Some(_), _) => Ok(vec![field(
                        "prospect",
                        Node::Repeated(found.iter().map(record).collect()),
                    )]),
                }
            }
            Some((f, v)) if f == "fid" => unit
                .prospects
                .by_fid(&v)
                .map(|p| one(&p))
                .ok_or_else(|| ApiError::code(77)),
            Some(_) => Err(ApiError::code(51)),
            None => Err(ApiError::code(14)),
        },
        ("prospect", "create") => {
            let email = match target {
                Some((f, v)) if f == "email" => v,
                Some(_) => return Err(ApiError::code(51)),
                None => return Err(ApiError::code(13)),
            };
            let allow_duplicates = version == 4 && v4_account;
            let values: Vec<_> = values.into_iter().filter(|(k, _)| k != "email").collect();
            unit.prospects
                .create(&email, &values, allow_duplicates, now)
                .map(|p| one(&p))
        }
        // By id, update and upsert both change an existing prospect; by email, upsert also
        // creates one.
        ("prospect", op @ ("update" | "upsert")) => match target {
            Some((f, v)) if f == "id" => {
                let id = v.parse().map_err(|_| ApiError::code(3))?;
                unit.prospects
                    .update_by_id(id, &values, now)
                    .map(|p| one(&p))
            }
            Some((f, v)) if f == "email" => {
                let values: Vec<_> = values.into_iter().filter(|(k, _)| k != "email").collect();
                let written = if op == "upsert" {
                    unit.prospects.upsert_by_email(&v, &values, now)
                } else {
                    unit.prospects.update_by_email(&v, &values, now)
                };
                written.map(|p| one(&p))
            }
            Some(_) => Err(ApiError::code(51)),
            None => Err(ApiError::code(14)),
        },
        ("prospect", op @ ("assign" | "unassign")) => {
            let user = if op == "assign" {
                Some(assignee(unit, params)?)
            } else {
                None
            };
            let id = target_id(unit, target)?;
            unit.prospects.assign_by_id(id, user, now).map(|p| one(&p))
        }
        _ => Err(ApiError::code(2)),
    }
}

/// A prospect's v3/v4 record, with the user it is assigned to in `<assigned_to>` after the
/// `<campaign>` ("Using Prospects", XML Response Formats: the leaf appears only for an
/// assigned prospect), unless a v4 `fields` list leaves `assigned_to` out; with the business
/// unit's `custom` fields.
fn prospect_node(
    unit: &super::api::Unit,
    p: &super::Prospect,
    fields: Option<&[String]>,
    custom: &[CustomField],
) -> Node {
    let mut node = p.v34_record_with(fields, custom);
    let wanted = fields.is_none_or(|f| f.iter().any(|w| w == "assigned_to"));
    if let (Node::Record(out), Some(user), true) = (&mut node, p.assigned_user(), wanted)
        && let Some(user) = objects::user_node(unit.related(), user)
    {
        out.push(field(
            "assigned_to",
            Node::Record(vec![field("user", user)]),
        ));
    }
    node
}

/// The id of the prospect an `assign`/`unassign` names by `id` (code 3 when there is none),
/// `email` (code 4) or CRM `fid` (code 77), in the path or a parameter.
fn target_id(unit: &super::api::Unit, target: Option<(String, String)>) -> Result<u64, ApiError> {
    match target {
        Some((f, v)) if f == "id" => v.trim().parse().map_err(|_| ApiError::code(3)),
        Some((f, v)) if f == "email" => unit
            .prospects
            .by_email(&v)
            .first()
            .map(|p| p.id)
            .ok_or_else(|| ApiError::code(4)),
        Some((f, v)) if f == "fid" => unit
            .prospects
            .by_fid(&v)
            .map(|p| p.id)
            .ok_or_else(|| ApiError::code(77)),
        Some(_) => Err(ApiError::code(51)),
        None => Err(ApiError::code(14)),
    }
}

/// The user a `do/assign` names: by `user_id` (code 10 when unknown) and/or `user_email`
/// (code 11), which must name the same user (code 45), or by `group_id` (code 12: the mock
/// has no groups). A group beside a user is code 47, no target at all code 13.
fn assignee(unit: &super::api::Unit, params: &Params) -> Result<u64, ApiError> {
    let (user_id, user_email) = (params.get("user_id"), params.get("user_email"));
    if params.get("group_id").is_some() {
        let code = if user_id.is_some() || user_email.is_some() {
            47
        } else {
            12
        };
        return Err(ApiError::code(code));
    }
    let by_id = user_id.map(|v| unit.objects.user_by_id(v)).transpose()?;
    let by_email = user_email
        .map(|v| {
            unit.objects
                .user_by_email(v.trim())
                .ok_or_else(|| ApiError::code(11))
        })
        .transpose()?;
    match (by_id, by_email) {
        (Some(a), Some(b)) if a != b => Err(ApiError::code(45)),
        (Some(user), _) | (None, Some(user)) => Ok(user),
        (None, None) => Err(ApiError::code(13)),
    }
}

/// `prospect/do/delete` by id or email (path or parameter): the prospect goes to the recycle
/// bin (a query with `deleted=true` still finds it) and the answer is HTTP 204.
fn delete_prospect(
    unit: &super::api::Unit,
    call: &Call<'_>,
    params: &Params,
    now: std::time::SystemTime,
) -> Result<(), ApiError> {
    let target = call
        .id
        .or_else(|| params.get("id").map(|v| ("id", v)))
        .or_else(|| params.get("email").map(|v| ("email", v)));
    match target {
        Some(("id", v)) => {
            let id = v.trim().parse().map_err(|_| ApiError::code(3))?;
            unit.prospects.delete_by_id(id, now)
        }
        Some(("email", v)) => unit.prospects.delete_by_email(v, now),
        Some(_) => Err(ApiError::code(51)),
        None => Err(ApiError::code(14)),
    }
}

fn account_record(account: &super::Account) -> Node {
    let text = |s: &str| {
        if s.is_empty() {
            Node::Null
        } else {
            Node::Text(s.to_owned())
        }
    };
    let created = Node::Text(time::pardot_datetime(account.created_at));
    // The address and the other settings the mock has no value for.
    let unset = |names: &[&str]| {
        names
            .iter()
            .map(|n| field(n, Node::Null))
            .collect::<Vec<_>>()
    };
    let mut out = vec![
        field(
            "id",
            Node::Int(i64::try_from(account.id).unwrap_or(i64::MAX)),
        ),
        field("company", text(&account.company)),
        field("level", text(&account.level)),
        field("website", text(&account.website)),
    ];
    out.extend(unset(&["vanity_domain", "plugin_campaign_id"]));
    out.push(field(
        "tracking_code_template",
        Node::Text(format!("piAId = '{}';", account.id)),
    ));
    out.extend(unset(&[
        "address1",
        "address2",
        "city",
        "state",
        "territory",
        "zip",
        "country",
        "phone",
        "fax",
    ]));
    out.push(field("created_at", created.clone()));
    out.push(field("updated_at", created));
    Node::Record(out)
}

/// The prospect query's criteria: the shared ones, with `last_activity_at` as an extra sort
/// key, `created_at` the default, and descending unless `sort_order` says otherwise; then
/// `assigned` / `assigned_to_user` against the unit's users.
fn v34_query(
    unit: &super::api::Unit,
    params: &Params,
    now: std::time::SystemTime,
) -> Result<Query, ApiError> {
    let rules = SortRules {
        extra: &[("last_activity_at", true)],
        default_key: "created_at",
        fixed_order: Some(true),
        deleted: true,
    };
    let mut query = Criteria::parse(|name| params.get(name), &rules, now)?;
    query.assignment = Criteria::assignment(|name| params.get(name), &unit.objects)?;
    Ok(query)
}
