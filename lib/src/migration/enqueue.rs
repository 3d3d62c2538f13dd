//! Putting a job's days on the migration queue, each in its integration's lane.

use chrono::NaiveDate;

use super::job::{DayMessage, MigrationJob};
use super::settings::MigrationSettings;
use crate::error::{AppError, ErrorCode};
use crate::queue::{MessageGroup, MessageQueue, OutboundMessage, QueueName};

pub struct DayQueue<'a> {
    pub queue: &'a dyn MessageQueue,
    pub settings: &'a MigrationSettings,
}

impl DayQueue<'_> {
    /// Sends one message per `(date, version of its day item)`, in batches.
    pub async fn send(&self, job: &MigrationJob, days: &[(String, u64)]) -> Result<(), AppError> {
        let messages = days
            .iter()
            .map(|(date, version)| day_message(self.settings, job, date, *version))
            .collect::<Result<Vec<_>, _>>()?;
        self.queue.send_all(QueueName::Migration, messages).await?;
        Ok(())
    }
}

/// The queue message for one day of a job. The version of the day item that queued it makes
/// the deduplication id: a repeated send of the same request is dropped by the queue, while
/// a day queued again later (a new version) is a new message.
fn day_message(
    settings: &MigrationSettings,
    job: &MigrationJob,
    date: &str,
    version: u64,
) -> Result<OutboundMessage, AppError> {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        AppError::new(
            ErrorCode::Internal,
            format!(
                "migration {} has a day `{date}` that is not a date",
                job.job_id
            ),
        )
    })?;
    let body = DayMessage {
        job_id: job.job_id.clone(),
        company_id: job.company_id.clone(),
        location_id: job.location_id.clone(),
        date: date.to_string(),
    };
    Ok(OutboundMessage {
        group: Some(MessageGroup {
            group_id: settings.group_id(&job.company_id, day),
            deduplication_id: format!("{}.{date}.v{version}", job.job_id),
        }),
        ..OutboundMessage::json(&body, &job.request_uuid)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> MigrationJob {
        serde_json::from_value(serde_json::json!({
            "job_id": "job1", "company_id": "co1", "location_id": "loc1",
            "status": "running", "rerun": false,
            "start_date": "2026-01-01", "end_date": "2026-03-31",
            "total_days": 90, "days_processed": 0, "days_failed": 0, "days_skipped": 0,
            "progress_percent": 0, "request_uuid": "req1",
            "created_at": "2026-04-01T00:00:00Z", "updated_at": "2026-04-01T00:00:00Z",
            "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn a_day_message_is_deduplicated_per_day_version_and_keeps_its_lane() {
        let settings = MigrationSettings::default();
        let job = job();
        let first = day_message(&settings, &job, "2026-03-01", 0).unwrap();
        let again = day_message(&settings, &job, "2026-03-01", 0).unwrap();
        let later = day_message(&settings, &job, "2026-03-01", 3).unwrap();
        let group = |m: &OutboundMessage| m.group.clone().unwrap();
        assert_eq!(first, again);
        assert_eq!(group(&first).group_id, group(&later).group_id);
        assert_eq!(group(&first).deduplication_id, "job1.2026-03-01.v0");
        assert_eq!(group(&later).deduplication_id, "job1.2026-03-01.v3");
        let body: DayMessage = serde_json::from_str(&first.body).unwrap();
        assert_eq!(
            (
                body.company_id.as_str(),
                body.location_id.as_str(),
                body.date.as_str()
            ),
            ("co1", "loc1", "2026-03-01")
        );
        assert_eq!(first.correlation_id, "req1");
    }

    #[test]
    fn a_day_that_is_not_a_date_is_an_internal_error() {
        let err = day_message(&MigrationSettings::default(), &job(), "2026-02-30", 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(err.message.contains("2026-02-30"), "{}", err.message);
    }
}
