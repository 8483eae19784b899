//! What each served v3/v4 object is: its fields in answer order with their types, which ones a
//! write may set, the extra sort keys and filters of its query, its actions and its codes.
//! One table per object; everything else (records, the query engine, the actions) reads them.
//!
//! Sources: the api-docs "Object Field References" and each object's v4 page (fields, sorts,
//! criteria, response examples); see the mock README's "Served / not served" table.

use super::record::Value;

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

    /// Its table.
    pub(crate) fn schema(self) -> &'static Schema {
        match self {
            Kind::Campaign => &CAMPAIGN,
            Kind::List => &LIST,
            Kind::ListMembership => &LIST_MEMBERSHIP,
            Kind::Visitor => &VISITOR,
            Kind::Visit => &VISIT,
            Kind::VisitorPageView => &VISITOR_PAGE_VIEW,
            Kind::VisitorActivity => &VISITOR_ACTIVITY,
            Kind::User => &USER,
            Kind::Opportunity => &OPPORTUNITY,
            Kind::ProspectAccount => &PROSPECT_ACCOUNT,
            Kind::EmailClick => &EMAIL_CLICK,
        }
    }

    /// The object named `name` in a v3/v4 URL (`listMembership`); records shown only inside
    /// another object's (page views) have no URL.
    pub(crate) fn from_url_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| !k.schema().actions.is_empty() && k.schema().object == name)
    }
}

/// The type of a field: how a parameter or a configured value is read and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// An integer (a JSON number).
    Int,
    /// A string.
    Text,
    /// A boolean, written `true`/`false` (a JSON boolean).
    Bool,
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

const fn field(name: &'static str, ty: FieldType, editable: bool) -> Field {
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
const fn optional(name: &'static str, ty: FieldType) -> Field {
    Field {
        show: Show::UnlessNull,
        ..field(name, ty, false)
    }
}

const fn reference(name: &'static str, target: Target) -> Field {
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
const fn equals(name: &'static str, bad_value: u32) -> Filter {
    Filter {
        param: name,
        field: name,
        how: Match::Equals,
        bad_value,
    }
}

/// A filter of comma-separated ids on field `field`.
const fn any_of(param: &'static str, field: &'static str, bad_value: u32) -> Filter {
    Filter {
        param,
        field,
        how: Match::AnyOf,
        bad_value,
    }
}

/// A filter comparing number field `field` with its value by `how`.
const fn compare(param: &'static str, field: &'static str, how: Match, bad_value: u32) -> Filter {
    Filter {
        param,
        field,
        how,
        bad_value,
    }
}

/// A boolean filter keeping the records with a value in `field` (code 50 otherwise).
const fn present(param: &'static str, field: &'static str) -> Filter {
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

/// The parts every schema of an object without writes shares.
const READ_ONLY: Schema = Schema {
    kind: Kind::Campaign,
    object: "",
    element: "",
    table: "",
    fields: &[],
    times: Times::Both,
    nested: &[],
    embeds: &[],
    value_rules: &[],
    create_links: &[],
    has_custom: false,
    extra_sorts: &[],
    filters: &[],
    query_needs_one_of: &[],
    agrees: &[],
    complete: None,
    deleted_criterion: false,
    actions: &["query", "read"],
    required: &[],
    not_found: 109,
    read_keys: &[],
    delete_needs_post: false,
};

/// Campaign: `id`, `name`, `cost`, `crm_fid` (the docs' example shows no times).
static CAMPAIGN: Schema = Schema {
    kind: Kind::Campaign,
    object: "campaign",
    element: "campaign",
    table: "campaigns",
    fields: &[
        field("name", FieldType::Text, true),
        field("cost", FieldType::Int, true),
        optional("crm_fid", FieldType::Text),
    ],
    times: Times::None,
    nested: &[],
    embeds: &[],
    value_rules: &[],
    create_links: &[],
    has_custom: false,
    extra_sorts: &[("name", false), ("cost", true)],
    filters: &[equals("name", 51)],
    query_needs_one_of: &[],
    agrees: &[],
    complete: None,
    deleted_criterion: false,
    actions: &["query", "read", "create", "update"],
    required: &["name"],
    not_found: 38,
    read_keys: &[],
    delete_needs_post: false,
};

/// List: `id`, `name`, `is_public`, `is_dynamic`, `title`, `description`, `is_crm_visible`,
/// `created_at`, `updated_at` (the docs' example, in its order).
static LIST: Schema = Schema {
    kind: Kind::List,
    object: "list",
    element: "list",
    table: "lists",
    fields: &[
        field("name", FieldType::Text, true),
        field("is_public", FieldType::Bool, true),
        field("is_dynamic", FieldType::Bool, false),
        field("title", FieldType::Text, true),
        field("description", FieldType::Text, true),
        field("is_crm_visible", FieldType::Bool, true),
    ],
    times: Times::Both,
    nested: &[],
    embeds: &[],
    value_rules: &[],
    create_links: &[],
    has_custom: false,
    extra_sorts: &[("name", false)],
    filters: &[equals("name", 51)],
    query_needs_one_of: &[],
    agrees: &[],
    complete: None,
    deleted_criterion: false,
    actions: &["query", "read", "create", "update", "delete"],
    required: &["name"],
    not_found: 55,
    read_keys: &[],
    delete_needs_post: true,
};

/// List membership: `id`, `list_id`, `prospect_id`, `opted_out`, `created_at`, `updated_at`.
static LIST_MEMBERSHIP: Schema = Schema {
    kind: Kind::ListMembership,
    object: "listMembership",
    element: "list_membership",
    table: "list_memberships",
    fields: &[
        reference("list_id", Target::Object(Kind::List)),
        reference("prospect_id", Target::Prospect),
        field("opted_out", FieldType::Bool, true),
    ],
    times: Times::Both,
    nested: &[],
    embeds: &[],
    value_rules: &[],
    create_links: &[],
    has_custom: false,
    extra_sorts: &[],
    filters: &[equals("list_id", 55), equals("prospect_id", 3)],
    query_needs_one_of: &[],
    agrees: &[],
    complete: None,
    deleted_criterion: true,
    actions: &["query", "read", "create", "update", "delete"],
    required: &["list_id", "prospect_id"],
    not_found: 109,
    read_keys: &[],
    delete_needs_post: false,
};

/// Visitor: `id`, `page_view_count`, `ip_address`, `hostname`, the Google Analytics
/// parameters (left out when empty), `prospect_id`, `created_at`, `updated_at`; `full` output
/// adds its activities (`visitor_activities`, as the v3/v4 "Using Visitors" answers show).
static VISITOR: Schema = Schema {
    kind: Kind::Visitor,
    object: "visitor",
    element: "visitor",
    table: "visitors",
    fields: &[
        field("page_view_count", FieldType::Int, false),
        field("ip_address", FieldType::Text, false),
        field("hostname", FieldType::Text, false),
        optional("campaign_parameter", FieldType::Text),
        optional("medium_parameter", FieldType::Text),
        optional("source_parameter", FieldType::Text),
        optional("content_parameter", FieldType::Text),
        optional("term_parameter", FieldType::Text),
        reference("prospect_id", Target::Prospect),
    ],
    nested: &[Nested {
        element: "visitor_activities",
        kind: Kind::VisitorActivity,
        link: "visitor_id",
    }],
    filters: &[any_of("prospect_ids", "prospect_id", 3)],
    not_found: 24,
    ..READ_ONLY
};

/// Visit: `id`, `visitor_id`, `prospect_id`, `visitor_page_view_count`,
/// `first_visitor_page_view_at`, `last_visitor_page_view_at`, `duration_in_seconds`, the
/// Google Analytics parameters, `created_at`, `updated_at`; `full` output adds its page views.
/// A query needs `ids`, `visitor_ids` or `prospect_ids` ("One of the following parameters
/// must be used").
static VISIT: Schema = Schema {
    kind: Kind::Visit,
    object: "visit",
    element: "visit",
    table: "visits",
    fields: &[
        reference("visitor_id", Target::Object(Kind::Visitor)),
        reference("prospect_id", Target::Prospect),
        field("visitor_page_view_count", FieldType::Int, false),
        field("first_visitor_page_view_at", FieldType::Text, false),
        field("last_visitor_page_view_at", FieldType::Text, false),
        field("duration_in_seconds", FieldType::Int, false),
        field("campaign_parameter", FieldType::Text, false),
        field("medium_parameter", FieldType::Text, false),
        field("source_parameter", FieldType::Text, false),
        field("content_parameter", FieldType::Text, false),
        field("term_parameter", FieldType::Text, false),
    ],
    nested: &[Nested {
        element: "visitor_page_views",
        kind: Kind::VisitorPageView,
        link: "visit_id",
    }],
    filters: &[
        any_of("ids", "id", 48),
        any_of("visitor_ids", "visitor_id", 24),
        any_of("prospect_ids", "prospect_id", 3),
    ],
    query_needs_one_of: &["ids", "visitor_ids", "prospect_ids"],
    agrees: &[("visitor_id", "prospect_id")],
    not_found: 48,
    ..READ_ONLY
};

/// A visit's page view: `id`, `url`, `title`, `created_at` (the visit answers' example);
/// its `visit_id` is not shown.
static VISITOR_PAGE_VIEW: Schema = Schema {
    kind: Kind::VisitorPageView,
    object: "visitorPageView",
    element: "visitor_page_view",
    table: "visitor_page_views",
    fields: &[
        Field {
            show: Show::Never,
            ..reference("visit_id", Target::Object(Kind::Visit))
        },
        field("url", FieldType::Text, false),
        field("title", FieldType::Text, false),
    ],
    times: Times::Created,
    actions: &[],
    required: &["visit_id", "url"],
    ..READ_ONLY
};

/// Visitor activity: `id`, `prospect_id`, `visitor_id` (each left out when empty), `type`,
/// `type_name` (the kind of thing acted on, from the id the activity holds), `details`, the id
/// of the thing (only the one it has), `campaign` (`<id>` and `<name>`), `created_at`,
/// `updated_at`.
static VISITOR_ACTIVITY: Schema = Schema {
    kind: Kind::VisitorActivity,
    object: "visitorActivity",
    element: "visitor_activity",
    table: "visitor_activities",
    fields: &[
        Field {
            show: Show::UnlessNull,
            ..reference("prospect_id", Target::Prospect)
        },
        Field {
            show: Show::UnlessNull,
            ..reference("visitor_id", Target::Object(Kind::Visitor))
        },
        field("type", FieldType::Int, false),
        field("type_name", FieldType::Text, false),
        field("details", FieldType::Text, false),
        optional("email_id", FieldType::Int),
        optional("list_email_id", FieldType::Int),
        optional("form_id", FieldType::Int),
        optional("form_handler_id", FieldType::Int),
        optional("landing_page_id", FieldType::Int),
        optional("file_id", FieldType::Int),
        optional("custom_redirect_id", FieldType::Int),
        Field {
            show: Show::UnlessNull,
            ..reference("visit_id", Target::Object(Kind::Visit))
        },
        Field {
            show: Show::Embedded("campaign", &["name"]),
            ..reference("campaign_id", Target::Object(Kind::Campaign))
        },
    ],
    extra_sorts: &[("prospect_id", false), ("visitor_id", false)],
    filters: &[
        present("prospect_only", "prospect_id"),
        any_of("type", "type", 51),
        present("email_only", "email_id"),
        present("form_only", "form_id"),
        present("form_handler_only", "form_handler_id"),
        present("landing_page_only", "landing_page_id"),
        present("file_only", "file_id"),
        present("custom_url_only", "custom_redirect_id"),
        any_of("campaign_id", "campaign_id", 38),
        any_of("email_id", "email_id", 51),
        any_of("form_id", "form_id", 51),
        any_of("form_handler_id", "form_handler_id", 51),
        any_of("landing_page_id", "landing_page_id", 51),
        any_of("file_id", "file_id", 51),
        any_of("custom_url_id", "custom_redirect_id", 51),
        any_of("prospect_id", "prospect_id", 3),
        any_of("visitor_id", "visitor_id", 24),
    ],
    agrees: &[
        ("visit_id", "visitor_id"),
        ("visit_id", "prospect_id"),
        ("visitor_id", "prospect_id"),
    ],
    required: &["type", "details"],
    complete: Some(name_activity_type),
    ..READ_ONLY
};

/// The visitor activity types of the "Object Field References" (`type` values).
const ACTIVITY_TYPES: std::ops::RangeInclusive<i64> = 1..=38;

/// What a visitor activity acted on, by the id it holds: its `type_name`.
const ACTIVITY_TARGETS: &[(&str, &str)] = &[
    ("email_id", "Email"),
    ("form_id", "Form"),
    ("form_handler_id", "FormHandler"),
    ("landing_page_id", "Landing Page"),
    ("file_id", "File"),
    ("custom_redirect_id", "Custom Redirect"),
    ("visit_id", "Visit"),
];

/// Fills a visitor activity's `type_name` from the one id it holds, checking its `type`.
fn name_activity_type(schema: &Schema, values: &mut [Value]) -> Result<(), String> {
    let value = |name: &str| schema.field_index(name).map(|i| &values[i]);
    match value("type") {
        Some(Value::Int(t)) if ACTIVITY_TYPES.contains(t) => {}
        _ => return Err(format!("`type` is one of {ACTIVITY_TYPES:?}")),
    }
    let held: Vec<&str> = ACTIVITY_TARGETS
        .iter()
        .filter(|(field, _)| value(field).is_some_and(|v| *v != Value::Null))
        .map(|(_, name)| *name)
        .collect();
    let [name] = held[..] else {
        return Err(
            "an activity holds exactly one of email_id, form_id, form_handler_id, \
             landing_page_id, file_id, custom_redirect_id, visit_id"
                .to_owned(),
        );
    };
    if let Some(i) = schema.field_index("type_name") {
        values[i] = Value::Text(name.into());
    }
    Ok(())
}

/// User: `id`, `email`, `first_name`, `last_name`, `job_title`, `role`, `account`,
/// `timezone`, `created_at`, `updated_at` (the "Object Field References"); read by id or by
/// email.
static USER: Schema = Schema {
    kind: Kind::User,
    object: "user",
    element: "user",
    table: "pardot_users",
    fields: &[
        field("email", FieldType::Text, false),
        field("first_name", FieldType::Text, false),
        field("last_name", FieldType::Text, false),
        field("job_title", FieldType::Text, false),
        field("role", FieldType::Text, false),
        field("account", FieldType::Int, false),
        field("timezone", FieldType::Text, false),
    ],
    required: &["email", "role", "account"],
    not_found: 10,
    read_keys: &[("email", 11)],
    ..READ_ONLY
};

/// Opportunity: `id`, `campaign_id`, `name`, `value`, `probability`, `type`, `stage`,
/// `status`, `closed_at`, `created_at`, `updated_at`; `full` output adds `campaign` (`id`,
/// `name`) and `prospects` (the prospect's `id`, `first_name`, `last_name`, `email`).
static OPPORTUNITY: Schema = Schema {
    kind: Kind::Opportunity,
    object: "opportunity",
    element: "opportunity",
    table: "opportunities",
    fields: &[
        Field {
            editable: true,
            ..reference("campaign_id", Target::Object(Kind::Campaign))
        },
        field("name", FieldType::Text, true),
        field("value", FieldType::Int, true),
        field("probability", FieldType::Int, true),
        field("type", FieldType::Text, true),
        field("stage", FieldType::Text, true),
        field("status", FieldType::Text, true),
        field("closed_at", FieldType::Text, true),
        Field {
            show: Show::Never,
            ..reference("prospect_id", Target::Prospect)
        },
    ],
    embeds: &[
        Embed {
            link: "campaign_id",
            element: "campaign",
            item: None,
            shown: &["name"],
        },
        Embed {
            link: "prospect_id",
            element: "prospects",
            item: Some("prospect"),
            shown: &["first_name", "last_name", "email"],
        },
    ],
    value_rules: &[
        ValueRule {
            field: "probability",
            code: 40,
            allows: |v| matches!(v, Value::Int(0..=100)),
        },
        ValueRule {
            field: "value",
            code: 42,
            allows: |v| matches!(v, Value::Int(0..)),
        },
        ValueRule {
            field: "status",
            code: 51,
            allows: |v| matches!(v, Value::Text(t) if matches!(&**t, "won" | "lost" | "open")),
        },
    ],
    create_links: &["prospect_id"],
    extra_sorts: &[("probability", true), ("value", true)],
    filters: &[
        compare("probability_greater_than", "probability", Match::Above, 40),
        compare("probability_less_than", "probability", Match::Below, 40),
        compare("value_greater_than", "value", Match::Above, 42),
        compare("value_less_than", "value", Match::Below, 42),
        any_of("prospect_id", "prospect_id", 3),
        Filter {
            param: "prospect_email",
            field: "prospect_id",
            how: Match::ProspectEmail,
            bad_value: 4,
        },
    ],
    actions: &["query", "read", "create", "update", "delete", "undelete"],
    required: &["campaign_id", "name", "value", "probability", "prospect_id"],
    not_found: 35,
    ..READ_ONLY
};

/// Prospect account: `id`, `name` and the standard account fields, `created_at`,
/// `updated_at`, then the business unit's custom fields; `do/describe` lists them. Answers name the record
/// `prospectAccount`, as the docs' examples do.
static PROSPECT_ACCOUNT: Schema = Schema {
    kind: Kind::ProspectAccount,
    object: "prospectAccount",
    element: "prospectAccount",
    table: "prospect_accounts",
    fields: &[
        field("name", FieldType::Text, true),
        field("number", FieldType::Text, true),
        field("description", FieldType::Text, true),
        field("phone", FieldType::Text, true),
        field("fax", FieldType::Text, true),
        field("website", FieldType::Text, true),
        field("rating", FieldType::Text, true),
        field("site", FieldType::Text, true),
        field("type", FieldType::Text, true),
        field("annual_revenue", FieldType::Text, true),
        field("industry", FieldType::Text, true),
        field("employees", FieldType::Int, true),
        field("ownership", FieldType::Text, true),
        field("ticker_symbol", FieldType::Text, true),
        field("billing_address_one", FieldType::Text, true),
        field("billing_address_two", FieldType::Text, true),
        field("billing_city", FieldType::Text, true),
        field("billing_state", FieldType::Text, true),
        field("billing_zip", FieldType::Text, true),
        field("billing_country", FieldType::Text, true),
    ],
    has_custom: true,
    extra_sorts: &[("name", false)],
    filters: &[equals("name", 51)],
    actions: &["query", "read", "create", "update", "describe"],
    required: &["name"],
    not_found: 61,
    ..READ_ONLY
};

/// Email click: `id`, `prospect_id`, `url`, then the ids of where the email came from (each
/// left out when empty: `list_email_id`, `drip_program_action_id`, `email_template_id`,
/// `tracker_redirect_id`), `created_at` ("Batch Email Clicks"). Answers name the record
/// `emailClick`.
static EMAIL_CLICK: Schema = Schema {
    kind: Kind::EmailClick,
    object: "emailClick",
    element: "emailClick",
    table: "email_clicks",
    fields: &[
        reference("prospect_id", Target::Prospect),
        field("url", FieldType::Text, false),
        optional("list_email_id", FieldType::Int),
        optional("drip_program_action_id", FieldType::Int),
        optional("email_template_id", FieldType::Int),
        optional("tracker_redirect_id", FieldType::Int),
    ],
    times: Times::Created,
    filters: &[
        equals("list_email_id", 51),
        equals("drip_program_action_id", 51),
        equals("email_template_id", 51),
        equals("tracker_redirect_id", 51),
    ],
    actions: &["query"],
    required: &["prospect_id", "url"],
    ..READ_ONLY
};
