//! The records of every served object in one business unit, and the view of a business unit's
//! records (its prospects and these) that writing and answering for an object look up.

use std::time::SystemTime;

use super::schema::Kind;
use super::seed::{ObjectSeed, names_an_id};
use super::store::ObjectStore;
use super::value::Value;
use crate::pardot::errors::ApiError;
use crate::pardot::prospects::ProspectStore;

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

    /// The id of the live user whose id is `text`; code 10 ("Invalid user ID") when it is
    /// not a number or names no user.
    pub(crate) fn user_by_id(&self, text: &str) -> Result<u64, ApiError> {
        text.trim()
            .parse()
            .ok()
            .filter(|&id| self.store(Kind::User).get(id).is_some())
            .ok_or_else(|| ApiError::code(10))
    }

    /// The id of the live user `text` names: digits are a user id (code 10 when there is no
    /// such user), anything else an email (code 11, "Invalid user email address").
    pub(crate) fn user_by_id_or_email(&self, text: &str) -> Result<u64, ApiError> {
        let text = text.trim();
        if names_an_id(text) {
            self.user_by_id(text)
        } else {
            self.user_by_email(text).ok_or_else(|| ApiError::code(11))
        }
    }

    /// How many records of `kind` the unit holds (deleted included).
    pub(crate) fn count(&self, kind: Kind) -> usize {
        self.store(kind).count()
    }
}

/// A business unit's records as the objects layer reads them: ids a record names are looked
/// up here (its prospects, or the records of another object).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Related<'a> {
    /// The unit's prospects.
    pub prospects: &'a ProspectStore,
    /// The unit's records of the served objects.
    pub objects: &'a Objects,
}
