use super::*;
use crate::request_params::owned_pairs;

fn entry(seq: u64) -> JournalEntry {
    JournalEntry {
        seq,
        at_ms: 0,
        method: "POST".into(),
        vhost: "login".into(),
        path: "/services/oauth2/token".into(),
        route: Route::OAuthToken,
        query: vec![],
        headers: vec![("Authorization".into(), "Basic c2VjcmV0".into())],
        form: vec![
            ("grant_type".into(), "password".into()),
            ("password".into(), "hunter2".into()),
        ],
        body: None,
        status: 200,
        outcome: Outcome::Ok,
    }
}

/// What the front door records of a request with these parts.
fn kept(
    seq: u64,
    headers: &HeaderMap,
    params: &RequestParams,
    body: Option<&[u8]>,
    vhost: crate::virtual_host::HostKind,
) -> KeptEntry {
    let vhost = VirtualHost {
        kind: vhost,
        public_base: String::new(),
        origin: String::new(),
    };
    KeptEntry::record(&Arrival {
        seq,
        at_ms: 7,
        method: "POST",
        vhost: &vhost,
        path: "/services/oauth2/token",
        route: Route::OAuthToken,
        headers,
        params,
        body,
    })
}

#[test]
fn a_kept_entry_reads_back_as_recorded() {
    let mut headers = HeaderMap::new();
    headers.insert("host", "127.0.0.1:9".parse().unwrap());
    headers.insert("authorization", "Basic c2VjcmV0".parse().unwrap());
    let params = RequestParams {
        query: owned_pairs(&[("a", "1"), ("", "")]),
        form: owned_pairs(&[("grant_type", "password"), ("password", "hunter2")]),
    };
    let kind = crate::virtual_host::HostKind::MyDomain("acme".into());
    let mut k = kept(3, &headers, &params, None, kind);
    k.status = 400;
    k.outcome = Outcome::InvalidGrant;
    let e = k.to_entry();
    assert_eq!((e.seq, e.at_ms, e.status), (3, 7, 400));
    assert_eq!(
        (e.route, e.outcome),
        (Route::OAuthToken, Outcome::InvalidGrant)
    );
    assert_eq!((e.method.as_str(), e.vhost.as_str()), ("POST", "my/acme"));
    assert_eq!(e.path, "/services/oauth2/token");
    assert_eq!(e.query, params.query);
    assert_eq!(e.form, params.form);
    assert_eq!(
        e.headers,
        owned_pairs(&[("host", "127.0.0.1:9"), ("authorization", "Basic c2VjcmV0")])
    );
    assert_eq!(e.body, None);
    // Every text in one buffer of exactly its size.
    assert_eq!(k.text.len(), k.ends.last().copied().unwrap() as usize);

    let body = kept(
        4,
        &HeaderMap::new(),
        &RequestParams::default(),
        Some(b"{\"x\":1}"),
        crate::virtual_host::HostKind::Base,
    );
    let e = body.to_entry();
    assert_eq!(e.vhost, "base");
    assert_eq!(e.body.as_deref(), Some("{\"x\":1}"));
    assert!(e.query.is_empty() && e.headers.is_empty() && e.form.is_empty());
}

#[test]
fn a_journal_entry_keeps_a_bounded_part_of_a_huge_request() {
    let long = "v".repeat(JOURNAL_MAX_TEXT * 2);
    let many: Vec<(String, String)> = (0..JOURNAL_MAX_PAIRS * 100)
        .map(|i| (format!("k{i}"), long.clone()))
        .collect();
    let params = RequestParams {
        query: many.clone(),
        form: many,
    };
    let mut body = long.clone().into_bytes();
    body.push(0xff);
    let e = kept(
        1,
        &HeaderMap::new(),
        &params,
        Some(&body),
        crate::virtual_host::HostKind::Base,
    )
    .to_entry();
    for kept in [&e.query, &e.form] {
        assert_eq!(kept.len(), JOURNAL_MAX_PAIRS);
        assert_eq!(kept[0].0, "k0");
        assert!(kept.iter().all(|(_, v)| v.len() == JOURNAL_MAX_TEXT));
    }
    assert_eq!(e.body.map(|b| b.len()), Some(JOURNAL_MAX_TEXT));
    // A cut inside a character, or bytes that are not UTF-8, are replaced.
    let e = kept(
        2,
        &HeaderMap::new(),
        &RequestParams::default(),
        Some(&[b'a', 0xff]),
        crate::virtual_host::HostKind::Base,
    )
    .to_entry();
    assert_eq!(e.body.as_deref(), Some("a\u{fffd}"));
}

#[test]
fn ring_is_bounded_and_ordered() {
    let j = Journal::new(10);
    let (headers, params) = (HeaderMap::new(), RequestParams::default());
    for _ in 0..35 {
        let seq = j.next_seq();
        j.push(kept(
            seq,
            &headers,
            &params,
            None,
            crate::virtual_host::HostKind::Base,
        ));
    }
    let all = j.entries();
    assert!(all.len() <= 10);
    assert_eq!(all.last().unwrap().seq, 35);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[test]
fn secrets_are_masked_in_debug_and_json_but_readable_in_rust() {
    let e = entry(1);
    assert_eq!(e.param("password"), Some("hunter2"));
    let dbg = format!("{e:?}");
    assert!(
        !dbg.contains("hunter2") && !dbg.contains("c2VjcmV0"),
        "{dbg}"
    );
    let json = e.to_masked_json().to_string();
    assert!(
        !json.contains("hunter2") && json.contains("Basic ***"),
        "{json}"
    );
}

#[test]
fn login_transaction_and_session_are_masked_user_code_is_not() {
    let mut e = entry(1);
    e.form = vec![
        ("txn".into(), "T".repeat(32)),
        ("step".into(), "consent".into()),
        ("decision".into(), "allow".into()),
        ("user_code".into(), "ABCD2345".into()),
        ("sid".into(), "S".repeat(40)),
    ];
    e.headers = vec![("Cookie".into(), format!("sid={}", "S".repeat(40)))];
    let json = e.to_masked_json().to_string();
    assert!(json.contains(r#"["txn","***"]"#), "{json}");
    assert!(
        !json.contains(&"T".repeat(32)) && !json.contains(&"S".repeat(40)),
        "{json}"
    );
    assert!(json.contains(r#"["user_code","ABCD2345"]"#), "{json}");
    assert!(json.contains(r#"["decision","allow"]"#), "{json}");
    let dbg = format!("{e:?}");
    assert!(
        !dbg.contains(&"T".repeat(32)) && !dbg.contains(&"S".repeat(40)),
        "{dbg}"
    );
    for name in [
        "code",
        "code_verifier",
        "device_code",
        "txn",
        "sid",
        "Client_Secret",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    for name in ["user_code", "code_challenge", "state", "username", "step"] {
        assert!(!is_secret_name(name), "{name}");
    }
}

#[test]
fn secrets_inside_non_form_bodies_are_masked() {
    let mut e = entry(1);
    e.form.clear();
    let masked = |e: &JournalEntry| e.to_masked_json()["body"].as_str().unwrap().to_owned();

    e.body = Some(
        r#"{"username":"u@x","client_secret":"hunter2","nested":[{"password":"hunter3"}]}"#.into(),
    );
    let b = masked(&e);
    assert!(
        !b.contains("hunter") && b.contains(r#""username":"u@x""#),
        "{b}"
    );

    e.body = Some("<?xml version=\"1.0\"?><env:Envelope><env:Body><n1:login><n1:username>u@x</n1:username><n1:password>hunter2</n1:password></n1:login></env:Body></env:Envelope>".into());
    let b = masked(&e);
    assert!(
        !b.contains("hunter2") && b.contains("<n1:password>***</n1:password>"),
        "{b}"
    );
    assert!(b.contains("<n1:username>u@x</n1:username>"), "{b}");

    e.body = Some("grant_type=password&password=hunter2&username=u".into());
    let b = masked(&e);
    assert!(!b.contains("hunter2") && b.contains("username=u"), "{b}");

    e.body = Some("{not json, password: hunter2".into());
    assert_eq!(masked(&e), "***");

    e.body = Some("plain text".into());
    assert_eq!(masked(&e), "plain text");

    // Without credentials a JSON body stays byte for byte as sent.
    e.body = Some(r#"{"z": 1, "a": [true]}"#.into());
    assert_eq!(masked(&e), r#"{"z": 1, "a": [true]}"#);
}

#[test]
fn counters_count() {
    let c = Counters::default();
    c.add(Route::OAuthToken, Outcome::Ok);
    c.add(Route::OAuthToken, Outcome::Ok);
    c.add(Route::OAuthToken, Outcome::InvalidGrant);
    c.add(Route::PardotV4, Outcome::Pardot(184));
    let s = c.snapshot();
    assert_eq!(s.get(Route::OAuthToken, Outcome::Ok), 2);
    assert_eq!(s.route_total(Route::OAuthToken), 3);
    assert_eq!(s.get(Route::MciToken, Outcome::Ok), 0);
    assert_eq!(s.iter().count(), 3);
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"oauth.token":{"invalid_grant":1,"ok":2},"pardot.v4":{"pardot_184":1}}"#
    );
}
