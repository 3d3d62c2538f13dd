//! Every function has a sample event in `events/`, and each parses into the event type its
//! handler takes. The transfer-worker sample also runs through the real handler.

use std::path::PathBuf;

use tillbridge::aws_lambda_events::event::eventbridge::EventBridgeEvent;
use tillbridge::aws_lambda_events::event::sqs::SqsEvent;
use tillbridge::lambda_http::RequestExt;
use tillbridge_local::host::functions::{HTTP_FUNCTIONS, QUEUE_FUNCTIONS, SCHEDULED_FUNCTIONS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn event(name: &str) -> String {
    std::fs::read_to_string(root().join("events").join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("events/{name}.json: {e}"))
}

#[test]
fn every_function_crate_has_a_sample_event() {
    let mut crates: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    crates.sort();
    let mut known: Vec<String> = HTTP_FUNCTIONS
        .iter()
        .chain(&QUEUE_FUNCTIONS)
        .chain(&SCHEDULED_FUNCTIONS)
        .map(|s| s.to_string())
        .collect();
    known.sort();
    assert_eq!(crates, known);
    for name in &crates {
        assert!(
            root().join("events").join(format!("{name}.json")).exists(),
            "events/{name}.json"
        );
    }
}

#[test]
fn http_samples_parse_as_api_gateway_v2_requests() {
    for name in HTTP_FUNCTIONS {
        let request = tillbridge::lambda_http::request::from_str(&event(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(request.uri().path().starts_with('/'), "{name}");
        assert!(
            request.request_context_ref().is_some(),
            "{name} has a request context"
        );
    }
    let admin = tillbridge::lambda_http::request::from_str(&event("admin-api")).unwrap();
    assert_eq!(admin.query_string_parameters().first("limit"), Some("2"));
}

#[test]
fn queue_samples_parse_as_sqs_events_with_ids_and_bodies() {
    for name in QUEUE_FUNCTIONS {
        let parsed: SqsEvent =
            serde_json::from_str(&event(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!parsed.records.is_empty(), "{name}");
        for record in &parsed.records {
            assert!(
                record.message_id.is_some() && record.body.is_some(),
                "{name}"
            );
            let body: serde_json::Value =
                serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
            assert!(body["request_uuid"].is_string(), "{name}");
        }
    }
}

#[test]
fn scheduled_samples_parse_as_eventbridge_events() {
    for name in SCHEDULED_FUNCTIONS {
        let parsed: EventBridgeEvent =
            serde_json::from_str(&event(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.detail_type, "Scheduled Event", "{name}");
    }
}

#[tokio::test]
async fn the_transfer_worker_sample_runs_through_the_real_handler() {
    let stack = tillbridge_local::ensure_up().await.unwrap();
    let config = stack
        .resources
        .function_config(&stack.template, "transfer-worker")
        .unwrap();
    let deps = tillbridge::Deps::from_config(config).await;
    let parsed: SqsEvent = serde_json::from_str(&event("transfer-worker")).unwrap();
    let response = tillbridge_local::host::functions::queue("transfer-worker", &deps, parsed)
        .await
        .unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
}
