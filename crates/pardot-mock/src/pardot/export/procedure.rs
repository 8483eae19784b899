//! An export's `procedure`: which procedures exist (one per object and time field), their
//! arguments, and the records they select.
//!
//! Names and arguments follow the v5 Export API page; the bounds are inclusive ("equal or
//! greater than … less than or equal to"), an absent end means the export's creation time, and
//! one export spans at most a year. The mock README's "Export API" section lists each rule
//! with its source.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value as Json};

use super::{flag, invalid};
use crate::pardot::errors::ApiError;
use crate::pardot::objects::Kind;
use crate::pardot::prospects::{Assignment, Deleted, Query, SortKey};
use crate::pardot::time;

/// The records an export reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Object {
    /// Visitor activities (`visitor_activity.…`).
    VisitorActivity,
    /// Prospects (`prospect.…`).
    Prospect,
    /// List memberships (`list_membership.…`).
    ListMembership,
}

impl Object {
    /// The object store holding its records (prospects have their own store).
    pub(super) fn kind(self) -> Option<Kind> {
        match self {
            Self::VisitorActivity => Some(Kind::VisitorActivity),
            Self::ListMembership => Some(Kind::ListMembership),
            Self::Prospect => None,
        }
    }
}

/// The time a procedure selects by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeField {
    Created,
    Updated,
}

impl TimeField {
    /// The procedure's name suffix and its two arguments.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Created => ("filter_by_created_at", "createdAfter", "createdBefore"),
            Self::Updated => ("filter_by_updated_at", "updatedAfter", "updatedBefore"),
        }
    }
}

/// Every procedure: `{object}.{procedure}`.
const PROCEDURES: [(&str, Object, TimeField); 6] = [
    (
        "visitor_activity.filter_by_created_at",
        Object::VisitorActivity,
        TimeField::Created,
    ),
    (
        "visitor_activity.filter_by_updated_at",
        Object::VisitorActivity,
        TimeField::Updated,
    ),
    (
        "prospect.filter_by_created_at",
        Object::Prospect,
        TimeField::Created,
    ),
    (
        "prospect.filter_by_updated_at",
        Object::Prospect,
        TimeField::Updated,
    ),
    (
        "list_membership.filter_by_created_at",
        Object::ListMembership,
        TimeField::Created,
    ),
    (
        "list_membership.filter_by_updated_at",
        Object::ListMembership,
        TimeField::Updated,
    ),
];

/// The longest span one export may cover.
pub(super) const MAX_SPAN: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A validated procedure: which records an export holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selection {
    /// The object.
    pub object: Object,
    by: TimeField,
    /// The first time selected (inclusive).
    after: SystemTime,
    /// The last time selected (inclusive).
    before: SystemTime,
    /// Visitor activities: only these `type`s.
    pub types: Option<Vec<i64>>,
    /// Visitor activities: only those of a prospect.
    pub prospect_only: bool,
    /// Prospects and list memberships: by their deleted flag.
    deleted: Deleted,
}

/// A procedure as the export echoes it, and what it selects.
#[derive(Debug, Clone)]
pub(super) struct Procedure {
    /// Its name.
    pub name: String,
    /// Its arguments as given.
    pub arguments: Map<String, Json>,
    /// What it selects.
    pub selection: Selection,
}

impl Procedure {
    /// Reads the body's `procedure` (`{"name": …, "arguments": {…}}`); `now` is the end of a
    /// range without one and the reference of `today`-style times.
    pub(super) fn parse(procedure: &Json, now: SystemTime) -> Result<Self, ApiError> {
        let procedure = procedure
            .as_object()
            .ok_or_else(|| invalid(154, "procedure must be an object"))?;
        if let Some(key) = procedure
            .keys()
            .find(|k| !["name", "arguments"].contains(&k.as_str()))
        {
            return Err(invalid(154, format!("procedure.{key}")));
        }
        let name = procedure
            .get("name")
            .ok_or_else(|| invalid(153, "procedure.name"))?
            .as_str()
            .ok_or_else(|| invalid(154, "procedure.name must be a string"))?;
        let &(_, object, by) = PROCEDURES
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| invalid(154, format!("procedure.name: unknown procedure `{name}`")))?;
        let arguments = match procedure.get("arguments") {
            None => Map::new(),
            Some(Json::Object(map)) => map.clone(),
            Some(_) => return Err(invalid(154, "procedure.arguments must be an object")),
        };
        let selection = Selection::from_arguments(object, by, &arguments, now)?;
        Ok(Self {
            name: name.to_owned(),
            arguments,
            selection,
        })
    }
}

impl Selection {
    fn from_arguments(
        object: Object,
        by: TimeField,
        arguments: &Map<String, Json>,
        now: SystemTime,
    ) -> Result<Self, ApiError> {
        let (_, after_name, before_name) = by.names();
        let extra: &[&str] = match object {
            Object::VisitorActivity => &["type", "prospectOnly"],
            Object::Prospect | Object::ListMembership => &["deleted"],
        };
        if let Some(key) = arguments
            .keys()
            .find(|k| *k != after_name && *k != before_name && !extra.contains(&k.as_str()))
        {
            return Err(invalid(154, format!("procedure.arguments.{key}")));
        }
        let time_argument = |name: &str| -> Result<Option<SystemTime>, ApiError> {
            arguments
                .get(name)
                .map(|v| {
                    v.as_str()
                        .and_then(|t| time::parse_criterion(t, now))
                        .ok_or_else(|| {
                            invalid(154, format!("procedure.arguments.{name}: not a time"))
                        })
                })
                .transpose()
        };
        let after = time_argument(after_name)?
            .ok_or_else(|| invalid(153, format!("procedure.arguments.{after_name}")))?;
        let before = time_argument(before_name)?.unwrap_or(now);
        let span = before
            .duration_since(after)
            .map_err(|_| invalid(52, format!("{before_name} is before {after_name}")))?;
        if span > MAX_SPAN {
            return Err(invalid(
                52,
                format!("the range from {after_name} to {before_name} exceeds one year"),
            ));
        }
        let types = match arguments.get("type") {
            None => None,
            Some(Json::Array(items)) => Some(
                items
                    .iter()
                    .map(Json::as_i64)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid(154, "procedure.arguments.type: not integers"))?,
            ),
            Some(one) => Some(vec![one.as_i64().ok_or_else(|| {
                invalid(154, "procedure.arguments.type: not an integer")
            })?]),
        };
        let prospect_only = flag(
            arguments,
            "prospectOnly",
            "procedure.arguments.prospectOnly: not a boolean",
        )?;
        let deleted = match arguments.get("deleted") {
            None => Deleted::No,
            Some(Json::Bool(true)) => Deleted::Only,
            Some(Json::Bool(false)) => Deleted::No,
            Some(Json::String(s)) => Deleted::parse(s).ok_or_else(|| {
                invalid(154, "procedure.arguments.deleted: true, false or \"all\"")
            })?,
            Some(_) => {
                return Err(invalid(
                    154,
                    "procedure.arguments.deleted: true, false or \"all\"",
                ));
            }
        };
        Ok(Self {
            object,
            by,
            after,
            before,
            types,
            prospect_only,
            deleted,
        })
    }

    /// The store query for up to `limit` records with ids above `after_id` (and below
    /// `until_id`, when given), by id: the time and deleted bounds. The store's bounds are
    /// strict, the procedure's inclusive, hence a nanosecond either side.
    pub(super) fn query(&self, after_id: u64, until_id: Option<u64>, limit: usize) -> Query {
        let nano = Duration::from_nanos(1);
        let after = self.after.checked_sub(nano);
        let before = self.before.checked_add(nano);
        let (created_after, created_before, updated_after, updated_before) = match self.by {
            TimeField::Created => (after, before, None, None),
            TimeField::Updated => (None, None, after, before),
        };
        Query {
            id_greater_than: Some(after_id),
            id_less_than: until_id,
            created_after,
            created_before,
            updated_after,
            updated_before,
            deleted: self.deleted,
            assignment: Assignment::Any,
            sort: SortKey::Id,
            descending: false,
            offset: 0,
            limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        time::parse_datetime(text).unwrap()
    }

    fn parse(json: &str) -> Result<Procedure, ApiError> {
        Procedure::parse(
            &serde_json::from_str(json).unwrap(),
            at("2024-06-01T00:00:00Z"),
        )
    }

    #[test]
    fn reads_a_procedure_and_bounds_it_inclusively() {
        let p = parse(
            r#"{"name":"visitor_activity.filter_by_created_at","arguments":{"createdAfter":"2024-01-01T00:00:00+00:00","type":[1,2],"prospectOnly":true}}"#,
        )
        .unwrap();
        let s = &p.selection;
        assert_eq!(s.object, Object::VisitorActivity);
        assert_eq!(
            s.before,
            at("2024-06-01T00:00:00Z"),
            "no end: the creation time"
        );
        assert_eq!((s.types.clone(), s.prospect_only), (Some(vec![1, 2]), true));
        let q = s.query(5, None, 10);
        assert!(q.admits_record(6, at("2024-01-01T00:00:00Z"), at("2030-01-01"), false));
        assert!(q.admits_record(6, at("2024-06-01T00:00:00Z"), at("2030-01-01"), false));
        assert!(!q.admits_record(5, at("2024-02-01"), at("2024-02-01"), false));
        assert!(!q.admits_record(6, at("2024-06-01T00:00:01Z"), at("2024-02-01"), false));
    }

    #[test]
    fn refuses_what_the_docs_do_not_allow() {
        let code = |json: &str| parse(json).unwrap_err().code;
        assert_eq!(code(r#"{"name":"visitor_activity.filter_by_id"}"#), 154);
        assert_eq!(code(r#"{"arguments":{}}"#), 153);
        assert_eq!(code(r#"{"name":"prospect.filter_by_updated_at"}"#), 153);
        assert_eq!(
            code(
                r#"{"name":"prospect.filter_by_updated_at","arguments":{"updatedAfter":"2023-01-01","updatedBefore":"2024-01-02"}}"#
            ),
            52
        );
        assert_eq!(
            code(
                r#"{"name":"prospect.filter_by_updated_at","arguments":{"updatedAfter":"2024-01-02","updatedBefore":"2024-01-01"}}"#
            ),
            52
        );
        assert_eq!(
            code(
                r#"{"name":"prospect.filter_by_updated_at","arguments":{"updatedAfter":"2024-01-01","type":1}}"#
            ),
            154
        );
        assert_eq!(
            code(
                r#"{"name":"list_membership.filter_by_created_at","arguments":{"createdAfter":"soon"}}"#
            ),
            154
        );
        let all = parse(r#"{"name":"list_membership.filter_by_created_at","arguments":{"createdAfter":"2024-01-01","deleted":"all"}}"#).unwrap();
        assert_eq!(all.selection.deleted, Deleted::All);
    }
}
