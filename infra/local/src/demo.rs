//! The README's main job on the local stack: bring the stack up, set up a demo company's
//! catalogue through the admin API, push a transfer request through the worker queue,
//! and print what happened.

use std::time::{Duration, Instant};

use serde_json::json;
use tillbridge::queue::CORRELATION_ATTRIBUTE;
use tillbridge::transfer::TransferRequest;

use tillbridge::connection::PosProduct;
use tillbridge::lightspeed::client::Connection;
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
const INGREDIENTS: [(&str, &str, &str); 8] = [
    ("Coffee beans", "kg", "ING-COFFEE"),
    ("Cola bottle 0.33 l", "bottle", "ING-COLA"),
    ("Burger bun", "piece", "ING-BUN"),
    ("Beef patty 180 g", "piece", "ING-PATTY"),
    ("Tomato", "kg", "ING-TOMATO"),
    ("Mozzarella", "kg", "ING-MOZZ"),
    ("Pizza dough ball", "piece", "ING-DOUGH"),
    ("Vodka", "l", "ING-VODKA"),
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
    let mut sim_config = crate::lightspeed::sim_config();
    sim_config.now = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(chrono::Utc::now);
    let sim = crate::lightspeed::start_simulator(sim_config).await?;
    println!("    simulator at {}", sim.base_url());
    let lightspeed_env = crate::lightspeed::host_env(&sim, KAuthVersion::V2);
    let host = LocalHost::start(
        &stack,
        HostOptions {
            port: 0,
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
    for (name, unit, sku) in INGREDIENTS {
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
    let worker =
        LocalHost::function_deps(&stack, &host, "transfer-worker", &lightspeed_env).await?;
    let connection = Connection {
        company_id: DEMO_COMPANY.into(),
        product: PosProduct::KSeries,
        domain_prefix: None,
    };
    let businesses = worker
        .lightspeed
        .get_json(&connection, "/f/data/businesses", &[])
        .await?;
    let mut locations = 0;
    for business in businesses["_embedded"]["businessList"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for location in business["businessLocations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            locations += 1;
            println!(
                "    location {:<16} {:<32} {:<22} {}",
                location["blID"],
                location["blName"].as_str().unwrap_or("?"),
                location["timezone"].as_str().unwrap_or("?"),
                business["currencyCode"].as_str().unwrap_or("?")
            );
        }
    }

    step(
        "Worker round trip: a transfer request on the transfer queue, processed by transfer-worker",
    );
    let request = TransferRequest {
        request_uuid: uuid::Uuid::new_v4().to_string(),
        company_id: DEMO_COMPANY.into(),
        location_id: "demo-location".into(),
        business_date: Some((chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string()),
        attempt: 1,
        force_refresh: false,
        requested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let clients = crate::provision::Clients::new(&stack.resources.endpoints).await;
    let queue = stack.resources.queue("TransferQueue")?;
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
    let logs_path = format!("{company}/locations/demo-location/transfer-logs?limit=100");
    let deadline = Instant::now() + Duration::from_secs(30);
    let log = loop {
        let (_, body) = api.get(&logs_path).await?;
        let found = body["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|l| l["request_uuid"] == request.request_uuid.as_str())
                .cloned()
        });
        if let Some(log) = found {
            break log;
        }
        if Instant::now() > deadline {
            return Err("the transfer worker did not log the request within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "    transfer log {} for {}: {} — {}",
        log["log_id"].as_str().unwrap_or("?"),
        log["date"].as_str().unwrap_or("?"),
        log["error"]["code"].as_str().unwrap_or("ok"),
        log["error"]["message"].as_str().unwrap_or("")
    );

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
        "    Lightspeed         K-Series `{}`, {locations} locations read with the stored token",
        integration["status"].as_str().unwrap_or("?")
    );
    println!(
        "    transfer worker    request {} → log status `{}`",
        request.request_uuid,
        log["status"].as_str().unwrap_or("?")
    );
    println!(
        "    elapsed            {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("\n    The stack keeps running for the next command; stop it with `cargo run -p tillbridge-local -- down`.");
    Ok(())
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
