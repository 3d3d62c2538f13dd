//! The 90-day migration end to end: activation starts it, the migration workers post every
//! day through the transfer engine, the ledger equals the simulator's ground truth for all
//! 90 days, a re-run changes nothing, and the errors and cancellation behave.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge_tests::fixture::{decimal, TransferFixture};
use tillbridge_tests::{error_code, eventually, TestEnv};

async fn fixture() -> TransferFixture {
    // The simulator's clock at today noon, so "the last 90 days" have sales.
    let mut config = tillbridge_local::lightspeed::sim_config();
    config.now = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    config.days = 100;
    let env = TestEnv::with_lightspeed(config, KAuthVersion::V2, true).await;
    let company = env.connect("migrate", "k_series").await;
    TransferFixture::setup(env, company).await
}

async fn call(fixture: &TransferFixture, method: reqwest::Method, path: &str) -> (u16, Value) {
    fixture
        .env
        .client(&fixture.company)
        .request(
            method,
            &format!("/v1/companies/{}{path}", fixture.company),
            None,
            &[],
        )
        .await
        .unwrap()
}

async fn finished(fixture: &TransferFixture, location: &str, job_id: &str) -> Value {
    eventually(
        "the migration finishes",
        Duration::from_secs(240),
        || async {
            let (_, body) = call(
                fixture,
                reqwest::Method::GET,
                &format!("/locations/{location}/migrations/{job_id}"),
            )
            .await;
            (!matches!(
                body["job"]["status"].as_str(),
                Some("pending") | Some("running")
            ))
            .then_some(body)
        },
    )
    .await
}

#[tokio::test]
async fn activation_migrates_90_days_to_the_ground_truth_and_a_rerun_changes_nothing() {
    let fixture = fixture().await;
    let locations: Vec<String> = fixture.locations.keys().cloned().collect();
    let location = &locations[0];

    // Not activated yet.
    let (status, reply) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (422, "location_not_activated"),
        "{reply}"
    );

    let (status, activated) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/activate"),
    )
    .await;
    assert_eq!(status, 201, "{activated}");
    let (_, jobs) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    let job_id = jobs["items"][0]["job_id"]
        .as_str()
        .expect("a job")
        .to_string();
    assert_eq!(jobs["items"][0]["total_days"], 90);
    let (status, reply) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (409, "migration_already_in_progress"),
        "{reply}"
    );

    let done = finished(&fixture, location, &job_id).await;
    let job = &done["job"];
    assert_eq!(job["status"], "completed", "{job}");
    let days = done["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    let count = |status: &str| days.iter().filter(|d| d["status"] == status).count() as u64;
    assert_eq!(
        job["days_processed"].as_u64().unwrap(),
        count("success") + count("no_data") + count("failed")
    );
    assert_eq!(job["days_skipped"].as_u64().unwrap(), count("skipped"));
    assert_eq!(job["days_failed"], 0);
    assert_eq!(job["progress_percent"], 100);
    assert_eq!(
        job["days_processed"].as_u64().unwrap() + job["days_skipped"].as_u64().unwrap(),
        90
    );
    let (start, end) = (
        job["start_date"].as_str().unwrap().to_string(),
        job["end_date"].as_str().unwrap().to_string(),
    );
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    assert!(
        end == yesterday.to_string() || end == (yesterday - chrono::Days::new(1)).to_string(),
        "{end}"
    );

    // Every day's ledger equals the ground truth.
    let ledger = ledger_by_day(&fixture, location, &start, &end).await;
    let entries_before: usize = ledger.values().map(|(_, n)| n).sum();
    for day in days {
        let date = day["date"].as_str().unwrap();
        let expected = fixture.expected_from(&fixture.ground_truth(location, date).await);
        let actual = ledger
            .get(date)
            .map(|(totals, _)| totals.clone())
            .unwrap_or_default();
        assert_eq!(actual, expected, "{date}");
    }

    // Started again without re-run: every day has a successful transfer, so all are skipped.
    let (status, again) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        (again["status"].as_str(), again["days_skipped"].as_u64()),
        (Some("completed"), Some(90)),
        "{again}"
    );

    // A re-run posts only deltas: none, since nothing changed.
    let (status, rerun) = fixture
        .env
        .client(&fixture.company)
        .post(
            &format!(
                "/v1/companies/{}/locations/{location}/migrations",
                fixture.company
            ),
            &json!({"rerun": true}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{rerun}");
    let again = finished(&fixture, location, rerun["job_id"].as_str().unwrap()).await;
    assert_eq!(again["job"]["status"], "completed");
    assert_eq!(again["job"]["days_skipped"], 0, "a re-run skips nothing");
    let after = ledger_by_day(&fixture, location, &start, &end).await;
    assert_eq!(
        after.values().map(|(_, n)| n).sum::<usize>(),
        entries_before,
        "no new entries"
    );

    // Unlinking the storage unit cancels a running migration, and then none can start.
    let second = &locations[1];
    let (status, _) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{second}/activate"),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &fixture,
        reqwest::Method::DELETE,
        &format!("/locations/{second}/storage-unit"),
    )
    .await;
    assert_eq!(status, 200);
    let (_, jobs) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{second}/migrations"),
    )
    .await;
    let job = &jobs["items"][0];
    assert_eq!(job["status"], "cancelled", "{job}");
    let (status, reply) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{second}/migrations"),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (422, "storage_unit_required"),
        "{reply}"
    );
    // Workers stop picking its days: nothing more is processed once cancelled.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, later) = call(
        &fixture,
        reqwest::Method::GET,
        &format!(
            "/locations/{second}/migrations/{}",
            job["job_id"].as_str().unwrap()
        ),
    )
    .await;
    let processing = later["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "processing")
        .count();
    assert_eq!(processing, 0, "{later}");
    let (status, reply) = call(
        &fixture,
        reqwest::Method::POST,
        &format!(
            "/locations/{second}/migrations/{}/cancel",
            job["job_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (400, "invalid_state"),
        "{reply}"
    );
    let (status, reply) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{second}/migrations/nope"),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (404, "migration_not_found"),
        "{reply}"
    );
}

/// Ledger of a location per date: totals per ingredient and the number of entries.
async fn ledger_by_day(
    fixture: &TransferFixture,
    location: &str,
    from: &str,
    to: &str,
) -> BTreeMap<String, (BTreeMap<String, Decimal>, usize)> {
    let unit = &fixture.locations[location].0;
    let (entries, _) = fixture
        .env
        .client(&fixture.company)
        .list_all(
            &format!(
                "/v1/companies/{}/ledger?storage_unit_id={unit}&from={from}&to={to}",
                fixture.company
            ),
            100,
        )
        .await
        .unwrap();
    let mut out: BTreeMap<String, (BTreeMap<String, Decimal>, usize)> = BTreeMap::new();
    for e in entries {
        let day = out
            .entry(e["business_date"].as_str().unwrap().to_string())
            .or_default();
        *day.0
            .entry(e["ingredient_id"].as_str().unwrap().to_string())
            .or_default() += decimal(&e["quantity"]);
        day.1 += 1;
    }
    for (totals, _) in out.values_mut() {
        totals.retain(|_, v| !v.is_zero());
    }
    out
}

/// Every message now on a queue (hidden long enough to be handled by hand).
async fn drain(env: &TestEnv, logical_id: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = env.sqs().await;
    let url = env.queue_url(logical_id);
    let mut out = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .send()
            .await
            .unwrap();
        let batch = received.messages.unwrap_or_default();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// The migration-worker handler on these messages, one SQS event each, as Lambda would: a
/// message it reports done is deleted, one it hands back stays for the next delivery.
async fn work(env: &TestEnv, deps: &tillbridge::Deps, messages: &[aws_sdk_sqs::types::Message]) {
    let queue = env.queue("MigrationQueue");
    let sqs = env.sqs().await;
    for message in messages {
        let record = tillbridge_local::host::poller::record(message, &queue);
        let event = serde_json::from_value(json!({ "Records": [record] })).unwrap();
        let response = tillbridge_local::host::functions::queue("migration-worker", deps, event)
            .await
            .unwrap();
        if response.batch_item_failures.is_empty() {
            forget(&sqs, &queue.url, message).await;
        }
    }
}

async fn forget(sqs: &aws_sdk_sqs::Client, url: &str, message: &aws_sdk_sqs::types::Message) {
    sqs.delete_message()
        .queue_url(url)
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
}

fn date_of(message: &aws_sdk_sqs::types::Message) -> String {
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    body["date"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn maintenance_retries_failed_days_and_recovers_a_killed_worker() {
    // No pollers: this test plays the queue, so it decides what fails and when.
    let mut config = tillbridge_local::lightspeed::sim_config();
    config.now = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    config.days = 100;
    let env = TestEnv::with_lightspeed(config, KAuthVersion::V2, false).await;
    let company = env.connect("maintain", "k_series").await;
    let fixture = TransferFixture::setup(env, company).await;
    let env = &fixture.env;
    let location = fixture.locations.keys().next().unwrap().clone();
    let (status, _) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/activate"),
    )
    .await;
    assert_eq!(status, 201);
    let (_, jobs) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    let job_id = jobs["items"][0]["job_id"].as_str().unwrap().to_string();
    let messages = drain(env, "MigrationQueue").await;
    assert_eq!(messages.len(), 90);
    let deps = env.deps("migration-worker").await;

    // Lightspeed down for the first four days: three deliveries each, then `failed`.
    env.sim_control(
        reqwest::Method::PUT,
        "/_sim/faults/k.sales",
        Some(json!({"share5xx": 1.0})),
    )
    .await;
    for _ in 0..3 {
        work(env, &deps, &messages[..4]).await;
    }
    env.sim_control(reqwest::Method::DELETE, "/_sim/faults", None)
        .await;
    let failed: Vec<String> = messages[..4].iter().map(date_of).collect();

    // A worker killed mid-day: its day stays `processing` and its message is gone.
    let killed = date_of(&messages[4]);
    let failing = tillbridge_tests::failing_store::FailingStore::new(deps.store.clone(), 3);
    let ctx = tillbridge::transfer::run::TransferContext {
        store: &failing,
        queue: deps.queue.as_ref(),
        sales: deps.sales.as_ref(),
        settings: &deps.config.transfer,
        retry_through_queue: false,
    };
    let message: tillbridge::migration::DayMessage =
        serde_json::from_str(messages[4].body().unwrap()).unwrap();
    assert!(
        tillbridge::migration::day::process(&ctx, &message, &chrono::Utc::now().to_rfc3339())
            .await
            .is_err()
    );
    forget(
        &env.sqs().await,
        &env.queue_url("MigrationQueue"),
        &messages[4],
    )
    .await;

    work(env, &deps, &messages[5..]).await;
    let (_, state) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations/{job_id}"),
    )
    .await;
    let status_of = |state: &Value, date: &str| {
        state["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == date)
            .unwrap()["status"]
            .clone()
    };
    for date in &failed {
        assert_eq!(status_of(&state, date), "failed", "{date}");
    }
    assert_eq!(status_of(&state, &killed), "processing");
    assert_eq!(
        state["job"]["status"], "running",
        "an unfinished day keeps the job open"
    );
    assert_eq!(state["job"]["days_failed"], 4);
    assert_eq!(state["job"]["days_processed"], 89);

    // The schedule, an hour later: the failed days and the stuck one go back on the queue.
    let path = tillbridge_local::paths::root().join("events/reconcile.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["time"] = json!((chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    tillbridge_local::host::functions::scheduled(
        "reconcile",
        &deps,
        serde_json::from_value(event).unwrap(),
    )
    .await
    .unwrap();
    let (_, alerts) = fixture
        .env
        .client(&fixture.company)
        .get(&format!("/v1/companies/{}/alerts", fixture.company))
        .await
        .unwrap();
    assert!(
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "stuck_migration"),
        "{alerts}"
    );
    let requeued = drain(env, "MigrationQueue").await;
    // A delivery of an already finished day may linger (SQS is at least once); the worker
    // ignores those, so only unfinished days count here.
    let (_, state) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations/{job_id}"),
    )
    .await;
    let unfinished = |date: &String| {
        !matches!(
            status_of(&state, date).as_str(),
            Some("success") | Some("no_data") | Some("skipped")
        )
    };
    let mut dates: Vec<String> = requeued.iter().map(date_of).filter(unfinished).collect();
    dates.sort();
    dates.dedup();
    let mut want: Vec<String> = failed.iter().cloned().chain([killed.clone()]).collect();
    want.sort();
    assert_eq!(dates, want);
    work(env, &deps, &requeued).await;

    let (_, done) = call(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations/{job_id}"),
    )
    .await;
    let job = &done["job"];
    assert_eq!(job["status"], "completed", "{job}");
    let days = done["days"].as_array().unwrap();
    let count = |s: &str| days.iter().filter(|d| d["status"] == s).count() as u64;
    assert_eq!(
        job["days_processed"].as_u64().unwrap(),
        count("success") + count("no_data")
    );
    assert_eq!(
        (
            job["days_failed"].as_u64(),
            job["progress_percent"].as_u64()
        ),
        (Some(0), Some(100))
    );
    for date in want {
        let expected = fixture.expected_from(&fixture.ground_truth(&location, &date).await);
        assert_eq!(
            fixture.ledger_totals(&location, &date).await,
            expected,
            "{date}"
        );
    }
}
