//! migration-worker: one business day of a 90-day migration per message.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;

use super::now;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::migration::day::{process, DayOutcome};
use crate::migration::DayMessage;
use crate::queue::QueueName;
use crate::transfer::run::TransferContext;
use crate::worker::batch::parse_body;
use crate::worker::{process_batch, reject, settle, RecordOutcome};

const FUNCTION: &str = "migration-worker";

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let response = process_batch(FUNCTION, event.payload, 1, |record| async move {
        let message: DayMessage = match parse_body(&record) {
            Ok(message) => message,
            Err(err) => return reject(deps.store.as_ref(), FUNCTION, &record, err, &now()).await,
        };
        let ctx = TransferContext {
            store: deps.store.as_ref(),
            queue: deps.queue.as_ref(),
            sales: deps.sales.as_ref(),
            settings: &deps.config.transfer,
            // The day message itself is retried (SQS redelivery, then maintenance).
            retry_through_queue: false,
        };
        match process(&ctx, &message, &now()).await {
            Ok(DayOutcome::Done(status)) => {
                tracing::info!(
                    job_id = message.job_id,
                    date = message.date,
                    ?status,
                    "migration day done"
                );
                RecordOutcome::Done
            }
            Ok(DayOutcome::Ignored(why)) => {
                tracing::info!(
                    job_id = message.job_id,
                    date = message.date,
                    why,
                    "migration day skipped"
                );
                RecordOutcome::Done
            }
            Ok(DayOutcome::RetryLater { why, after }) => {
                hand_back(deps, &record, after).await;
                RecordOutcome::Retry(AppError::new(
                    ErrorCode::LightspeedApiError,
                    format!("{}: retried in {} s: {why}", message.date, after.as_secs()),
                ))
            }
            Err(err) => {
                if err.code == ErrorCode::TransferInProgress {
                    // Another run holds the location-day; try again once it may be done.
                    hand_back(deps, &record, deps.config.transfer.lease_wait).await;
                }
                // A day left `processing` by a dropped message is reset by maintenance.
                settle(deps.store.as_ref(), FUNCTION, &record, err, &now()).await
            }
        }
    })
    .await?;
    Ok(response)
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
