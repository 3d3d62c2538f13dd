//! The JSON-2 transport: served in Odoo 19 mode, a 303 to the login page in Odoo 18 mode.

mod common;

use common::Sim;
use odoo_sim::OdooVersion;
use serde_json::{json, Value};

async fn call(sim: &Sim, key: &str, model: &str, method: &str, body: Value) -> (u16, Value) {
    let r = sim
        .http
        .post(sim.odoo.json2_url(model, method))
        .header("Authorization", format!("bearer {key}"))
        .header("X-Odoo-Database", sim.odoo.db())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn odoo_18_answers_json_2_with_a_redirect_to_the_login_page() {
    let sim = Sim::start_version(OdooVersion::V18).await;
    let r = sim
        .http
        .post(sim.odoo.json2_url("account.move", "search_read"))
        .header("Authorization", format!("bearer {}", sim.odoo.api_key()))
        .json(&json!({"domain": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/web/login");
    let login = sim
        .http
        .get(format!("{}/web/login", sim.odoo.base_url()))
        .send()
        .await
        .unwrap();
    assert!(login.text().await.unwrap().contains("<html"));
}

#[tokio::test]
async fn odoo_19_creates_searches_and_posts_over_json_2() {
    let sim = Sim::start_version(OdooVersion::V19).await;
    let key = sim.odoo.api_key().to_string();
    let values = sim.day_entry("JSON2").await;
    let (status, ids) = call(
        &sim,
        &key,
        "account.move",
        "create",
        json!({"vals_list": [values], "context": {"allowed_company_ids": [1]}}),
    )
    .await;
    assert_eq!(status, 200, "{ids}");
    let id = ids[0].as_i64().unwrap();
    assert_eq!(ids, json!([id]));
    let (status, posted) = call(
        &sim,
        &key,
        "account.move",
        "action_post",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!((status, posted), (200, json!(false)));
    let (status, found) = call(
        &sim,
        &key,
        "account.move",
        "search_read",
        json!({"domain": [["ref", "=", "JSON2"]], "fields": ["name", "state"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        found,
        json!([{"id": id, "name": "MISC/2026/11/0001", "state": "posted"}])
    );
    // A method returning None answers JSON null.
    let (status, none) = call(
        &sim,
        &key,
        "account.move",
        "button_draft",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!((status, none), (200, Value::Null));
    // JSON-RPC stays available in 19, as version 19.0.
    let v = sim.rpc("common", "version", json!([])).await;
    assert_eq!(v["result"]["server_version_info"][0], json!(19));
}

#[tokio::test]
async fn json_2_errors_carry_real_status_codes_and_odoo_error_bodies() {
    let sim = Sim::start_version(OdooVersion::V19).await;
    let key = sim.odoo.api_key().to_string();

    let (status, body) = call(
        &sim,
        "not-the-key",
        "account.move",
        "search",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["name"], "werkzeug.exceptions.Unauthorized");
    assert_eq!(body["message"], "Invalid apikey");
    assert_eq!(body["arguments"], json!(["Invalid apikey", 401]));

    let mut values = sim.day_entry("BAD").await;
    values["line_ids"][2][2]["credit"] = json!(1.0);
    let (status, body) = call(
        &sim,
        &key,
        "account.move",
        "create",
        json!({"vals_list": [values]}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["name"], "odoo.exceptions.UserError");
    assert_eq!(body["message"], "The entry is not balanced.");
    assert_eq!(body["context"], json!({}));
    assert!(body["debug"].is_string());

    let (status, body) = call(&sim, &key, "sale.order", "search", json!({"domain": []})).await;
    assert_eq!(status, 404);
    assert_eq!(body["name"], "werkzeug.exceptions.NotFound");
    let (status, _) = call(&sim, &key, "account.move", "frobnicate", json!({})).await;
    assert_eq!(status, 404);
    let (status, body) = call(&sim, &key, "account.move", "_post", json!({"ids": [1]})).await;
    assert_eq!(status, 403);
    assert_eq!(body["name"], "odoo.exceptions.AccessError");
    let (status, body) = call(
        &sim,
        &key,
        "account.move",
        "create",
        json!({"ids": [1], "vals_list": []}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "cannot call account.move.create with ids");
    let (status, _) = call(
        &sim,
        &key,
        "account.move",
        "search",
        json!({"domain": [], "colour": "red"}),
    )
    .await;
    assert_eq!(status, 422);

    let r = sim
        .http
        .post(sim.odoo.json2_url("account.move", "search"))
        .header("Authorization", format!("bearer {key}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = sim
        .http
        .get(sim.odoo.json2_url("account.move", "search"))
        .header("Authorization", format!("bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn json_2_faults_answer_5xx() {
    let sim = Sim::start_version(OdooVersion::V19).await;
    let key = sim.odoo.api_key().to_string();
    sim.control(
        reqwest::Method::POST,
        "/traps/faults",
        Some(json!({"model": "account.move", "method": "search", "status": 500, "remaining": 1})),
    )
    .await;
    let (status, _) = call(&sim, &key, "account.move", "search", json!({"domain": []})).await;
    assert_eq!(status, 500);
    let (status, _) = call(&sim, &key, "account.move", "search", json!({"domain": []})).await;
    assert_eq!(status, 200);
}
