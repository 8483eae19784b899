//! The configuration of the v3/v4 objects beside prospects: their records (`[[campaigns]]`,
//! `[[lists]]`, …), their custom fields and the `[generate]` table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A record of a Pardot v3/v4 object other than a prospect (`[[campaigns]]`, `[[lists]]`,
/// `[[list_memberships]]`): its business unit, id, times and deleted flag, and its fields by
/// their v3/v4 names (`name = "Spring"`, `cost = 100`, `is_public = true`). The fields are
/// checked against the object's field table when the mock starts: an unknown name, a value of
/// the wrong type or an id that names no record is an error naming the entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PardotObjectConfig {
    /// The business unit id it belongs to.
    pub business_unit: String,
    /// Numeric id (unique among the object's records in the business unit).
    pub id: u64,
    /// Created, `YYYY-MM-DD HH:MM:SS` (UTC); default the start (and reset) time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated, `YYYY-MM-DD HH:MM:SS` (UTC); default `created_at`.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// In the recycle bin (seen only by a query with `deleted=true` where the object has it).
    #[serde(default)]
    pub deleted: bool,
    /// Every other field, by its v3/v4 name.
    #[serde(flatten)]
    pub fields: BTreeMap<String, ObjectFieldValue>,
}

impl PardotObjectConfig {
    /// A record of `business_unit` with an id, no fields, stamped with the start time.
    pub fn new(business_unit: impl Into<String>, id: u64) -> Self {
        Self {
            business_unit: business_unit.into(),
            id,
            created_at: None,
            updated_at: None,
            deleted: false,
            fields: BTreeMap::new(),
        }
    }

    /// Sets a field by its v3/v4 name (`name`, `cost`, `prospect_id`, `is_public`).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<ObjectFieldValue>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Sets `created_at` (and so, unless set too, `updated_at`), `YYYY-MM-DD HH:MM:SS` UTC.
    pub fn created_at(mut self, at: impl Into<String>) -> Self {
        self.created_at = Some(at.into());
        self
    }

    /// Sets `updated_at`, `YYYY-MM-DD HH:MM:SS` UTC.
    pub fn updated_at(mut self, at: impl Into<String>) -> Self {
        self.updated_at = Some(at.into());
        self
    }

    /// Puts the record in the recycle bin.
    pub fn deleted(mut self) -> Self {
        self.deleted = true;
        self
    }
}

/// `[generate]`: records made from `seed` in one business unit, after the configured ones
/// (prospect ids from 50,000,000, visitors from 60,000,000, activities from 70,000,000,
/// visits from 80,000,000, page views from 90,000,000, list memberships from 40,000,000,
/// opportunities from 45,000,000, email clicks from 100,000,000). The same table gives the
/// same records, byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// The seed.
    pub seed: u64,
    /// The business unit id the records belong to.
    pub business_unit: String,
    /// How many prospects.
    #[serde(default)]
    pub prospects: u64,
    /// How many visitors (every other one a prospect's).
    #[serde(default)]
    pub visitors: u64,
    /// How many visitor activities (emails of prospects, form successes of visitors).
    #[serde(default)]
    pub visitor_activities: u64,
    /// How many visits (of generated visitors).
    #[serde(default)]
    pub visits: u64,
    /// How many visitor page views (of generated visits).
    #[serde(default)]
    pub visitor_page_views: u64,
    /// How many list memberships (generated prospects on the unit's configured lists; at
    /// most one per list and prospect, so at most prospects × lists).
    #[serde(default)]
    pub list_memberships: u64,
    /// How many opportunities (of generated prospects, on the unit's configured campaigns;
    /// none without a campaign).
    #[serde(default)]
    pub opportunities: u64,
    /// How many email clicks (of generated prospects).
    #[serde(default)]
    pub email_clicks: u64,
}

impl GenerateConfig {
    /// A generator for `business_unit` from `seed` making nothing yet: set the counts.
    pub fn new(seed: u64, business_unit: impl Into<String>) -> Self {
        Self {
            seed,
            business_unit: business_unit.into(),
            ..Self::default()
        }
    }
}

/// A custom field of a Pardot object in one business unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldConfig {
    /// The business unit id it belongs to.
    pub business_unit: String,
    /// The API name (element, JSON key and parameter), e.g. `region`.
    pub name: String,
    /// The label `do/describe` shows; default the name.
    #[serde(default)]
    pub label: Option<String>,
    /// `text` (default), `textarea` or `number`.
    #[serde(default = "default_custom_field_type")]
    pub r#type: String,
    /// Whether a create needs it.
    #[serde(default)]
    pub required: bool,
}

impl CustomFieldConfig {
    /// A `text` field of `business_unit` named `name` (its label too), not required.
    pub fn new(business_unit: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            business_unit: business_unit.into(),
            name: name.into(),
            label: None,
            r#type: default_custom_field_type(),
            required: false,
        }
    }
}

fn default_custom_field_type() -> String {
    "text".to_owned()
}

/// A field value of a [`PardotObjectConfig`] as TOML writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectFieldValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string (also accepted for numbers, booleans and times).
    Text(String),
}

impl From<bool> for ObjectFieldValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i32> for ObjectFieldValue {
    /// So an integer literal (`.with("cost", 100)`) needs no suffix.
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<i64> for ObjectFieldValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<u64> for ObjectFieldValue {
    /// An id: ids above `i64::MAX` (no Pardot id is) are kept as text, which the field's
    /// type then refuses at start.
    fn from(value: u64) -> Self {
        i64::try_from(value).map_or_else(|_| Self::Text(value.to_string()), Self::Int)
    }
}

impl From<&str> for ObjectFieldValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for ObjectFieldValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl ObjectFieldValue {
    /// The value as the text a v3/v4 parameter would carry.
    pub fn to_param(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Int(n) => n.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}
