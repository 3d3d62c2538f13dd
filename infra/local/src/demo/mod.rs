//! The README's main job on the local stack, one module per step: bring the stack up, set
//! up a demo company's catalogue through the admin API, connect and map the simulated
//! restaurant group and retail store, run the 90-day migrations, transfer each location's
//! last closed business day through the worker queue, receive a trading day of the store's
//! sales by webhook (one outlet journalling per register closure, its registers closed at the
//! end), import a CSV site's sales, post the journals, and print what happened.

mod catalogue;
mod connection;
mod csv_import;
mod journals;
mod migration;
mod reconciliation;
mod setup;
mod store;
mod summary;
mod transfers;

use std::time::Instant;

use serde_json::Value;
use tillbridge::lightspeed::settings::KAuthVersion;

use crate::admin_client::AdminClient;
use crate::host::{HostOptions, LocalHost};
use crate::stack::{ensure_up, LocalStack};
use crate::Error;

pub const DEMO_COMPANY: &str = "demo-group";

fn step(text: &str) {
    println!("\n==> {text}");
}

/// A 2xx or the request's own error, named.
fn ok(what: &str, status: u16, body: &Value) -> Result<(), Error> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: {status} {body}").into())
    }
}

/// The ledger entries of storage unit `unit` on business date `date`.
async fn ledger_of(demo: &Demo, unit: &str, date: &str) -> Result<Vec<Value>, Error> {
    let path = format!(
        "{}/ledger?storage_unit_id={unit}&from={date}&to={date}",
        demo.company
    );
    Ok(demo.api.list_all(&path, 100).await?.0)
}

/// What every step works with.
pub struct Demo {
    pub stack: LocalStack,
    pub host: LocalHost,
    pub api: AdminClient,
    /// `/v1/companies/{DEMO_COMPANY}`.
    pub company: String,
    /// Lightspeed (kept for as long as the demo runs: dropping it stops the simulator).
    pub simulator: lightspeed_sim::RunningSimulator,
    /// The ERP the journals post to.
    pub odoo: odoo_sim::RunningOdoo,
}

pub async fn run() -> Result<(), Error> {
    let started = Instant::now();
    let demo = start().await?;
    let catalogue = catalogue::create(&demo).await?;
    let connected = connection::connect_and_sync(&demo).await?;
    journals::connect_and_map(&demo, &connected.locations).await?;
    let setup = setup::map_and_activate(&demo, &connected.locations).await?;
    let store = store::connect_and_activate(&demo).await?;
    let migrating = [connected.locations.as_slice(), store.outlets.as_slice()].concat();
    migration::follow(&demo, &migrating).await?;
    store::migration_requests(&demo, &store).await?;
    let transfers = transfers::last_closed_days(&demo, &connected.locations).await?;
    let closure_outlet = store::journal_per_closure(&demo, &store).await?;
    let webhooks = store::webhooks(&demo, &store).await?;
    let closures = match &closure_outlet {
        Some(outlet) => Some(store::close_registers(&demo, outlet).await?),
        None => None,
    };
    let csv = csv_import::import_market_stall(&demo).await?;
    // The store's webhook day is ahead of the restaurants' (its clock moved on).
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(100), today + chrono::Days::new(2));
    let journals = journals::follow(&demo, &from.to_string(), &to.to_string()).await?;
    let reconciliation = reconciliation::every_location(&demo, &csv).await?;
    let results = summary::Results {
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
    };
    summary::print(&demo, &results, started).await
}

async fn start() -> Result<Demo, Error> {
    step(
        "Local stack: DynamoDB Local + moto (SQS, Secrets Manager), provisioned from template.yaml",
    );
    let stack: LocalStack = ensure_up().await?;
    println!("    DynamoDB  {}", stack.resources.endpoints.dynamodb);
    println!("    moto      {}", stack.resources.endpoints.moto);
    println!("    table     {}", stack.resources.table_name);
    for (id, queue) in &stack.resources.queues {
        println!("    queue     {id:<18} {}", queue.url);
    }
    step("Lightspeed: the simulator (K-Series restaurant group, X-Series store), clock at now");
    let sim_config =
        crate::lightspeed::sim_config_until_today(crate::lightspeed::sim_config().days);
    let sim = crate::lightspeed::start_simulator(sim_config).await?;
    println!("    simulator at {}", sim.base_url());
    step("Odoo: the ERP simulator (JSON-RPC and JSON-2; a GBP and an NZD company)");
    let odoo = odoo_sim::RunningOdoo::start(odoo_sim::OdooConfig::default())
        .await
        .map_err(|e| format!("Odoo simulator: {e}"))?;
    println!("    Odoo at {} (database `{}`)", odoo.base_url(), odoo.db());
    let host = LocalHost::start(
        &stack,
        HostOptions {
            port: 0,
            queues: Default::default(),
            workers: true,
            env: crate::lightspeed::host_env(&sim, KAuthVersion::V2),
        },
    )
    .await?;
    println!(
        "    functions served at {} (admin API under /v1), queue workers polling",
        host.base_url
    );
    let api = AdminClient::new(&host.base_url, host.token(DEMO_COMPANY));
    Ok(Demo {
        stack,
        host,
        api,
        company: format!("/v1/companies/{DEMO_COMPANY}"),
        simulator: sim,
        odoo,
    })
}
