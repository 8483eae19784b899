//! The v3/v4 objects beside prospects (`campaign`, `list`, `listMembership`, `visitor`,
//! `visit`, `visitorActivity`): one field table per object ([`schema`]), compact records, one
//! query engine ([`criteria`], shared with prospects), a store per object and business unit,
//! the configured records ([`seed`]) and the actions.

mod actions;
pub(crate) mod criteria;
mod custom;
pub(crate) mod generate;
mod record;
mod schema;
mod seed;
mod store;

#[cfg(test)]
mod tests;

use std::time::SystemTime;

pub(crate) use actions::{Reply, Request, answer};
use record::Value;
pub(crate) use schema::Kind;
pub(crate) use seed::ObjectSeed;
use store::ObjectStore;

use crate::pardot::api::Unit;
use crate::pardot::render::Node;

/// The records of every served object in one business unit.
#[derive(Debug)]
pub(crate) struct Objects {
    /// In [`Kind::ALL`] order.
    stores: Vec<ObjectStore>,
}

impl Default for Objects {
    fn default() -> Self {
        Self {
            stores: Kind::ALL
                .iter()
                .map(|k| ObjectStore::new(k.schema()))
                .collect(),
        }
    }
}

impl Objects {
    /// The store of `kind`.
    pub(crate) fn store(&self, kind: Kind) -> &ObjectStore {
        &self.stores[kind.index()]
    }

    /// Puts back the configured records of the unit at `index`, as a reset at `now` does.
    pub(crate) fn restore(&self, seed: &ObjectSeed, index: usize, now: SystemTime) {
        for kind in Kind::ALL {
            self.store(kind).replace_all(
                seed.at(index, kind, now),
                seed.generated(index, kind),
                seed.custom(index, kind),
            );
        }
    }

    /// The id of the user with `email` (case-insensitive), unless deleted.
    pub(crate) fn user_by_email(&self, email: &str) -> Option<u64> {
        let schema = Kind::User.schema();
        self.store(Kind::User)
            .find(|r| matches!(r.get(schema, "email"), Value::Text(t) if t.eq_ignore_ascii_case(email)))
            .map(|r| r.id)
    }

    /// The user with `id` as its `<user>` element shows it (no nested records), unless there
    /// is no such user.
    pub(crate) fn user_node(unit: &Unit, id: u64) -> Option<Node> {
        unit.objects
            .store(Kind::User)
            .get(id)
            .map(|r| r.node(Kind::User.schema(), unit, false))
    }

    /// How many records of `kind` the unit holds (deleted included).
    pub(crate) fn count(&self, kind: Kind) -> usize {
        self.store(kind).count()
    }
}
