//! Scheduled migration maintenance: recovers what workers left behind.
//!
//! * A day `processing` (worker killed mid-day) or `pending` / `retry_pending` (its message
//!   died in the dead-letter queue) with no change for `stuck_after` is enqueued again; its
//!   job, if it made no progress for that long, is reset to `pending` and raises a
//!   `stuck_migration` alert.
//! * A `failed` day is retried while it has had fewer than [`MAX_DAY_RUNS`] runs; a failed
//!   job with such days reopens, and completes once they succeed.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::day::refresh_progress;
use super::enqueue::DayQueue;
use super::job::{guard_key, DayStatus, JobStatus, MigrationDay, MigrationJob, OPEN_JOBS};
use super::start::days;
use super::update::update_job;
use crate::alerts;
use crate::error::AppError;
use crate::store::{
    from_item, query_all, to_item, Condition, Index, ItemStore, Query, StoreError, Write,
};

/// Transfer runs a day may have in all (queue redeliveries and maintenance retries).
pub const MAX_DAY_RUNS: u32 = 6;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MaintenanceSummary {
    pub jobs_checked: usize,
    pub stuck_jobs: Vec<String>,
    pub days_requeued: usize,
    pub jobs_reopened: usize,
}

pub async fn run(
    store: &dyn ItemStore,
    queue: &DayQueue<'_>,
    now: DateTime<Utc>,
    stuck_after: Duration,
) -> Result<MaintenanceSummary, AppError> {
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let stale_before = (now - stuck_after).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut summary = MaintenanceSummary::default();
    for item in query_all(store, Query::partition(OPEN_JOBS).on(Index::Gsi1)).await? {
        let job: MigrationJob = from_item(item)?;
        summary.jobs_checked += 1;
        let all = days(store, &job.job_id).await?;
        let retry: Vec<&MigrationDay> = all
            .iter()
            .filter(|d| match d.status {
                DayStatus::Failed => d.runs < MAX_DAY_RUNS,
                DayStatus::Processing | DayStatus::Pending | DayStatus::RetryPending => {
                    d.updated_at < stale_before
                }
                _ => false,
            })
            .collect();
        if retry.is_empty() {
            continue;
        }
        let stuck = job.status.is_open() && job.updated_at < stale_before;
        if job.status == JobStatus::Failed && !reopen(store, &job, &stamp).await? {
            continue;
        }
        let mut queued = Vec::new();
        for day in retry {
            let mut next = day.clone();
            next.status = DayStatus::RetryPending;
            next.updated_at = stamp.clone();
            next.version = day.version + 1;
            match store
                .put(next.to_item()?, Condition::VersionIs(day.version))
                .await
            {
                Ok(()) => {}
                Err(StoreError::ConditionFailed) => continue, // a worker moved it meanwhile
                Err(err) => return Err(err.into()),
            }
            queued.push((next.date, next.version));
        }
        summary.days_requeued += queued.len();
        queue.send(&job, &queued).await?;
        if stuck {
            summary.stuck_jobs.push(job.job_id.clone());
            reset_to_pending(store, &job, &stamp).await?;
            alerts::raise(
                store,
                &job.company_id,
                "stuck_migration",
                &format!("{}:{}", job.location_id, job.job_id),
                &format!(
                    "migration {} of location {} made no progress since {}; its unfinished days were queued again",
                    job.job_id, job.location_id, job.updated_at
                ),
                &stamp,
            )
            .await?;
        } else if job.status == JobStatus::Failed {
            summary.jobs_reopened += 1;
        }
        refresh_progress(store, &job, &stamp).await?;
    }
    Ok(summary)
}

/// A failed job runs again if no other migration of its location started meanwhile.
async fn reopen(store: &dyn ItemStore, job: &MigrationJob, now: &str) -> Result<bool, AppError> {
    let mut next = job.clone();
    next.status = JobStatus::Running;
    next.completed_at = None;
    next.updated_at = now.to_string();
    next.version = job.version + 1;
    let guard = to_item(
        &serde_json::json!({ "job_id": job.job_id }),
        &guard_key(&job.company_id, &job.location_id),
    )?;
    match store
        .transact(vec![
            Write::Put(guard, Condition::NotExists),
            Write::Put(next.to_item()?, Condition::VersionIs(job.version)),
        ])
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

async fn reset_to_pending(
    store: &dyn ItemStore,
    job: &MigrationJob,
    now: &str,
) -> Result<(), AppError> {
    update_job(store, job.ids(), now, false, |job, _| {
        let open = job.status.is_open();
        job.status = JobStatus::Pending;
        Ok(open)
    })
    .await?;
    Ok(())
}
