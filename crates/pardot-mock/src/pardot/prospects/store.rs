//! A business unit's mutable prospect store: queries (sorted, or by id range), lookups and
//! writes.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use super::custom::{CustomField, CustomFields, CustomType, NewField};
use super::fields::{TEXT_FIELDS, v5_name_taken};
use super::fragments::Fragments;
use super::query::{Deleted, Query, SortKey};
use super::record::Prospect;
use crate::pardot::errors::ApiError;

pub(super) struct Inner {
    /// Ordered by id. Shared so a query copies pointers, not 34 strings per prospect.
    prospects: Vec<Arc<Prospect>>,
    /// How many of `prospects` are deleted: with none, an id-ordered page is found by
    /// position instead of by looking at every prospect before it. Counted when the store is
    /// filled, then kept by delete and undelete.
    deleted: usize,
    next_id: u64,
    /// The business unit's prospect custom fields (none until a v5 create).
    custom: CustomFields,
    /// Counts the changes of `custom` (and the resets): what a kept rendering of a v3/v4
    /// record, which shows the custom fields, was rendered at.
    custom_revision: u64,
}

impl Inner {
    pub(super) fn new(mut prospects: Vec<Arc<Prospect>>) -> Self {
        prospects.sort_by_key(|p| p.id);
        let next_id = prospects.last().map_or(1, |p| p.id + 1);
        let deleted = prospects.iter().filter(|p| p.deleted).count();
        Self {
            prospects,
            deleted,
            next_id,
            custom: CustomFields::default(),
            custom_revision: 0,
        }
    }

    /// Where the prospect with `id` is, unless it is deleted (code 3 when there is none).
    fn live_position(&self, id: u64) -> Result<usize, ApiError> {
        self.prospects
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .filter(|&i| !self.prospects[i].deleted)
            .ok_or_else(|| ApiError::code(3))
    }

    /// Any query: filters every prospect, sorts the matches, pages.
    pub(super) fn query_sorted(&self, q: &Query) -> (usize, Vec<Arc<Prospect>>) {
        let mut matches: Vec<&Arc<Prospect>> =
            self.prospects.iter().filter(|p| q.admits(p)).collect();
        let total = matches.len();
        match q.sort {
            // Already in id order.
            SortKey::Id | SortKey::Field(_) => {}
            SortKey::CreatedAt => matches.sort_by_key(|p| (p.created_at, p.id)),
            SortKey::UpdatedAt => matches.sort_by_key(|p| (p.updated_at, p.id)),
            SortKey::LastActivityAt => matches.sort_by_key(|p| (p.last_activity_at, p.id)),
        }
        let page = q.page(matches).cloned().collect();
        (total, page)
    }

    /// A query for which [`Query::is_id_range`] holds, with the same answer as
    /// [`Inner::query_sorted`]: the id bounds by binary search, the page by position when no
    /// prospect is deleted (the usual case), so a page of a large store costs the page, not
    /// the store.
    pub(super) fn query_id_range(&self, q: &Query) -> (usize, Cow<'_, [Arc<Prospect>]>) {
        let start = q
            .id_greater_than
            .map_or(0, |v| self.prospects.partition_point(|p| p.id <= v));
        let end = q
            .id_less_than
            .map_or(self.prospects.len(), |v| {
                self.prospects.partition_point(|p| p.id < v)
            })
            .max(start);
        let range = &self.prospects[start..end];
        let every_one = match q.deleted {
            Deleted::All => true,
            Deleted::No => self.deleted == 0,
            Deleted::Only => false,
        };
        if every_one {
            let total = range.len();
            let from = q.offset.min(total);
            let to = from.saturating_add(q.limit).min(total);
            let page = if q.descending {
                Cow::Owned(
                    range[total - to..total - from]
                        .iter()
                        .rev()
                        .cloned()
                        .collect(),
                )
            } else {
                Cow::Borrowed(&range[from..to])
            };
            return (total, page);
        }
        let admitted = |p: &&Arc<Prospect>| q.deleted.admits(p.deleted);
        let total = if q.deleted == Deleted::Only && self.deleted == 0 {
            0
        } else {
            range.iter().filter(admitted).count()
        };
        let page = if q.descending {
            range
                .iter()
                .rev()
                .filter(admitted)
                .skip(q.offset)
                .take(q.limit)
                .cloned()
                .collect()
        } else {
            range
                .iter()
                .filter(admitted)
                .skip(q.offset)
                .take(q.limit)
                .cloned()
                .collect()
        };
        (total, Cow::Owned(page))
    }
}

/// The prospects of one business unit. Every operation takes the lock briefly and never
/// across an await, so concurrent requests only contend for the microseconds a copy takes.
pub struct ProspectStore {
    inner: RwLock<Inner>,
    /// The kept renderings of the prospects.
    fragments: Fragments,
}

pardot_auth_core::debug_shows!(
    ProspectStore as this,
    complete {
        count: this.count(),
    }
);

impl ProspectStore {
    /// A store holding `prospects` (any order; ids must be unique).
    pub fn new(prospects: Vec<Arc<Prospect>>) -> Self {
        Self {
            inner: RwLock::new(Inner::new(prospects)),
            fragments: Fragments::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // Every write below leaves the store consistent before it can panic, so a poisoned
        // lock still guards valid data.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a query: the number of matches and the requested page.
    pub fn query(&self, q: &Query) -> (usize, Vec<Arc<Prospect>>) {
        self.with_page(q, |total, page| (total, page.to_vec()))
    }

    /// Runs a query and answers what `answer` makes of the number of matches and the page,
    /// under the store's read lock: a page of the store's id order (the usual list) is lent,
    /// not copied a pointer at a time.
    pub fn with_page<R>(&self, q: &Query, answer: impl FnOnce(usize, &[Arc<Prospect>]) -> R) -> R {
        let inner = self.read();
        let (total, page) = if q.is_id_range() {
            inner.query_id_range(q)
        } else {
            let (total, page) = inner.query_sorted(q);
            (total, Cow::Owned(page))
        };
        answer(total, &page)
    }

    /// The prospect with `id`, unless deleted.
    pub fn by_id(&self, id: u64) -> Option<Prospect> {
        let inner = self.read();
        inner
            .prospects
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| Prospect::clone(&inner.prospects[i]))
            .filter(|p| !p.deleted)
    }

    /// Every prospect with `email` (case-insensitive), unless deleted, in id order.
    pub fn by_email(&self, email: &str) -> Vec<Prospect> {
        self.read()
            .prospects
            .iter()
            .filter(|p| p.is_live_with_email(email))
            .map(|p| Prospect::clone(p))
            .collect()
    }

    /// Creates a prospect. Code 9 when the email exists and duplicates are not allowed;
    /// code 4 for an email without `@`.
    pub fn create(
        &self,
        email: &str,
        params: &[(String, String)],
        allow_duplicates: bool,
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        if !looks_like_email(email) {
            return Err(ApiError::code(4));
        }
        let mut inner = self.write();
        if !allow_duplicates && inner.prospects.iter().any(|p| p.is_live_with_email(email)) {
            return Err(ApiError::code(9));
        }
        let mut prospect = Prospect::new(inner.next_id, email, now);
        apply(&mut prospect, params, false, &inner.custom)?;
        inner.next_id += 1;
        inner.prospects.push(Arc::new(prospect.clone()));
        Ok(prospect)
    }

    /// Updates the prospect with `id` (code 3 when there is none).
    pub fn update_by_id(
        &self,
        id: u64,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        self.update_at(|inner| inner.live_position(id), params, now)
    }

    /// Updates the first prospect with `email` (code 4 when there is none).
    pub fn update_by_email(
        &self,
        email: &str,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        let first = |inner: &Inner| {
            inner
                .prospects
                .iter()
                .position(|p| p.is_live_with_email(email))
                .ok_or_else(|| ApiError::code(4))
        };
        self.update_at(first, params, now)
    }

    /// Updates the prospect at the position `find` gives (or answers its error).
    fn update_at(
        &self,
        find: impl FnOnce(&Inner) -> Result<usize, ApiError>,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        let mut inner = self.write();
        let i = find(&inner)?;
        let Inner {
            prospects, custom, ..
        } = &mut *inner;
        update(Arc::make_mut(&mut prospects[i]), params, now, custom)
    }

    /// Updates the prospect with `email`, or creates one.
    pub fn upsert_by_email(
        &self,
        email: &str,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        match self.update_by_email(email, params, now) {
            Err(e) if e.code == 4 => self.create(email, params, true, now),
            other => other,
        }
    }

    /// Assigns the prospect with `id` to `user` (or with `None` unassigns it), updated at
    /// `now` (code 3 when there is no such prospect).
    pub fn assign_by_id(
        &self,
        id: u64,
        user: Option<u64>,
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        let mut inner = self.write();
        let i = inner.live_position(id)?;
        let mut changed = Prospect::clone(&inner.prospects[i]);
        changed.set_assigned_user(user)?;
        changed.updated_at = now;
        inner.prospects[i] = Arc::new(changed.clone());
        Ok(changed)
    }

    /// Moves the prospect with `id` to the recycle bin, updated at `now` (code 3 when there
    /// is none, or it is already there).
    pub fn delete_by_id(&self, id: u64, now: SystemTime) -> Result<(), ApiError> {
        let mut inner = self.write();
        let i = inner.live_position(id)?;
        let p = Arc::make_mut(&mut inner.prospects[i]);
        p.deleted = true;
        p.updated_at = now;
        inner.deleted += 1;
        Ok(())
    }

    /// Takes the prospect with `id` out of the recycle bin, updated at `now` (code 3 when
    /// there is no such deleted prospect).
    pub fn undelete_by_id(&self, id: u64, now: SystemTime) -> Result<Prospect, ApiError> {
        let mut inner = self.write();
        let i = inner
            .prospects
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .filter(|&i| inner.prospects[i].deleted)
            .ok_or_else(|| ApiError::code(3))?;
        let p = Arc::make_mut(&mut inner.prospects[i]);
        p.deleted = false;
        p.updated_at = now;
        let restored = p.clone();
        inner.deleted -= 1;
        Ok(restored)
    }

    /// The v5 `upsertLatestByEmail`: updates the most recently updated prospect with `email`
    /// (looking in the recycle bin too when none is live and `search_deleted`, and taking it
    /// out), or creates one. `true` when it created one.
    pub fn upsert_latest_by_email(
        &self,
        email: &str,
        params: &[(String, String)],
        search_deleted: bool,
        now: SystemTime,
    ) -> Result<(Prospect, bool), ApiError> {
        if !looks_like_email(email) {
            return Err(ApiError::code(4));
        }
        let mut inner = self.write();
        let latest = |inner: &Inner, deleted: bool| {
            inner
                .prospects
                .iter()
                .enumerate()
                .filter(|(_, p)| p.deleted == deleted && p.email().eq_ignore_ascii_case(email))
                .max_by_key(|(_, p)| (p.updated_at, p.id))
                .map(|(i, _)| i)
        };
        let found = latest(&inner, false)
            .or_else(|| search_deleted.then(|| latest(&inner, true)).flatten());
        let Some(i) = found else {
            let mut prospect = Prospect::new(inner.next_id, email, now);
            apply(&mut prospect, params, true, &inner.custom)?;
            inner.next_id += 1;
            inner.prospects.push(Arc::new(prospect.clone()));
            return Ok((prospect, true));
        };
        let Inner {
            prospects,
            custom,
            deleted,
            ..
        } = &mut *inner;
        let p = Arc::make_mut(&mut prospects[i]);
        let was_deleted = p.deleted;
        let mut changed = p.clone();
        changed.deleted = false;
        let written = update(&mut changed, params, now, custom)?;
        *p = changed;
        if was_deleted {
            *deleted -= 1;
        }
        Ok((written, false))
    }

    /// The business unit's prospect custom fields, in id order.
    pub fn custom_fields(&self) -> Vec<CustomField> {
        self.read().custom.fields.clone()
    }

    /// [`ProspectStore::custom_fields`] and the revision they are at (it changes with every
    /// change of them), read together.
    pub fn custom_fields_at_revision(&self) -> (Vec<CustomField>, u64) {
        let inner = self.read();
        (inner.custom.fields.clone(), inner.custom_revision)
    }

    /// The kept renderings of the prospects.
    pub(crate) fn fragments(&self) -> &Fragments {
        &self.fragments
    }

    /// Counts a change of the custom fields and forgets the renderings that showed them.
    fn custom_changed(&self, inner: &mut Inner) {
        inner.custom_revision += 1;
        self.fragments.clear();
    }

    /// Adds a prospect custom field created at `now` (code 154 when its API name is a
    /// standard field's, in either generation, or another custom field's).
    pub fn add_custom_field(
        &self,
        new: NewField<'_>,
        now: SystemTime,
    ) -> Result<CustomField, ApiError> {
        let standard = |id: &str| TEXT_FIELDS.contains(&id) || v5_name_taken(id);
        let mut inner = self.write();
        let added = inner.custom.add(new, standard, TEXT_FIELDS.len(), now)?;
        self.custom_changed(&mut inner);
        Ok(added)
    }

    /// Changes the custom field with `id` with `change` (its label and whether it is
    /// required; never its API name or slot), updated at `now`. `None` when there is none.
    pub fn update_custom_field(
        &self,
        id: u64,
        now: SystemTime,
        change: impl FnOnce(&mut CustomField),
    ) -> Option<CustomField> {
        let mut inner = self.write();
        let field = inner.custom.get_mut(id)?;
        change(field);
        field.updated_at = now;
        let changed = field.clone();
        self.custom_changed(&mut inner);
        Some(changed)
    }

    /// Removes the custom field with `id` (prospects stop showing its values). `None` when
    /// there is none.
    pub fn remove_custom_field(&self, id: u64) -> Option<CustomField> {
        let mut inner = self.write();
        let removed = inner.custom.remove(id)?;
        self.custom_changed(&mut inner);
        Some(removed)
    }

    /// Moves the first prospect with `email` to the recycle bin (code 4 when there is none).
    pub fn delete_by_email(&self, email: &str, now: SystemTime) -> Result<(), ApiError> {
        let id = self
            .by_email(email)
            .first()
            .map(|p| p.id)
            .ok_or_else(|| ApiError::code(4))?;
        self.delete_by_id(id, now)
    }

    /// The first prospect whose CRM lead, contact or Salesforce id is `fid`, unless deleted.
    pub fn by_fid(&self, fid: &str) -> Option<Prospect> {
        self.read()
            .prospects
            .iter()
            .find(|p| {
                !p.deleted
                    && ["crm_lead_fid", "crm_contact_fid", "salesforce_fid"]
                        .iter()
                        .any(|f| p.text(f) == Some(fid))
            })
            .map(|p| Prospect::clone(p))
    }

    /// Replaces every prospect (the mock's reset).
    pub fn replace_all(&self, prospects: Vec<Arc<Prospect>>) {
        let mut inner = self.write();
        let revision = inner.custom_revision;
        *inner = Inner::new(prospects);
        inner.custom_revision = revision;
        self.custom_changed(&mut inner);
    }

    /// How many prospects the store holds (deleted included).
    pub fn count(&self) -> usize {
        self.read().prospects.len()
    }
}

fn looks_like_email(email: &str) -> bool {
    let email = email.trim();
    matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace))
}

fn apply(
    p: &mut Prospect,
    params: &[(String, String)],
    allow_email: bool,
    custom: &CustomFields,
) -> Result<(), ApiError> {
    for (name, value) in params {
        if name == "email" && !allow_email {
            continue;
        }
        if name == "email" && !looks_like_email(value) {
            return Err(ApiError::code(4));
        }
        if !p.set(name, value)?
            && let Some(field) = custom.by_field_id(name)
        {
            if field.ty == CustomType::Number
                && !value.is_empty()
                && value.trim().parse::<i64>().is_err()
            {
                return Err(ApiError::code(56));
            }
            p.set_custom_text(field.slot(), (!value.is_empty()).then_some(value.trim()));
        }
    }
    Ok(())
}

fn update(
    p: &mut Prospect,
    params: &[(String, String)],
    now: SystemTime,
    custom: &CustomFields,
) -> Result<Prospect, ApiError> {
    // Validate on a copy so a bad parameter leaves the stored prospect untouched.
    let mut changed = p.clone();
    apply(&mut changed, params, true, custom)?;
    changed.updated_at = now;
    *p = changed;
    Ok(p.clone())
}
