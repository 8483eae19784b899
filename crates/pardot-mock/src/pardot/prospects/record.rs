//! One prospect: its typed fields, its text fields by name, and their values as nodes.

use std::num::NonZeroU32;
use std::time::SystemTime;

use super::fields::{FLAG_FIELDS, RECENT_INTERACTION, Slot, flag_index, text_index};
use super::texts::Texts;
use crate::pardot::errors::ApiError;
use crate::pardot::render::Node;
use crate::pardot::time::{iso_datetime, pardot_datetime};

/// A prospect's campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Campaign id.
    pub id: u64,
    /// Campaign name.
    pub name: Option<String>,
}

/// What `recent_interaction` says until something else is set: not stored per prospect, see
/// [`NEVER_ACTIVE_BIT`].
pub(super) const NEVER_ACTIVE: &str = "Never active";
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
    pub(super) text: Texts,
    /// The id of the Pardot user the prospect is assigned to (`do/assign`), if any: 32 bits
    /// fit in the padding after the flags, so a prospect stays as small as it was.
    assigned_user: Option<NonZeroU32>,
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
            assigned_user: None,
            score: 0,
            last_activity_at: None,
            created_at: now,
            updated_at: now,
            flags: NEVER_ACTIVE_BIT,
            deleted: false,
        }
    }

    /// Text field `i` (an index into [`TEXT_FIELDS`](super::fields::TEXT_FIELDS)).
    pub(super) fn text_at(&self, i: usize) -> Option<&str> {
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

    /// The value of the custom field kept in text slot `slot`.
    pub fn custom_text(&self, slot: usize) -> Option<&str> {
        self.text.get(slot)
    }

    /// Sets (or with `None` clears) the custom field kept in text slot `slot`.
    pub(super) fn set_custom_text(&mut self, slot: usize, value: Option<&str>) {
        self.text.set(slot, value);
    }

    /// The id of the user the prospect is assigned to, if any.
    pub fn assigned_user(&self) -> Option<u64> {
        self.assigned_user.map(|u| u64::from(u.get()))
    }

    /// Assigns the prospect to the user with `id` (or with `None` unassigns it). Code 10 for
    /// an id the record cannot hold (0, or above `u32::MAX`: no Pardot user id is).
    pub(crate) fn set_assigned_user(&mut self, id: Option<u64>) -> Result<(), ApiError> {
        self.assigned_user = id
            .map(|id| {
                u32::try_from(id)
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or_else(|| ApiError::code(10))
            })
            .transpose()?;
        Ok(())
    }

    pub(super) fn flag(&self, i: usize) -> bool {
        self.flags & (1 << i) != 0
    }

    /// The email address.
    pub fn email(&self) -> &str {
        self.text_at(3).unwrap_or_default()
    }

    /// Whether the prospect is not deleted and has `email` (case-insensitive).
    pub(super) fn is_live_with_email(&self, email: &str) -> bool {
        !self.deleted && self.email().eq_ignore_ascii_case(email)
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
                self.last_activity_at = Some(
                    crate::pardot::time::parse_datetime(value).ok_or_else(|| ApiError::code(7))?,
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn slot(&self, slot: Slot, iso: bool) -> Node {
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
}
