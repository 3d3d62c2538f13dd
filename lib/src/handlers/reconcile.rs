//! reconcile: the schedule's recovery and checking path: the migration maintenance (stuck
//! jobs, failed days), the dead-letter check (`dlq_not_empty`, DLQ depth), then the
//! reconciliation of every automatically transferred location's last closed business day
//! (SPEC C10).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;

use super::scheduled;
use crate::deps::Deps;
use crate::migration::maintenance;

/// How long a job or day may go without a change before it counts as stuck.
const STUCK_AFTER_MINUTES: i64 = 30;

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<EventBridgeEvent>,
) -> Result<(), lambda_runtime::Error> {
    scheduled("reconcile", event, |now, _| async move {
        let summary = maintenance::run(
            deps.store.as_ref(),
            &deps.migration_days(),
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
        // Dead letters first: the reconciliation lists a `dlq_not_empty` it raises.
        crate::dead_letters::run_check(deps, now).await;
        let summary = crate::reconcile::run::last_closed_days(deps, now)
            .await
            .inspect_err(|err| {
                tracing::error!(code = %err.code, message = %err.message, "reconciliation failed");
            })?;
        tracing::info!(
            reconciled = summary.reconciled,
            with_exceptions = summary.exceptions,
            pending = summary.pending,
            "reconciliation of the last closed days done"
        );
        Ok(())
    })
    .await
}
