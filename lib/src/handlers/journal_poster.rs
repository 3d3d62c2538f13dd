//! journal-poster: consumes the journal queue, one location and business date per message.
//! An ERP that does not answer sends the day back to the queue with the transfer's retry
//! delays; after the last one the day is recorded as `max_retries_exhausted`.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::LambdaEvent;

use super::{consume, now, BatchResult};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::journal::post::{post_day, Outcome, PostContext};
use crate::journal::request::JournalRequest;
use crate::queue::QueueName;
use crate::worker::RecordOutcome;

/// The function's name, and how many records it works on at once (days posted at once; an
/// ERP is slower than the table).
const FUNCTION: (&str, usize) = ("journal-poster", 4);

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> BatchResult {
    consume(deps, FUNCTION, event, |consumer, record| async move {
        consumer
            .handle(&record, |request: JournalRequest| async move {
                post_one(deps, &request).await.map(|()| RecordOutcome::Done)
            })
            .await
    })
    .await
}

async fn post_one(deps: &Deps, request: &JournalRequest) -> Result<(), AppError> {
    let ctx = PostContext {
        store: deps.store.as_ref(),
        connector: deps.erp.as_ref(),
        vault: deps.secrets.as_ref(),
        secret_prefix: &deps.config.secret_prefix,
    };
    let settings = &deps.config.transfer;
    let last_attempt = request.attempt > settings.max_retries();
    match post_day(&ctx, request, last_attempt, &now()).await {
        Ok(Outcome::NoSales) => {
            tracing::info!(day = %request.business_date, "no sales transferred; no journal");
            Ok(())
        }
        Ok(Outcome::Unchanged(record)) => {
            tracing::info!(journal = %record.reference, "journal already in the ERP as the sales say");
            Ok(())
        }
        Ok(Outcome::Recorded(record)) => {
            let status = serde_json::to_value(&record.status).unwrap_or_default();
            crate::metrics::journal_posting(
                status.as_str().unwrap_or("unknown"),
                &request.company_id,
                &request.location_id,
                &request.business_date,
            );
            Ok(())
        }
        Err(err) if err.code == ErrorCode::ErpUnavailable => retry_later(deps, request, err).await,
        Err(err) => Err(err),
    }
}

/// Sends the day back with the next attempt number, after the configured delay.
async fn retry_later(deps: &Deps, request: &JournalRequest, err: AppError) -> Result<(), AppError> {
    let delay = deps
        .config
        .transfer
        .delay_after(request.attempt, None)
        .unwrap_or_default();
    crate::metrics::retry(FUNCTION.0, err.code.as_str(), &request.request_uuid);
    tracing::warn!(attempt = request.attempt, delay_s = delay.as_secs(), error = %err, "ERP unavailable; retrying the journal later");
    let next = JournalRequest {
        attempt: request.attempt.saturating_add(1),
        ..request.clone()
    };
    let delay = u32::try_from(delay.as_secs()).unwrap_or(900);
    deps.queue
        .send(QueueName::Journal, next.message(delay)?)
        .await?;
    Ok(())
}
