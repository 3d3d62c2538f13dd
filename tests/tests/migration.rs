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
