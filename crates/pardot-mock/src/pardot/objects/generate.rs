//! The `[generate]` volume generator, so other projects can page and sync at scale: prospects
//! (made once, as configured ones are) and every other object's records, which are not
//! stored: a store keeps a [`Stub`] (id, times, index) per generated record and derives the
//! record from the seed and its index when it is read. The same configuration gives the same
//! records, byte for byte; times come in bursts (several records share one second), and
//! activity and email click ids are not in time order, as Pardot's are not.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::record::Record;
use super::schema::{Kind, Schema};
use super::value::Value;
use crate::config::{GenerateConfig, ProspectConfig};
use crate::pardot::time::pardot_datetime;

/// The first generated prospect id (every object has its own range).
const PROSPECT_IDS: u64 = 50_000_000;
const VISITOR_IDS: u64 = 60_000_000;
const ACTIVITY_IDS: u64 = 70_000_000;
const VISIT_IDS: u64 = 80_000_000;
const PAGE_VIEW_IDS: u64 = 90_000_000;
const MEMBERSHIP_IDS: u64 = 40_000_000;
const OPPORTUNITY_IDS: u64 = 45_000_000;
const EMAIL_CLICK_IDS: u64 = 100_000_000;
/// Generated records start at 2024-01-01 00:00:00 UTC.
const START_SECS: u64 = 1_704_067_200;
/// Activities and email clicks take their ids in blocks of this many, in reverse time order
/// within a block.
const ID_BLOCK: u64 = 1_000;

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    /// The stream of record `i` of a stream salted `salt`: any record is made alone.
    fn of(seed: u64, salt: u64, i: u64) -> Self {
        let mut rng = Self(seed ^ salt ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

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

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::try_from(self.below(from.len() as u64)).unwrap_or(0)]
    }
}

/// Seconds since the epoch of the `i`th record of a stream: about `per_second` records a
/// second, so neighbours share seconds.
fn burst_secs(i: u64, per_second: u64) -> u64 {
    START_SECS + i / per_second.max(1)
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// The generated prospects, after the configured ones.
pub(crate) fn prospects(g: &GenerateConfig) -> Vec<ProspectConfig> {
    let mut rng = Rng(g.seed ^ 0x5052_4f53);
    let companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"];
    (0..g.prospects)
        .map(|i| {
            let created = at(burst_secs(i, 3));
            let updated = created + Duration::from_secs(rng.below(86_400 * 30));
            ProspectConfig {
                business_unit: g.business_unit.clone(),
                id: PROSPECT_IDS + i,
                email: format!("generated{i:07}@volume.example"),
                first_name: format!("First{i}"),
                last_name: format!("Last{i}"),
                company: rng.pick(&companies).to_owned(),
                score: i64::try_from(rng.below(200)).unwrap_or(0),
                grade: None,
                created_at: Some(pardot_datetime(created)),
                updated_at: Some(pardot_datetime(updated)),
                fields: BTreeMap::new(),
                assigned_to: None,
            }
        })
        .collect()
}

/// What a store keeps of a generated record instead of the record (24 bytes; 32 in its slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stub {
    /// The record's id.
    pub id: u64,
    /// Its index in its object's generated stream.
    pub index: u32,
    /// Created, in seconds since the epoch.
    pub created: u32,
    /// Last updated, in seconds since the epoch.
    pub updated: u32,
}

impl Stub {
    pub(crate) fn created_at(self) -> SystemTime {
        at(u64::from(self.created))
    }

    pub(crate) fn updated_at(self) -> SystemTime {
        at(u64::from(self.updated))
    }
}

/// The generated records of one business unit, pointing at the generated prospects and at
/// the unit's configured campaigns and lists.
#[derive(Debug)]
pub(crate) struct Generator {
    config: GenerateConfig,
    campaigns: Vec<u64>,
    lists: Vec<u64>,
}

/// A record's field setter, by name (a name the schema lacks is skipped).
struct Fields<'a> {
    schema: &'static Schema,
    record: &'a mut Record,
}

impl Fields<'_> {
    fn set(&mut self, name: &str, value: Value) {
        if let Some(i) = self.schema.field_index(name) {
            self.record.values[i] = value;
        }
    }

    fn id(&mut self, name: &str, id: u64) {
        self.set(name, int(id));
    }

    fn text(&mut self, name: &str, text: String) {
        self.set(name, Value::Text(text.into()));
    }
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Generator {
    /// The generator of `config`, with the unit's configured (not deleted) campaign and list
    /// ids.
    pub(crate) fn new(config: GenerateConfig, campaigns: Vec<u64>, lists: Vec<u64>) -> Self {
        Self {
            config,
            campaigns,
            lists,
        }
    }

    /// How many records of `kind` are generated (none when what they point at is missing).
    pub(crate) fn count(&self, kind: Kind) -> u64 {
        let g = &self.config;
        let count = match kind {
            Kind::Visitor => g.visitors,
            Kind::VisitorActivity if g.prospects > 0 || g.visitors > 0 => g.visitor_activities,
            Kind::Visit if g.visitors > 0 => g.visits,
            Kind::VisitorPageView if self.count(Kind::Visit) > 0 => g.visitor_page_views,
            Kind::ListMembership => g
                .list_memberships
                .min(g.prospects * self.lists.len() as u64),
            Kind::Opportunity if g.prospects > 0 && !self.campaigns.is_empty() => g.opportunities,
            Kind::EmailClick if g.prospects > 0 => g.email_clicks,
            _ => 0,
        };
        // A stub holds the index in 32 bits.
        count.min(u64::from(u32::MAX))
    }

    /// The id and times of record `i` of `kind`, without making the record.
    pub(crate) fn stub(&self, kind: Kind, i: u64) -> Stub {
        let seed = self.config.seed;
        let reversed_in_block =
            |base: u64| base + (i / ID_BLOCK) * ID_BLOCK + (ID_BLOCK - 1 - i % ID_BLOCK);
        let (id, created, updated) = match kind {
            Kind::Visitor => {
                let created = burst_secs(i, 4);
                let late = Rng::of(seed, 0x5649_5349, i).below(3_600);
                (VISITOR_IDS + i, created, created + late)
            }
            Kind::VisitorActivity => {
                let created = burst_secs(i, 10);
                (reversed_in_block(ACTIVITY_IDS), created, created)
            }
            Kind::Visit => {
                let created = burst_secs(i, 5);
                (VISIT_IDS + i, created, created + visit_seconds(seed, i))
            }
            Kind::VisitorPageView => {
                let created = burst_secs(i, 8);
                (PAGE_VIEW_IDS + i, created, created)
            }
            Kind::ListMembership => {
                let created = burst_secs(i, 6);
                let late = Rng::of(seed, 0x4c49_5354, i).below(86_400 * 7);
                (MEMBERSHIP_IDS + i, created, created + late)
            }
            Kind::Opportunity => {
                let created = burst_secs(i * 60, 2);
                let late = Rng::of(seed, 0x4f50_5054, i).below(86_400 * 60);
                (OPPORTUNITY_IDS + i, created, created + late)
            }
            _ => {
                let created = burst_secs(i, 10);
                (reversed_in_block(EMAIL_CLICK_IDS), created, created)
            }
        };
        let secs = |s: u64| u32::try_from(s).unwrap_or(u32::MAX);
        Stub {
            id,
            index: u32::try_from(i).unwrap_or(u32::MAX),
            created: secs(created),
            updated: secs(updated),
        }
    }

    /// Every stub of `kind`, in index order.
    pub(crate) fn stubs(&self, kind: Kind) -> Vec<Stub> {
        (0..self.count(kind)).map(|i| self.stub(kind, i)).collect()
    }

    /// The record `stub` stands for.
    pub(crate) fn record(&self, kind: Kind, stub: Stub) -> Record {
        let schema = kind.schema();
        let mut record = Record::new(schema, stub.id, stub.created_at());
        record.updated_at = stub.updated_at();
        let i = u64::from(stub.index);
        let mut fields = Fields {
            schema,
            record: &mut record,
        };
        match kind {
            Kind::Visitor => self.visitor(&mut fields, i),
            Kind::VisitorActivity => self.activity(&mut fields, i),
            Kind::Visit => self.visit(&mut fields, i),
            Kind::VisitorPageView => {
                let visit = VISIT_IDS + i % self.count(Kind::Visit).max(1);
                let page = Rng::of(self.config.seed, 0x5056_4945, i).below(40);
                fields.id("visit_id", visit);
                fields.text("url", format!("https://www.volume.example/page/{page}"));
                fields.text("title", format!("Page {page}"));
            }
            Kind::ListMembership => {
                let g = &self.config;
                let mut rng = Rng::of(g.seed, 0x4c49_5354, i);
                rng.next();
                let list = self.lists[usize::try_from(i / g.prospects.max(1)).unwrap_or(0)
                    % self.lists.len().max(1)];
                fields.id("list_id", list);
                fields.id("prospect_id", PROSPECT_IDS + i % g.prospects.max(1));
                fields.set("opted_out", Value::Bool(rng.below(10) == 0));
            }
            Kind::Opportunity => self.opportunity(&mut fields, i),
            _ => {
                let g = &self.config;
                let mut rng = Rng::of(g.seed, 0x434c_4943, i);
                fields.id("prospect_id", PROSPECT_IDS + rng.below(g.prospects));
                fields.id("list_email_id", 1 + rng.below(50));
                let link = rng.below(20);
                fields.text("url", format!("https://www.volume.example/offer/{link}"));
            }
        }
        record
    }

    /// A visitor's prospect: every other visitor is anonymous.
    fn visitor_prospect(&self, visitor: u64) -> Option<u64> {
        let g = &self.config;
        (g.prospects > 0 && visitor.is_multiple_of(2))
            .then(|| PROSPECT_IDS + (visitor / 2) % g.prospects)
    }

    fn visitor(&self, fields: &mut Fields<'_>, i: u64) {
        let mut rng = Rng::of(self.config.seed, 0x5649_5349, i);
        rng.next();
        fields.set("page_view_count", int(1 + rng.below(20)));
        let ip = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
        fields.text("hostname", ip.clone());
        fields.text("ip_address", ip);
        if let Some(p) = self.visitor_prospect(i) {
            fields.id("prospect_id", p);
        }
    }

    /// Email activities (sent, open, click) of a prospect, or a form success of a visitor
    /// and its prospect.
    fn activity(&self, fields: &mut Fields<'_>, i: u64) {
        let g = &self.config;
        let mut rng = Rng::of(g.seed, 0x4143_5449, i);
        let kinds: [(i64, &str, &str); 4] = [
            (6, "email_id", "Email"),
            (11, "email_id", "Email"),
            (1, "email_id", "Email"),
            (4, "form_id", "Form"),
        ];
        let (mut ty, mut target, mut name) = rng.pick(&kinds);
        if g.prospects == 0 {
            (ty, target, name) = kinds[3];
        }
        fields.set("type", Value::Int(ty));
        fields.text("type_name", name.to_owned());
        fields.text("details", format!("{name} {}", i % 97));
        fields.id(target, 1 + rng.below(50));
        if g.visitors > 0 && name == "Form" {
            let visitor = rng.below(g.visitors);
            fields.id("visitor_id", VISITOR_IDS + visitor);
            if let Some(p) = self.visitor_prospect(visitor) {
                fields.id("prospect_id", p);
            }
        } else if g.prospects > 0 {
            fields.id("prospect_id", PROSPECT_IDS + rng.below(g.prospects));
        }
        if !self.campaigns.is_empty() {
            fields.id("campaign_id", rng.pick(&self.campaigns));
        }
    }

    fn visit(&self, fields: &mut Fields<'_>, i: u64) {
        let g = &self.config;
        let mut rng = Rng::of(g.seed, 0x5649_5354, i);
        let visitor = rng.below(g.visitors);
        fields.id("visitor_id", VISITOR_IDS + visitor);
        if let Some(p) = self.visitor_prospect(visitor) {
            fields.id("prospect_id", p);
        }
        let stub = self.stub(Kind::Visit, i);
        fields.set("visitor_page_view_count", int(1 + rng.below(9)));
        fields.text(
            "first_visitor_page_view_at",
            pardot_datetime(stub.created_at()),
        );
        fields.text(
            "last_visitor_page_view_at",
            pardot_datetime(stub.updated_at()),
        );
        fields.set("duration_in_seconds", int(visit_seconds(g.seed, i)));
    }

    fn opportunity(&self, fields: &mut Fields<'_>, i: u64) {
        let g = &self.config;
        let mut rng = Rng::of(g.seed, 0x4f50_5054, i);
        rng.next();
        fields.id("campaign_id", rng.pick(&self.campaigns));
        fields.id("prospect_id", PROSPECT_IDS + rng.below(g.prospects));
        fields.text("name", format!("Deal {i}"));
        fields.set("value", int(1_000 * rng.below(100)));
        fields.set("probability", int(rng.below(101)));
        fields.text("type", "New Business".to_owned());
        let (stage, status) = rng.pick(&[
            ("Prospecting", "open"),
            ("Negotiation", "open"),
            ("Closed Won", "won"),
            ("Closed Lost", "lost"),
        ]);
        fields.text("stage", stage.to_owned());
        fields.text("status", status.to_owned());
    }
}

/// How long visit `i` lasted: its `updated_at` is its last page view.
fn visit_seconds(seed: u64, i: u64) -> u64 {
    Rng::of(seed, 0x4455_5241, i).below(1_800)
}
