//! The configured records of every served object, converted and checked once at start: what
//! the stores start with and what a reset restores.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use pardot_auth_core::BusinessUnitId;

use super::custom::{self, CustomField, CustomFields};
use super::generate::Generator;
use super::record::Record;
use super::schema::{Kind, Schema, Target};
use super::store::Generated;
use super::unit_index::unit_index;
use super::value::Value;
use crate::config::{ConfigError, MockConfig, PardotObjectConfig, invalid};
use crate::pardot::seed::{Stamped, restamped};
use crate::pardot::time;

/// The configured Pardot users that are not deleted, as `(unit, id, email)`: what a configured
/// prospect's `assigned_to` names, read before the stores exist (prospects are converted
/// first, since other objects name them).
#[derive(Debug, Default)]
pub(crate) struct ConfiguredUsers(Vec<(usize, u64, String)>);

impl ConfiguredUsers {
    /// The `[[pardot_users]]` of the business units `by_id`; an entry of no known unit is left
    /// out here and reported by [`ObjectSeed::convert`].
    pub(crate) fn new(config: &MockConfig, by_id: &HashMap<BusinessUnitId, usize>) -> Self {
        Self(
            config
                .pardot_users
                .iter()
                .filter(|u| !u.deleted)
                .filter_map(|u| {
                    let unit = unit_index(&u.business_unit, "pardot_users", by_id).ok()?;
                    let email = u.fields.get("email").map(|e| e.to_param());
                    Some((unit, u.id, email.unwrap_or_default()))
                })
                .collect(),
        )
    }

    /// The id of the user of the unit at `unit` that `who` names: digits an id, anything
    /// else an email (case-insensitive), as `assigned_to_user` reads it.
    pub(crate) fn find(&self, unit: usize, who: &str) -> Option<u64> {
        let who = who.trim();
        let by_id = names_an_id(who).then(|| who.parse::<u64>().ok()).flatten();
        self.0
            .iter()
            .find(|(u, id, email)| {
                *u == unit
                    && match by_id {
                        Some(wanted) => *id == wanted,
                        None => email.eq_ignore_ascii_case(who),
                    }
            })
            .map(|(_, id, _)| *id)
    }
}

/// The configured records of one object in one business unit.
#[derive(Debug, Default)]
struct KindSeed {
    /// Sorted by id.
    records: Vec<Arc<Record>>,
    /// Records without a configured `created_at`, by id: they carry the time of the start and
    /// of each reset; `true` when `updated_at` was not configured either.
    unstamped: Vec<(u64, bool)>,
    /// The custom fields its records carry after their own.
    custom: CustomFields,
    /// The `[generate]` records, when the unit has them.
    generated: Option<Generated>,
}

/// The configured records of every served object, by business unit (in `business_units`
/// order) and object (in [`Kind::ALL`] order).
#[derive(Debug, Default)]
pub(crate) struct ObjectSeed {
    units: Vec<Vec<KindSeed>>,
}

/// Where a configuration entry went.
struct Placed {
    kind: Kind,
    /// Its index in its configuration table.
    entry: usize,
    /// Its business unit's index.
    unit: usize,
    record: Arc<Record>,
}

/// The configuration entries of `kind`.
fn entries(config: &MockConfig, kind: Kind) -> &[PardotObjectConfig] {
    match kind {
        Kind::Campaign => &config.campaigns,
        Kind::List => &config.lists,
        Kind::ListMembership => &config.list_memberships,
        Kind::Visitor => &config.visitors,
        Kind::Visit => &config.visits,
        Kind::VisitorPageView => &config.visitor_page_views,
        Kind::VisitorActivity => &config.visitor_activities,
        Kind::User => &config.pardot_users,
        Kind::Opportunity => &config.opportunities,
        Kind::ProspectAccount => &config.prospect_accounts,
        Kind::EmailClick => &config.email_clicks,
    }
}

impl ObjectSeed {
    /// Converts the configured records for the business units `by_id` (indexes below
    /// `unit_count`), stamping those without times with `now`. Every entry is checked: its
    /// business unit, a unique id, known fields with values of their types, the required
    /// fields, and ids that name a record of the same business unit (`prospect_exists`
    /// answers for prospects).
    pub(crate) fn convert(
        config: &MockConfig,
        by_id: &HashMap<BusinessUnitId, usize>,
        unit_count: usize,
        prospect_exists: impl Fn(usize, u64) -> bool,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        let mut units: Vec<Vec<KindSeed>> = (0..unit_count)
            .map(|_| Kind::ALL.iter().map(|_| KindSeed::default()).collect())
            .collect();
        let account = Kind::ProspectAccount.schema();
        let account_fields = custom::convert(
            &config.prospect_account_fields,
            "prospect_account_fields",
            |name| {
                account.field_index(name).is_some()
                    || matches!(name, "id" | "created_at" | "updated_at")
            },
            by_id,
            unit_count,
        )?;
        for (unit, fields) in units.iter_mut().zip(account_fields) {
            unit[Kind::ProspectAccount.index()].custom = fields;
        }
        // Where each entry went, in configuration order, for the reference checks.
        let mut placed: Vec<Placed> = Vec::new();
        for kind in Kind::ALL {
            let schema = kind.schema();
            let mut ids = HashSet::new();
            for (i, entry) in entries(config, kind).iter().enumerate() {
                let what = format!("{}[{i}]", schema.table);
                let unit = unit_index(&entry.business_unit, &what, by_id)?;
                if !ids.insert((unit, entry.id)) {
                    return Err(invalid(format!(
                        "{what}: duplicate id {} in its business unit",
                        entry.id
                    )));
                }
                let Some(seed) = units.get_mut(unit).map(|u| &mut u[kind.index()]) else {
                    continue;
                };
                let (record, stamped) = convert_entry(schema, &seed.custom, &what, entry, now)?;
                if let Some(updated_too) = stamped {
                    seed.unstamped.push((record.id, updated_too));
                }
                let record = Arc::new(record);
                seed.records.push(Arc::clone(&record));
                placed.push(Placed {
                    kind,
                    entry: i,
                    unit,
                    record,
                });
            }
        }
        if let Some(g) = &config.generate {
            let unit = unit_index(&g.business_unit, "generate", by_id)?;
            if let Some(seeds) = units.get_mut(unit) {
                let live = |kind: Kind| -> Vec<u64> {
                    seeds[kind.index()]
                        .records
                        .iter()
                        .filter(|r| !r.deleted)
                        .map(|r| r.id)
                        .collect()
                };
                let generator = Arc::new(Generator::new(
                    g.clone(),
                    live(Kind::Campaign),
                    live(Kind::List),
                ));
                for kind in Kind::ALL {
                    let stubs = generator.stubs(kind);
                    let seed = &mut seeds[kind.index()];
                    let first = stubs.iter().map(|s| s.id).min().unwrap_or(u64::MAX);
                    if seed.records.iter().any(|r| r.id >= first) {
                        return Err(invalid(format!(
                            "generate: configured {} ids reach the generated ones (from {first})",
                            kind.schema().table
                        )));
                    }
                    if !stubs.is_empty() {
                        seed.generated = Some(Generated {
                            generator: Arc::clone(&generator),
                            stubs,
                        });
                    }
                }
            }
        }
        for unit in &mut units {
            for seed in unit.iter_mut() {
                seed.records.sort_by_key(|r| r.id);
                seed.unstamped.sort_unstable();
            }
        }
        let seed = Self { units };
        seed.check_references(&placed, &prospect_exists)?;
        Ok(seed)
    }

    /// Every id a record holds names a record of its business unit; list memberships join a
    /// list and a prospect at most once (deleted ones aside).
    fn check_references(
        &self,
        placed: &[Placed],
        prospect_exists: &impl Fn(usize, u64) -> bool,
    ) -> Result<(), ConfigError> {
        let mut pairs = HashSet::new();
        for p in placed {
            let schema = p.kind.schema();
            let what = || format!("{}[{}]", schema.table, p.entry);
            for field in schema.fields {
                let (Some(target), Some(id)) = (field.refers, p.record.id_of(schema, field.name))
                else {
                    continue;
                };
                let exists = match target {
                    Target::Prospect => prospect_exists(p.unit, id),
                    Target::Object(other) => self.units[p.unit][other.index()]
                        .records
                        .binary_search_by_key(&id, |r| r.id)
                        .is_ok(),
                };
                if !exists {
                    return Err(invalid(format!(
                        "{}.{}: no record with id {id} in its business unit",
                        what(),
                        field.name
                    )));
                }
            }
            for (link, name) in schema.agrees {
                if !self.agrees(p, link, name) {
                    return Err(invalid(format!(
                        "{}.{name}: differs from the {name} of its {link}",
                        what()
                    )));
                }
            }
            if p.kind == Kind::ListMembership
                && !p.record.deleted
                && !pairs.insert((
                    p.unit,
                    p.record.id_of(schema, "list_id"),
                    p.record.id_of(schema, "prospect_id"),
                ))
            {
                return Err(invalid(format!(
                    "{}: the prospect is already a member of that list",
                    what()
                )));
            }
        }
        Ok(())
    }

    /// Whether the placed record's field `name` holds what the record its field `link` names
    /// holds there (true when either has no value).
    fn agrees(&self, p: &Placed, link: &str, name: &str) -> bool {
        let schema = p.kind.schema();
        let target = schema
            .field_index(link)
            .and_then(|i| schema.fields[i].refers);
        let (Some(Target::Object(kind)), Some(id), Some(own)) = (
            target,
            p.record.id_of(schema, link),
            p.record.id_of(schema, name),
        ) else {
            return true;
        };
        let records = &self.units[p.unit][kind.index()].records;
        records
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .and_then(|i| records[i].id_of(kind.schema(), name))
            .is_none_or(|theirs| theirs == own)
    }

    /// The custom fields of `kind` in the unit at `index`.
    pub(crate) fn custom(&self, index: usize, kind: Kind) -> CustomFields {
        self.units
            .get(index)
            .map(|u| Arc::clone(&u[kind.index()].custom))
            .unwrap_or_default()
    }

    /// The generated records of `kind` in the unit at `index`, if any.
    pub(crate) fn generated(&self, index: usize, kind: Kind) -> Option<Generated> {
        self.units
            .get(index)
            .and_then(|u| u[kind.index()].generated.clone())
    }

    /// The records of `kind` in the unit at `index` as a reset at `now` restores them (right
    /// after start, `now` is the start time): those without configured times carry `now`.
    pub(crate) fn at(&self, index: usize, kind: Kind, now: SystemTime) -> Vec<Arc<Record>> {
        self.units.get(index).map_or_else(Vec::new, |unit| {
            let seed = &unit[kind.index()];
            restamped(&seed.records, &seed.unstamped, now)
        })
    }
}

impl Stamped for Record {
    fn id(&self) -> u64 {
        self.id
    }

    fn times_mut(&mut self) -> (&mut SystemTime, &mut SystemTime) {
        (&mut self.created_at, &mut self.updated_at)
    }
}

/// The field values of an entry, in the schema's order, then its `custom` fields'.
fn convert_values(
    schema: &Schema,
    custom: &[CustomField],
    entry: &PardotObjectConfig,
) -> Result<Box<[Value]>, String> {
    let own = schema.fields.len();
    let mut values = vec![Value::Null; own + custom.len()];
    for (name, value) in &entry.fields {
        let Some(i) = schema
            .field_index(name)
            .or_else(|| custom::index(custom, own, name))
        else {
            return Err(format!("unknown {} field `{name}`", schema.object));
        };
        let ty = schema
            .fields
            .get(i)
            .map_or_else(|| custom[i - own].ty, |f| f.ty);
        let text = value.to_param();
        let value =
            Value::parse(ty, &text).map_err(|e| format!("{name} `{text}`: {}", e.message))?;
        if let Some(rule) = schema.value_rules.iter().find(|r| r.field == name)
            && value != Value::Null
            && !(rule.allows)(&value)
        {
            return Err(format!("{name} `{text}`: not an allowed value"));
        }
        values[i] = value;
    }
    for name in schema.required {
        if schema
            .field_index(name)
            .is_none_or(|i| values[i] == Value::Null)
        {
            return Err(format!("`{name}` is required"));
        }
    }
    for (f, value) in custom.iter().zip(&values[own..]) {
        if f.required && *value == Value::Null {
            return Err(format!("`{}` is required", f.name));
        }
    }
    if let Some(complete) = schema.complete {
        complete(schema, &mut values)?;
    }
    Ok(values.into_boxed_slice())
}

/// Converts one entry: the record, and `None` when its `created_at` was configured, else
/// `Some(updated_too)` (see [`KindSeed::unstamped`]).
fn convert_entry(
    schema: &Schema,
    custom: &[CustomField],
    what: &str,
    entry: &PardotObjectConfig,
    now: SystemTime,
) -> Result<(Record, Option<bool>), ConfigError> {
    let parse_time = |name: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| {
                time::parse_datetime(t).ok_or_else(|| {
                    invalid(format!(
                        "{what}.{name} `{t}`: use `YYYY-MM-DD HH:MM:SS` (UTC)"
                    ))
                })
            })
            .transpose()
    };
    let created = parse_time("created_at", &entry.created_at)?;
    let updated = parse_time("updated_at", &entry.updated_at)?;
    let mut record = Record::new(schema, entry.id, now);
    record.values =
        convert_values(schema, custom, entry).map_err(|e| invalid(format!("{what}: {e}")))?;
    record.deleted = entry.deleted;
    if let Some(t) = created {
        record.created_at = t;
        record.updated_at = t;
    }
    if let Some(t) = updated {
        record.updated_at = t;
    }
    Ok((record, created.is_none().then_some(updated.is_none())))
}

/// Whether a reference to a user (`assigned_to_user`, a prospect's configured `assigned_to`)
/// is an id (digits only) rather than an email.
pub(crate) fn names_an_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
