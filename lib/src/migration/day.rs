//! The migration worker's use case: one day of one job through the transfer engine, then
//! the job's counters recomputed from its days.

use std::time::Duration;

use super::job::{
    apply_progress, day_key, job_key, DayMessage, DayStatus, MigrationDay, MigrationJob,
};
use super::update::update_job;
use crate::error::{AppError, ErrorCode};
use crate::store::{from_item, Condition, ItemStore, StoreError};
use crate::transfer::run::{run, Outcome, TransferContext};
use crate::transfer::TransferRequest;

/// Runs of a day the queue's redelivery makes before the day counts as `failed`.
pub const RETRIES_IN_QUEUE: u32 = 3;

#[derive(Debug, PartialEq, Eq)]
pub enum DayOutcome {
    /// The day was transferred (or failed for good) and the job updated.
    Done(DayStatus),
    /// Nothing to do: the job is cancelled or over, or the day is already done.
    Ignored(String),
    /// Lightspeed was unavailable: the day is `retry_pending` and the message should return
    /// after `after` (the transfer retry delay for the day's runs so far, or longer when
    /// Lightspeed's `Retry-After` asked for it).
    RetryLater { why: String, after: Duration },
}

pub async fn process(
    ctx: &TransferContext<'_>,
    message: &DayMessage,
    now: &str,
) -> Result<DayOutcome, AppError> {
    let store = ctx.store;
    let (job, mut day) = match take_day(store, message, now).await? {
        Ok(taken) => taken,
        Err(why) => return Ok(DayOutcome::Ignored(why)),
    };
    refresh_progress(store, &job, now).await?;
    let request = TransferRequest {
        request_uuid: format!("mig-{}-{}-{}", job.job_id, day.date, day.runs),
        company_id: job.company_id.clone(),
        location_id: job.location_id.clone(),
        business_date: Some(day.date.clone()),
        attempt: 1,
        force_refresh: job.rerun,
        requested_at: now.to_string(),
    };
    let result = day_result(run(ctx, &request, now).await?, day.runs);
    let previous = day.version;
    day.status = result.status;
    day.log_id = result.log_id;
    day.error = result.error.clone();
    day.updated_at = now.to_string();
    day.version += 1;
    store
        .put(day.to_item()?, Condition::VersionIs(previous))
        .await?;
    refresh_progress(store, &job, now).await?;
    Ok(match result.status {
        DayStatus::RetryPending => DayOutcome::RetryLater {
            why: result.error.unwrap_or_default(),
            after: ctx
                .settings
                .delay_after(day.runs, result.retry_after)
                .unwrap_or(ctx.settings.lease_wait),
        },
        other => DayOutcome::Done(other),
    })
}

/// The open job and its day, taken as `processing` under the day's version; `Err` says why
/// there is nothing to do (job gone, cancelled or over; day done or taken by another
/// worker).
async fn take_day(
    store: &dyn ItemStore,
    message: &DayMessage,
    now: &str,
) -> Result<Result<(MigrationJob, MigrationDay), String>, AppError> {
    let Some(job) = store
        .get(&job_key(
            &message.company_id,
            &message.location_id,
            &message.job_id,
        ))
        .await?
        .map(from_item::<MigrationJob>)
        .transpose()?
    else {
        return Ok(Err(format!("migration {} does not exist", message.job_id)));
    };
    if !job.status.is_open() {
        return Ok(Err(format!("migration {} is {:?}", job.job_id, job.status)));
    }
    let key = day_key(&message.job_id, &message.date);
    let Some(mut day) = store
        .get(&key)
        .await?
        .map(from_item::<MigrationDay>)
        .transpose()?
    else {
        return Ok(Err(format!(
            "{} is not a day of migration {}",
            message.date, job.job_id
        )));
    };
    if !matches!(
        day.status,
        DayStatus::Pending | DayStatus::RetryPending | DayStatus::Processing
    ) {
        return Ok(Err(format!("{} is already {:?}", day.date, day.status)));
    }
    let previous = day.version;
    day.status = DayStatus::Processing;
    day.runs += 1;
    day.updated_at = now.to_string();
    day.version += 1;
    match store
        .put(day.to_item()?, Condition::VersionIs(previous))
        .await
    {
        Ok(()) => Ok(Ok((job, day))),
        Err(StoreError::ConditionFailed) => {
            Ok(Err(format!("{} was taken by another worker", day.date)))
        }
        Err(err) => Err(err.into()),
    }
}

/// What a transfer outcome means for the day.
struct DayResult {
    status: DayStatus,
    log_id: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

fn day_result(outcome: Outcome, runs: u32) -> DayResult {
    match outcome {
        Outcome::Logged(log) if log.success => DayResult {
            status: if log.no_data {
                DayStatus::NoData
            } else {
                DayStatus::Success
            },
            log_id: Some(log.log_id.clone()),
            error: None,
            retry_after: None,
        },
        Outcome::Logged(log) => {
            let transient = log
                .error
                .as_ref()
                .is_some_and(|e| e.code == ErrorCode::LightspeedApiError.as_str());
            // Redelivered a few times by the queue, then `failed` for maintenance to retry.
            let retry = transient && runs < RETRIES_IN_QUEUE;
            DayResult {
                status: if retry {
                    DayStatus::RetryPending
                } else {
                    DayStatus::Failed
                },
                log_id: Some(log.log_id.clone()),
                error: log
                    .error
                    .clone()
                    .map(|e| format!("{}: {}", e.code, e.message)),
                retry_after: log
                    .error
                    .as_ref()
                    .and_then(|e| e.retry_after_seconds)
                    .map(Duration::from_secs),
            }
        }
        Outcome::AlreadyLogged(log_id) => DayResult {
            status: DayStatus::Success,
            log_id: Some(log_id),
            error: None,
            retry_after: None,
        },
    }
}

/// Recomputes the job's counters and status from its days under its version; a job that
/// ends releases the location's "in progress" guard in the same transaction.
pub async fn refresh_progress(
    store: &dyn ItemStore,
    job: &MigrationJob,
    now: &str,
) -> Result<MigrationJob, AppError> {
    update_job(store, job.ids(), now, true, |job, days| {
        apply_progress(job, days, now);
        Ok(true)
    })
    .await
}
