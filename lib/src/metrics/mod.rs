//! CloudWatch metrics in the embedded metric format (EMF, SPEC C13): one JSON line per
//! emission, `_aws.CloudWatchMetrics` naming the namespace, dimension sets and metrics with
//! their units, written to stdout, which Lambda sends to CloudWatch Logs; CloudWatch turns
//! the lines into metrics. No API call, no client, nothing to fail a request.
//!
//! Each metric is published by its dimension (function, status or queue) and without one
//! (the empty dimension set), which is what the template's alarms watch. Ids of the work
//! (company, location, date) travel as properties: searchable in the logs, never
//! dimensions (each dimension value is a metric of its own).
//!
//! Lines go through one process-wide [`Sink`]: stdout by default; the local host writes them
//! to a file and tests [`capture`] them.

use std::sync::{Arc, Mutex, RwLock};

use serde_json::{json, Map, Value};

use crate::transfer::log::{TransferLog, TransferStatus};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "tillbridge";

/// Metric names (the template's alarms name them too).
pub mod name {
    pub const LINES_PROCESSED: &str = "LinesProcessed";
    pub const UNMAPPED_LINES: &str = "UnmappedLines";
    pub const TRANSFER_LATENCY: &str = "TransferLatency";
    pub const TRANSFER_DURATION: &str = "TransferDuration";
    pub const TRANSFERS: &str = "Transfers";
    pub const TRANSFERS_FAILED: &str = "TransfersFailed";
    pub const LEDGER_ENTRIES_CREATED: &str = "LedgerEntriesCreated";
    pub const RETRIES: &str = "Retries";
    pub const JOURNAL_POSTINGS: &str = "JournalPostings";
    pub const RECONCILIATION_EXCEPTIONS: &str = "ReconciliationExceptions";
    pub const DEAD_LETTER_DEPTH: &str = "DeadLetterDepth";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Where EMF lines go.
pub trait Sink: Send + Sync {
    fn write(&self, line: &str);
}

/// Standard output, one line each (what Lambda ships to CloudWatch Logs).
pub struct Stdout;

impl Sink for Stdout {
    fn write(&self, line: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // A closed stdout loses the metric, never the work.
        let _ = writeln!(out, "{line}");
    }
}

/// Any writer (a log file of the local host).
pub struct WriterSink<W>(pub Mutex<W>);

impl<W: std::io::Write + Send> Sink for WriterSink<W> {
    fn write(&self, line: &str) {
        if let Ok(mut writer) = self.0.lock() {
            let _ = writeln!(writer, "{line}");
        }
    }
}

/// The lines emitted since [`capture`] installed it.
#[derive(Default)]
pub struct Captured {
    lines: Mutex<Vec<String>>,
}

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The lines parsed as JSON (an unparsable line would be a bug; it is left out).
    pub fn records(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Sink for Captured {
    fn write(&self, line: &str) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line.to_string());
        }
    }
}

static SINK: RwLock<Option<Arc<dyn Sink>>> = RwLock::new(None);

/// Sends every later line to `sink`.
pub fn set_sink(sink: Arc<dyn Sink>) {
    if let Ok(mut current) = SINK.write() {
        *current = Some(sink);
    }
}

/// As [`set_sink`], unless a sink is already set (a test's capture stays in place).
pub fn set_sink_if_unset(sink: Arc<dyn Sink>) {
    if let Ok(mut current) = SINK.write() {
        if current.is_none() {
            *current = Some(sink);
        }
    }
}

/// Captures every later line of this process (for tests).
pub fn capture() -> Arc<Captured> {
    let captured = Arc::new(Captured::default());
    set_sink(captured.clone());
    captured
}

fn emit(line: &str) {
    let sink = SINK.read().ok().and_then(|s| s.clone());
    match sink {
        Some(sink) => sink.write(line),
        None => Stdout.write(line),
    }
}

/// One EMF line: `metrics` published under each dimension set (dimension names from
/// `dimensions`, plus the empty set), with `dimensions` and `properties` as members.
pub fn line(
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, Unit, Value)],
    properties: &Map<String, Value>,
) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let sets: Vec<Vec<&str>> = if names.is_empty() {
        vec![Vec::new()]
    } else {
        vec![names, Vec::new()]
    };
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
        .collect();
    let mut record = properties.clone();
    for (name, value) in dimensions {
        record.insert((*name).to_string(), Value::String((*value).to_string()));
    }
    for (name, _, value) in metrics {
        record.insert((*name).to_string(), value.clone());
    }
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(record).to_string()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn publish(
    dimensions: &[(&str, &str)],
    metrics: &[(&str, Unit, Value)],
    properties: Map<String, Value>,
) {
    emit(&line(now_ms(), dimensions, metrics, &properties));
}

fn properties(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
        .collect()
}

/// Milliseconds from `from` to `to` (RFC 3339 times), when both read and `to` is later.
fn millis_between(from: &str, to: &str) -> Option<i64> {
    let from = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let to = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((to - from).num_milliseconds().max(0))
}

/// A transfer attempt that was logged: lines processed, unmapped lines, ledger entries,
/// whether it failed or queued a retry, its latency (requested → logged) and its duration.
pub fn transfer(log: &TransferLog, duration: std::time::Duration) {
    let stats = log.stats.as_ref();
    let lines = stats.map_or(0, |s| s.lines_processed);
    let unmapped = stats.map_or(0, |s| {
        s.skipped_by_reason
            .get(&crate::ledger::derive::SkipReason::Unmapped)
            .copied()
            .unwrap_or(0)
    });
    let created = stats.map_or(0, |s| s.ledger_entries_created);
    let failed = u64::from(log.status == TransferStatus::Failed);
    let retried = u64::from(log.retry.is_some());
    let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let mut metrics = vec![
        (name::TRANSFERS, Unit::Count, json!(1)),
        (name::TRANSFERS_FAILED, Unit::Count, json!(failed)),
        (name::LINES_PROCESSED, Unit::Count, json!(lines)),
        (name::UNMAPPED_LINES, Unit::Count, json!(unmapped)),
        (name::LEDGER_ENTRIES_CREATED, Unit::Count, json!(created)),
        (name::RETRIES, Unit::Count, json!(retried)),
        (
            name::TRANSFER_DURATION,
            Unit::Milliseconds,
            json!(duration_ms),
        ),
    ];
    if let Some(latency) = millis_between(&log.requested_at, &log.finished_at) {
        metrics.push((name::TRANSFER_LATENCY, Unit::Milliseconds, json!(latency)));
    }
    let status = serde_json::to_value(log.status).unwrap_or_default();
    let mut props = properties(&[
        ("company_id", &log.company_id),
        ("location_id", &log.location_id),
        ("business_date", &log.date),
        ("request_uuid", &log.request_uuid),
        ("log_id", &log.log_id),
    ]);
    props.insert("status".into(), status);
    props.insert("attempt".into(), json!(log.attempt));
    if let Some(err) = &log.error {
        props.insert("error_code".into(), Value::String(err.code.clone()));
    }
    publish(&[], &metrics, props);
}

/// A queue record that failed and goes back to its queue (redelivery), or work a function
/// sent back itself with a delay.
pub fn retry(function: &str, code: &str, message_id: &str) {
    publish(
        &[("Function", function)],
        &[(name::RETRIES, Unit::Count, json!(1))],
        properties(&[("error_code", code), ("message_id", message_id)]),
    );
}

/// A journal the poster recorded, by its status (`posted`, `blocked`, `failed`, …).
pub fn journal_posting(status: &str, company_id: &str, location_id: &str, business_date: &str) {
    publish(
        &[("Status", status)],
        &[(name::JOURNAL_POSTINGS, Unit::Count, json!(1))],
        properties(&[
            ("company_id", company_id),
            ("location_id", location_id),
            ("business_date", business_date),
        ]),
    );
}

/// The exceptions a reconciliation of one location and day found (0 when it reconciled).
pub fn reconciliation_exceptions(
    count: usize,
    company_id: &str,
    location_id: &str,
    business_date: &str,
) {
    publish(
        &[],
        &[(name::RECONCILIATION_EXCEPTIONS, Unit::Count, json!(count))],
        properties(&[
            ("company_id", company_id),
            ("location_id", location_id),
            ("business_date", business_date),
        ]),
    );
}

/// Messages held by a dead-letter queue.
pub fn dead_letter_depth(queue: &str, depth: u64) {
    publish(
        &[("Queue", queue)],
        &[(name::DEAD_LETTER_DEPTH, Unit::Count, json!(depth))],
        Map::new(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_emf_with_every_dimension_set_and_unit() {
        let mut props = Map::new();
        props.insert("company_id".into(), json!("acme"));
        let text = line(
            1_700_000_000_000,
            &[("Queue", "transfer-dlq")],
            &[
                (name::DEAD_LETTER_DEPTH, Unit::Count, json!(3)),
                (name::TRANSFER_LATENCY, Unit::Milliseconds, json!(12)),
            ],
            &props,
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        let aws = &value["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "tillbridge");
        assert_eq!(directive["Dimensions"], json!([["Queue"], []]));
        assert_eq!(
            directive["Metrics"],
            json!([
                {"Name": "DeadLetterDepth", "Unit": "Count"},
                {"Name": "TransferLatency", "Unit": "Milliseconds"},
            ])
        );
        assert_eq!(value["Queue"], "transfer-dlq");
        assert_eq!(value["DeadLetterDepth"], 3);
        assert_eq!(value["TransferLatency"], 12);
        assert_eq!(value["company_id"], "acme");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn latency_reads_rfc3339_times() {
        assert_eq!(
            millis_between("2026-02-01T10:00:00.000Z", "2026-02-01T10:00:01.250Z"),
            Some(1250)
        );
        assert_eq!(millis_between("nonsense", "2026-02-01T10:00:01Z"), None);
    }
}
