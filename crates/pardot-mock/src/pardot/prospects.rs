//! Prospects: the record, its v3/v4 and v5 renderings, and a business unit's mutable store
//! with the query, sort and paging rules of both API generations.

use std::fmt::Write as _;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use super::errors::ApiError;
use super::render::{Node, field};
use super::time::{iso_datetime, pardot_datetime};

/// Text fields, in the order v3/v4 render them (with the typed fields between them, see
/// [`LAYOUT`]).
const TEXT_FIELDS: [&str; 34] = [
    "salutation",
    "first_name",
    "last_name",
    "email",
    "password",
    "company",
    "website",
    "job_title",
    "department",
    "country",
    "address_one",
    "address_two",
    "city",
    "state",
    "territory",
    "zip",
    "phone",
    "fax",
    "source",
    "annual_revenue",
    "employees",
    "industry",
    "years_in_business",
    "comments",
    "notes",
    "grade",
    "recent_interaction",
    "crm_lead_fid",
    "crm_contact_fid",
    "crm_owner_fid",
    "crm_account_fid",
    "salesforce_fid",
    "crm_last_sync",
    "crm_url",
];

const FLAG_FIELDS: [&str; 5] = [
    "is_do_not_email",
    "is_do_not_call",
    "opted_out",
    "is_reviewed",
    "is_starred",
];

fn text_index(name: &str) -> Option<usize> {
    TEXT_FIELDS.iter().position(|f| *f == name)
}

fn flag_index(name: &str) -> Option<usize> {
    FLAG_FIELDS.iter().position(|f| *f == name)
}

/// Where a rendered field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `id`.
    Id,
    /// `campaign_id`.
    CampaignId,
    /// A text field (index into the text table).
    Text(usize),
    /// `score`.
    Score,
    /// `last_activity_at`.
    LastActivityAt,
    /// A boolean flag (index into the flag table).
    Flag(usize),
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
}

/// The v3/v4 field order (spec §5.4; Crim/pardot-java-client `prospectQuery.xml`), with the
/// nested `campaign` element rendered after it.
const LAYOUT: &[(&str, Slot)] = &[
    ("id", Slot::Id),
    ("campaign_id", Slot::CampaignId),
    ("salutation", Slot::Text(0)),
    ("first_name", Slot::Text(1)),
    ("last_name", Slot::Text(2)),
    ("email", Slot::Text(3)),
    ("password", Slot::Text(4)),
    ("company", Slot::Text(5)),
    ("website", Slot::Text(6)),
    ("job_title", Slot::Text(7)),
    ("department", Slot::Text(8)),
    ("country", Slot::Text(9)),
    ("address_one", Slot::Text(10)),
    ("address_two", Slot::Text(11)),
    ("city", Slot::Text(12)),
    ("state", Slot::Text(13)),
    ("territory", Slot::Text(14)),
    ("zip", Slot::Text(15)),
    ("phone", Slot::Text(16)),
    ("fax", Slot::Text(17)),
    ("source", Slot::Text(18)),
    ("annual_revenue", Slot::Text(19)),
    ("employees", Slot::Text(20)),
    ("industry", Slot::Text(21)),
    ("years_in_business", Slot::Text(22)),
    ("comments", Slot::Text(23)),
    ("notes", Slot::Text(24)),
    ("score", Slot::Score),
    ("grade", Slot::Text(25)),
    ("last_activity_at", Slot::LastActivityAt),
    ("recent_interaction", Slot::Text(26)),
    ("crm_lead_fid", Slot::Text(27)),
    ("crm_contact_fid", Slot::Text(28)),
    ("crm_owner_fid", Slot::Text(29)),
    ("crm_account_fid", Slot::Text(30)),
    ("salesforce_fid", Slot::Text(31)),
    ("crm_last_sync", Slot::Text(32)),
    ("crm_url", Slot::Text(33)),
    ("is_do_not_email", Slot::Flag(0)),
    ("is_do_not_call", Slot::Flag(1)),
    ("opted_out", Slot::Flag(2)),
    ("is_reviewed", Slot::Flag(3)),
    ("is_starred", Slot::Flag(4)),
    ("created_at", Slot::CreatedAt),
    ("updated_at", Slot::UpdatedAt),
];

/// The v5 name of a v3/v4 field: camelCase, with `salesforce_fid` renamed `salesforceId`.
pub fn v5_name(snake: &str) -> String {
    if snake == "salesforce_fid" {
        return "salesforceId".to_owned();
    }
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A prospect's campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Campaign id.
    pub id: u64,
    /// Campaign name.
    pub name: Option<String>,
}

/// The text fields that are set, in one allocation (most of the 34 are empty, and a large
/// store's memory was dominated first by 34 `Option<String>`, then by one `Box<str>` per set
/// field). Entries are in index order; each is its index into [`TEXT_FIELDS`] (one char), its
/// length in bytes (base-64 digits, least significant first, one char each with 0x40 set on
/// all but the last) and its text. Every header char is ASCII, so the whole is a `str` and a
/// value is a slice of it, with no UTF-8 check on reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Texts(Box<str>);

/// The entries of a [`Texts`], in index order.
struct TextEntries<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for TextEntries<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        // A malformed table (which `Texts::set` never writes) ends the iteration: no panic.
        let bytes = self.text.as_bytes();
        let key = *bytes.get(self.pos)?;
        let mut pos = self.pos + 1;
        let mut len = 0usize;
        let mut shift = 0u32;
        loop {
            let digit = *bytes.get(pos)?;
            pos += 1;
            len |= usize::from(digit & 0x3f).checked_shl(shift)?;
            if digit & 0x40 == 0 {
                break;
            }
            shift += 6;
        }
        let end = pos.checked_add(len)?;
        let value = self.text.get(pos..end)?;
        self.pos = end;
        Some((usize::from(key), value))
    }
}

impl Texts {
    fn entries(&self) -> TextEntries<'_> {
        TextEntries {
            text: &self.0,
            pos: 0,
        }
    }

    /// Field `i`, by walking the headers (the hot path of every page: a tight loop, with the
    /// one-digit length of almost every value decoded inline).
    fn get(&self, i: usize) -> Option<&str> {
        let bytes = self.0.as_bytes();
        let mut pos = 0;
        while let (Some(&key), Some(&digit)) = (bytes.get(pos), bytes.get(pos + 1)) {
            let key = usize::from(key);
            if key > i {
                return None;
            }
            let (start, end) = if digit & 0x40 == 0 {
                (pos + 2, pos + 2 + usize::from(digit))
            } else {
                let mut entries = TextEntries { text: &self.0, pos };
                let (_, value) = entries.next()?;
                (entries.pos - value.len(), entries.pos)
            };
            if key == i {
                return self.0.get(start..end);
            }
            pos = end;
        }
        None
    }

    /// The bytes one entry takes.
    fn entry_len(value: &str) -> usize {
        let mut digits = 1;
        let mut n = value.len() >> 6;
        while n > 0 {
            digits += 1;
            n >>= 6;
        }
        1 + digits + value.len()
    }

    fn push_entry(out: &mut String, key: u8, value: &str) {
        out.push(char::from(key));
        let mut n = value.len();
        loop {
            // Both casts keep 6 bits; the digit stays ASCII either way.
            let digit = (n & 0x3f) as u8;
            n >>= 6;
            if n == 0 {
                out.push(char::from(digit));
                break;
            }
            out.push(char::from(digit | 0x40));
        }
        out.push_str(value);
    }

    /// Sets (or with `None` clears) field `i`, an index into [`TEXT_FIELDS`]. The table is
    /// rewritten into an allocation of exactly its size: a prospect has a handful of fields and
    /// is kept for the process's life, so writes pay for compact reads and storage.
    fn set(&mut self, i: usize, value: Option<&str>) {
        let Some(key) = u8::try_from(i).ok().filter(|_| i < TEXT_FIELDS.len()) else {
            return;
        };
        if value.is_none() && self.get(i).is_none() {
            return;
        }
        let size: usize = self
            .entries()
            .filter(|(k, _)| *k != i)
            .map(|(_, v)| Self::entry_len(v))
            .sum::<usize>()
            + value.map_or(0, Self::entry_len);
        let mut out = String::with_capacity(size);
        let mut pending = value;
        for (k, v) in self.entries() {
            if k == i {
                continue;
            }
            if k > i
                && let Some(value) = pending.take()
            {
                Self::push_entry(&mut out, key, value);
            }
            // `k` came from a table only `set` writes: always an index below 34.
            Self::push_entry(&mut out, u8::try_from(k).unwrap_or(u8::MAX), v);
        }
        if let Some(value) = pending {
            Self::push_entry(&mut out, key, value);
        }
        self.0 = out.into_boxed_str();
    }
}

/// The index of `recent_interaction` in [`TEXT_FIELDS`].
const RECENT_INTERACTION: usize = 26;
/// What `recent_interaction` says until something else is set: not stored per prospect, see
/// [`NEVER_ACTIVE_BIT`].
const NEVER_ACTIVE: &str = "Never active";
/// The bit of [`Prospect`]'s flags (after the [`FLAG_FIELDS`]) that says `recent_interaction`
/// is [`NEVER_ACTIVE`].
const NEVER_ACTIVE_BIT: u8 = 1 << FLAG_FIELDS.len();

/// One prospect.
#[derive(Debug, Clone, PartialEq)]
pub struct Prospect {
    /// Numeric id (unique within the business unit).
    pub id: u64,
    /// The campaign, if any (boxed: rarely set, and a pointer is a third of its size).
    pub campaign: Option<Box<Campaign>>,
    text: Texts,
    /// Score.
    pub score: i64,
    /// Last activity.
    pub last_activity_at: Option<SystemTime>,
    /// Created.
    pub created_at: SystemTime,
    /// Last updated.
    pub updated_at: SystemTime,
    /// Bit `i` is [`FLAG_FIELDS`]`[i]`; then [`NEVER_ACTIVE_BIT`].
    flags: u8,
    /// Deleted (in the recycle bin): hidden unless a query asks for deleted prospects.
    pub deleted: bool,
}

impl Prospect {
    /// A new prospect with an email address, created at `now`.
    pub fn new(id: u64, email: &str, now: SystemTime) -> Self {
        let mut text = Texts::default();
        text.set(3, Some(email));
        Self {
            id,
            campaign: None,
            text,
            score: 0,
            last_activity_at: None,
            created_at: now,
            updated_at: now,
            flags: NEVER_ACTIVE_BIT,
            deleted: false,
        }
    }

    /// Text field `i` (an index into [`TEXT_FIELDS`]).
    fn text_at(&self, i: usize) -> Option<&str> {
        if i == RECENT_INTERACTION && self.flags & NEVER_ACTIVE_BIT != 0 {
            return Some(NEVER_ACTIVE);
        }
        self.text.get(i)
    }

    /// Sets (or with `None` clears) text field `i`.
    fn set_text_at(&mut self, i: usize, value: Option<&str>) {
        if i == RECENT_INTERACTION {
            // The default is a bit, not text; setting the same words explicitly is the same
            // state, so prospects compare equal however they got there.
            if value == Some(NEVER_ACTIVE) {
                self.text.set(i, None);
                self.flags |= NEVER_ACTIVE_BIT;
                return;
            }
            self.flags &= !NEVER_ACTIVE_BIT;
        }
        self.text.set(i, value);
    }

    fn flag(&self, i: usize) -> bool {
        self.flags & (1 << i) != 0
    }

    /// The email address.
    pub fn email(&self) -> &str {
        self.text_at(3).unwrap_or_default()
    }

    /// A text field by its v3/v4 name.
    pub fn text(&self, name: &str) -> Option<&str> {
        text_index(name).and_then(|i| self.text_at(i))
    }

    /// Sets one field from a v3/v4 parameter or a config entry. `Ok(false)` when `name` is not
    /// a settable prospect field (the caller ignores it: Pardot ignores unknown parameters).
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ApiError> {
        if let Some(i) = text_index(name) {
            self.set_text_at(i, (!value.is_empty()).then_some(value));
            return Ok(true);
        }
        if let Some(i) = flag_index(name) {
            let on = match value.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" | "" => false,
                _ => return Err(ApiError::code(50)),
            };
            if on {
                self.flags |= 1 << i;
            } else {
                self.flags &= !(1 << i);
            }
            return Ok(true);
        }
        match name {
            "score" => {
                self.score = value.trim().parse().map_err(|_| ApiError::code(29))?;
            }
            "campaign_id" => {
                let id = value.trim().parse().map_err(|_| ApiError::code(38))?;
                match &mut self.campaign {
                    Some(c) => c.id = id,
                    None => self.campaign = Some(Box::new(Campaign { id, name: None })),
                }
            }
            "campaign_name" => match &mut self.campaign {
                Some(c) => c.name = Some(value.to_owned()),
                None => return Err(ApiError::code(38)),
            },
            "last_activity_at" => {
                self.last_activity_at =
                    Some(super::time::parse_datetime(value).ok_or_else(|| ApiError::code(7))?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn slot(&self, slot: Slot, iso: bool) -> Node {
        let time = |t: SystemTime| {
            Node::Text(if iso {
                iso_datetime(t)
            } else {
                pardot_datetime(t)
            })
        };
        match slot {
            Slot::Id => Node::Int(i64::try_from(self.id).unwrap_or(i64::MAX)),
            Slot::CampaignId => self.campaign.as_ref().map_or(Node::Null, |c| {
                Node::Int(i64::try_from(c.id).unwrap_or(i64::MAX))
            }),
            Slot::Text(i) => Node::opt_text(self.text_at(i)),
            Slot::Score => Node::Int(self.score),
            Slot::LastActivityAt => self.last_activity_at.map_or(Node::Null, time),
            Slot::Flag(i) => Node::Bool(self.flag(i)),
            Slot::CreatedAt => time(self.created_at),
            Slot::UpdatedAt => time(self.updated_at),
        }
    }

    fn campaign_node(&self) -> Option<Node> {
        self.campaign.as_ref().map(|c| {
            Node::Record(vec![
                field("id", Node::Int(i64::try_from(c.id).unwrap_or(i64::MAX))),
                field("name", Node::opt_text(c.name.as_deref())),
            ])
        })
    }

    /// The v3/v4 `<prospect>` record; `fields` (v4) limits it to the named fields (`id` is
    /// always included, as Pardot does).
    pub fn v34_record(&self, fields: Option<&[String]>) -> Node {
        let wanted =
            |name: &str| fields.is_none_or(|f| name == "id" || f.iter().any(|w| w == name));
        let mut out: Vec<(String, Node)> = LAYOUT
            .iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, slot)| field(name, self.slot(*slot, false)))
            .collect();
        if wanted("campaign")
            && let Some(campaign) = self.campaign_node()
        {
            out.push(field("campaign", campaign));
        }
        Node::Record(out)
    }

    /// Writes the v5 record with exactly the requested (already validated) fields as JSON
    /// into `out`: the same bytes as `render::write_json(&self.v5_record(fields), out)`,
    /// without building the tree (a page of 200 prospects would otherwise allocate a key and a
    /// value per field).
    pub fn write_v5_json(&self, fields: &[V5Field], out: &mut String) {
        use super::render::{write_json, write_json_string};
        out.push('{');
        let mut first = true;
        let mut separator = |out: &mut String| {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
        };
        for f in fields {
            match f {
                V5Field::Plain { v5, slot } => {
                    separator(out);
                    write_json_string(v5, out);
                    out.push(':');
                    match slot {
                        Slot::Text(i) => match self.text_at(*i) {
                            Some(text) => write_json_string(text, out),
                            None => out.push_str("null"),
                        },
                        slot => write_json(&self.slot(*slot, true), out),
                    }
                }
                V5Field::IsDeleted => {
                    separator(out);
                    out.push_str(if self.deleted {
                        "\"isDeleted\":true"
                    } else {
                        "\"isDeleted\":false"
                    });
                }
                V5Field::CampaignId | V5Field::CampaignName => {}
            }
        }
        // The nested campaign comes last, its members in the order they were asked for.
        let mut campaign_fields = fields
            .iter()
            .filter(|f| matches!(f, V5Field::CampaignId | V5Field::CampaignName))
            .peekable();
        if campaign_fields.peek().is_some() {
            separator(out);
            out.push_str("\"campaign\":");
            match &self.campaign {
                None => out.push_str("null"),
                Some(c) => {
                    out.push('{');
                    for (i, f) in campaign_fields.enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        if *f == V5Field::CampaignId {
                            let _ =
                                write!(out, "\"id\":{}", i64::try_from(c.id).unwrap_or(i64::MAX));
                        } else {
                            out.push_str("\"name\":");
                            match c.name.as_deref() {
                                Some(name) => write_json_string(name, out),
                                None => out.push_str("null"),
                            }
                        }
                    }
                    out.push('}');
                }
            }
        }
        out.push('}');
    }

    /// The v5 record with exactly the requested (already validated) fields, as a tree: the
    /// reference [`Prospect::write_v5_json`] is tested against.
    #[cfg(test)]
    pub fn v5_record(&self, fields: &[V5Field]) -> Node {
        let mut out: Vec<(String, Node)> = Vec::with_capacity(fields.len());
        let mut campaign: Vec<(String, Node)> = Vec::new();
        for f in fields {
            match f {
                V5Field::Plain { v5, slot } => out.push(field(v5, self.slot(*slot, true))),
                V5Field::IsDeleted => out.push(field("isDeleted", Node::Bool(self.deleted))),
                V5Field::CampaignId => campaign.push(field(
                    "id",
                    self.campaign.as_ref().map_or(Node::Null, |c| {
                        Node::Int(i64::try_from(c.id).unwrap_or(i64::MAX))
                    }),
                )),
                V5Field::CampaignName => campaign.push(field(
                    "name",
                    Node::opt_text(self.campaign.as_ref().and_then(|c| c.name.as_deref())),
                )),
            }
        }
        if !campaign.is_empty() {
            out.push(field(
                "campaign",
                if self.campaign.is_some() {
                    Node::Record(campaign)
                } else {
                    Node::Null
                },
            ));
        }
        Node::Record(out)
    }
}

/// Checks a v4 `fields` list (comma-separated v3/v4 names): code 130 when one is unknown.
pub fn parse_v4_fields(text: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name != "campaign" && !LAYOUT.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::code(130));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// A field a v5 request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V5Field {
    /// A top-level field.
    Plain {
        /// Its v5 (camelCase) name.
        v5: String,
        /// Where its value comes from.
        slot: Slot,
    },
    /// `isDeleted`.
    IsDeleted,
    /// `campaign.id`.
    CampaignId,
    /// `campaign.name`.
    CampaignName,
}

/// Parses a v5 `fields` list. Field names are case-sensitive camelCase; an unknown one is a
/// validation error naming it.
pub fn parse_v5_fields(text: &str) -> Result<Vec<V5Field>, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let parsed = match name {
            "isDeleted" => V5Field::IsDeleted,
            "campaign.id" => V5Field::CampaignId,
            "campaign.name" => V5Field::CampaignName,
            _ => LAYOUT
                .iter()
                .find(|(snake, _)| v5_name(snake) == name)
                .map(|(_, slot)| V5Field::Plain {
                    v5: name.to_owned(),
                    slot: *slot,
                })
                .ok_or_else(|| format!("Invalid field: {name}"))?,
        };
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    if out.is_empty() {
        return Err("The fields parameter is required.".to_owned());
    }
    Ok(out)
}

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

    fn admits(self, deleted: bool) -> bool {
        match self {
            Self::No => !deleted,
            Self::Only => deleted,
            Self::All => true,
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
}

/// A prospect query (both generations), after its parameters were validated.
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
    fn admits(&self, p: &Prospect) -> bool {
        self.deleted.admits(p.deleted)
            && self.id_greater_than.is_none_or(|v| p.id > v)
            && self.id_less_than.is_none_or(|v| p.id < v)
            && self.created_after.is_none_or(|v| p.created_at > v)
            && self.created_before.is_none_or(|v| p.created_at < v)
            && self.updated_after.is_none_or(|v| p.updated_at > v)
            && self.updated_before.is_none_or(|v| p.updated_at < v)
    }

    /// Whether the matches are a run of the id-ordered store: sorted by id, filtered by id
    /// and the deleted flag only.
    fn is_id_range(&self) -> bool {
        self.sort == SortKey::Id
            && self.created_after.is_none()
            && self.created_before.is_none()
            && self.updated_after.is_none()
            && self.updated_before.is_none()
    }
}

struct Inner {
    /// Ordered by id. Shared so a query copies pointers, not 34 strings per prospect.
    prospects: Vec<Arc<Prospect>>,
    /// How many of `prospects` are deleted: with none, an id-ordered page is found by
    /// position instead of by looking at every prospect before it. Only the configuration
    /// deletes (no route does, and a write keeps the flag), so it is counted when the store is
    /// filled.
    deleted: usize,
    next_id: u64,
}

impl Inner {
    fn new(mut prospects: Vec<Arc<Prospect>>) -> Self {
        prospects.sort_by_key(|p| p.id);
        let next_id = prospects.last().map_or(1, |p| p.id + 1);
        let deleted = prospects.iter().filter(|p| p.deleted).count();
        Self {
            prospects,
            deleted,
            next_id,
        }
    }

    /// Any query: filters every prospect, sorts the matches, pages.
    fn query_sorted(&self, q: &Query) -> (usize, Vec<Arc<Prospect>>) {
        let mut matches: Vec<&Arc<Prospect>> =
            self.prospects.iter().filter(|p| q.admits(p)).collect();
        let total = matches.len();
        match q.sort {
            // Already in id order.
            SortKey::Id => {}
            SortKey::CreatedAt => matches.sort_by_key(|p| (p.created_at, p.id)),
            SortKey::UpdatedAt => matches.sort_by_key(|p| (p.updated_at, p.id)),
            SortKey::LastActivityAt => matches.sort_by_key(|p| (p.last_activity_at, p.id)),
        }
        if q.descending {
            matches.reverse();
        }
        let page = matches
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .cloned()
            .collect();
        (total, page)
    }

    /// A query for which [`Query::is_id_range`] holds, with the same answer as
    /// [`Inner::query_sorted`]: the id bounds by binary search, the page by position when no
    /// prospect is deleted (the usual case), so a page of a large store costs the page, not
    /// the store.
    fn query_id_range(&self, q: &Query) -> (usize, Vec<Arc<Prospect>>) {
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
                range[total - to..total - from]
                    .iter()
                    .rev()
                    .cloned()
                    .collect()
            } else {
                range[from..to].to_vec()
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
        (total, page)
    }
}

/// The prospects of one business unit. Every operation takes the lock briefly and never
/// across an await, so concurrent requests only contend for the microseconds a copy takes.
pub struct ProspectStore {
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for ProspectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProspectStore")
            .field("count", &self.count())
            .finish()
    }
}

impl ProspectStore {
    /// A store holding `prospects` (any order; ids must be unique).
    pub fn new(prospects: Vec<Arc<Prospect>>) -> Self {
        Self {
            inner: RwLock::new(Inner::new(prospects)),
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
        let inner = self.read();
        if q.is_id_range() {
            inner.query_id_range(q)
        } else {
            inner.query_sorted(q)
        }
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
            .filter(|p| !p.deleted && p.email().eq_ignore_ascii_case(email))
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
        if !allow_duplicates
            && inner
                .prospects
                .iter()
                .any(|p| !p.deleted && p.email().eq_ignore_ascii_case(email))
        {
            return Err(ApiError::code(9));
        }
        let mut prospect = Prospect::new(inner.next_id, email, now);
        apply(&mut prospect, params, false)?;
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
        let mut inner = self.write();
        let Ok(i) = inner.prospects.binary_search_by_key(&id, |p| p.id) else {
            return Err(ApiError::code(3));
        };
        if inner.prospects[i].deleted {
            return Err(ApiError::code(3));
        }
        update(Arc::make_mut(&mut inner.prospects[i]), params, now)
    }

    /// Updates the first prospect with `email` (code 4 when there is none).
    pub fn update_by_email(
        &self,
        email: &str,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<Prospect, ApiError> {
        let mut inner = self.write();
        let Some(p) = inner
            .prospects
            .iter_mut()
            .find(|p| !p.deleted && p.email().eq_ignore_ascii_case(email))
        else {
            return Err(ApiError::code(4));
        };
        update(Arc::make_mut(p), params, now)
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
        *self.write() = Inner::new(prospects);
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

fn apply(p: &mut Prospect, params: &[(String, String)], allow_email: bool) -> Result<(), ApiError> {
    for (name, value) in params {
        if name == "email" && !allow_email {
            continue;
        }
        if name == "email" && !looks_like_email(value) {
            return Err(ApiError::code(4));
        }
        p.set(name, value)?;
    }
    Ok(())
}

fn update(
    p: &mut Prospect,
    params: &[(String, String)],
    now: SystemTime,
) -> Result<Prospect, ApiError> {
    // Validate on a copy so a bad parameter leaves the stored prospect untouched.
    let mut changed = p.clone();
    apply(&mut changed, params, true)?;
    changed.updated_at = now;
    *p = changed;
    Ok(p.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn store() -> ProspectStore {
        let mut a = Prospect::new(10, "a@example.com", t(30));
        a.set("first_name", "Ada").unwrap();
        let b = Prospect::new(11, "b@example.com", t(10));
        let mut c = Prospect::new(12, "c@example.com", t(20));
        c.deleted = true;
        ProspectStore::new(vec![Arc::new(c), Arc::new(a), Arc::new(b)])
    }

    #[test]
    fn query_filters_sorts_and_pages() {
        let s = store();
        let q = Query {
            limit: 200,
            ..Query::default()
        };
        let (total, page) = s.query(&q);
        assert_eq!(total, 2);
        assert_eq!(page.iter().map(|p| p.id).collect::<Vec<_>>(), [10, 11]);
        let q = Query {
            limit: 1,
            offset: 1,
            sort: SortKey::CreatedAt,
            descending: true,
            deleted: Deleted::All,
            ..Query::default()
        };
        let (total, page) = s.query(&q);
        assert_eq!(total, 3);
        assert_eq!(page[0].id, 12);
        let q = Query {
            limit: 5,
            id_greater_than: Some(10),
            ..Query::default()
        };
        assert_eq!(s.query(&q).1.iter().map(|p| p.id).collect::<Vec<_>>(), [11]);
    }

    #[test]
    fn writes() {
        let s = store();
        assert_eq!(
            s.create("A@example.com", &[], false, t(40))
                .unwrap_err()
                .code,
            9
        );
        let p = s
            .create(
                "new@example.com",
                &[("company".into(), "Acme".into())],
                false,
                t(40),
            )
            .unwrap();
        assert_eq!((p.id, p.text("company")), (13, Some("Acme")));
        assert_eq!(s.create("nope", &[], true, t(40)).unwrap_err().code, 4);
        assert_eq!(s.update_by_id(12, &[], t(50)).unwrap_err().code, 3);
        let p = s
            .update_by_id(10, &[("score".into(), "42".into())], t(50))
            .unwrap();
        assert_eq!((p.score, p.updated_at), (42, t(50)));
        assert_eq!(
            s.update_by_id(10, &[("score".into(), "x".into())], t(60))
                .unwrap_err()
                .code,
            29
        );
        assert_eq!(s.by_id(10).unwrap().updated_at, t(50));
        let p = s.upsert_by_email("up@example.com", &[], t(70)).unwrap();
        assert_eq!(p.id, 14);
        assert_eq!(
            s.upsert_by_email("up@example.com", &[("city".into(), "Oslo".into())], t(80))
                .unwrap()
                .id,
            14
        );
    }

    #[test]
    fn renderings() {
        let mut p = Prospect::new(7, "x@example.com", t(0));
        p.set("campaign_id", "3").unwrap();
        p.set("campaign_name", "Web").unwrap();
        let fields = parse_v4_fields("email,campaign").unwrap();
        let Node::Record(rec) = p.v34_record(Some(&fields)) else {
            panic!()
        };
        let names: Vec<_> = rec.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["id", "email", "campaign"]);
        assert_eq!(parse_v4_fields("bogus").unwrap_err().code, 130);
        let v5 = parse_v5_fields("id,email,firstName,campaign.name,salesforceId").unwrap();
        let Node::Record(rec) = p.v5_record(&v5) else {
            panic!()
        };
        let names: Vec<_> = rec.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["id", "email", "firstName", "salesforceId", "campaign"]
        );
        assert_eq!(
            parse_v5_fields("first_name").unwrap_err(),
            "Invalid field: first_name"
        );
        assert!(parse_v5_fields("").is_err());
    }

    #[test]
    fn write_v5_json_matches_the_tree_rendering() {
        let mut odd = Prospect::new(9, "q\"uote@example.com", t(5));
        odd.set(
            "first_name",
            "Back\\slash \u{1}\u{8}\n\t\u{1f}\u{7f} Ünï 🦀",
        )
        .unwrap();
        odd.set("campaign_id", "4").unwrap();
        odd.set("campaign_name", "C \"1\"").unwrap();
        odd.set("is_starred", "1").unwrap();
        odd.set("score", "-3").unwrap();
        odd.set("last_activity_at", "2025-01-02 03:04:05").unwrap();
        odd.deleted = true;
        let mut unnamed = Prospect::new(10, "n@example.com", t(6));
        unnamed.set("campaign_id", "8").unwrap();
        let plain = Prospect::new(11, "p@example.com", t(7));
        let all: Vec<String> = LAYOUT.iter().map(|(snake, _)| v5_name(snake)).collect();
        let lists = [
            "id".to_owned(),
            "campaign.name".to_owned(),
            "campaign.name,campaign.id,id".to_owned(),
            "email,isDeleted,campaign.id,firstName,campaign.name".to_owned(),
            format!("{},isDeleted,campaign.id,campaign.name", all.join(",")),
        ];
        for list in &lists {
            let fields = parse_v5_fields(list).unwrap();
            for p in [&odd, &unnamed, &plain] {
                let mut want = String::new();
                super::super::render::write_json(&p.v5_record(&fields), &mut want);
                let mut got = String::new();
                p.write_v5_json(&fields, &mut got);
                assert_eq!(got, want, "fields {list}, prospect {}", p.id);
            }
        }
    }

    #[test]
    fn text_fields_set_overwrite_and_clear() {
        let mut p = Prospect::new(1, "a@example.com", t(0));
        assert_eq!((p.email(), p.text("city")), ("a@example.com", None));
        p.set("city", "Paris").unwrap();
        p.set("address_one", "1 Rue").unwrap();
        p.set("city", "Lyon").unwrap();
        assert_eq!(
            (p.text("city"), p.text("address_one")),
            (Some("Lyon"), Some("1 Rue"))
        );
        p.set("city", "").unwrap();
        assert_eq!(
            (p.text("city"), p.text("address_one")),
            (None, Some("1 Rue"))
        );
        // The same fields set in another order compare equal (kept sorted by index).
        let mut q = Prospect::new(1, "a@example.com", t(0));
        q.set("address_one", "1 Rue").unwrap();
        assert_eq!(p, q);
        p.set("email", "b@example.com").unwrap();
        assert_eq!(p.email(), "b@example.com");
        assert_eq!(p.text("recent_interaction"), Some("Never active"));
    }

    /// A small deterministic generator (xorshift64*), so the randomized tests below need no
    /// new dependency and fail the same way every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }

    #[test]
    fn every_text_field_round_trips() {
        let pieces = [
            "",
            "a",
            "Ünï",
            "🦀",
            "x\"\n",
            "Never active",
            "0123456789abcdef",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut p = Prospect::new(1, "a@example.com", t(0));
            let mut want: Vec<Option<String>> = vec![None; TEXT_FIELDS.len()];
            want[3] = Some("a@example.com".to_owned());
            want[RECENT_INTERACTION] = Some(NEVER_ACTIVE.to_owned());
            for _ in 0..60 {
                let field = rng.below(TEXT_FIELDS.len());
                // Lengths around the one-, two- and three-digit length encodings.
                let repeat = [0, 1, 3, 63, 64, 700, 4096, 5000][rng.below(8)];
                let value = pieces[rng.below(pieces.len())].repeat(repeat.max(1) / 4 + 1);
                let value = if rng.below(5) == 0 {
                    String::new()
                } else {
                    value
                };
                assert!(p.set(TEXT_FIELDS[field], &value).unwrap());
                want[field] = (!value.is_empty()).then_some(value);
                for (i, name) in TEXT_FIELDS.iter().enumerate() {
                    assert_eq!(p.text(name), want[i].as_deref(), "field {name}");
                }
                assert_eq!(p.email(), want[3].as_deref().unwrap_or_default());
            }
            // However a state was reached, the same state compares equal.
            let mut q = Prospect::new(1, "a@example.com", t(0));
            for (i, name) in TEXT_FIELDS.iter().enumerate() {
                q.set(name, want[i].as_deref().unwrap_or_default()).unwrap();
            }
            assert_eq!(p, q);
        }
    }

    #[test]
    fn a_prospect_stays_small() {
        // 100k of them are the memory of a large mock (issue 12): keep it within 96 bytes.
        assert!(std::mem::size_of::<Prospect>() <= 96);
        let mut p = Prospect::new(1, "prospect000001@bench.example", t(0));
        for (name, value) in [
            ("first_name", "First1"),
            ("last_name", "Last1"),
            ("company", "Acme"),
            ("grade", "B"),
        ] {
            p.set(name, value).unwrap();
        }
        // One allocation for every text field: the values and two bytes of header each.
        assert_eq!(p.text.0.len(), 28 + 6 + 5 + 4 + 1 + 5 * 2);
    }

    /// The id-ordered fast path answers exactly what the general path does.
    #[test]
    fn id_range_queries_match_the_general_path() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        for round in 0..300 {
            let n = rng.below(40);
            let mut id = 0;
            let deleted_share = [0, 0, 2, 5][round % 4];
            let prospects: Vec<Arc<Prospect>> = (0..n)
                .map(|_| {
                    id += 1 + rng.below(3) as u64;
                    let mut p = Prospect::new(id, "p@example.com", t(0));
                    p.deleted = deleted_share > 0 && rng.below(deleted_share) == 0;
                    Arc::new(p)
                })
                .collect();
            let inner = Inner::new(prospects);
            for _ in 0..20 {
                let bound =
                    |rng: &mut Rng| (rng.below(3) > 0).then(|| rng.below(id as usize + 3) as u64);
                let q = Query {
                    id_greater_than: bound(&mut rng),
                    id_less_than: bound(&mut rng),
                    deleted: [Deleted::No, Deleted::Only, Deleted::All][rng.below(3)],
                    descending: rng.below(2) == 0,
                    offset: rng.below(n + 3),
                    limit: 1 + rng.below(n + 3),
                    ..Query::default()
                };
                assert!(q.is_id_range());
                let ids = |(total, page): (usize, Vec<Arc<Prospect>>)| {
                    (total, page.iter().map(|p| p.id).collect::<Vec<_>>())
                };
                assert_eq!(
                    ids(inner.query_id_range(&q)),
                    ids(inner.query_sorted(&q)),
                    "{q:?}"
                );
            }
        }
    }
}
