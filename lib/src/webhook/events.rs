//! The sales-events worker's part (SPEC C8): what one queued webhook does.
//!
//! * `sale.update`: the payload was a hint; the sale is re-fetched (one request), and a
//!   completed sale of an activated outlet queues a force-refresh transfer of each of the
//!   outlet's business days it touches: the day that holds it, the days of its later
//!   payments (an on-account sale paid days later: that day's journal books the
//!   settlement), the days the mirror held it in before (a void or change leaves none
//!   of them stale), and for a void every day it may have stood in (when it was made and
//!   paid), also once the mirror has dropped it. The transfer engine makes the ledger equal the day's sales (first
//!   delivery posts, repeats change nothing, voids and returns reverse) and queues the
//!   day's journal. The request ids come from the delivery's type, sale and version (and
//!   the day), so a redelivered webhook is the same transfer attempts and is logged once.
//!   (The engine still re-reads the outlet's day; a per-sale path is the next step.)
//! * `product.update`: the connection's items are synced, which raises rename and orphan alerts.
//! * `register_closure.create`: the closure is stored per outlet (see [`super::closures`]),
//!   and when the outlet journals per register closure, the mirror is caught up and the
//!   closure's journal queued.

use uuid::Uuid;

use super::backstop::lightspeed_error;
use super::receipt::SalesEvent;
use crate::connection::source::{CatalogSource, SyncScope};
use crate::connection::{integration, PosProduct};
use crate::error::{AppError, ErrorCode};
use crate::lightspeed::LightspeedClient;
use crate::location::business_day;
use crate::location::record::{self as location_record, JournalPeriod};
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::sales::{xseries, xseries_mirror, SaleKind};
use crate::store::ItemStore;
use crate::transfer::TransferRequest;

/// Namespace of the request ids of webhook-fed transfers (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x7d1c_52a0_9b3e_4f1c_8a55_1f6e_0c2b_9d41);

pub struct EventContext<'a> {
    pub store: &'a dyn ItemStore,
    pub queue: &'a dyn MessageQueue,
    pub lightspeed: &'a LightspeedClient,
    pub catalog: &'a dyn CatalogSource,
}

/// What an event led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// A transfer of each of these business dates of this location was queued.
    TransferQueued {
        location_id: String,
        business_dates: Vec<String>,
    },
    ItemsSynced,
    /// A register closure was stored (`new: false` for a redelivery), and its journal
    /// queued when its outlet journals per register closure.
    ClosureRecorded {
        new: bool,
        journal_queued: bool,
    },
    /// Nothing to do, and why.
    Skipped(String),
}

pub async fn process(
    ctx: &EventContext<'_>,
    event: &SalesEvent,
    now: &str,
) -> Result<Handled, AppError> {
    match event.event_type.as_str() {
        "sale.update" => sale_update(ctx, event).await,
        "product.update" => {
            crate::items::sync::sync(SyncScope {
                store: ctx.store,
                source: ctx.catalog,
                company_id: &event.company_id,
                product: PosProduct::XSeries,
                now,
            })
            .await?;
            Ok(Handled::ItemsSynced)
        }
        "register_closure.create" => match super::closures::from_event(event) {
            Some(closure) => {
                let new = super::closures::record(ctx.store, &closure).await?;
                // Queued again on a redelivery: a crash after the record must not lose the
                // journal, and posting the same closure twice changes nothing.
                let journal_queued = closure_journal(ctx, event, &closure, now).await?;
                Ok(Handled::ClosureRecorded {
                    new,
                    journal_queued,
                })
            }
            None => Ok(Handled::Skipped(
                "the closure names no register or outlet".into(),
            )),
        },
        other => Ok(Handled::Skipped(format!("`{other}` is not handled"))),
    }
}

/// Queues a closure's journal when its outlet journals per register closure, after
/// bringing the sales mirror up to the top of the feed (one request when little changed),
/// so the journal reads every sale rung up before the register closed.
async fn closure_journal(
    ctx: &EventContext<'_>,
    event: &SalesEvent,
    closure: &super::closures::RegisterClosure,
    now: &str,
) -> Result<bool, AppError> {
    let location =
        match location_record::get(ctx.store, &event.company_id, &closure.outlet_id).await {
            Ok(location) => location,
            Err(err) if err.code == ErrorCode::LocationNotFound => return Ok(false),
            Err(err) => return Err(err),
        };
    if location.journal_per != JournalPeriod::RegisterClosure || !location.is_active() {
        return Ok(false);
    }
    let connection =
        integration::connection(ctx.store, &event.company_id, PosProduct::XSeries).await?;
    xseries_mirror::catch_up(ctx.store, ctx.lightspeed, &connection)
        .await
        .map_err(lightspeed_error)?;
    crate::journal::request::after_closure(
        ctx.store,
        ctx.queue,
        &location,
        closure,
        &event.request_uuid,
        now,
    )
    .await
}

async fn sale_update(ctx: &EventContext<'_>, event: &SalesEvent) -> Result<Handled, AppError> {
    let connection =
        integration::connection(ctx.store, &event.company_id, PosProduct::XSeries).await?;
    let path = format!("/api/2.0/sales/{}", event.object_id);
    let body = ctx
        .lightspeed
        .get_json(&connection, &path, &[])
        .await
        .map_err(lightspeed_error)?;
    let sale = body.get("data").unwrap_or(&body);
    let Some(outlet) = sale["outlet_id"]
        .as_str()
        .filter(|o| crate::ids::is_valid_id(o))
    else {
        return Ok(Handled::Skipped("the sale names no outlet".into()));
    };
    let location = match location_record::get(ctx.store, &event.company_id, outlet).await {
        Ok(location) => location,
        Err(err) if err.code == ErrorCode::LocationNotFound => {
            return Ok(Handled::Skipped(format!("outlet {outlet} is not synced")))
        }
        Err(err) => return Err(err),
    };
    if !location.is_active() {
        return Ok(Handled::Skipped(format!(
            "outlet {outlet} is not activated"
        )));
    }
    let canonical = xseries::to_canonical(sale)
        .map_err(|e| AppError::new(ErrorCode::LightspeedApiError, e.to_string()))?;
    if matches!(canonical.kind, SaleKind::Other(_)) {
        return Ok(Handled::Skipped("the sale is not completed".into()));
    }
    let before = xseries_mirror::mirrored_times(
        ctx.store,
        &event.company_id,
        &location.location_id,
        &canonical.sale_id,
    )
    .await?;
    let mode = location.day_mode();
    let sale_day = business_day::business_date(mode, canonical.closed_at);
    let mut days = super::backstop::sale_days(mode, &canonical, sale);
    // And the days the mirror held it in, while it lags behind this version.
    days.extend(
        before
            .into_iter()
            .map(|t| business_day::business_date(mode, t)),
    );
    let mut messages = Vec::with_capacity(days.len());
    for date in &days {
        // The sale's own day keeps the delivery's id; the others add their date.
        let name = if *date == sale_day {
            event.dedupe_key.clone()
        } else {
            format!("{}:{date}", event.dedupe_key)
        };
        let request = TransferRequest {
            request_uuid: Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string(),
            company_id: event.company_id.clone(),
            location_id: location.location_id.clone(),
            business_date: Some(date.to_string()),
            attempt: 1,
            force_refresh: true,
            // With the id, part of the transfer log's key: from the sale, so a redelivery
            // is the same attempt.
            requested_at: canonical
                .closed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        messages.push(OutboundMessage::json(&request, &event.request_uuid)?);
    }
    ctx.queue.send_all(QueueName::Transfer, messages).await?;
    Ok(Handled::TransferQueued {
        location_id: location.location_id,
        business_dates: days.iter().map(ToString::to_string).collect(),
    })
}
