//! Starting, re-running and cancelling a location's migration.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::enqueue::DayQueue;
use super::job::{
    guard_key, job_key, range, DayStatus, JobIds, JobStatus, MigrationDay, MigrationJob,
};
use super::update::update_job;
use crate::error::{AppError, ErrorCode};
use crate::location::business_day::business_date;
use crate::store::{
    get_as, query_all, query_all_as, to_item, Condition, Index, ItemStore, Query, SortKeyCondition,
    StoreError, Write,
};
use crate::transfer::cache;

/// Creates the job for the last 90 completed business days and enqueues its days. Days with
/// a successful transfer are `skipped` unless this is a re-run (which posts only deltas).
pub async fn start(
    store: &dyn ItemStore,
    queue: &DayQueue<'_>,
    company_id: &str,
    location_id: &str,
    rerun: bool,
    request_uuid: &str,
    now: DateTime<Utc>,
) -> Result<MigrationJob, AppError> {
    let location = crate::location::record::get(store, company_id, location_id).await?;
    check_ready(&location)?;
    let dates = range(business_date(location.day_mode(), now));
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let job = new_job(company_id, location_id, &dates, rerun, request_uuid, now)?;
    // The guard and the job in one transaction: one migration in progress per location.
    let guard = to_item(
        &serde_json::json!({ "job_id": job.job_id }),
        &guard_key(company_id, location_id),
    )?;
    match store
        .transact(vec![
            Write::Put(guard, Condition::NotExists),
            Write::Put(job.to_item()?, Condition::NotExists),
        ])
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => {
            return Err(AppError::new(
                ErrorCode::MigrationAlreadyInProgress,
                format!(
                    "a migration of \"{}\" is already in progress; cancel it or wait",
                    location.name
                ),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    let transferred = if rerun {
        HashSet::new()
    } else {
        transferred_days(store, &job).await?
    };
    let mut queued = Vec::new();
    for date in &dates {
        let date = date.to_string();
        let skipped = transferred.contains(&date);
        let day = MigrationDay {
            job_id: job.job_id.clone(),
            date: date.clone(),
            status: if skipped {
                DayStatus::Skipped
            } else {
                DayStatus::Pending
            },
            runs: 0,
            log_id: None,
            error: None,
            updated_at: stamp.clone(),
            version: 1,
        };
        store.put(day.to_item()?, Condition::None).await?;
        if !skipped {
            queued.push((date, day.version));
        }
    }
    queue.send(&job, &queued).await?;
    tracing::info!(job_id = job.job_id, location_id, rerun, "migration started");
    super::day::refresh_progress(store, &job, &stamp).await
}

/// An activated location with a storage unit, or the refusal naming what is missing.
fn check_ready(location: &crate::location::record::Location) -> Result<(), AppError> {
    if !location.is_active() {
        return Err(AppError::new(
            ErrorCode::LocationNotActivated,
            format!(
                "activate location \"{}\" before migrating it",
                location.name
            ),
        ));
    }
    if location.storage_unit_id.is_none() {
        return Err(AppError::new(
            ErrorCode::StorageUnitRequired,
            format!(
                "link a storage unit to \"{}\" before migrating it",
                location.name
            ),
        ));
    }
    Ok(())
}

fn new_job(
    company_id: &str,
    location_id: &str,
    dates: &[chrono::NaiveDate],
    rerun: bool,
    request_uuid: &str,
    now: DateTime<Utc>,
) -> Result<MigrationJob, AppError> {
    let (first, last) = match (dates.first(), dates.last()) {
        (Some(f), Some(l)) => (f.to_string(), l.to_string()),
        _ => return Err(AppError::new(ErrorCode::Internal, "empty migration range")),
    };
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Ok(MigrationJob {
        job_id: super::job::new_job_id(now),
        company_id: company_id.to_string(),
        location_id: location_id.to_string(),
        status: JobStatus::Pending,
        rerun,
        start_date: first,
        end_date: last,
        total_days: dates.len() as u64,
        days_processed: 0,
        days_failed: 0,
        days_skipped: 0,
        current_date: None,
        progress_percent: 0,
        started_at: Some(stamp.clone()),
        completed_at: None,
        error_message: None,
        request_uuid: request_uuid.to_string(),
        created_at: stamp.clone(),
        updated_at: stamp,
        version: 1,
    })
}

/// The job's dates that already have a successful transfer (a day state exists only after
/// one).
async fn transferred_days(
    store: &dyn ItemStore,
    job: &MigrationJob,
) -> Result<HashSet<String>, AppError> {
    let mut done = Query::partition(cache::days_index(&job.company_id, &job.location_id))
        .on(Index::Gsi1)
        .limit(100);
    done.sk = Some(SortKeyCondition::Between(
        job.start_date.clone(),
        format!("{}~", job.end_date),
    ));
    Ok(query_all(store, done)
        .await?
        .into_iter()
        .filter_map(|item| {
            item.get("business_date")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect())
}

/// Cancels an open job: workers stop picking its days; the location may migrate again.
pub async fn cancel(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    job_id: &str,
    now: &str,
) -> Result<MigrationJob, AppError> {
    let ids = JobIds {
        company_id,
        location_id,
        job_id,
    };
    update_job(store, ids, now, false, |job, _| {
        if !job.status.is_open() {
            return Err(AppError::new(
                ErrorCode::InvalidState,
                format!("migration {job_id} is already {:?}", job.status).to_lowercase(),
            ));
        }
        job.status = JobStatus::Cancelled;
        job.completed_at = Some(now.to_string());
        Ok(true)
    })
    .await
}

/// The open job of a location, if any (the guard names it).
pub async fn open_job(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<Option<MigrationJob>, AppError> {
    let Some(guard) = store.get(&guard_key(company_id, location_id)).await? else {
        return Ok(None);
    };
    let Some(job_id) = guard.get("job_id").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    Ok(get_as(store, &job_key(company_id, location_id, job_id)).await?)
}

pub fn not_found(job_id: &str) -> AppError {
    AppError::new(
        ErrorCode::MigrationNotFound,
        format!("migration `{job_id}` does not exist for this location"),
    )
}

/// Days of a job, oldest first.
pub async fn days(store: &dyn ItemStore, job_id: &str) -> Result<Vec<MigrationDay>, AppError> {
    let query = Query::partition(super::job::days_partition(job_id)).limit(100);
    Ok(query_all_as(store, query).await?)
}
