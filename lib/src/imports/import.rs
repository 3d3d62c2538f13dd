//! The import use case: read the file against its saved mapping, refuse it whole when any
//! row is bad, else record its items and sales, commit the import record (once per file)
//! and queue a forced transfer of every location-day it touches, so imported sales reach
//! the ledger (and the journals) through the same path as Lightspeed's.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::format::{self, CsvFormat};
use super::items;
use super::parse::{
    self, FileError, ImportedSale, LocationFacts, ParseInput, ParsedFile, RowError,
};
use super::record::{self, ImportRecord, ImportSummary, ImportedDay, ImportedItem};
use super::sales;
use crate::connection::PosProduct;
use crate::error::{AppError, ErrorCode};
use crate::money::{Money, Quantity};
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::sales::SaleKind;
use crate::store::ItemStore;
use crate::transfer::TransferRequest;

/// Largest file accepted (the admin API's body limit is larger: this one is ours).
pub const FILE_BYTES_MAX: usize = 5 * 1024 * 1024;
/// Most location-days one file may touch (the import record lists them).
pub const DAYS_MAX: usize = 2_000;

/// Names the transfer requests of an import (v5 ids: the same import, the same requests).
const NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_9a0e_4b7f_4e21_9c3a_5f0e_8d2b_1c47);

pub struct ImportRequest<'a> {
    pub company_id: &'a str,
    pub mapping_id: &'a str,
    pub file: &'a [u8],
    pub dry_run: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug)]
pub enum Outcome {
    /// What would be imported; nothing written.
    DryRun(ImportRecord),
    Imported(ImportRecord),
    /// This file was imported before: nothing written again.
    AlreadyImported(ImportRecord),
}

/// A refused import: the error, and for bad rows each row's problem.
#[derive(Debug)]
pub struct Refusal {
    pub error: AppError,
    pub rows: Vec<RowError>,
    pub rows_total: usize,
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Self {
            error,
            rows: Vec::new(),
            rows_total: 0,
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(err: crate::store::StoreError) -> Self {
        AppError::from(err).into()
    }
}

fn refused(err: FileError) -> Refusal {
    match err {
        FileError::Encoding(message) => {
            AppError::new(ErrorCode::CsvEncodingUnsupported, message).into()
        }
        FileError::Shape(message) => AppError::new(ErrorCode::CsvInvalid, message).into(),
        FileError::TooManyRows => AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("the file has more than {} rows; split it", parse::ROWS_MAX),
        )
        .into(),
        FileError::Rows { listed, total } => {
            let first = listed
                .first()
                .map(|e| {
                    format!(
                        " First: row {}{}: {}",
                        e.row,
                        e.column
                            .as_ref()
                            .map(|c| format!(", column `{c}`"))
                            .unwrap_or_default(),
                        e.reason
                    )
                })
                .unwrap_or_default();
            Refusal {
                error: AppError::new(
                    ErrorCode::CsvRowsInvalid,
                    format!("{total} row problem(s); nothing was imported.{first}"),
                ),
                rows: listed,
                rows_total: total,
            }
        }
    }
}

/// The import id of a file: its digest, so the same bytes are one import.
pub fn import_id(digest: &str) -> String {
    format!("imp-{}", &digest[..40.min(digest.len())])
}

/// Imports one file (or, on a dry run, says what it would import).
pub async fn import(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    request: &ImportRequest<'_>,
) -> Result<Outcome, Refusal> {
    if request.file.len() > FILE_BYTES_MAX {
        return Err(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than {FILE_BYTES_MAX} bytes; split it"),
        )
        .into());
    }
    let mapping = format::get(store, request.company_id, request.mapping_id).await?;
    let digest = hex::encode(Sha256::digest(request.file));
    let import_id = import_id(&digest);
    let now = request
        .now
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(existing) = record::find(store, request.company_id, &import_id).await? {
        return imported_before(store, queue, existing, request.dry_run, &now).await;
    }
    let parsed = read(store, request, &mapping.format, &digest).await?;
    let summary = summarise(store, request.company_id, parsed.rows, &parsed.sales).await?;
    if summary.days.len() > DAYS_MAX {
        return Err(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file spans {} location-days; at most {DAYS_MAX} per file, split it by date",
                summary.days.len()
            ),
        )
        .into());
    }
    let import = ImportRecord {
        import_id,
        company_id: request.company_id.to_string(),
        mapping_id: request.mapping_id.to_string(),
        file_sha256: digest,
        file_bytes: request.file.len(),
        status: record::DRY_RUN.into(),
        summary,
        transfers_queued: false,
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
    };
    if request.dry_run {
        return Ok(Outcome::DryRun(import));
    }
    commit(store, queue, import, &parsed.sales, &now).await
}

/// A file imported before: its record with today's mapping state. Nothing is written
/// again, except that a real retry queues any transfers the first upload did not.
async fn imported_before(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    mut existing: ImportRecord,
    dry_run: bool,
    now: &str,
) -> Result<Outcome, Refusal> {
    with_current_mappings(store, &mut existing).await?;
    if dry_run {
        return Ok(Outcome::AlreadyImported(existing));
    }
    // A retried upload whose transfers were not all queued queues them now.
    let existing = queue_transfers(store, queue, existing, now).await?;
    Ok(Outcome::AlreadyImported(existing))
}

/// The file read against its mapping and the company's locations.
async fn read(
    store: &dyn ItemStore,
    request: &ImportRequest<'_>,
    format: &CsvFormat,
    digest: &str,
) -> Result<ParsedFile, Refusal> {
    let locations = location_facts(store, request.company_id).await?;
    parse::parse(
        request.file,
        &ParseInput {
            format,
            locations: &locations,
            digest,
            now: request.now,
        },
    )
    .map_err(refused)
}

/// Writes the items and sales, then the record (the commit point: a concurrent upload of
/// the same file commits once), then queues the transfers.
async fn commit(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    mut import: ImportRecord,
    imported: &[ImportedSale],
    now: &str,
) -> Result<Outcome, Refusal> {
    let company_id = import.company_id.as_str();
    items::record(store, company_id, imported, now).await?;
    sales::write(store, company_id, &import.import_id, imported).await?;
    import.status = record::COMMITTED.into();
    if !record::commit(store, &import).await? {
        // The same file, committed by a concurrent upload.
        let existing = record::get(store, &import.company_id, &import.import_id).await?;
        return Ok(Outcome::AlreadyImported(existing));
    }
    tracing::info!(
        import_id = import.import_id.as_str(),
        rows = import.summary.rows,
        days = import.summary.days.len(),
        "CSV import committed"
    );
    let import = queue_transfers(store, queue, import, now).await?;
    Ok(Outcome::Imported(import))
}

/// The record with each item's mapping state as it is now (it was stored as at import).
pub async fn with_current_mappings(
    store: &dyn ItemStore,
    import: &mut ImportRecord,
) -> Result<(), AppError> {
    let mapped = csv_mapped_items(store, &import.company_id).await?;
    let summary = &mut import.summary;
    for item in &mut summary.items {
        item.mapped = mapped.contains(&item.item_id);
    }
    // Items beyond the listed ones keep their stored state.
    let listed_unmapped = summary.items.iter().filter(|i| !i.mapped).count();
    if summary.items_total == summary.items.len() {
        summary.unmapped_items = listed_unmapped;
    }
    Ok(())
}

async fn csv_mapped_items(
    store: &dyn ItemStore,
    company_id: &str,
) -> Result<std::collections::HashSet<String>, AppError> {
    Ok(crate::mapping::record::all(store, company_id)
        .await?
        .into_iter()
        .filter(|m| m.product == PosProduct::Csv)
        .map(|m| m.item_id)
        .collect())
}

/// Every location of the company as the parser needs it.
async fn location_facts(
    store: &dyn ItemStore,
    company_id: &str,
) -> Result<HashMap<String, LocationFacts>, AppError> {
    Ok(crate::location::record::list_all(store, company_id)
        .await?
        .into_iter()
        .map(|l| {
            let facts = LocationFacts {
                product: l.product,
                mode: l.day_mode(),
                currency: l.currency.clone(),
                storage_unit_linked: l.storage_unit_id.is_some(),
            };
            (l.location_id, facts)
        })
        .collect())
}

/// Per location-day totals and the items named, with their mapping state.
async fn summarise(
    store: &dyn ItemStore,
    company_id: &str,
    rows: usize,
    imported: &[ImportedSale],
) -> Result<ImportSummary, AppError> {
    let mut summary = ImportSummary {
        rows,
        ..ImportSummary::default()
    };
    for sale in imported {
        match sale.sale.kind {
            SaleKind::Refund => summary.refunds += 1,
            _ => summary.sales += 1,
        }
        summary.lines += sale.sale.lines.len();
    }
    summary.days = days_of(imported);
    let mapped = csv_mapped_items(store, company_id).await?;
    let named = items::items_of(imported);
    summary.items_total = named.len();
    for (item_id, (name, sku, _)) in named {
        let is_mapped = mapped.contains(&item_id);
        if !is_mapped {
            summary.unmapped_items += 1;
        }
        if summary.items.len() < record::ITEMS_LISTED {
            summary.items.push(ImportedItem {
                item_id,
                name,
                sku,
                mapped: is_mapped,
            });
        }
    }
    Ok(summary)
}

/// The sales' totals per location-day, in (location, date) order.
fn days_of(imported: &[ImportedSale]) -> Vec<ImportedDay> {
    let mut days: BTreeMap<(String, String), ImportedDay> = BTreeMap::new();
    for sale in imported {
        let date = sale.business_date.to_string();
        let day = days
            .entry((sale.location_id.clone(), date.clone()))
            .or_insert_with(|| ImportedDay {
                location_id: sale.location_id.clone(),
                business_date: date,
                sales: 0,
                lines: 0,
                quantity: Quantity::ZERO,
                net: Money::ZERO,
                tax: Money::ZERO,
            });
        day.sales += 1;
        day.lines += sale.sale.lines.len();
        // Bounded: ROWS_MAX rows within the documented bounds stay far inside the range.
        for line in &sale.sale.lines {
            day.quantity = day
                .quantity
                .checked_add(line.quantity)
                .unwrap_or(day.quantity);
            day.net = day.net.checked_add(line.net).unwrap_or(day.net);
            day.tax = day.tax.checked_add(line.tax).unwrap_or(day.tax);
        }
    }
    days.into_values().collect()
}

/// Queues a forced transfer of each location-day (deterministic request ids: a repeat
/// finds the first one's transfer log), then marks the record.
async fn queue_transfers(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    import: ImportRecord,
    now: &str,
) -> Result<ImportRecord, AppError> {
    if import.transfers_queued {
        return Ok(import);
    }
    send_transfers(queue, &import, now, |day| {
        let name = format!(
            "{}:{}:{}",
            import.import_id, day.location_id, day.business_date
        );
        Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
    })
    .await?;
    Ok(record::mark_queued(store, &import, now).await?)
}

/// Queues every day of an import again (after its items were mapped, say): new requests,
/// forced refresh; the ledger changes only by what the mappings now imply.
pub async fn transfer_again(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    company_id: &str,
    import_id: &str,
    now: &str,
) -> Result<usize, AppError> {
    let import = record::get(store, company_id, import_id).await?;
    send_transfers(queue, &import, now, |_| crate::random::uuid().to_string()).await
}

async fn send_transfers(
    queue: &dyn MessageQueue,
    import: &ImportRecord,
    now: &str,
    request_uuid: impl Fn(&ImportedDay) -> String,
) -> Result<usize, AppError> {
    let mut messages = Vec::with_capacity(import.summary.days.len());
    for day in &import.summary.days {
        let transfer = TransferRequest {
            request_uuid: request_uuid(day),
            company_id: import.company_id.clone(),
            location_id: day.location_id.clone(),
            business_date: Some(day.business_date.clone()),
            attempt: 1,
            force_refresh: true,
            requested_at: now.to_string(),
        };
        messages.push(OutboundMessage::json(&transfer, &transfer.request_uuid)?);
    }
    let count = messages.len();
    queue.send_all(QueueName::Transfer, messages).await?;
    Ok(count)
}
