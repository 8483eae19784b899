//! The v3/v4 objects beside prospects (`campaign`, `list`, `listMembership`, `visitor`,
//! `visit`, `visitorActivity`): one field table per object ([`tables`], of the [`schema`]
//! types), compact records, one query engine ([`criteria`], shared with prospects), a store
//! per object and business unit, the configured records ([`seed`]) and the actions.

mod actions;
pub(crate) mod criteria;
mod custom;
pub(crate) mod generate;
mod record;
mod schema;
mod seed;
mod show;
mod store;
mod tables;
mod unit_index;
mod unit_objects;
mod value;

#[cfg(test)]
mod tests;

pub(crate) use actions::{Reply, Request, answer, create_record, delete_record, update_record};
pub(crate) use record::Record;
pub(crate) use schema::{Kind, Schema, Show, Target};
pub(crate) use seed::{ConfiguredUsers, ObjectSeed};
pub(crate) use show::user_node;
pub(crate) use store::FieldFilter;
pub(crate) use unit_objects::{Objects, Related};
pub(crate) use value::{FieldType, Value};
