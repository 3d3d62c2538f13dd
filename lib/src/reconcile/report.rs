//! The reconciliation report: one row per location and business date (pattern 37), the
//! latest run's verdict, kept so finance can list a month and the KPIs can count it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::compare::Difference;
use crate::api::openapi::schemas as doc;
use crate::error::AppError;
use crate::money::Quantity;
use crate::store::{query_all_as, to_item, Condition, Item, ItemStore, Key, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    /// Lightspeed, the cached sales, the ledger and the ERP agree.
    Reconciled,
    /// At least one exception is listed.
    Exceptions,
    /// Not decidable yet: the day is not over, Lightspeed's data is incomplete or could not
    /// be read, or the journal is still being posted (`pending_reason` says which).
    Pending,
}

/// One thing that disagrees, named by a stable code and the subject its alert carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Exception {
    pub code: String,
    pub subject: String,
    pub message: String,
    /// For `unreconciled_sales`: each figure that differs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

/// What the ERP holds for the day, when a journal was posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JournalCheck {
    pub reference: String,
    /// The journal record's status (`posted`, `blocked`, …).
    pub status: String,
    pub erp_move_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayReport {
    pub company_id: String,
    pub location_id: String,
    #[schema(schema_with = doc::date)]
    pub business_date: String,
    pub status: DayStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_reason: Option<String>,
    /// Where Lightspeed's figures came from: `sales_daily`, `sales`, `sales_feed` or `import`.
    pub basis: String,
    /// Sales and refunds Lightspeed reports for the day, and the ledger's cached copy.
    pub pos_sales: u64,
    pub cached_sales: u64,
    /// Ingredient → quantity the mappings imply but the ledger has not issued (negative:
    /// issued beyond what they imply); empty when the ledger matches.
    #[schema(value_type = BTreeMap<String, String>)]
    pub ledger_variance: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<JournalCheck>,
    pub exceptions: Vec<Exception>,
    #[schema(schema_with = doc::time)]
    pub checked_at: String,
}

/// Pattern 37: a location's reports, sorted by date.
pub fn partition(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#RECON")
}

impl DayReport {
    pub fn key(&self) -> Key {
        Key::new(
            partition(&self.company_id, &self.location_id),
            self.business_date.clone(),
        )
    }

    pub fn to_item(&self) -> Result<Item, AppError> {
        Ok(to_item(self, &self.key())?)
    }
}

/// The latest run's verdict replaces the previous one (a report is a view, not history:
/// the alerts keep what was seen and when).
pub async fn save(store: &dyn ItemStore, report: &DayReport) -> Result<(), AppError> {
    store.put(report.to_item()?, Condition::None).await?;
    Ok(())
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: &str,
) -> Result<Option<DayReport>, AppError> {
    let key = Key::new(partition(company_id, location_id), date.to_string());
    Ok(crate::store::get_as(store, &key).await?)
}

/// Pattern 37: a location's reports with dates in `from..=to`.
pub async fn in_range(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<DayReport>, AppError> {
    let query = Query::partition(partition(company_id, location_id))
        .between(from.to_string(), to.to_string())
        .limit(500);
    Ok(query_all_as(store, query).await?)
}
