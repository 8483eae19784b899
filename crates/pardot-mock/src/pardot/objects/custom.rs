//! Custom fields of an object (prospect accounts), configured per business unit: read from the
//! configuration, stored after the object's own fields in each record, shown after them, and
//! listed by `do/describe`.

use std::collections::HashMap;
use std::sync::Arc;

use pardot_auth_core::BusinessUnitId;

use super::unit_index::unit_index;
use super::value::FieldType;
use crate::config::{ConfigError, CustomFieldConfig, invalid};

/// One custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomField {
    /// The API name (element, JSON key and parameter).
    pub name: Box<str>,
    /// The label `do/describe` shows.
    pub label: Box<str>,
    /// The type `do/describe` shows (`text`, `textarea`, `number`).
    pub type_name: &'static str,
    /// How values are read and written.
    pub ty: FieldType,
    /// Whether a create needs it.
    pub required: bool,
}

/// The custom fields of one object in one business unit, in configuration order.
pub(crate) type CustomFields = Arc<[CustomField]>;

/// Reads `table` (named `what` in errors) into the custom fields of each business unit
/// (indexes below `unit_count`). A name that an object field (`taken`) or an earlier custom
/// field of the unit already has, an unknown type or business unit is an error naming the entry.
pub(crate) fn convert(
    table: &[CustomFieldConfig],
    what: &str,
    taken: impl Fn(&str) -> bool,
    by_id: &HashMap<BusinessUnitId, usize>,
    unit_count: usize,
) -> Result<Vec<CustomFields>, ConfigError> {
    let mut units: Vec<Vec<CustomField>> = vec![Vec::new(); unit_count];
    for (i, entry) in table.iter().enumerate() {
        let here = format!("{what}[{i}]");
        let unit = unit_index(&entry.business_unit, &here, by_id)?;
        let (type_name, ty) = match entry.r#type.as_str() {
            "text" => ("text", FieldType::Text),
            "textarea" => ("textarea", FieldType::Text),
            "number" => ("number", FieldType::Int),
            other => {
                return Err(invalid(format!(
                    "{here}.type `{other}`: use text, textarea or number"
                )));
            }
        };
        let Some(fields) = units.get_mut(unit) else {
            continue;
        };
        let name = entry.name.trim();
        if name.is_empty() || taken(name) || fields.iter().any(|f| &*f.name == name) {
            return Err(invalid(format!(
                "{here}.name `{name}`: empty or already a field"
            )));
        }
        fields.push(CustomField {
            name: name.into(),
            label: entry.label.as_deref().unwrap_or(name).into(),
            type_name,
            ty,
            required: entry.required,
        });
    }
    Ok(units.into_iter().map(Arc::from).collect())
}

/// The position of `name` among `custom`, after the object's `own` fields.
pub(crate) fn index(custom: &[CustomField], own: usize, name: &str) -> Option<usize> {
    custom
        .iter()
        .position(|f| &*f.name == name)
        .map(|i| own + i)
}
