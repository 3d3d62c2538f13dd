//! Webhook receipt benchmark (SPEC C8): prints figures, asserts nothing but that every
//! delivery was taken.
//!
//! `cargo run --release -p tillbridge-tests --bin webhook-bench -- [deliveries]`: a company
//! connected to the simulator's X-Series store, then `deliveries` (default 2,000) signed
//! `sale.update` deliveries posted one after another to the local host's
//! `/webhooks/lightspeed` — signature check, form parse, retailer lookup and one message on
//! the sales-events queue each — with the round-trip latency of each (p50, p90, p99, max).
//! The queue is drained every 100 deliveries, as the sales-events worker would keep it.
//! Writes `target/bench/webhook-bench.json`.
//!
//! `… --bin webhook-bench -- cost [sales]` (default 1,000): each of an outlet's most recent
//! sales delivered once and worked end to end by the transfer worker; prints Lightspeed
//! requests and DynamoDB requests and write units per sale
//! (`target/bench/webhook-bench-cost.json`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark binary, not a service

use std::time::{Duration, Instant};

use lightspeed_sim::data::retail::state_of;
use serde_json::json;
use tillbridge_local::lightspeed::X_CLIENT_SECRET;
use tillbridge_tests::counting_store::counting_deps;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Receives and deletes every message on `queue` (not timed).
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) -> usize {
    drain_bodies(sqs, queue, None).await.len()
}

/// Every message on `queue` now, deleted; the bodies of `company`'s kept (the queue is shared
/// with every other company connected to the store), or all without one.
async fn drain_bodies(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    company: Option<&str>,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for message in messages {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
            if company.is_none_or(|c| body["company_id"] == c) {
                out.push(body);
            }
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
    }
}

/// The transfer-worker handler on one message body, as its event source would call it.
async fn work(deps: &tillbridge::Deps, body: &serde_json::Value) {
    let path = tillbridge_local::paths::root().join("events/transfer-worker.json");
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["body"] = json!(body.to_string());
    event["Records"][0]["messageId"] = json!(uuid::Uuid::new_v4().to_string());
    let event = serde_json::from_value(event).unwrap();
    let response = tillbridge_local::host::functions::queue("transfer-worker", deps, event)
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

/// `cost [sales]`: the outlet's most recent `sales` sales (that moved stock), each one signed
/// `sale.update` delivery worked end to end by the transfer worker (the re-fetch, then its
/// day's transfer through the sales mirror), with the Lightspeed requests (counted by the
/// simulator) and the worker's DynamoDB requests and write units per sale.
async fn cost(wanted: usize) {
    let (env, company, domain) = tillbridge_tests::fixture::connected_store("bench-cost").await;
    let (outlet, _, _) = tillbridge_tests::fixture::activated_outlet(&env, &company).await;
    let (deps, counting) = counting_deps(env.deps("transfer-worker").await);
    let mut sales: Vec<(chrono::DateTime<chrono::Utc>, String, u64)> = {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        store
            .sales
            .iter()
            .filter(|s| s.outlet_id == outlet)
            .filter_map(|s| {
                Some((
                    s.stock_moved_at(now)?,
                    s.id.clone(),
                    s.current(now)?.version?,
                ))
            })
            .collect()
    };
    sales.sort();
    let sales = &sales[sales.len().saturating_sub(wanted + 1)..];
    let sqs = env.sqs().await;
    let (events_queue, transfer_queue) = (
        env.queue_url("SalesEventsQueue"),
        env.queue_url("TransferQueue"),
    );
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/lightspeed", env.host.base_url);
    let one = |id: String, version: u64| {
        let (http, url, domain, sqs) = (&http, &url, &domain, &sqs);
        let (events_queue, transfer_queue, deps, company) =
            (&events_queue, &transfer_queue, &deps, &company);
        async move {
            let payload = json!({"id": id, "version": version, "status": "CLOSED"});
            let body =
                lightspeed_sim::webhooks::form_body("sale.update", domain, &payload.to_string());
            let signature =
                lightspeed_sim::webhooks::signature_header(X_CLIENT_SECRET, body.as_bytes());
            let response = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            for event in drain_bodies(sqs, events_queue, Some(company)).await {
                work(deps, &event).await;
            }
            for request in drain_bodies(sqs, transfer_queue, Some(company)).await {
                work(deps, &request).await;
            }
        }
    };
    // The first sale also walks the store's feed into the mirror: counted apart.
    let (_, first_id, first_version) = sales[0].clone();
    let walk_requests = env.sim().state().rate.total();
    one(first_id, first_version).await;
    let walk_requests = env.sim().state().rate.total() - walk_requests;
    counting.reset();
    let before = env.sim().state().rate.total();
    let started = Instant::now();
    for (n, (_, id, version)) in sales[1..].iter().enumerate() {
        // Lightspeed's 5-minute limit is the simulator's, not what this measures.
        if n % 200 == 199 {
            env.sim().state().rate.reset();
        }
        one(id.clone(), *version).await;
    }
    let wall = started.elapsed();
    let n = (sales.len() - 1).max(1) as f64;
    let requests = (env.sim().state().rate.total() - before) as f64;
    println!(
        "Per-sale cost, {} sales fed by webhooks (the feed's first walk into the mirror: {walk_requests} requests, apart)",
        sales.len() - 1
    );
    println!(
        "  Lightspeed {:.2} requests per sale; {:.0} ms per sale through the worker",
        requests / n,
        wall.as_secs_f64() * 1000.0 / n
    );
    let figures = counting.figures();
    let per_sale: Vec<String> = figures
        .iter()
        .map(|(name, count)| format!("{name} {:.2}", *count as f64 / n))
        .collect();
    println!("  DynamoDB per sale: {}", per_sale.join(", "));
    let mut report = serde_json::Map::new();
    report.insert("sales".into(), json!(sales.len() - 1));
    report.insert("feed_walk_requests".into(), json!(walk_requests));
    report.insert("lightspeed_requests_per_sale".into(), json!(requests / n));
    for (name, count) in figures {
        report.insert(
            format!("dynamodb_{name}_per_sale").replace(' ', "_"),
            json!(count as f64 / n),
        );
    }
    write_report(
        "webhook-bench-cost.json",
        &serde_json::Value::Object(report),
    );
}

fn write_report(name: &str, report: &serde_json::Value) {
    let dir = tillbridge_local::paths::root().join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join(name),
        serde_json::to_string_pretty(report).unwrap(),
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("cost") {
        let wanted = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
        return cost(wanted).await;
    }
    let deliveries: usize = first.and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let (env, _, domain) = tillbridge_tests::fixture::connected_store("bench-wh").await;
    let sales: Vec<(String, u64)> = {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        store
            .sales
            .iter()
            .filter_map(|s| s.current(now).map(|r| (s, r)))
            .filter(|(_, r)| state_of(r.status).0 == "closed")
            .map(|(s, r)| (s.id.clone(), r.version.unwrap_or(1)))
            .collect()
    };
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/lightspeed", env.host.base_url);
    let mut latencies = Vec::with_capacity(deliveries);
    let mut queued = 0;
    let started = Instant::now();
    let sqs = env.sqs().await;
    let queue = env.queue_url("SalesEventsQueue");
    let mut drain_time = Duration::ZERO;
    for n in 0..deliveries {
        // What the sales-events worker would do: keep the queue short (moto's sends slow
        // down with its depth, which would measure the local queue, not the receipt).
        if n % 100 == 99 {
            let drained = Instant::now();
            drain(&sqs, &queue).await;
            drain_time += drained.elapsed();
        }
        let (id, version) = &sales[n % sales.len()];
        // Each delivery a new version, so each is its own sales-events message.
        let payload = json!({"id": id, "version": version + n as u64, "status": "CLOSED"});
        let body =
            lightspeed_sim::webhooks::form_body("sale.update", &domain, &payload.to_string());
        let signature =
            lightspeed_sim::webhooks::signature_header(X_CLIENT_SECRET, body.as_bytes());
        let sent = Instant::now();
        let response = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        latencies.push(sent.elapsed());
        assert_eq!(status, 200, "{answer}");
        if answer["status"] == "queued" {
            queued += 1;
        }
    }
    drain(&sqs, &queue).await;
    let wall = started.elapsed() - drain_time;
    latencies.sort();
    let (p50, p90, p99) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
    );
    let max = latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!("Webhook receipt, {deliveries} signed sale.update deliveries to the local host");
    println!("  latency p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    println!(
        "  {queued} queued on sales-events; {:.0} deliveries/s one at a time",
        deliveries as f64 / wall.as_secs_f64()
    );
    let report = json!({"deliveries": deliveries, "queued": queued, "p50_ms": p50, "p90_ms": p90,
        "p99_ms": p99, "max_ms": max, "wall_s": wall.as_secs_f64()});
    write_report("webhook-bench.json", &report);
}
