//! Control-API changes show up on the wire (item rename/archive/delete, product change and void
//! with webhooks, clock), and malformed input gives documented 4xx bodies, never a 5xx or panic.

mod common;
use common::*;
use lightspeed_sim::SimConfig;
use serde_json::{json, Value};

#[tokio::test]
async fn item_rename_archive_delete_reach_the_items_api() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v1").await;
    let (_, list) = get_json(
        &format!("{base}/items/v1/items?businessLocationId={SOHO}&sku=MN-001"),
        &tok,
    )
    .await;
    let id = list[0]["id"].as_i64().expect("id");
    let c = client();
    let r = c
        .patch(format!("{base}/_sim/k/items/{id}"))
        .json(&json!({ "name": "Classic Burger", "sku": "MN-001B", "active": false }))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    let (_, one) = get_json(
        &format!("{base}/items/v1/items/{id}?businessLocationId={SOHO}"),
        &tok,
    )
    .await;
    assert_eq!(
        (
            one["name"].as_str(),
            one["sku"].as_str(),
            one["active"].as_bool()
        ),
        (Some("Classic Burger"), Some("MN-001B"), Some(false))
    );
    c.delete(format!("{base}/_sim/k/items/{id}"))
        .send()
        .await
        .expect("delete");
    let (s, _) = get_json(
        &format!("{base}/items/v1/items/{id}?businessLocationId={SOHO}"),
        &tok,
    )
    .await;
    assert_eq!(s, 404, "deleted items disappear");
}

#[tokio::test]
async fn product_change_and_void_bump_versions() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let xb = sim.x_base_url();
    let tok = token(&sim, "x").await;
    let (_, p) = get_json(&format!("{xb}/api/2.0/products"), &tok).await;
    let max = p["version"]["max"].as_u64().expect("max");
    let pid = p["data"][0]["id"].as_str().unwrap_or("").to_string();
    let c = client();
    c.patch(format!("{base}/_sim/x/products/{pid}"))
        .json(&json!({ "name": "Renamed" }))
        .send()
        .await
        .expect("patch");
    let (_, after) = get_json(&format!("{xb}/api/2.0/products?after={max}"), &tok).await;
    assert_eq!(after["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["data"][0]["name"], "Renamed");
    c.delete(format!("{base}/_sim/x/products/{pid}"))
        .send()
        .await
        .expect("delete");
    let (_, live) = get_json(&format!("{xb}/api/2.0/products"), &tok).await;
    assert!(live["data"]
        .as_array()
        .is_some_and(|v| v.iter().all(|x| x["id"] != pid.as_str())));
    let (_, all) = get_json(&format!("{xb}/api/2.0/products?deleted=true"), &tok).await;
    assert!(all["data"].as_array().is_some_and(|v| v
        .iter()
        .any(|x| x["id"] == pid.as_str() && x["deleted_at"].is_string())));
    // Void a closed sale: it reappears in the feed with a higher version and state voided.
    let (_, sales) = get_json(&format!("{xb}/api/2.0/sales?page_size=10000"), &tok).await;
    let top = sales["version"]["max"].as_u64().expect("max");
    let closed = sales["data"]
        .as_array()
        .and_then(|v| v.iter().find(|s| s["status"] == "CLOSED"))
        .cloned()
        .expect("closed sale");
    let id = closed["id"].as_str().unwrap_or("");
    let r = c
        .post(format!("{base}/_sim/x/sales/{id}/void"))
        .send()
        .await
        .expect("void");
    assert_eq!(r.status(), 200);
    let (_, feed) = get_json(&format!("{xb}/api/2.0/sales?after={top}"), &tok).await;
    assert_eq!(feed["data"][0]["id"].as_str(), Some(id));
    assert_eq!(
        (
            feed["data"][0]["state"].as_str(),
            feed["data"][0]["payments"].as_array().map(Vec::len)
        ),
        (Some("voided"), Some(0))
    );
}

#[tokio::test]
async fn malformed_input_gives_4xx_json_never_5xx() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let k = token(&sim, "k-v2").await;
    let x = token(&sim, "x").await;
    let xb = sim.x_base_url();
    let junk = [
        "%",
        "%zz",
        "\u{0}",
        "9999999999999999999999",
        "-1",
        "1e5",
        "[]",
        "null",
        "%F0%28%8C%BC",
    ];
    for j in junk {
        let k_urls = [
            format!("{base}/f/data/businesses?page={j}&size={j}"),
            format!("{base}/items/v1/items?businessLocationId={j}"),
            format!("{base}/items/v1/items?businessLocationId={SOHO}&offset={j}&amount={j}&sku={j}"),
            format!("{base}/items/v1/items/{j}?businessLocationId={SOHO}"),
            format!("{base}/f/v2/business-location/{j}/sales?from=2026-01-01T00:00:00Z"),
            format!("{base}/f/v2/business-location/{SOHO}/sales?from={j}"),
            format!("{base}/f/v2/business-location/{SOHO}/sales?from=2026-01-01T00:00:00Z&to={j}&pageSize={j}&nextPageToken={j}"),
            format!("{base}/f/v2/business-location/{SOHO}/sales-daily?date={j}"),
            format!("{base}/f/finance/{j}/paymentMethods"),
        ];
        for u in k_urls {
            let r = client().get(&u).bearer_auth(&k).send().await.expect("send");
            let s = r.status().as_u16();
            assert!(s < 500, "{u} gave {s}");
            if s >= 400 {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                assert!(v.is_object(), "{u}: JSON error body");
            }
        }
        for u in [
            format!("{xb}/api/2.0/sales?after={j}&page_size={j}"),
            format!("{xb}/api/2.0/products?after={j}&sku={j}"),
            format!("{xb}/api/2.0/sales/{j}"),
        ] {
            let s = client()
                .get(&u)
                .bearer_auth(&x)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16();
            assert!(s < 500, "{u} gave {s}");
        }
    }
    // Token endpoints and control bodies with garbage.
    for (u, body) in [
        (format!("{base}/oauth/token?grant_type=%zz"), "x"),
        (
            format!("{base}/realms/k-series/protocol/openid-connect/token"),
            "%%%=&&",
        ),
        (format!("{xb}/api/1.0/token"), "\u{1}"),
        (format!("{base}/_sim/clock"), "{not json"),
        (
            format!("{base}/_sim/k/late-sales"),
            "{\"locationId\": \"x\"}",
        ),
        (format!("{base}/_sim/k/sales/edit"), "[]"),
    ] {
        let s = client()
            .post(&u)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("send")
            .status()
            .as_u16();
        assert!((400..500).contains(&s), "{u} gave {s}");
    }
    let (s, _) = get_json(&format!("{base}/_sim/ground-truth?locationId=abc"), "").await;
    assert_eq!(s, 400);
    let (s, g) = get_json(
        &format!("{base}/_sim/ground-truth?locationId={SOHO}&date=2026-02-10&mode=utc"),
        "",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(g["from"], "2026-02-10T00:00:00Z");
}
