//! What each served v3/v4 object is: its fields in answer order with their types, which ones a
//! write may set, the extra sort keys and filters of its query, its actions and its codes.
//! One table per object; everything else (records, the query engine, the actions) reads them.
//!
//! Sources: the api-docs "Object Field References" and each object's v4 page (fields, sorts,
//! criteria, response examples); see the mock README's "Served / not served" table.

/// A served object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `campaign`.
    Campaign,
    /// `list`.
    List,
    /// `listMembership`.
    ListMembership,
}

impl Kind {
    /// Every served object, in [`Kind::index`] order.
    pub(crate) const ALL: [Kind; 3] = [Kind::Campaign, Kind::List, Kind::ListMembership];

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
        }
    }

    /// The object named `name` in a v3/v4 URL (`listMembership`).
    pub(crate) fn from_url_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.schema().object == name)
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
    /// Left out of the record when it has no value ("Value not present if null" in the docs).
    pub omit_null: bool,
    /// The record its id names, if any.
    pub refers: Option<Target>,
}

const fn field(name: &'static str, ty: FieldType, editable: bool) -> Field {
    Field {
        name,
        ty,
        editable,
        omit_null: false,
        refers: None,
    }
}

const fn reference(name: &'static str, target: Target) -> Field {
    Field {
        name,
        ty: FieldType::Int,
        editable: false,
        omit_null: false,
        refers: Some(target),
    }
}

/// A query parameter that keeps the records whose field equals its value.
#[derive(Debug)]
pub(crate) struct Filter {
    /// The parameter (also the field's name).
    pub param: &'static str,
    /// The code of a value of the wrong form.
    pub bad_value: u32,
}

/// A sort key beyond `id`, `created_at` and `updated_at`: a field, and whether its default
/// order is descending.
pub(crate) type ExtraSort = (&'static str, bool);

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
    /// Whether records end with `created_at` and `updated_at` (campaigns show neither).
    pub shows_times: bool,
    /// Sort keys beyond the common three.
    pub extra_sorts: &'static [ExtraSort],
    /// Equality filters of its query.
    pub filters: &'static [Filter],
    /// Whether its query takes `deleted` (and `delete` keeps the record in the recycle bin).
    pub deleted_criterion: bool,
    /// The actions served.
    pub actions: &'static [&'static str],
    /// Fields `create` needs (code 13 without them).
    pub required: &'static [&'static str],
    /// The code of an id that is malformed or names no record.
    pub not_found: u32,
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

/// Campaign: `id`, `name`, `cost`, `crm_fid` (the docs' example shows no times).
static CAMPAIGN: Schema = Schema {
    kind: Kind::Campaign,
    object: "campaign",
    element: "campaign",
    table: "campaigns",
    fields: &[
        field("name", FieldType::Text, true),
        field("cost", FieldType::Int, true),
        Field {
            name: "crm_fid",
            ty: FieldType::Text,
            editable: false,
            omit_null: true,
            refers: None,
        },
    ],
    shows_times: false,
    extra_sorts: &[("name", false), ("cost", true)],
    filters: &[Filter {
        param: "name",
        bad_value: 51,
    }],
    deleted_criterion: false,
    actions: &["query", "read", "create", "update"],
    required: &["name"],
    not_found: 38,
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
    shows_times: true,
    extra_sorts: &[("name", false)],
    filters: &[Filter {
        param: "name",
        bad_value: 51,
    }],
    deleted_criterion: false,
    actions: &["query", "read", "create", "update", "delete"],
    required: &["name"],
    not_found: 55,
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
    shows_times: true,
    extra_sorts: &[],
    filters: &[
        Filter {
            param: "list_id",
            bad_value: 55,
        },
        Filter {
            param: "prospect_id",
            bad_value: 3,
        },
    ],
    deleted_criterion: true,
    actions: &["query", "read", "create", "update", "delete"],
    required: &["list_id", "prospect_id"],
    not_found: 109,
    delete_needs_post: false,
};
