//! The per-object field tables: each served object's fields, sorts, filters, actions and
//! codes, as the [`Schema`] types describe them.
//!
//! Sources: the api-docs "Object Field References" and each object's v4 page (fields, sorts,
//! criteria, response examples); see the mock README's "Served / not served" table.

use super::schema::{
    Embed, Field, Filter, Kind, Match, Nested, Schema, Show, Target, Times, ValueRule, any_of,
    compare, equals, field, optional, present, reference,
};
use super::value::{FieldType, Value};

impl Kind {
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

/// What a schema is unless it says otherwise: an object without writes, with times, read by
/// id, not found as code 109.
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
    extra_sorts: &[("name", false), ("cost", true)],
    filters: &[equals("name", 51)],
    actions: &["query", "read", "create", "update"],
    required: &["name"],
    not_found: 38,
    ..READ_ONLY
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
    extra_sorts: &[("name", false)],
    filters: &[equals("name", 51)],
    actions: &["query", "read", "create", "update", "delete"],
    required: &["name"],
    not_found: 55,
    delete_needs_post: true,
    ..READ_ONLY
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
    filters: &[equals("list_id", 55), equals("prospect_id", 3)],
    deleted_criterion: true,
    actions: &["query", "read", "create", "update", "delete"],
    required: &["list_id", "prospect_id"],
    ..READ_ONLY
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
