//! reconcile: the scheduled recovery path. Today it runs the migration maintenance (stuck
//! jobs, failed days); reconciliation of POS, ledger and ERP joins it with C10.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::deps::Deps;
use crate::migration::enqueue::DayQueue;
use crate::migration::maintenance;
use crate::telemetry::{correlation_span, sanitize_correlation_id};

/// How long a job or day may go without a change before it counts as stuck.
const STUCK_AFTER_MINUTES: i64 = 30;

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<EventBridgeEvent>,
) -> Result<(), lambda_runtime::Error> {
    let payload = event.payload;
    let correlation = sanitize_correlation_id(payload.id.as_deref())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    async move {
        let now = payload.time.unwrap_or_else(chrono::Utc::now);
        let summary = maintenance::run(
            deps.store.as_ref(),
            &DayQueue {
                queue: deps.queue.as_ref(),
                settings: &deps.config.migration,
            },
            now,
            chrono::Duration::minutes(STUCK_AFTER_MINUTES),
        )
        .await
        .inspect_err(|err| {
            tracing::error!(code = %err.code, message = %err.message, "migration maintenance failed");
        })?;
        tracing::info!(
            jobs_checked = summary.jobs_checked,
            stuck_jobs = summary.stuck_jobs.len(),
            days_requeued = summary.days_requeued,
            jobs_reopened = summary.jobs_reopened,
            "migration maintenance done"
        );
        Ok(())
    }
    .instrument(correlation_span("reconcile", &correlation))
    .await
}
