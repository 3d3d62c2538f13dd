//! Each trap switched on through the control API, observed over HTTP as a client would.

mod common;

use common::Sim;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

/// Company 1 entry where the VAT line is sent twice over: a base line with `tax_ids` (20%)
/// and our own plain VAT line (experiment E2 of the reference).
async fn taxed_entry(sim: &Sim, reference: &str) -> serde_json::Value {
    let taxes = sim
        .ok(
            "account.tax",
            "search_read",
            json!([[
                ["type_tax_use", "=", "sale"],
                ["amount", "=", 20],
                ["company_id", "=", 1]
            ]]),
            json!({"fields": ["id", "name"]}),
        )
        .await;
    let tax = taxes[0]["id"].as_i64().unwrap();
    let mut values = sim.day_entry(reference).await;
    values["line_ids"][0][2]["debit"] = json!(120.0);
    values["line_ids"][1][2]["tax_ids"] = json!([[6, 0, [tax]]]);
    values["line_ids"][2][2]["credit"] = json!(20.0);
    values
}

#[tokio::test]
async fn the_balancing_trap_adds_an_automatic_balancing_line_visible_on_read_back() {
    let sim = Sim::start().await;
    // Off (default): the duplicated tax leaves the entry unbalanced, and that is an error.
    let refused = sim
        .kw(
            "account.move",
            "create",
            json!([taxed_entry(&sim, "E2-off").await]),
            json!({}),
        )
        .await;
    assert_eq!(
        refused["error"]["data"]["message"],
        "The entry is not balanced."
    );

    let (status, _) = sim
        .control(
            Method::PUT,
            "/traps/balancing",
            Some(json!({"mode": "taxes"})),
        )
        .await;
    assert_eq!(status, 200);
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([taxed_entry(&sim, "E2").await]),
            json!({}),
        )
        .await;
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    assert_eq!(
        lines.len(),
        5,
        "3 sent + Odoo's tax line + the balancing line"
    );
    let tax_line = lines.iter().find(|l| l["name"] == "20%").unwrap();
    assert_eq!(tax_line["credit"], json!(20.0));
    assert_eq!(tax_line["account_id"][1], "251000 Tax Received");
    let balancing = lines
        .iter()
        .find(|l| l["name"] == "Automatic Balancing Line")
        .unwrap();
    assert_eq!(balancing["debit"], json!(20.0));
    assert_eq!(balancing["account_id"][1], "101402 Bank Suspense Account");

    // "taxes" keeps refusing an unbalanced entry without taxes.
    let mut plain = sim.day_entry("plain").await;
    plain["line_ids"][2][2]["credit"] = json!(14.0);
    let refused = sim
        .kw("account.move", "create", json!([plain]), json!({}))
        .await;
    assert_eq!(
        refused["error"]["data"]["message"],
        "The entry is not balanced."
    );

    // "always" adds the line even to a balanced entry.
    sim.control(
        Method::PUT,
        "/traps/balancing",
        Some(json!({"mode": "always"})),
    )
    .await;
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("balanced").await]),
            json!({}),
        )
        .await;
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    assert_eq!(lines.len(), 4);
    assert!(lines
        .iter()
        .any(|l| l["name"] == "Automatic Balancing Line"));
}

#[tokio::test]
async fn a_lock_date_silently_moves_the_date_at_post() {
    let sim = Sim::start().await;
    let (status, _) = sim
        .control(
            Method::PUT,
            "/traps/lock-date",
            Some(json!({"company_id": 1, "date": "2026-11-30"})),
        )
        .await;
    assert_eq!(status, 200);
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("LOCKED").await]),
            json!({}),
        )
        .await;
    assert_eq!(
        sim.read_move(id.as_i64().unwrap()).await["date"],
        "2026-11-21"
    );
    let posted = sim
        .kw("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    assert_eq!(posted["result"], json!(false));
    let m = sim.read_move(id.as_i64().unwrap()).await;
    assert_eq!(m["date"], "2026-12-01");
    assert_eq!(m["name"], "MISC/2026/12/0001");
    // The lock date is per company: the NZD company is not locked.
    let (_, traps) = sim.control(Method::GET, "/traps", None).await;
    assert_eq!(traps["lock_dates"][0]["lock_date"], "2026-11-30");
    assert_eq!(traps["lock_dates"][1]["lock_date"], json!(null));
}

#[tokio::test]
async fn a_move_seeded_by_someone_else_shares_the_reference_and_both_are_accepted() {
    let sim = Sim::start().await;
    let (status, seeded) = sim
        .control(
            Method::POST,
            "/moves",
            Some(json!({"company_id": 1, "journal_code": "MISC", "ref": "tillbridge:loc-1:2026-11-21:0",
                "date": "2026-11-21", "state": "posted", "lines": [
                    {"account_code": "101501", "name": "by hand", "debit": "50.00"},
                    {"account_code": "400000", "name": "by hand", "credit": 50}]})),
        )
        .await;
    assert_eq!(status, 200, "{seeded}");
    assert_eq!(seeded["name"], "MISC/2026/11/0001");
    let mut values = sim.day_entry("tillbridge:loc-1:2026-11-21:0").await;
    values["ref"] = json!("tillbridge:loc-1:2026-11-21:0");
    let ours = sim
        .ok("account.move", "create", json!([values]), json!({}))
        .await;
    sim.ok("account.move", "action_post", json!([[ours]]), json!({}))
        .await;
    let found = sim
        .ok(
            "account.move",
            "search_read",
            json!([[
                ["ref", "=", "tillbridge:loc-1:2026-11-21:0"],
                ["state", "!=", "cancel"]
            ]]),
            json!({"fields": ["name"], "order": "id asc"}),
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 2);
    assert_eq!(found[0]["name"], "MISC/2026/11/0001");
    assert_eq!(found[1]["name"], "MISC/2026/11/0002");
}

async fn count(sim: &Sim, reference: &str) -> usize {
    let (_, moves) = sim
        .control(Method::GET, &format!("/moves?ref={reference}"), None)
        .await;
    moves.as_array().unwrap().len()
}

#[tokio::test]
async fn a_5xx_fault_answers_without_doing_the_work() {
    let sim = Sim::start().await;
    let values = sim.day_entry("FAULT").await;
    sim.control(
        Method::POST,
        "/traps/faults",
        Some(json!({"model": "account.move", "method": "create", "status": 503, "remaining": 1})),
    )
    .await;
    let (status, body) = sim
        .kw_status("account.move", "create", json!([values.clone()]), json!({}))
        .await;
    assert_eq!(status, 503);
    assert!(body.contains("503 Service Unavailable"));
    assert_eq!(count(&sim, "FAULT").await, 0);
    // The rule fired once; the retry goes through.
    let (status, _) = sim
        .kw_status("account.move", "create", json!([values]), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(count(&sim, "FAULT").await, 1);
}

#[tokio::test]
async fn commit_then_fail_does_the_work_and_answers_502() {
    let sim = Sim::start().await;
    let values = sim.day_entry("COMMITTED").await;
    sim.control(
        Method::POST,
        "/traps/faults",
        Some(json!({"model": "account.move", "method": "create", "mode": "commit_then_fail"})),
    )
    .await;
    let (status, _) = sim
        .kw_status("account.move", "create", json!([values]), json!({}))
        .await;
    assert_eq!(status, 502);
    let (_, moves) = sim.control(Method::GET, "/moves?ref=COMMITTED", None).await;
    assert_eq!(moves.as_array().unwrap().len(), 1);
    assert_eq!(moves[0]["state"], "draft");
    assert_eq!(moves[0]["lines"][0]["debit"], "115.00");
}

#[tokio::test]
async fn faults_can_fire_on_every_nth_call_and_by_seeded_percentage() {
    let sim = Sim::start().await;
    sim.control(
        Method::POST,
        "/traps/faults",
        Some(json!({"model": "account.move", "method": "search_count", "every_nth": 3})),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = sim
            .kw_status("account.move", "search_count", json!([[]]), json!({}))
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses, vec![200, 200, 502, 200, 200, 502]);

    sim.control(Method::DELETE, "/traps/faults", None).await;
    sim.control(
        Method::POST,
        "/traps/faults",
        Some(json!({"model": "account.move", "method": "search_count", "percent": 50.0})),
    )
    .await;
    let mut failed = 0;
    for _ in 0..200 {
        let (status, _) = sim
            .kw_status("account.move", "search_count", json!([[]]), json!({}))
            .await;
        if status == 502 {
            failed += 1;
        }
    }
    assert!(
        (60..=140).contains(&failed),
        "{failed} of 200 failed at 50%"
    );
}

#[tokio::test]
async fn a_slow_answer_is_delayed() {
    let sim = Sim::start().await;
    sim.control(
        Method::PUT,
        "/traps/delay",
        Some(json!({"ms": 300, "model": "account.move"})),
    )
    .await;
    let started = Instant::now();
    sim.ok("account.move", "search", json!([[]]), json!({}))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    sim.ok("account.journal", "search", json!([[]]), json!({}))
        .await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn moves_deleted_or_tampered_behind_the_clients_back_show_on_read_back() {
    let sim = Sim::start().await;
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("TAMPER").await]),
            json!({}),
        )
        .await;
    sim.ok("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    let vat_line = lines[2]["id"].as_i64().unwrap();
    let (status, _) = sim
        .control(
            Method::PATCH,
            &format!("/lines/{vat_line}"),
            Some(json!({"credit": "14.99"})),
        )
        .await;
    assert_eq!(status, 200);
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    assert_eq!(lines[2]["credit"].to_string(), "14.99");

    let (status, _) = sim
        .control(Method::DELETE, &format!("/moves/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let gone = sim
        .kw(
            "account.move",
            "read",
            json!([[id]]),
            json!({"fields": ["name"]}),
        )
        .await;
    assert_eq!(
        gone["error"]["data"]["name"],
        "odoo.exceptions.MissingError"
    );
    let found = sim
        .ok(
            "account.move",
            "search",
            json!([[["ref", "=", "TAMPER"]]]),
            json!({}),
        )
        .await;
    assert_eq!(found, json!([]));
}

#[tokio::test]
async fn reset_restores_the_default_scenario_and_clears_traps() {
    let sim = Sim::start().await;
    sim.ok(
        "account.move",
        "create",
        json!([sim.day_entry("BEFORE").await]),
        json!({}),
    )
    .await;
    sim.control(
        Method::PUT,
        "/traps/balancing",
        Some(json!({"mode": "always"})),
    )
    .await;
    let (status, _) = sim.control(Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(count(&sim, "BEFORE").await, 0);
    let (_, traps) = sim.control(Method::GET, "/traps", None).await;
    assert_eq!(traps["balancing"], "off");
    let (_, info) = sim.control(Method::GET, "/info", None).await;
    assert_eq!(info["db"], "tillbridge");
    assert_eq!(info["companies"][0]["currency"], "GBP");
    assert_eq!(info["companies"][1]["currency"], "NZD");
}
