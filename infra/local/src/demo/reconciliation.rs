//! Step: reconciliation (SPEC C10). Every location's last closed business day is checked
//! against Lightspeed, the ledger and Odoo; then one discrepancy is seeded (a sale that
//! reaches Lightspeed after the day was posted), shown as the exception finance sees, fixed
//! by transferring the day again, and reconciled once more.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use super::csv_import::CsvImport;
use super::transfers::{day_mode, last_closed_day};
use super::{ok, step, Demo};
use crate::Error;

/// One location's row in the summary table.
pub struct Row {
    pub name: String,
    pub date: String,
    pub status: String,
    pub exceptions: Vec<String>,
}

/// What the seeded discrepancy showed.
pub struct Seeded {
    pub name: String,
    pub date: String,
    /// `code (subject)`.
    pub exception: String,
    pub resolved: bool,
}

pub struct Reconciliation {
    pub rows: Vec<Row>,
    pub seeded: Option<Seeded>,
}

/// Longest the demo waits for the re-posted journal of the seeded day.
const DEADLINE: Duration = Duration::from_secs(120);

async fn reconcile(demo: &Demo, location_id: &str, date: &str) -> Result<Value, Error> {
    let body = json!({"from": date, "location_id": location_id});
    let (status, run) = demo
        .api
        .post(&format!("{}/reconciliation", demo.company), &body, None)
        .await?;
    ok("reconciliation", status, &run)?;
    Ok(run["reports"][0].clone())
}

/// The report's exception codes with how many subjects each names (`unmapped_item ×12`).
fn exception_codes(report: &Value) -> Vec<String> {
    let mut counted: std::collections::BTreeMap<String, usize> = Default::default();
    for exception in report["exceptions"].as_array().into_iter().flatten() {
        *counted
            .entry(exception["code"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    counted
        .into_iter()
        .map(|(code, n)| {
            if n == 1 {
                code
            } else {
                format!("{code} ×{n}")
            }
        })
        .collect()
}

fn has_code(report: &Value, code: &str) -> bool {
    report["exceptions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["code"] == code)
}

pub async fn every_location(demo: &Demo, csv: &CsvImport) -> Result<Reconciliation, Error> {
    step("Reconciliation: each location's last closed day — Lightspeed's own figures (sales-daily, the store's feed, the imported file) against the ledger's copy, the ledger against the mappings, the journal read back from Odoo");
    let now = Utc::now();
    let (locations, _) = demo
        .api
        .list_all(&format!("{}/locations", demo.company), 100)
        .await?;
    let mut rows = Vec::new();
    let mut first_restaurant = None;
    for location in locations.iter().filter(|l| !l["storage_unit_id"].is_null()) {
        let id = location["location_id"].as_str().unwrap_or_default();
        let date = match location["product"].as_str() {
            Some("csv") => csv.date.clone(),
            _ => last_closed_day(day_mode(location), now).to_string(),
        };
        let report = reconcile(demo, id, &date).await?;
        let row = Row {
            name: location["name"].as_str().unwrap_or("?").to_string(),
            date,
            status: report["status"].as_str().unwrap_or("?").to_string(),
            exceptions: exception_codes(&report),
        };
        println!(
            "    {:<28} {} {:<11} Lightspeed {} sales, ledger copy {}; {}",
            row.name,
            row.date,
            row.status,
            report["pos_sales"],
            report["cached_sales"],
            if row.exceptions.is_empty() {
                "no exception".to_string()
            } else {
                row.exceptions.join(", ")
            }
        );
        for found in report["exceptions"].as_array().into_iter().flatten() {
            if found["code"] == "unreconciled_sales" {
                println!(
                    "    {:<28} {}",
                    "",
                    found["message"].as_str().unwrap_or("?")
                );
            }
        }
        if first_restaurant.is_none() && location["product"] == "k_series" {
            first_restaurant = Some((id.to_string(), rows.len()));
        }
        rows.push(row);
    }
    let seeded = match first_restaurant {
        Some((id, index)) => Some(seed_and_resolve(demo, &id, &mut rows[index]).await?),
        None => None,
    };
    Ok(Reconciliation { rows, seeded })
}

/// A sale that reaches Lightspeed after the day was posted: reported, then fixed.
async fn seed_and_resolve(demo: &Demo, location_id: &str, row: &mut Row) -> Result<Seeded, Error> {
    step(&format!(
        "A seeded discrepancy: one more sale at {} on {} reaches Lightspeed after the day was posted",
        row.name, row.date
    ));
    let http = reqwest::Client::new();
    let late = http
        .post(format!("{}/_sim/k/late-sales", demo.simulator.base_url()))
        .json(&json!({"locationId": location_id.parse::<u64>().unwrap_or_default(), "date": row.date, "count": 1}))
        .send()
        .await?;
    if !late.status().is_success() {
        return Err(format!("seeding a late sale: {}", late.status()).into());
    }
    let report = reconcile(demo, location_id, &row.date).await?;
    let exception = report["exceptions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["code"] == "unreconciled_sales")
        .cloned()
        .ok_or_else(|| format!("the late sale was not reported: {report}"))?;
    let shown = format!(
        "{} ({}): {}",
        exception["code"].as_str().unwrap_or("?"),
        exception["subject"].as_str().unwrap_or("?"),
        exception["message"].as_str().unwrap_or("?")
    );
    println!("    {shown}");
    println!("    the fix: transfer the day again (the ledger takes the sale in, the journal is reversed and re-posted), then reconcile");
    let posted = latest_journal(demo, location_id, &row.date).await?;
    let before = posted["revision"].as_u64().unwrap_or(0);
    let path = format!("{}/locations/{location_id}/transfers", demo.company);
    let (status, result) = demo
        .api
        .post(&path, &json!({"date": row.date}), None)
        .await?;
    ok("transfer again", status, &result)?;
    wait_for_journal(demo, location_id, &row.date, before).await?;
    let again = reconcile(demo, location_id, &row.date).await?;
    let (alerts, _) = demo
        .api
        .list_all(&format!("{}/alerts?status=open", demo.company), 100)
        .await?;
    let still_open = alerts
        .iter()
        .any(|a| a["code"] == "unreconciled_sales" && a["subject"] == exception["subject"]);
    let resolved = !has_code(&again, "unreconciled_sales") && !still_open;
    println!(
        "    reconciled again: Lightspeed {} sales, ledger copy {}; `unreconciled_sales` {}",
        again["pos_sales"],
        again["cached_sales"],
        if resolved {
            "gone and its alert resolved"
        } else {
            "still there"
        }
    );
    if !resolved {
        return Err(format!("the seeded discrepancy did not resolve once fixed: {again}").into());
    }
    row.status = again["status"].as_str().unwrap_or("?").to_string();
    row.exceptions = exception_codes(&again);
    Ok(Seeded {
        name: row.name.clone(),
        date: row.date.clone(),
        exception: format!(
            "{} ({})",
            exception["code"].as_str().unwrap_or("?"),
            exception["subject"].as_str().unwrap_or("?")
        ),
        resolved,
    })
}

async fn latest_journal(demo: &Demo, location_id: &str, date: &str) -> Result<Value, Error> {
    let path = format!(
        "{}/journals?from={date}&to={date}&location_id={location_id}",
        demo.company
    );
    let (_, page) = demo.api.get(&path).await?;
    Ok(page["items"]
        .as_array()
        .and_then(|items| items.last())
        .cloned()
        .unwrap_or(Value::Null))
}

/// Waits until a revision after `before` is posted (the poster runs on the journal queue
/// after the transfer).
async fn wait_for_journal(
    demo: &Demo,
    location_id: &str,
    date: &str,
    before: u64,
) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        let journal = latest_journal(demo, location_id, date).await?;
        if journal["status"] == "posted" && journal["revision"].as_u64() > Some(before) {
            println!(
                "    journal revision {} posted ({} sales); revision {before} reversed in Odoo",
                journal["revision"], journal["sales_count"]
            );
            return Ok(());
        }
        if started.elapsed() > DEADLINE {
            return Err(
                format!("the journal of {location_id} {date} was not re-posted in time").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
