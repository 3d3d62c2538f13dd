//! K-Series OAuth V1 and V2: code flow, refresh rotation, lifetimes, 401/403 semantics.

mod common;
use base64::Engine;
use common::*;
use lightspeed_sim::SimConfig;
use serde_json::Value;

fn code_from(location: &str) -> (String, Option<String>) {
    let q = location.split_once('?').map(|x| x.1).unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    (get("code").unwrap_or_default(), get("state"))
}

async fn authorize(base: &str, path: &str, client_id: &str, scope: &str) -> String {
    let r = client()
        .get(format!("{base}{path}"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("scope", scope),
            ("redirect_uri", "https://app.example/cb"),
            ("state", "xyz"),
        ])
        .send()
        .await
        .expect("authorize");
    assert!(
        r.status().is_redirection(),
        "authorize must redirect, got {}",
        r.status()
    );
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(loc.starts_with("https://app.example/cb?"), "{loc}");
    let (code, state) = code_from(&loc);
    assert_eq!(state.as_deref(), Some("xyz"));
    assert!(!code.is_empty());
    code
}

#[tokio::test]
async fn v1_code_flow_refresh_rotation_and_expiry() {
    let cfg = SimConfig::default();
    let (id, secret) = (
        cfg.k_v1_client.client_id.clone(),
        cfg.k_v1_client.client_secret.clone(),
    );
    let sim = start(cfg).await;
    let base = sim.base_url().to_string();
    let code = authorize(&base, "/oauth/authorize", &id, "financial-api items").await;
    // V1: Basic auth + grant values as URL query parameters, no body.
    let r = client()
        .post(format!("{base}/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .query(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://app.example/cb"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.expect("json");
    for f in ["access_token", "refresh_token", "scope"] {
        assert!(t[f].is_string(), "{f} must be a string");
    }
    assert_eq!(t["expires_in"], 3600);
    // The code is single-use.
    let again = client()
        .post(format!("{base}/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .query(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(again.status(), 400);
    // Wrong secret is invalid_client.
    let bad = client()
        .post(format!("{base}/oauth/token"))
        .basic_auth(&id, Some("nope"))
        .query(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 401);
    let b: Value = bad.json().await.expect("json");
    assert_eq!(b["error"], "invalid_client");
    // Access works, then refresh rotates and the old refresh token is dead.
    let access = t["access_token"].as_str().unwrap_or_default().to_string();
    let (s, _) = get_json(&format!("{base}/f/data/businesses"), &access).await;
    assert_eq!(s, 200);
    let rt1 = t["refresh_token"].as_str().unwrap_or_default().to_string();
    let refresh = |rt: String| {
        let (base, id, secret) = (base.clone(), id.clone(), secret.clone());
        async move {
            let r = client()
                .post(format!("{base}/oauth/token"))
                .basic_auth(&id, Some(&secret))
                .query(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ])
                .send()
                .await
                .expect("refresh");
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, t2) = refresh(rt1.clone()).await;
    assert_eq!(st, 200);
    assert_ne!(t2["refresh_token"], t["refresh_token"]);
    let (st, e) = refresh(rt1).await;
    assert_eq!(st, 400);
    assert_eq!(e["error"], "invalid_grant");
    // Advance past the access lifetime: 401; past 14 days idle: refresh is invalid_grant.
    let c = client();
    c.post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({ "advanceSeconds": 3601 }))
        .send()
        .await
        .expect("clock");
    let (s, body) = get_json(&format!("{base}/f/data/businesses"), &access).await;
    assert_eq!(s, 401);
    assert_eq!(body["error"], "invalid_token");
    c.post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({ "advanceSeconds": 14 * 86400 }))
        .send()
        .await
        .expect("clock");
    let (st, e) = refresh(t2["refresh_token"].as_str().unwrap_or_default().to_string()).await;
    assert_eq!(st, 400);
    assert_eq!(e["error"], "invalid_grant");
    // Unknown token: 401.
    let (s, _) = get_json(&format!("{base}/f/data/businesses"), "lskv1-at-unknown").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn v2_keycloak_form_body_lifetimes_and_rotation() {
    let mut cfg = SimConfig::default();
    cfg.lifetimes.k_v2_access = 120;
    cfg.lifetimes.k_v2_refresh = 900;
    let (id, secret) = (
        cfg.k_v2_client.client_id.clone(),
        cfg.k_v2_client.client_secret.clone(),
    );
    let sim = start(cfg).await;
    let base = sim.base_url().to_string();
    let token_url = format!("{base}/realms/k-series/protocol/openid-connect/token");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let post = |form: Vec<(&'static str, String)>| {
        let (u, b) = (token_url.clone(), basic.clone());
        async move {
            let r = client()
                .post(u)
                .header("authorization", format!("Basic {b}"))
                .form(&form)
                .send()
                .await
                .expect("post");
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Without offline_access: the configured refresh lifetime.
    let code = authorize(
        &base,
        "/realms/k-series/protocol/openid-connect/auth",
        &id,
        "financial-api items",
    )
    .await;
    let (st, t) = post(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", "https://app.example/cb".into()),
    ])
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["expires_in"], 120);
    assert_eq!(t["refresh_expires_in"], 900);
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["not-before-policy"].is_number() && t["session_state"].is_string());
    assert!(t["scope"].as_str().unwrap_or("").contains("profile"));
    // With offline_access: refresh_expires_in 0.
    let code = authorize(
        &base,
        "/realms/k-series/protocol/openid-connect/auth",
        &id,
        "financial-api items offline_access",
    )
    .await;
    let (_, t2) = post(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", "https://app.example/cb".into()),
    ])
    .await;
    assert_eq!(t2["refresh_expires_in"], 0);
    // Query-parameter style (V1) is refused on V2: the body is required.
    let r = client()
        .post(&token_url)
        .header("authorization", format!("Basic {basic}"))
        .query(&[("grant_type", "refresh_token")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    // Rotation.
    let rt = t["refresh_token"].as_str().unwrap_or_default().to_string();
    let (st, _) = post(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", rt.clone()),
    ])
    .await;
    assert_eq!(st, 200);
    let (st, e) = post(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", rt),
    ])
    .await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    // Refresh expiry by clock.
    let rt = t2["refresh_token"].as_str().unwrap_or_default().to_string();
    let code = authorize(
        &base,
        "/realms/k-series/protocol/openid-connect/auth",
        &id,
        "financial-api",
    )
    .await;
    let (_, t3) = post(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", "https://app.example/cb".into()),
    ])
    .await;
    client()
        .post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({ "advanceSeconds": 901 }))
        .send()
        .await
        .expect("clock");
    let (st, e) = post(vec![
        ("grant_type", "refresh_token".into()),
        (
            "refresh_token",
            t3["refresh_token"].as_str().unwrap_or_default().to_string(),
        ),
    ])
    .await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    // The offline token never expires.
    let (st, _) = post(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", rt),
    ])
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn forbidden_location_and_missing_scope() {
    let cfg = SimConfig {
        k_user_locations: Some(vec![SOHO, LEEDS]),
        ..SimConfig::default()
    };
    let sim = start(cfg).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v2").await;
    let (s, body) = get_json(
        &format!("{base}/f/v2/business-location/{PONSONBY}/sales?from=2026-02-01T00:00:00Z"),
        &tok,
    )
    .await;
    assert_eq!(s, 403);
    assert!(body["error"].is_string());
    let (s, body) = get_json(
        &format!("{base}/items/v1/items?businessLocationId={PONSONBY}"),
        &tok,
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(body["status"], "403");
    let (s, _) = get_json(
        &format!("{base}/f/v2/business-location/{SOHO}/sales?from=2026-02-01T00:00:00Z"),
        &tok,
    )
    .await;
    assert_eq!(s, 200);
    // The businesses list only shows visible locations.
    let (_, b) = get_json(&format!("{base}/f/data/businesses"), &tok).await;
    let n: usize = b["_embedded"]["businessList"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|x| x["businessLocations"].as_array().map_or(0, |v| v.len()))
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(n, 2);
    // A token without `items` scope gets 403 on the Items API.
    let v: Value = client()
        .post(format!("{base}/_sim/tokens"))
        .json(&serde_json::json!({ "realm": "k-v1", "scopes": ["financial-api"] }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let (s, _) = get_json(
        &format!("{base}/items/v1/items?businessLocationId={SOHO}"),
        v["access_token"].as_str().unwrap_or(""),
    )
    .await;
    assert_eq!(s, 403);
}
