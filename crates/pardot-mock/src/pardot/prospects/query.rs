//! What a query asks of a store: deleted or not, the sort, the id and time ranges, the page.

use std::time::SystemTime;

use super::record::Prospect;

/// Which prospects a query sees by their deleted flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deleted {
    /// Only prospects that are not deleted (the default).
    #[default]
    No,
    /// Only deleted prospects.
    Only,
    /// Both.
    All,
}

impl Deleted {
    /// Parses `true` / `false` / `all`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "false" => Some(Self::No),
            "true" => Some(Self::Only),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    pub(crate) fn admits(self, deleted: bool) -> bool {
        match self {
            Self::No => !deleted,
            Self::Only => deleted,
            Self::All => true,
        }
    }
}

/// Which prospects a query sees by the user they are assigned to (`assigned`,
/// `assigned_to_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Assignment {
    /// Every prospect (the default).
    #[default]
    Any,
    /// Only prospects assigned to some user (`assigned=true`).
    Assigned,
    /// Only prospects assigned to no user (`assigned=false`).
    Unassigned,
    /// Only prospects assigned to the user with this id (`assigned_to_user`).
    ToUser(u64),
    /// No prospect (`assigned=false` beside `assigned_to_user`: no prospect is both).
    Nobody,
}

impl Assignment {
    /// Whether a prospect assigned to `user` (or to none) is seen.
    pub(crate) fn admits(self, user: Option<u64>) -> bool {
        match self {
            Self::Any => true,
            Self::Assigned => user.is_some(),
            Self::Unassigned => user.is_none(),
            Self::ToUser(id) => user == Some(id),
            Self::Nobody => false,
        }
    }
}

/// The sort key of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By id.
    #[default]
    Id,
    /// By creation time.
    CreatedAt,
    /// By last update.
    UpdatedAt,
    /// By last activity (never-active prospects first).
    LastActivityAt,
    /// By a field of another v3/v4 object (`name`, `cost`): its store sorts by the field's
    /// values; a prospect store keeps id order (no prospect query names one).
    Field(&'static str),
}

/// A query (prospects of both generations, and the other v3/v4 objects), after its
/// parameters were validated.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `id_greater_than` / `idGreaterThan`.
    pub id_greater_than: Option<u64>,
    /// `id_less_than` / `idLessThan`.
    pub id_less_than: Option<u64>,
    /// `created_after`.
    pub created_after: Option<SystemTime>,
    /// `created_before`.
    pub created_before: Option<SystemTime>,
    /// `updated_after`.
    pub updated_after: Option<SystemTime>,
    /// `updated_before`.
    pub updated_before: Option<SystemTime>,
    /// `deleted`.
    pub deleted: Deleted,
    /// `assigned` / `assigned_to_user` (prospects only; other objects leave it `Any`).
    pub assignment: Assignment,
    /// Sort key.
    pub sort: SortKey,
    /// Descending order.
    pub descending: bool,
    /// Rows skipped.
    pub offset: usize,
    /// Most rows returned.
    pub limit: usize,
}

impl Query {
    pub(super) fn admits(&self, p: &Prospect) -> bool {
        self.admits_record(p.id, p.created_at, p.updated_at, p.deleted)
            && self.assignment.admits(p.assigned_user())
    }

    /// Whether a record with this id, these times and this flag is within the id and time
    /// ranges and `deleted`.
    pub(crate) fn admits_record(
        &self,
        id: u64,
        created_at: SystemTime,
        updated_at: SystemTime,
        deleted: bool,
    ) -> bool {
        self.deleted.admits(deleted)
            && self.id_greater_than.is_none_or(|v| id > v)
            && self.id_less_than.is_none_or(|v| id < v)
            && self.created_after.is_none_or(|v| created_at > v)
            && self.created_before.is_none_or(|v| created_at < v)
            && self.updated_after.is_none_or(|v| updated_at > v)
            && self.updated_before.is_none_or(|v| updated_at < v)
    }

    /// The page of `matches` (sorted ascending) this query shows: the order turned when it
    /// is descending, then `offset` skipped and at most `limit` taken.
    pub(crate) fn page<T>(&self, mut matches: Vec<T>) -> impl Iterator<Item = T> {
        if self.descending {
            matches.reverse();
        }
        matches.into_iter().skip(self.offset).take(self.limit)
    }

    /// Whether the matches are a run of the id-ordered store: sorted by id, filtered by id
    /// and the deleted flag only.
    pub(super) fn is_id_range(&self) -> bool {
        self.sort == SortKey::Id
            && self.assignment == Assignment::Any
            && self.created_after.is_none()
            && self.created_before.is_none()
            && self.updated_after.is_none()
            && self.updated_before.is_none()
    }
}
