//! The 90-day migration end to end: activation starts it, the migration workers post every
//! day through the transfer engine, the ledger equals the simulator's ground truth for all
//! 90 days, a re-run changes nothing (and after Lightspeed's data changes, posts only the
//! deltas), the lanes bound an integration's days in flight, maintenance recovers failed
//! and killed days, and the errors and cancellation behave.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge_tests::fixture::{decimal, TransferFixture};
use tillbridge_tests::{error_code, eventually, TestEnv};

async fn fixture() -> TransferFixture {
    let config = tillbridge_local::lightspeed::sim_config_until_today(100);
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

/// An admin API call that must be refused with `status` and error `code`.
async fn refused(
    fixture: &TransferFixture,
    method: reqwest::Method,
    path: &str,
    status: u16,
    code: &str,
) {
    let (got, reply) = call(fixture, method, path).await;
    assert_eq!((got, error_code(&reply)), (status, code), "{path}: {reply}");
}

async fn activate(fixture: &TransferFixture, location: &str) {
    let (status, reply) = call(
        fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/activate"),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
}

/// A location's migrations, newest first.
async fn list_jobs(fixture: &TransferFixture, location: &str) -> Value {
    let (status, jobs) = call(
        fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations"),
    )
    .await;
    assert_eq!(status, 200, "{jobs}");
    jobs
}

/// Starts a re-run of a location's migration through the admin API.
async fn rerun(fixture: &TransferFixture, location: &str) -> Value {
    let (status, job) = fixture
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
    assert_eq!(status, 201, "{job}");
    job
}

async fn finished(fixture: &TransferFixture, location: &str, job_id: &str) -> Value {
    eventually(
        "the migration finishes",
        Duration::from_secs(240),
        || async {
            let body = job_state(fixture, location, job_id).await;
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
    refused(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations"),
        422,
        "location_not_activated",
    )
    .await;

    activate(&fixture, location).await;
    let jobs = list_jobs(&fixture, location).await;
    let job_id = jobs["items"][0]["job_id"]
        .as_str()
        .expect("a job")
        .to_string();
    assert_eq!(jobs["items"][0]["total_days"], 90);
    refused(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations"),
        409,
        "migration_already_in_progress",
    )
    .await;

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
    let started = rerun(&fixture, location).await;
    let again = finished(&fixture, location, started["job_id"].as_str().unwrap()).await;
    assert_eq!(again["job"]["status"], "completed");
    assert_eq!(again["job"]["days_skipped"], 0, "a re-run skips nothing");
    let after = ledger_by_day(&fixture, location, &start, &end).await;
    assert_eq!(
        after.values().map(|(_, n)| n).sum::<usize>(),
        entries_before,
        "no new entries"
    );

    // Lightspeed's data changes: late offline sales on one day, a back-office edit of a posted
    // line on another. A re-run posts only the deltas, as corrections of those two days.
    let transferred: Vec<&str> = days
        .iter()
        .filter(|d| d["status"] == "success")
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    let (late_day, edited_day) = (transferred[10], transferred[transferred.len() - 10]);
    fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/late-sales",
            Some(json!({"locationId": location.parse::<u64>().unwrap(), "date": late_day, "count": 5})),
        )
        .await;
    let posted = fixture.ledger_entries(location, edited_day).await;
    let (_, detail) = fixture
        .env
        .client(&fixture.company)
        .get(&format!(
            "/v1/companies/{}/ledger/{}",
            fixture.company,
            posted[0]["entry_id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    let line = &detail["source_lines"][0];
    fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/sales/edit",
            Some(json!({
                "locationId": location.parse::<u64>().unwrap(),
                "accountFiscId": line["sale_id"],
                "lineId": line["line_id"],
                "quantity": (decimal(&line["quantity"]) + Decimal::from(7)).to_string(),
            })),
        )
        .await;
    let entries_then = ledger_entries(&fixture, location, &start, &end).await;
    let started = rerun(&fixture, location).await;
    let again = finished(&fixture, location, started["job_id"].as_str().unwrap()).await;
    assert_eq!(again["job"]["status"], "completed");
    let entries_now = ledger_entries(&fixture, location, &start, &end).await;
    for old in &entries_then {
        assert!(
            entries_now.contains(old),
            "entry {} changed",
            old["entry_id"]
        );
    }
    let new: Vec<&Value> = entries_now
        .iter()
        .filter(|e| !entries_then.contains(e))
        .collect();
    assert!(!new.is_empty());
    for entry in &new {
        assert_eq!(entry["reason"], "correction", "{entry}");
        assert!(
            [late_day, edited_day].contains(&entry["business_date"].as_str().unwrap()),
            "only the changed days move: {entry}"
        );
    }
    for date in [late_day, edited_day] {
        let expected = fixture.expected_from(&fixture.ground_truth(location, date).await);
        assert_eq!(
            fixture.ledger_totals(location, date).await,
            expected,
            "{date}"
        );
    }

    // Cancelled mid-run: the workers finish at most the days they hold and pick no more.
    let started = rerun(&fixture, location).await;
    let job_id = started["job_id"].as_str().unwrap();
    let (status, cancelled) = call(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{location}/migrations/{job_id}/cancel"),
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    let settled = eventually(
        "the days in flight at cancel time finish",
        Duration::from_secs(60),
        || async {
            let state = job_state(&fixture, location, job_id).await;
            (!state["days"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["status"] == "processing"))
            .then_some(state)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = job_state(&fixture, location, job_id).await;
    assert_eq!(
        later["days"], settled["days"],
        "no day moved after the cancel"
    );
    assert_eq!(later["job"]["status"], "cancelled");
    let pending = later["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "pending")
        .count();
    assert!(pending > 45, "most days never ran: {pending} pending");
    let finished_days = later["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| matches!(d["status"].as_str(), Some("success" | "no_data" | "failed")))
        .count() as u64;
    assert_eq!(
        later["job"]["days_processed"].as_u64(),
        Some(finished_days),
        "the counters of a cancelled job still equal its day items"
    );

    // Unlinking the storage unit cancels a running migration, and then none can start.
    let second = &locations[1];
    activate(&fixture, second).await;
    let (status, _) = call(
        &fixture,
        reqwest::Method::DELETE,
        &format!("/locations/{second}/storage-unit"),
    )
    .await;
    assert_eq!(status, 200);
    let jobs = list_jobs(&fixture, second).await;
    let job = &jobs["items"][0];
    assert_eq!(job["status"], "cancelled", "{job}");
    refused(
        &fixture,
        reqwest::Method::POST,
        &format!("/locations/{second}/migrations"),
        422,
        "storage_unit_required",
    )
    .await;
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
    refused(
        &fixture,
        reqwest::Method::POST,
        &format!(
            "/locations/{second}/migrations/{}/cancel",
            job["job_id"].as_str().unwrap()
        ),
        400,
        "invalid_state",
    )
    .await;
    refused(
        &fixture,
        reqwest::Method::GET,
        &format!("/locations/{second}/migrations/nope"),
        404,
        "migration_not_found",
    )
    .await;
}

/// Every ledger entry of a location's storage unit between two dates.
async fn ledger_entries(
    fixture: &TransferFixture,
    location: &str,
    from: &str,
    to: &str,
) -> Vec<Value> {
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
    entries
}

/// Ledger of a location per date: totals per ingredient and the number of entries.
async fn ledger_by_day(
    fixture: &TransferFixture,
    location: &str,
    from: &str,
    to: &str,
) -> BTreeMap<String, (BTreeMap<String, Decimal>, usize)> {
    let entries = ledger_entries(fixture, location, from, to).await;
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

/// The next message Lambda's FIFO event source would deliver (batch size 1), hidden long
/// enough to be handled by hand; `None` when every lane stays empty or busy for `wait` s.
async fn next_message(env: &TestEnv, wait: i32) -> Option<aws_sdk_sqs::types::Message> {
    env.sqs()
        .await
        .receive_message()
        .queue_url(env.queue_url("MigrationQueue"))
        .max_number_of_messages(1)
        .visibility_timeout(600)
        .wait_time_seconds(wait)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
        .pop()
}

/// The migration-worker handler on one message, as one SQS event: a message it reports done
/// is deleted; one it reports failed stays (hidden for 600 s unless the worker hands it back
/// sooner). Returns whether it was done.
async fn deliver(
    env: &TestEnv,
    deps: &tillbridge::Deps,
    message: &aws_sdk_sqs::types::Message,
) -> bool {
    let queue = env.queue("MigrationQueue");
    let record = tillbridge_local::host::poller::record(message, &queue);
    let event = serde_json::from_value(json!({ "Records": [record] })).unwrap();
    let response = tillbridge_local::host::functions::queue("migration-worker", deps, event)
        .await
        .unwrap();
    let done = response.batch_item_failures.is_empty();
    if done {
        forget(env, message).await;
    }
    done
}

async fn forget(env: &TestEnv, message: &aws_sdk_sqs::types::Message) {
    env.sqs()
        .await
        .delete_message()
        .queue_url(env.queue_url("MigrationQueue"))
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
}

fn date_of(message: &aws_sdk_sqs::types::Message) -> String {
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    body["date"].as_str().unwrap().to_string()
}

/// A fixture without pollers (the test plays the migration queue, so it decides what fails
/// and when) on its own table (its schedule runs an hour ahead and must not touch other
/// tests' migrations).
async fn fixture_without_workers(name: &str) -> TransferFixture {
    let config = tillbridge_local::lightspeed::sim_config_until_today(100);
    let env = TestEnv::with_lightspeed_private_table(config, KAuthVersion::V2).await;
    let company = env.connect(name, "k_series").await;
    TransferFixture::setup(env, company).await
}

async fn job_state(fixture: &TransferFixture, location: &str, job_id: &str) -> Value {
    let (status, state) = call(
        fixture,
        reqwest::Method::GET,
        &format!("/locations/{location}/migrations/{job_id}"),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    state
}

fn status_of(state: &Value, date: &str) -> String {
    state["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_integration_never_has_more_days_in_flight_than_its_lanes() {
    let fixture = fixture_without_workers("lanes").await;
    let env = &fixture.env;
    let locations: Vec<String> = fixture.locations.keys().take(2).cloned().collect();
    for location in &locations {
        activate(&fixture, location).await;
    }
    // The lanes the deployed functions are configured with (the template's parameter).
    let deps = env.deps("migration-worker").await;
    let lanes = deps.config.migration.lanes_per_integration as usize;
    assert!(lanes >= 2, "the test needs lanes to run side by side");

    // 180 days of one integration are queued, yet however many workers ask, only one day
    // per lane is handed out until one of them is finished.
    let mut in_flight = Vec::new();
    for _ in 0..(4 * lanes) {
        if let Some(message) = next_message(env, 0).await {
            in_flight.push(message);
        }
    }
    assert_eq!(in_flight.len(), lanes);
    let lane_of = |m: &aws_sdk_sqs::types::Message| {
        m.attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
            .cloned()
            .unwrap_or_default()
    };
    let mut groups: Vec<String> = in_flight.iter().map(lane_of).collect();
    groups.sort();
    groups.dedup();
    assert_eq!(groups.len(), lanes, "one day per lane: {groups:?}");
    assert!(
        groups
            .iter()
            .all(|g| g.starts_with(&format!("{}.lane", fixture.company))),
        "{groups:?}"
    );

    // Finishing a day frees its lane for the next day of that lane, in date order.
    let first = &in_flight[0];
    assert!(deliver(env, &deps, first).await);
    let next = next_message(env, 0).await.expect("the lane's next day");
    let (previous, following) = (date_of(first), date_of(&next));
    assert_eq!(lane_of(&next), lane_of(first));
    assert!(following > previous, "{previous} then {following}");
    assert!(
        next_message(env, 0).await.is_none(),
        "both lanes busy again"
    );
}

#[tokio::test]
async fn maintenance_retries_failed_days_and_recovers_a_killed_worker() {
    let fixture = fixture_without_workers("maintain").await;
    let env = &fixture.env;
    let location = fixture.locations.keys().next().unwrap().clone();
    activate(&fixture, &location).await;
    let jobs = list_jobs(&fixture, &location).await;
    let job_id = jobs["items"][0]["job_id"].as_str().unwrap().to_string();
    assert_eq!(jobs["items"][0]["total_days"], 90);
    let deps = env.deps("migration-worker").await;

    // Lightspeed throttles once with a Retry-After (6 s) longer than the planned retry delay
    // (1 s locally): the worker hands the day back for the Retry-After; the other lane's days
    // go on meanwhile.
    env.sim_control(
        reqwest::Method::PUT,
        "/_sim/faults/k.sales",
        Some(json!({"share429": 1.0, "retryAfterSeconds": 6, "remaining": 1})),
    )
    .await;
    let message = next_message(env, 10).await.expect("a day to work on");
    let throttled = date_of(&message);
    let delivered_at = std::time::Instant::now();
    assert!(!deliver(env, &deps, &message).await, "throttled");
    let back_after = loop {
        let message = next_message(env, 10)
            .await
            .expect("the throttled day returns");
        if date_of(&message) == throttled {
            let waited = delivered_at.elapsed();
            assert!(deliver(env, &deps, &message).await);
            break waited;
        }
        assert!(deliver(env, &deps, &message).await);
    };
    assert!(
        back_after >= Duration::from_secs(5),
        "handed back for the Retry-After, not the 1 s schedule: {back_after:?}"
    );

    // Lightspeed down: the worker hands a day back for the transfer retry delay (1 s, 2 s
    // locally) although the test received it for 600 s, so it returns in seconds; the third
    // delivery marks it `failed` and is done. Four days go that way.
    env.sim_control(
        reqwest::Method::PUT,
        "/_sim/faults/k.sales",
        Some(json!({"share5xx": 1.0})),
    )
    .await;
    let mut failed = Vec::new();
    while failed.len() < 4 {
        let message = next_message(env, 10)
            .await
            .expect("a handed-back day returns after its retry delay");
        if deliver(env, &deps, &message).await {
            failed.push(date_of(&message));
        }
    }
    env.sim_control(reqwest::Method::DELETE, "/_sim/faults", None)
        .await;
    let state = job_state(&fixture, &location, &job_id).await;
    for date in &failed {
        let day = state["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == date.as_str())
            .unwrap();
        assert_eq!(
            (day["status"].as_str(), day["runs"].as_u64()),
            (
                Some("failed"),
                Some(u64::from(tillbridge::migration::day::RETRIES_IN_QUEUE))
            ),
            "{day}"
        );
    }

    // A worker killed mid-day: its day stays `processing` and its message is gone.
    let message = next_message(env, 10).await.expect("a day to work on");
    let killed = date_of(&message);
    let failing = tillbridge_tests::failing_store::FailingStore::new(deps.store.clone(), 3);
    let ctx = tillbridge::transfer::run::TransferContext {
        store: &failing,
        queue: deps.queue.as_ref(),
        sales: deps.sales.as_ref(),
        settings: &deps.config.transfer,
        retry_through_queue: false,
    };
    let day: tillbridge::migration::DayMessage =
        serde_json::from_str(message.body().unwrap()).unwrap();
    assert!(
        tillbridge::migration::day::process(&ctx, &day, &chrono::Utc::now().to_rfc3339())
            .await
            .is_err()
    );
    forget(env, &message).await;

    // Every other day goes through (a day handed back while Lightspeed was down included).
    while let Some(message) = next_message(env, 5).await {
        assert!(deliver(env, &deps, &message).await, "{}", date_of(&message));
    }
    let state = job_state(&fixture, &location, &job_id).await;
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
    let alerts = fixture.alerts().await;
    assert!(
        alerts.iter().any(|a| a["code"] == "stuck_migration"),
        "{alerts:?}"
    );
    let mut requeued = Vec::new();
    while let Some(message) = next_message(env, 0).await {
        requeued.push(date_of(&message));
        assert!(deliver(env, &deps, &message).await, "{}", date_of(&message));
    }
    requeued.sort();
    let mut want: Vec<String> = failed.iter().cloned().chain([killed.clone()]).collect();
    want.sort();
    assert_eq!(requeued, want, "exactly the unfinished days, once each");

    let done = job_state(&fixture, &location, &job_id).await;
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
