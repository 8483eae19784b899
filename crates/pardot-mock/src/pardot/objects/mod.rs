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
pub(crate) use schema::Kind;
pub(crate) use seed::ObjectSeed;
use store::ObjectStore;

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
            self.store(kind)
                .replace_all(seed.at(index, kind, now), seed.custom(index, kind));
        }
    }

    /// How many records of `kind` the unit holds (deleted included).
    pub(crate) fn count(&self, kind: Kind) -> usize {
        self.store(kind).count()
    }
}
