//! Step: each location's last closed business day (its time zone and cutoff), one request
//! per location on the transfer queue, run by the transfer worker; then what each posted.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tillbridge::location::business_day::{self, DayMode};
use tillbridge::queue::CORRELATION_ATTRIBUTE;
use tillbridge::transfer::TransferRequest;

use super::{step, Demo, DEMO_COMPANY};
use crate::admin_client::AdminClient;
use crate::Error;

/// What the summary reports of the transfers.
pub struct Transfers {
    pub requested: usize,
    pub transferred: usize,
    pub entries: usize,
}

/// A location's business-day rule as the admin API shows it.
pub(super) fn day_mode(location: &Value) -> DayMode {
    let zone = location["timezone"].as_str().and_then(|tz| tz.parse().ok());
    match (location["day_mode"].as_str(), zone) {
        (Some("utc"), _) | (_, None) => DayMode::Utc,
        (_, Some(tz)) => DayMode::Local {
            tz,
            cutoff_hour: location["day_cutoff_hour"]
                .as_u64()
                .and_then(|h| u32::try_from(h).ok())
                .unwrap_or(business_day::DEFAULT_CUTOFF_HOUR),
        },
    }
}

/// The newest business date whose window has ended by `now`: the one before the date
/// `now` falls in (which is still open).
pub fn last_closed_day(mode: DayMode, now: DateTime<Utc>) -> NaiveDate {
    let open = business_day::business_date(mode, now);
    open.pred_opt().unwrap_or(open)
}

pub async fn last_closed_days(demo: &Demo, locations: &[Value]) -> Result<Transfers, Error> {
    step("Each location's last closed business day (its zone and cutoff): one request each on the transfer queue, run by transfer-worker");
    let now = Utc::now();
    let sqs = crate::provision::Clients::new(&demo.stack.resources.endpoints)
        .await
        .sqs;
    let queue_url = demo.stack.resources.queue("TransferQueue")?.url.clone();
    let mut requests = Vec::new();
    for location in locations {
        let date = last_closed_day(day_mode(location), now);
        let request = TransferRequest {
            request_uuid: uuid::Uuid::new_v4().to_string(),
            company_id: DEMO_COMPANY.into(),
            location_id: location["location_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            business_date: Some(date.to_string()),
            attempt: 1,
            force_refresh: true,
            requested_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        enqueue(&sqs, &queue_url, &request).await?;
        requests.push((location, request));
    }
    let mut transferred = 0;
    let mut entries = 0;
    for (location, request) in &requests {
        let log = wait_for_log(&demo.api, &demo.company, request).await?;
        if let Some(day_entries) = report(demo, location, request, &log).await? {
            transferred += 1;
            entries += day_entries;
        }
    }
    Ok(Transfers {
        requested: requests.len(),
        transferred,
        entries,
    })
}

async fn enqueue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    request: &TransferRequest,
) -> Result<(), Error> {
    sqs.send_message()
        .queue_url(queue_url)
        .message_body(serde_json::to_string(request)?)
        .message_attributes(
            CORRELATION_ATTRIBUTE,
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(&request.request_uuid)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// Prints one location's transfer; the number of ledger entries the day holds when it
/// succeeded.
async fn report(
    demo: &Demo,
    location: &Value,
    request: &TransferRequest,
    log: &Value,
) -> Result<Option<usize>, Error> {
    let (api, company) = (&demo.api, &demo.company);
    let stats = &log["stats"];
    let name = location["name"].as_str().unwrap_or("?");
    let date = request.business_date.as_deref().unwrap_or("?");
    if log["success"] != true {
        println!(
            "    {name:<28} {date}: {} — {}",
            log["error"]["code"].as_str().unwrap_or("failed"),
            log["error"]["message"].as_str().unwrap_or("")
        );
        return Ok(None);
    }
    let created = stats["ledger_entries_created"].as_u64().unwrap_or(0);
    let (_, detail) = api
        .get(&format!("{company}/locations/{}", request.location_id))
        .await?;
    let unit = detail["location"]["storage_unit_id"]
        .as_str()
        .unwrap_or_default();
    let (ledger, _) = api
        .list_all(
            &format!("{company}/ledger?storage_unit_id={unit}&from={date}&to={date}"),
            100,
        )
        .await?;
    let day: Vec<&Value> = ledger
        .iter()
        .filter(|e| e["location_id"] == request.location_id.as_str())
        .collect();
    // Values we posted ourselves, each at most a few digits: a checked sum all the same.
    let value = day
        .iter()
        .filter_map(|e| e["value"].as_str()?.parse::<rust_decimal::Decimal>().ok())
        .try_fold(rust_decimal::Decimal::ZERO, |sum, v| sum.checked_add(v))
        .unwrap_or_default();
    println!(
        "    {name:<28} {date}: {} sales, {} lines processed now, {} skipped → {created} new entries; the day holds {} entries, {value} {} issued at average cost{}",
        stats["sales_count"],
        stats["lines_processed"],
        stats["lines_skipped"],
        day.len(),
        location["currency"].as_str().unwrap_or(""),
        if log["no_data"] == true { " (no sales that day)" } else { "" }
    );
    print_unmapped(stats);
    Ok(Some(day.len()))
}

fn print_unmapped(stats: &Value) {
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
    if unmapped.is_empty() {
        return;
    }
    let total = stats["unmapped_names"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    println!(
        "    {:<28} unmapped, largest first: {}{}",
        "",
        unmapped.join(", "),
        if total > 3 {
            format!(" (+{} more; edit infra/local/demo/mappings.csv)", total - 3)
        } else {
            String::new()
        }
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn the_last_closed_day_follows_each_zone_and_cutoff() {
        // 03:20 UTC on 1 December: London (UTC+0, cutoff 04:00) is still in its
        // 30 November business day, so the last closed one is 29 November; Auckland
        // (UTC+13) is already past its cutoff on 1 December, so 30 November is closed.
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 3, 20, 0).unwrap();
        let london =
            json!({"timezone": "Europe/London", "day_cutoff_hour": 4, "day_mode": "local"});
        let auckland =
            json!({"timezone": "Pacific/Auckland", "day_cutoff_hour": 4, "day_mode": "local"});
        let utc = json!({"timezone": "Europe/London", "day_mode": "utc"});
        let date = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(last_closed_day(day_mode(&london), now), date(29));
        assert_eq!(last_closed_day(day_mode(&auckland), now), date(30));
        assert_eq!(last_closed_day(day_mode(&utc), now), date(30));
        // At 04:00 London time its 30 November closes.
        let later = Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).unwrap();
        assert_eq!(last_closed_day(day_mode(&london), later), date(30));
    }
}
