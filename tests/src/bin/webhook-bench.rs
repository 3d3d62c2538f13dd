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

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark binary, not a service

use std::time::{Duration, Instant};

use lightspeed_sim::data::retail::state_of;
use serde_json::json;
use tillbridge_local::lightspeed::X_CLIENT_SECRET;
use tillbridge_tests::TestEnv;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Receives and deletes every message on `queue` (not timed).
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) -> usize {
    let mut drained = 0;
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
            return drained;
        }
        for message in messages {
            drained += 1;
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::main]
async fn main() {
    let deliveries: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let (env, company) = TestEnv::connected("bench-wh", "x_series").await;
    let (_, integration) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/x_series"))
        .await
        .unwrap();
    let domain = integration["domain_prefix"].as_str().unwrap().to_string();
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
    let dir = tillbridge_local::paths::root().join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("webhook-bench.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    );
}
