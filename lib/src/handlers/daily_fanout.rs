//! daily-fanout: the hourly schedule's target. The run is anchored on the event's scheduled
//! `time`, not the clock, so a retried or late invocation plans the same requests (with the
//! same ids) as the on-time one would have. It then polls each X-Series store's sales feed
//! from its cursor (the webhook backstop).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use super::scheduled;
use crate::deps::Deps;
use crate::error::AppError;
use crate::fanout;

/// Longest catch-up an operator can ask for in one invocation (a week of closings).
const MAX_LOOK_BACK_HOURS: i64 = 24 * 7;

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<EventBridgeEvent>,
) -> Result<(), lambda_runtime::Error> {
    scheduled("daily-fanout", event, |now, detail| async move {
        let mut settings = deps.config.fanout.clone();
        if let Some(hours) = look_back_hours(&detail)? {
            settings.look_back = chrono::Duration::hours(hours);
        }
        match fanout::run(deps.store.as_ref(), deps.queue.as_ref(), now, &settings).await {
            Ok(summary) => {
                tracing::info!(
                    locations_seen = summary.locations_seen,
                    requests_enqueued = summary.requests_enqueued,
                    skipped_without_storage_unit = summary.skipped_without_storage_unit.len(),
                    summary = %serde_json::to_string(&summary).unwrap_or_default(),
                    "fan-out done"
                );
                // The X-Series feed backstop: sales no webhook brought.
                let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let store = deps.store.as_ref();
                crate::webhook::backstop::poll_all(
                    store,
                    deps.queue.as_ref(),
                    &deps.lightspeed,
                    &at,
                )
                .await?;
                Ok(())
            }
            Err(err) => {
                tracing::error!(code = %err.code, message = %err.message, "fan-out failed");
                Err(err.into())
            }
        }
    })
    .await
}

/// An operator's manual catch-up after an outage: invoke with
/// `"detail": {"look_back_hours": N}` and the event `time` at the end of the gap.
/// The schedule's own events carry an empty detail and get the configured hour.
fn look_back_hours(detail: &Value) -> Result<Option<i64>, AppError> {
    match detail.get("look_back_hours") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|h| (1..=MAX_LOOK_BACK_HOURS).contains(h))
            .map(Some)
            .ok_or_else(|| {
                AppError::validation(format!(
                    "`detail.look_back_hours` must be a whole number from 1 to {MAX_LOOK_BACK_HOURS}, got {value}"
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_s_empty_detail_keeps_the_configured_window() {
        assert_eq!(look_back_hours(&serde_json::json!({})).unwrap(), None);
        assert_eq!(look_back_hours(&Value::Null).unwrap(), None);
        assert_eq!(
            look_back_hours(&serde_json::json!({"look_back_hours": 6})).unwrap(),
            Some(6)
        );
        for bad in [
            serde_json::json!({"look_back_hours": 0}),
            serde_json::json!({"look_back_hours": 169}),
            serde_json::json!({"look_back_hours": "6"}),
            serde_json::json!({"look_back_hours": 1.5}),
        ] {
            assert!(look_back_hours(&bad).is_err(), "{bad}");
        }
    }

    /// EventBridge Scheduler's payload when the target has no `Input`: the envelope with
    /// the scheduled time, but `detail` as the string "{}".
    #[test]
    fn the_scheduler_default_payload_parses_with_its_scheduled_time() {
        let event: EventBridgeEvent = serde_json::from_value(serde_json::json!({
            "version": "0", "id": "f3b3c1de-0000-4000-8000-000000000001",
            "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": "123456789012", "time": "2026-10-25T04:05:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x"],
            "detail": "{}"
        }))
        .unwrap();
        assert_eq!(event.time, Some("2026-10-25T04:05:00Z".parse().unwrap()));
        assert_eq!(look_back_hours(&event.detail).unwrap(), None);
    }
}
