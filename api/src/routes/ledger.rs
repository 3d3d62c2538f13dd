//! Ledger queries: `GET /ledger` with exactly one selection (storage unit, ingredient,
//! transfer log, or sales line), and `GET /ledger/{id}` with the lines that fed the entry.

use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::ids;
use tillbridge::ledger::entry::LedgerEntry;
use tillbridge::ledger::query::SourceLine;
use tillbridge::ledger::query::{self, parse_date, Selection};
use utoipa::IntoParams;

use super::PageQuery;
use crate::openapi::schemas as doc;
use crate::pagination;

/// The lower bound of an open date range (dates are 4-digit years in keys).
const EARLIEST: Option<chrono::NaiveDate> = chrono::NaiveDate::from_ymd_opt(1, 1, 1);

fn valid_id(field: &str, value: String) -> Result<String, AppError> {
    if ids::is_valid_id(&value) {
        Ok(value)
    } else {
        Err(AppError::validation(format!("`{field}` is malformed")))
    }
}

/// The selection (exactly one of the ids, or a sales line with its location and date),
/// and the date range.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// First business date (YYYY-MM-DD), inclusive.
    #[param(value_type = Option<doc::BusinessDate>)]
    pub from: Option<String>,
    /// Last business date (YYYY-MM-DD), inclusive.
    #[param(value_type = Option<doc::BusinessDate>)]
    pub to: Option<String>,
    /// With sales_line: the business date (YYYY-MM-DD).
    #[param(value_type = Option<doc::BusinessDate>)]
    pub date: Option<String>,
    /// {sale_id}/{line_id}: entries a sales line fed (needs location_id and date).
    #[param(value_type = Option<doc::SalesLine>)]
    pub sales_line: Option<String>,
    /// With sales_line.
    #[param(value_type = Option<doc::Text>)]
    pub location_id: Option<String>,
    /// Entries of a storage unit, by date.
    #[param(value_type = Option<doc::QueryId>)]
    pub storage_unit_id: Option<String>,
    /// Entries of an ingredient across storage units, by date.
    #[param(value_type = Option<doc::QueryId>)]
    pub ingredient_id: Option<String>,
    /// Entries one transfer attempt created.
    #[param(value_type = Option<doc::QueryId>)]
    pub transfer_log_id: Option<String>,
}

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    params: LedgerQuery,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    // Both ends are optional: an open start means "since the first entry", an open end
    // "up to the latest". The store needs a non-empty lower key bound, so the open start is
    // the earliest date the key layout can hold.
    let to = parse_date("to", params.to.as_deref())?;
    let from = parse_date("from", params.from.as_deref())?.or(EARLIEST);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::validation("`from` is after `to`"));
        }
    }
    if let Some(line) = params.sales_line {
        let location = params
            .location_id
            .ok_or_else(|| AppError::validation("`sales_line` needs `location_id` and `date`"))?;
        let date = parse_date("date", params.date.as_deref())?.ok_or_else(|| {
            AppError::new(
                ErrorCode::DateRequired,
                "`sales_line` needs `date` (YYYY-MM-DD)",
            )
        })?;
        let entries =
            query::by_sales_line(deps.store.as_ref(), company_id, &location, date, &line).await?;
        return Ok(pagination::reply(entries, None));
    }
    let selections: Vec<Selection> = [
        params.storage_unit_id.map(|id| {
            valid_id("storage_unit_id", id).map(|id| Selection::StorageUnit { id, from, to })
        }),
        params.ingredient_id.map(|id| {
            valid_id("ingredient_id", id).map(|id| Selection::Ingredient { id, from, to })
        }),
        params
            .transfer_log_id
            .map(|id| valid_id("transfer_log_id", id).map(Selection::TransferLog)),
    ]
    .into_iter()
    .flatten()
    .collect::<Result<_, _>>()?;
    let [selection] = selections.as_slice() else {
        return Err(AppError::validation(
            "give exactly one of `storage_unit_id`, `ingredient_id`, `transfer_log_id`, or `sales_line` (with `location_id` and `date`)",
        ));
    };
    let (q, cursor_attr) = selection.query(company_id);
    let cursor = pagination::decode_cursor(page.cursor.as_deref(), cursor_attr, &q.pk)?;
    let store = deps.store.as_ref();
    let (entries, page) = query::list(store, company_id, selection, page.limit.0, cursor).await?;
    Ok(pagination::reply_after(entries, page.last_key.as_ref()))
}

pub async fn get(
    deps: &Deps,
    company_id: &str,
    entry_id: &str,
) -> Result<Response<Body>, AppError> {
    let entry = query::get(deps.store.as_ref(), company_id, entry_id).await?;
    let lines = query::lines_of_day(
        deps.store.as_ref(),
        company_id,
        &entry.location_id,
        &entry.business_date,
        |_, entries| entries.iter().any(|e| e == entry_id),
        Some(&entry.ingredient_id),
    )
    .await?;
    Ok(envelope::json(
        200,
        &LedgerEntryDetail {
            entry,
            source_lines: lines,
        },
    ))
}

/// A ledger entry with the sales lines that fed it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerEntryDetail {
    entry: LedgerEntry,
    source_lines: Vec<SourceLine>,
}
