//! Per-location transfer counters for the location detail (issues lifetime, failures, last
//! run), kept on one item beside the location and updated after every logged attempt.

use serde::{Deserialize, Serialize};

use super::log::{TransferLog, TransferStatus};
use crate::error::AppError;
use crate::store::occ::{self, Plan};
use crate::store::{from_item, get_as, keys, to_item, Condition, ItemStore, Key, Write};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationStats {
    pub issues_total: u64,
    pub issues_failed: u64,
    pub last_run_at: Option<String>,
    pub last_success_date: Option<String>,
    pub last_status: Option<TransferStatus>,
    /// Unmapped names of the latest successful transfer, largest quantity first.
    #[serde(default)]
    pub last_unmapped: Vec<String>,
    #[serde(default)]
    pub version: u64,
}

pub fn key(company_id: &str, location_id: &str) -> Key {
    Key::new(keys::company(company_id), format!("LOCSTATS#{location_id}"))
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<LocationStats, AppError> {
    Ok(get_as(store, &key(company_id, location_id))
        .await?
        .unwrap_or_default())
}

/// Counts one logged attempt.
pub async fn record(store: &dyn ItemStore, log: &TransferLog) -> Result<(), AppError> {
    let key = &key(&log.company_id, &log.location_id);
    occ::retry(store, "location statistics", move || async move {
        let current: LocationStats = get(store, &log.company_id, &log.location_id).await?;
        let mut next = current.clone();
        next.issues_total += 1;
        if log.status == TransferStatus::Failed {
            next.issues_failed += 1;
        } else {
            let newer = next
                .last_success_date
                .as_deref()
                .is_none_or(|d| d < log.date.as_str());
            if newer {
                next.last_success_date = Some(log.date.clone());
            }
            next.last_unmapped = log
                .stats
                .as_ref()
                .map(|s| s.unmapped_names.iter().take(20).cloned().collect())
                .unwrap_or_default();
        }
        next.last_run_at = Some(log.finished_at.clone());
        next.last_status = Some(log.status);
        next.version = current.version + 1;
        let condition = Condition::replacing(current.version);
        Ok(Plan::one(Write::Put(to_item(&next, key)?, condition), ()))
    })
    .await
}

/// Transfers and sales lines of the last 7 and 30 business days (location detail stats).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecentActivity {
    pub issues_7d: u64,
    pub issues_30d: u64,
    pub issues_failed_30d: u64,
    pub sales_lines_7d: u64,
    pub sales_lines_30d: u64,
}

pub async fn recent(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    today: chrono::NaiveDate,
) -> Result<RecentActivity, AppError> {
    use crate::store::{query_all, Index, Query, SortKeyCondition};
    let since = |days: u64| (today - chrono::Days::new(days)).to_string();
    let (since_7, since_30) = (since(7), since(30));
    let mut out = RecentActivity::default();
    let mut logs = Query::partition(keys::transfer_logs(company_id, location_id)).limit(500);
    logs.sk = Some(SortKeyCondition::Between(since_30.clone(), "~".into()));
    for item in query_all(store, logs).await? {
        let log: TransferLog = from_item(item)?;
        out.issues_30d += 1;
        if log.date >= since_7 {
            out.issues_7d += 1;
        }
        if log.status == TransferStatus::Failed {
            out.issues_failed_30d += 1;
        }
    }
    let mut days = Query::partition(super::cache::days_index(company_id, location_id))
        .on(Index::Gsi1)
        .limit(100);
    days.sk = Some(SortKeyCondition::Between(since_30, "~".into()));
    for item in query_all(store, days).await? {
        let day: super::cache::DayState = from_item(item)?;
        out.sales_lines_30d += day.lines_count as u64;
        if day.business_date >= since_7 {
            out.sales_lines_7d += day.lines_count as u64;
        }
    }
    Ok(out)
}
