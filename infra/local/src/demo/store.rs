//! Steps for the retail store (X-Series): connect it through its OAuth flow (which
//! subscribes its webhooks), make each product its own stock item, map its payment types and
//! taxes to the NZD company, and activate both outlets (their 90-day migrations read the
//! store's sales feed once, into the mirror); later, move the simulator's clock on so a
//! trading day's sales arrive as signed webhooks, and compare the ledger with the store.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{ok, step, Demo};
use crate::Error;

/// The store's outlets, as the admin API lists them.
pub struct Store {
    pub outlets: Vec<Value>,
}

/// What the webhook step saw.
pub struct Webhooks {
    pub delivered: usize,
    /// Per outlet: (name, business date, quantity the store sold, quantity the ledger issued).
    pub days: Vec<(String, String, String, String)>,
}

/// An outlet by id and name.
pub struct Outlet {
    pub id: String,
    pub name: String,
}

/// The outlet that journals per register closure (its name), and its registers closed.
pub struct Closures {
    pub outlet: String,
    pub closed: usize,
}

/// Longest the demo waits for webhooks to be delivered and worked.
const DEADLINE: Duration = Duration::from_secs(300);

pub async fn connect_and_activate(demo: &Demo) -> Result<Store, Error> {
    step("The retail store (X-Series): OAuth with its domain prefix; connecting subscribes its webhooks");
    let outcome = super::connection::connect(demo, "x_series", "Demo retail store").await?;
    println!("    {outcome}");
    let company = &demo.company;
    let (_, integration) = demo
        .api
        .get(&format!("{company}/integrations/x_series"))
        .await?;
    for hook in integration["webhooks"].as_array().into_iter().flatten() {
        println!(
            "    webhook {:<24} {}",
            hook["type"].as_str().unwrap_or("?"),
            hook["status"].as_str().unwrap_or("?")
        );
    }
    let outlets = sync(demo, "locations").await?;
    let outlets: Vec<Value> = outlets
        .into_iter()
        .filter(|l| l["product"] == "x_series")
        .collect();
    for outlet in &outlets {
        println!(
            "    outlet   {:<28} {} {}",
            outlet["name"].as_str().unwrap_or("?"),
            outlet["timezone"].as_str().unwrap_or("?"),
            outlet["currency"].as_str().unwrap_or("?")
        );
    }
    step(
        "Store stock: each product its own stock item, mapped one to one; a stock room per outlet",
    );
    let mapped = map_products(demo).await?;
    println!("    {mapped} products mapped to their stock items");
    map_accounts(demo, &outlets).await?;
    step("Outlets linked to their stock rooms and activated (each requests its 90-day migration)");
    for outlet in &outlets {
        let name = format!("{} stock room", outlet["name"].as_str().unwrap_or("Outlet"));
        let (status, unit) = demo
            .api
            .post(
                &format!("{company}/storage-units"),
                &json!({"name": name}),
                Some(&name),
            )
            .await?;
        ok(&format!("storage unit {name}"), status, &unit)?;
        super::setup::link_and_activate_one(demo, outlet, &unit).await?;
    }
    Ok(Store { outlets })
}

/// `POST …/{what}/sync` for the store, then every record of that list.
async fn sync(demo: &Demo, what: &str) -> Result<Vec<Value>, Error> {
    sync_from_store(demo, what).await?;
    let (all, _) = demo
        .api
        .list_all(&format!("{}/{what}", demo.company), 100)
        .await?;
    Ok(all)
}

/// `POST …/{what}/sync` of the store's product; its summary.
async fn sync_from_store(demo: &Demo, what: &str) -> Result<Value, Error> {
    let path = format!("{}/{what}/sync", demo.company);
    let body = json!({"product": "x_series"});
    let (status, synced) = demo.api.post(&path, &body, None).await?;
    ok(&format!("{what} sync"), status, &synced)?;
    Ok(synced)
}

/// Every product still sold becomes a stock item (`RTL-{sku}`, each) and is mapped to it.
async fn map_products(demo: &Demo) -> Result<usize, Error> {
    let company = &demo.company;
    let items = sync(demo, "items").await?;
    let mut mapped = 0;
    for item in items
        .iter()
        .filter(|i| i["product"] == "x_series" && i["deleted_upstream"] != true)
    {
        let (name, sku) = (
            item["name"].as_str().unwrap_or("?"),
            item["sku"].as_str().unwrap_or("?"),
        );
        let code = format!("RTL-{sku}");
        let (status, stock) = demo
            .api
            .post(
                &format!("{company}/ingredients"),
                &json!({"name": name, "unit": "each", "sku": code}),
                Some(&code),
            )
            .await?;
        ok(&format!("stock item {code}"), status, &stock)?;
        let item_id = item["item_id"].as_str().unwrap_or_default();
        let path = format!("{company}/items/x_series/{item_id}/mapping");
        let body = json!({"ingredient_id": stock["id"], "quantity": "1"});
        let (status, mapping) = demo.api.put(&path, &body).await?;
        ok(&format!("mapping {name}"), status, &mapping)?;
        mapped += 1;
    }
    Ok(mapped)
}

/// The outlets post to the NZD company: payment types from `accounts.json`
/// (`x_series_outlets`, `On account` to the receivable), every synced tax to its tax
/// account.
async fn map_accounts(demo: &Demo, outlets: &[Value]) -> Result<(), Error> {
    let company = &demo.company;
    let file = crate::paths::root().join("infra/local/demo/accounts.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let accounts = &sample["x_series_outlets"];
    let synced = sync_from_store(demo, "account-mappings").await?;
    let taxes: serde_json::Map<String, Value> = synced["tax_codes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t["code"].as_str()?.to_string(),
                accounts["tax_account"].clone(),
            ))
        })
        .collect();
    let mapping = json!({
        "payment_methods": accounts["payment_methods"],
        "tax_codes": taxes,
        "erp_company_id": accounts["erp_company_id"],
    });
    for outlet in outlets {
        let id = outlet["location_id"].as_str().unwrap_or_default();
        let path = format!("{company}/account-mappings/locations/{id}");
        let (status, saved) = demo.api.put(&path, &mapping).await?;
        ok("outlet account mapping", status, &saved)?;
    }
    println!(
        "    accounts     {} payment types (On account → the receivable) and {} taxes, posting to ERP company {}",
        accounts["payment_methods"].as_object().map_or(0, |m| m.len()),
        taxes.len(),
        accounts["erp_company_id"]
    );
    Ok(())
}

/// What the outlets' migrations cost in Lightspeed requests (their transfer logs say).
pub async fn migration_requests(demo: &Demo, store: &Store) -> Result<(), Error> {
    let (mut days, mut requests) = (0, 0);
    for outlet in &store.outlets {
        let id = outlet["location_id"].as_str().unwrap_or_default();
        let (logs, _) = demo
            .api
            .list_all(
                &format!("{}/locations/{id}/transfer-logs", demo.company),
                100,
            )
            .await?;
        days += logs.len();
        requests += logs
            .iter()
            .filter_map(|l| l["stats"]["api_response_summary"]["requests"].as_u64())
            .sum::<u64>();
    }
    println!(
        "    the store's {days} outlet-days cost {requests} Lightspeed requests: its sales feed read once into the mirror, then one page a day for what changed"
    );
    Ok(())
}

pub async fn webhooks(demo: &Demo, store: &Store) -> Result<Webhooks, Error> {
    step("A trading day by webhook: the simulator's clock moves on 17 hours; each sale it completes is delivered signed to /webhooks/lightspeed, queued, and its outlet's day transferred; a day that closed meanwhile gets its daily transfer too (its sales from before the clock moved)");
    let sim = &demo.simulator;
    let before = sim.state().clock.now();
    let http = reqwest::Client::new();
    let moved: Value = http
        .post(format!("{}/_sim/clock", sim.base_url()))
        .json(&json!({"advanceSeconds": 17 * 3600}))
        .send()
        .await?
        .json()
        .await?;
    let fired = moved["webhooksQueued"].as_u64().unwrap_or(0) as usize;
    println!(
        "    clock {} → {}: {} sale revisions released, {fired} webhooks sent",
        moved["previous"].as_str().unwrap_or("?"),
        moved["now"].as_str().unwrap_or("?"),
        moved["xRevisionsReleased"]
    );
    let started = Instant::now();
    let delivered = delivered(demo, fired, started).await?;
    settle(demo, started).await?;
    println!(
        "    {delivered} deliveries answered 200; queues empty after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut days = Vec::new();
    for outlet in &store.outlets {
        days.extend(compare_days(demo, outlet, before).await?);
    }
    Ok(Webhooks { delivered, days })
}

/// Waits until the simulator has seen `fired` more 200 answers from the host.
async fn delivered(demo: &Demo, fired: usize, started: Instant) -> Result<usize, Error> {
    let url = format!("{}/_sim/x/webhooks/attempts", demo.simulator.base_url());
    loop {
        let attempts: Value = reqwest::get(&url).await?.json().await?;
        let answered = answered(&attempts);
        if answered >= fired || started.elapsed() > DEADLINE {
            return Ok(answered);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the sales-events and transfer queues hold nothing, seen or in flight.
async fn settle(demo: &Demo, started: Instant) -> Result<(), Error> {
    let sqs = crate::provision::Clients::new(&demo.stack.resources.endpoints)
        .await
        .sqs;
    let mut quiet = 0;
    while quiet < 3 && started.elapsed() < DEADLINE {
        let mut busy = 0;
        for id in ["SalesEventsQueue", "TransferQueue"] {
            let url = demo.stack.resources.queue(id)?.url.clone();
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await?;
            for name in [
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            ] {
                busy += attributes
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        quiet = if busy == 0 { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

/// Each of the outlet's business days the clock moved through (one or two, as the 17 hours
/// fall against its time zone and cutoff): what the simulator's store sold (its own
/// records) against what the ledger issued.
async fn compare_days(
    demo: &Demo,
    outlet: &Value,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, String, String, String)>, Error> {
    let mode = super::transfers::day_mode(outlet);
    let now = demo.simulator.state().clock.now();
    let mut date = tillbridge::location::business_day::business_date(mode, before);
    let last = tillbridge::location::business_day::business_date(mode, now);
    let mut days = Vec::new();
    while date <= last {
        if date < last {
            // Closed now: its daily transfer (what the fan-out queues after the cutoff)
            // brings in the day's sales from before the clock moved, which no webhook
            // announced; a day the webhooks already posted changes nothing.
            daily_transfer(demo, outlet, date).await?;
        }
        days.push(compare_day(demo, outlet, date).await?);
        date = date.succ_opt().ok_or("the calendar ended")?;
    }
    Ok(days)
}

async fn daily_transfer(demo: &Demo, outlet: &Value, date: chrono::NaiveDate) -> Result<(), Error> {
    let id = outlet["location_id"].as_str().unwrap_or_default();
    let path = format!("{}/locations/{id}/transfers", demo.company);
    let (status, result) = demo
        .api
        .post(&path, &json!({"date": date.to_string()}), None)
        .await?;
    ok("the closed day's transfer", status, &result)
}

async fn compare_day(
    demo: &Demo,
    outlet: &Value,
    date: chrono::NaiveDate,
) -> Result<(String, String, String, String), Error> {
    let mode = super::transfers::day_mode(outlet);
    let now = demo.simulator.state().clock.now();
    let window = tillbridge::location::business_day::window(mode, date);
    let id = outlet["location_id"].as_str().unwrap_or_default();
    let sold: rust_decimal::Decimal = {
        let store = demo.simulator.state().x();
        store
            .sales
            .iter()
            .filter(|s| s.outlet_id == id)
            .filter(|s| s.stock_moved_at(now).is_some_and(|at| window.contains(at)))
            .flat_map(|s| s.lines.iter().map(|l| l.quantity))
            .sum()
    };
    let (_, location) = demo
        .api
        .get(&format!("{}/locations/{id}", demo.company))
        .await?;
    let unit = location["storage_unit"]["id"].as_str().unwrap_or_default();
    let entries = super::ledger_of(demo, unit, &date.to_string()).await?;
    let issued: rust_decimal::Decimal = entries
        .iter()
        .filter_map(|e| match &e["quantity"] {
            Value::String(text) => text.parse::<rust_decimal::Decimal>().ok(),
            Value::Number(n) => n.to_string().parse().ok(),
            _ => None,
        })
        .sum();
    let name = outlet["name"].as_str().unwrap_or("?").to_string();
    if sold != issued {
        return Err(format!(
            "{name} {date}: the store sold {sold} units but the ledger issued {issued}"
        )
        .into());
    }
    println!(
        "    {name:<28} {date}: the store sold {} units, the ledger issued the same",
        sold.normalize()
    );
    Ok((
        name,
        date.to_string(),
        sold.normalize().to_string(),
        issued.normalize().to_string(),
    ))
}

/// The store's first outlet journals per register closure from here on: set before its
/// trading day, so none of the day's sales is in a day journal as well.
pub async fn journal_per_closure(demo: &Demo, store: &Store) -> Result<Option<Outlet>, Error> {
    let Some(outlet) = store.outlets.first() else {
        return Ok(None);
    };
    let id = outlet["location_id"].as_str().unwrap_or_default();
    step(&format!(
        "{}: journals per register closure (PATCH journal_per: register_closure)",
        outlet["name"].as_str().unwrap_or(id)
    ));
    let (status, body) = demo
        .api
        .patch(
            &format!("{}/locations/{id}", demo.company),
            &json!({"journal_per": "register_closure"}),
        )
        .await?;
    ok("journal per register closure", status, &body)?;
    Ok(Some(Outlet {
        id: id.to_string(),
        name: outlet["name"].as_str().unwrap_or(id).to_string(),
    }))
}

/// Closes each register of the outlet at the end of its trading day: the simulator sends
/// `register_closure.create`, and each closure's journal is queued (posted by the journal
/// step) with the sales rung up on that register while it was open.
pub async fn close_registers(demo: &Demo, outlet: &Outlet) -> Result<Closures, Error> {
    step("Register closures: each register of that outlet closes; its webhook queues the journal of the register's sales while it was open");
    let registers: Vec<String> = {
        let store = demo.simulator.state().x();
        store
            .registers
            .iter()
            .filter(|r| r.outlet_id == outlet.id)
            .map(|r| r.id.clone())
            .collect()
    };
    let http = reqwest::Client::new();
    let url = format!("{}/_sim/x/webhooks/attempts", demo.simulator.base_url());
    let answered_before = answered(&reqwest::get(&url).await?.json().await?);
    for register in &registers {
        let response = http
            .post(format!(
                "{}/_sim/x/registers/{register}/close",
                demo.simulator.base_url()
            ))
            .send()
            .await?;
        let status = response.status().as_u16();
        ok("register closure", status, &response.json().await?)?;
    }
    let started = Instant::now();
    let delivered = delivered(demo, answered_before + registers.len(), started).await?;
    settle(demo, started).await?;
    println!(
        "    {} registers closed, {} closure deliveries answered 200",
        registers.len(),
        delivered.saturating_sub(answered_before)
    );
    Ok(Closures {
        outlet: outlet.name.clone(),
        closed: registers.len(),
    })
}

fn answered(attempts: &Value) -> usize {
    attempts
        .as_array()
        .map_or(0, |a| a.iter().filter(|a| a["status"] == 200).count())
}
