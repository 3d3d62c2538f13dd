//! The embedded-metric-format lines a real transfer writes (captured from the process's
//! metric sink while the local host runs the admin API's manual transfer) carry what the
//! transfer did: lines processed and unmapped, ledger entries created (counted again in
//! the ledger), no failure, and a latency and duration within the request's wall time.

use std::time::Instant;

use serde_json::Value;
use tillbridge_tests::fixture::TransferFixture;

#[tokio::test]
async fn a_real_transfer_emits_emf_matching_what_it_did() {
    let metrics = tillbridge::metrics::capture();
    let fixture = TransferFixture::new("emf").await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let date = "2026-02-12";

    let started = Instant::now();
    let (status, result) = fixture.transfer(&location, date, true).await;
    let wall_ms = started.elapsed().as_millis() as u64;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["success"], true, "{result}");

    let mine: Vec<Value> = metrics
        .records()
        .into_iter()
        .filter(|r| {
            r["company_id"] == fixture.company.as_str()
                && r["location_id"] == location.as_str()
                && r["business_date"] == date
                && r.get("Transfers").is_some()
        })
        .collect();
    assert_eq!(mine.len(), 1, "one line per transfer attempt: {mine:?}");
    let line = &mine[0];
    println!("EMF: {line}");

    // The directive: namespace, the metrics with their units, the aggregate dimension set.
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "tillbridge");
    assert_eq!(directive["Dimensions"], serde_json::json!([[]]));
    let units: std::collections::BTreeMap<String, String> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Unit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (name, unit) in [
        ("LinesProcessed", "Count"),
        ("UnmappedLines", "Count"),
        ("TransfersFailed", "Count"),
        ("LedgerEntriesCreated", "Count"),
        ("TransferLatency", "Milliseconds"),
        ("TransferDuration", "Milliseconds"),
    ] {
        assert_eq!(units.get(name).map(String::as_str), Some(unit), "{name}");
        assert!(line[name].is_u64(), "{name} is a number: {line}");
    }
    let timestamp = line["_aws"]["Timestamp"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - timestamp).abs() < 600_000);

    // The figures are what the transfer did.
    let stats = &result["stats"];
    assert_eq!(line["LinesProcessed"], stats["lines_processed"]);
    assert_eq!(
        line["UnmappedLines"],
        stats["skipped_by_reason"]["unmapped"].as_u64().unwrap_or(0)
    );
    assert!(
        line["UnmappedLines"].as_u64().unwrap() > 0,
        "one SKU in five is unmapped"
    );
    let truth = fixture.ground_truth(&location, date).await;
    let lines_sold = truth["lineCount"].as_u64().unwrap();
    assert!(
        line["LinesProcessed"].as_u64().unwrap() + line["UnmappedLines"].as_u64().unwrap()
            <= lines_sold,
        "{line} vs {lines_sold} lines sold"
    );
    assert!(line["LinesProcessed"].as_u64().unwrap() > 0);
    let entries = fixture.ledger_entries(&location, date).await;
    assert_eq!(line["LedgerEntriesCreated"], entries.len() as u64);
    assert_eq!(line["TransfersFailed"], 0);
    assert_eq!(line["Transfers"], 1);
    assert_eq!(line["status"], "success");
    assert!(line["TransferDuration"].as_u64().unwrap() <= wall_ms);
    assert!(line["TransferLatency"].as_u64().unwrap() <= wall_ms + 1000);
}
