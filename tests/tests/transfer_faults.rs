//! Lightspeed faults during transfers: 429 (Retry-After in seconds and as an HTTP date),
//! 5xx and timeouts on 30 % of sales requests still end in exact ledgers; a permanent 5xx
//! ends after exactly three queue retries in `max_retries_exhausted` with an alert.

use std::time::Duration;

use serde_json::{json, Value};
use tillbridge::lightspeed::settings::{env as ls_env, KAuthVersion};
use tillbridge::transfer::TransferRequest;
use tillbridge_tests::fixture::TransferFixture;
use tillbridge_tests::{eventually, TestEnv};

async fn fixture(prefix: &str) -> TransferFixture {
    // Requests slower than a second count as timeouts, so injected delays are faults.
    let env = TestEnv::with_lightspeed_env(
        tillbridge_local::lightspeed::sim_config(),
        KAuthVersion::V2,
        vec![(ls_env::REQUEST_TIMEOUT_MS.into(), "1000".into())],
    )
    .await;
    let company = env.connect(prefix, "k_series").await;
    TransferFixture::setup(env, company).await
}

async fn enqueue(deps: &tillbridge::Deps, company: &str, location: &str, date: &str) -> String {
    let request = TransferRequest {
        request_uuid: uuid::Uuid::new_v4().to_string(),
        company_id: company.into(),
        location_id: location.into(),
        business_date: Some(date.into()),
        attempt: 1,
        force_refresh: true,
        requested_at: chrono::Utc::now().to_rfc3339(),
    };
    deps.queue
        .send(
            tillbridge::queue::QueueName::Transfer,
            tillbridge::queue::OutboundMessage {
                body: serde_json::to_string(&request).unwrap(),
                delay_seconds: 0,
                correlation_id: request.request_uuid.clone(),
                group: None,
            },
        )
        .await
        .unwrap();
    request.request_uuid
}

async fn logs_of(fixture: &TransferFixture, location: &str, request_uuid: &str) -> Vec<Value> {
    let (logs, _) = fixture
        .env
        .client(&fixture.company)
        .list_all(
            &format!(
                "/v1/companies/{}/locations/{location}/transfer-logs",
                fixture.company
            ),
            100,
        )
        .await
        .unwrap();
    let mut mine: Vec<Value> = logs
        .into_iter()
        .filter(|l| l["request_uuid"] == request_uuid)
        .collect();
    mine.sort_by_key(|l| l["attempt"].as_u64());
    mine
}

#[tokio::test]
async fn faults_on_30_percent_of_requests_still_give_exact_ledgers() {
    let fixture = fixture("xfer-faults").await;
    let (deps, worker) = fixture.env.private_transfer_worker(&fixture.company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let faults = [
        (
            "429, Retry-After seconds",
            json!({"share429": 0.3, "retryAfterSeconds": 1}),
        ),
        (
            "429, Retry-After HTTP date",
            json!({"share429": 0.3, "retryAfterSeconds": 1, "retryAfterHttpDate": true}),
        ),
        ("503", json!({"share5xx": 0.3, "status5xx": 503})),
        ("timeouts", json!({"shareDelay": 0.3, "delayMs": 1500})),
    ];
    for (n, (kind, spec)) in faults.iter().enumerate() {
        fixture
            .env
            .sim_control(
                reqwest::Method::PUT,
                "/_sim/faults/k.sales",
                Some(spec.clone()),
            )
            .await;
        let dates: Vec<String> = (0..2)
            .map(|i| format!("2026-02-{:02}", 3 + 2 * n + i))
            .collect();
        let mut requests = Vec::new();
        for date in &dates {
            requests.push((
                date.clone(),
                enqueue(&deps, &fixture.company, &location, date).await,
            ));
        }
        for (date, uuid) in &requests {
            let logs = eventually(
                &format!("{kind}: {date} succeeds"),
                Duration::from_secs(60),
                || async {
                    let logs = logs_of(&fixture, &location, uuid).await;
                    logs.iter().any(|l| l["success"] == true).then_some(logs)
                },
            )
            .await;
            assert!(
                logs.iter()
                    .all(|l| l["success"] == true || l["retry"].is_object()),
                "{kind}: {logs:?}"
            );
            assert_eq!(
                fixture.ledger_totals(&location, date).await,
                fixture.expected_from(&fixture.ground_truth(&location, date).await),
                "{kind}: {date}"
            );
        }
    }
    let stats: Value = fixture
        .env
        .sim_control(reqwest::Method::GET, "/_sim/faults", None)
        .await;
    println!("faults still set: {stats}");
    worker.abort();
}

#[tokio::test]
async fn a_permanent_5xx_ends_in_max_retries_exhausted_after_three_retries() {
    let fixture = fixture("xfer-5xx").await;
    let (deps, worker) = fixture.env.private_transfer_worker(&fixture.company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    fixture
        .env
        .sim_control(
            reqwest::Method::PUT,
            "/_sim/faults/k.sales",
            Some(json!({"share5xx": 1.0, "status5xx": 502})),
        )
        .await;
    let uuid = enqueue(&deps, &fixture.company, &location, "2026-02-16").await;
    let logs = eventually(
        "the last attempt is logged",
        Duration::from_secs(60),
        || async {
            let logs = logs_of(&fixture, &location, &uuid).await;
            logs.iter().any(|l| l["retry"].is_null()).then_some(logs)
        },
    )
    .await;
    let attempts: Vec<u64> = logs
        .iter()
        .map(|l| l["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2, 3, 4], "{logs:?}");
    for (log, delay) in logs.iter().zip([1, 2, 3]) {
        assert_eq!(log["error"]["code"], "lightspeed_api_error");
        assert_eq!(
            log["retry"]["delay_seconds"], delay,
            "local retry delays are 1, 2, 3 s"
        );
    }
    assert_eq!(logs[3]["error"]["code"], "max_retries_exhausted");
    assert_eq!(logs[3]["status"], "failed");
    // The worker raises the alert after it writes the last log: wait for it too.
    let alert = eventually(
        "the max_retries_exhausted alert",
        Duration::from_secs(30),
        || async {
            fixture
                .alerts()
                .await
                .into_iter()
                .find(|a| a["code"] == "max_retries_exhausted")
        },
    )
    .await;
    assert_eq!(
        alert["subject"],
        json!(format!("{location}:2026-02-16")),
        "{alert:?}"
    );
    assert!(fixture
        .ledger_entries(&location, "2026-02-16")
        .await
        .is_empty());
    // Nothing else arrives: the fourth attempt scheduled no retry.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(logs_of(&fixture, &location, &uuid).await.len(), 4);

    // Once Lightspeed recovers, a manual transfer posts the day and resolves the alert.
    fixture
        .env
        .sim_control(reqwest::Method::DELETE, "/_sim/faults", None)
        .await;
    let (status, result) = fixture.transfer(&location, "2026-02-16", true).await;
    assert_eq!(status, 200, "{result}");
    let alerts = fixture.alerts().await;
    assert!(
        !alerts
            .iter()
            .any(|a| a["code"] == "max_retries_exhausted" && a["status"] == "open"),
        "{alerts:?}"
    );
    worker.abort();
}

#[tokio::test]
async fn a_long_retry_after_is_honoured_by_the_queue_delay() {
    let fixture = fixture("xfer-ra").await;
    let (deps, worker) = fixture.env.private_transfer_worker(&fixture.company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    // Longer than a worker waits in process: the attempt goes back to the queue for 4 s.
    fixture
        .env
        .sim_control(reqwest::Method::PUT, "/_sim/faults/k.sales", Some(json!({"share429": 1.0, "retryAfterSeconds": 4, "retryAfterHttpDate": true, "remaining": 1})))
        .await;
    let uuid = enqueue(&deps, &fixture.company, &location, "2026-02-17").await;
    let logs = eventually("the retry succeeds", Duration::from_secs(60), || async {
        let logs = logs_of(&fixture, &location, &uuid).await;
        logs.iter().any(|l| l["success"] == true).then_some(logs)
    })
    .await;
    assert_eq!(logs.len(), 2, "{logs:?}");
    let delay = logs[0]["retry"]["delay_seconds"].as_u64().unwrap();
    assert!(
        (3..=4).contains(&delay),
        "HTTP-date Retry-After of ~4 s beats the 1 s schedule: {delay}"
    );
    assert_eq!(
        fixture.ledger_totals(&location, "2026-02-17").await,
        fixture.expected_from(&fixture.ground_truth(&location, "2026-02-17").await)
    );
    worker.abort();
}
