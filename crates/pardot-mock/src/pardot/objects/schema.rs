//! What each served v3/v4 object is: its fields in answer order with their types, which ones a
//! write may set, the extra sort keys and filters of its query, its actions and its codes.
//! The types here; one table per object in [`super::tables`]; everything else (records, the
//! query engine, the actions) reads them.

use super::value::{FieldType, Value};

/// A served object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `campaign`.
    Campaign,
    /// `list`.
    List,
    /// `listMembership`.
    ListMembership,
    /// `visitor`.
    Visitor,
    /// `visit`.
    Visit,
    /// A visit's page view: not an object of the API, shown inside its visit.
    VisitorPageView,
    /// `visitorActivity`.
    VisitorActivity,
    /// `user`.
    User,
    /// `opportunity`.
    Opportunity,
    /// `prospectAccount`.
    ProspectAccount,
    /// `emailClick`.
    EmailClick,
}

impl Kind {
    /// Every served object, in [`Kind::index`] order.
    pub(crate) const ALL: [Kind; 11] = [
        Kind::Campaign,
        Kind::List,
        Kind::ListMembership,
        Kind::Visitor,
        Kind::Visit,
        Kind::VisitorPageView,
        Kind::VisitorActivity,
        Kind::User,
        Kind::Opportunity,
        Kind::ProspectAccount,
        Kind::EmailClick,
    ];

    /// Its position in [`Kind::ALL`] (stores and seeds are arrays in that order).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What a field's id points at: checked in the configuration and on writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A prospect of the same business unit.
    Prospect,
    /// A record of another served object of the same business unit.
    Object(Kind),
}

/// One field of a record (after `id`, which every record has first).
#[derive(Debug)]
pub(crate) struct Field {
    /// The v3/v4 name (element, JSON key and parameter).
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether `create` and `update` set it from a parameter.
    pub editable: bool,
    /// How the record shows it.
    pub show: Show,
    /// The record its id names, if any.
    pub refers: Option<Target>,
}

pub(super) const fn field(name: &'static str, ty: FieldType, editable: bool) -> Field {
    Field {
        name,
        ty,
        editable,
        show: Show::Always,
        refers: None,
    }
}

/// A field left out of the record when it has no value ("Value not present if null", or
/// "Appears only if this visitor activity has …" in the docs).
pub(super) const fn optional(name: &'static str, ty: FieldType) -> Field {
    Field {
        show: Show::UnlessNull,
        ..field(name, ty, false)
    }
}

pub(super) const fn reference(name: &'static str, target: Target) -> Field {
    Field {
        name,
        ty: FieldType::Int,
        editable: false,
        show: Show::Always,
        refers: Some(target),
    }
}

/// How a record shows one of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    /// Always, `<name/>` (JSON `null`) when it has no value.
    Always,
    /// Only when it has a value.
    UnlessNull,
    /// Never: a link the docs do not show (a page view's visit), still a filter and checked.
    Never,
    /// As an element named so holding the `id` and these fields of the record the field's
    /// id names (a visitor activity's `<campaign><id/><name/></campaign>`); left out when it
    /// has no value.
    Embedded(&'static str, &'static [&'static str]),
}

/// A list of other records shown inside each record of `full` output (a visit's page views):
/// `<{element}><{item}>…</{item}>…</{element}>`, the records of `kind` whose field `link`
/// holds the record's id, in id order.
#[derive(Debug)]
pub(crate) struct Nested {
    /// The wrapping element (`visitor_page_views`).
    pub element: &'static str,
    /// The records shown.
    pub kind: Kind,
    /// Their field naming the record (`visit_id`).
    pub link: &'static str,
}

/// A record shown inside each record of `full` output: the record field `link` names, as
/// `<{element}>` with its `id` and the `shown` fields, or with `item` set as
/// `<{element}><{item}>…</{item}></{element}>` (an opportunity's `prospects`).
#[derive(Debug)]
pub(crate) struct Embed {
    /// The field holding the id.
    pub link: &'static str,
    /// The element.
    pub element: &'static str,
    /// The inner element of a one-item list.
    pub item: Option<&'static str>,
    /// The fields shown after `id`.
    pub shown: &'static [&'static str],
}

/// What a field's value must be on a write, with the code of a value that is not.
#[derive(Debug)]
pub(crate) struct ValueRule {
    /// The field.
    pub field: &'static str,
    /// The code of a malformed or refused value.
    pub code: u32,
    /// Whether a value (never `Null`) is allowed.
    pub allows: fn(&Value) -> bool,
}

/// Which times a record ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    /// None (campaigns).
    None,
    /// `created_at` only (page views).
    Created,
    /// `created_at` and `updated_at`.
    Both,
}

/// How a query filter compares its parameter with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// The field equals the value.
    Equals,
    /// The field equals one of the comma-separated ids (`prospect_ids=1,2`).
    AnyOf,
    /// A boolean: `true` keeps the records where the field has a value (`prospect_only`),
    /// `false` keeps every record.
    Present,
    /// The field is a number above the value (`probability_greater_than`).
    Above,
    /// The field is a number below the value.
    Below,
    /// The field names a prospect with this email address (code 4 when none has it).
    ProspectEmail,
}

/// A query parameter that keeps the records whose field matches its value.
#[derive(Debug)]
pub(crate) struct Filter {
    /// The parameter.
    pub param: &'static str,
    /// The field it reads.
    pub field: &'static str,
    /// How.
    pub how: Match,
    /// The code of a value of the wrong form.
    pub bad_value: u32,
}

/// A filter whose parameter is the field's name.
pub(super) const fn equals(name: &'static str, bad_value: u32) -> Filter {
    Filter {
        param: name,
        field: name,
        how: Match::Equals,
        bad_value,
    }
}

/// A filter of comma-separated ids on field `field`.
pub(super) const fn any_of(param: &'static str, field: &'static str, bad_value: u32) -> Filter {
    Filter {
        param,
        field,
        how: Match::AnyOf,
        bad_value,
    }
}

/// A filter comparing number field `field` with its value by `how`.
pub(super) const fn compare(
    param: &'static str,
    field: &'static str,
    how: Match,
    bad_value: u32,
) -> Filter {
    Filter {
        param,
        field,
        how,
        bad_value,
    }
}

/// A boolean filter keeping the records with a value in `field` (code 50 otherwise).
pub(super) const fn present(param: &'static str, field: &'static str) -> Filter {
    Filter {
        param,
        field,
        how: Match::Present,
        bad_value: 50,
    }
}

/// A sort key beyond `id`, `created_at` and `updated_at`: a field, and whether its default
/// order is descending.
pub(crate) type ExtraSort = (&'static str, bool);

/// Completes a configured record's values; the error names what is wrong.
pub(crate) type Completion = fn(&Schema, &mut [Value]) -> Result<(), String>;

/// Everything the object layer knows of one object.
#[derive(Debug)]
pub(crate) struct Schema {
    /// Which object.
    pub kind: Kind,
    /// The name in the URL (`listMembership`).
    pub object: &'static str,
    /// The element of one record (`list_membership`).
    pub element: &'static str,
    /// The configuration table (`list_memberships`).
    pub table: &'static str,
    /// The fields after `id`, in answer order.
    pub fields: &'static [Field],
    /// The times records end with.
    pub times: Times,
    /// Lists of other records shown inside each record of `full` output.
    pub nested: &'static [Nested],
    /// Records shown inside each record of `full` output.
    pub embeds: &'static [Embed],
    /// Rules for written values beyond their type.
    pub value_rules: &'static [ValueRule],
    /// Link fields a `create` sets (from the path or parameters) and nothing else changes,
    /// beside the list membership's pair: an opportunity's `prospect_id` (or
    /// `prospect_email`).
    pub create_links: &'static [&'static str],
    /// Whether records carry the business unit's custom fields after their own.
    pub has_custom: bool,
    /// Sort keys beyond the common three.
    pub extra_sorts: &'static [ExtraSort],
    /// Filters of its query.
    pub filters: &'static [Filter],
    /// Filters of which a query needs at least one (code 13 otherwise): the visits' id lists.
    pub query_needs_one_of: &'static [&'static str],
    /// Fields whose value must agree with the record another field names, as
    /// `(link, field)`: a visit's `prospect_id` is its visitor's. Checked in the
    /// configuration where both records hold a value.
    pub agrees: &'static [(&'static str, &'static str)],
    /// Completes a configured record (fills derived fields, checks values): a visitor
    /// activity's `type_name` from its `type`.
    pub complete: Option<Completion>,
    /// Whether its query takes `deleted` (and `delete` keeps the record in the recycle bin).
    pub deleted_criterion: bool,
    /// The actions served.
    pub actions: &'static [&'static str],
    /// Fields `create` needs (code 13 without them).
    pub required: &'static [&'static str],
    /// The code of an id that is malformed or names no record.
    pub not_found: u32,
    /// Other fields a `read` may name the record by (`/do/read/email/{email}`, compared
    /// without case), each with the code of a value that names no record.
    pub read_keys: &'static [(&'static str, u32)],
    /// Whether `delete` refuses GET (code 60): "Lists may only be deleted using HTTP methods
    /// POST or DELETE".
    pub delete_needs_post: bool,
}

impl Schema {
    /// The position of field `name` in [`Schema::fields`].
    pub(crate) fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}
