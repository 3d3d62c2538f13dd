//! daily-fanout (SPEC C6) through the local host's routing, against DynamoDB Local and moto:
//! only active auto-issue locations whose business day just closed get that day plus three
//! re-checks; a duplicate invocation enqueues the same request ids; pausing stops it.
//!
//! The fan-out index and the transfer queue are shared by every test on the stack, so the
//! handler sends to a private queue here and only this test's company is looked at.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{json, Value};
use tillbridge::aws_lambda_events::event::eventbridge::EventBridgeEvent;
use tillbridge::config::QueueUrls;
use tillbridge::connection::PosProduct;
use tillbridge::location::record::new_location;
use tillbridge::location::UpstreamLocation;
use tillbridge::queue::sqs::SqsQueue;
use tillbridge::queue::CORRELATION_ATTRIBUTE;
use tillbridge::store::Condition;
use tillbridge::transfer::TransferRequest;
use tillbridge_tests::{unique_company, TestEnv};

/// (location, business date, force_refresh) → request uuid.
type Received = BTreeMap<(String, String, bool), String>;

struct Site {
    id: &'static str,
    timezone: &'static str,
    storage_unit: Option<&'static str>,
    activated: bool,
    auto_issue: bool,
}

const SITES: [Site; 5] = [
    Site {
        id: "soho",
        timezone: "Europe/London",
        storage_unit: Some("su-soho"),
        activated: true,
        auto_issue: true,
    },
    Site {
        id: "ponsonby",
        timezone: "Pacific/Auckland",
        storage_unit: Some("su-ponsonby"),
        activated: true,
        auto_issue: true,
    },
    Site {
        id: "paused",
        timezone: "Europe/London",
        storage_unit: Some("su-paused"),
        activated: true,
        auto_issue: false,
    },
    Site {
        id: "not-activated",
        timezone: "Europe/London",
        storage_unit: Some("su-new"),
        activated: false,
        auto_issue: true,
    },
    // Active with auto-issue on but unlinked since: in the index, skipped by the fan-out.
    Site {
        id: "unlinked",
        timezone: "Europe/London",
        storage_unit: None,
        activated: true,
        auto_issue: true,
    },
];

async fn put_locations(deps: &tillbridge::Deps, company: &str) {
    for site in &SITES {
        let mut location = new_location(
            company,
            PosProduct::KSeries,
            &UpstreamLocation {
                location_id: site.id.into(),
                name: site.id.into(),
                business_name: None,
                country: None,
                timezone: Some(site.timezone.into()),
                currency: None,
            },
            "2026-09-01T00:00:00.000Z",
        );
        location.storage_unit_id = site.storage_unit.map(str::to_string);
        location.activated_at = site
            .activated
            .then(|| "2026-09-01T00:00:00.000Z".to_string());
        location.auto_issue = site.auto_issue;
        deps.store
            .put(location.to_item().unwrap(), Condition::NotExists)
            .await
            .unwrap();
    }
}

/// The repository's sample schedule event at another scheduled time.
fn event_at(time: &str, detail: Value) -> EventBridgeEvent {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/daily-fanout.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["time"] = json!(time);
    event["detail"] = detail;
    serde_json::from_value(event).unwrap()
}

async fn invoke(deps: &tillbridge::Deps, event: EventBridgeEvent) {
    tillbridge_local::host::functions::scheduled("daily-fanout", deps, event)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "daily-fanout failed: {}",
                tillbridge_local::host::functions::describe(e)
            )
        });
}

/// Drains the private queue and returns this company's requests, checking each message's
/// envelope on the way.
async fn drain(env: &TestEnv, url: &str, company: &str, requested_at: &str) -> Received {
    let sqs = env.sqs().await;
    let mut received = Received::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            return received;
        }
        for message in messages {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            let request: TransferRequest = serde_json::from_str(message.body().unwrap()).unwrap();
            if request.company_id != company {
                continue; // another test's location in the shared index
            }
            let correlation = message
                .message_attributes()
                .and_then(|a| a.get(CORRELATION_ATTRIBUTE))
                .and_then(|v| v.string_value())
                .unwrap_or_default();
            assert_eq!(correlation, request.request_uuid);
            assert_eq!(request.attempt, 1);
            assert_eq!(request.requested_at, requested_at);
            assert!(request.check_ids().is_ok(), "{request:?}");
            let key = (
                request.location_id.clone(),
                request.business_date.clone().unwrap(),
                request.force_refresh,
            );
            assert!(
                received.insert(key, request.request_uuid.clone()).is_none(),
                "sent twice in one run: {request:?}"
            );
        }
    }
}

/// The day itself, then the three before it as re-checks.
fn expected(location: &str, dates: [&str; 4]) -> Vec<(String, String, bool)> {
    dates
        .iter()
        .enumerate()
        .map(|(i, d)| (location.to_string(), d.to_string(), i > 0))
        .collect()
}

fn keys(received: &Received) -> Vec<(String, String, bool)> {
    received.keys().cloned().collect::<Vec<_>>()
}

fn sorted(mut list: Vec<(String, String, bool)>) -> Vec<(String, String, bool)> {
    list.sort();
    list
}

#[tokio::test]
async fn closed_days_are_enqueued_with_rechecks_once_per_request_id() {
    let env = TestEnv::http().await;
    let company = unique_company("fanout");
    let sqs = env.sqs().await;
    let private = sqs
        .create_queue()
        .queue_name(format!("{company}-transfer"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mut deps = env.deps("daily-fanout").await;
    assert_eq!(
        deps.config.fanout.recheck_days, 3,
        "RECHECK_DAYS from the template"
    );
    deps.queue = Arc::new(SqsQueue::new(
        sqs.clone(),
        QueueUrls {
            transfer: private.clone(),
            ..deps.config.queues.clone()
        },
    ));
    put_locations(&deps, &company).await;

    // Sunday 25 October 2026: London falls back from BST to GMT at 01:00 UTC, so Saturday's
    // business day (cutoff 04:00) closes at 04:00 GMT = 04:00 UTC, not at 03:00 UTC as it
    // did all summer. Nothing of this company closes in the hour to 03:05 UTC.
    invoke(&deps, event_at("2026-10-25T03:05:00Z", json!({}))).await;
    assert!(drain(&env, &private, &company, "2026-10-25T03:05:00.000Z")
        .await
        .is_empty());

    invoke(&deps, event_at("2026-10-25T04:05:00Z", json!({}))).await;
    let london = drain(&env, &private, &company, "2026-10-25T04:05:00.000Z").await;
    assert_eq!(
        keys(&london),
        sorted(expected(
            "soho",
            ["2026-10-24", "2026-10-23", "2026-10-22", "2026-10-21"]
        ))
    );

    // The schedule delivered twice (at-least-once): the same request ids, so the transfer
    // engine's per-(request, attempt) log absorbs the copies.
    invoke(&deps, event_at("2026-10-25T04:05:00Z", json!({}))).await;
    let duplicate = drain(&env, &private, &company, "2026-10-25T04:05:00.000Z").await;
    assert_eq!(duplicate, london);

    // Auckland is on NZDT (UTC+13) until April: Sunday 25 October's business day closes on
    // Monday 26 at 04:00 NZDT = Sunday 25 at 15:00 UTC. The detail is a string here, as in
    // EventBridge Scheduler's default payload.
    invoke(&deps, event_at("2026-10-25T15:05:00Z", json!("{}"))).await;
    let auckland = drain(&env, &private, &company, "2026-10-25T15:05:00.000Z").await;
    assert_eq!(
        keys(&auckland),
        sorted(expected(
            "ponsonby",
            ["2026-10-25", "2026-10-24", "2026-10-23", "2026-10-22"]
        ))
    );
    let mut all: Vec<&String> = london.values().chain(auckland.values()).collect();
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        8,
        "request ids are distinct per location and date"
    );

    // An operator's catch-up over the same 12 hours re-plans both closings with the same ids.
    invoke(
        &deps,
        event_at("2026-10-25T15:05:00Z", json!({"look_back_hours": 12})),
    )
    .await;
    let caught_up = drain(&env, &private, &company, "2026-10-25T15:05:00.000Z").await;
    let mut both = london.clone();
    both.extend(auckland.clone());
    assert_eq!(caught_up, both);

    // Pausing auto-issue through the admin API takes the location out of the fan-out.
    let (status, paused) = env
        .client(&company)
        .patch(
            &format!("/v1/companies/{company}/locations/soho"),
            &json!({"auto_issue": false}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{paused}");
    invoke(&deps, event_at("2026-10-25T04:05:00Z", json!({}))).await;
    assert!(drain(&env, &private, &company, "2026-10-25T04:05:00.000Z")
        .await
        .is_empty());

    sqs.delete_queue().queue_url(&private).send().await.unwrap();
}
