//! Which business unit a configured entry belongs to, shared by the records and the custom
//! fields read from the configuration.

use std::collections::HashMap;

use pardot_auth_core::BusinessUnitId;

use crate::config::{ConfigError, invalid};

/// The index of the business unit `business_unit` names, for the entry `what`.
pub(super) fn unit_index(
    business_unit: &str,
    what: &str,
    by_id: &HashMap<BusinessUnitId, usize>,
) -> Result<usize, ConfigError> {
    let bu = BusinessUnitId::parse(business_unit)
        .map_err(|e| invalid(format!("{what}.business_unit: {e}")))?;
    by_id
        .get(&bu)
        .copied()
        .ok_or_else(|| invalid(format!("{what}.business_unit: unknown `{business_unit}`")))
}
