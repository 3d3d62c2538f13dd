//! The polling backstop (SPEC C8): on the fan-out schedule each connected X-Series store's
//! sales feed is read from a stored version cursor (`CO#{c}` / `XFEED_CURSOR`), and every
//! sale completed, returned or voided there at an activated outlet queues its business day's
//! transfer — the same idempotent path a webhook takes — so a sale whose webhook never
//! arrived still reaches the ledger. Only new versions are read: an hour without sales costs
//! one request. The first poll moves the cursor to the top of the feed without queueing
//! anything (what happened before it is the migration's and the daily transfers').

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::connection::{integration, PosProduct};
use crate::error::{AppError, ErrorCode};
use crate::lightspeed::LightspeedClient;
use crate::location::business_day;
use crate::location::record as location_record;
use crate::location::Location;
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::sales::fetch::get_page;
use crate::sales::{xseries, SaleKind};
use crate::store::{from_item, keys, Condition, ItemStore, Key, StoreError};
use crate::transfer::TransferRequest;

/// Most pages one poll reads (200 sales each); the next poll goes on from there.
pub const MAX_PAGES: u32 = 100;

/// Names the transfer requests of a poll: the same store, outlet, day and cursor position
/// give the same request, so a repeated poll is the same logged attempt.
const NAMESPACE: Uuid = Uuid::from_u128(0x3b0d_7c5e_91a4_4f6e_8d21_c0f7_5a9e_2b64);

/// Where a store's feed was last read to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor {
    pub company_id: String,
    /// The feed's `version.max` of the last page read.
    pub after: u64,
    pub polled_at: String,
    pub version: u64,
}

pub fn cursor_key(company_id: &str) -> Key {
    Key::new(keys::company(company_id), "XFEED_CURSOR")
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Polled {
    /// The first poll: the cursor moved to the top, nothing queued.
    pub initialized: bool,
    pub pages: u32,
    pub requests: u32,
    /// Sales read from the feed.
    pub sales: usize,
    /// (outlet, business date) of each transfer queued.
    pub days_queued: Vec<(String, String)>,
    pub after: u64,
}

/// A Lightspeed failure as the webhook workers report it: retried while it is unavailable.
pub(super) fn lightspeed_error(err: crate::lightspeed::LightspeedError) -> AppError {
    let code = if err.is_retryable() {
        ErrorCode::LightspeedUnavailable
    } else {
        ErrorCode::LightspeedApiError
    };
    AppError::new(code, err.to_string())
}

/// The outlet business days a feed page touches at activated outlets (pure): each sale's
/// [`sale_days`]. A sale that is not completed (layby,
/// open) touches none; one the wire cannot read is skipped with a warning (its day's
/// transfer reports it).
pub fn touched_days(
    page: &serde_json::Value,
    outlets: &HashMap<String, Location>,
) -> BTreeSet<(String, String)> {
    let mut days = BTreeSet::new();
    for sale in page["data"].as_array().into_iter().flatten() {
        let Some(location) = sale["outlet_id"]
            .as_str()
            .and_then(|o| outlets.get(o))
            .filter(|l| l.is_active())
        else {
            continue;
        };
        let canonical = match xseries::to_canonical(sale) {
            Ok(canonical) => canonical,
            Err(err) => {
                tracing::warn!(error = %err, "feed sale skipped by the backstop");
                continue;
            }
        };
        if matches!(canonical.kind, SaleKind::Other(_)) {
            continue;
        }
        for date in sale_days(location.day_mode(), &canonical, sale) {
            days.insert((location.location_id.clone(), date.to_string()));
        }
    }
    days
}

/// The business days a completed sale touches (pure): the day it closed in, the days of
/// its later payments (an on-account sale settled then), and for a void every day it may
/// have stood in (when it was made and paid), so its stock and settlements are reversed
/// whatever the mirror still holds of it.
pub fn sale_days(
    mode: business_day::DayMode,
    sale: &crate::sales::CanonicalSale,
    wire: &serde_json::Value,
) -> BTreeSet<chrono::NaiveDate> {
    let mut times = vec![sale.closed_at];
    if sale.counts() {
        times.extend(sale.later_payment_times());
    }
    if sale.kind == SaleKind::Void {
        times.extend(xseries::standing_times(wire));
    }
    times
        .into_iter()
        .map(|t| business_day::business_date(mode, t))
        .collect()
}

/// Reads one store's feed from its cursor and queues the days it touched.
pub async fn poll(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    client: &LightspeedClient,
    company_id: &str,
    now: &str,
) -> Result<Polled, AppError> {
    let connection = integration::connection(store, company_id, PosProduct::XSeries).await?;
    let cursor: Option<FeedCursor> = store
        .get(&cursor_key(company_id))
        .await?
        .map(from_item)
        .transpose()?;
    let outlets: HashMap<String, Location> = location_record::list_all(store, company_id)
        .await?
        .into_iter()
        .filter(|l| l.product == PosProduct::XSeries)
        .map(|l| (l.location_id.clone(), l))
        .collect();
    let mut polled = Polled {
        initialized: cursor.is_none(),
        after: cursor.as_ref().map_or(0, |c| c.after),
        ..Polled::default()
    };
    let mut days = BTreeSet::new();
    while polled.pages < MAX_PAGES {
        let query = xseries::page_query(polled.after);
        let page = get_page::<serde_json::Value>(
            client,
            &connection,
            xseries::SALES_PATH,
            &query,
            &mut polled.requests,
        )
        .await
        .map_err(lightspeed_error)?;
        polled.pages += 1;
        polled.sales += page["data"].as_array().map_or(0, Vec::len);
        if !polled.initialized {
            days.extend(touched_days(&page, &outlets));
        }
        match xseries::next_after(&page, polled.after) {
            Some(next) => polled.after = next,
            None => break,
        }
    }
    polled.days_queued = days.into_iter().collect();
    queue_days(queue, company_id, &polled, now).await?;
    save_cursor(store, company_id, cursor.as_ref(), polled.after, now).await?;
    Ok(polled)
}

async fn queue_days(
    queue: &dyn MessageQueue,
    company_id: &str,
    polled: &Polled,
    now: &str,
) -> Result<(), AppError> {
    let mut messages = Vec::with_capacity(polled.days_queued.len());
    for (outlet, date) in &polled.days_queued {
        let name = format!("backstop:{company_id}:{outlet}:{date}:{}", polled.after);
        let request = TransferRequest {
            request_uuid: Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string(),
            company_id: company_id.to_string(),
            location_id: outlet.clone(),
            business_date: Some(date.clone()),
            attempt: 1,
            force_refresh: true,
            requested_at: now.to_string(),
        };
        messages.push(OutboundMessage {
            body: serde_json::to_string(&request)
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?,
            delay_seconds: 0,
            correlation_id: request.request_uuid.clone(),
            group: None,
        });
    }
    if !messages.is_empty() {
        queue.send_all(QueueName::Transfer, messages).await?;
    }
    Ok(())
}

/// Moves the cursor under the version read; a concurrent poll that moved it first wins
/// (what this one queued is queued again by nobody and harmless twice).
async fn save_cursor(
    store: &dyn ItemStore,
    company_id: &str,
    previous: Option<&FeedCursor>,
    after: u64,
    now: &str,
) -> Result<(), AppError> {
    let next = FeedCursor {
        company_id: company_id.to_string(),
        after,
        polled_at: now.to_string(),
        version: previous.map_or(1, |c| c.version + 1),
    };
    let condition = previous.map_or(Condition::NotExists, |c| Condition::VersionIs(c.version));
    let item = crate::store::to_item(&next, &cursor_key(company_id))?;
    match store.put(item, condition).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            tracing::info!(company_id, "another poll moved the feed cursor first");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// Polls every active X-Series connection; one store's failure is logged and the others go on.
pub async fn poll_all(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    client: &LightspeedClient,
    now: &str,
) -> Result<usize, AppError> {
    let connected = integration::of_product(store, PosProduct::XSeries).await?;
    let mut polled_stores = 0;
    for company_id in connected {
        match poll(store, queue, client, &company_id, now).await {
            Ok(polled) => {
                polled_stores += 1;
                tracing::info!(
                    company_id,
                    pages = polled.pages,
                    sales = polled.sales,
                    days_queued = polled.days_queued.len(),
                    initialized = polled.initialized,
                    "sales feed polled"
                );
            }
            Err(err) => {
                tracing::warn!(company_id, code = %err.code, message = %err.message, "sales feed poll failed");
            }
        }
    }
    Ok(polled_stores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outlet(id: &str, active: bool) -> Location {
        let upstream = crate::location::UpstreamLocation {
            location_id: id.into(),
            name: id.into(),
            business_name: None,
            country: None,
            timezone: Some("Pacific/Auckland".into()),
            currency: Some("NZD".into()),
        };
        let mut location = location_record::new_location("c", PosProduct::XSeries, &upstream, "t");
        if active {
            location.activated_at = Some("t".into());
        }
        location
    }

    fn sale(id: &str, outlet: &str, status: &str, state: &str, at: &str) -> serde_json::Value {
        json!({"id": id, "outlet_id": outlet, "status": status, "state": state,
               "sale_date": at, "updated_at": at, "return_for": null,
               "line_items": [{"id": "l1", "product_id": "p1", "quantity": 1, "price": 10,
                               "total_price": 10, "tax": 1.5, "total_tax": 1.5}],
               "payments": [{"id": "y1", "amount": 11.5, "payment_date": at,
                             "type": {"config_id": "cash", "name": "Cash"}}]})
    }

    #[test]
    fn completed_sales_of_active_outlets_touch_their_business_day() {
        let outlets: HashMap<String, Location> = [outlet("o1", true), outlet("o2", false)]
            .into_iter()
            .map(|l| (l.location_id.clone(), l))
            .collect();
        let page = json!({"data": [
            // 02:00 NZDT on the 21st is before the 04:00 cutoff: business day the 20th.
            sale("s1", "o1", "CLOSED", "closed", "2026-11-20T13:00:00+00:00"),
            sale("s2", "o1", "CLOSED", "closed", "2026-11-21T01:00:00+00:00"),
            sale("s3", "o1", "VOIDED", "voided", "2026-11-22T01:00:00+00:00"),
            // Made and paid on the 25th (NZ), voided on the 26th: both days.
            {"id": "s9", "outlet_id": "o1", "status": "VOIDED", "state": "voided",
             "sale_date": "2026-11-25T01:00:00+00:00", "updated_at": "2026-11-26T01:00:00+00:00",
             "line_items": [{"id": "l1", "product_id": "p1", "quantity": 1, "total_price": 10, "total_tax": 1.5}],
             "payments": [{"id": "y1", "amount": 11.5, "payment_date": "2026-11-25T01:00:00+00:00",
                           "type": {"name": "Cash"}}]},
            sale("s4", "o1", "LAYBY", "pending", "2026-11-23T01:00:00+00:00"),
            sale("s5", "o2", "CLOSED", "closed", "2026-11-21T01:00:00+00:00"),
            sale("s6", "elsewhere", "CLOSED", "closed", "2026-11-21T01:00:00+00:00"),
            {"id": "s7", "outlet_id": "o1", "status": "CLOSED", "state": "closed",
             "line_items": [{"quantity": "many"}]},
            // Made on account on the 24th (NZ), paid on the 27th: both days.
            {"id": "s8", "outlet_id": "o1", "status": "ONACCOUNT_CLOSED", "state": "closed",
             "attributes": ["onaccount"], "sale_date": "2026-11-24T01:00:00+00:00",
             "updated_at": "2026-11-27T01:00:00+00:00",
             "line_items": [{"id": "l1", "product_id": "p1", "quantity": 1, "total_price": 10, "total_tax": 1.5}],
             "payments": [{"id": "y1", "amount": 11.5, "payment_date": "2026-11-27T01:00:00+00:00",
                           "type": {"name": "Cash"}}]}
        ], "version": {"min": 1, "max": 9}});
        let days: Vec<(String, String)> = touched_days(&page, &outlets).into_iter().collect();
        assert_eq!(
            days,
            vec![
                ("o1".to_string(), "2026-11-20".to_string()),
                ("o1".to_string(), "2026-11-21".to_string()),
                ("o1".to_string(), "2026-11-22".to_string()),
                ("o1".to_string(), "2026-11-24".to_string()),
                ("o1".to_string(), "2026-11-25".to_string()),
                ("o1".to_string(), "2026-11-26".to_string()),
                ("o1".to_string(), "2026-11-27".to_string()),
            ]
        );
    }
}
