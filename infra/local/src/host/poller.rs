//! Plays Lambda's SQS event source mapping: long-polls a queue, delivers up to
//! `BatchSize` messages as one SQS event, deletes what succeeded and leaves the rest to
//! reappear after the visibility timeout. Redrive to the DLQ is the queue's own
//! (`maxReceiveCount`), as in AWS.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{json, Value};
use tillbridge::aws_lambda_events::event::sqs::SqsEvent;
use tokio::task::JoinHandle;
use tracing::{error, warn};

use super::{functions, FunctionDeps};
use crate::provision::{QueueInfo, LOCAL_REGION};

/// Lambda starts several pollers per mapping; two keep local runs concurrent but light.
pub const POLLERS_PER_MAPPING: usize = 2;

#[derive(Debug, Clone)]
pub struct EventSourceMapping {
    pub binary: String,
    pub queue: QueueInfo,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
}

pub fn spawn(
    mapping: EventSourceMapping,
    sqs: aws_sdk_sqs::Client,
    deps: FunctionDeps,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(err) = poll_once(&mapping, &sqs, &deps).await {
                warn!(queue = mapping.queue.name, error = %err, "poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

/// The SQS event record Lambda builds for one message.
pub fn record(message: &Message, queue: &QueueInfo) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: serde_json::Map<String, Value> = message
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        json!({
                            "stringValue": v.string_value(),
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": v.data_type(),
                        }),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": LOCAL_REGION,
    })
}

async fn poll_once(
    mapping: &EventSourceMapping,
    sqs: &aws_sdk_sqs::Client,
    deps: &FunctionDeps,
) -> Result<(), crate::Error> {
    let received = sqs
        .receive_message()
        .queue_url(&mapping.queue.url)
        .max_number_of_messages(i32::try_from(mapping.batch_size.clamp(1, 10)).unwrap_or(10))
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(());
    }
    let records: Vec<Value> = messages.iter().map(|m| record(m, &mapping.queue)).collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records }))?;
    if !deps.contains_key(&mapping.binary) {
        return Err("function not configured".into());
    }
    // Each invocation in its own task, as each Lambda invocation is its own process: a
    // panic fails that batch (retried by the queue) and never stops the poller.
    let invocation = {
        let (deps, binary) = (deps.clone(), mapping.binary.clone());
        tokio::spawn(async move {
            match deps.get(&binary) {
                Some(function) => functions::queue(&binary, function, event)
                    .await
                    .map_err(functions::describe),
                None => Err("function not configured".to_string()),
            }
        })
    };
    let outcome = invocation
        .await
        .unwrap_or_else(|crash| Err(format!("the function crashed: {crash}")));
    let succeeded: Vec<&Message> = match outcome {
        Err(err) => {
            error!(function = mapping.binary, error = %err, "invocation failed; whole batch retried");
            Vec::new()
        }
        Ok(_) if !mapping.report_batch_item_failures => messages.iter().collect(),
        Ok(response) => {
            let ids: HashSet<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
            let failed: HashSet<&str> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            if failed.iter().any(|id| !ids.contains(id)) {
                // Lambda treats an unknown identifier as a failure of the whole batch.
                error!(
                    function = mapping.binary,
                    "batch response names an unknown message; whole batch retried"
                );
                Vec::new()
            } else {
                messages
                    .iter()
                    .filter(|m| m.message_id().is_some_and(|id| !failed.contains(id)))
                    .collect()
            }
        }
    };
    if succeeded.is_empty() {
        return Ok(());
    }
    let entries = succeeded
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect::<Vec<_>>();
    sqs.delete_message_batch()
        .queue_url(&mapping.queue.url)
        .set_entries(Some(entries))
        .send()
        .await?;
    Ok(())
}
