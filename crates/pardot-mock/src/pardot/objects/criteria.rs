//! The v3/v4 query criteria every object shares, read from the request with the documented
//! codes: the id and time ranges (named ranges and custom times on the mock clock), `deleted`,
//! `sort_by`/`sort_order`, `offset`, `limit` and `output`, into a [`Query`]. Prospects read
//! theirs here too.

use std::time::SystemTime;

use super::unit_objects::Objects;
use crate::pardot::errors::ApiError;
use crate::pardot::prospects::{Assignment, Deleted, Query, SortKey};
use crate::pardot::time;

/// The most records one query answers, and the default.
pub(crate) const MAX_LIMIT: usize = 200;

/// What a query's `output` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Output {
    /// `simple`.
    Simple,
    /// `full` (the default).
    #[default]
    Full,
    /// `mobile`.
    Mobile,
    /// `bulk`: no `total_results`, no nested relations.
    Bulk,
}

impl Output {
    /// Reads `output`; code 51 for another value.
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value.map(str::trim) {
            None => Ok(Self::Full),
            Some("simple") => Ok(Self::Simple),
            Some("full") => Ok(Self::Full),
            Some("mobile") => Ok(Self::Mobile),
            Some("bulk") => Ok(Self::Bulk),
            Some(_) => Err(ApiError::code(51)),
        }
    }
}

/// The sort keys an object takes, and its defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SortRules<'a> {
    /// Keys beyond `id`, `created_at` and `updated_at`, each with whether its default order
    /// is descending.
    pub extra: &'a [(&'static str, bool)],
    /// The key without `sort_by`.
    pub default_key: &'static str,
    /// `Some(descending)`: the order without `sort_order` whatever the key (the prospects'
    /// long-standing behaviour); `None`: the documented default of each key (`created_at` and
    /// `updated_at` descending, `id` ascending).
    pub fixed_order: Option<bool>,
    /// Whether `deleted` is a criterion (else the parameter is not read).
    pub deleted: bool,
}

impl SortRules<'_> {
    /// The key named `name` and its default order.
    fn key(&self, name: &str) -> Option<(&'static str, bool)> {
        match name {
            "id" => Some(("id", false)),
            "created_at" => Some(("created_at", true)),
            "updated_at" => Some(("updated_at", true)),
            _ => self.extra.iter().find(|(k, _)| *k == name).copied(),
        }
    }
}

/// Reading a query's criteria.
pub(crate) struct Criteria;

impl Criteria {
    /// Reads the criteria from `get` (a request parameter by name), with `now` the mock
    /// clock's time for the named ranges. Codes: 16 id, 7 time, 27 deleted, 23 limit,
    /// 21 offset, 19 sort_by, 20 sort_order.
    pub(crate) fn parse<'p>(
        get: impl Fn(&str) -> Option<&'p str>,
        rules: &SortRules<'_>,
        now: SystemTime,
    ) -> Result<Query, ApiError> {
        let id = |name: &str| -> Result<Option<u64>, ApiError> {
            get(name)
                .map(|v| v.trim().parse().map_err(|_| ApiError::code(16)))
                .transpose()
        };
        let at = |name: &str| -> Result<Option<SystemTime>, ApiError> {
            get(name)
                .map(|v| time::parse_criterion(v, now).ok_or_else(|| ApiError::code(7)))
                .transpose()
        };
        // Read in this order, so the first wrong parameter's code is the one answered.
        let id_greater_than = id("id_greater_than")?;
        let id_less_than = id("id_less_than")?;
        let created_after = at("created_after")?;
        let created_before = at("created_before")?;
        let updated_after = at("updated_after")?;
        let updated_before = at("updated_before")?;
        let deleted = match get("deleted") {
            Some(d) if rules.deleted => Deleted::parse(d).ok_or_else(|| ApiError::code(27))?,
            _ => Deleted::No,
        };
        let limit = match get("limit") {
            Some(l) => l
                .trim()
                .parse()
                .ok()
                .filter(|&n: &usize| n <= MAX_LIMIT)
                .ok_or_else(|| ApiError::code(23))?,
            None => MAX_LIMIT,
        };
        let offset = match get("offset") {
            Some(o) => o.trim().parse().map_err(|_| ApiError::code(21))?,
            None => 0,
        };
        let (sort, key_descending) = match get("sort_by") {
            Some(s) => rules.key(s.trim()).ok_or_else(|| ApiError::code(19))?,
            None => rules
                .key(rules.default_key)
                .unwrap_or((rules.default_key, false)),
        };
        let descending = match get("sort_order") {
            Some("descending") => true,
            Some("ascending") => false,
            Some(_) => return Err(ApiError::code(20)),
            None => rules.fixed_order.unwrap_or(key_descending),
        };
        Ok(Query {
            id_greater_than,
            id_less_than,
            created_after,
            created_before,
            updated_after,
            updated_before,
            deleted,
            assignment: Assignment::Any,
            sort: match sort {
                "id" => SortKey::Id,
                "created_at" => SortKey::CreatedAt,
                "updated_at" => SortKey::UpdatedAt,
                "last_activity_at" => SortKey::LastActivityAt,
                field => SortKey::Field(field),
            },
            descending,
            offset,
            limit,
        })
    }
}

impl Criteria {
    /// Reads the prospect criteria `assigned` (`true`/`false`, code 26 otherwise) and
    /// `assigned_to_user` (a user id, code 10 when it names no user of the business unit, or
    /// an email, code 11), looking users up in `users`. A named user is the narrower
    /// criterion, so it wins over `assigned=true`; beside `assigned=false` nothing matches
    /// both, and the answer is empty.
    pub(crate) fn assignment<'p>(
        get: impl Fn(&str) -> Option<&'p str>,
        users: &Objects,
    ) -> Result<Assignment, ApiError> {
        let assigned = get("assigned")
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::code(26)),
            })
            .transpose()?;
        let user = get("assigned_to_user")
            .map(|v| users.user_by_id_or_email(v))
            .transpose()?;
        Ok(match (assigned, user) {
            (Some(false), Some(_)) => Assignment::Nobody,
            (_, Some(id)) => Assignment::ToUser(id),
            (Some(true), None) => Assignment::Assigned,
            (Some(false), None) => Assignment::Unassigned,
            (None, None) => Assignment::Any,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: SortRules<'static> = SortRules {
        extra: &[("name", false), ("cost", true)],
        default_key: "id",
        fixed_order: None,
        deleted: true,
    };

    fn parse(query: &[(&str, &str)]) -> Result<Query, ApiError> {
        let now = time::parse_datetime("2024-03-10 15:00:00").unwrap();
        Criteria::parse(
            |name| query.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
            &RULES,
            now,
        )
    }

    fn code(query: &[(&str, &str)]) -> u32 {
        parse(query).map(|_| 0).unwrap_or_else(|e| e.code)
    }

    #[test]
    fn each_wrong_form_is_its_documented_code() {
        assert_eq!(code(&[("id_greater_than", "ten")]), 16);
        assert_eq!(code(&[("id_less_than", "-1")]), 16);
        assert_eq!(code(&[("created_after", "soonish")]), 7);
        assert_eq!(code(&[("updated_before", "2024-02-30x")]), 7);
        assert_eq!(code(&[("deleted", "maybe")]), 27);
        assert_eq!(code(&[("limit", "201")]), 23);
        assert_eq!(code(&[("limit", "many")]), 23);
        assert_eq!(code(&[("offset", "-3")]), 21);
        assert_eq!(code(&[("sort_by", "email")]), 19);
        assert_eq!(code(&[("sort_order", "up")]), 20);
        assert_eq!(Output::parse(Some("everything")).unwrap_err().code, 51);
    }

    #[test]
    fn defaults_and_the_order_of_each_key() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (c.sort, c.descending, c.limit, c.offset),
            (SortKey::Id, false, 200, 0)
        );
        assert_eq!(c.deleted, Deleted::No);
        let c = parse(&[("sort_by", "created_at")]).unwrap();
        assert!(c.descending);
        let c = parse(&[("sort_by", "name")]).unwrap();
        assert!(!c.descending);
        let c = parse(&[("sort_by", "cost"), ("sort_order", "ascending")]).unwrap();
        assert_eq!((c.sort, c.descending), (SortKey::Field("cost"), false));
        let c = parse(&[
            ("created_after", "yesterday"),
            ("updated_before", "2024-03-01T10:00:00+02:00"),
        ])
        .unwrap();
        assert_eq!(c.created_after, time::parse_datetime("2024-03-09"));
        assert_eq!(
            c.updated_before,
            time::parse_datetime("2024-03-01 08:00:00")
        );
    }

    #[test]
    fn deleted_is_read_only_where_the_object_has_it() {
        let rules = SortRules {
            deleted: false,
            ..RULES
        };
        let c = Criteria::parse(
            |name| (name == "deleted").then_some("maybe"),
            &rules,
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(c.deleted, Deleted::No);
    }
}
