//! One object's records in a business unit: the query (criteria, filters, sort, page),
//! lookups and writes. Records are shared (`Arc`) with the seed until a write copies one.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::custom::CustomFields;
use super::record::{Record, Value};
use super::schema::Schema;
use crate::pardot::prospects::{Query, SortKey};

/// A filter of a query, on a field by index (`None`: the record's id).
#[derive(Debug)]
pub(crate) enum FieldFilter {
    /// The field holds this value.
    Equals(usize, Value),
    /// The field (or id) is one of these ids.
    AnyOf(Option<usize>, Vec<u64>),
    /// The field has a value.
    Present(usize),
    /// The field is a number above this one.
    Above(usize, i64),
    /// The field is a number below this one.
    Below(usize, i64),
}

impl FieldFilter {
    fn admits(&self, record: &Record) -> bool {
        let value = |i: usize| record.values.get(i).unwrap_or(&Value::Null);
        match self {
            Self::Equals(i, v) => value(*i) == v,
            Self::AnyOf(None, ids) => ids.contains(&record.id),
            Self::AnyOf(Some(i), ids) => value(*i).as_id().is_some_and(|id| ids.contains(&id)),
            Self::Present(i) => *value(*i) != Value::Null,
            Self::Above(i, n) => matches!(value(*i), Value::Int(v) if v > n),
            Self::Below(i, n) => matches!(value(*i), Value::Int(v) if v < n),
        }
    }
}

struct Inner {
    /// Ordered by id.
    records: Vec<Arc<Record>>,
    next_id: u64,
    /// The custom fields records carry after their own.
    custom: CustomFields,
}

impl Inner {
    fn new(mut records: Vec<Arc<Record>>, custom: CustomFields) -> Self {
        records.sort_by_key(|r| r.id);
        let next_id = records.last().map_or(1, |r| r.id + 1);
        Self {
            records,
            next_id,
            custom,
        }
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.records.binary_search_by_key(&id, |r| r.id).ok()
    }
}

/// The records of one object in one business unit. Each operation holds the lock briefly and
/// never across an await.
pub(crate) struct ObjectStore {
    schema: &'static Schema,
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStore")
            .field("object", &self.schema.object)
            .field("count", &self.read().records.len())
            .finish()
    }
}

impl ObjectStore {
    /// An empty store of `schema`'s records.
    pub(crate) fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            inner: RwLock::new(Inner::new(Vec::new(), CustomFields::default())),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Every write leaves the store consistent before it could panic.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a query: the number of matches and the requested page.
    pub(crate) fn query(
        &self,
        criteria: &Query,
        filters: &[FieldFilter],
    ) -> (usize, Vec<Arc<Record>>) {
        let inner = self.read();
        let mut matches: Vec<&Arc<Record>> = inner
            .records
            .iter()
            .filter(|r| {
                criteria.admits_record(r.id, r.created_at, r.updated_at, r.deleted)
                    && filters.iter().all(|f| f.admits(r))
            })
            .collect();
        let total = matches.len();
        match criteria.sort {
            // Already in id order; no other object has a last activity.
            SortKey::Id | SortKey::LastActivityAt => {}
            SortKey::CreatedAt => matches.sort_by_key(|r| (r.created_at, r.id)),
            SortKey::UpdatedAt => matches.sort_by_key(|r| (r.updated_at, r.id)),
            SortKey::Field(extra) => {
                if let Some(i) = self.schema.field_index(extra) {
                    matches
                        .sort_by(|a, b| a.values[i].sort_cmp(&b.values[i]).then(a.id.cmp(&b.id)));
                }
            }
        }
        if criteria.descending {
            matches.reverse();
        }
        let page = matches
            .into_iter()
            .skip(criteria.offset)
            .take(criteria.limit)
            .cloned()
            .collect();
        (total, page)
    }

    /// The record with `id`, unless deleted.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Record>> {
        let inner = self.read();
        inner
            .position(id)
            .map(|i| Arc::clone(&inner.records[i]))
            .filter(|r| !r.deleted)
    }

    /// Every record (in id order) that is not deleted and satisfies `matches`.
    pub(crate) fn select(&self, matches: impl Fn(&Record) -> bool) -> Vec<Arc<Record>> {
        self.read()
            .records
            .iter()
            .filter(|r| !r.deleted && matches(r))
            .cloned()
            .collect()
    }

    /// The first record (in id order) that is not deleted and satisfies `matches`.
    pub(crate) fn find(&self, matches: impl Fn(&Record) -> bool) -> Option<Arc<Record>> {
        self.read()
            .records
            .iter()
            .find(|r| !r.deleted && matches(r))
            .cloned()
    }

    /// Adds a record made by `make` from the next free id, unless a record that is not
    /// deleted `conflicts` with it (then `None`). Checked and added under one lock, so two
    /// concurrent creates cannot both pass the check.
    pub(crate) fn insert_unless(
        &self,
        conflicts: impl Fn(&Record) -> bool,
        make: impl FnOnce(u64) -> Record,
    ) -> Option<Arc<Record>> {
        let mut inner = self.write();
        if inner.records.iter().any(|r| !r.deleted && conflicts(r)) {
            return None;
        }
        let record = Arc::new(make(inner.next_id));
        inner.next_id = record.id.max(inner.next_id) + 1;
        // Ids only grow, so the new record goes last and the order holds.
        inner.records.push(Arc::clone(&record));
        Some(record)
    }

    /// Changes the record with `id` (unless deleted) with `change`, which sees a copy and may
    /// refuse; the store keeps the copy only when it succeeds. `None` when there is no such
    /// record.
    pub(crate) fn update<E>(
        &self,
        id: u64,
        change: impl FnOnce(&mut Record) -> Result<(), E>,
    ) -> Option<Result<Arc<Record>, E>> {
        let mut inner = self.write();
        let i = inner.position(id)?;
        if inner.records[i].deleted {
            return None;
        }
        let mut copy = Record::clone(&inner.records[i]);
        Some(change(&mut copy).map(|()| {
            let copy = Arc::new(copy);
            inner.records[i] = Arc::clone(&copy);
            copy
        }))
    }

    /// Takes the deleted record with `id` out of the recycle bin, updated at `now`; `None`
    /// when there is no such deleted record.
    pub(crate) fn restore(&self, id: u64, now: std::time::SystemTime) -> Option<Arc<Record>> {
        let mut inner = self.write();
        let i = inner.position(id)?;
        if !inner.records[i].deleted {
            return None;
        }
        let record = Arc::make_mut(&mut inner.records[i]);
        record.deleted = false;
        record.updated_at = now;
        Some(Arc::clone(&inner.records[i]))
    }

    /// Applies `change` to every record (deleted ones included) that satisfies `matches`.
    pub(crate) fn update_all(
        &self,
        matches: impl Fn(&Record) -> bool,
        change: impl Fn(&mut Record),
    ) {
        let mut inner = self.write();
        for r in &mut inner.records {
            if matches(r) {
                change(Arc::make_mut(r));
            }
        }
    }

    /// Replaces every record and the custom fields (start and reset).
    pub(crate) fn replace_all(&self, records: Vec<Arc<Record>>, custom: CustomFields) {
        *self.write() = Inner::new(records, custom);
    }

    /// The custom fields records carry after their own.
    pub(crate) fn custom(&self) -> CustomFields {
        Arc::clone(&self.read().custom)
    }

    /// How many records the store holds (deleted included).
    pub(crate) fn count(&self) -> usize {
        self.read().records.len()
    }
}
