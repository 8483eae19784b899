//! The prospect custom fields of a business unit (v5 `custom-fields`): their definitions, and
//! where each one's value lives in a prospect (a text slot after the standard fields, so a
//! prospect does not grow).

use std::time::SystemTime;

use super::texts::SLOTS;
use crate::pardot::errors::ApiError;

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomType {
    /// Text (v5 `Text`).
    Text,
    /// A number (v5 `Number`): a JSON number in v5, its digits in v3/v4.
    Number,
}

impl CustomType {
    /// Parses a v5 `type` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Text" => Some(Self::Text),
            "Number" => Some(Self::Number),
            _ => None,
        }
    }

    /// Its v5 name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Number => "Number",
        }
    }
}

/// One prospect custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    /// Its id.
    pub id: u64,
    /// The label (v5 `name`).
    pub name: String,
    /// The API name (v5 `fieldId`): the field's name on prospects in every API version.
    pub field_id: String,
    /// What it holds.
    pub ty: CustomType,
    /// Whether a prospect must have a value (v5 `isRequired`).
    pub required: bool,
    /// Where prospects keep its value.
    pub(super) slot: usize,
    /// Created.
    pub created_at: SystemTime,
    /// Last updated.
    pub updated_at: SystemTime,
}

impl CustomField {
    /// Where prospects keep its value (a text slot).
    pub fn slot(&self) -> usize {
        self.slot
    }
}

/// What a create of a custom field gives.
#[derive(Debug, Clone, Copy)]
pub struct NewField<'a> {
    /// The label (v5 `name`).
    pub name: &'a str,
    /// The API name (v5 `fieldId`).
    pub field_id: &'a str,
    /// What it holds.
    pub ty: CustomType,
    /// Whether a prospect must have a value.
    pub required: bool,
}

/// The custom fields of one business unit, in id order.
#[derive(Debug, Clone, Default)]
pub(super) struct CustomFields {
    pub(super) fields: Vec<CustomField>,
    next_id: u64,
    /// Slots are never reused: a deleted field's values stay unread in the prospects.
    next_slot: usize,
}

/// Custom field ids start here, clear of the configured records' ids.
const FIRST_ID: u64 = 6001;

impl CustomFields {
    pub(super) fn by_field_id(&self, field_id: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.field_id == field_id)
    }

    /// Adds a field whose value lives in the first free text slot from `first_slot` on: code
    /// 154 when the API name is a `standard` field's or another custom field's, 67 when every
    /// slot was used.
    pub(super) fn add(
        &mut self,
        new: NewField<'_>,
        standard: impl Fn(&str) -> bool,
        first_slot: usize,
        now: SystemTime,
    ) -> Result<CustomField, ApiError> {
        let NewField {
            name,
            field_id,
            ty,
            required,
        } = new;
        if standard(field_id) || self.by_field_id(field_id).is_some() {
            return Err(ApiError::with_message(
                154,
                format!("Invalid property in request: fieldId `{field_id}` is already a field"),
            ));
        }
        let slot = first_slot + self.next_slot;
        if slot >= SLOTS {
            return Err(ApiError::code(67));
        }
        let field = CustomField {
            id: FIRST_ID + self.next_id,
            name: name.to_owned(),
            field_id: field_id.to_owned(),
            ty,
            required,
            slot,
            created_at: now,
            updated_at: now,
        };
        self.next_id += 1;
        self.next_slot += 1;
        self.fields.push(field.clone());
        Ok(field)
    }

    pub(super) fn get_mut(&mut self, id: u64) -> Option<&mut CustomField> {
        self.fields.iter_mut().find(|f| f.id == id)
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<CustomField> {
        let i = self.fields.iter().position(|f| f.id == id)?;
        Some(self.fields.remove(i))
    }
}
