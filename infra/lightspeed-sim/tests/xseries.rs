//! X-Series: OAuth, version-cursor paging, sale and product shapes, returns, rate limit,
//! webhook subscriptions and signed deliveries with retries.

mod common;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use hmac::{Hmac, Mac};
use lightspeed_sim::SimConfig;
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

async fn x_token(sim: &lightspeed_sim::RunningSimulator) -> String {
    let cfg = &sim.state().cfg;
    let r = client()
        .get(sim.x_connect_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", cfg.x_client.client_id.as_str()),
            ("redirect_uri", "https://app.example/x"),
            ("state", "s1"),
        ])
        .send()
        .await
        .expect("connect");
    assert!(r.status().is_redirection());
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let q: Vec<(String, String)> =
        serde_urlencoded::from_str(loc.split_once('?').map(|x| x.1).unwrap_or(""))
            .unwrap_or_default();
    let get = |k: &str| {
        q.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("domain_prefix"), cfg.x_domain_prefix);
    let form = [
        ("client_id", cfg.x_client.client_id.clone()),
        ("client_secret", cfg.x_client.client_secret.clone()),
        ("grant_type", "authorization_code".into()),
        ("code", get("code")),
        ("redirect_uri", "https://app.example/x".into()),
    ];
    let t: Value = client()
        .post(format!("{}/api/1.0/token", sim.x_base_url()))
        .form(&form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    for f in ["access_token", "refresh_token", "domain_prefix", "scope"] {
        assert!(t[f].is_string(), "{f}");
    }
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["expires"].is_i64() && t["expires_in"].is_i64());
    // Rotation: the old refresh token dies.
    let rt = t["refresh_token"].as_str().unwrap_or("").to_string();
    let refresh = |rt: String| {
        let url = format!("{}/api/1.0/token", sim.x_base_url());
        let (id, secret) = (
            cfg.x_client.client_id.clone(),
            cfg.x_client.client_secret.clone(),
        );
        async move {
            let form = [
                ("client_id", id),
                ("client_secret", secret),
                ("grant_type", "refresh_token".into()),
                ("refresh_token", rt),
            ];
            let r = client()
                .post(url)
                .form(&form)
                .send()
                .await
                .expect("refresh");
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, t2) = refresh(rt.clone()).await;
    assert_eq!(s, 200);
    let (s, e) = refresh(rt).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    t2["access_token"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn sales_version_feed_products_and_returns() {
    let sim = start(SimConfig::default()).await;
    let tok = x_token(&sim).await;
    let xb = sim.x_base_url();
    // Page through the whole feed with a small page size.
    let mut after = 0u64;
    let mut ids = HashSet::new();
    let mut statuses = HashSet::new();
    let mut last_version = 0u64;
    let mut returns = Vec::new();
    loop {
        let (s, page) = get_json(
            &format!("{xb}/api/2.0/sales?after={after}&page_size=200"),
            &tok,
        )
        .await;
        assert_eq!(s, 200);
        let data = page["data"].as_array().expect("data");
        if data.is_empty() {
            break;
        }
        assert_eq!(page["version"]["min"], data[0]["version"]);
        for sale in data {
            let v = sale["version"].as_u64().expect("version is a number");
            assert!(v > last_version, "versions increase");
            last_version = v;
            assert!(
                ids.insert(sale["id"].as_str().unwrap_or("").to_string()),
                "each sale once"
            );
            statuses.insert(sale["status"].as_str().unwrap_or("").to_string());
            assert!(
                sale["state"].is_string()
                    && sale["total_price"].is_number()
                    && sale["total_tax"].is_number()
            );
            assert!(sale["invoice_number"].is_string() && sale["invoice_sequence"].is_u64());
            for l in sale["line_items"].as_array().expect("lines") {
                assert!(
                    l.get("sku").is_none() && l.get("name").is_none(),
                    "2.0 lines carry product_id only"
                );
                assert!(
                    l["product_id"].is_string()
                        && l["quantity"].is_number()
                        && l["price"].is_number()
                        && l["is_return"].is_boolean()
                );
            }
            if sale["return_for"].is_string() {
                returns.push(sale.clone());
            }
        }
        after = page["version"]["max"].as_u64().expect("max");
    }
    assert!(ids.len() > 1000);
    for st in ["CLOSED", "VOIDED", "LAYBY_CLOSED", "ONACCOUNT_CLOSED"] {
        assert!(statuses.contains(st), "has {st}: {statuses:?}");
    }
    assert!(!returns.is_empty());
    for r in &returns {
        assert!(
            ids.contains(r["return_for"].as_str().unwrap_or("")),
            "return_for points at a known sale"
        );
        let l = &r["line_items"][0];
        assert!(
            l["quantity"].as_f64().unwrap_or(0.0) < 0.0
                && l["total_price"].as_f64().unwrap_or(0.0) < 0.0
                && l["is_return"] == true
        );
    }
    // Single sale.
    let one = ids.iter().next().cloned().unwrap_or_default();
    let (s, b) = get_json(&format!("{xb}/api/2.0/sales/{one}"), &tok).await;
    assert_eq!((s, b["data"]["id"].as_str()), (200, Some(one.as_str())));
    // Products: deleted ones only with deleted=true; custom codes; sku lookup by code.
    let (_, p) = get_json(&format!("{xb}/api/2.0/products"), &tok).await;
    let (_, pd) = get_json(&format!("{xb}/api/2.0/products?deleted=true"), &tok).await;
    let (n, nd) = (
        p["data"].as_array().map_or(0, Vec::len),
        pd["data"].as_array().map_or(0, Vec::len),
    );
    assert!(nd > n);
    let prods = p["data"].as_array().expect("data");
    assert!(prods.iter().all(|x| x["deleted_at"].is_null()));
    assert!(
        prods
            .iter()
            .any(|x| x["active"] == false && x["is_active"] == false),
        "inactive products stay listed"
    );
    let custom = prods
        .iter()
        .flat_map(|x| x["product_codes"].as_array().cloned().unwrap_or_default())
        .find(|c| c["type"] == "custom")
        .expect("custom code");
    let (_, by) = get_json(
        &format!(
            "{xb}/api/2.0/products?sku={}",
            custom["code"].as_str().unwrap_or("")
        ),
        &tok,
    )
    .await;
    assert_eq!(by["data"].as_array().map(Vec::len), Some(1));
    for ep in ["outlets", "registers", "payment_types", "taxes"] {
        let (s, b) = get_json(&format!("{xb}/api/2.0/{ep}"), &tok).await;
        assert_eq!(s, 200);
        assert!(b["data"].as_array().is_some_and(|v| !v.is_empty()), "{ep}");
    }
    // Wrong store prefix is not found; bad cursor is 400.
    let (s, _) = get_json(
        &format!("{}/x/otherstore/api/2.0/sales", sim.base_url()),
        &tok,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = get_json(&format!("{xb}/api/2.0/sales?after=-1"), &tok).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn rate_limit_is_300_per_register_plus_50_with_http_date() {
    let sim = start(SimConfig::default()).await;
    let tok = token(&sim, "x").await;
    let xb = sim.x_base_url();
    let c = client();
    let (_, regs) = get_json(&format!("{xb}/api/2.0/registers"), &tok).await;
    let limit = 300 * regs["data"].as_array().map_or(0, Vec::len) + 50;
    let mut first_429 = None;
    for i in 1..=limit + 1 {
        let r = c
            .get(format!("{xb}/api/2.0/taxes"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("send");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let ra = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            assert!(
                httpdate::parse_http_date(&ra).is_ok(),
                "Retry-After is an HTTP date: {ra}"
            );
            let b: Value = r.json().await.expect("json");
            assert_eq!(
                b,
                serde_json::json!({ "error": "Too Many Requests", "message": "Rate limiting enforced" })
            );
            first_429 = Some(i);
            break;
        }
        if i == 1 {
            assert_eq!(
                r.headers()
                    .get("x-ratelimit-limit")
                    .and_then(|v| v.to_str().ok()),
                Some(limit.to_string().as_str())
            );
        }
    }
    // One request went to /registers first.
    assert_eq!(first_429, Some(limit));
    c.post(format!("{}/_sim/x/rate-limit/reset", sim.base_url()))
        .send()
        .await
        .expect("reset");
    let (s, _) = get_json(&format!("{xb}/api/2.0/taxes"), &tok).await;
    assert_eq!(s, 200);
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = s2.clone();
            async move {
                let mut g = seen.lock().unwrap_or_else(|p| p.into_inner());
                g.push((headers, body));
                if g.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let mut parts = header.split(',').map(str::trim);
    let sig = parts
        .next()
        .and_then(|p| p.strip_prefix("signature="))
        .unwrap_or("");
    let alg = parts
        .next()
        .and_then(|p| p.strip_prefix("algorithm="))
        .unwrap_or("");
    if alg != "HMAC-SHA256" {
        return false;
    }
    let Ok(expected) = hex::decode(sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[tokio::test]
async fn webhooks_subscribe_sign_and_retry() {
    let mut cfg = SimConfig::default();
    cfg.webhooks.base_delay_ms = 20;
    let secret = cfg.x_client.client_secret.clone();
    let sim = start(cfg).await;
    let tok = token(&sim, "x").await;
    let xb = sim.x_base_url();
    let (url, seen) = receiver(2).await;
    let c = client();
    let r = c
        .post(format!("{xb}/api/2.0/webhooks"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({ "url": url, "active": true, "type": "sale.update" }))
        .send()
        .await
        .expect("sub");
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.expect("json");
    for f in ["id", "retailer_id", "type", "url"] {
        assert!(b["data"][f].is_string(), "{f}");
    }
    let dup = c
        .post(format!("{xb}/api/2.0/webhooks"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({ "url": url, "active": true, "type": "sale.update" }))
        .send()
        .await
        .expect("dup");
    assert_eq!(dup.status(), 409);
    // Advancing the clock releases new sales, which fire sale.update.
    let adv: Value = c
        .post(format!("{}/_sim/clock", sim.base_url()))
        .json(&serde_json::json!({ "advanceSeconds": 12 * 3600 }))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    let queued = adv["webhooksQueued"].as_u64().unwrap_or(0) as usize;
    assert!(queued > 0, "{adv}");
    // Wait until every event is delivered (the first two attempts get 500 and are retried).
    let mut ok = false;
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        if seen.lock().map(|g| g.len()).unwrap_or(0) >= queued + 2 {
            ok = true;
            break;
        }
    }
    assert!(ok, "deliveries incomplete");
    let attempts: Vec<Value> = c
        .get(format!("{}/_sim/x/webhooks/attempts", sim.base_url()))
        .send()
        .await
        .expect("a")
        .json()
        .await
        .expect("json");
    assert!(attempts
        .iter()
        .any(|a| a["status"] == 500 && a["attempt"] == 1));
    assert!(
        attempts
            .iter()
            .any(|a| a["status"] == 200 && a["attempt"].as_u64().unwrap_or(0) > 1),
        "retried after non-2xx"
    );
    let g = seen.lock().unwrap_or_else(|p| p.into_inner());
    for (headers, body) in g.iter() {
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-www-form-urlencoded")
        );
        let sig = headers
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            verify(&secret, body, sig),
            "signature verifies over the raw body"
        );
        let mut tampered = body.to_vec();
        let mid = tampered.len() / 2;
        tampered[mid] ^= 0x01;
        assert!(!verify(&secret, &tampered, sig), "one flipped byte fails");
        assert!(!verify("wrong-secret", body, sig));
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).expect("form");
        let payload = form
            .iter()
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.clone())
            .expect("payload field");
        let sale: Value = serde_json::from_str(&payload).expect("payload is JSON");
        assert!(
            sale["id"].is_string()
                && sale["register_sale_products"].is_array()
                && sale["status"].is_string()
        );
    }
}

#[tokio::test]
async fn product_update_and_register_closure_webhooks() {
    let cfg = SimConfig::default();
    let secret = cfg.x_client.client_secret.clone();
    let sim = start(cfg).await;
    let tok = token(&sim, "x").await;
    let xb = sim.x_base_url();
    let base = sim.base_url().to_string();
    let (url, seen) = receiver(0).await;
    let c = client();
    // The older reference: form-encoded subscription body.
    for kind in ["product.update", "register_closure.create"] {
        let r = c
            .post(format!("{xb}/api/webhooks"))
            .bearer_auth(&tok)
            .form(&[("url", url.as_str()), ("type", kind), ("active", "true")])
            .send()
            .await
            .expect("sub");
        assert_eq!(r.status(), 201);
    }
    let (_, p) = get_json(&format!("{xb}/api/2.0/products"), &tok).await;
    let pid = p["data"][0]["id"].as_str().unwrap_or("").to_string();
    c.patch(format!("{base}/_sim/x/products/{pid}"))
        .json(&serde_json::json!({ "sku": "NEW-SKU" }))
        .send()
        .await
        .expect("patch");
    let (_, regs) = get_json(&format!("{xb}/api/2.0/registers"), &tok).await;
    let rid = regs["data"][0]["id"].as_str().unwrap_or("").to_string();
    c.post(format!("{base}/_sim/x/registers/{rid}/close"))
        .send()
        .await
        .expect("close");
    for _ in 0..100 {
        if seen.lock().map(|g| g.len()).unwrap_or(0) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let g = seen.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(g.len(), 2);
    let mut kinds = Vec::new();
    for (headers, body) in g.iter() {
        assert!(verify(
            &secret,
            body,
            headers
                .get("x-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        ));
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).expect("form");
        let get = |k: &str| {
            form.iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let payload: Value = serde_json::from_str(&get("payload")).expect("json");
        match get("type").as_str() {
            "product.update" => assert_eq!(
                (payload["id"].as_str(), payload["sku"].as_str()),
                (Some(pid.as_str()), Some("NEW-SKU"))
            ),
            "register_closure.create" => {
                assert_eq!(payload["register_id"].as_str(), Some(rid.as_str()))
            }
            other => panic!("unexpected {other}"),
        }
        kinds.push(get("type"));
    }
    kinds.sort();
    assert_eq!(kinds, vec!["product.update", "register_closure.create"]);
}
