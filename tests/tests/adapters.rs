//! The AWS adapters behind the library's narrow traits, against DynamoDB Local and moto.

use serde_json::{json, Value};
use tillbridge::queue::{OutboundMessage, QueueName, CORRELATION_ATTRIBUTE};
use tillbridge::secrets::SecretError;
use tillbridge::store::{attr, Condition, Index, Item, Key, Query, StoreError, Write};
use tillbridge::Deps;
use tillbridge_local::ensure_up;

async fn deps() -> Deps {
    let stack = ensure_up().await.unwrap();
    let config = stack
        .resources
        .function_config(&stack.template, "admin-api")
        .unwrap();
    Deps::from_config(config).await
}

fn item(pk: &str, sk: &str, extra: Value) -> Item {
    let mut map = extra.as_object().cloned().unwrap_or_default();
    map.insert(attr::PK.into(), json!(pk));
    map.insert(attr::SK.into(), json!(sk));
    map
}

fn unique(prefix: &str) -> String {
    format!("{prefix}#{}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn conditional_writes_make_repeats_idempotent() {
    let store = deps().await.store;
    let pk = unique("TEST");
    let first = item(&pk, "A", json!({"amount": "10.10", "version": 1}));
    store
        .put(first.clone(), Condition::NotExists)
        .await
        .unwrap();
    assert!(matches!(
        store.put(first.clone(), Condition::NotExists).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(
        store.get(&Key::new(&pk, "A")).await.unwrap(),
        Some(first.clone())
    );

    let second = item(&pk, "A", json!({"amount": "20.20", "version": 2}));
    assert!(matches!(
        store.put(second.clone(), Condition::VersionIs(7)).await,
        Err(StoreError::ConditionFailed)
    ));
    store
        .put(second.clone(), Condition::VersionIs(1))
        .await
        .unwrap();
    assert_eq!(
        store.get(&Key::new(&pk, "A")).await.unwrap().unwrap()["amount"],
        "20.20"
    );

    assert!(matches!(
        store
            .delete(&Key::new(&pk, "missing"), Condition::Exists)
            .await,
        Err(StoreError::ConditionFailed)
    ));
    store
        .delete(&Key::new(&pk, "A"), Condition::Exists)
        .await
        .unwrap();
    assert_eq!(store.get(&Key::new(&pk, "A")).await.unwrap(), None);
}

#[tokio::test]
async fn a_transaction_with_one_failed_condition_writes_nothing() {
    let store = deps().await.store;
    let pk = unique("TX");
    store
        .put(item(&pk, "existing", json!({})), Condition::None)
        .await
        .unwrap();
    let result = store
        .transact(vec![
            Write::Put(item(&pk, "new", json!({})), Condition::NotExists),
            Write::Put(
                item(&pk, "existing", json!({"changed": true})),
                Condition::NotExists,
            ),
        ])
        .await;
    assert!(
        matches!(result, Err(StoreError::ConditionFailed)),
        "{result:?}"
    );
    assert_eq!(store.get(&Key::new(&pk, "new")).await.unwrap(), None);
    assert_eq!(
        store
            .get(&Key::new(&pk, "existing"))
            .await
            .unwrap()
            .unwrap()
            .get("changed"),
        None
    );
}

#[tokio::test]
async fn queries_page_by_prefix_and_through_indexes() {
    let store = deps().await.store;
    let pk = unique("Q");
    let gsi = unique("G");
    for i in 0..5 {
        let mut entry = item(&pk, &format!("X#{i}"), json!({"n": i}));
        entry.insert(attr::GSI1PK.into(), json!(gsi));
        entry.insert(attr::GSI1SK.into(), json!(format!("{}", 9 - i)));
        store.put(entry, Condition::None).await.unwrap();
    }
    store
        .put(item(&pk, "Y#1", json!({})), Condition::None)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .query(
                &Query::partition(&pk)
                    .begins_with("X#")
                    .limit(2)
                    .start_after(start),
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i["n"].as_i64().unwrap()));
        match page.last_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    assert_eq!(seen, [0, 1, 2, 3, 4]);

    let by_index = store
        .query(&Query::partition(&gsi).on(Index::Gsi1).limit(10))
        .await
        .unwrap();
    let order: Vec<i64> = by_index
        .items
        .iter()
        .map(|i| i["n"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [4, 3, 2, 1, 0], "sorted by gsi1sk");
}

#[tokio::test]
async fn secrets_are_created_versioned_and_reported_missing() {
    let secrets = deps().await.secrets;
    let id = format!("tillbridge-local/test/{}", uuid::Uuid::new_v4());
    assert!(matches!(
        secrets.get(&id).await,
        Err(SecretError::NotFound(_))
    ));
    secrets
        .put(&id, "{\"access_token\":\"one\"}")
        .await
        .unwrap();
    assert_eq!(
        secrets.get(&id).await.unwrap(),
        "{\"access_token\":\"one\"}"
    );
    secrets
        .put(&id, "{\"access_token\":\"two\"}")
        .await
        .unwrap();
    assert_eq!(
        secrets.get(&id).await.unwrap(),
        "{\"access_token\":\"two\"}"
    );
}

#[tokio::test]
async fn sent_messages_carry_body_delay_and_correlation_id() {
    let stack = ensure_up().await.unwrap();
    let sqs = tillbridge_local::provision::Clients::new(&stack.resources.endpoints)
        .await
        .sqs;
    // A queue of this test only (the template's journal queue has consumers), standing in
    // for the journal queue of the SQS adapter.
    let url = sqs
        .create_queue()
        .queue_name(format!("adapter-journal-{}", uuid::Uuid::new_v4().simple()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mut deps = deps().await;
    deps.queue = std::sync::Arc::new(tillbridge::queue::sqs::SqsQueue::new(
        sqs.clone(),
        tillbridge::config::QueueUrls {
            journal: url.clone(),
            ..deps.config.queues.clone()
        },
    ));
    let marker = uuid::Uuid::new_v4().to_string();
    deps.queue
        .send(
            QueueName::Journal,
            OutboundMessage {
                body: json!({"marker": marker}).to_string(),
                delay_seconds: 1,
                correlation_id: marker.clone(),
                group: None,
            },
        )
        .await
        .unwrap();
    let found = tillbridge_tests::eventually(
        "the sent message",
        std::time::Duration::from_secs(20),
        || async {
            let received = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .message_attribute_names("All")
                .send()
                .await
                .ok()?;
            received
                .messages?
                .into_iter()
                .find(|m| m.body().is_some_and(|b| b.contains(&marker)))
        },
    )
    .await;
    let attribute = found
        .message_attributes()
        .and_then(|a| a.get(CORRELATION_ATTRIBUTE))
        .and_then(|v| v.string_value());
    assert_eq!(attribute, Some(marker.as_str()));
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(found.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
}
