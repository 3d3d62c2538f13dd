//! The migration job, its day items and the pure progress rule. Counters are always
//! recomputed from the day items (at most 90) and written under the job's `version`, so
//! concurrent workers can never lose an update: the last writer writes the true counts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::api::openapi::schemas as doc;
use crate::store::{attr, get_as, to_item, Item, ItemStore, Key, Query, StoreError};

pub const MIGRATION_DAYS: u64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Running,
    Completed,
    Cancelled,
    Failed,
}

impl JobStatus {
    pub fn is_open(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Running)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    Pending,
    Processing,
    Success,
    NoData,
    Failed,
    RetryPending,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MigrationJob {
    pub job_id: String,
    pub company_id: String,
    pub location_id: String,
    #[schema(inline)]
    pub status: JobStatus,
    /// A re-run posts only deltas (force refresh) and skips nothing.
    pub rerun: bool,
    #[schema(schema_with = doc::date)]
    pub start_date: String,
    #[schema(schema_with = doc::date)]
    pub end_date: String,
    pub total_days: u64,
    pub days_processed: u64,
    pub days_failed: u64,
    pub days_skipped: u64,
    #[schema(schema_with = doc::date_or_null, required)]
    pub current_date: Option<String>,
    #[schema(maximum = 100)]
    pub progress_percent: u64,
    #[schema(schema_with = doc::time_or_null, required)]
    pub started_at: Option<String>,
    #[schema(schema_with = doc::time_or_null, required)]
    pub completed_at: Option<String>,
    #[schema(required)]
    pub error_message: Option<String>,
    pub request_uuid: String,
    #[schema(schema_with = doc::time)]
    pub created_at: String,
    #[schema(schema_with = doc::time)]
    pub updated_at: String,
    #[serde(default)]
    #[schema(required)]
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MigrationDay {
    pub job_id: String,
    #[schema(schema_with = doc::date)]
    pub date: String,
    #[schema(inline)]
    pub status: DayStatus,
    /// Transfer runs made for this day (each with its own transfer log).
    pub runs: u32,
    #[schema(required)]
    pub log_id: Option<String>,
    #[schema(required)]
    pub error: Option<String>,
    #[schema(schema_with = doc::time)]
    pub updated_at: String,
    #[serde(default)]
    #[schema(required)]
    pub version: u64,
}

/// The queue message: one day of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMessage {
    pub job_id: String,
    pub company_id: String,
    pub location_id: String,
    pub date: String,
}

pub fn partition(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#MIG")
}

pub fn job_key(company_id: &str, location_id: &str, job_id: &str) -> Key {
    Key::new(partition(company_id, location_id), format!("JOB#{job_id}"))
}

/// Pattern 21: the migration jobs of a location, newest first (job ids sort by creation).
pub fn jobs_query(company_id: &str, location_id: &str) -> Query {
    let mut query = Query::partition(partition(company_id, location_id)).begins_with("JOB#");
    query.forward = false;
    query
}

/// Pattern 21: one job of a location, if it exists.
pub async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    job_id: &str,
) -> Result<Option<MigrationJob>, StoreError> {
    get_as(store, &job_key(company_id, location_id, job_id)).await
}

/// "One migration in progress" guard of a location.
pub fn guard_key(company_id: &str, location_id: &str) -> Key {
    Key::new(partition(company_id, location_id), "ACTIVE")
}

pub fn days_partition(job_id: &str) -> String {
    format!("MIG#{job_id}")
}

pub fn day_key(job_id: &str, date: &str) -> Key {
    Key::new(days_partition(job_id), format!("DAY#{date}"))
}

/// Sparse index of open and failed jobs, for maintenance.
pub const OPEN_JOBS: &str = "MIG_OPEN";

/// The ids that find one job.
#[derive(Debug, Clone, Copy)]
pub struct JobIds<'a> {
    pub company_id: &'a str,
    pub location_id: &'a str,
    pub job_id: &'a str,
}

impl MigrationJob {
    pub fn key(&self) -> Key {
        job_key(&self.company_id, &self.location_id, &self.job_id)
    }

    pub fn ids(&self) -> JobIds<'_> {
        JobIds {
            company_id: &self.company_id,
            location_id: &self.location_id,
            job_id: &self.job_id,
        }
    }

    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = to_item(self, &self.key())?;
        // Open jobs, and failed ones whose days maintenance may still retry.
        if self.status.is_open() || self.status == JobStatus::Failed {
            item.insert(attr::GSI1PK.into(), OPEN_JOBS.into());
            item.insert(
                attr::GSI1SK.into(),
                format!("{}#{}", self.updated_at, self.job_id).into(),
            );
        }
        Ok(item)
    }
}

impl MigrationDay {
    pub fn key(&self) -> Key {
        day_key(&self.job_id, &self.date)
    }
    pub fn to_item(&self) -> Result<Item, StoreError> {
        to_item(self, &self.key())
    }
}

/// The last `MIGRATION_DAYS` completed business days: ending the day before `today` (the
/// business date now), oldest first.
pub fn range(today: NaiveDate) -> Vec<NaiveDate> {
    (1..=MIGRATION_DAYS)
        .rev()
        .map(|back| today - chrono::Days::new(back))
        .collect()
}

/// Counters, progress and status of a job from its days (pure).
pub fn apply_progress(job: &mut MigrationJob, days: &[MigrationDay], now: &str) {
    let count = |f: &dyn Fn(DayStatus) -> bool| days.iter().filter(|d| f(d.status)).count() as u64;
    job.days_skipped = count(&|s| s == DayStatus::Skipped);
    job.days_failed = count(&|s| s == DayStatus::Failed);
    job.days_processed = count(&|s| {
        matches!(
            s,
            DayStatus::Success | DayStatus::NoData | DayStatus::Failed
        )
    });
    let done = job.days_processed + job.days_skipped;
    job.progress_percent = (done * 100).checked_div(job.total_days).unwrap_or(100);
    job.current_date = days
        .iter()
        .filter(|d| d.status != DayStatus::Pending && d.status != DayStatus::Skipped)
        .max_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.date.cmp(&b.date)))
        .map(|d| d.date.clone())
        .or(job.current_date.take());
    if !job.status.is_open() {
        return;
    }
    let unfinished = days.iter().any(|d| {
        matches!(
            d.status,
            DayStatus::Pending | DayStatus::Processing | DayStatus::RetryPending
        )
    });
    if unfinished {
        if job.status == JobStatus::Pending && done > 0 {
            job.status = JobStatus::Running;
        }
        return;
    }
    job.status = if job.days_failed > 0 {
        JobStatus::Failed
    } else {
        JobStatus::Completed
    };
    job.completed_at = Some(now.to_string());
    job.error_message = (job.days_failed > 0).then(|| {
        let failed: Vec<&str> = days
            .iter()
            .filter(|d| d.status == DayStatus::Failed)
            .map(|d| d.date.as_str())
            .take(10)
            .collect();
        format!("{} day(s) failed: {}", job.days_failed, failed.join(", "))
    });
}

/// The job id: sortable by creation time, unique.
pub fn new_job_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S"),
        &crate::random::uuid().simple().to_string()[..8]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> MigrationJob {
        MigrationJob {
            job_id: "j".into(),
            company_id: "c".into(),
            location_id: "l".into(),
            status: JobStatus::Running,
            rerun: false,
            start_date: "2026-01-01".into(),
            end_date: "2026-01-04".into(),
            total_days: 4,
            days_processed: 0,
            days_failed: 0,
            days_skipped: 0,
            current_date: None,
            progress_percent: 0,
            started_at: None,
            completed_at: None,
            error_message: None,
            request_uuid: "r".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            version: 1,
        }
    }

    fn day(date: &str, status: DayStatus, at: &str) -> MigrationDay {
        MigrationDay {
            job_id: "j".into(),
            date: date.into(),
            status,
            runs: 0,
            log_id: None,
            error: None,
            updated_at: at.into(),
            version: 1,
        }
    }

    #[test]
    fn ninety_days_ending_yesterday() {
        let days = range(NaiveDate::from_ymd_opt(2026, 5, 8).unwrap());
        assert_eq!(days.len(), 90);
        assert_eq!(days[0], NaiveDate::from_ymd_opt(2026, 2, 7).unwrap());
        assert_eq!(days[89], NaiveDate::from_ymd_opt(2026, 5, 7).unwrap());
    }

    #[test]
    fn progress_counts_and_finishes() {
        let mut j = job();
        let mut days = vec![
            day("2026-01-01", DayStatus::Skipped, "a"),
            day("2026-01-02", DayStatus::Success, "b"),
            day("2026-01-03", DayStatus::Processing, "c"),
            day("2026-01-04", DayStatus::Pending, "a"),
        ];
        apply_progress(&mut j, &days, "now");
        assert_eq!(
            (
                j.days_skipped,
                j.days_processed,
                j.days_failed,
                j.progress_percent
            ),
            (1, 1, 0, 50)
        );
        assert_eq!(j.status, JobStatus::Running);
        assert_eq!(j.current_date.as_deref(), Some("2026-01-03"));
        days[2].status = DayStatus::Failed;
        days[3].status = DayStatus::NoData;
        apply_progress(&mut j, &days, "now");
        assert_eq!(
            (
                j.days_processed,
                j.days_failed,
                j.progress_percent,
                j.status
            ),
            (3, 1, 100, JobStatus::Failed)
        );
        assert!(j.error_message.as_deref().unwrap().contains("2026-01-03"));
        // The failed day succeeds on a retry: the job completes.
        j.status = JobStatus::Running;
        days[2].status = DayStatus::Success;
        apply_progress(&mut j, &days, "later");
        assert_eq!((j.days_failed, j.status), (0, JobStatus::Completed));
        assert_eq!(j.error_message, None);
    }

    #[test]
    fn a_cancelled_job_keeps_its_status() {
        let mut j = job();
        j.status = JobStatus::Cancelled;
        apply_progress(&mut j, &[day("2026-01-01", DayStatus::Success, "a")], "now");
        assert_eq!((j.status, j.days_processed), (JobStatus::Cancelled, 1));
    }
}
