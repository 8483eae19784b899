//! The mock's concurrency counters: the peak of requests in flight at once (every arrival
//! counted, admitted or refused with 66) and the 66 answers, in the Rust API and at
//! `GET /__mock/concurrency`, forgotten by a reset.

mod pardot_support;

use std::sync::Arc;

use pardot_auth_core::BusinessUnitId;
use pardot_support::*;

/// Five requests held in flight by the gate, then two more arrive and are refused: the peak
/// counts six at once (the refusals one at a time), and the 66 count is two.
#[tokio::test]
async fn peak_counts_every_arrival_and_66_answers_are_counted() {
    let env = Arc::new(env().await);
    let bu: BusinessUnitId = BU.parse().unwrap();
    let fresh = env.mock.concurrency(&bu).unwrap();
    assert_eq!(
        (
            fresh.peak_in_flight,
            fresh.in_flight,
            fresh.refused_66,
            fresh.limit
        ),
        (0, 0, 0, 5)
    );
    let api = env.mock.state().pardot();
    api.hold_requests();
    let held: Vec<_> = (0..5)
        .map(|_| {
            let env = Arc::clone(&env);
            tokio::spawn(async move { env.bearer_get("/api/v5/objects/prospects?fields=id").await })
        })
        .collect();
    api.wait_for_held_requests(5).await;
    for _ in 0..2 {
        env.bearer_expect("/api/v5/objects/prospects?fields=id", 429)
            .await;
    }
    let during = env.mock.concurrency(&bu).unwrap();
    assert_eq!(
        (during.peak_in_flight, during.in_flight, during.refused_66),
        (6, 5, 2)
    );
    let over_http = env.get("/__mock/concurrency", &[]).await;
    assert_eq!(over_http.status, 200, "{over_http:?}");
    assert_eq!(
        over_http.json()["business_units"][BU],
        serde_json::json!({"peak_in_flight": 6, "in_flight": 5, "refused_66": 2, "limit": 5})
    );
    // Another unit's counters are its own.
    assert_eq!(
        over_http.json()["business_units"][DEMO_BU]["peak_in_flight"],
        0
    );
    api.release_requests();
    for task in held {
        assert_eq!(task.await.unwrap().status, 200);
    }
    let after = env.mock.concurrency(&bu).unwrap();
    assert_eq!((after.peak_in_flight, after.in_flight), (6, 0));
    env.mock.reset();
    let reset = env.mock.concurrency(&bu).unwrap();
    assert_eq!((reset.peak_in_flight, reset.refused_66), (0, 0));
}
