//! Reading the ledger: by storage unit or ingredient over a date range, by transfer log,
//! by sales line, and one entry with the sales lines that fed it.

use chrono::NaiveDate;
use serde::Serialize;

use super::derive::line_key;
use super::entry::{self, LedgerEntry};
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::money::Quantity;
use crate::store::{attr, from_item, Index, Item, ItemStore, Page, Query, SortKeyCondition};
use crate::transfer::cache;

/// Which slice of the ledger to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    StorageUnit {
        id: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    Ingredient {
        id: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    TransferLog(String),
}

impl Selection {
    /// The query behind the selection and the attribute a cursor must match.
    pub fn query(&self, company_id: &str) -> (Query, &'static str) {
        let range = |from: &Option<NaiveDate>, to: &Option<NaiveDate>| {
            let low = from.map(|d| format!("{d}#")).unwrap_or_default();
            let high = to.map(|d| format!("{d}#~")).unwrap_or_else(|| "~".into());
            SortKeyCondition::Between(low, high)
        };
        match self {
            Selection::StorageUnit { id, from, to } => {
                let mut q = Query::partition(entry::partition(company_id, id));
                q.sk = Some(range(from, to));
                (q, attr::PK)
            }
            Selection::Ingredient { id, from, to } => {
                let mut q =
                    Query::partition(entry::ingredient_partition(company_id, id)).on(Index::Gsi1);
                q.sk = Some(range(from, to));
                (q, attr::GSI1PK)
            }
            Selection::TransferLog(log_id) => (
                Query::partition(entry::transfer_log_partition(log_id)).on(Index::Gsi2),
                attr::GSI2PK,
            ),
        }
    }
}

pub fn parse_date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    raw.map(|text| {
        ids::strict_date(text).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidDateFormat,
                format!("`{field}` must be a date as YYYY-MM-DD, got `{text}`"),
            )
        })
    })
    .transpose()
}

/// One page of entries. Entries of a transfer log are checked to be the caller's company.
pub async fn list(
    store: &dyn ItemStore,
    company_id: &str,
    selection: &Selection,
    limit: u32,
    start_after: Option<Item>,
) -> Result<(Vec<LedgerEntry>, Page), AppError> {
    let (query, _) = selection.query(company_id);
    let page = store
        .query(&query.limit(limit).start_after(start_after))
        .await?;
    let entries = page
        .items
        .iter()
        .cloned()
        .map(from_item::<LedgerEntry>)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|e| e.company_id == company_id)
        .collect();
    Ok((entries, page))
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    entry_id: &str,
) -> Result<LedgerEntry, AppError> {
    let not_found = || {
        AppError::new(
            ErrorCode::LedgerEntryNotFound,
            format!("ledger entry `{entry_id}` does not exist in this company"),
        )
    };
    let key = entry::key_of_id(company_id, entry_id).ok_or_else(not_found)?;
    match store.get(&key).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(not_found()),
    }
}

/// A sales line as the ledger explains it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceLine {
    pub sale_id: String,
    pub line_id: String,
    #[schema(required)]
    pub receipt: Option<String>,
    pub closed_at: String,
    pub item_name: String,
    #[schema(required)]
    pub item_id: Option<String>,
    #[schema(required)]
    pub sku: Option<String>,
    pub quantity: Quantity,
    /// This line's share of the ingredient (when it still feeds it).
    #[schema(required)]
    pub ingredient_quantity: Option<Quantity>,
    pub entries: Vec<String>,
}

/// The cached lines of a location-day that fed `entry_id` (or, with `line`, that one line).
pub async fn lines_of_day(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: &str,
    matches: impl Fn(&str, &[String]) -> bool,
    ingredient_id: Option<&str>,
) -> Result<Vec<SourceLine>, AppError> {
    let Some(state) = cache::load_state(store, company_id, location_id, date).await? else {
        return Ok(Vec::new());
    };
    let Some(day) = cache::load(store, &state).await? else {
        return Ok(Vec::new());
    };
    let lines = day.lines.index();
    let mut out = Vec::new();
    for sale in &day.sales {
        for line in &sale.lines {
            let key = line_key(&sale.sale_id, &line.line_id);
            let Some(lstate) = lines.get(key.as_str()) else {
                continue;
            };
            if !matches(&key, &lstate.entries) {
                continue;
            }
            out.push(SourceLine {
                sale_id: sale.sale_id.clone(),
                line_id: line.line_id.to_string(),
                receipt: sale.receipt.clone(),
                closed_at: sale.closed_at.to_rfc3339(),
                item_name: line.item.name.to_string(),
                item_id: line.item.item_id.as_deref().map(str::to_string),
                sku: line.item.sku.as_deref().map(str::to_string),
                quantity: line.quantity,
                ingredient_quantity: ingredient_id.and_then(|ing| {
                    let fed: Vec<Quantity> = lstate
                        .contributions
                        .iter()
                        .filter(|c| c.ingredient_id == ing)
                        .map(|c| c.quantity)
                        .collect();
                    // Contributions are bounded by the engine; `None` also when none fed it.
                    (!fed.is_empty())
                        .then(|| Quantity::checked_sum(fed))
                        .flatten()
                }),
                entries: lstate.entries.to_vec(),
            });
        }
    }
    Ok(out)
}

/// The entries a sales line fed (`{sale_id}/{line_id}` of a location-day).
pub async fn by_sales_line(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: NaiveDate,
    sales_line: &str,
) -> Result<Vec<LedgerEntry>, AppError> {
    if !ids::is_valid_id(location_id) {
        return Err(AppError::new(
            ErrorCode::LocationNotFound,
            "location id is malformed",
        ));
    }
    let lines = lines_of_day(
        store,
        company_id,
        location_id,
        &date.to_string(),
        |key, _| key == sales_line,
        None,
    )
    .await?;
    let mut out = Vec::new();
    for line in lines {
        for id in &line.entries {
            if let Some(key) = entry::key_of_id(company_id, id) {
                if let Some(item) = store.get(&key).await? {
                    out.push(from_item(item)?);
                }
            }
        }
    }
    Ok(out)
}
