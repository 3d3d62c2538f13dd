//! The import record (access pattern 28, `CO#{c}#CSV` / `IMPORT#{id}`): written last, so
//! its existence is what makes an import's sales count. Its id is the file's digest, so
//! the same file is imported once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode};
use crate::money::{Money, Quantity};
use crate::store::{get_as, keys, Condition, ItemStore, Key, Query, StoreError};

pub const SORT_PREFIX: &str = "IMPORT#";

/// One location and business day of an import, with its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportedDay {
    pub location_id: String,
    pub business_date: String,
    pub sales: usize,
    pub lines: usize,
    #[schema(value_type = String)]
    pub quantity: Quantity,
    #[schema(value_type = String)]
    pub net: Money,
    #[schema(value_type = String)]
    pub tax: Money,
}

/// An item a file names, and whether it is mapped yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportedItem {
    pub item_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `false` while the item has no mapping: its lines deduct nothing (they are listed
    /// as unmapped in the transfer logs).
    pub mapped: bool,
}

/// What a file holds (also the dry run's answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportSummary {
    pub rows: usize,
    pub sales: usize,
    pub refunds: usize,
    pub lines: usize,
    pub days: Vec<ImportedDay>,
    /// Every item the file names (at most [`ITEMS_LISTED`], then `items_total`).
    pub items: Vec<ImportedItem>,
    pub items_total: usize,
    pub unmapped_items: usize,
}

/// Items listed on a summary.
pub const ITEMS_LISTED: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportRecord {
    pub import_id: String,
    pub company_id: String,
    pub mapping_id: String,
    /// Hex SHA-256 of the file as uploaded.
    pub file_sha256: String,
    pub file_bytes: usize,
    /// `committed` (its sales count), or `dry_run` on a dry run's answer (never stored).
    pub status: String,
    pub summary: ImportSummary,
    /// Whether every day's transfer has been queued.
    pub transfers_queued: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

pub const COMMITTED: &str = "committed";
pub const DRY_RUN: &str = "dry_run";

/// Pattern 28: the partition of a company's imports.
pub fn partition(company_id: &str) -> String {
    format!("{}#CSV", keys::company(company_id))
}

pub fn key(company_id: &str, import_id: &str) -> Key {
    Key::new(partition(company_id), format!("{SORT_PREFIX}{import_id}"))
}

/// Pattern 28: the import list.
pub fn list_query(company_id: &str) -> Query {
    Query::partition(partition(company_id)).begins_with(SORT_PREFIX)
}

pub async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    import_id: &str,
) -> Result<Option<ImportRecord>, StoreError> {
    get_as(store, &key(company_id, import_id)).await
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    import_id: &str,
) -> Result<ImportRecord, AppError> {
    find(store, company_id, import_id).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::ImportNotFound,
            format!("import `{import_id}` does not exist in this company"),
        )
    })
}

/// Writes the record once: `false` when the same import was committed first.
pub async fn commit(store: &dyn ItemStore, record: &ImportRecord) -> Result<bool, StoreError> {
    let item = crate::store::to_item(record, &key(&record.company_id, &record.import_id))?;
    match store.put(item, Condition::NotExists).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Marks the record's transfers as queued (under the version read).
pub async fn mark_queued(
    store: &dyn ItemStore,
    record: &ImportRecord,
    now: &str,
) -> Result<ImportRecord, StoreError> {
    let mut next = record.clone();
    next.transfers_queued = true;
    next.updated_at = now.to_string();
    next.version = record.version + 1;
    let item = crate::store::to_item(&next, &key(&record.company_id, &record.import_id))?;
    match store.put(item, Condition::VersionIs(record.version)).await {
        // Another upload of the same file marked it first: same outcome.
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(next),
        Err(err) => Err(err),
    }
}
