//! Every log line written while a queue record is processed carries that record's
//! correlation id.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tillbridge::aws_lambda_events::event::sqs::SqsEvent;
use tillbridge::worker::{process_batch, RecordOutcome};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_line_of_a_record_names_its_correlation_id() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tillbridge::telemetry::init_with_writer(move || writer.clone());

    let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
        {"messageId": "m1", "body": "a", "messageAttributes": {"correlation_id": {"stringValue": "corr-one", "dataType": "String"}}},
        {"messageId": "m2", "body": "b", "messageAttributes": {"correlation_id": {"stringValue": "corr-two", "dataType": "String"}}},
        {"messageId": "m3", "body": "c"}
    ]}))
    .unwrap();
    process_batch("test-worker", event, 3, |record| async move {
        tracing::info!(body = record.body.as_deref(), "working");
        tracing::warn!(body = record.body.as_deref(), "still working");
        RecordOutcome::Done
    })
    .await
    .unwrap();

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9, "three lines per record: {text}");
    for line in &lines {
        let expected = match line["body"].as_str().or(line["message_id"].as_str()) {
            Some("a") | Some("m1") => "corr-one",
            Some("b") | Some("m2") => "corr-two",
            // Without a correlation attribute the message id stands in.
            Some("c") | Some("m3") => "m3",
            other => panic!("unexpected line {other:?}: {line}"),
        };
        assert_eq!(line["span"]["correlation_id"], expected, "{line}");
        assert_eq!(line["span"]["function"], "test-worker");
    }
}
