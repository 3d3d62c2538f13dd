//! migration-worker: one business day of a 90-day migration per message.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;

use super::{consume, now, BatchResult};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::migration::day::{process, DayOutcome};
use crate::migration::DayMessage;
use crate::queue::QueueName;
use crate::worker::RecordOutcome;

/// The function's name, and how many records it works on at once.
const FUNCTION: (&str, usize) = ("migration-worker", 1);

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> BatchResult {
    consume(deps, FUNCTION, event, |consumer, record| async move {
        consumer
            .handle(&record, |message: DayMessage| day(deps, &record, message))
            .await
    })
    .await
}

async fn day(
    deps: &Deps,
    record: &SqsMessage,
    message: DayMessage,
) -> Result<RecordOutcome, AppError> {
    // The day message itself is retried (SQS redelivery, then maintenance).
    let ctx = deps.transfers(false);
    match process(&ctx, &message, &now()).await {
        Ok(DayOutcome::Done(status)) => {
            tracing::info!(
                job_id = message.job_id,
                date = message.date,
                ?status,
                "migration day done"
            );
            Ok(RecordOutcome::Done)
        }
        Ok(DayOutcome::Ignored(why)) => {
            tracing::info!(
                job_id = message.job_id,
                date = message.date,
                why,
                "migration day skipped"
            );
            Ok(RecordOutcome::Done)
        }
        Ok(DayOutcome::RetryLater { why, after }) => {
            hand_back(deps, record, after).await;
            Ok(RecordOutcome::Retry(AppError::new(
                ErrorCode::LightspeedApiError,
                format!("{}: retried in {} s: {why}", message.date, after.as_secs()),
            )))
        }
        Err(err) => {
            if err.code == ErrorCode::TransferInProgress {
                // Another run holds the location-day; try again once it may be done.
                hand_back(deps, record, deps.config.transfer.lease_wait).await;
            }
            // A day left `processing` by a dropped message is reset by maintenance.
            Err(err)
        }
    }
}

/// The day's lane waits for this message (FIFO), so it comes back after the retry delay
/// rather than the queue's visibility timeout. If that fails, the timeout still applies.
async fn hand_back(deps: &Deps, record: &SqsMessage, after: std::time::Duration) {
    let Some(receipt) = record.receipt_handle.as_deref() else {
        return;
    };
    if let Err(err) = deps
        .queue
        .hand_back(QueueName::Migration, receipt, after)
        .await
    {
        tracing::warn!(error = %err, "message not handed back early; the visibility timeout applies");
    }
}
