//! An export's `fields`: the CSV columns, where each cell comes from, and the CSV rows of a
//! page of the selected records.
//!
//! Visitor activities and list memberships are read from the same object stores the v3/v4
//! `do/query` answers come from (their v5 names are the v3/v4 names in camelCase, with the
//! campaign as a relationship); prospects from the prospect store, written as the v5
//! prospect endpoints write them.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::Value as Json;

use super::invalid;
use super::procedure::{Object, Selection};
use crate::pardot::api::Unit;
use crate::pardot::errors::ApiError;
use crate::pardot::prospects::{CustomField, V5Field, parse_v5_fields_with};
use crate::pardot::render::Node;
use crate::pardot::time::iso_datetime;

/// The most fields one export may name.
pub(super) const MAX_FIELDS: usize = 150;

/// Where a cell of a visitor activity or list membership comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Id,
    CreatedAt,
    UpdatedAt,
    /// A field of the record, by its v3/v4 name.
    Field(&'static str),
    /// A member of a record shown inside it (`campaign` `id` or `name`).
    Related(&'static str, &'static str),
}

/// The v5 fields of a visitor activity (the v5 object page) and where each is read.
const VISITOR_ACTIVITY: &[(&str, Source)] = &[
    ("id", Source::Id),
    ("campaignId", Source::Related("campaign", "id")),
    ("campaign.id", Source::Related("campaign", "id")),
    ("campaign.name", Source::Related("campaign", "name")),
    ("createdAt", Source::CreatedAt),
    ("customRedirectId", Source::Field("custom_redirect_id")),
    ("details", Source::Field("details")),
    ("emailId", Source::Field("email_id")),
    ("fileId", Source::Field("file_id")),
    ("formHandlerId", Source::Field("form_handler_id")),
    ("formId", Source::Field("form_id")),
    ("landingPageId", Source::Field("landing_page_id")),
    ("listEmailId", Source::Field("list_email_id")),
    ("prospectId", Source::Field("prospect_id")),
    ("type", Source::Field("type")),
    ("typeName", Source::Field("type_name")),
    ("updatedAt", Source::UpdatedAt),
    ("visitId", Source::Field("visit_id")),
    ("visitorId", Source::Field("visitor_id")),
];

/// The v5 fields of a list membership (the v5 object page) and where each is read.
const LIST_MEMBERSHIP: &[(&str, Source)] = &[
    ("id", Source::Id),
    ("listId", Source::Field("list_id")),
    ("prospectId", Source::Field("prospect_id")),
    ("optedOut", Source::Field("opted_out")),
    ("createdAt", Source::CreatedAt),
    ("updatedAt", Source::UpdatedAt),
];

/// How an export's cells are read.
#[derive(Debug, Clone, PartialEq)]
enum Cells {
    /// From a visitor activity or list membership.
    Object(Vec<Source>),
    /// From a prospect's v5 record (the fields as the prospect endpoints read them).
    Prospect(Vec<V5Field>),
}

/// An export's columns.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Columns {
    names: Vec<String>,
    cells: Cells,
}

/// What one page of a scan saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scanned {
    /// The last record id read (written or not), if any.
    pub last: Option<u64>,
    /// No record is left after this page.
    pub exhausted: bool,
}

impl Columns {
    /// Reads the body's `fields` (an array of names, at most [`MAX_FIELDS`]) for `object`;
    /// a name given twice is one column. `custom` are the business unit's prospect custom
    /// fields, which a prospect export may name as a v5 read can.
    pub(super) fn parse(
        object: Object,
        fields: &Json,
        custom: &[CustomField],
    ) -> Result<Self, ApiError> {
        let list = fields
            .as_array()
            .ok_or_else(|| invalid(154, "fields must be an array of field names"))?;
        let mut names: Vec<String> = Vec::with_capacity(list.len());
        for item in list {
            let name = item
                .as_str()
                .ok_or_else(|| invalid(154, "fields must be an array of field names"))?;
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        if names.is_empty() {
            return Err(invalid(153, "fields"));
        }
        if names.len() > MAX_FIELDS {
            return Err(invalid(
                130,
                format!("an export takes at most {MAX_FIELDS} fields"),
            ));
        }
        let cells = match object {
            Object::Prospect => Cells::Prospect(
                parse_v5_fields_with(&names.join(","), custom)
                    .map_err(|message| invalid(130, message))?,
            ),
            Object::VisitorActivity | Object::ListMembership => {
                let table = if object == Object::VisitorActivity {
                    VISITOR_ACTIVITY
                } else {
                    LIST_MEMBERSHIP
                };
                let sources = names
                    .iter()
                    .map(|name| {
                        table
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, source)| *source)
                            .ok_or_else(|| invalid(130, format!("Invalid field: {name}")))
                    })
                    .collect::<Result<_, _>>()?;
                Cells::Object(sources)
            }
        };
        Ok(Self { names, cells })
    }

    /// The field names, in column order.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    /// The header row.
    pub(super) fn header(&self) -> String {
        let mut out = String::new();
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_cell(name, &mut out);
        }
        out.push_str("\r\n");
        out
    }

    /// Reads up to `limit` selected records with ids above `after` (and below `until`) from
    /// `unit` and hands each row that the selection's filters keep, with its id, to `row`.
    pub(super) fn scan(
        &self,
        unit: &Unit,
        selection: &Selection,
        after: u64,
        until: Option<u64>,
        limit: usize,
        row: &mut dyn FnMut(u64, &str),
    ) -> Scanned {
        let query = selection.query(after, until, limit);
        let mut line = String::with_capacity(256);
        let (read, last) = match (&self.cells, selection.object.kind()) {
            (Cells::Object(sources), Some(kind)) => {
                let records = unit.objects.store(kind).page_after(after, limit, &query);
                for record in &records {
                    let node = record.node(kind.schema(), unit.related(), false);
                    if !keeps(selection, &node) {
                        continue;
                    }
                    line.clear();
                    for (i, source) in sources.iter().enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        object_cell(
                            *source,
                            record.id,
                            record.created_at,
                            record.updated_at,
                            &node,
                            &mut line,
                        );
                    }
                    line.push_str("\r\n");
                    row(record.id, &line);
                }
                (records.len(), records.last().map(|r| r.id))
            }
            (Cells::Prospect(fields), _) => {
                let (_, prospects) = unit.prospects.query(&query);
                let mut json = String::with_capacity(512);
                for p in &prospects {
                    json.clear();
                    let user = |id: u64, name: &str| {
                        crate::pardot::v5::user_field(unit.related(), id, name)
                    };
                    p.write_v5_json_with(fields, &user, &mut json);
                    let value: Json = serde_json::from_str(&json).unwrap_or(Json::Null);
                    line.clear();
                    for (i, name) in self.names.iter().enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        json_cell(
                            name.split('.').try_fold(&value, |v, key| v.get(key)),
                            &mut line,
                        );
                    }
                    line.push_str("\r\n");
                    row(p.id, &line);
                }
                (prospects.len(), prospects.last().map(|p| p.id))
            }
            // A store object always has its kind; nothing to read otherwise.
            (Cells::Object(_), None) => (0, None),
        };
        Scanned {
            last,
            exhausted: read < limit,
        }
    }
}

/// Whether a visitor activity passes the `type` and `prospectOnly` arguments.
fn keeps(selection: &Selection, node: &Node) -> bool {
    let member = |name: &str| member(node, name);
    if selection.prospect_only && member("prospect_id").is_none_or(|n| *n == Node::Null) {
        return false;
    }
    match &selection.types {
        Some(types) => matches!(member("type"), Some(Node::Int(t)) if types.contains(t)),
        None => true,
    }
}

/// The child `name` of a record node.
fn member<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    match node {
        Node::Record(children) => children.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    }
}

/// Writes one cell of a visitor activity or list membership.
fn object_cell(
    source: Source,
    id: u64,
    created_at: SystemTime,
    updated_at: SystemTime,
    node: &Node,
    out: &mut String,
) {
    let value = match source {
        Source::Id => {
            let _ = write!(out, "{id}");
            return;
        }
        Source::CreatedAt => return out.push_str(&iso_datetime(created_at)),
        Source::UpdatedAt => return out.push_str(&iso_datetime(updated_at)),
        Source::Field(name) => member(node, name),
        Source::Related(element, name) => member(node, element).and_then(|r| member(r, name)),
    };
    match value {
        Some(Node::Int(n)) => {
            let _ = write!(out, "{n}");
        }
        Some(Node::Text(text)) => write_cell(text, out),
        Some(Node::Bool(b) | Node::Word(b)) => out.push_str(if *b { "true" } else { "false" }),
        _ => {}
    }
}

/// Writes one cell from a value of a prospect's v5 record (absent or `null`: empty).
fn json_cell(value: Option<&Json>, out: &mut String) {
    match value {
        Some(Json::String(text)) => write_cell(text, out),
        Some(Json::Number(n)) => {
            let _ = write!(out, "{n}");
        }
        Some(Json::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        _ => {}
    }
}

/// Writes a text cell, quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn write_cell(text: &str, out: &mut String) {
    if text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_only_when_needed() {
        let mut out = String::new();
        for text in ["plain", "a,b", "say \"hi\"", "two\nlines"] {
            write_cell(text, &mut out);
            out.push('|');
        }
        assert_eq!(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|");
    }

    #[test]
    fn fields_are_checked_against_the_object() {
        let fields = |json: &str| serde_json::from_str::<Json>(json).unwrap();
        let columns = Columns::parse(
            Object::VisitorActivity,
            &fields(r#"["id","campaign.name","id"]"#),
            &[],
        )
        .unwrap();
        assert_eq!(columns.names(), ["id", "campaign.name"]);
        assert_eq!(columns.header(), "id,campaign.name\r\n");
        let code =
            |object, json: &str| Columns::parse(object, &fields(json), &[]).unwrap_err().code;
        assert_eq!(code(Object::VisitorActivity, r#"["id","email"]"#), 130);
        assert_eq!(code(Object::ListMembership, r#"["id","typeName"]"#), 130);
        assert_eq!(code(Object::Prospect, r#"["id","nope"]"#), 130);
        assert_eq!(code(Object::Prospect, "[]"), 153);
        assert_eq!(code(Object::Prospect, r#""id""#), 154);
        let many: Vec<String> = (0..151).map(|i| format!("f{i}")).collect();
        assert_eq!(
            code(
                Object::ListMembership,
                &serde_json::to_string(&many).unwrap()
            ),
            130
        );
    }
}
