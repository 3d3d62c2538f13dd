//! The README's main job on the local stack: bring the stack up, set up a demo company's
//! catalogue through the admin API, connect and map the simulated group, transfer
//! yesterday for every location through the worker queue, and print what happened.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tillbridge::queue::CORRELATION_ATTRIBUTE;
use tillbridge::transfer::TransferRequest;

use tillbridge::lightspeed::settings::KAuthVersion;

use crate::admin_client::{AdminClient, Reply};
use crate::host::{HostOptions, LocalHost};
use crate::stack::{ensure_up, LocalStack};
use crate::Error;

pub const DEMO_COMPANY: &str = "demo-group";

const STORAGE_UNITS: [(&str, &str); 3] = [
    ("Main Kitchen", "MK"),
    ("Bar Storage", "BAR"),
    ("Terrace Storage", "TER"),
];
/// Name, unit, SKU, and one opening stock receipt (quantity, value) for the average cost.
/// Name, unit, SKU, opening quantity, and its value in GBP (London) and NZD (Auckland):
/// costs are kept per currency, so each location is valued in its own.
const INGREDIENTS: [(&str, &str, &str, &str, &str, &str); 8] = [
    ("Coffee beans", "kg", "ING-COFFEE", "20", "366.00", "752.00"),
    (
        "Cola bottle 0.33 l",
        "bottle",
        "ING-COLA",
        "960",
        "432.00",
        "873.60",
    ),
    ("Burger bun", "piece", "ING-BUN", "1200", "348.00", "720.00"),
    (
        "Beef patty 180 g",
        "piece",
        "ING-PATTY",
        "1000",
        "1690.00",
        "3420.00",
    ),
    ("Tomato", "kg", "ING-TOMATO", "60", "145.80", "297.00"),
    ("Mozzarella", "kg", "ING-MOZZ", "40", "335.60", "688.00"),
    (
        "Pizza dough ball",
        "piece",
        "ING-DOUGH",
        "800",
        "312.00",
        "640.00",
    ),
    ("Vodka", "l", "ING-VODKA", "30", "474.00", "969.00"),
];

fn step(text: &str) {
    println!("\n==> {text}");
}

pub async fn run() -> Result<(), Error> {
    let started = Instant::now();
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
    step("Lightspeed: the simulator (K-Series restaurant group, X-Series store), clock at today 12:00 UTC");
    let sim_config =
        crate::lightspeed::sim_config_until_today(crate::lightspeed::sim_config().days);
    let sim = crate::lightspeed::start_simulator(sim_config).await?;
    println!("    simulator at {}", sim.base_url());
    let lightspeed_env = crate::lightspeed::host_env(&sim, KAuthVersion::V2);
    let host = LocalHost::start(
        &stack,
        HostOptions {
            port: 0,
            queues: Default::default(),
            workers: true,
            env: lightspeed_env.clone(),
        },
    )
    .await?;
    println!(
        "    functions served at {} (admin API under /v1), queue workers polling",
        host.base_url
    );

    let api = AdminClient::new(&host.base_url, host.token(DEMO_COMPANY));
    let company = format!("/v1/companies/{DEMO_COMPANY}");

    step(&format!("Catalogue of company `{DEMO_COMPANY}` through the admin API (idempotent: re-runs create nothing new)"));
    for (name, code) in STORAGE_UNITS {
        let (status, body) = api
            .post(
                &format!("{company}/storage-units"),
                &json!({"name": name, "code": code}),
                Some(code),
            )
            .await?;
        if !(status == 200 || status == 201) {
            return Err(format!("creating storage unit {name}: {status} {body}").into());
        }
        println!(
            "    storage unit {:<16} {} ({})",
            name,
            body["id"].as_str().unwrap_or("?"),
            if status == 201 {
                "created"
            } else {
                "already there"
            }
        );
    }
    for (name, unit, sku, quantity, gbp, nzd) in INGREDIENTS {
        let (status, body) = api
            .post(
                &format!("{company}/ingredients"),
                &json!({"name": name, "unit": unit, "sku": sku}),
                Some(sku),
            )
            .await?;
        if !(status == 200 || status == 201) {
            return Err(format!("creating ingredient {name}: {status} {body}").into());
        }
        let id = body["id"].as_str().unwrap_or_default();
        for (currency, value) in [("GBP", gbp), ("NZD", nzd)] {
            let (status, receipt) = api
                .post(
                    &format!("{company}/ingredients/{id}/receipts"),
                    &json!({"quantity": quantity, "value": value, "currency": currency,
                            "reference": "opening stock"}),
                    Some(&format!("opening-{currency}-{sku}")),
                )
                .await?;
            if !(status == 200 || status == 201) {
                return Err(format!("opening stock of {name}: {status} {receipt}").into());
            }
        }
        println!(
            "    ingredient   {:<20} {:<7} ({})",
            name,
            unit,
            if status == 201 {
                "created"
            } else {
                "already there"
            }
        );
    }
    let (units, unit_pages) = api.list_all(&format!("{company}/storage-units"), 2).await?;
    let (ingredients, ingredient_pages) =
        api.list_all(&format!("{company}/ingredients"), 5).await?;

    step("Connect the simulated restaurant group through the OAuth redirect flow (K-Series, V2 auth server)");
    let outcome = connect(&api, &company, &host.base_url).await?;
    println!("    {outcome}");
    let (_, integration) = api.get(&format!("{company}/integrations/k_series")).await?;
    println!(
        "    integration status `{}`, access token expires {}, refresh token expires {}",
        integration["status"].as_str().unwrap_or("?"),
        integration["access_token_expires_at"]
            .as_str()
            .unwrap_or("?"),
        integration["refresh_token_expires_at"]
            .as_str()
            .unwrap_or("never")
    );
    step("Locations: synced from Lightspeed (flattened businesses, time zone, currency)");
    let (status, synced) = api
        .post(
            &format!("{company}/locations/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await?;
    if status != 200 {
        return Err(format!("location sync: {status} {synced}").into());
    }
    let (locations, _) = api
        .list_all(&format!("{company}/locations?missing=false"), 100)
        .await?;
    for location in &locations {
        println!(
            "    location {:<16} {:<28} {:<20} {} cutoff {:02}:00",
            location["location_id"].as_str().unwrap_or("?"),
            location["name"].as_str().unwrap_or("?"),
            location["timezone"].as_str().unwrap_or("?"),
            location["currency"].as_str().unwrap_or("?"),
            location["day_cutoff_hour"].as_u64().unwrap_or(4)
        );
    }

    step("Recipes (infra/local/demo/recipes.json) and items synced per location");
    let recipes_file = crate::paths::root().join("infra/local/demo/recipes.json");
    let recipes: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&recipes_file)?)?;
    let (all_ingredients, _) = api.list_all(&format!("{company}/ingredients"), 100).await?;
    for recipe in &recipes {
        let lines: Vec<Value> = recipe["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|line| {
                let sku = line["ingredient"].as_str().unwrap_or_default();
                let id = all_ingredients
                    .iter()
                    .find(|i| i["sku"] == sku)
                    .map(|i| i["id"].clone())
                    .unwrap_or(Value::Null);
                let mut out = json!({"ingredient_id": id, "quantity": line["quantity"]});
                if !line["trim_pct"].is_null() {
                    out["trim_pct"] = line["trim_pct"].clone();
                }
                out
            })
            .collect();
        let name = recipe["name"].as_str().unwrap_or("?");
        let (status, body) = api
            .post(
                &format!("{company}/recipes"),
                &json!({"name": name, "lines": lines}),
                Some(name),
            )
            .await?;
        if !(status == 200 || status == 201) {
            return Err(format!("recipe {name}: {status} {body}").into());
        }
        println!(
            "    recipe       {name:<20} {} lines",
            body["lines"].as_array().map(Vec::len).unwrap_or(0)
        );
    }
    let (status, item_sync) = api
        .post(
            &format!("{company}/items/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await?;
    if status != 200 {
        return Err(format!("item sync: {status} {item_sync}").into());
    }
    println!(
        "    items        {} distinct across locations, {} Items API requests",
        item_sync["seen"], item_sync["requests"]
    );

    step("Mappings from infra/local/demo/mappings.csv (checked whole before anything is written)");
    let mapping_text =
        std::fs::read_to_string(crate::paths::root().join("infra/local/demo/mappings.csv"))?;
    let (rows, mapped) = crate::mapping_file::apply(&api, DEMO_COMPANY, &mapping_text).await?;
    println!("    {rows} rows → {mapped} item mappings (a menu name sold by both businesses maps both items)");

    step("Storage units linked, locations activated (activation requests each 90-day migration)");
    let (units_now, _) = api
        .list_all(&format!("{company}/storage-units"), 100)
        .await?;
    let mut activated = 0;
    // Each site deducts from its own storage unit, paired in the order of STORAGE_UNITS.
    for (location, (unit_name, _)) in locations.iter().zip(STORAGE_UNITS) {
        let Some(unit) = units_now.iter().find(|u| u["name"] == unit_name) else {
            return Err(format!("storage unit {unit_name} is missing").into());
        };
        let id = location["location_id"].as_str().unwrap_or_default();
        let body = json!({"storage_unit_id": unit["id"]})
            .to_string()
            .into_bytes();
        let (status, linked) = api
            .request(
                reqwest::Method::PUT,
                &format!("{company}/locations/{id}/storage-unit"),
                Some(("application/json", body)),
                &[],
            )
            .await?;
        if status != 200 {
            return Err(format!("link {id}: {status} {linked}").into());
        }
        let (status, result) = api
            .request(
                reqwest::Method::POST,
                &format!("{company}/locations/{id}/activate"),
                None,
                &[],
            )
            .await?;
        if !(status == 200 || status == 201) {
            return Err(format!("activate {id}: {status} {result}").into());
        }
        activated += 1;
        println!(
            "    {:<28} → {:<16} activated {}{}",
            location["name"].as_str().unwrap_or("?"),
            unit["name"].as_str().unwrap_or("?"),
            result["location"]["activated_at"].as_str().unwrap_or("?"),
            if result["migration_requested"] == true {
                ", migration requested"
            } else {
                ""
            }
        );
    }
    step("90-day migration of every location (migration workers, one business day per message)");
    let started_migration = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut last_quarter: Vec<u64> = Vec::new();
    let last_jobs: Vec<Value> = loop {
        let mut jobs = Vec::new();
        for location in &locations {
            let id = location["location_id"].as_str().unwrap_or_default();
            let (_, body) = api
                .get(&format!("{company}/locations/{id}/migrations?limit=1"))
                .await?;
            jobs.push(body["items"][0].clone());
        }
        let line: Vec<String> = locations
            .iter()
            .zip(&jobs)
            .map(|(l, j)| {
                let pct = j["progress_percent"].as_u64().unwrap_or(0);
                let filled = (pct / 10) as usize;
                format!(
                    "{} [{}{}] {pct:>3}%",
                    l["name"]
                        .as_str()
                        .unwrap_or("?")
                        .trim_start_matches("Copper Pot – "),
                    "#".repeat(filled),
                    ".".repeat(10 - filled.min(10))
                )
            })
            .collect();
        // A live bar on a terminal; in a log, a line per quarter of progress.
        let quarter: Vec<u64> = jobs
            .iter()
            .map(|j| j["progress_percent"].as_u64().unwrap_or(0) / 25)
            .collect();
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            print!("\r    {}", line.join("  "));
            let _ = std::io::Write::flush(&mut std::io::stdout());
        } else if quarter != last_quarter {
            println!("    {}", line.join("  "));
            last_quarter = quarter;
        }
        let open = jobs
            .iter()
            .any(|j| matches!(j["status"].as_str(), Some("pending") | Some("running")));
        if !open || Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!();
    for (location, job) in locations.iter().zip(&last_jobs) {
        println!(
            "    {:<28} {} → {}: {}, {} days processed, {} skipped, {} failed",
            location["name"].as_str().unwrap_or("?"),
            job["start_date"].as_str().unwrap_or("?"),
            job["end_date"].as_str().unwrap_or("?"),
            job["status"].as_str().unwrap_or("none"),
            job["days_processed"],
            job["days_skipped"],
            job["days_failed"]
        );
    }
    println!(
        "    migration wall time {:.1} s",
        started_migration.elapsed().as_secs_f64()
    );

    step("Yesterday's transfer for every location: one request each on the transfer queue, run by transfer-worker");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    let clients = crate::provision::Clients::new(&stack.resources.endpoints).await;
    let queue = stack.resources.queue("TransferQueue")?;
    let mut requests = Vec::new();
    for location in &locations {
        let location_id = location["location_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let request = TransferRequest {
            request_uuid: uuid::Uuid::new_v4().to_string(),
            company_id: DEMO_COMPANY.into(),
            location_id: location_id.clone(),
            business_date: Some(yesterday.clone()),
            attempt: 1,
            force_refresh: true,
            requested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        clients
            .sqs
            .send_message()
            .queue_url(&queue.url)
            .message_body(serde_json::to_string(&request)?)
            .message_attributes(
                CORRELATION_ATTRIBUTE,
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(&request.request_uuid)
                    .build()?,
            )
            .send()
            .await?;
        requests.push((location.clone(), request));
    }
    let mut transferred = 0;
    let mut entries_total = 0;
    for (location, request) in &requests {
        let log = wait_for_log(&api, &company, request).await?;
        let stats = &log["stats"];
        let name = location["name"].as_str().unwrap_or("?");
        if log["success"] != true {
            println!(
                "    {name:<28} {yesterday}: {} — {}",
                log["error"]["code"].as_str().unwrap_or("failed"),
                log["error"]["message"].as_str().unwrap_or("")
            );
            continue;
        }
        transferred += 1;
        let created = stats["ledger_entries_created"].as_u64().unwrap_or(0);
        let (_, detail) = api
            .get(&format!("{company}/locations/{}", request.location_id))
            .await?;
        let unit = detail["location"]["storage_unit_id"]
            .as_str()
            .unwrap_or_default();
        let (_, ledger) = api
            .get(&format!(
                "{company}/ledger?storage_unit_id={unit}&from={yesterday}&to={yesterday}&limit=100"
            ))
            .await?;
        let day_entries = ledger["items"].as_array().map(Vec::len).unwrap_or(0);
        entries_total += day_entries;
        let value: rust_decimal::Decimal = ledger["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e["value"]
                    .as_str()
                    .and_then(|v| v.parse::<rust_decimal::Decimal>().ok())
            })
            .sum();
        println!(
            "    {name:<28} {yesterday}: {} sales, {} lines processed now, {} skipped → {created} new entries; the day holds {day_entries} entries, {value} {} issued at average cost{}",
            stats["sales_count"],
            stats["lines_processed"],
            stats["lines_skipped"],
            location["currency"].as_str().unwrap_or(""),
            if log["no_data"] == true { " (no sales that day)" } else { "" }
        );
        let unmapped: Vec<String> = stats["unmapped"]
            .as_array()
            .into_iter()
            .flatten()
            .take(3)
            .map(|u| {
                format!(
                    "{} × {}",
                    u["quantity"].as_str().unwrap_or("?"),
                    u["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if !unmapped.is_empty() {
            println!(
                "    {:<28} unmapped, largest first: {}{}",
                "",
                unmapped.join(", "),
                match stats["unmapped_names"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(0)
                {
                    n if n > 3 => format!(" (+{} more; edit infra/local/demo/mappings.csv)", n - 3),
                    _ => String::new(),
                }
            );
        }
    }

    step("Summary");
    println!("    company            {DEMO_COMPANY}");
    println!(
        "    storage units      {} (read back in {unit_pages} pages of 2)",
        units.len()
    );
    println!(
        "    ingredients        {} (read back in {ingredient_pages} pages of 5)",
        ingredients.len()
    );
    println!(
        "    Lightspeed         K-Series `{}`; {} locations, {} items synced",
        integration["status"].as_str().unwrap_or("?"),
        locations.len(),
        item_sync["seen"]
    );
    println!(
        "    setup              {mapped} item mappings, {activated} locations linked and activated"
    );
    let (_, alerts) = api.get(&format!("{company}/alerts?status=open")).await?;
    let open: Vec<String> = alerts["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            format!(
                "{} ({})",
                a["code"].as_str().unwrap_or("?"),
                a["subject"].as_str().unwrap_or("?")
            )
        })
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
        "    transfers          {transferred} of {} locations transferred {yesterday}; {entries_total} ledger entries that day",
        requests.len()
    );
    println!(
        "    elapsed            {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("\n    The stack keeps running for the next command; stop it with `cargo run -p tillbridge-local -- down`.");
    Ok(())
}

/// Waits for the transfer worker to log a request's final attempt (retries included).
async fn wait_for_log(
    api: &AdminClient,
    company: &str,
    request: &TransferRequest,
) -> Result<Value, Error> {
    let logs_path = format!(
        "{company}/locations/{}/transfer-logs?limit=100",
        request.location_id
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = api.get(&logs_path).await?;
        let last = body["items"].as_array().and_then(|items| {
            items
                .iter()
                .filter(|l| {
                    l["request_uuid"] == request.request_uuid.as_str() && l["retry"].is_null()
                })
                .max_by_key(|l| l["attempt"].as_u64())
                .cloned()
        });
        if let Some(log) = last {
            return Ok(log);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the transfer of {} was not logged within 120 s",
                request.location_id
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Starts a connection (or reauthorizes an existing one) and follows the browser's
/// redirects: tillbridge → Lightspeed consent → oauth-callback → result page.
async fn connect(api: &AdminClient, company: &str, host: &str) -> Result<String, Error> {
    let body = json!({"product": "k_series", "name": "Demo restaurant group"});
    let (status, started): Reply = api
        .post(&format!("{company}/integrations"), &body, None)
        .await?;
    let started = match status {
        201 => started,
        // Already connected by an earlier run: reauthorize, which keeps all setup.
        409 => {
            let path = format!("{company}/integrations/k_series/reauthorize");
            let (status, body) = api.request(reqwest::Method::POST, &path, None, &[]).await?;
            if status != 200 {
                return Err(format!("reauthorize: {status} {body}").into());
            }
            body
        }
        _ => return Err(format!("start connection: {status} {started}").into()),
    };
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut url = started["authorize_url"]
        .as_str()
        .ok_or("no authorize_url")?
        .to_string();
    for _ in 0..3 {
        let response = browser.get(&url).send().await?;
        let Some(location) = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
        else {
            break;
        };
        url = location.to_string();
        if url.contains("/oauth/result") {
            break;
        }
    }
    let result = reqwest::Url::parse(&url)?;
    let outcome: std::collections::HashMap<_, _> = result.query_pairs().into_owned().collect();
    match outcome.get("outcome").map(String::as_str) {
        Some("connected") if url.starts_with(host) => Ok(format!(
            "connected; the browser landed on {}",
            result.path()
        )),
        _ => Err(format!("the connection did not complete: {outcome:?}").into()),
    }
}
