//! The `[generate]` volume generator: prospects, visitors and visitor activities made from a
//! seed, so other projects can page and sync at scale. The same configuration gives the same
//! records, byte for byte; times come in bursts (several records share one second) and
//! activity ids are not in time order, as Pardot's are not.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::record::{Record, Value};
use super::schema::{Kind, Schema};
use crate::config::{GenerateConfig, ProspectConfig};
use crate::pardot::time::pardot_datetime;

/// The first generated prospect id (visitors and activities have their own ranges).
const PROSPECT_IDS: u64 = 50_000_000;
/// The first generated visitor id.
const VISITOR_IDS: u64 = 60_000_000;
/// The first generated visitor activity id.
const ACTIVITY_IDS: u64 = 70_000_000;
/// Generated records start at 2024-01-01 00:00:00 UTC.
const START_SECS: u64 = 1_704_067_200;

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// The time of the `i`th record of a stream: about `per_second` records a second, so
/// neighbours share seconds.
fn burst_time(i: u64, per_second: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(START_SECS + i / per_second.max(1))
}

/// The generated prospects, after the configured ones.
pub(crate) fn prospects(g: &GenerateConfig) -> Vec<ProspectConfig> {
    let mut rng = Rng(g.seed ^ 0x5052_4f53);
    let companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"];
    (0..g.prospects)
        .map(|i| {
            let created = burst_time(i, 3);
            let updated = created + Duration::from_secs(rng.below(86_400 * 30));
            ProspectConfig {
                business_unit: g.business_unit.clone(),
                id: PROSPECT_IDS + i,
                email: format!("generated{i:07}@volume.example"),
                first_name: format!("First{i}"),
                last_name: format!("Last{i}"),
                company: companies[usize::try_from(rng.below(6)).unwrap_or(0)].to_owned(),
                score: i64::try_from(rng.below(200)).unwrap_or(0),
                grade: None,
                created_at: Some(pardot_datetime(created)),
                updated_at: Some(pardot_datetime(updated)),
                fields: BTreeMap::new(),
            }
        })
        .collect()
}

/// The generated records of `kind` (visitors and visitor activities; none of other kinds),
/// pointing at the generated prospects and at `campaigns` (configured campaign ids of the
/// unit; activities have none when it is empty).
pub(crate) fn records(g: &GenerateConfig, kind: Kind, campaigns: &[u64]) -> Vec<Arc<Record>> {
    match kind {
        Kind::Visitor => visitors(g),
        Kind::VisitorActivity => activities(g, campaigns),
        _ => Vec::new(),
    }
}

fn set(schema: &Schema, record: &mut Record, name: &str, value: Value) {
    if let Some(i) = schema.field_index(name) {
        record.values[i] = value;
    }
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A visitor's prospect: every other visitor is anonymous.
fn visitor_prospect(g: &GenerateConfig, i: u64) -> Option<u64> {
    (g.prospects > 0 && i.is_multiple_of(2)).then(|| PROSPECT_IDS + (i / 2) % g.prospects)
}

fn visitors(g: &GenerateConfig) -> Vec<Arc<Record>> {
    let schema = Kind::Visitor.schema();
    let mut rng = Rng(g.seed ^ 0x5649_5349);
    (0..g.visitors)
        .map(|i| {
            let created = burst_time(i, 4);
            let mut r = Record::new(schema, VISITOR_IDS + i, created);
            r.updated_at = created + Duration::from_secs(rng.below(3_600));
            set(schema, &mut r, "page_view_count", int(1 + rng.below(20)));
            let ip = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
            set(schema, &mut r, "hostname", Value::Text(ip.clone().into()));
            set(schema, &mut r, "ip_address", Value::Text(ip.into()));
            if let Some(p) = visitor_prospect(g, i) {
                set(schema, &mut r, "prospect_id", int(p));
            }
            Arc::new(r)
        })
        .collect()
}

/// Email activities (sent, open, click) and form successes, of a visitor and its prospect
/// or of a prospect alone. Ids are handed out in blocks that do not follow the times.
fn activities(g: &GenerateConfig, campaigns: &[u64]) -> Vec<Arc<Record>> {
    let schema = Kind::VisitorActivity.schema();
    let mut rng = Rng(g.seed ^ 0x4143_5449);
    let kinds: [(i64, &str, &str); 4] = [
        (6, "email_id", "Email"),
        (11, "email_id", "Email"),
        (1, "email_id", "Email"),
        (4, "form_id", "Form"),
    ];
    (0..g.visitor_activities)
        .map(|i| {
            // Blocks of 1,000 ids are written in reverse time order within each block.
            let id = ACTIVITY_IDS + (i / 1_000) * 1_000 + (999 - i % 1_000);
            let created = burst_time(i, 10);
            let mut r = Record::new(schema, id, created);
            let (ty, target, name) = kinds[usize::try_from(rng.below(4)).unwrap_or(0)];
            set(schema, &mut r, "type", Value::Int(ty));
            set(schema, &mut r, "type_name", Value::Text(name.into()));
            set(
                schema,
                &mut r,
                "details",
                Value::Text(format!("{name} {}", i % 97).into()),
            );
            set(schema, &mut r, target, int(1 + rng.below(50)));
            if g.visitors > 0 && name == "Form" {
                let visitor = rng.below(g.visitors);
                set(schema, &mut r, "visitor_id", int(VISITOR_IDS + visitor));
                if let Some(p) = visitor_prospect(g, visitor) {
                    set(schema, &mut r, "prospect_id", int(p));
                }
            } else if g.prospects > 0 {
                set(
                    schema,
                    &mut r,
                    "prospect_id",
                    int(PROSPECT_IDS + rng.below(g.prospects)),
                );
            }
            if !campaigns.is_empty() {
                let c = campaigns[usize::try_from(rng.below(campaigns.len() as u64)).unwrap_or(0)];
                set(schema, &mut r, "campaign_id", int(c));
            }
            Arc::new(r)
        })
        .collect()
}
