//! Step: what the run did, in one screen.

use std::time::Instant;

use super::catalogue::Catalogue;
use super::connection::Connected;
use super::csv_import::{CsvImport, LOCATION as CSV_LOCATION};
use super::journals::Journals;
use super::reconciliation::Reconciliation;
use super::setup::Setup;
use super::store::{Closures, Store, Webhooks};
use super::transfers::Transfers;
use super::{step, Demo, DEMO_COMPANY};
use crate::Error;

/// What the steps produced.
pub struct Results {
    pub catalogue: Catalogue,
    pub connected: Connected,
    pub setup: Setup,
    pub store: Store,
    pub webhooks: Webhooks,
    pub closures: Option<Closures>,
    pub transfers: Transfers,
    pub csv: CsvImport,
    pub journals: Journals,
    pub reconciliation: Reconciliation,
}

pub async fn print(demo: &Demo, results: &Results, started: Instant) -> Result<(), Error> {
    let Results {
        catalogue,
        connected,
        setup,
        store,
        webhooks,
        closures,
        transfers,
        csv,
        journals,
        reconciliation,
    } = results;
    step("Summary");
    println!("    company            {DEMO_COMPANY}");
    println!(
        "    storage units      {} (read back in {} pages of 2)",
        catalogue.units, catalogue.unit_pages
    );
    println!(
        "    ingredients        {} (read back in {} pages of 5)",
        catalogue.ingredients, catalogue.ingredient_pages
    );
    println!(
        "    Lightspeed         K-Series `{}`; {} locations, {} items synced",
        connected.integration_status,
        connected.locations.len(),
        setup.items_seen
    );
    println!(
        "    setup              {} item mappings, {} locations linked and activated",
        setup.mapped, setup.activated
    );
    let (alerts, _) = demo
        .api
        .list_all(&format!("{}/alerts?status=open", demo.company), 100)
        .await?;
    let mut by_code: std::collections::BTreeMap<String, usize> = Default::default();
    for alert in &alerts {
        *by_code
            .entry(alert["code"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let open: Vec<String> = by_code
        .into_iter()
        .map(|(code, n)| format!("{code} ×{n}"))
        .collect();
    println!(
        "    open alerts        {}",
        if open.is_empty() {
            "none".to_string()
        } else {
            open.join(", ")
        }
    );
    println!(
        "    transfers          {} of {} locations transferred their last closed day; {} ledger entries those days",
        transfers.transferred, transfers.requested, transfers.entries
    );
    println!(
        "    retail store       X-Series, {} outlets migrated from its mirrored feed; {} webhooks answered 200",
        store.outlets.len(),
        webhooks.delivered
    );
    for (outlet, date, sold, issued) in &webhooks.days {
        println!(
            "    {:<18} {outlet} {date}: the store sold {sold}, the ledger issued {issued}",
            ""
        );
    }
    if let Some(closures) = closures {
        println!(
            "    {:<18} {} journals per register closure: {} registers closed, {} closure journals",
            "", closures.outlet, closures.closed, journals.per_closure
        );
    }
    println!(
        "    CSV import         {CSV_LOCATION}: {} rows → {} sales and {} refund(s) on {}{}; {} ledger entries; unmapped: {}",
        csv.rows,
        csv.sales,
        csv.refunds,
        csv.date,
        if csv.already_imported { " (imported before: nothing twice)" } else { "" },
        csv.entries,
        if csv.unmapped.is_empty() { "none".to_string() } else { csv.unmapped.join("; ") }
    );
    let statuses: Vec<String> = journals
        .by_status
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    println!(
        "    journals           {}; {} posted moves in Odoo",
        if statuses.is_empty() {
            "none".to_string()
        } else {
            statuses.join(", ")
        },
        journals.moves_in_erp
    );
    println!(
        "    reconciliation     location                     business day  status       exceptions"
    );
    for row in &reconciliation.rows {
        println!(
            "    {:<18} {:<28} {:<13} {:<12} {}",
            "",
            row.name,
            row.date,
            row.status,
            if row.exceptions.is_empty() {
                "none".to_string()
            } else {
                row.exceptions.join(", ")
            }
        );
    }
    if let Some(seeded) = &reconciliation.seeded {
        println!(
            "    seeded exception   {} {}: {} → {}",
            seeded.name,
            seeded.date,
            seeded.exception,
            if seeded.resolved {
                "fixed by transferring the day again; resolved"
            } else {
                "still open"
            }
        );
    }
    println!(
        "    elapsed            {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("\n    The stack keeps running for the next command; stop it with `cargo run -p tillbridge-local -- down`.");
    Ok(())
}
