//! Messages on the transfer queue reach the real transfer-worker handler through the local
//! host's event source mapping; redeliveries write once; a message that can never succeed is dropped at once.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{json, Value};
use tillbridge_tests::{eventually, unique_company, AdminClient, TestEnv};

fn transfer_request(company: &str, location: &str, date: Option<&str>) -> (String, String) {
    let request_uuid = uuid::Uuid::new_v4().to_string();
    let mut body = json!({
        "request_uuid": request_uuid, "company_id": company, "location_id": location,
        "attempt": 1, "force_refresh": true, "requested_at": "2026-11-22T05:00:00.000Z",
    });
    if let Some(date) = date {
        body["business_date"] = json!(date);
    }
    (request_uuid, body.to_string())
}

async fn logs(api: &AdminClient, company: &str, location: &str) -> Vec<Value> {
    let (items, _) = api
        .list_all(
            &format!("/v1/companies/{company}/locations/{location}/transfer-logs"),
            100,
        )
        .await
        .unwrap();
    items
}

async fn send(env: &TestEnv, queue: &str, body: &str) {
    env.sqs()
        .await
        .send_message()
        .queue_url(env.queue_url(queue))
        .message_body(body)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transfer_request_is_processed_and_logged_with_its_outcome() {
    let env = TestEnv::with_workers().await;
    let company = unique_company("rt");
    let api = env.client(&company);
    let cases = [
        ("loc-a", Some("2026-11-21"), "location_not_found"),
        ("loc-b", Some("21/11/2026"), "invalid_date_format"),
        ("loc-c", None, "date_required"),
    ];
    for (location, date, _) in cases {
        send(
            &env,
            "TransferQueue",
            &transfer_request(&company, location, date).1,
        )
        .await;
    }
    for (location, date, expected) in cases {
        let log = eventually(
            &format!("the log of {location}"),
            Duration::from_secs(30),
            || async { logs(&api, &company, location).await.into_iter().next() },
        )
        .await;
        assert_eq!(log["status"], "failed");
        assert_eq!(log["error"]["code"], expected, "{log}");
        assert_eq!(log["date"], date.unwrap_or(""));
        assert_eq!(log["attempt"], 1);
    }
}

#[tokio::test]
async fn a_message_delivered_three_times_is_logged_once() {
    let env = TestEnv::with_workers().await;
    let company = unique_company("dup");
    let api = env.client(&company);
    let (request_uuid, body) = transfer_request(&company, "loc", Some("2026-11-20"));
    for _ in 0..3 {
        send(&env, "TransferQueue", &body).await;
    }
    eventually("the first log", Duration::from_secs(30), || async {
        (!logs(&api, &company, "loc").await.is_empty()).then_some(())
    })
    .await;
    // Wait until the queue holds none of our copies: all three were handled.
    let sqs = env.sqs().await;
    let url = env.queue_url("TransferQueue");
    eventually(
        "the transfer queue to drain",
        Duration::from_secs(60),
        || async {
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
                .await
                .ok()?
                .attributes?;
            let total: u64 = attributes
                .values()
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            (total == 0).then_some(())
        },
    )
    .await;
    let all = logs(&api, &company, "loc").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["request_uuid"], request_uuid.as_str());
}

#[tokio::test]
async fn a_poison_message_is_dropped_at_once_not_redelivered_to_the_dead_letter_queue() {
    let env = TestEnv::with_workers().await;
    let marker = uuid::Uuid::new_v4().to_string();
    let poison = format!("not a transfer request {marker}");
    send(&env, "TransferQueue", &poison).await;
    // A good message in the same stream is unaffected by its poisoned neighbour.
    let company = unique_company("poison");
    send(
        &env,
        "TransferQueue",
        &transfer_request(&company, "loc", Some("2026-11-19")).1,
    )
    .await;

    let api = env.client(&company);
    let good = eventually(
        "the good message's log",
        Duration::from_secs(30),
        || async { logs(&api, &company, "loc").await.into_iter().next() },
    )
    .await;
    assert_eq!(good["error"]["code"], "location_not_found");

    // It can never succeed, so it is not redelivered: the queue drains after its first
    // receive, and after more visibility timeouts than the redrive limit needs, the DLQ
    // still has not seen it.
    let sqs = env.sqs().await;
    let queue = env.queue_url("TransferQueue");
    let depth = || async {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .ok()?
            .attributes
            .unwrap_or_default();
        Some(
            attributes
                .values()
                .filter_map(|v| v.parse::<u32>().ok())
                .sum::<u32>(),
        )
    };
    eventually(
        "the transfer queue drained",
        Duration::from_secs(10),
        || async { (depth().await == Some(0)).then_some(()) },
    )
    .await;
    let max_receive: u64 = tillbridge_local::provision::LOCAL_PARAMETER_OVERRIDES
        .iter()
        .find(|(k, _)| *k == "MaxReceiveCount")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5 * (max_receive + 1))).await;
    assert_eq!(depth().await, Some(0), "the poison message came back");
    let dlq = env.queue_url("TransferDLQ");
    let received = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    assert!(
        !received
            .messages()
            .iter()
            .any(|m| m.body() == Some(poison.as_str())),
        "the poison message was dead-lettered after redeliveries"
    );
}

#[tokio::test]
async fn a_delayed_message_is_not_delivered_before_its_delay() {
    let env = TestEnv::with_workers().await;
    let company = unique_company("delay");
    let api = env.client(&company);
    let (_, body) = transfer_request(&company, "loc", Some("2026-11-18"));
    let sent_at = chrono::Utc::now();
    env.sqs()
        .await
        .send_message()
        .queue_url(env.queue_url("TransferQueue"))
        .message_body(body)
        .delay_seconds(3)
        .send()
        .await
        .unwrap();
    let log = eventually(
        "the delayed message's log",
        Duration::from_secs(30),
        || async { logs(&api, &company, "loc").await.into_iter().next() },
    )
    .await;
    let finished =
        chrono::DateTime::parse_from_rfc3339(log["finished_at"].as_str().unwrap()).unwrap();
    let waited = finished.signed_duration_since(sent_at);
    assert!(
        waited >= chrono::Duration::seconds(3),
        "processed after {waited}, before the 3 s delay"
    );
}
