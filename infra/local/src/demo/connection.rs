//! Step: connect the simulated restaurant group through the real OAuth redirect flow and
//! sync its locations.

use serde_json::{json, Value};

use super::{ok, step, Demo};
use crate::admin_client::Reply;
use crate::Error;

/// What the summary reports of the connection.
pub struct Connected {
    pub integration_status: String,
    pub locations: Vec<Value>,
}

pub async fn connect_and_sync(demo: &Demo) -> Result<Connected, Error> {
    let (api, company) = (&demo.api, &demo.company);
    step("Connect the simulated restaurant group through the OAuth redirect flow (K-Series, V2 auth server)");
    let outcome = connect(demo, "k_series", "Demo restaurant group").await?;
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
    ok("location sync", status, &synced)?;
    let (all, _) = api
        .list_all(&format!("{company}/locations?missing=false"), 100)
        .await?;
    // The group's Lightspeed locations (a re-run also finds the CSV market stall).
    let locations: Vec<Value> = all
        .into_iter()
        .filter(|l| l["product"] == "k_series")
        .collect();
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
    Ok(Connected {
        integration_status: integration["status"].as_str().unwrap_or("?").to_string(),
        locations,
    })
}

/// Starts a connection to `product` (or reauthorizes an existing one) and follows the
/// browser's redirects: tillbridge → Lightspeed consent → oauth-callback → result page.
pub async fn connect(demo: &Demo, product: &str, name: &str) -> Result<String, Error> {
    let (api, company, host) = (&demo.api, &demo.company, &demo.host.base_url);
    let body = json!({"product": product, "name": name});
    let (status, started): Reply = api
        .post(&format!("{company}/integrations"), &body, None)
        .await?;
    let started = match status {
        201 => started,
        // Already connected by an earlier run: reauthorize, which keeps all setup.
        409 => {
            let path = format!("{company}/integrations/{product}/reauthorize");
            let (status, body) = api.request(reqwest::Method::POST, &path, None, &[]).await?;
            ok("reauthorize", status, &body)?;
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
