//! X-Series webhooks end to end: signed form deliveries to the local host's
//! `/webhooks/lightspeed`, the private sales-events queue, and the transfer-worker handler
//! that turns a completed sale into its outlet day's transfer. Signatures are made with the
//! simulator's own signer and the app's client secret.

use lightspeed_sim::data::retail::state_of;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge::aws_lambda_events::event::sqs::SqsEvent;
use tillbridge::location::business_day::{business_date, DayMode};
use tillbridge_local::lightspeed::X_CLIENT_SECRET;
use tillbridge_tests::fixture::{activated_outlet, connected_store, decimal};
use tillbridge_tests::TestEnv;

fn form(kind: &str, domain_prefix: &str, payload: &Value) -> Vec<u8> {
    lightspeed_sim::webhooks::form_body(kind, domain_prefix, &payload.to_string()).into_bytes()
}

fn signed(body: &[u8]) -> String {
    lightspeed_sim::webhooks::signature_header(X_CLIENT_SECRET, body)
}

/// POSTs a delivery to the host's webhook route; (status, body).
async fn deliver(env: &TestEnv, body: Vec<u8>, signature: Option<String>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/lightspeed", env.host.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("x-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every message on one of this environment's private queues, removed.
async fn drain(env: &TestEnv, logical_id: &str) -> Vec<Value> {
    let sqs = env.sqs().await;
    let url = env.queue_url(logical_id);
    let mut out = Vec::new();
    for _ in 0..3 {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in received.messages.unwrap_or_default() {
            out.push(serde_json::from_str(message.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    out
}

/// `company`'s messages on one of this environment's private queues, removed: receives until
/// `count` have arrived (a loaded queue may hand them out over several receives), then a
/// last receive shows whether more came.
async fn drain_count(env: &TestEnv, logical_id: &str, company: &str, count: usize) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while out.len() < count && std::time::Instant::now() < deadline {
        out.extend(
            drain(env, logical_id)
                .await
                .into_iter()
                .filter(|m| m["company_id"] == company),
        );
    }
    out.extend(
        drain(env, logical_id)
            .await
            .into_iter()
            .filter(|m| m["company_id"] == company),
    );
    out
}

/// Every message on the queue now, `company`'s kept: the queue is shared with every other
/// company connected to the simulator's store (a delivery is queued once per company).
async fn drain_all(env: &TestEnv, logical_id: &str, company: &str) -> Vec<Value> {
    let sqs = env.sqs().await;
    let url = env.queue_url(logical_id);
    let mut out = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        empty = if messages.is_empty() { empty + 1 } else { 0 };
        let mut batch = Vec::new();
        for (n, message) in messages.iter().enumerate() {
            let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            if body["company_id"] == company {
                out.push(body);
            }
            batch.push(
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .receipt_handle(message.receipt_handle().unwrap())
                    .build()
                    .unwrap(),
            );
        }
        if !batch.is_empty() {
            sqs.delete_message_batch()
                .queue_url(&url)
                .set_entries(Some(batch))
                .send()
                .await
                .unwrap();
        }
    }
    out
}

/// The sales-events messages of `company` once the simulator's delivery has arrived.
async fn delivered_events(env: &TestEnv, company: &str) -> Vec<Value> {
    tillbridge_tests::eventually(
        "the delivered webhook",
        std::time::Duration::from_secs(20),
        || async {
            let mine: Vec<Value> = drain(env, "SalesEventsQueue")
                .await
                .into_iter()
                .filter(|m| m["company_id"] == company)
                .collect();
            (!mine.is_empty()).then_some(mine)
        },
    )
    .await
}

/// The transfer-worker handler on one message body, as its event source would call it.
async fn work(env: &TestEnv, body: &Value) {
    assert!(try_work(env, body).await, "the message was worked");
}

/// [`work`], saying whether the handler finished the message (`false`: it asked for a
/// redelivery).
async fn try_work(env: &TestEnv, body: &Value) -> bool {
    try_work_with(&env.deps("transfer-worker").await, body).await
}

/// [`try_work`] with the given deps.
async fn try_work_with(deps: &tillbridge::Deps, body: &Value) -> bool {
    let path = tillbridge_local::paths::root().join("events/transfer-worker.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["body"] = json!(body.to_string());
    event["Records"][0]["messageId"] = json!(uuid::Uuid::new_v4().to_string());
    let event: SqsEvent = serde_json::from_value(event).unwrap();
    let response = tillbridge_local::host::functions::queue("transfer-worker", deps, event)
        .await
        .unwrap();
    response.batch_item_failures.is_empty()
}

#[tokio::test]
async fn bad_signatures_sizes_and_forms_are_refused_and_nothing_is_queued() {
    let (env, _company, domain) = connected_store("wh-refuse").await;
    let payload = json!({"id": "0f6e2a77-5b1c-4a53-9c11-8d2f3b4a5c6d", "version": 7});
    let body = form("sale.update", &domain, &payload);
    let good = signed(&body);
    let digest = good
        .trim_start_matches("signature=")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let foreign = lightspeed_sim::webhooks::signature_header("another-apps-secret", &body);
    let refusals = [
        (None, 401),
        (Some("signature=00,algorithm=HMAC-SHA256".to_string()), 401),
        (
            Some(format!("signature={},algorithm=HMAC-SHA256", &digest[..32])),
            401,
        ),
        (Some(format!("signature={digest},algorithm=HMAC-MD5")), 401),
        (Some(foreign), 401),
        (Some("nonsense".to_string()), 401),
    ];
    for (signature, want) in refusals {
        let (status, reply) = deliver(&env, body.clone(), signature.clone()).await;
        assert_eq!(status, want, "{signature:?}: {reply}");
        assert_eq!(
            reply["error"]["code"], "webhook_signature_invalid",
            "{reply}"
        );
    }
    // A body changed after signing.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b"&x=1");
    assert_eq!(deliver(&env, tampered, Some(good.clone())).await.0, 401);
    // Signed garbage: 400.
    for garbage in [
        b"\xff\xfe\x00".to_vec(),
        b"type=sale.update&payload=%7Bnot".to_vec(),
    ] {
        let (status, reply) = deliver(&env, garbage.clone(), Some(signed(&garbage))).await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["error"]["code"], "webhook_malformed");
    }
    // Oversized: 413 before anything else.
    let huge = vec![b'a'; 2 * 1024 * 1024];
    assert_eq!(
        deliver(&env, huge.clone(), Some(signed(&huge))).await.0,
        413
    );
    assert!(
        drain(&env, "SalesEventsQueue").await.is_empty(),
        "nothing queued"
    );

    // Unknown retailer and unhandled types: acknowledged so Lightspeed stops retrying.
    let stranger = form("sale.update", "nobody-here", &payload);
    let (status, reply) = deliver(&env, stranger.clone(), Some(signed(&stranger))).await;
    assert_eq!(
        (status, reply["status"].as_str()),
        (200, Some("ignored")),
        "{reply}"
    );
    assert_eq!(reply["reason"], "unknown_retailer");
    let customer = form("customer.update", &domain, &payload);
    let (status, reply) = deliver(&env, customer.clone(), Some(signed(&customer))).await;
    assert_eq!(
        (status, reply["reason"].as_str()),
        (200, Some("unhandled_type")),
        "{reply}"
    );
    assert!(drain(&env, "SalesEventsQueue").await.is_empty());

    // The genuine delivery: one message, keyed by type, sale and version.
    let (status, reply) = deliver(&env, body, Some(good)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["status"], "queued");
    let queued = drain(&env, "SalesEventsQueue").await;
    let ours: Vec<&Value> = queued
        .iter()
        .filter(|m| m["domain_prefix"] == domain.as_str())
        .collect();
    assert!(!ours.is_empty());
    assert!(ours
        .iter()
        .all(|m| m["dedupe_key"] == "sale.update:0f6e2a77-5b1c-4a53-9c11-8d2f3b4a5c6d:7"));
}

#[tokio::test]
async fn a_completed_sale_webhook_transfers_its_outlet_day_once() {
    let (env, company, domain) = connected_store("wh-sale").await;
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (outlet, tz, _unit) = activated_outlet(&env, &company).await;
    // A closed sale of the first outlet, as the simulator's store holds it.
    let (sale_id, version, closed_at) = {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        let (sale, revision) = store
            .sales
            .iter()
            .filter(|s| s.outlet_id == outlet && s.return_for.is_none())
            .filter_map(|s| s.current(now).map(|r| (s, r)))
            .find(|(_, r)| state_of(r.status).0 == "closed")
            .expect("a closed sale");
        let moved = sale.stock_moved_at(now).expect("a closed sale moved stock");
        (sale.id.clone(), revision.version.unwrap(), moved)
    };
    let payload = json!({"id": sale_id, "version": version, "outlet_id": outlet});
    let body = form("sale.update", &domain, &payload);
    for _ in 0..2 {
        let (status, reply) = deliver(&env, body.clone(), Some(signed(&body))).await;
        assert_eq!(status, 200, "{reply}");
    }
    let events = drain_count(&env, "SalesEventsQueue", &company, 2).await;
    assert_eq!(events.len(), 2, "each delivery queued");
    for event in &events {
        work(&env, event).await;
    }
    // Both deliveries asked for the same transfer: the outlet's business day of the sale.
    let requests = drain_count(&env, "TransferQueue", &company, 2).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0]["request_uuid"], requests[1]["request_uuid"]);
    let day = business_date(DayMode::Local { tz, cutoff_hour: 4 }, closed_at).to_string();
    assert_eq!(requests[0]["location_id"], outlet.as_str());
    assert_eq!(requests[0]["business_date"], day.as_str());
    for request in &requests {
        work(&env, request).await;
    }
    let (logs, _) = api
        .list_all(&format!("{base}/locations/{outlet}/transfer-logs"), 50)
        .await
        .unwrap();
    let from_webhook: Vec<&Value> = logs
        .iter()
        .filter(|l| l["request_uuid"] == requests[0]["request_uuid"])
        .collect();
    assert_eq!(from_webhook.len(), 1, "logged once: {logs:?}");
    assert_eq!(from_webhook[0]["success"], true, "{}", from_webhook[0]);
    assert!(
        from_webhook[0]["stats"]["ledger_entries_created"]
            .as_u64()
            .unwrap()
            > 0
    );
    // The day's ledger is complete: a manual re-check of the same day posts nothing.
    recheck_posts_nothing(&env, &company, &outlet, &day).await;
}

/// A manual transfer of the outlet's day, answered 200: its result.
async fn transfer_day(env: &TestEnv, company: &str, outlet: &str, date: &str) -> Value {
    let (status, result) = env
        .client(company)
        .post(
            &format!("/v1/companies/{company}/locations/{outlet}/transfers"),
            &json!({"date": date}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{result}");
    result
}

/// A manual transfer of the outlet's day posts no entry.
async fn recheck_posts_nothing(env: &TestEnv, company: &str, outlet: &str, date: &str) {
    let again = transfer_day(env, company, outlet, date).await;
    assert_eq!(again["stats"]["ledger_entries_created"], 0, "{again}");
}

#[tokio::test]
async fn connecting_subscribes_and_the_simulators_signed_deliveries_are_queued() {
    let (env, company, _domain) = connected_store("wh-subscribe").await;
    let (_, integration) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/x_series"))
        .await
        .unwrap();
    let mut types: Vec<&str> = integration["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|w| assert_eq!(w["status"], "active", "{w}"))
        .map(|w| w["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["product.update", "register_closure.create", "sale.update"]
    );

    // The simulator delivers a completed sale, signed, to the host's webhook route.
    let sale_id = {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        store
            .sales
            .iter()
            .find(|s| {
                s.current(now)
                    .is_some_and(|r| state_of(r.status).0 == "closed")
            })
            .map(|s| s.id.clone())
            .expect("a closed sale")
    };
    let fired = env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/x/webhooks/fire",
            Some(json!({"type": "sale.update", "id": sale_id})),
        )
        .await;
    assert_eq!(fired["webhooksQueued"], 1, "{fired}");
    let queued = delivered_events(&env, &company).await;
    assert_eq!(queued[0]["event_type"], "sale.update");
    assert_eq!(queued[0]["object_id"], sale_id.as_str());
    // The simulator records an attempt once the host's answer is back, which can be just
    // after the message was queued.
    let mut attempts = Value::Null;
    for _ in 0..50 {
        attempts = env
            .sim_control(reqwest::Method::GET, "/_sim/x/webhooks/attempts", None)
            .await;
        if attempts.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        attempts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["status"] == 200),
        "the simulator saw a 200: {attempts}"
    );
}

#[tokio::test]
async fn a_register_closure_is_stored_once_and_listed_for_its_outlet() {
    let (env, company, _domain) = connected_store("wh-closure").await;
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (status, _) = api
        .post(
            &format!("{base}/locations/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (register, outlet) = {
        let store = env.sim().state().x();
        (
            store.registers[0].id.clone(),
            store.registers[0].outlet_id.clone(),
        )
    };
    let fired = env
        .sim_control(
            reqwest::Method::POST,
            &format!("/_sim/x/registers/{register}/close"),
            None,
        )
        .await;
    assert_eq!(fired["webhooksQueued"], 1, "{fired}");
    let events = delivered_events(&env, &company).await;
    assert_eq!(events[0]["event_type"], "register_closure.create");
    // Delivered twice: stored once.
    work(&env, &events[0]).await;
    work(&env, &events[0]).await;
    let (status, page) = api
        .get(&format!("{base}/locations/{outlet}/register-closures"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{page}");
    let closures = page["items"].as_array().unwrap();
    assert_eq!(closures.len(), 1, "{page}");
    assert_eq!(closures[0]["register_id"], register.as_str());
    assert_eq!(closures[0]["outlet_id"], outlet.as_str());
    assert!(closures[0]["closed_at"].is_string(), "{page}");
}

/// Σ quantity sold at `outlet` in its business day `date` (every item maps to one unit of the
/// one ingredient), straight from the simulator's store: closed sales only, returns negative.
fn sold_in_day(
    env: &TestEnv,
    outlet: &str,
    tz: chrono_tz::Tz,
    date: &str,
) -> rust_decimal::Decimal {
    use tillbridge::location::business_day::window;
    let day = window(DayMode::Local { tz, cutoff_hour: 4 }, date.parse().unwrap());
    let now = env.sim().state().clock.now();
    let store = env.sim().state().x();
    let mut total = rust_decimal::Decimal::ZERO;
    for sale in store.sales.iter().filter(|s| s.outlet_id == outlet) {
        if sale.stock_moved_at(now).is_some_and(|at| day.contains(at)) {
            total += sale
                .lines
                .iter()
                .map(|l| l.quantity)
                .sum::<rust_decimal::Decimal>();
        }
    }
    total
}

/// Checks that `requests` transfer exactly `days` (in order), then works each.
async fn work_days(env: &TestEnv, requests: &[Value], days: &[&str]) {
    let mut asked: Vec<&str> = requests
        .iter()
        .map(|r| r["business_date"].as_str().unwrap())
        .collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked, days, "{requests:?}");
    for request in requests {
        work(env, request).await;
    }
}

/// The outlet's latest closed sale (not a return) and the business day its stock left in.
fn latest_closed_sale(env: &TestEnv, outlet: &str, tz: chrono_tz::Tz) -> (String, String) {
    let now = env.sim().state().clock.now();
    let store = env.sim().state().x();
    let (sale, _) = store
        .sales
        .iter()
        .rev()
        .filter(|s| s.outlet_id == outlet && s.return_for.is_none())
        .filter_map(|s| s.current(now).map(|r| (s, r)))
        .find(|(_, r)| state_of(r.status).0 == "closed")
        .expect("a closed sale");
    let moved = sale.stock_moved_at(now).expect("a closed sale moved stock");
    let day = business_date(DayMode::Local { tz, cutoff_hour: 4 }, moved);
    (sale.id.clone(), day.to_string())
}

async fn ledger_sum(env: &TestEnv, company: &str, unit: &str, date: &str) -> rust_decimal::Decimal {
    let (entries, _) = env
        .client(company)
        .list_all(
            &format!("/v1/companies/{company}/ledger?storage_unit_id={unit}&from={date}&to={date}"),
            100,
        )
        .await
        .unwrap();
    entries
        .iter()
        .map(|e| tillbridge_tests::fixture::decimal(&e["quantity"]))
        .sum()
}

#[tokio::test]
async fn the_feed_backstop_catches_a_void_whose_webhook_never_arrived() {
    let (env, company, _domain) = connected_store("wh-backstop").await;
    let (outlet, tz, unit) = activated_outlet(&env, &company).await;
    let (sale_id, date) = latest_closed_sale(&env, &outlet, tz);
    // The day as it stands, transferred.
    transfer_day(&env, &company, &outlet, &date).await;
    let before = sold_in_day(&env, &outlet, tz, &date);
    assert_eq!(ledger_sum(&env, &company, &unit, &date).await, before);

    let deps = env.deps("daily-fanout").await;
    let poll = || async {
        tillbridge::webhook::backstop::poll(
            deps.store.as_ref(),
            deps.queue.as_ref(),
            &deps.lightspeed,
            &company,
            &chrono::Utc::now().to_rfc3339(),
        )
        .await
        .unwrap()
    };
    let first = poll().await;
    assert!(first.initialized && first.pages > 1, "{first:?}");
    assert!(
        first.days_queued.is_empty(),
        "the first poll only finds the top"
    );
    let idle = poll().await;
    assert_eq!(
        (idle.requests, idle.sales),
        (1, 0),
        "an idle hour costs one request"
    );
    assert!(idle.days_queued.is_empty());
    drain(&env, "TransferQueue").await;

    // Voided after close; its webhook goes to the sales-events queue, which nobody works
    // here: dropped.
    env.sim_control(
        reqwest::Method::POST,
        &format!("/_sim/x/sales/{sale_id}/void"),
        None,
    )
    .await;
    let caught = poll().await;
    assert_eq!(
        caught.days_queued,
        vec![(outlet.clone(), date.clone())],
        "{caught:?}"
    );
    assert!(caught.after > idle.after);
    let requests = drain_count(&env, "TransferQueue", &company, 1).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["business_date"], date.as_str());
    assert_eq!(requests[0]["force_refresh"], true);
    work(&env, &requests[0]).await;
    let after = sold_in_day(&env, &outlet, tz, &date);
    assert_ne!(after, before, "the void changed what the day sold");
    assert_eq!(ledger_sum(&env, &company, &unit, &date).await, after);
    let quiet = poll().await;
    assert!(quiet.days_queued.is_empty(), "{quiet:?}");
}

/// Every sale of one outlet day delivered three times in a scrambled order, 30 % of the
/// sales never delivered at all, and the two copies of each transfer the deliveries ask for
/// worked at the same time: the day's ledger equals the store's own count, once.
#[tokio::test]
async fn repeated_scrambled_and_dropped_deliveries_post_the_day_exactly_once() {
    let (env, company, domain) = connected_store("wh-flood").await;
    let (outlet, tz, unit) = activated_outlet(&env, &company).await;
    let mode = DayMode::Local { tz, cutoff_hour: 4 };
    // The busiest recent day of the outlet, from the simulator's store.
    let (date, sales) = {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        let mut by_day: std::collections::BTreeMap<String, Vec<(String, u64)>> =
            std::collections::BTreeMap::new();
        for sale in store.sales.iter().filter(|s| s.outlet_id == outlet) {
            if let (Some(at), Some(current)) = (sale.stock_moved_at(now), sale.current(now)) {
                by_day
                    .entry(business_date(mode, at).to_string())
                    .or_default()
                    .push((sale.id.clone(), current.version.unwrap()));
            }
        }
        by_day
            .into_iter()
            .rev()
            .take(10)
            .max_by_key(|(_, sales)| sales.len())
            .expect("a trading day")
    };
    assert!(sales.len() >= 10, "{date}: {} sales", sales.len());
    // Of the day's first 14 sales, 30 % dropped (those whose position is 0, 1 or 2 mod 10;
    // the day's transfers must find them anyway); the rest delivered three times, the copies
    // spread through the batch and the batch reversed.
    let kept: Vec<&(String, u64)> = sales
        .iter()
        .take(14)
        .enumerate()
        .filter(|(n, _)| n % 10 >= 3)
        .map(|(_, s)| s)
        .collect();
    let mut deliveries: Vec<&(String, u64)> = (0..3).flat_map(|_| kept.iter().copied()).collect();
    deliveries.reverse();
    deliveries.rotate_left(kept.len() / 2);
    for (id, version) in &deliveries {
        let payload = json!({"id": id, "version": version, "outlet_id": outlet});
        let body = form("sale.update", &domain, &payload);
        let (status, reply) = deliver(&env, body.clone(), Some(signed(&body))).await;
        assert_eq!(status, 200, "{reply}");
    }
    let events = drain_all(&env, "SalesEventsQueue", &company).await;
    assert_eq!(events.len(), deliveries.len(), "each delivery queued");
    for event in &events {
        work(&env, event).await;
    }
    let requests = drain_all(&env, "TransferQueue", &company).await;
    assert_eq!(
        requests.len(),
        deliveries.len(),
        "each event asked for its day"
    );
    assert!(requests.iter().all(|r| r["business_date"] == date.as_str()));
    // Two workers on each request at once; one that finds the other at work asks for a
    // redelivery, which then finds the attempt logged.
    for request in &requests {
        let (first, second) = tokio::join!(try_work(&env, request), try_work(&env, request));
        for finished in [first, second] {
            if !finished {
                work(&env, request).await;
            }
        }
    }
    assert_eq!(
        ledger_sum(&env, &company, &unit, &date).await,
        sold_in_day(&env, &outlet, tz, &date),
        "{date}"
    );
    // Nothing is left to post: a re-check changes nothing.
    recheck_posts_nothing(&env, &company, &outlet, &date).await;
}

/// Disconnecting removes this deployment's subscriptions from the store and deletes the
/// tokens (Lightspeed calls are refused until someone reauthorizes); deliveries that still
/// arrive are ignored, nothing queued; reauthorizing subscribes again. (A private table: other
/// tests' companies connected to the same store would share the subscriptions.)
#[tokio::test]
async fn disconnecting_unsubscribes_and_deletes_the_tokens_until_reauthorized() {
    let env = TestEnv::with_lightspeed_private_table(
        tillbridge_local::lightspeed::sim_config(),
        tillbridge::lightspeed::settings::KAuthVersion::V2,
    )
    .await;
    let company = env.connect("wh-disconnect", "x_series").await;
    let api = env.client(&company);
    let path = format!("/v1/companies/{company}/integrations/x_series");
    let url = format!("{}/webhooks/lightspeed", env.host.base_url);
    let ours = |env: &TestEnv| {
        env.sim()
            .state()
            .webhooks
            .list()
            .into_iter()
            .filter(|s| s.url == url)
            .count()
    };
    assert_eq!(ours(&env), 3, "subscribed at connection");

    let (status, disconnected) = api
        .request(reqwest::Method::DELETE, &path, None, &[])
        .await
        .unwrap();
    assert_eq!(status, 200, "{disconnected}");
    assert_eq!(disconnected["status"], "disconnected");
    let removed: Vec<&str> = disconnected["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["status"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["removed", "removed", "removed"], "{disconnected}");
    assert_eq!(ours(&env), 0, "the store no longer delivers here");
    let domain = disconnected["domain_prefix"].as_str().unwrap().to_string();
    let secret = tillbridge::lightspeed::vault::secret_id(
        &env.deps("admin-api").await.config.secret_prefix,
        &company,
        tillbridge::connection::PosProduct::XSeries,
    );
    assert!(
        env.deps("admin-api")
            .await
            .secrets
            .get(&secret)
            .await
            .is_err(),
        "the tokens are deleted"
    );
    // Nothing calls Lightspeed for the company now.
    let (status, refused) = api
        .post(
            &format!("/v1/companies/{company}/items/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert!((400..500).contains(&status), "{status} {refused}");
    // A late delivery is ignored, not queued.
    let body = form(
        "sale.update",
        &domain,
        &json!({"id": "late-sale", "version": 1}),
    );
    let (status, reply) = deliver(&env, body.clone(), Some(signed(&body))).await;
    assert_eq!(
        (status, reply["status"].as_str()),
        (200, Some("ignored")),
        "{reply}"
    );
    // Disconnecting again changes nothing.
    let (status, again) = api
        .request(reqwest::Method::DELETE, &path, None, &[])
        .await
        .unwrap();
    assert_eq!((status, &again["status"]), (200, &json!("disconnected")));
    assert_eq!(ours(&env), 0);

    // Reauthorizing connects and subscribes again.
    let params = env
        .authorize(&company, &format!("{path}/reauthorize"), None)
        .await;
    assert_eq!(
        tillbridge_tests::param(&params, "outcome"),
        Some("connected"),
        "{params:?}"
    );
    assert_eq!(ours(&env), 3, "subscribed again");
    let (_, integration) = api.get(&path).await.unwrap();
    assert_eq!(integration["status"], "active", "{integration}");
}

/// A mapped product renamed and another deleted in the store reach the catalogue by
/// `product.update` webhooks (the simulator's own signed deliveries): the rename and the
/// orphaned mapping are raised as alerts naming each item.
#[tokio::test]
async fn product_webhooks_raise_the_rename_and_orphan_alerts() {
    let (env, company, _domain) = connected_store("wh-products").await;
    activated_outlet(&env, &company).await;
    let api = env.client(&company);
    let (items, _) = api
        .list_all(
            &format!("/v1/companies/{company}/items?product=x_series"),
            100,
        )
        .await
        .unwrap();
    let mapped: Vec<&str> = items
        .iter()
        .filter(|i| i["deleted_upstream"] != true && !i["mapped_to"].is_null())
        .map(|i| i["item_id"].as_str().unwrap())
        .collect();
    let (renamed, deleted) = (mapped[0], mapped[1]);
    for (method, id, body) in [
        (
            reqwest::Method::PATCH,
            renamed,
            Some(json!({"name": "Renamed Mug"})),
        ),
        (reqwest::Method::DELETE, deleted, None),
    ] {
        let fired = env
            .sim_control(method, &format!("/_sim/x/products/{id}"), body)
            .await;
        assert_eq!(fired["webhooksQueued"], 1, "{fired}");
    }
    let mut events = Vec::new();
    while events.len() < 2 {
        events.extend(delivered_events(&env, &company).await);
    }
    assert!(events.iter().all(|e| e["event_type"] == "product.update"));
    for event in &events {
        work(&env, event).await;
    }
    let (_, alerts) = api
        .get(&format!("/v1/companies/{company}/alerts?status=open"))
        .await
        .unwrap();
    let open: Vec<(String, String)> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        open.contains(&("mapped_item_renamed".into(), renamed.into())),
        "{open:?}"
    );
    assert!(
        open.contains(&("orphaned_mapping".into(), deleted.into())),
        "{open:?}"
    );
}

/// A vault whose deletes fail as an outage would.
struct DeletesFail(std::sync::Arc<dyn tillbridge::secrets::SecretVault>);

#[async_trait::async_trait]
impl tillbridge::secrets::SecretVault for DeletesFail {
    async fn get(&self, id: &str) -> Result<String, tillbridge::secrets::SecretError> {
        self.0.get(id).await
    }
    async fn put(&self, id: &str, value: &str) -> Result<(), tillbridge::secrets::SecretError> {
        self.0.put(id, value).await
    }
    async fn delete(&self, _: &str) -> Result<(), tillbridge::secrets::SecretError> {
        Err(tillbridge::secrets::SecretError::Unavailable(
            "injected outage".into(),
        ))
    }
}

/// When the tokens cannot be deleted the disconnect stops with `secrets_unavailable` and
/// marks nothing, so repeating it later finishes the job.
#[tokio::test]
async fn a_disconnect_whose_tokens_cannot_be_deleted_changes_nothing_and_can_be_repeated() {
    let (env, company, _domain) = connected_store("wh-disconnect-fails").await;
    let mut deps = env.deps("admin-api").await;
    deps.secrets = std::sync::Arc::new(DeletesFail(deps.secrets.clone()));
    let product = tillbridge::connection::PosProduct::XSeries;
    let err = tillbridge::connection::disconnect::disconnect(&deps, &company, product, "t1")
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        tillbridge::error::ErrorCode::SecretsUnavailable,
        "{err:?}"
    );
    let path = format!("/v1/companies/{company}/integrations/x_series");
    let (_, integration) = env.client(&company).get(&path).await.unwrap();
    assert_eq!(integration["status"], "active", "{integration}");
    let (status, disconnected) = env
        .client(&company)
        .request(reqwest::Method::DELETE, &path, None, &[])
        .await
        .unwrap();
    assert_eq!(
        (status, &disconnected["status"]),
        (200, &json!("disconnected"))
    );
}

/// The Odoo simulator connected as the company's ERP, every account mapped, the outlet's X-Series
/// payment types (`On account` to the receivable, 121000) and synced taxes posting to the NZD
/// company. The running ERP, and the journal-poster's deps.
async fn books_for_outlet(
    env: &TestEnv,
    company: &str,
    outlet: &str,
) -> (odoo_sim::RunningOdoo, tillbridge::Deps) {
    let api = env.client(company);
    let base = format!("/v1/companies/{company}");
    let odoo = odoo_sim::RunningOdoo::start(odoo_sim::OdooConfig::default())
        .await
        .unwrap();
    let put = |path: String, body: Value| {
        let api = &api;
        async move {
            let (status, reply) = api.put(&path, &body).await.unwrap();
            assert_eq!(status, 200, "PUT {path}: {reply}");
        }
    };
    put(
        format!("{base}/account-mappings/erp"),
        json!({"url": odoo.base_url(), "database": odoo.db(), "login": odoo.login(),
               "api_key": odoo.api_key(), "transport": "json_rpc"}),
    )
    .await;
    put(
        format!("{base}/account-mappings"),
        json!({"payment_methods": {}, "tax_codes": {}, "accounting_groups": {},
               "default_revenue": "400000", "discount": "401000", "service_charge": "403000",
               "tips": "215000", "rounding": "643000", "refunds": "402000",
               "erp_company_id": 1, "journal": "POSS", "rounding_threshold": "1.00"}),
    )
    .await;
    let (status, synced) = api
        .post(
            &format!("{base}/account-mappings/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{synced}");
    let taxes: serde_json::Map<String, Value> = synced["tax_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["code"].as_str().unwrap().to_string(), json!("251000")))
        .collect();
    put(
        format!("{base}/account-mappings/locations/{outlet}"),
        json!({"payment_methods": {"Cash": CASH_ACCOUNT, "Credit Card": CARD_ACCOUNT,
                   "EFTPOS": CARD_ACCOUNT, "Gift Card": "216000", "On account": RECEIVABLE},
               "tax_codes": taxes, "erp_company_id": 2}),
    )
    .await;
    (odoo, env.deps("journal-poster").await)
}

const CASH_ACCOUNT: &str = "101501";
/// Where `books_for_outlet` maps card payments (`Credit Card`, `EFTPOS`).
const CARD_ACCOUNT: &str = "101405";
/// The payment methods booked to [`CASH_ACCOUNT`] and [`CARD_ACCOUNT`].
const PAID_IN_HAND: [&str; 3] = ["Cash", "Credit Card", "EFTPOS"];
const RECEIVABLE: &str = "121000";

/// One delivery of a day's journal message to the real journal-poster handler.
async fn post_journal(deps: &tillbridge::Deps, company: &str, outlet: &str, date: &str) {
    let body = json!({"request_uuid": uuid::Uuid::new_v4().to_string(),
        "company_id": company, "location_id": outlet, "business_date": date,
        "attempt": 1, "requested_at": chrono::Utc::now().to_rfc3339()});
    work_journal(deps, &body).await;
}

/// A journal revision of the outlet's day: (status, body).
async fn journal(env: &TestEnv, company: &str, outlet: &str, date: &str, rev: u32) -> (u16, Value) {
    env.client(company)
        .get(&format!(
            "/v1/companies/{company}/journals/{outlet}:{date}:{rev}"
        ))
        .await
        .unwrap()
}

/// Σ debit and Σ credit of a journal's lines on `account` whose label `pick` selects.
fn sides(journal: &Value, account: &str, pick: impl Fn(&str) -> bool) -> (Decimal, Decimal) {
    let mut out = (Decimal::ZERO, Decimal::ZERO);
    for line in journal["lines"].as_array().unwrap() {
        if line["account"] == account && pick(line["label"].as_str().unwrap_or_default()) {
            out.0 += decimal(&line["debit"]);
            out.1 += decimal(&line["credit"]);
        }
    }
    out
}

/// What the simulator's store says, independently of tillbridge, of one outlet day's
/// on-account money as of its clock: (owed at the day's end by the on-account sales made
/// in it, paid in it by `method` for on-account sales made on earlier days).
fn on_account_truth(
    env: &TestEnv,
    outlet: &str,
    mode: DayMode,
    date: &str,
    method: &str,
) -> (Decimal, Decimal) {
    let day = tillbridge::location::business_day::window(mode, date.parse().unwrap());
    let now = env.sim().state().clock.now();
    let store = env.sim().state().x();
    let (mut owed, mut settled) = (Decimal::ZERO, Decimal::ZERO);
    for sale in store.sales.iter().filter(|s| s.outlet_id == outlet) {
        let Some(current) = sale.current(now) else {
            continue;
        };
        if !current.status.starts_with("ONACCOUNT") {
            continue;
        }
        let total = (sale.total_price() + sale.total_tax())
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        if day.contains(sale.sale_date) {
            let paid: Decimal = current
                .payments
                .iter()
                .filter(|p| p.date < day.end)
                .map(|p| p.amount)
                .sum();
            owed += total - paid;
        } else if sale.sale_date < day.start {
            settled += current
                .payments
                .iter()
                .filter(|p| day.contains(p.date) && p.payment_type.name == method)
                .map(|p| p.amount)
                .sum::<Decimal>();
        }
    }
    (owed, settled)
}

/// An on-account sale made on an earlier day and paid in cash today: its day's journal books
/// the receivable and stays posted as it was; the payment's day debits cash and credits the
/// receivable by what was paid; the goods leave the ledger on the sale's day only. Every
/// expectation is the simulator's own data.
#[tokio::test]
async fn an_on_account_sale_paid_days_later_settles_on_the_payment_day_and_leaves_its_day_posted() {
    let (env, company, _domain) = connected_store("wh-onaccount").await;
    let (outlet, tz, unit) = activated_outlet(&env, &company).await;
    let mode = DayMode::Local { tz, cutoff_hour: 4 };
    let (_odoo, poster) = books_for_outlet(&env, &company, &outlet).await;
    // An open on-account sale of the outlet made on an earlier business day, the latest.
    let now = env.sim().state().clock.now();
    let today = business_date(mode, now).to_string();
    let (sale_id, sale_day) = {
        let store = env.sim().state().x();
        let (sale, _) = store
            .sales
            .iter()
            .filter(|s| s.outlet_id == outlet)
            .filter_map(|s| s.current(now).map(|r| (s, r)))
            .filter(|(s, r)| {
                r.status == "ONACCOUNT" && business_date(mode, s.sale_date).to_string() < today
            })
            .max_by_key(|(s, _)| s.sale_date)
            .expect("an open on-account sale");
        assert_eq!(sale.stock_moved_at(now), Some(sale.sale_date));
        let day = business_date(mode, sale.sale_date).to_string();
        (sale.id.clone(), day)
    };

    // The sale's day, transferred and posted before the customer pays.
    transfer_day(&env, &company, &outlet, &sale_day).await;
    post_journal(&poster, &company, &outlet, &sale_day).await;
    let (status, first) = journal(&env, &company, &outlet, &sale_day, 1).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "posted", "{first}");
    let (owed, _) = on_account_truth(&env, &outlet, mode, &sale_day, "Cash");
    assert!(owed > Decimal::ZERO);
    assert_eq!(
        sides(&first, RECEIVABLE, |l| l.starts_with("Takings")),
        (owed, Decimal::ZERO),
        "the receivable holds what the day's on-account sales owed: {first}"
    );
    assert_eq!(
        ledger_sum(&env, &company, &unit, &sale_day).await,
        sold_in_day(&env, &outlet, tz, &sale_day)
    );

    // Paid in cash today; the simulator delivers the sale's webhook.
    let (_, settled_before) = on_account_truth(&env, &outlet, mode, &today, "Cash");
    let paid = env
        .sim_control(
            reqwest::Method::POST,
            &format!("/_sim/x/sales/{sale_id}/pay"),
            Some(json!({})),
        )
        .await;
    assert_eq!(paid["status"], "ONACCOUNT_CLOSED", "{paid}");
    let amount = decimal(&paid["amount"]);
    let (_, settled) = on_account_truth(&env, &outlet, mode, &today, "Cash");
    assert_eq!(settled, settled_before + amount);
    let events = delivered_events(&env, &company).await;
    for event in &events {
        work(&env, event).await;
    }
    // The webhook transfers both days the sale touches.
    let requests = drain_count(&env, "TransferQueue", &company, 2).await;
    work_days(&env, &requests, &[&sale_day, &today]).await;
    for day in [&sale_day, &today] {
        post_journal(&poster, &company, &outlet, day).await;
    }

    // The sale's day is not rewritten: revision 1 stays posted, no reversal, no revision 2.
    let (_, again) = journal(&env, &company, &outlet, &sale_day, 1).await;
    assert_eq!(again["status"], "posted", "{again}");
    assert_eq!(again["lines"], first["lines"]);
    let (status, _) = journal(&env, &company, &outlet, &sale_day, 2).await;
    assert_eq!(status, 404, "the sale's day has no second revision");

    // The payment's day settles: cash debited, the receivable credited, by what was paid.
    let (status, payment_day) = journal(&env, &company, &outlet, &today, 1).await;
    assert_eq!(status, 200, "{payment_day}");
    assert_eq!(payment_day["status"], "posted", "{payment_day}");
    assert_eq!(
        sides(&payment_day, CASH_ACCOUNT, |l| l.starts_with("Settlements")),
        (settled, Decimal::ZERO),
        "{payment_day}"
    );
    assert_eq!(
        sides(&payment_day, RECEIVABLE, |l| l.starts_with("Settlements")),
        (Decimal::ZERO, settled),
        "{payment_day}"
    );
    assert!(settled >= amount && amount > Decimal::ZERO);
    assert_eq!(
        decimal(&payment_day["total_debit"]),
        decimal(&payment_day["total_credit"])
    );
    // The goods left on the sale's day only: each day's ledger is what the store says left
    // the shelf in it.
    for day in [&sale_day, &today] {
        assert_eq!(
            ledger_sum(&env, &company, &unit, day).await,
            sold_in_day(&env, &outlet, tz, day),
            "{day}"
        );
    }

    // Voided now, and the mirror catches up (a transfer of today) before its webhook is
    // worked, so the mirror no longer says where the sale stood: the webhook still revisits
    // the day it was made and the day it was paid, and the goods come back on its day.
    let sold_before_void = sold_in_day(&env, &outlet, tz, &sale_day);
    env.sim_control(
        reqwest::Method::POST,
        &format!("/_sim/x/sales/{sale_id}/void"),
        None,
    )
    .await;
    transfer_day(&env, &company, &outlet, &today).await;
    for event in &delivered_events(&env, &company).await {
        work(&env, event).await;
    }
    let requests = drain_all(&env, "TransferQueue", &company).await;
    work_days(&env, &requests, &[&sale_day, &today]).await;
    assert_ne!(sold_in_day(&env, &outlet, tz, &sale_day), sold_before_void);
    for day in [&sale_day, &today] {
        assert_eq!(
            ledger_sum(&env, &company, &unit, day).await,
            sold_in_day(&env, &outlet, tz, day),
            "{day}"
        );
    }
}

/// A sale voided after its day was transferred: its webhook's transfer writes a patch of
/// that sale into the day's cache, the day state and the ledger's corrections, and nothing
/// of the day's other sales (a webhook costs the lines of its sale, not its day).
#[tokio::test]
async fn a_voided_sales_webhook_writes_that_sale_not_its_whole_day() {
    use tillbridge::transfer::cache::{self, DayState};
    use tillbridge_tests::counting_store::counting_deps;

    let (env, company, _domain) = connected_store("wh-persale").await;
    let (outlet, tz, unit) = activated_outlet(&env, &company).await;
    let (sale_id, date) = latest_closed_sale(&env, &outlet, tz);
    transfer_day(&env, &company, &outlet, &date).await;
    drain_all(&env, "SalesEventsQueue", &company).await;
    let (deps, counting) = counting_deps(env.deps("transfer-worker").await);
    let store = deps.store.as_ref();
    let (c, o, d) = (company.as_str(), outlet.as_str(), date.as_str());
    let state = |store| async move {
        cache::load_state(store, c, o, d)
            .await
            .unwrap()
            .expect("the day was transferred")
    };
    let before: DayState = state(store).await;
    let cached_before = cache::load(store, &before).await.unwrap().unwrap();
    assert!(
        cached_before.sales.len() > 1,
        "a day of one sale proves nothing here"
    );
    assert_eq!(before.patches, 0);

    env.sim_control(
        reqwest::Method::POST,
        &format!("/_sim/x/sales/{sale_id}/void"),
        None,
    )
    .await;
    for event in delivered_events(&env, &company).await {
        work_with(&deps, &event).await;
    }
    let requests = drain_all(&env, "TransferQueue", &company).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["business_date"], date.as_str());
    counting.reset();
    work_with(&deps, &requests[0]).await;

    let sold = sold_in_day(&env, &outlet, tz, &date);
    assert_eq!(ledger_sum(&env, &company, &unit, &date).await, sold);
    let after = state(store).await;
    assert_eq!(after.generation, before.generation, "no new generation");
    assert_eq!(after.patches, 1);
    let day_partition = cache::partition(&company, &outlet, &date);
    let day_writes: Vec<String> = counting
        .written()
        .into_iter()
        .filter(|k| k.pk == day_partition)
        .map(|k| k.sk)
        .filter(|sk| !sk.starts_with("LEASE"))
        .collect();
    let patch = format!(
        "PATCH#{:06}#{:012}#{sale_id}",
        before.generation,
        before.version + 1
    );
    assert_eq!(day_writes, [patch, "STATE".to_string()]);
    // The day as cached now: without the voided sale (the mirror no longer places it in a
    // day), every other sale as it was.
    let cached_after = cache::load(store, &after).await.unwrap().unwrap();
    let others: Vec<_> = cached_before
        .sales
        .iter()
        .filter(|s| s.sale_id != sale_id)
        .collect();
    assert_eq!(others.len(), cached_before.sales.len() - 1);
    assert_eq!(cached_after.sales.iter().collect::<Vec<_>>(), others);
    // Its lines went with it.
    let lines_of = |day: &cache::CachedDay| {
        let prefix = format!("{sale_id}/");
        day.lines
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .count()
    };
    assert!(lines_of(&cached_before) > 0);
    assert_eq!(lines_of(&cached_after), 0);
    assert_eq!(
        cached_after.lines.len(),
        cached_before.lines.len() - lines_of(&cached_before)
    );
    // A re-check of the patched day posts nothing and writes no patch.
    recheck_posts_nothing(&env, &company, &outlet, &date).await;
    assert_eq!(state(store).await.patches, 1);
}

/// [`work`] with the given deps.
async fn work_with(deps: &tillbridge::Deps, body: &Value) {
    assert!(try_work_with(deps, body).await, "the message was worked");
}

/// An outlet set to journal per register closure: closing a register posts one journal of
/// the sales rung up on that register while it was open (its cash takings are the
/// simulator's own), dated the day it closed in and referenced by the closure; the day
/// itself gets no journal, and reconciliation checks the closure's journal.
#[tokio::test]
async fn an_outlet_journalling_per_register_closure_posts_each_closure_once() {
    let (env, company, _domain) = connected_store("wh-closure-jrnl").await;
    let (outlet, tz, _unit) = activated_outlet(&env, &company).await;
    let mode = DayMode::Local { tz, cutoff_hour: 4 };
    let (_odoo, poster) = books_for_outlet(&env, &company, &outlet).await;
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (status, location) = api
        .patch(
            &format!("{base}/locations/{outlet}"),
            &json!({"journal_per": "register_closure"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{location}");
    assert_eq!(location["journal_per"], "register_closure");
    // A K-Series style value is refused, naming the field.
    let (status, refused) = api
        .patch(
            &format!("{base}/locations/{outlet}"),
            &json!({"journal_per": "shift"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("journal_per"), "{refused}");

    // The register of the outlet with the most sales in the 12 hours before the clock, and
    // what they took in cash and by card then.
    let now = env.sim().state().clock.now();
    let window = tillbridge::location::business_day::Window {
        start: now - chrono::Duration::hours(12),
        end: now + chrono::Duration::seconds(1),
    };
    let (register, taken) = {
        let store = env.sim().state().x();
        // Register → (sales, taken in cash and by card).
        let mut by_register: std::collections::BTreeMap<String, (usize, Decimal)> =
            Default::default();
        for sale in store.sales.iter().filter(|s| s.outlet_id == outlet) {
            let Some(current) = sale.current(now) else {
                continue;
            };
            let moved = sale.stock_moved_at(now).filter(|at| window.contains(*at));
            if moved.is_none() || current.status == "VOIDED" {
                continue;
            }
            let entry = by_register.entry(sale.register_id.clone()).or_default();
            entry.0 += 1;
            entry.1 += current
                .payments
                .iter()
                .filter(|p| PAID_IN_HAND.contains(&p.payment_type.name.as_str()))
                .filter(|p| window.contains(p.date))
                .map(|p| p.amount)
                .sum::<Decimal>();
        }
        let (register, (sales, taken)) = by_register
            .into_iter()
            .max_by_key(|(_, (n, _))| *n)
            .expect("sales in the last 12 hours");
        assert!(
            sales > 0 && taken > Decimal::ZERO,
            "{sales} sales, {taken} taken"
        );
        (register, taken)
    };
    drain_all(&env, "SalesEventsQueue", &company).await;
    drain_all(&env, "JournalQueue", &company).await;
    env.sim_control(
        reqwest::Method::POST,
        &format!("/_sim/x/registers/{register}/close"),
        None,
    )
    .await;
    let events = delivered_events(&env, &company).await;
    assert_eq!(events[0]["event_type"], "register_closure.create");
    let closure_id = events[0]["object_id"].as_str().unwrap().to_string();
    work(&env, &events[0]).await;
    let requests = drain_all(&env, "JournalQueue", &company).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    let today = business_date(mode, now).to_string();
    assert_eq!(requests[0]["closure_id"], closure_id.as_str());
    assert_eq!(requests[0]["business_date"], today.as_str());
    work_journal(&poster, &requests[0]).await;
    // Delivered again: the same closure's journal, unchanged.
    work(&env, &events[0]).await;
    for request in drain_all(&env, "JournalQueue", &company).await {
        work_journal(&poster, &request).await;
    }

    let period = format!("{today}~{closure_id}");
    let (status, first) = journal(&env, &company, &outlet, &period, 1).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "posted", "{first}");
    assert_eq!(
        first["reference"],
        format!("tillbridge:{outlet}:{period}:1").as_str()
    );
    let takings = |account| sides(&first, account, |l| l.starts_with("Takings"));
    let (cash, card) = (takings(CASH_ACCOUNT), takings(CARD_ACCOUNT));
    assert_eq!(
        (cash.0 + card.0, cash.1 + card.1),
        (taken, Decimal::ZERO),
        "the closure's cash and card takings are the register's: {first}"
    );
    assert_eq!(
        decimal(&first["total_debit"]),
        decimal(&first["total_credit"])
    );
    // A re-post from the admin API reads the posted move back: still there, unchanged.
    let (status, queued) = api
        .post(
            &format!("{base}/journals/repost"),
            &json!({"location_id": outlet, "business_date": today, "closure_id": closure_id}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 202, "{queued}");
    let reposts = drain_all(&env, "JournalQueue", &company).await;
    assert_eq!(reposts.len(), 1, "{reposts:?}");
    assert_eq!(reposts[0]["closure_id"], closure_id.as_str());
    assert_eq!(reposts[0]["verify_in_erp"], true);
    work_journal(&poster, &reposts[0]).await;
    let (status, _) = journal(&env, &company, &outlet, &period, 2).await;
    assert_eq!(
        status, 404,
        "a redelivered closure and a re-post post no second revision"
    );
    // Once the day has closed, its transfer queues the closure's journal again (unchanged),
    // never a journal of the whole day, and reconciliation checks the closure's journal.
    let day_end = tillbridge::location::business_day::window(mode, today.parse().unwrap()).end;
    env.sim_control(
        reqwest::Method::POST,
        "/_sim/clock",
        Some(json!({"set": (day_end + chrono::Duration::hours(1)).to_rfc3339()})),
    )
    .await;
    drain_all(&env, "SalesEventsQueue", &company).await;
    transfer_day(&env, &company, &outlet, &today).await;
    let requests = drain_all(&env, "JournalQueue", &company).await;
    assert!(
        requests
            .iter()
            .all(|r| r["closure_id"] == closure_id.as_str()),
        "{requests:?}"
    );
    for request in &requests {
        work_journal(&poster, request).await;
    }
    let (status, _) = journal(&env, &company, &outlet, &period, 2).await;
    assert_eq!(status, 404, "the closure's sales did not change");
    let (status, _) = journal(&env, &company, &outlet, &today, 1).await;
    assert_eq!(status, 404, "no journal of the whole day");
    let (status, run) = api
        .post(
            &format!("{base}/reconciliation"),
            &json!({"from": today, "to": today, "location_id": outlet}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{run}");
    let report = &run["reports"][0];
    assert_eq!(report["business_date"], today.as_str(), "{run}");
    assert_eq!(report["journal"]["reference"], first["reference"], "{run}");
    assert!(
        !report["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "journal_missing"),
        "{run}"
    );
}

/// One journal-queue message worked by the real journal-poster handler.
async fn work_journal(deps: &tillbridge::Deps, body: &Value) {
    let path = tillbridge_local::paths::root().join("events/journal-poster.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["body"] = json!(body.to_string());
    event["Records"][0]["messageId"] = json!(uuid::Uuid::new_v4().to_string());
    let event: SqsEvent = serde_json::from_value(event).unwrap();
    let response = tillbridge_local::host::functions::queue("journal-poster", deps, event)
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}
