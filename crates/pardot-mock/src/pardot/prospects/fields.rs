//! The prospect fields of both API generations: the v3/v4 names and their layout, the v5
//! names, and the parsing of a request's `fields` list.

use super::custom::{CustomField, CustomType};
use crate::pardot::errors::ApiError;

/// The index of `recent_interaction` in [`TEXT_FIELDS`].
pub(super) const RECENT_INTERACTION: usize = 26;

/// Text fields, in the order v3/v4 render them (with the typed fields between them, see
/// [`LAYOUT`]).
pub(super) const TEXT_FIELDS: [&str; 34] = [
    "salutation",
    "first_name",
    "last_name",
    "email",
    "password",
    "company",
    "website",
    "job_title",
    "department",
    "country",
    "address_one",
    "address_two",
    "city",
    "state",
    "territory",
    "zip",
    "phone",
    "fax",
    "source",
    "annual_revenue",
    "employees",
    "industry",
    "years_in_business",
    "comments",
    "notes",
    "grade",
    "recent_interaction",
    "crm_lead_fid",
    "crm_contact_fid",
    "crm_owner_fid",
    "crm_account_fid",
    "salesforce_fid",
    "crm_last_sync",
    "crm_url",
];

pub(super) const FLAG_FIELDS: [&str; 5] = [
    "is_do_not_email",
    "is_do_not_call",
    "opted_out",
    "is_reviewed",
    "is_starred",
];

pub(super) fn text_index(name: &str) -> Option<usize> {
    TEXT_FIELDS.iter().position(|f| *f == name)
}

pub(super) fn flag_index(name: &str) -> Option<usize> {
    FLAG_FIELDS.iter().position(|f| *f == name)
}

/// Where a rendered field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `id`.
    Id,
    /// `campaign_id`.
    CampaignId,
    /// A text field (index into the text table).
    Text(usize),
    /// `score`.
    Score,
    /// `last_activity_at`.
    LastActivityAt,
    /// A boolean flag (index into the flag table).
    Flag(usize),
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
}

/// The v3/v4 field order (the Account Engagement v4 prospect endpoints reference;
/// `prospectQuery.xml` of the Crim/pardot-java-client tests), with the nested `campaign`
/// element rendered after it.
pub(super) const LAYOUT: &[(&str, Slot)] = &[
    ("id", Slot::Id),
    ("campaign_id", Slot::CampaignId),
    ("salutation", Slot::Text(0)),
    ("first_name", Slot::Text(1)),
    ("last_name", Slot::Text(2)),
    ("email", Slot::Text(3)),
    ("password", Slot::Text(4)),
    ("company", Slot::Text(5)),
    ("website", Slot::Text(6)),
    ("job_title", Slot::Text(7)),
    ("department", Slot::Text(8)),
    ("country", Slot::Text(9)),
    ("address_one", Slot::Text(10)),
    ("address_two", Slot::Text(11)),
    ("city", Slot::Text(12)),
    ("state", Slot::Text(13)),
    ("territory", Slot::Text(14)),
    ("zip", Slot::Text(15)),
    ("phone", Slot::Text(16)),
    ("fax", Slot::Text(17)),
    ("source", Slot::Text(18)),
    ("annual_revenue", Slot::Text(19)),
    ("employees", Slot::Text(20)),
    ("industry", Slot::Text(21)),
    ("years_in_business", Slot::Text(22)),
    ("comments", Slot::Text(23)),
    ("notes", Slot::Text(24)),
    ("score", Slot::Score),
    ("grade", Slot::Text(25)),
    ("last_activity_at", Slot::LastActivityAt),
    ("recent_interaction", Slot::Text(26)),
    ("crm_lead_fid", Slot::Text(27)),
    ("crm_contact_fid", Slot::Text(28)),
    ("crm_owner_fid", Slot::Text(29)),
    ("crm_account_fid", Slot::Text(30)),
    ("salesforce_fid", Slot::Text(31)),
    ("crm_last_sync", Slot::Text(32)),
    ("crm_url", Slot::Text(33)),
    ("is_do_not_email", Slot::Flag(0)),
    ("is_do_not_call", Slot::Flag(1)),
    ("opted_out", Slot::Flag(2)),
    ("is_reviewed", Slot::Flag(3)),
    ("is_starred", Slot::Flag(4)),
    ("created_at", Slot::CreatedAt),
    ("updated_at", Slot::UpdatedAt),
];

/// The v5 name of a v3/v4 field: camelCase, with `salesforce_fid` renamed `salesforceId`.
pub fn v5_name(snake: &str) -> String {
    if snake == "salesforce_fid" {
        return "salesforceId".to_owned();
    }
    camel_case(snake).collect()
}

/// Whether `name` is [`v5_name`]`(snake)`, without building it (every v5 request compares
/// its fields with the table).
fn is_v5_name(snake: &str, name: &str) -> bool {
    if snake == "salesforce_fid" {
        return name == "salesforceId";
    }
    camel_case(snake).eq(name.chars())
}

/// The characters of `snake` in camelCase.
fn camel_case(snake: &str) -> impl Iterator<Item = char> + '_ {
    let mut upper = false;
    snake.chars().filter_map(move |c| {
        if c == '_' {
            upper = true;
            None
        } else if std::mem::take(&mut upper) {
            Some(c.to_ascii_uppercase())
        } else {
            Some(c)
        }
    })
}

/// Checks a v4 `fields` list (comma-separated v3/v4 names, and the nested `campaign` and
/// `assigned_to`): code 130 when one is unknown.
pub fn parse_v4_fields(text: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !matches!(name, "campaign" | "assigned_to") && !LAYOUT.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::code(130));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// A field a v5 request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V5Field {
    /// A top-level field.
    Plain {
        /// Its v5 (camelCase) name.
        v5: String,
        /// Where its value comes from.
        slot: Slot,
    },
    /// `isDeleted`.
    IsDeleted,
    /// `campaign.id`.
    CampaignId,
    /// `campaign.name`.
    CampaignName,
    /// `assignedUserId`: the id of the user the prospect is assigned to.
    AssignedUserId,
    /// `assignedUser.<field>`: a field (its v5 name) of the user the prospect is assigned to.
    AssignedUser(String),
    /// A custom field of the business unit, by its `fieldId`.
    Custom {
        /// The field's `fieldId`.
        v5: String,
        /// Where prospects keep its value.
        slot: usize,
        /// Whether the value is written as a JSON number.
        number: bool,
    },
}

/// Names a custom field's `fieldId` may not take: the standard v5 prospect fields.
pub(super) fn v5_name_taken(name: &str) -> bool {
    matches!(
        name,
        "isDeleted" | "assignedUserId" | "campaign" | "assignedUser"
    ) || LAYOUT.iter().any(|(snake, _)| is_v5_name(snake, name))
}

/// The user fields `assignedUser.<field>` may name.
const ASSIGNED_USER_FIELDS: [&str; 4] = ["id", "email", "firstName", "lastName"];

/// Parses a v5 `fields` list. Field names are case-sensitive camelCase; an unknown one is a
/// validation error naming it.
#[cfg(test)]
pub fn parse_v5_fields(text: &str) -> Result<Vec<V5Field>, String> {
    parse_v5_fields_with(text, &[])
}

/// Parses a v5 `fields` list of a business unit with these custom fields.
pub fn parse_v5_fields_with(text: &str, custom: &[CustomField]) -> Result<Vec<V5Field>, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        // A custom field's name never shadows a standard one (see `v5_name_taken`).
        if let Some(f) = custom.iter().find(|f| f.field_id == name) {
            let parsed = V5Field::Custom {
                v5: f.field_id.clone(),
                slot: f.slot(),
                number: f.ty == CustomType::Number,
            };
            if !out.contains(&parsed) {
                out.push(parsed);
            }
            continue;
        }
        let parsed = match name {
            "isDeleted" => V5Field::IsDeleted,
            "campaign.id" => V5Field::CampaignId,
            "campaign.name" => V5Field::CampaignName,
            "assignedUserId" => V5Field::AssignedUserId,
            _ if name
                .strip_prefix("assignedUser.")
                .is_some_and(|f| ASSIGNED_USER_FIELDS.contains(&f)) =>
            {
                V5Field::AssignedUser(name["assignedUser.".len()..].to_owned())
            }
            _ => LAYOUT
                .iter()
                .find(|(snake, _)| is_v5_name(snake, name))
                .map(|(_, slot)| V5Field::Plain {
                    v5: name.to_owned(),
                    slot: *slot,
                })
                .ok_or_else(|| format!("Invalid field: {name}"))?,
        };
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    if out.is_empty() {
        return Err("The fields parameter is required.".to_owned());
    }
    Ok(out)
}

/// What a v5 write body may do with a standard prospect field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Set it from a JSON string.
    Text,
    /// Set it from a JSON boolean.
    Bool,
    /// Set it from a JSON integer.
    Int,
    /// Nothing: Pardot keeps it (ids, times, CRM links, activity).
    ReadOnly,
}

/// Whether a v5 write may not set field `snake`: the id and times, what activity and the CRM
/// sync write (the text fields from `recent_interaction` on), and the password (never written
/// through the API).
fn v5_read_only(snake: &str) -> bool {
    matches!(
        snake,
        "id" | "created_at" | "updated_at" | "last_activity_at" | "password"
    ) || TEXT_FIELDS[RECENT_INTERACTION..].contains(&snake)
}

/// The v3/v4 name of standard prospect field `name` (its v5 name) and what a v5 write may do
/// with it; `None` when there is no such field.
pub fn v5_write_field(name: &str) -> Option<(&'static str, WriteKind)> {
    let relationship = name.split_once('.').map(|(head, _)| head);
    if matches!(name, "isDeleted" | "assignedUserId")
        || relationship.is_some_and(|head| matches!(head, "campaign" | "assignedUser"))
    {
        return Some(("", WriteKind::ReadOnly));
    }
    let (snake, slot) = LAYOUT.iter().find(|(snake, _)| is_v5_name(snake, name))?;
    let kind = match slot {
        _ if v5_read_only(snake) => WriteKind::ReadOnly,
        Slot::Text(_) => WriteKind::Text,
        Slot::Flag(_) => WriteKind::Bool,
        _ => WriteKind::Int,
    };
    Some((snake, kind))
}
