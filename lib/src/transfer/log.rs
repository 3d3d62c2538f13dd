//! The transfer log: one item per attempt, with the result fields of SPEC C5.

use serde::{Deserialize, Serialize};

use super::request::TransferRequest;
use super::stats::TransferStats;
use crate::api::openapi::schemas as doc;
use crate::store::{attr, keys, query_as, to_item, Index, Item, ItemStore, Key, Query, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Success,
    NoData,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogError {
    pub code: String,
    pub message: String,
    /// How long Lightspeed asked us to wait (429/503 `Retry-After`), for a caller that retries
    /// the run itself (the migration worker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// One transfer attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferLog {
    pub log_id: String,
    pub request_uuid: String,
    #[schema(minimum = 1)]
    pub attempt: u32,
    pub company_id: String,
    pub location_id: String,
    /// The date as requested (it may be the invalid value that failed the attempt).
    pub date: String,
    #[schema(inline)]
    pub status: TransferStatus,
    pub success: bool,
    pub no_data: bool,
    pub ledger_ids: Vec<String>,
    #[serde(default)]
    #[schema(required)]
    pub force_refresh: bool,
    #[serde(default)]
    #[schema(value_type = Option<doc::TransferStats>, required)]
    pub stats: Option<TransferStats>,
    #[schema(value_type = Option<doc::TransferError>, required)]
    pub error: Option<LogError>,
    /// When a retryable failure sent the request back to the queue: the next attempt.
    #[serde(default)]
    #[schema(required)]
    pub retry: Option<RetryScheduled>,
    #[schema(schema_with = doc::time)]
    pub requested_at: String,
    #[schema(schema_with = doc::time)]
    pub finished_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetryScheduled {
    #[schema(minimum = 1)]
    pub attempt: u32,
    pub delay_seconds: u64,
}

/// Pattern 15: the transfer logs of a location, newest business date first.
pub fn list_query(company_id: &str, location_id: &str) -> Query {
    let mut query = Query::partition(keys::transfer_logs(company_id, location_id));
    query.forward = false;
    query
}

/// Pattern 15 (gsi1): the latest `limit` failed transfers of a location, newest first.
pub async fn recent_failures(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    limit: u32,
) -> Result<Vec<TransferLog>, StoreError> {
    let mut query = Query::partition(keys::failed_transfer_logs(company_id, location_id))
        .on(Index::Gsi1)
        .limit(limit);
    query.forward = false;
    query_as(store, &query).await
}

impl TransferLog {
    /// Deterministic per (request, attempt): a redelivered message finds its own log.
    pub fn id_for(request: &TransferRequest) -> String {
        format!("{}-{}", request.request_uuid, request.attempt)
    }

    pub fn key(&self) -> Key {
        keys::transfer_log(
            &self.company_id,
            &self.location_id,
            &self.date,
            &self.requested_at,
            &self.log_id,
        )
    }

    /// Where the log of `request`'s attempt is (or will be) stored.
    pub fn key_for(request: &TransferRequest) -> Key {
        keys::transfer_log(
            &request.company_id,
            &request.location_id,
            request.business_date.as_deref().unwrap_or_default(),
            &request.requested_at,
            &Self::id_for(request),
        )
    }

    /// The stored item, joined to the failed-logs and per-request indexes.
    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = to_item(self, &self.key())?;
        if self.status == TransferStatus::Failed {
            item.insert(
                attr::GSI1PK.into(),
                keys::failed_transfer_logs(&self.company_id, &self.location_id).into(),
            );
            item.insert(attr::GSI1SK.into(), self.finished_at.clone().into());
        }
        item.insert(
            attr::GSI2PK.into(),
            keys::request(&self.request_uuid).into(),
        );
        item.insert(attr::GSI2SK.into(), format!("TLOG#{}", self.log_id).into());
        Ok(item)
    }
}
