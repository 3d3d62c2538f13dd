//! One handler per Lambda function (the admin API's is `tillbridge-api`'s router). Each
//! parses its event, calls one use case and maps errors; the function crates' `main` only
//! builds [`crate::Deps`] and runs these.

pub mod daily_fanout;
pub mod journal_poster;
pub mod migration_worker;
pub mod oauth_callback;
pub mod pending;
pub mod reconcile;
pub mod transfer_worker;
pub mod webhook;

use std::future::Future;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::deps::Deps;
use crate::telemetry::{correlation_span, sanitize_correlation_id};
use crate::worker::{process_batch, Consumer, RecordOutcome};

/// Current time as the RFC 3339 text stored on records. The domain core never reads the
/// clock; handlers pass this in.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a queue handler answers: the partial batch response.
type BatchResult = Result<SqsBatchResponse, lambda_runtime::Error>;

/// A queue handler: `work` on each record of the batch, `concurrency` at a time (the
/// handler's `FUNCTION` names both), with a [`Consumer`] that records refusals in the
/// table, stamped with [`now`].
async fn consume<'a, F, Fut>(
    deps: &'a Deps,
    (function, concurrency): (&'static str, usize),
    event: LambdaEvent<SqsEvent>,
    work: F,
) -> BatchResult
where
    F: Fn(Consumer<'a>, SqsMessage) -> Fut,
    Fut: Future<Output = RecordOutcome>,
{
    let consumer = Consumer {
        store: deps.store.as_ref(),
        function,
        now,
    };
    let store = deps.store.as_ref();
    let work = &work;
    let response = process_batch(function, event.payload, concurrency, |record| async move {
        let failed = record.clone();
        let outcome = work(consumer, record).await;
        if let RecordOutcome::Retry(err) = &outcome {
            note_failure(store, function, &failed, err).await;
        }
        outcome
    })
    .await?;
    Ok(response)
}

/// A record that goes back to its queue: a retry metric, and its failure recorded by
/// message id so that, should it end in the dead-letter queue, operators see why
/// ([`crate::dead_letters::failures`]). Recording is best effort: the record is retried
/// either way.
async fn note_failure(
    store: &dyn crate::store::ItemStore,
    function: &'static str,
    record: &SqsMessage,
    err: &crate::error::AppError,
) {
    let message_id = record.message_id.as_deref().unwrap_or_default();
    crate::metrics::retry(function, err.code.as_str(), message_id);
    if let Err(record_err) =
        crate::dead_letters::failures::record(store, function, record, err, &now()).await
    {
        tracing::warn!(message_id, code = %record_err.code, error = %record_err.message, "failure reason not recorded");
    }
}

/// A scheduled handler: `work` on the run's anchor time ([`schedule_time`]) and the event's
/// `detail`, in the invocation's span ([`schedule_span`]).
async fn scheduled<F, Fut>(
    function: &'static str,
    event: LambdaEvent<EventBridgeEvent>,
    work: F,
) -> Result<(), lambda_runtime::Error>
where
    F: FnOnce(chrono::DateTime<chrono::Utc>, serde_json::Value) -> Fut,
    Fut: Future<Output = Result<(), lambda_runtime::Error>>,
{
    let payload = event.payload;
    let span = schedule_span(function, &payload);
    async move {
        let now = schedule_time(&payload);
        work(now, payload.detail).await
    }
    .instrument(span)
    .await
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
