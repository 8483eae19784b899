//! One record of a served object: its id, times and deleted flag, and its field values in its
//! schema's order.

use std::time::SystemTime;

use super::schema::Schema;
use super::value::Value;

/// One record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// Numeric id (unique among the object's records in the business unit).
    pub id: u64,
    /// Created.
    pub created_at: SystemTime,
    /// Last updated (every write sets it to the mock clock's time).
    pub updated_at: SystemTime,
    /// In the recycle bin.
    pub deleted: bool,
    /// One value per field of the schema, in its order.
    pub values: Box<[Value]>,
}

impl Record {
    /// A record of `schema` with no values, created at `now`.
    pub(crate) fn new(schema: &Schema, id: u64, now: SystemTime) -> Self {
        Self {
            id,
            created_at: now,
            updated_at: now,
            deleted: false,
            values: vec![Value::Null; schema.fields.len()].into_boxed_slice(),
        }
    }

    /// The value of field `name` (`Null` for a name the schema does not have).
    pub(crate) fn get(&self, schema: &Schema, name: &str) -> &Value {
        schema
            .field_index(name)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }

    /// The id held by field `name`.
    pub(crate) fn id_of(&self, schema: &Schema, name: &str) -> Option<u64> {
        self.get(schema, name).as_id()
    }
}
