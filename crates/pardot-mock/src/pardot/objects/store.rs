//! One object's records in a business unit: the query (criteria, filters, sort, page),
//! lookups and writes. Records are shared (`Arc`) with the seed until a write copies one;
//! generated records are stubs the record is derived from on read.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use super::custom::CustomFields;
use super::generate::{Generator, Stub};
use super::record::Record;
use super::schema::Kind;
use super::schema::Schema;
use super::value::Value;
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

/// One record of a store: kept whole, or generated (a stub the record is derived from on
/// read; a write keeps the derived record whole from then on).
#[derive(Debug, Clone)]
enum Slot {
    Kept(Arc<Record>),
    Generated(Stub),
}

impl Slot {
    fn id(&self) -> u64 {
        match self {
            Self::Kept(r) => r.id,
            Self::Generated(s) => s.id,
        }
    }

    fn created_at(&self) -> SystemTime {
        match self {
            Self::Kept(r) => r.created_at,
            Self::Generated(s) => s.created_at(),
        }
    }

    fn updated_at(&self) -> SystemTime {
        match self {
            Self::Kept(r) => r.updated_at,
            Self::Generated(s) => s.updated_at(),
        }
    }

    fn deleted(&self) -> bool {
        matches!(self, Self::Kept(r) if r.deleted)
    }
}

/// The generated records a store starts with: their generator and stubs.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    /// The unit's generator.
    pub generator: Arc<Generator>,
    /// One stub per generated record.
    pub stubs: Vec<Stub>,
}

struct Inner {
    kind: Kind,
    /// Ordered by id.
    slots: Vec<Slot>,
    generator: Option<Arc<Generator>>,
    next_id: u64,
    /// The custom fields records carry after their own.
    custom: CustomFields,
    /// For each field another object's `full` output lists records by (a visitor's
    /// activities, a visit's page views): the ids of the records holding each value, so the
    /// list is a look-up, not a scan of every record.
    links: Vec<(usize, HashMap<u64, Vec<u64>>)>,
}

impl Inner {
    fn new(
        kind: Kind,
        records: Vec<Arc<Record>>,
        generated: Option<Generated>,
        custom: CustomFields,
    ) -> Self {
        let (generator, stubs) = match generated {
            Some(g) => (Some(g.generator), g.stubs),
            None => (None, Vec::new()),
        };
        let mut slots: Vec<Slot> = records.into_iter().map(Slot::Kept).collect();
        slots.extend(stubs.into_iter().map(Slot::Generated));
        slots.sort_by_key(Slot::id);
        let next_id = slots.last().map_or(1, |r| r.id() + 1);
        let mut inner = Self {
            kind,
            slots,
            generator,
            next_id,
            custom,
            links: Vec::new(),
        };
        inner.index_links();
        inner
    }

    /// Rebuilds [`Inner::links`] (at start, reset and after a write).
    fn index_links(&mut self) {
        let schema = self.kind.schema();
        let mut links: Vec<(usize, HashMap<u64, Vec<u64>>)> = Kind::ALL
            .iter()
            .flat_map(|k| k.schema().nested.iter())
            .filter(|n| n.kind == self.kind)
            .filter_map(|n| schema.field_index(n.link))
            .map(|i| (i, HashMap::new()))
            .collect();
        if links.is_empty() {
            self.links = links;
            return;
        }
        for slot in &self.slots {
            if slot.deleted() {
                continue;
            }
            let record = self.record(slot);
            for (i, index) in &mut links {
                if let Some(target) = record.values[*i].as_id() {
                    index.entry(target).or_default().push(record.id);
                }
            }
        }
        self.links = links;
    }

    /// The record a slot holds or stands for.
    fn record(&self, slot: &Slot) -> Arc<Record> {
        match (slot, &self.generator) {
            (Slot::Kept(r), _) => Arc::clone(r),
            (Slot::Generated(stub), Some(generator)) => {
                Arc::new(generator.record(self.kind, *stub))
            }
            // A stub comes with its generator.
            (Slot::Generated(stub), None) => {
                Arc::new(Record::new(self.kind.schema(), stub.id, stub.created_at()))
            }
        }
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.slots.binary_search_by_key(&id, Slot::id).ok()
    }

    /// Every record that is not deleted, in id order.
    fn live(&self) -> impl Iterator<Item = Arc<Record>> + '_ {
        self.slots
            .iter()
            .filter(|s| !s.deleted())
            .map(|s| self.record(s))
    }
}

/// The records of one object in one business unit. Each operation holds the lock briefly and
/// never across an await.
pub(crate) struct ObjectStore {
    schema: &'static Schema,
    inner: RwLock<Inner>,
}

pardot_auth_core::debug_shows!(
    ObjectStore as this,
    complete {
        object: this.schema.object,
        count: this.read().slots.len(),
    }
);

impl ObjectStore {
    /// An empty store of `schema`'s records.
    pub(crate) fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            inner: RwLock::new(Inner::new(
                schema.kind,
                Vec::new(),
                None,
                CustomFields::default(),
            )),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Every write leaves the store consistent before it could panic.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a query: the number of matches and the requested page. The id, time and deleted
    /// criteria are judged on the slots; only a query with filters (or a sort by a field)
    /// looks at the records themselves.
    pub(crate) fn query(
        &self,
        criteria: &Query,
        filters: &[FieldFilter],
    ) -> (usize, Vec<Arc<Record>>) {
        let inner = self.read();
        let by_field = match criteria.sort {
            SortKey::Field(extra) => self.schema.field_index(extra),
            _ => None,
        };
        let admitted = inner.slots.iter().filter(|s| {
            criteria.admits_record(s.id(), s.created_at(), s.updated_at(), s.deleted())
        });
        let mut matches: Vec<(&Slot, Option<Arc<Record>>)> =
            if filters.is_empty() && by_field.is_none() {
                admitted.map(|s| (s, None)).collect()
            } else {
                admitted
                    .map(|s| (s, inner.record(s)))
                    .filter(|(_, r)| filters.iter().all(|f| f.admits(r)))
                    .map(|(s, r)| (s, Some(r)))
                    .collect()
            };
        let total = matches.len();
        match criteria.sort {
            // Already in id order; no other object has a last activity.
            SortKey::Id | SortKey::LastActivityAt => {}
            SortKey::CreatedAt => matches.sort_by_key(|(s, _)| (s.created_at(), s.id())),
            SortKey::UpdatedAt => matches.sort_by_key(|(s, _)| (s.updated_at(), s.id())),
            SortKey::Field(_) => {
                if let Some(i) = by_field {
                    matches.sort_by(|(a, ra), (b, rb)| {
                        let value =
                            |r: &Option<Arc<Record>>| r.as_ref().map(|r| r.values[i].clone());
                        match (value(ra), value(rb)) {
                            (Some(x), Some(y)) => x.sort_cmp(&y),
                            _ => std::cmp::Ordering::Equal,
                        }
                        .then(a.id().cmp(&b.id()))
                    });
                }
            }
        }
        let page = criteria
            .page(matches)
            .map(|(s, r)| r.unwrap_or_else(|| inner.record(s)))
            .collect();
        (total, page)
    }

    /// Up to `limit` records with ids above `after`, in id order, that `criteria`'s id, time
    /// and deleted bounds admit: a cursor over the store (the Export API reads an export's
    /// records page by page), whose pages cost the slots they pass (up to the id bound), not
    /// the store.
    pub(crate) fn page_after(
        &self,
        after: u64,
        limit: usize,
        criteria: &Query,
    ) -> Vec<Arc<Record>> {
        let inner = self.read();
        let start = inner.slots.partition_point(|s| s.id() <= after);
        inner.slots[start..]
            .iter()
            .take_while(|s| criteria.id_less_than.is_none_or(|below| s.id() < below))
            .filter(|s| criteria.admits_record(s.id(), s.created_at(), s.updated_at(), s.deleted()))
            .take(limit)
            .map(|s| inner.record(s))
            .collect()
    }

    /// The record with `id`, unless deleted.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Record>> {
        let inner = self.read();
        inner
            .position(id)
            .map(|i| &inner.slots[i])
            .filter(|s| !s.deleted())
            .map(|s| inner.record(s))
    }

    /// Every record (in id order) that is not deleted and whose field `link` holds `id`: a
    /// look-up when another object's `full` output lists these records by `link`.
    pub(crate) fn linked(&self, link: &str, id: u64) -> Vec<Arc<Record>> {
        let Some(field) = self.schema.field_index(link) else {
            return Vec::new();
        };
        let inner = self.read();
        match inner.links.iter().find(|(i, _)| *i == field) {
            Some((_, index)) => index
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|&r| inner.position(r).map(|i| &inner.slots[i]))
                .filter(|s| !s.deleted())
                .map(|s| inner.record(s))
                .collect(),
            None => inner
                .live()
                .filter(|r| r.values[field].as_id() == Some(id))
                .collect(),
        }
    }

    /// The first record (in id order) that is not deleted and satisfies `matches`.
    pub(crate) fn find(&self, matches: impl Fn(&Record) -> bool) -> Option<Arc<Record>> {
        self.read().live().find(|r| matches(r))
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
        if inner.live().any(|r| conflicts(&r)) {
            return None;
        }
        let record = Arc::new(make(inner.next_id));
        inner.next_id = record.id.max(inner.next_id) + 1;
        // Ids only grow, so the new record goes last and the order holds.
        inner.slots.push(Slot::Kept(Arc::clone(&record)));
        inner.index_links();
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
        if inner.slots[i].deleted() {
            return None;
        }
        let mut copy = Record::clone(&inner.record(&inner.slots[i]));
        Some(change(&mut copy).map(|()| {
            let copy = Arc::new(copy);
            inner.slots[i] = Slot::Kept(Arc::clone(&copy));
            inner.index_links();
            copy
        }))
    }

    /// Takes the deleted record with `id` out of the recycle bin, updated at `now`; `None`
    /// when there is no such deleted record.
    pub(crate) fn restore(&self, id: u64, now: SystemTime) -> Option<Arc<Record>> {
        let mut inner = self.write();
        let i = inner.position(id)?;
        let Slot::Kept(record) = &mut inner.slots[i] else {
            return None;
        };
        if !record.deleted {
            return None;
        }
        let changed = Arc::make_mut(record);
        changed.deleted = false;
        changed.updated_at = now;
        let record = Arc::clone(record);
        inner.index_links();
        Some(record)
    }

    /// Applies `change` to every record (deleted ones included) that satisfies `matches`.
    pub(crate) fn update_all(
        &self,
        matches: impl Fn(&Record) -> bool,
        change: impl Fn(&mut Record),
    ) {
        let mut inner = self.write();
        for i in 0..inner.slots.len() {
            let record = inner.record(&inner.slots[i]);
            if matches(&record) {
                let mut copy = Record::clone(&record);
                change(&mut copy);
                inner.slots[i] = Slot::Kept(Arc::new(copy));
            }
        }
        inner.index_links();
    }

    /// Replaces every record, the generated ones and the custom fields (start and reset).
    pub(crate) fn replace_all(
        &self,
        records: Vec<Arc<Record>>,
        generated: Option<Generated>,
        custom: CustomFields,
    ) {
        *self.write() = Inner::new(self.schema.kind, records, generated, custom);
    }

    /// The custom fields records carry after their own.
    pub(crate) fn custom(&self) -> CustomFields {
        Arc::clone(&self.read().custom)
    }

    /// How many records the store holds (deleted included).
    pub(crate) fn count(&self) -> usize {
        self.read().slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Slot;

    #[test]
    fn a_generated_record_takes_one_32_byte_slot() {
        // 1,000,000 generated activities are 32 MB of slots (the bench's RSS row, issue 18).
        assert!(std::mem::size_of::<Slot>() <= 32);
    }
}
