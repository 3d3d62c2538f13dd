//! One handler per Lambda function. Each parses its event, calls one use case and maps
//! errors; the function crates' `main` only builds [`crate::Deps`] and runs these.

pub mod daily_fanout;
pub mod journal_poster;
pub mod migration_worker;
pub mod oauth_callback;
pub mod pending;
pub mod reconcile;
pub mod transfer_worker;
pub mod webhook;

pub use crate::api::handle as admin_api;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;

use crate::telemetry::{correlation_span, sanitize_correlation_id};

/// Current time as the RFC 3339 text stored on records. The domain core never reads the
/// clock; handlers pass this in.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The span of a scheduled invocation, correlated by the EventBridge event id (a new id when
/// it has none), so every line of the run can be found together.
pub fn schedule_span(function: &'static str, event: &EventBridgeEvent) -> tracing::Span {
    let correlation = sanitize_correlation_id(event.id.as_deref())
        .unwrap_or_else(|| crate::random::uuid().to_string());
    correlation_span(function, &correlation)
}

/// The time a scheduled run is anchored on: the event's scheduled `time`, so a retried or
/// late invocation plans what the on-time one would have; the clock only without it.
pub fn schedule_time(event: &EventBridgeEvent) -> chrono::DateTime<chrono::Utc> {
    event.time.unwrap_or_else(|| {
        tracing::warn!("event has no `time`; anchoring the run on the clock");
        chrono::Utc::now()
    })
}
