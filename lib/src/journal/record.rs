//! A journal as tillbridge keeps it (pattern 25): one record per (location, period,
//! revision) with the lines sent, what the ERP holds, and the status finance reads. The
//! period is a business day, or one register closure of an X-Series outlet that journals
//! per closure.

use serde::{Deserialize, Serialize};

use super::builder::JournalLine;
use crate::error::{AppError, ErrorCode};
use crate::money::Money;
use crate::store::{from_item, query_all_as, to_item, Condition, Item, ItemStore, Key, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStatus {
    /// Built, not yet (fully) in the ERP.
    Pending,
    /// Posted and read back equal to what was sent.
    Posted,
    /// Not built: an account is missing (`payment_method_unmapped`, …) or the currency is refused.
    Blocked,
    /// The ERP holds other lines than were sent (`journal_out_of_balance`); left as a draft.
    OutOfBalance,
    /// Posted, but the ERP dated it otherwise (`journal_date_moved`).
    DateMoved,
    /// The ERP refused it, or did not answer within the retries.
    Failed,
    /// Replaced by a later revision; its move was reversed in the ERP.
    Reversed,
    /// Never reached the books (blocked, refused, out of balance) and no longer needed: the
    /// day's lines went back to what an earlier posted revision holds.
    Superseded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalError {
    pub code: String,
    pub message: String,
}

/// How a journal in the location's currency was posted in the ERP company's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    pub company_currency: String,
    /// The ERP's rate for the date: units of the location's currency per company unit.
    pub rate: rust_decimal::Decimal,
}

/// The ERP side of a posted (or reversed) journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpMove {
    pub move_id: Option<i64>,
    pub name: Option<String>,
    /// The date the ERP holds.
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRecord {
    pub company_id: String,
    pub location_id: String,
    pub business_date: String,
    /// Set for the journal of one register closure (closed in `business_date`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_id: Option<String>,
    pub revision: u32,
    /// `tillbridge:<location>:<period>:<revision>`.
    pub reference: String,
    pub status: JournalStatus,
    pub currency: String,
    pub journal: String,
    pub erp_company_id: Option<i64>,
    pub lines: Vec<JournalLine>,
    pub total_debit: Money,
    pub total_credit: Money,
    /// The rounding line's amount (debits minus credits before it).
    pub difference: Money,
    pub sales_count: usize,
    pub erp: ErpMove,
    /// Set when the ERP company keeps its books in another currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
    /// When reversed: the reversing move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversal: Option<ErpMove>,
    pub error: Option<JournalError>,
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub version: u64,
}

/// Pattern 25: the partition of a location's journals, sorted by date then revision.
pub fn partition(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#JRNL")
}

/// A journal's period as keys, ids and ERP references name it: the business date, or
/// `{date}~{closure}` for a register closure's journal.
pub fn period(date: &str, closure_id: Option<&str>) -> String {
    match closure_id {
        Some(closure) => format!("{date}~{closure}"),
        None => date.to_string(),
    }
}

/// The sort-key prefix of a period's revisions: `{date}#R` for a day, `{date}#C{closure}#R`
/// for a closure, so both sort by date and a day's own revisions stay apart.
fn revisions_prefix(period: &str) -> String {
    match period.split_once('~') {
        Some((date, closure)) => format!("{date}#C{closure}#R"),
        None => format!("{period}#R"),
    }
}

pub fn key(company_id: &str, location_id: &str, period: &str, revision: u32) -> Key {
    Key::new(
        partition(company_id, location_id),
        format!("{}{revision:04}", revisions_prefix(period)),
    )
}

impl JournalRecord {
    pub fn key(&self) -> Key {
        key(
            &self.company_id,
            &self.location_id,
            &self.period(),
            self.revision,
        )
    }

    pub fn period(&self) -> String {
        period(&self.business_date, self.closure_id.as_deref())
    }

    pub fn to_item(&self) -> Result<Item, AppError> {
        Ok(to_item(self, &self.key())?)
    }

    /// Journal ids in the API: `<location>:<period>:<revision>`.
    pub fn id(&self) -> String {
        format!("{}:{}:{}", self.location_id, self.period(), self.revision)
    }
}

/// Pattern 25: every revision of a location's period (a day, or a closure), oldest first.
pub async fn revisions(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    period: &str,
) -> Result<Vec<JournalRecord>, AppError> {
    let query = Query::partition(partition(company_id, location_id))
        .begins_with(revisions_prefix(period))
        .limit(100);
    Ok(query_all_as(store, query).await?)
}

/// Pattern 25: a location's journals with dates in `from..=to`, by date and revision.
pub async fn in_range(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<JournalRecord>, AppError> {
    let query = Query::partition(partition(company_id, location_id))
        .between(format!("{from}#"), format!("{to}#~"))
        .limit(500);
    Ok(query_all_as(store, query).await?)
}

/// Pattern 25: the newest revision of the newest day, if any.
pub async fn latest(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<Option<JournalRecord>, AppError> {
    let mut query = Query::partition(partition(company_id, location_id)).limit(1);
    query.forward = false;
    let page = store.query(&query).await?;
    Ok(page.items.into_iter().next().map(from_item).transpose()?)
}

/// Pattern 25: one revision, or `journal_not_found`.
pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    period: &str,
    revision: u32,
) -> Result<JournalRecord, AppError> {
    match store
        .get(&key(company_id, location_id, period, revision))
        .await?
    {
        Some(item) => Ok(from_item(item)?),
        None => Err(AppError::new(
            ErrorCode::JournalNotFound,
            format!("no journal revision {revision} for location `{location_id}` on {period}"),
        )),
    }
}

/// Writes a record under the version it was read at (created when new).
pub async fn save(store: &dyn ItemStore, record: &mut JournalRecord) -> Result<(), AppError> {
    let condition = Condition::replacing(record.version);
    record.version += 1;
    let item = record.to_item()?;
    match store.put(item, condition).await {
        Ok(()) => Ok(()),
        Err(err) => {
            record.version -= 1;
            Err(err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closures_revisions_sort_within_its_day_apart_from_the_days_own() {
        let day = key("c", "loc", "2026-03-01", 2);
        let closure = key("c", "loc", &period("2026-03-01", Some("k1")), 1);
        assert_eq!(day.sk, "2026-03-01#R0002");
        assert_eq!(closure.sk, "2026-03-01#Ck1#R0001");
        assert_eq!(day.pk, closure.pk);
        // A day's revisions are not a closure's, and the reverse.
        assert!(day.sk.starts_with(&revisions_prefix("2026-03-01")));
        assert!(!closure.sk.starts_with(&revisions_prefix("2026-03-01")));
        assert!(closure.sk.starts_with(&revisions_prefix("2026-03-01~k1")));
        assert!(!day.sk.starts_with(&revisions_prefix("2026-03-01~k1")));
        // Both fall in the day's range (`in_range`).
        for sk in [&day.sk, &closure.sk] {
            assert!(sk.as_str() >= "2026-03-01#" && sk.as_str() <= "2026-03-01#~");
        }
    }
}
