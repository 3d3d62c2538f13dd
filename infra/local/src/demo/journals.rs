//! Steps: connect the ERP (the Odoo simulator) and map accounts from
//! `infra/local/demo/accounts.json` before the history is transferred, so every transferred
//! day queues its journal; then wait for the journal poster and show one day's journal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{ok, step, Demo};
use crate::Error;

/// What the summary reports of the journals.
pub struct Journals {
    pub by_status: BTreeMap<String, usize>,
    pub moves_in_erp: usize,
    /// Journals of one register closure (an outlet that journals per closure).
    pub per_closure: usize,
}

/// A PUT that must succeed; its answer.
async fn put(demo: &Demo, what: &str, path: &str, body: &Value) -> Result<Value, Error> {
    let (status, reply) = demo.api.put(path, body).await?;
    ok(what, status, &reply)?;
    Ok(reply)
}

/// The ERP connection, the company mapping and each business's override, from the sample
/// file; then the POS's payment methods and tax codes, with any left unmapped named.
pub async fn connect_and_map(demo: &Demo, locations: &[Value]) -> Result<(), Error> {
    step("ERP: the Odoo simulator (a GBP and an NZD company); accounts mapped from infra/local/demo/accounts.json");
    let file = crate::paths::root().join("infra/local/demo/accounts.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let odoo = &demo.odoo;
    let mut erp = sample["erp"].clone();
    erp["url"] = json!(odoo.base_url());
    erp["api_key"] = json!(odoo.api_key());
    let company = &demo.company;
    let saved = put(
        demo,
        "ERP connection",
        &format!("{company}/account-mappings/erp"),
        &erp,
    )
    .await?;
    println!(
        "    ERP        {} database `{}` as `{}` over {}",
        saved["url"].as_str().unwrap_or("?"),
        saved["database"].as_str().unwrap_or("?"),
        saved["login"].as_str().unwrap_or("?"),
        saved["transport"].as_str().unwrap_or("?")
    );
    let path = format!("{company}/account-mappings");
    put(demo, "company mapping", &path, &sample["company"]).await?;
    let mut overridden = 0;
    for location in locations {
        let business = location["business_name"].as_str().unwrap_or_default();
        if let Some(mapping) = sample["businesses"].get(business) {
            let id = location["location_id"].as_str().unwrap_or_default();
            let path = format!("{company}/account-mappings/locations/{id}");
            put(demo, "location mapping", &path, mapping).await?;
            overridden += 1;
        }
    }
    let (status, synced) = demo
        .api
        .post(
            &format!("{company}/account-mappings/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await?;
    ok("POS code sync", status, &synced)?;
    let (_, overview) = demo.api.get(&format!("{company}/account-mappings")).await?;
    let unmapped = &overview["unmapped"];
    println!(
        "    mapped     {} payment methods and {} tax codes from Lightspeed; {overridden} locations post to their business's ERP company",
        synced["payment_methods"].as_array().map_or(0, Vec::len),
        synced["tax_codes"].as_array().map_or(0, Vec::len),
    );
    println!(
        "    unmapped   payment methods {}, tax codes {}",
        unmapped["payment_methods"], unmapped["tax_codes"]
    );
    Ok(())
}

/// Waits until every transferred day's journal has left `pending`, then prints the counts
/// per status and one day's journal as a table.
pub async fn follow(demo: &Demo, from: &str, to: &str) -> Result<Journals, Error> {
    step("Journals: each transferred day posted to Odoo by journal-poster (search by reference, create, read back, post, read back)");
    let path = format!("{}/journals?from={from}&to={to}", demo.company);
    let started = Instant::now();
    let mut journals;
    let mut settled_for = 0;
    let mut last_count = usize::MAX;
    loop {
        let (status, body) = demo.api.get(&path).await?;
        ok("journal list", status, &body)?;
        journals = body["items"].as_array().cloned().unwrap_or_default();
        let pending = journals.iter().filter(|j| j["status"] == "pending").count();
        // Settled when nothing is pending and the count stopped growing for a few polls.
        settled_for = if pending == 0 && journals.len() == last_count {
            settled_for + 1
        } else {
            0
        };
        last_count = journals.len();
        if settled_for >= 3 || started.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let mut by_status = BTreeMap::new();
    for journal in &journals {
        *by_status
            .entry(journal["status"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let per_closure = journals
        .iter()
        .filter(|j| j["closure_id"].is_string())
        .count();
    println!(
        "    {} journals in {:.1} s ({per_closure} of them per register closure): {by_status:?}",
        journals.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(example) = journals.iter().rev().find(|j| j["status"] == "posted") {
        print_journal(example);
    }
    let moves_in_erp = posted_moves(demo).await?;
    println!("    Odoo holds {moves_in_erp} posted moves with a tillbridge reference");
    let posted = by_status.get("posted").copied().unwrap_or(0);
    if moves_in_erp < posted {
        // The simulator lives in this process: a re-run talks to a new, empty one, while the
        // days an earlier run posted stay posted in the table (posting is idempotent).
        println!("    (the Odoo simulator starts empty on every run; {} days were posted by an earlier run into its simulator)", posted - moves_in_erp);
    }
    Ok(Journals {
        by_status,
        moves_in_erp,
        per_closure,
    })
}

fn print_journal(journal: &Value) {
    println!(
        "\n    {}  {}  ({} sales, {}, Odoo move {} dated {})",
        journal["reference"].as_str().unwrap_or("?"),
        journal["journal"].as_str().unwrap_or("?"),
        journal["sales_count"],
        journal["currency"].as_str().unwrap_or("?"),
        journal["erp"]["name"].as_str().unwrap_or("?"),
        journal["erp"]["date"].as_str().unwrap_or("?"),
    );
    println!(
        "    {:<8} {:<36} {:>12} {:>12}",
        "account", "label", "debit", "credit"
    );
    for line in journal["lines"].as_array().into_iter().flatten() {
        let amount = |v: &Value| match v.as_str() {
            Some("0") | None => String::new(),
            Some(text) => text.to_string(),
        };
        println!(
            "    {:<8} {:<36} {:>12} {:>12}",
            line["account"].as_str().unwrap_or("?"),
            line["label"].as_str().unwrap_or("?"),
            amount(&line["debit"]),
            amount(&line["credit"]),
        );
    }
    println!(
        "    {:<8} {:<36} {:>12} {:>12}",
        "",
        "total",
        journal["total_debit"].as_str().unwrap_or("?"),
        journal["total_credit"].as_str().unwrap_or("?")
    );
}

/// Posted moves in the simulator whose reference is one of ours.
async fn posted_moves(demo: &Demo) -> Result<usize, Error> {
    let url = format!("{}/_sim/odoo/moves?state=posted", demo.odoo.base_url());
    let moves: Value = reqwest::get(url).await?.json().await?;
    Ok(moves
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("tillbridge:"))
        })
        .count())
}
