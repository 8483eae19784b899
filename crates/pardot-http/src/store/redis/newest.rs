//! What one store handle knows it wrote or read last under each key, so that after Redis
//! lost writes (a restart without persistence, or a save that failed while Redis was away)
//! the handle writes its newer record back, fenced, instead of letting the fleet go on with
//! an older refresh token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::StoredToken;

/// The newest record a handle knows per key, with the revision Redis gave it (or, for a save
/// that never landed, one more than the last revision seen).
#[derive(Clone, Default)]
pub(super) struct NewestRecords {
    by_key: Arc<Mutex<HashMap<String, (u64, StoredToken)>>>,
}

impl NewestRecords {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, StoredToken)>> {
        // Updates are single inserts and removes: a poisoned map is still consistent.
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Redis holds `record` at `revision` (read or written).
    pub(super) fn seen(&self, key: &str, revision: u64, record: &StoredToken) {
        let mut map = self.map();
        if map.get(key).is_none_or(|(known, _)| *known <= revision) {
            map.insert(key.to_owned(), (revision, record.clone()));
        }
    }

    /// A save of `record` failed before Redis confirmed it: it is newer than anything seen.
    pub(super) fn not_saved(&self, key: &str, record: &StoredToken) {
        let mut map = self.map();
        let revision = map.get(key).map_or(0, |(known, _)| *known) + 1;
        map.insert(key.to_owned(), (revision, record.clone()));
    }

    /// The record was removed.
    pub(super) fn forget(&self, key: &str) {
        self.map().remove(key);
    }

    /// The record to write back when Redis's revision of `key` is older than the newest
    /// this handle knows.
    pub(super) fn newer_than(&self, key: &str, stored_revision: u64) -> Option<StoredToken> {
        self.map()
            .get(key)
            .filter(|(known, _)| *known > stored_revision)
            .map(|(_, record)| record.clone())
    }
}
