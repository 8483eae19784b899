use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::fields::{LAYOUT, RECENT_INTERACTION, TEXT_FIELDS, v5_name};
use super::record::NEVER_ACTIVE;
use super::store::Inner;
use super::*;
use crate::pardot::render::Node;

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
            crate::pardot::render::write_json(&p.v5_record(&fields), &mut want);
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
    let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let mut p = Prospect::new(1, "a@example.com", t(0));
        let mut want: Vec<Option<String>> = vec![None; TEXT_FIELDS.len()];
        want[3] = Some("a@example.com".to_owned());
        want[RECENT_INTERACTION] = Some(NEVER_ACTIVE.to_owned());
        for _ in 0..60 {
            let field = rng.random_range(0..TEXT_FIELDS.len());
            // Lengths around the one-, two- and three-digit length encodings.
            let repeat = [0, 1, 3, 63, 64, 700, 4096, 5000][rng.random_range(0..8)];
            let value = pieces[rng.random_range(0..pieces.len())].repeat(repeat.max(1) / 4 + 1);
            let value = if rng.random_range(0..5) == 0 {
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
    let mut rng = StdRng::seed_from_u64(0x0123_4567_89ab_cdef);
    for round in 0..300 {
        let n = rng.random_range(0..40);
        let mut id = 0;
        let deleted_share = [0, 0, 2, 5][round % 4];
        let prospects: Vec<Arc<Prospect>> = (0..n)
            .map(|_| {
                id += 1 + rng.random_range(0..3) as u64;
                let mut p = Prospect::new(id, "p@example.com", t(0));
                p.deleted = deleted_share > 0 && rng.random_range(0..deleted_share) == 0;
                Arc::new(p)
            })
            .collect();
        let inner = Inner::new(prospects);
        for _ in 0..20 {
            let bound = |rng: &mut StdRng| {
                (rng.random_range(0..3) > 0).then(|| rng.random_range(0..id as usize + 3) as u64)
            };
            let q = Query {
                id_greater_than: bound(&mut rng),
                id_less_than: bound(&mut rng),
                deleted: [Deleted::No, Deleted::Only, Deleted::All][rng.random_range(0..3)],
                descending: rng.random_range(0..2) == 0,
                offset: rng.random_range(0..n + 3),
                limit: 1 + rng.random_range(0..n + 3),
                ..Query::default()
            };
            assert!(q.is_id_range());
            let ids = |total: usize, page: &[Arc<Prospect>]| {
                (total, page.iter().map(|p| p.id).collect::<Vec<_>>())
            };
            let (total, by_range) = inner.query_id_range(&q);
            let (sorted_total, sorted) = inner.query_sorted(&q);
            assert_eq!(ids(total, &by_range), ids(sorted_total, &sorted), "{q:?}");
        }
    }
}
