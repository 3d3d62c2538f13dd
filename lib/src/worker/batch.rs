//! Processes an SQS batch record by record. Only a record whose work failed in a way that
//! can pass (store, queue or vault unavailable, write contention, another worker holding
//! the day) is reported in `batchItemFailures`, so SQS retries just that record; the rest
//! are acknowledged. A record that can never succeed (unusable body, ids that break the
//! rules, a refusal that a retry would repeat) is logged, recorded by its handler where it
//! names a subject, and dropped at once instead of being redelivered until the redrive
//! limit moves it to the dead-letter queue.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::stream::{self, StreamExt};
use tracing::Instrument;

use crate::error::AppError;
use crate::queue::CORRELATION_ATTRIBUTE;
use crate::telemetry::{correlation_span, sanitize_correlation_id};

/// What happened to one record.
#[derive(Debug)]
pub enum RecordOutcome {
    Done,
    /// Transient: leave the record on the queue; SQS redelivers it after the visibility
    /// timeout (and dead-letters it after the redrive limit).
    Retry(AppError),
    /// Permanent: repeating it cannot succeed. Acknowledged so it is not redelivered; the
    /// handler has already recorded it where there is a subject.
    Rejected(AppError),
}

impl RecordOutcome {
    /// A failure by its code: retryable codes go back to the queue, the rest are rejected.
    pub fn failed(err: AppError) -> Self {
        if err.code.is_retryable() {
            RecordOutcome::Retry(err)
        } else {
            RecordOutcome::Rejected(err)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("an SQS record has no messageId, so a partial batch response cannot name it")]
pub struct MissingMessageId;

/// Runs `work` on each record with bounded concurrency and builds the partial batch response.
pub async fn process_batch<F, Fut>(
    function: &'static str,
    event: SqsEvent,
    concurrency: usize,
    work: F,
) -> Result<SqsBatchResponse, MissingMessageId>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = RecordOutcome>,
{
    // Without an id a failure could not be reported: fail the whole invocation instead.
    if event
        .records
        .iter()
        .any(|r| r.message_id.as_deref().is_none_or(str::is_empty))
    {
        return Err(MissingMessageId);
    }
    let failures: Vec<String> = stream::iter(event.records)
        .map(|record| {
            let message_id = record.message_id.clone().unwrap_or_default();
            let correlation = sanitize_correlation_id(
                record
                    .message_attributes
                    .get(CORRELATION_ATTRIBUTE)
                    .and_then(|a| a.string_value.as_deref()),
            )
            .unwrap_or_else(|| message_id.clone());
            let span = correlation_span(function, &correlation);
            let work = &work;
            async move {
                let outcome = work(record).await;
                match outcome {
                    RecordOutcome::Done => {
                        tracing::info!(message_id, "record done");
                        None
                    }
                    RecordOutcome::Retry(err) => {
                        tracing::warn!(message_id, code = %err.code, error = %err.message, "record failed; left for retry");
                        Some(message_id)
                    }
                    RecordOutcome::Rejected(err) => {
                        tracing::error!(message_id, code = %err.code, error = %err.message, "record can never succeed; dropped");
                        None
                    }
                }
            }
            .instrument(span)
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(|failed| async move { failed })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    Ok(response)
}

/// The record's body parsed as `T`, or an `invalid_message` failure naming the problem
/// (permanent: the same body never parses).
pub fn parse_body<T: serde::de::DeserializeOwned>(record: &SqsMessage) -> Result<T, AppError> {
    let body = record.body.as_deref().ok_or_else(|| {
        AppError::new(crate::ErrorCode::InvalidMessage, "the message has no body")
    })?;
    serde_json::from_str(body).map_err(|err| {
        AppError::new(
            crate::ErrorCode::InvalidMessage,
            format!("the message body is not a valid request: {err}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ids: &[&str]) -> SqsEvent {
        let records: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| serde_json::json!({"messageId": id, "body": id}))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn reports_exactly_the_failed_records() {
        let response = process_batch(
            "test",
            event(&["a", "bad1", "c", "bad2", "poison"]),
            2,
            |record| async move {
                if record.body.as_deref().is_some_and(|b| b.starts_with("bad")) {
                    RecordOutcome::Retry(AppError::new(crate::ErrorCode::StoreUnavailable, "bad"))
                } else if record.body.as_deref() == Some("poison") {
                    RecordOutcome::failed(AppError::new(crate::ErrorCode::InvalidMessage, "x"))
                } else {
                    RecordOutcome::Done
                }
            },
        )
        .await
        .unwrap();
        let mut failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        failed.sort();
        assert_eq!(failed, vec!["bad1", "bad2"]);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["batchItemFailures"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn only_retryable_failures_go_back_to_the_queue() {
        use crate::ErrorCode::*;
        for code in [
            StoreUnavailable,
            WriteContention,
            TransferInProgress,
            QueueUnavailable,
        ] {
            assert!(matches!(
                RecordOutcome::failed(AppError::new(code, "x")),
                RecordOutcome::Retry(_)
            ));
        }
        for code in [InvalidMessage, LocationNotFound, ValidationFailed] {
            assert!(matches!(
                RecordOutcome::failed(AppError::new(code, "x")),
                RecordOutcome::Rejected(_)
            ));
        }
    }

    #[tokio::test]
    async fn a_record_without_id_fails_the_invocation() {
        let event: SqsEvent =
            serde_json::from_value(serde_json::json!({"Records": [{"body": "x"}]})).unwrap();
        assert!(
            process_batch("test", event, 1, |_| async { RecordOutcome::Done })
                .await
                .is_err()
        );
    }

    #[test]
    fn parse_body_names_the_problem() {
        let record: SqsMessage =
            serde_json::from_value(serde_json::json!({"messageId": "m", "body": "{"})).unwrap();
        let err = parse_body::<serde_json::Value>(&record).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidMessage);
    }
}
