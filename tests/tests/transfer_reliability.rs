//! Exactly-once posting under repetition, redelivery, concurrency and crashes, and deltas
//! for late and edited sales — always compared with the simulator's ground truth.

use std::time::Duration;

use serde_json::{json, Value};
use tillbridge::transfer::run::{run, Outcome, TransferContext};
use tillbridge::transfer::{TransferRequest, TransferSettings};
use tillbridge_tests::failing_store::FailingStore;
use tillbridge_tests::fixture::TransferFixture;

fn request(fixture: &TransferFixture, location: &str, date: &str, force: bool) -> TransferRequest {
    TransferRequest {
        request_uuid: uuid::Uuid::new_v4().to_string(),
        company_id: fixture.company.clone(),
        location_id: location.to_string(),
        business_date: Some(date.to_string()),
        attempt: 1,
        force_refresh: force,
        requested_at: chrono::Utc::now().to_rfc3339(),
    }
}

/// The transfer-worker handler's SQS event for one message, from `events/`.
fn sqs_event(request: &TransferRequest) -> tillbridge::aws_lambda_events::event::sqs::SqsEvent {
    let path = tillbridge_local::paths::root().join("events/transfer-worker.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["body"] = json!(serde_json::to_string(request).unwrap());
    event["Records"][0]["messageId"] = json!(uuid::Uuid::new_v4().to_string());
    serde_json::from_value(event).unwrap()
}

async fn expected(
    fixture: &TransferFixture,
    location: &str,
    date: &str,
) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
    fixture.expected_from(&fixture.ground_truth(location, date).await)
}

#[tokio::test]
async fn repeats_redeliveries_and_concurrent_workers_post_exactly_once() {
    let fixture = TransferFixture::new("xfer-once").await;
    let locations: Vec<String> = fixture.locations.keys().cloned().collect();
    let (soho, leeds) = (&locations[0], &locations[1]);

    // The same day three times.
    let date = "2026-02-11";
    for _ in 0..3 {
        let (status, result) = fixture.transfer(soho, date, true).await;
        assert_eq!(status, 200, "{result}");
    }
    let entries = fixture.ledger_entries(soho, date).await;
    assert!(
        entries.iter().all(|e| e["revision"] == 0),
        "no correction was needed"
    );
    assert_eq!(
        fixture.ledger_totals(soho, date).await,
        expected(&fixture, soho, date).await
    );

    // The same message delivered three times, twice of them at once.
    let deps = fixture.env.deps("transfer-worker").await;
    let date = "2026-02-12";
    let message = request(&fixture, soho, date, false);
    let event = sqs_event(&message);
    let invoke =
        || tillbridge_local::host::functions::queue("transfer-worker", &deps, event.clone());
    let (a, b) = tokio::join!(invoke(), invoke());
    let c = invoke().await;
    for response in [a, b, c] {
        assert!(response.unwrap().batch_item_failures.is_empty());
    }
    let (logs, _) = fixture
        .env
        .client(&fixture.company)
        .list_all(
            &format!(
                "/v1/companies/{}/locations/{soho}/transfer-logs",
                fixture.company
            ),
            100,
        )
        .await
        .unwrap();
    let logged: Vec<&Value> = logs
        .iter()
        .filter(|l| l["request_uuid"] == message.request_uuid.as_str())
        .collect();
    assert_eq!(logged.len(), 1, "one log per (request, attempt)");
    assert_eq!(
        fixture.ledger_totals(soho, date).await,
        expected(&fixture, soho, date).await
    );

    // Four workers on one day at once, each with its own request.
    let date = "2026-02-13";
    let requests: Vec<TransferRequest> = (0..4)
        .map(|_| request(&fixture, leeds, date, true))
        .collect();
    let ctx = deps.transfers(true);
    let now = chrono::Utc::now().to_rfc3339();
    let outcomes = futures::future::join_all(requests.iter().map(|r| run(&ctx, r, &now))).await;
    let mut created = 0;
    for outcome in outcomes {
        match outcome.unwrap() {
            Outcome::Logged(log) => {
                assert!(log.success, "{log:?}");
                created += log.ledger_ids.len();
            }
            Outcome::AlreadyLogged(id) => panic!("{id} was new"),
        }
    }
    let entries = fixture.ledger_entries(leeds, date).await;
    assert_eq!(created, entries.len(), "exactly one worker posted");
    assert!(entries.iter().all(|e| e["revision"] == 0));
    assert_eq!(
        fixture.ledger_totals(leeds, date).await,
        expected(&fixture, leeds, date).await
    );
}

#[tokio::test]
async fn a_crash_between_any_two_writes_is_recovered_by_the_retry() {
    let fixture = TransferFixture::new("xfer-crash").await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let deps = fixture.env.deps("transfer-worker").await;
    // A short lease so a lease left behind by a crash expires within the test.
    let settings = TransferSettings {
        lease: Duration::from_secs(2),
        lease_wait: Duration::from_secs(6),
        ..TransferSettings::default()
    };
    let context = |store: &'static FailingStore| TransferContext {
        store,
        queue: deps.queue.as_ref(),
        sales: deps.sales.as_ref(),
        settings: &settings,
        retry_through_queue: true,
    };
    // How many writes one transfer makes.
    let counting: &'static FailingStore =
        Box::leak(Box::new(FailingStore::new(deps.store.clone(), 0)));
    let first_date = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let probe = request(&fixture, &location, &first_date.to_string(), true);
    assert!(matches!(
        run(&context(counting), &probe, "2026-03-02T05:00:00Z").await,
        Ok(Outcome::Logged(_))
    ));
    let writes = counting.writes();
    assert!(
        writes >= 6,
        "cache, entries, state, log, stats, lease: {writes}"
    );
    assert_eq!(
        fixture
            .ledger_totals(&location, &first_date.to_string())
            .await,
        expected(&fixture, &location, &first_date.to_string()).await
    );

    for fail_at in 1..=writes {
        let date = (first_date + chrono::Days::new(fail_at as u64)).to_string();
        let message = request(&fixture, &location, &date, true);
        let failing: &'static FailingStore =
            Box::leak(Box::new(FailingStore::new(deps.store.clone(), fail_at)));
        let crashed = run(&context(failing), &message, "2026-03-02T05:00:00Z").await;
        // The redelivered message, on a healthy store.
        let healthy: &'static FailingStore =
            Box::leak(Box::new(FailingStore::new(deps.store.clone(), 0)));
        let retried = run(&context(healthy), &message, "2026-03-02T05:00:01Z").await;
        match (&crashed, &retried) {
            (Err(_), Ok(Outcome::Logged(log))) => assert!(log.success, "{log:?}"),
            // A failure after the log was written leaves the retry nothing to do.
            (_, Ok(Outcome::AlreadyLogged(_))) | (Ok(_), _) => {}
            other => panic!("write {fail_at}: {other:?}"),
        }
        let want = expected(&fixture, &location, &date).await;
        assert_eq!(
            fixture.ledger_totals(&location, &date).await,
            want,
            "crash at write {fail_at} of {writes}"
        );
        let entries = fixture.ledger_entries(&location, &date).await;
        assert!(
            entries.iter().all(|e| e["revision"] == 0),
            "crash at write {fail_at}: no duplicate to correct"
        );
    }
}

#[tokio::test]
async fn late_and_edited_sales_become_deltas_that_net_out() {
    let fixture = TransferFixture::new("xfer-delta").await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let date = "2026-02-20";
    let (status, first) = fixture.transfer(&location, date, true).await;
    assert_eq!(status, 200, "{first}");
    let before = fixture.ledger_entries(&location, date).await;

    // Late offline sales and a back-office edit of a posted line.
    fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/late-sales",
            Some(json!({"locationId": location.parse::<u64>().unwrap(), "date": date, "count": 5})),
        )
        .await;
    let entry_id = before[0]["entry_id"].as_str().unwrap();
    let (_, detail) = fixture
        .env
        .client(&fixture.company)
        .get(&format!(
            "/v1/companies/{}/ledger/{entry_id}",
            fixture.company
        ))
        .await
        .unwrap();
    let line = &detail["source_lines"][0];
    assert!(line["sale_id"].is_string(), "{detail}");
    let edited_quantity =
        rust_decimal::Decimal::from(7) + tillbridge_tests::fixture::decimal(&line["quantity"]);
    fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/sales/edit",
            Some(json!({"locationId": location.parse::<u64>().unwrap(), "accountFiscId": line["sale_id"], "lineId": line["line_id"], "quantity": edited_quantity.to_string()})),
        )
        .await;

    // Without force refresh the cache answers: nothing changes.
    let (_, cached) = fixture.transfer(&location, date, false).await;
    assert_eq!(cached["stats"]["used_cache"], true);
    assert_eq!(cached["stats"]["ledger_entries_created"], 0);

    // The re-check (force refresh) posts only the deltas.
    let (status, recheck) = fixture.transfer(&location, date, true).await;
    assert_eq!(status, 200, "{recheck}");
    let after = fixture.ledger_entries(&location, date).await;
    assert_eq!(
        fixture.ledger_totals(&location, date).await,
        expected(&fixture, &location, date).await
    );
    let corrections: Vec<&Value> = after.iter().filter(|e| e["revision"] != 0).collect();
    assert!(!corrections.is_empty());
    assert!(corrections.iter().all(|e| e["reason"] == "correction"));
    assert_eq!(
        after.len(),
        before.len() + corrections.len(),
        "earlier entries are never rewritten"
    );
    for old in &before {
        assert!(after.contains(old), "entry {} changed", old["entry_id"]);
    }
    // The edited line now points at a correction too.
    let line_key = format!(
        "{}/{}",
        line["sale_id"].as_str().unwrap(),
        line["line_id"].as_str().unwrap()
    );
    let (_, fed) = fixture
        .env
        .client(&fixture.company)
        .get(&format!(
            "/v1/companies/{}/ledger?location_id={location}&date={date}&sales_line={line_key}",
            fixture.company
        ))
        .await
        .unwrap();
    assert!(
        fed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "correction"),
        "{fed}"
    );
}
