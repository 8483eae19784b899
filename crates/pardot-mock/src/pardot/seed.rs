//! The configured prospects, converted once at start: what a reset (or a rebuilt Pardot state)
//! restores.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use pardot_auth_core::BusinessUnitId;

use super::objects::ConfiguredUsers;
use super::prospects::Prospect;
use super::time;
use crate::config::{ConfigError, ProspectConfig, invalid};

/// The configured prospects of every business unit, converted once at start: what a reset
/// (or a rebuilt Pardot state) restores. The configuration does not keep them: 100k configured
/// prospects held as config strings for the process's life were about as much memory again
/// as the prospects themselves.
#[derive(Debug, Default)]
pub(crate) struct ProspectSeed {
    /// By business unit, in `business_units` order.
    units: Vec<UnitSeed>,
}

#[derive(Debug, Default)]
struct UnitSeed {
    /// Sorted by id. The live store starts with the same `Arc`s, so a prospect is copied only
    /// when a write changes it (and the seed keeps the configured one).
    prospects: Vec<Arc<Prospect>>,
    /// Prospects without a configured `created_at`, by id: they carry the time of the start,
    /// and of each reset. `true` when `updated_at` was not configured either (it gets that
    /// time too).
    unstamped: Vec<(u64, bool)>,
}

impl ProspectSeed {
    /// Converts the configured prospects (`config.prospects`, taken out of the configuration)
    /// for the business units `by_id`, stamping those without times with `now`. The entries
    /// are consumed one by one, so each one's strings are freed as its prospect is made and a
    /// large configuration is not held twice at the peak.
    pub(super) fn convert(
        prospects: Vec<ProspectConfig>,
        by_id: &HashMap<BusinessUnitId, usize>,
        unit_count: usize,
        users: &ConfiguredUsers,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        let mut units: Vec<UnitSeed> = (0..unit_count).map(|_| UnitSeed::default()).collect();
        for (i, p) in prospects.into_iter().enumerate() {
            let bu = BusinessUnitId::parse(&p.business_unit)
                .map_err(|e| invalid(format!("prospects[{i}].business_unit: {e}")))?;
            // The model checked every reference; a prospect of no unit is not served.
            let Some((index, unit)) = by_id.get(&bu).and_then(|&u| Some((u, units.get_mut(u)?)))
            else {
                continue;
            };
            let (mut prospect, stamped) = seed_prospect(i, &p, now)?;
            if let Some(who) = &p.assigned_to {
                let user = users.find(index, who).ok_or_else(|| {
                    invalid(format!(
                        "prospects[{i}] (id {}).assigned_to: no Pardot user `{who}` (id or email) in its business unit",
                        p.id
                    ))
                })?;
                prospect.set_assigned_user(Some(user)).map_err(|_| {
                    invalid(format!(
                        "prospects[{i}] (id {}).assigned_to: user id {user} is out of range",
                        p.id
                    ))
                })?;
            }
            if let Some(updated_too) = stamped {
                unit.unstamped.push((prospect.id, updated_too));
            }
            unit.prospects.push(Arc::new(prospect));
        }
        for unit in &mut units {
            unit.prospects.sort_by_key(|p| p.id);
            unit.unstamped.sort_unstable();
        }
        Ok(Self { units })
    }

    /// The prospects of the unit at `index` as they are right after start.
    pub(super) fn initial(&self, index: usize) -> Vec<Arc<Prospect>> {
        self.units
            .get(index)
            .map(|u| u.prospects.clone())
            .unwrap_or_default()
    }

    /// The prospects of the unit at `index` as a reset at `now` restores them: those without
    /// configured times carry `now` (copied: the seed keeps its own).
    pub(super) fn at(&self, index: usize, now: SystemTime) -> Vec<Arc<Prospect>> {
        self.units.get(index).map_or_else(Vec::new, |unit| {
            restamped(&unit.prospects, &unit.unstamped, now)
        })
    }
}

/// A seeded record whose times a reset may stamp.
pub(super) trait Stamped: Clone {
    /// Its id (records are sorted by it).
    fn id(&self) -> u64;
    /// Its `created_at` and `updated_at`.
    fn times_mut(&mut self) -> (&mut SystemTime, &mut SystemTime);
}

impl Stamped for Prospect {
    fn id(&self) -> u64 {
        self.id
    }

    fn times_mut(&mut self) -> (&mut SystemTime, &mut SystemTime) {
        (&mut self.created_at, &mut self.updated_at)
    }
}

/// The records (sorted by id) with those configured without times stamped: each `(id,
/// updated_too)` of `unstamped` gets `now` as `created_at`, and as `updated_at` too when
/// `updated_too`, on a copy (the seed keeps its own).
pub(super) fn restamped<T: Stamped>(
    records: &[Arc<T>],
    unstamped: &[(u64, bool)],
    now: SystemTime,
) -> Vec<Arc<T>> {
    let mut out = records.to_vec();
    for &(id, updated_too) in unstamped {
        let Ok(i) = out.binary_search_by_key(&id, |r| r.id()) else {
            continue;
        };
        let (created_at, updated_at) = Arc::make_mut(&mut out[i]).times_mut();
        *created_at = now;
        if updated_too {
            *updated_at = now;
        }
    }
    out
}

/// Converts configured prospect `i`: the prospect, and `None` when its `created_at` was
/// configured, else `Some(updated_too)` (see [`UnitSeed::unstamped`]).
fn seed_prospect(
    i: usize,
    p: &ProspectConfig,
    now: SystemTime,
) -> Result<(Prospect, Option<bool>), ConfigError> {
    let what = || format!("prospects[{i}]");
    let mut prospect = Prospect::new(p.id, &p.email, now);
    let parse_time =
        |field: &str, text: &Option<String>| -> Result<Option<SystemTime>, ConfigError> {
            text.as_deref()
                .map(|t| {
                    time::parse_datetime(t).ok_or_else(|| {
                        invalid(format!(
                            "{}.{field} `{t}`: use `YYYY-MM-DD HH:MM:SS` (UTC)",
                            what()
                        ))
                    })
                })
                .transpose()
        };
    let created = parse_time("created_at", &p.created_at)?;
    let updated = parse_time("updated_at", &p.updated_at)?;
    if let Some(t) = created {
        prospect.created_at = t;
        prospect.updated_at = t;
    }
    if let Some(t) = updated {
        prospect.updated_at = t;
    }
    let stamped = created.is_none().then_some(updated.is_none());
    prospect.score = p.score;
    let mut set = |name: &str, value: &str| -> Result<(), ConfigError> {
        match prospect.set(name, value) {
            Ok(true) => Ok(()),
            Ok(false) if name == "deleted" => {
                prospect.deleted = matches!(value, "true" | "1");
                Ok(())
            }
            Ok(false) => Err(invalid(format!(
                "{}.fields: unknown prospect field `{name}`",
                what()
            ))),
            Err(e) => Err(invalid(format!(
                "{}.fields.{name} `{value}`: {}",
                what(),
                e.message
            ))),
        }
    };
    for (name, value) in [
        ("first_name", &p.first_name),
        ("last_name", &p.last_name),
        ("company", &p.company),
    ] {
        if !value.is_empty() {
            set(name, value)?;
        }
    }
    if let Some(grade) = &p.grade {
        set("grade", grade)?;
    }
    for (name, value) in &p.fields {
        set(name, value)?;
    }
    Ok((prospect, stamped))
}
