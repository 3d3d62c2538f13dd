//! The transfer use case for one queue message: run the engine, log the attempt, and on a
//! transient Lightspeed failure send the request back with the next attempt number and
//! delay, until the retries are used up (`max_retries_exhausted`, with an alert).

use super::engine::{Engine, Failure, Job, Posted};
use super::location_stats;
use super::log::{LogError, RetryScheduled, TransferLog, TransferStatus};
use super::request::TransferRequest;
use super::settings::TransferSettings;
use super::source::SalesSource;
use crate::alerts;
use crate::error::{AppError, ErrorCode};
use crate::lightspeed::LightspeedError;
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::store::{Condition, ItemStore, StoreError};

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The attempt's log was written.
    Logged(Box<TransferLog>),
    /// A redelivered message: this attempt was already logged, nothing new written.
    AlreadyLogged(String),
}

pub struct TransferContext<'a> {
    pub store: &'a dyn ItemStore,
    pub queue: &'a dyn MessageQueue,
    pub sales: &'a dyn SalesSource,
    pub settings: &'a TransferSettings,
    /// Transient Lightspeed failures go back to the transfer queue as the next attempt. The
    /// migration worker turns this off: its day message is the retry.
    pub retry_through_queue: bool,
}

/// The alert subject of a location-day.
fn subject(request: &TransferRequest) -> String {
    format!(
        "{}:{}",
        request.location_id,
        request.business_date.as_deref().unwrap_or_default()
    )
}

fn lightspeed_error(err: &LightspeedError) -> AppError {
    match err {
        LightspeedError::Disconnected(_)
        | LightspeedError::NotConnected(_)
        | LightspeedError::Forbidden(_) => {
            AppError::new(ErrorCode::LightspeedAuthFailed, err.to_string())
        }
        _ => AppError::new(ErrorCode::LightspeedApiError, err.to_string()),
    }
}

/// Runs one request. `Err` means the message goes back to the queue unchanged (unusable
/// ids, or our own infrastructure failed); everything else is logged.
pub async fn run(
    ctx: &TransferContext<'_>,
    request: &TransferRequest,
    now: &str,
) -> Result<Outcome, AppError> {
    request.check_ids()?;
    let started = std::time::Instant::now();
    let log_id = TransferLog::id_for(request);
    if let Some(item) = ctx.store.get(&TransferLog::key_for(request)).await? {
        // A redelivery after the log was written: the journal message may not have been
        // sent (the queue failed after the log), so it is sent again; posting is idempotent.
        let logged: TransferLog = crate::store::from_item(item)?;
        queue_journal(ctx, &logged, now).await?;
        return Ok(Outcome::AlreadyLogged(log_id));
    }
    let result = match request.business_date() {
        Err(err) => Err(Failure::Final(err)),
        Ok(date) => {
            let engine = Engine {
                store: ctx.store,
                sales: ctx.sales,
                settings: ctx.settings,
            };
            engine
                .transfer(&Job {
                    company_id: &request.company_id,
                    location_id: &request.location_id,
                    date,
                    force_refresh: request.force_refresh,
                    log_id: &log_id,
                    request_uuid: &request.request_uuid,
                    now,
                })
                .await
        }
    };
    let mut log = new_log(request, &log_id, now);
    let exhausted = match result {
        Ok(posted) => {
            record_success(&mut log, posted);
            false
        }
        Err(Failure::Infrastructure(err)) => return Err(err),
        Err(Failure::Final(err)) => {
            log.error = Some(LogError {
                code: err.code.as_str().into(),
                message: err.message,
                retry_after_seconds: None,
            });
            false
        }
        Err(Failure::Lightspeed(err)) => {
            record_lightspeed_failure(ctx, request, &mut log, &err).await?
        }
    };
    match ctx.store.put(log.to_item()?, Condition::NotExists).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(Outcome::AlreadyLogged(log_id)),
        Err(err) => return Err(err.into()),
    }
    crate::metrics::transfer(&log, started.elapsed());
    location_stats::record(ctx.store, &log).await?;
    queue_journal(ctx, &log, now).await?;
    settle_retry_alert(ctx.store, request, &log, exhausted, now).await?;
    raise_value_alerts(ctx.store, request, &log, now).await?;
    Ok(Outcome::Logged(Box::new(log)))
}

/// A completed transfer with sales queues the day's journal (when the company posts to an ERP).
async fn queue_journal(
    ctx: &TransferContext<'_>,
    log: &TransferLog,
    now: &str,
) -> Result<(), AppError> {
    if log.status != TransferStatus::Success {
        return Ok(());
    }
    crate::journal::request::after_transfer(
        ctx.store,
        ctx.queue,
        &log.company_id,
        &log.location_id,
        &log.date,
        &log.request_uuid,
        now,
    )
    .await?;
    Ok(())
}

/// The log of this attempt, failed until a result says otherwise.
fn new_log(request: &TransferRequest, log_id: &str, now: &str) -> TransferLog {
    TransferLog {
        log_id: log_id.to_string(),
        request_uuid: request.request_uuid.clone(),
        attempt: request.attempt,
        company_id: request.company_id.clone(),
        location_id: request.location_id.clone(),
        date: request.business_date.clone().unwrap_or_default(),
        status: TransferStatus::Failed,
        success: false,
        no_data: false,
        ledger_ids: Vec::new(),
        force_refresh: request.force_refresh,
        stats: None,
        error: None,
        retry: None,
        requested_at: request.requested_at.clone(),
        finished_at: now.to_string(),
    }
}

fn record_success(log: &mut TransferLog, posted: Posted) {
    let Posted {
        no_data,
        ledger_ids,
        stats,
    } = posted;
    log.status = if no_data && ledger_ids.is_empty() {
        TransferStatus::NoData
    } else {
        TransferStatus::Success
    };
    log.success = true;
    log.no_data = no_data;
    log.ledger_ids = ledger_ids;
    log.stats = Some(stats);
}

/// A Lightspeed failure: the next attempt queued with its delay, or the end of the
/// retries (`true`: `max_retries_exhausted`), or the error as it is when retries are not
/// queued (manual transfers answer at once).
async fn record_lightspeed_failure(
    ctx: &TransferContext<'_>,
    request: &TransferRequest,
    log: &mut TransferLog,
    err: &LightspeedError,
) -> Result<bool, AppError> {
    let retry_after = match err {
        LightspeedError::Retryable { retry_after, .. } => *retry_after,
        _ => None,
    };
    let queued_retry = ctx.retry_through_queue && err.is_retryable();
    let delay = queued_retry
        .then(|| ctx.settings.delay_after(request.attempt, retry_after))
        .flatten();
    let base = lightspeed_error(err);
    let (code, message, retry_after_seconds, exhausted) = match delay {
        Some(delay) => {
            let next = TransferRequest {
                attempt: request.attempt + 1,
                ..request.clone()
            };
            // Sent before the log is written: a crash in between repeats this attempt (and
            // re-sends), never loses the retry.
            ctx.queue
                .send(
                    QueueName::Transfer,
                    OutboundMessage {
                        delay_seconds: u32::try_from(delay.as_secs()).unwrap_or(u32::MAX),
                        ..OutboundMessage::json(&next, &request.request_uuid)?
                    },
                )
                .await?;
            tracing::warn!(attempt = request.attempt, next_attempt = next.attempt, delay_seconds = delay.as_secs(), error = %err, "transfer retry scheduled");
            log.retry = Some(RetryScheduled {
                attempt: next.attempt,
                delay_seconds: delay.as_secs(),
            });
            (base.code, base.message, None, false)
        }
        None if queued_retry => (
            ErrorCode::MaxRetriesExhausted,
            format!(
                "gave up after {} attempts; last error: {}",
                request.attempt, base.message
            ),
            None,
            true,
        ),
        None => (
            base.code,
            base.message,
            retry_after.map(|d| d.as_secs()),
            false,
        ),
    };
    log.error = Some(LogError {
        code: code.as_str().into(),
        message,
        retry_after_seconds,
    });
    Ok(exhausted)
}

/// `max_retries_exhausted` is raised when the retries ran out and resolved by a success.
async fn settle_retry_alert(
    store: &dyn crate::store::ItemStore,
    request: &TransferRequest,
    log: &TransferLog,
    exhausted: bool,
    now: &str,
) -> Result<(), AppError> {
    let code = ErrorCode::MaxRetriesExhausted.as_str();
    if exhausted {
        let message = log
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        let text = format!(
            "transfer of {} failed for good: {message}",
            subject(request)
        );
        alerts::raise(
            store,
            &request.company_id,
            code,
            &subject(request),
            &text,
            now,
        )
        .await?;
    } else if log.success {
        alerts::resolve(store, &request.company_id, code, &subject(request), now).await?;
    }
    Ok(())
}

/// Values the engine refused (a cost only in another currency, figures beyond the decimal
/// range) become alerts naming the object, so they are seen without reading every log.
async fn raise_value_alerts(
    store: &dyn crate::store::ItemStore,
    request: &TransferRequest,
    log: &TransferLog,
    now: &str,
) -> Result<(), AppError> {
    let exceptions = log.stats.iter().flat_map(|s| s.exceptions.iter());
    for exception in exceptions {
        for code in [ErrorCode::CurrencyMismatch, ErrorCode::ValueOutOfRange] {
            let Some(object) = exception
                .strip_prefix(code.as_str())
                .and_then(|rest| rest.strip_prefix(':'))
            else {
                continue;
            };
            // POS names are outside text: bound the alert key.
            let object: String = object.chars().take(200).collect();
            let object = object.as_str();
            let message = match code {
                ErrorCode::CurrencyMismatch => format!(
                    "{object}: the ingredient has no stock received in this currency, so \
                     lines using it at {} were not issued; record a receipt in that currency",
                    subject(request)
                ),
                _ => format!(
                    "{object}: quantities or values beyond the exact decimal range; lines \
                     using it at {} were not issued; correct the stored figures",
                    subject(request)
                ),
            };
            alerts::raise(
                store,
                &request.company_id,
                code.as_str(),
                object,
                &message,
                now,
            )
            .await?;
        }
    }
    Ok(())
}
