//! Prospects: the record, its v3/v4 and v5 renderings, and a business unit's mutable store
//! with the query, sort and paging rules of both API generations.

mod custom;
mod fields;
mod fragments;
mod query;
mod record;
mod store;
mod texts;
mod v34_record;
mod v5_record;

pub use custom::{CustomField, CustomType, NewField};
#[cfg(test)]
pub use fields::parse_v5_fields;
pub use fields::{
    V5Field, WriteKind, parse_v4_fields, parse_v5_fields_with, v5_name, v5_write_field,
};
pub(crate) use fragments::Shape;
pub use query::{Assignment, Deleted, Query, SortKey};
pub use record::Prospect;
pub use store::ProspectStore;

#[cfg(test)]
mod tests;
