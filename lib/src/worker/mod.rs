//! Queue consumers: per-record parsing and partial batch responses.

pub mod batch;

pub use batch::{parse_body, process_batch, RecordOutcome};

use std::future::Future;

use aws_lambda_events::event::sqs::SqsMessage;
use serde::de::DeserializeOwned;

use crate::alerts::{self, code as alert_code};
use crate::error::AppError;
use crate::ids;
use crate::store::ItemStore;

/// Whose work a message is about, read from its raw body so that even a message that does
/// not parse can be recorded against its company.
pub fn subject_of(record: &SqsMessage) -> Option<(String, String)> {
    let body: serde_json::Value = serde_json::from_str(record.body.as_deref()?).ok()?;
    let field = |name: &str| {
        body.get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|v| ids::is_valid_id(v))
            .map(str::to_string)
    };
    let company = field("company_id")?;
    let location = field("location_id").unwrap_or_else(|| "-".into());
    let date = body
        .get("business_date")
        .or_else(|| body.get("date"))
        .and_then(serde_json::Value::as_str)
        .and_then(ids::strict_date)
        .map(|d| format!(":{d}"))
        .unwrap_or_default();
    Some((company, format!("{location}{date}")))
}

/// How one queue consumer settles its records: the store its refusals are recorded in, its
/// function name (in alert subjects and messages) and the clock it stamps them with.
#[derive(Clone, Copy)]
pub struct Consumer<'a> {
    pub store: &'a dyn ItemStore,
    pub function: &'static str,
    pub now: fn() -> String,
}

impl Consumer<'_> {
    /// One record's work: its body parsed as `T` (a body that never parses is rejected at
    /// once), then `work`, whose error is settled.
    pub async fn handle<T, F, Fut>(&self, record: &SqsMessage, work: F) -> RecordOutcome
    where
        T: DeserializeOwned,
        F: FnOnce(T) -> Fut,
        Fut: Future<Output = Result<RecordOutcome, AppError>>,
    {
        match parse_body(record) {
            Ok(body) => self.finish(record, work(body).await).await,
            Err(err) => self.reject(record, err).await,
        }
    }

    /// The outcome of a record's work; an error is settled.
    pub async fn finish(
        &self,
        record: &SqsMessage,
        result: Result<RecordOutcome, AppError>,
    ) -> RecordOutcome {
        match result {
            Ok(outcome) => outcome,
            Err(err) => self.settle(record, err).await,
        }
    }

    /// Records a permanent failure and drops the message: an alert `message_rejected` on
    /// the company it names (when it names one), so the refusal is seen without reading
    /// logs. If the alert cannot be written the message stays on the queue rather than
    /// vanish unseen.
    pub async fn reject(&self, record: &SqsMessage, err: AppError) -> RecordOutcome {
        let Some((company_id, subject)) = subject_of(record) else {
            return RecordOutcome::Rejected(err);
        };
        let function = self.function;
        let subject = format!("{function}:{subject}");
        let message = format!("{function} dropped a message that can never succeed: {err}");
        let now = (self.now)();
        match alerts::raise(
            self.store,
            &company_id,
            alert_code::MESSAGE_REJECTED,
            &subject,
            &message,
            &now,
        )
        .await
        {
            Ok(_) => RecordOutcome::Rejected(err),
            Err(alert_err) => {
                tracing::warn!(code = %alert_err.code, error = %alert_err.message, "rejection not recorded; message kept");
                RecordOutcome::Retry(err)
            }
        }
    }

    /// A failed record: back to the queue when retrying can help, else recorded and dropped.
    pub async fn settle(&self, record: &SqsMessage, err: AppError) -> RecordOutcome {
        match RecordOutcome::failed(err) {
            RecordOutcome::Rejected(err) => self.reject(record, err).await,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: &str) -> SqsMessage {
        serde_json::from_value(serde_json::json!({"messageId": "m", "body": body})).unwrap()
    }

    #[test]
    fn the_subject_is_read_from_any_json_body() {
        assert_eq!(
            subject_of(&record(
                r#"{"company_id":"acme","location_id":"l1","business_date":"2026-02-01","x":1}"#
            )),
            Some(("acme".into(), "l1:2026-02-01".into()))
        );
        assert_eq!(subject_of(&record(r#"{"company_id":"a#b"}"#)), None);
        assert_eq!(subject_of(&record("not json")), None);
    }
}
