//! Step: a site without an API. A CSV location (the market stall) with its column mapping
//! (`infra/local/demo/market-mapping.json`) imports `infra/local/demo/market-sales.csv`,
//! moved to the stall's last closed business day: a dry run, the import (the same file on
//! a re-run imports nothing), its items mapped by the same mapping file as the
//! restaurants', and its day transferred again into the ledger (and from there, journals).

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use super::transfers::{day_mode, last_closed_day};
use super::{ok, step, Demo, DEMO_COMPANY};
use crate::Error;

pub const LOCATION: &str = "market-stall";
/// The business day the sample file is written for; the demo moves it.
const SAMPLE_DAY: &str = "2026-11-30";
const SAMPLE_NEXT_DAY: &str = "2026-12-01";

/// What the summary reports of the import.
pub struct CsvImport {
    pub date: String,
    pub rows: Value,
    pub sales: Value,
    pub refunds: Value,
    pub already_imported: bool,
    pub unmapped: Vec<String>,
    pub entries: usize,
}

pub async fn import_market_stall(demo: &Demo) -> Result<CsvImport, Error> {
    step(
        "A site without an API: the market stall's CSV export (infra/local/demo/market-sales.csv)",
    );
    let (api, company) = (&demo.api, &demo.company);
    let (status, created) = api
        .post(
            &format!("{company}/locations"),
            &json!({"location_id": LOCATION, "name": "Market stall (CSV)",
                    "timezone": "Europe/London", "currency": "GBP", "country": "GB"}),
            None,
        )
        .await?;
    if status != 409 {
        ok("creating the CSV location", status, &created)?;
    }
    let (_, units) = api.get(&format!("{company}/storage-units?limit=1")).await?;
    let unit = units["items"][0]["id"].as_str().unwrap_or_default();
    let (status, linked) = api
        .put(
            &format!("{company}/locations/{LOCATION}/storage-unit"),
            &json!({"storage_unit_id": unit}),
        )
        .await?;
    ok("linking the stall's storage unit", status, &linked)?;
    let location = &linked["location"];
    let location = if location.is_null() {
        &linked
    } else {
        location
    };
    let date = last_closed_day(day_mode(location), Utc::now());
    println!(
        "    location     {LOCATION} (product csv, auto-issue off), stock from storage unit {unit}"
    );
    let root = crate::paths::root().join("infra/local/demo");
    let format: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("market-mapping.json"))?)?;
    let (status, saved) = api
        .put(&format!("{company}/imports/mappings/market-till"), &format)
        .await?;
    ok("saving the column mapping", status, &saved)?;
    let next = date.succ_opt().unwrap_or(date);
    let file = std::fs::read_to_string(root.join("market-sales.csv"))?
        .replace(SAMPLE_NEXT_DAY, &next.to_string())
        .replace(SAMPLE_DAY, &date.to_string());

    let upload = |dry_run: bool| {
        let file = file.clone().into_bytes();
        async move {
            api.request(
                reqwest::Method::POST,
                &format!("{company}/imports?mapping_id=market-till&dry_run={dry_run}"),
                Some(("text/csv", file)),
                &[],
            )
            .await
        }
    };
    let (status, dry) = upload(true).await?;
    ok("the dry run", status, &dry)?;
    let summary = &dry["import"]["summary"];
    let unmapped: Vec<String> = summary["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["mapped"] == false)
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect();
    println!(
        "    dry run      {} rows → {} sales, {} refund(s), {} location-day(s); items not mapped yet: {}",
        summary["rows"],
        summary["sales"],
        summary["refunds"],
        summary["days"].as_array().map_or(0, Vec::len),
        unmapped.join("; ")
    );
    let (status, imported) = upload(false).await?;
    ok("the import", status, &imported)?;
    let already_imported = imported["already_imported"] == true;
    let import_id = imported["import"]["import_id"].as_str().unwrap_or_default();
    println!(
        "    import       {import_id} ({}), business day {date}",
        if already_imported {
            "this file was imported before: nothing imported twice"
        } else {
            "committed; its day queued for transfer"
        }
    );
    let mapping_text = std::fs::read_to_string(root.join("mappings.csv"))?;
    let (_, mapped) = crate::mapping_file::apply(api, DEMO_COMPANY, &mapping_text).await?;
    let (status, queued) = api
        .post(
            &format!("{company}/imports/{import_id}/transfers"),
            &json!({}),
            None,
        )
        .await?;
    ok("transferring the import's day again", status, &queued)?;
    println!("    mapped       the stall's items by name with infra/local/demo/mappings.csv ({mapped} mappings in all); day transferred again");
    let entries = wait_for_ledger(demo, unit, &date.to_string()).await?;
    println!("    ledger       {entries} entries on {date} for the stall (one per ingredient)");
    let still_unmapped = unmapped
        .into_iter()
        .filter(|name| {
            !mapping_text
                .lines()
                .any(|l| l.starts_with(&format!("{name},")))
        })
        .collect();
    Ok(CsvImport {
        date: date.to_string(),
        rows: summary["rows"].clone(),
        sales: summary["sales"].clone(),
        refunds: summary["refunds"].clone(),
        already_imported,
        unmapped: still_unmapped,
        entries,
    })
}

/// Waits for the stall's day to have ledger entries (the transfer worker runs it).
async fn wait_for_ledger(demo: &Demo, unit: &str, date: &str) -> Result<usize, Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let entries = super::ledger_of(demo, unit, date).await?;
        let stall = entries
            .iter()
            .filter(|e| e["location_id"] == LOCATION)
            .count();
        if stall > 0 {
            return Ok(stall);
        }
        if Instant::now() > deadline {
            return Err(
                format!("the market stall's {date} reached no ledger entry in 60 s").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
