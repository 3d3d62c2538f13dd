//! Every fault knob verifiably changes behaviour.

mod common;
use common::*;
use lightspeed_sim::SimConfig;
use serde_json::{json, Value};

async fn set(sim: &lightspeed_sim::RunningSimulator, key: &str, spec: Value) {
    let r = client()
        .put(format!("{}/_sim/faults/{key}", sim.base_url()))
        .json(&spec)
        .send()
        .await
        .expect("set");
    assert_eq!(r.status(), 200);
}

async fn clear(sim: &lightspeed_sim::RunningSimulator) {
    client()
        .delete(format!("{}/_sim/faults", sim.base_url()))
        .send()
        .await
        .expect("clear");
}

#[tokio::test]
async fn each_fault_knob_changes_behaviour() {
    let sim = start(SimConfig::default()).await;
    let tok = token(&sim, "k-v1").await;
    let url = format!(
        "{}/f/v2/business-location/{SOHO}/sales?from=2026-02-01T00:00:00Z&to=2026-02-01T12:00:00Z",
        sim.base_url()
    );
    let c = client();
    let (s, _) = get_json(&url, &tok).await;
    assert_eq!(s, 200, "baseline");

    set(
        &sim,
        "k.sales",
        json!({ "share429": 1.0, "retryAfterSeconds": 7 }),
    )
    .await;
    let r = c.get(&url).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );

    set(
        &sim,
        "k.sales",
        json!({ "share429": 1.0, "retryAfterSeconds": 30, "retryAfterHttpDate": true }),
    )
    .await;
    let r = c.get(&url).bearer_auth(&tok).send().await.expect("send");
    let ra = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let when = httpdate::parse_http_date(&ra).expect("HTTP date");
    assert!(when > std::time::SystemTime::now());

    set(
        &sim,
        "k.sales",
        json!({ "share5xx": 1.0, "status5xx": 502 }),
    )
    .await;
    let (s, body) = get_json(&url, &tok).await;
    assert_eq!(s, 502);
    assert!(
        body["status"].is_i64() && body["requestId"].is_string() && body["timestamp"].is_string(),
        "documented 5xx body"
    );

    set(&sim, "k.sales", json!({ "share401": 1.0 })).await;
    let (s, _) = get_json(&url, &tok).await;
    assert_eq!(s, 401, "401 on a valid token");

    set(&sim, "k.sales", json!({ "shareMalformed": 1.0 })).await;
    let r = c.get(&url).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("text");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "malformed JSON"
    );

    set(
        &sim,
        "k.sales",
        json!({ "shareDelay": 1.0, "delayMs": 800 }),
    )
    .await;
    let short = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .expect("client");
    let e = short.get(&url).bearer_auth(&tok).send().await;
    assert!(
        e.is_err_and(|e| e.is_timeout()),
        "delay past the client timeout"
    );

    // Other endpoints are untouched by a k.sales fault; `remaining` limits a fault to N requests.
    let (s, _) = get_json(&format!("{}/f/data/businesses", sim.base_url()), &tok).await;
    assert_eq!(s, 200);
    clear(&sim).await;
    set(&sim, "k.sales", json!({ "share5xx": 1.0, "remaining": 2 })).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get_json(&url, &tok).await.0);
    }
    assert_eq!(statuses, vec![503, 503, 200]);

    // A share of 0.5 faults some requests, not all (seeded, repeatable).
    set(&sim, "*", json!({ "share5xx": 0.5 })).await;
    let mut n = 0;
    for _ in 0..40 {
        if get_json(&url, &tok).await.0 == 503 {
            n += 1;
        }
    }
    assert!(n > 5 && n < 35, "{n} of 40 failed");
    clear(&sim).await;
    assert_eq!(get_json(&url, &tok).await.0, 200);
}
