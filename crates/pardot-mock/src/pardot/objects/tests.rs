//! The object layer against the default configuration: what the seed checks, and that a
//! reset undoes writes.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use pardot_auth_core::BusinessUnitId;

use super::Kind;
use crate::config::{CustomFieldConfig, MockConfig, ObjectFieldValue, PardotObjectConfig};
use crate::pardot::PardotApi;

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn build(config: &MockConfig) -> Result<PardotApi, String> {
    PardotApi::from_config(config, config.prospects.clone(), start()).map_err(|e| e.to_string())
}

fn entry(id: u64, fields: &[(&str, ObjectFieldValue)]) -> PardotObjectConfig {
    PardotObjectConfig {
        business_unit: crate::fixtures::BUSINESS_UNIT_ID.to_owned(),
        id,
        created_at: None,
        updated_at: None,
        deleted: false,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn custom_field(name: &str, ty: &str) -> CustomFieldConfig {
    CustomFieldConfig {
        business_unit: crate::fixtures::BUSINESS_UNIT_ID.to_owned(),
        name: name.to_owned(),
        label: None,
        r#type: ty.to_owned(),
        required: false,
    }
}

fn int(n: i64) -> ObjectFieldValue {
    ObjectFieldValue::Int(n)
}

fn text(t: &str) -> ObjectFieldValue {
    ObjectFieldValue::Text(t.to_owned())
}

#[test]
fn the_default_configuration_builds_with_its_objects() {
    let api = build(&MockConfig::defaults()).unwrap();
    let unit = &api.units[0];
    assert_eq!(unit.objects.count(Kind::Campaign), 3);
    assert_eq!(unit.objects.count(Kind::List), 3);
    assert_eq!(unit.objects.count(Kind::ListMembership), 5);
    assert_eq!(api.units[1].objects.count(Kind::Campaign), 1);
    assert_eq!(unit.objects.count(Kind::Visitor), 3);
    assert_eq!(unit.objects.count(Kind::Visit), 4);
    assert_eq!(unit.objects.count(Kind::VisitorPageView), 7);
    assert_eq!(unit.objects.count(Kind::VisitorActivity), 10);
    assert_eq!(unit.objects.count(Kind::User), 3);
    assert_eq!(api.units[1].objects.count(Kind::User), 1);
    assert_eq!(unit.objects.count(Kind::Opportunity), 4);
    assert_eq!(unit.objects.count(Kind::ProspectAccount), 3);
    assert_eq!(unit.objects.count(Kind::EmailClick), 3);
    let custom = unit.objects.store(Kind::ProspectAccount).custom();
    let names: Vec<&str> = custom.iter().map(|f| &*f.name).collect();
    assert_eq!(names, ["region", "fleet_size"]);
    assert!(
        api.units[1]
            .objects
            .store(Kind::ProspectAccount)
            .custom()
            .is_empty()
    );
}

#[test]
fn each_bad_entry_is_an_error_naming_it() {
    type Change = Box<dyn Fn(&mut MockConfig)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|c| {
                c.campaigns
                    .push(entry(1, &[("name", text("x")), ("budget", int(1))]))
            }),
            "campaigns[4]: unknown campaign field `budget`",
        ),
        (
            Box::new(|c| {
                c.campaigns
                    .push(entry(1, &[("name", text("x")), ("cost", text("lots"))]))
            }),
            "campaigns[4]: cost `lots`: Invalid number entered for field",
        ),
        (
            Box::new(|c| c.campaigns.push(entry(1, &[("cost", int(3))]))),
            "campaigns[4]: `name` is required",
        ),
        (
            Box::new(|c| c.lists.push(entry(752, &[("name", text("again"))]))),
            "lists[3]: duplicate id 752 in its business unit",
        ),
        (
            Box::new(|c| {
                c.list_memberships.push(entry(
                    1,
                    &[("list_id", int(999)), ("prospect_id", int(1001))],
                ));
            }),
            "list_memberships[5].list_id: no record with id 999 in its business unit",
        ),
        (
            Box::new(|c| {
                c.list_memberships.push(entry(
                    1,
                    &[("list_id", int(752)), ("prospect_id", int(2001))],
                ));
            }),
            "list_memberships[5].prospect_id: no record with id 2001 in its business unit",
        ),
        (
            Box::new(|c| {
                c.list_memberships.push(entry(
                    1,
                    &[("list_id", int(752)), ("prospect_id", int(1001))],
                ));
            }),
            "list_memberships[5]: the prospect is already a member of that list",
        ),
        (
            Box::new(|c| {
                let mut e = entry(1, &[("name", text("x"))]);
                e.business_unit = "0Uv5g00000NoSuCAAA".to_owned();
                c.lists.push(e);
            }),
            "lists[3].business_unit",
        ),
        (
            Box::new(|c| {
                let mut e = entry(1, &[("name", text("x"))]);
                e.created_at = Some("last tuesday".to_owned());
                c.lists.push(e);
            }),
            "lists[3].created_at `last tuesday`",
        ),
        (
            Box::new(|c| {
                c.visits.push(entry(
                    1,
                    &[("visitor_id", int(5999)), ("prospect_id", int(1001))],
                ));
            }),
            "visits[4].visitor_id: no record with id 5999 in its business unit",
        ),
        (
            Box::new(|c| {
                c.visits.push(entry(
                    1,
                    &[("visitor_id", int(5001)), ("prospect_id", int(1002))],
                ));
            }),
            "visits[4].prospect_id: differs from the prospect_id of its visitor_id",
        ),
        (
            Box::new(|c| {
                c.visitor_page_views.push(entry(
                    1,
                    &[("visit_id", int(6999)), ("url", text("https://x"))],
                ));
            }),
            "visitor_page_views[7].visit_id: no record with id 6999",
        ),
        (
            Box::new(|c| {
                c.visitor_activities.push(entry(
                    1,
                    &[
                        ("type", int(99)),
                        ("details", text("x")),
                        ("form_id", int(1)),
                    ],
                ));
            }),
            "visitor_activities[10]: `type` is one of 1..=38",
        ),
        (
            Box::new(|c| {
                c.visitor_activities.push(entry(
                    1,
                    &[
                        ("type", int(4)),
                        ("details", text("x")),
                        ("form_id", int(1)),
                        ("email_id", int(2)),
                    ],
                ));
            }),
            "visitor_activities[10]: an activity holds exactly one of",
        ),
        (
            Box::new(|c| {
                c.visitor_activities.push(entry(
                    1,
                    &[
                        ("type", int(20)),
                        ("details", text("x")),
                        ("visit_id", int(6001)),
                        ("visitor_id", int(5002)),
                    ],
                ));
            }),
            "visitor_activities[10].visitor_id: differs from the visitor_id of its visit_id",
        ),
        (
            Box::new(|c| {
                c.visitor_activities.push(entry(
                    1,
                    &[
                        ("type", int(1)),
                        ("details", text("x")),
                        ("file_id", int(1)),
                        ("campaign_id", int(7999)),
                    ],
                ));
            }),
            "visitor_activities[10].campaign_id: no record with id 7999",
        ),
        (
            Box::new(|c| {
                c.opportunities.push(entry(
                    1,
                    &[
                        ("campaign_id", int(7001)),
                        ("name", text("x")),
                        ("value", int(1)),
                        ("probability", int(150)),
                        ("prospect_id", int(1001)),
                    ],
                ));
            }),
            "opportunities[4]: probability `150`: not an allowed value",
        ),
        (
            Box::new(|c| {
                c.opportunities.push(entry(
                    1,
                    &[
                        ("campaign_id", int(7001)),
                        ("name", text("x")),
                        ("value", int(1)),
                        ("probability", int(10)),
                    ],
                ));
            }),
            "opportunities[4]: `prospect_id` is required",
        ),
        (
            Box::new(|c| {
                c.prospect_accounts
                    .push(entry(1, &[("name", text("x")), ("tier", text("gold"))]));
            }),
            "prospect_accounts[3]: unknown prospectAccount field `tier`",
        ),
        (
            Box::new(|c| {
                c.prospect_accounts.push(entry(
                    1,
                    &[("name", text("x")), ("fleet_size", text("some"))],
                ));
            }),
            "prospect_accounts[3]: fleet_size `some`: Invalid number entered for field",
        ),
        (
            Box::new(|c| {
                c.prospect_account_fields
                    .push(custom_field("website", "text"))
            }),
            "prospect_account_fields[2].name `website`: empty or already a field",
        ),
        (
            Box::new(|c| {
                c.prospect_account_fields
                    .push(custom_field("region", "text"))
            }),
            "prospect_account_fields[2].name `region`: empty or already a field",
        ),
        (
            Box::new(|c| {
                c.prospect_account_fields
                    .push(custom_field("tier", "picklist"))
            }),
            "prospect_account_fields[2].type `picklist`: use text, textarea or number",
        ),
        (
            Box::new(|c| {
                let mut f = custom_field("tier", "text");
                f.required = true;
                c.prospect_account_fields.push(f);
            }),
            "prospect_accounts[0]: `tier` is required",
        ),
    ];
    for (change, want) in cases {
        let mut config = MockConfig::defaults();
        change(&mut config);
        let err = build(&config).map(|_| ()).unwrap_err();
        assert!(err.contains(want), "{err} should contain {want}");
    }
}

#[test]
fn config_entries_read_from_toml_with_typed_fields() {
    let config = MockConfig::from_toml(
        r#"
        [[business_units]]
        id = "0Uv5g0000008OQUCA2"
        [[lists]]
        business_unit = "0Uv5g0000008OQUCA2"
        id = 5
        name = "Plain"
        is_public = true
        "#,
    )
    .unwrap();
    assert_eq!(
        config.lists[0].fields["is_public"],
        ObjectFieldValue::Bool(true)
    );
    assert_eq!(config.lists[0].fields["name"], text("Plain"));
}

#[test]
fn reset_restores_configured_records_and_restamps_missing_times() {
    let mut config = MockConfig::defaults();
    config
        .campaigns
        .push(entry(42, &[("name", text("Unstamped"))]));
    let api = build(&config).unwrap();
    let bu: BusinessUnitId = crate::fixtures::BUSINESS_UNIT_ID.parse().unwrap();
    let unit = &api.units[api.by_id[&bu]];
    let campaigns = unit.objects.store(Kind::Campaign);
    assert_eq!(campaigns.get(42).unwrap().created_at, start());
    let later = start() + Duration::from_secs(60);
    campaigns
        .update(7001, |r| {
            r.updated_at = later;
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
    unit.objects
        .store(Kind::List)
        .update(752, |r| {
            r.deleted = true;
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
    let reset = start() + Duration::from_secs(3600);
    api.reset(reset);
    assert_ne!(campaigns.get(7001).unwrap().updated_at, later);
    assert!(unit.objects.store(Kind::List).get(752).is_some());
    let unstamped = campaigns.get(42).unwrap();
    assert_eq!((unstamped.created_at, unstamped.updated_at), (reset, reset));
}
