//! Dead letters end to end: a transfer whose writes fail for good (an injected store
//! fault) dead-letters after the queue's three receives; an operator lists it with the
//! recorded reason and attempts, the reconcile check raises `dlq_not_empty`; with the fault
//! cleared, the replay posts the day exactly as the simulator's ground truth says, a
//! repeated replay (or a duplicate of the work) adds nothing, and the alert resolves. A
//! FIFO dead letter is replayed with a fresh deduplication id into its group.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use tillbridge::queue::{OutboundMessage, QueueName};
use tillbridge::store::{Condition, Item, ItemStore, Key, Page, Query, StoreError, Write};
use tillbridge::transfer::TransferRequest;
use tillbridge_tests::fixture::TransferFixture;
use tillbridge_tests::{error_code, eventually};

/// Fails every write naming `company` while `on` (a tenant whose writes are throttled
/// for good); everything else goes through, the failure records included.
struct FaultyStore {
    inner: Arc<dyn ItemStore>,
    company: String,
    on: Arc<AtomicBool>,
}

impl FaultyStore {
    fn check(&self, keys: &[String]) -> Result<(), StoreError> {
        if self.on.load(Ordering::SeqCst) && keys.iter().any(|k| k.contains(&self.company)) {
            return Err(StoreError::Unavailable(format!(
                "injected: writes of {} are throttled",
                self.company
            )));
        }
        Ok(())
    }
}

fn item_pk(item: &Item) -> String {
    item.get("pk")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[async_trait]
impl ItemStore for FaultyStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.check(&[item_pk(&item)])?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.check(std::slice::from_ref(&key.pk))?;
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let keys: Vec<String> = writes
            .iter()
            .map(|w| match w {
                Write::Put(item, _) => item_pk(item),
                Write::Delete(key, _) => key.pk.clone(),
            })
            .collect();
        self.check(&keys)?;
        self.inner.transact(writes).await
    }
}

/// Messages of a queue, visible and in flight.
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    out.attributes
        .unwrap_or_default()
        .values()
        .map(|v| v.parse::<u64>().unwrap())
        .sum()
}

fn transfer_queue(listing: &Value) -> Value {
    listing["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "transfer")
        .cloned()
        .unwrap()
}

fn dlq_alerts(alerts: &[Value]) -> Vec<Value> {
    alerts
        .iter()
        .filter(|a| a["code"] == "dlq_not_empty")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_dead_lettered_transfer_is_listed_alerted_replayed_once_and_resolved() {
    let metrics = tillbridge::metrics::capture();
    let fixture = TransferFixture::new("dlq").await;
    let env = &fixture.env;
    let company = fixture.company.clone();
    let location = fixture.locations.keys().next().unwrap().clone();
    let date = "2026-02-10";

    // The transfer worker, polled like Lambda's event source mapping, on this test's
    // transfer queue (redrive to its dead-letter queue after 3 receives, 5 s visibility),
    // writing through a store that refuses the company's writes while the fault is on.
    let fault = Arc::new(AtomicBool::new(true));
    let mut deps = env.deps("transfer-worker").await;
    deps.store = Arc::new(FaultyStore {
        inner: deps.store.clone(),
        company: company.clone(),
        on: fault.clone(),
    });
    let sqs = env.sqs().await;
    let worker = tillbridge_local::host::poller::spawn(
        tillbridge_local::host::poller::EventSourceMapping {
            binary: "transfer-worker".into(),
            queue: env.queue("TransferQueue"),
            batch_size: 5,
            report_batch_item_failures: true,
        },
        sqs.clone(),
        Arc::new(std::collections::HashMap::from([(
            "transfer-worker".to_string(),
            deps.clone(),
        )])),
    );

    let request = TransferRequest {
        request_uuid: uuid::Uuid::new_v4().to_string(),
        company_id: company.clone(),
        location_id: location.clone(),
        business_date: Some(date.into()),
        attempt: 1,
        force_refresh: true,
        requested_at: chrono::Utc::now().to_rfc3339(),
    };
    let request_body = serde_json::to_string(&request).unwrap();
    deps.queue
        .send(
            QueueName::Transfer,
            OutboundMessage {
                body: request_body.clone(),
                delay_seconds: 0,
                correlation_id: request.request_uuid.clone(),
                group: None,
            },
        )
        .await
        .unwrap();

    // Dead-lettered after three failed receives, listed with its reason and attempts.
    let operator = env.operator();
    let listed = eventually(
        "the transfer is dead-lettered",
        Duration::from_secs(90),
        || async {
            let (status, body) = operator.get("/v1/dead-letters").await.unwrap();
            assert_eq!(status, 200, "{body}");
            let queue = transfer_queue(&body);
            (queue["messages"].as_array().unwrap().len() == 1).then_some(queue)
        },
    )
    .await;
    let letter = listed["messages"][0].clone();
    println!("dead letter: {letter}");
    assert_eq!(listed["dead_letter_queue"], "transfer-dlq");
    assert_eq!(listed["depth"], 1);
    assert_eq!(listed["complete"], true);
    assert_eq!(letter["kind"], "transfer");
    assert_eq!(letter["company_id"], company.as_str());
    assert_eq!(letter["location_id"], location.as_str());
    assert_eq!(letter["business_date"], date);
    assert_eq!(letter["function"], "transfer-worker");
    assert_eq!(letter["correlation_id"], request.request_uuid.as_str());
    let reason = letter["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("store_unavailable:") && reason.contains("injected"),
        "{reason}"
    );
    assert_eq!(
        letter["attempts"], 3,
        "three receives, three recorded failures"
    );
    assert!(letter["receive_count"].as_u64().unwrap() >= 3);
    assert!(letter["sent_at"].as_str().is_some());
    let message_id = letter["message_id"].as_str().unwrap().to_string();

    // Listing consumes nothing: the same message again, and still held by the queue.
    let (_, again) = operator
        .get("/v1/dead-letters?queue=transfer")
        .await
        .unwrap();
    assert_eq!(again["queues"].as_array().unwrap().len(), 1);
    assert_eq!(
        transfer_queue(&again)["messages"][0]["message_id"],
        message_id.as_str()
    );
    let dlq_url = env.queue_url("TransferDLQ");
    assert_eq!(depth(&sqs, &dlq_url).await, 1);
    let (_, other) = operator
        .get("/v1/dead-letters?company_id=someone-else")
        .await
        .unwrap();
    assert!(transfer_queue(&other)["messages"]
        .as_array()
        .unwrap()
        .is_empty());

    // Operators only: a company token is refused with 403, no token with 401.
    let (status, body) = env.client(&company).get("/v1/dead-letters").await.unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (403, "operator_scope_required"),
        "{body}"
    );
    let (status, body) = env
        .client(&company)
        .post("/v1/dead-letters", &json!({"all": true}), None)
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (403, "operator_scope_required"),
        "{body}"
    );
    let (status, body) = env.anonymous().get("/v1/dead-letters").await.unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (401, "unauthenticated"),
        "{body}"
    );
    let (status, body) = operator
        .post("/v1/dead-letters", &json!({}), None)
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (400, "validation_failed"),
        "{body}"
    );
    // An operator token opens no company's resources.
    let (status, body) = operator
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (403, "unauthorized_company_access")
    );

    // The reconcile schedule's check raises dlq_not_empty for the company, counted.
    let reconcile = env.deps("reconcile").await;
    let summary = tillbridge::dead_letters::check(&reconcile, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        summary.depths.contains(&("transfer-dlq".into(), 1)),
        "{summary:?}"
    );
    assert!(summary
        .open
        .contains(&(company.clone(), "transfer-dlq".into())));
    tillbridge::dead_letters::check(&reconcile, chrono::Utc::now())
        .await
        .unwrap();
    let open = dlq_alerts(&fixture.alerts().await);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["subject"], "transfer-dlq");
    assert_eq!(open[0]["count"], 2);
    // A reconciliation run lists it among the company's standing exceptions.
    let (status, run) = env
        .client(&company)
        .post(
            &format!("/v1/companies/{company}/reconciliation"),
            &json!({"from": "2026-02-09", "location_id": location}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{run}");
    assert!(
        run["company_exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "dlq_not_empty" && e["subject"] == "transfer-dlq"),
        "{run}"
    );
    assert!(metrics
        .records()
        .iter()
        .any(|r| r["Queue"] == "transfer-dlq"
            && r["DeadLetterDepth"] == 1
            && r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "tillbridge"));
    assert!(
        metrics
            .records()
            .iter()
            .filter(|r| r["Function"] == "transfer-worker"
                && r["Retries"] == 1
                && r["message_id"] == message_id.as_str())
            .count()
            >= 3,
        "each failed receive is a retry"
    );
    // Nothing reached the ledger while the fault was on.
    assert!(fixture.ledger_entries(&location, date).await.is_empty());

    // The fault cleared, the replay posts the day exactly as the ground truth says.
    fault.store(false, Ordering::SeqCst);
    let (status, replayed) = operator
        .post("/v1/dead-letters", &json!({"message_id": message_id}), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["replayed"], 1);
    assert_eq!(replayed["messages"][0]["removed"], true);
    assert_eq!(replayed["messages"][0]["company_id"], company.as_str());
    let expected = fixture.expected_from(&fixture.ground_truth(&location, date).await);
    assert!(!expected.is_empty());
    eventually(
        "the replayed day is in the ledger",
        Duration::from_secs(60),
        || async { (fixture.ledger_totals(&location, date).await == expected).then_some(()) },
    )
    .await;
    let entries = fixture.ledger_entries(&location, date).await;

    // Replaying again finds nothing; the same work sent again (a replay whose delete had
    // failed) is recognised by the transfer and adds nothing.
    let (status, body) = operator
        .post("/v1/dead-letters", &json!({"message_id": message_id}), None)
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (404, "dead_letter_not_found"),
        "{body}"
    );
    let (status, body) = operator
        .post("/v1/dead-letters", &json!({"all": true}), None)
        .await
        .unwrap();
    assert_eq!(
        (status, body["replayed"].clone()),
        (200, json!(0)),
        "{body}"
    );
    deps.queue
        .send(
            QueueName::Transfer,
            OutboundMessage {
                body: request_body,
                delay_seconds: 0,
                correlation_id: request.request_uuid.clone(),
                group: None,
            },
        )
        .await
        .unwrap();
    let transfer_url = env.queue_url("TransferQueue");
    eventually(
        "the duplicate is consumed",
        Duration::from_secs(30),
        || async { (depth(&sqs, &transfer_url).await == 0).then_some(()) },
    )
    .await;
    let after = fixture.ledger_entries(&location, date).await;
    assert_eq!(after, entries, "no entry added by the repeated work");
    assert_eq!(fixture.ledger_totals(&location, date).await, expected);
    assert_eq!(depth(&sqs, &dlq_url).await, 0);

    // The queue is empty: the next check resolves the alert.
    let summary = tillbridge::dead_letters::check(&reconcile, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.resolved, 1, "{summary:?}");
    assert!(dlq_alerts(&fixture.alerts().await).is_empty());
    let (_, resolved) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/alerts?status=resolved"))
        .await
        .unwrap();
    assert!(resolved["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["code"] == "dlq_not_empty" && a["subject"] == "transfer-dlq"));
    worker.abort();
}

#[tokio::test]
async fn a_fifo_dead_letter_is_replayed_into_its_group_with_a_fresh_deduplication_id() {
    let fixture = TransferFixture::new("dlq-fifo").await;
    let env = &fixture.env;
    let sqs = env.sqs().await;
    let source = env.queue_url("MigrationQueue");
    let dlq = env.queue_url("MigrationDLQ");
    let body = json!({
        "job_id": "job-1",
        "company_id": fixture.company,
        "location_id": "loc-1",
        "date": "2026-02-03",
    })
    .to_string();
    // The original is still on the source queue (inside the five-minute window) with its
    // deduplication id; its dead-lettered twin carries the same id.
    for url in [&source, &dlq] {
        sqs.send_message()
            .queue_url(url)
            .message_body(&body)
            .message_group_id("lane-0")
            .message_deduplication_id("day-2026-02-03")
            .send()
            .await
            .unwrap();
    }
    let (status, listing) = env
        .operator()
        .get("/v1/dead-letters?queue=migration")
        .await
        .unwrap();
    assert_eq!(status, 200, "{listing}");
    let letter = listing["queues"][0]["messages"][0].clone();
    assert_eq!(letter["kind"], "migration_day");
    assert_eq!(letter["business_date"], "2026-02-03");
    assert!(letter["reason"].is_null(), "no failure was recorded for it");
    let (status, replayed) = env
        .operator()
        .post(
            "/v1/dead-letters",
            &json!({"queue": "migration", "company_id": fixture.company}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, replayed["replayed"].clone()),
        (200, json!(1)),
        "{replayed}"
    );
    assert_eq!(depth(&sqs, &dlq).await, 0);
    assert_eq!(
        depth(&sqs, &source).await,
        2,
        "the copy was not dropped as a duplicate"
    );
    let mut copies = Vec::new();
    for _ in 0..5 {
        let out = sqs
            .receive_message()
            .queue_url(&source)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let attrs = m.attributes.clone().unwrap_or_default();
            use aws_sdk_sqs::types::MessageSystemAttributeName as N;
            copies.push((
                attrs.get(&N::MessageGroupId).cloned(),
                attrs.get(&N::MessageDeduplicationId).cloned(),
                m.body.clone(),
            ));
        }
        if copies.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let replay_dedupe = format!("{}-replay", letter["message_id"].as_str().unwrap());
    assert!(
        copies.contains(&(
            Some("lane-0".into()),
            Some(replay_dedupe),
            Some(body.clone())
        )),
        "{copies:?}"
    );
}
