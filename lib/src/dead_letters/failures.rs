//! Why a message failed. SQS keeps no reason with a message it dead-letters, so each
//! failed attempt of a queue record (one that goes back to its queue) is recorded here,
//! keyed by the message id, which SQS keeps when it moves the message to the dead-letter
//! queue: the first reason, the last one and how many attempts failed. Items expire with
//! the dead-letter queues' retention (14 days).

use aws_lambda_events::event::sqs::SqsMessage;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::store::occ::{self, Plan};
use crate::store::{from_item, to_item, Condition, ItemStore, Key, Write};

/// The dead-letter queues' retention, which the records outlive by nothing.
const RETENTION_SECONDS: i64 = 14 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub message_id: String,
    /// The function whose attempts failed.
    pub function: String,
    /// The source queue's ARN, as the event named it.
    #[serde(default)]
    pub queue_arn: Option<String>,
    pub first_code: String,
    pub first_reason: String,
    pub first_failed_at: String,
    pub last_code: String,
    pub last_reason: String,
    pub last_failed_at: String,
    /// Attempts that failed and went back to the queue.
    pub failures: u32,
    pub version: u64,
    /// TTL (epoch seconds).
    pub expires_at: i64,
}

pub fn key(message_id: &str) -> Key {
    Key::new(format!("DLQ#MSG#{message_id}"), "FAILURE")
}

fn expiry(now: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(now)
        .map(|t| t.timestamp())
        .unwrap_or_else(|_| chrono::Utc::now().timestamp())
        + RETENTION_SECONDS
}

/// Records a failed attempt of `record` (first reason kept, last replaced, count bumped).
pub async fn record(
    store: &dyn ItemStore,
    function: &str,
    record: &SqsMessage,
    err: &AppError,
    now: &str,
) -> Result<(), AppError> {
    let Some(message_id) = record.message_id.as_deref().filter(|id| !id.is_empty()) else {
        return Ok(());
    };
    let key = key(message_id);
    let key = &key;
    let code = err.code.as_str();
    let reason = format!("{}: {}", err.code, err.message);
    let reason = &reason;
    occ::retry(store, "the failure record", move || async move {
        let (next, condition) = match store.get(key).await? {
            Some(item) => {
                let mut failure: FailureRecord = from_item(item)?;
                let previous = failure.version;
                failure.last_code = code.to_string();
                failure.last_reason = reason.clone();
                failure.last_failed_at = now.to_string();
                failure.failures = failure.failures.saturating_add(1);
                failure.version += 1;
                failure.expires_at = expiry(now);
                (failure, Condition::VersionIs(previous))
            }
            None => (
                FailureRecord {
                    message_id: message_id.to_string(),
                    function: function.to_string(),
                    queue_arn: record.event_source_arn.clone(),
                    first_code: code.to_string(),
                    first_reason: reason.clone(),
                    first_failed_at: now.to_string(),
                    last_code: code.to_string(),
                    last_reason: reason.clone(),
                    last_failed_at: now.to_string(),
                    failures: 1,
                    version: 1,
                    expires_at: expiry(now),
                },
                Condition::NotExists,
            ),
        };
        Ok(Plan::one(Write::Put(to_item(&next, key)?, condition), ()))
    })
    .await
}

/// The record of a message, if its failures were recorded.
pub async fn read(
    store: &dyn ItemStore,
    message_id: &str,
) -> Result<Option<FailureRecord>, AppError> {
    match store.get(&key(message_id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}
