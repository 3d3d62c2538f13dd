//! Alerts (SPEC C1, C10): one open alert per (company, code, subject). A repeat failure
//! bumps its count and last-seen time; recovery resolves it, moving it to the history.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AppError, ErrorCode};
use crate::store::occ::{self, Plan};
use crate::store::{from_item, query_page_as, to_item, Condition, ItemStore, Key, Query, Write};

/// Stable alert codes.
pub mod code {
    pub const DISCONNECTED: &str = "disconnected";
    pub const TOKEN_REFRESH_FAILED: &str = "token_refresh_failed";
    /// A queue message that can never succeed was dropped.
    pub const MESSAGE_REJECTED: &str = "message_rejected";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub alert_id: String,
    pub company_id: String,
    pub code: String,
    /// What the alert is about, e.g. `k_series` for a connection, a location id, an item.
    pub subject: String,
    pub message: String,
    #[schema(inline)]
    pub status: AlertStatus,
    #[schema(minimum = 1)]
    pub count: u64,
    /// RFC 3339 time
    #[schema(format = DateTime)]
    pub first_seen: String,
    /// RFC 3339 time
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// RFC 3339 time, or null
    #[schema(format = DateTime, required)]
    pub acknowledged_at: Option<String>,
    /// RFC 3339 time, or null
    #[schema(format = DateTime, required)]
    pub resolved_at: Option<String>,
    /// Kept for the store's optimistic writes; not sent ([`view`]).
    #[schema(ignore)]
    pub version: u64,
}

fn partition(company_id: &str) -> String {
    format!("CO#{company_id}#ALERT")
}

const OPEN_PREFIX: &str = "OPEN#";
const RESOLVED_PREFIX: &str = "RESOLVED#";

fn open_key(company_id: &str, code: &str, subject: &str) -> Key {
    Key::new(
        partition(company_id),
        format!("{OPEN_PREFIX}{code}#{subject}"),
    )
}

fn resolved_key(alert: &Alert, resolved_at: &str) -> Key {
    Key::new(
        partition(&alert.company_id),
        format!("{RESOLVED_PREFIX}{resolved_at}#{}", alert.alert_id),
    )
}

/// Opens the alert or, if it is already open, counts one more occurrence.
pub async fn raise(
    store: &dyn ItemStore,
    company_id: &str,
    code: &str,
    subject: &str,
    message: &str,
    now: &str,
) -> Result<Alert, AppError> {
    let key = open_key(company_id, code, subject);
    let key = &key;
    let (alert, raised) = occ::retry(store, "the alert", move || async move {
        Ok(match store.get(key).await? {
            Some(item) => {
                let mut alert: Alert = from_item(item)?;
                let previous = alert.version;
                alert.count += 1;
                alert.last_seen = now.to_string();
                alert.message = message.to_string();
                alert.version += 1;
                let write = Write::Put(to_item(&alert, key)?, Condition::VersionIs(previous));
                Plan::one(write, (alert, false))
            }
            None => {
                let alert = Alert {
                    alert_id: crate::random::uuid().to_string(),
                    company_id: company_id.to_string(),
                    code: code.to_string(),
                    subject: subject.to_string(),
                    message: message.to_string(),
                    status: AlertStatus::Open,
                    count: 1,
                    first_seen: now.to_string(),
                    last_seen: now.to_string(),
                    acknowledged_at: None,
                    resolved_at: None,
                    version: 1,
                };
                let write = Write::Put(to_item(&alert, key)?, Condition::NotExists);
                Plan::one(write, (alert, true))
            }
        })
    })
    .await?;
    if raised {
        tracing::warn!(company_id, code, subject, "alert raised");
    }
    Ok(alert)
}

/// Resolves the open alert, if any; `Ok(None)` when nothing was open.
pub async fn resolve(
    store: &dyn ItemStore,
    company_id: &str,
    code: &str,
    subject: &str,
    now: &str,
) -> Result<Option<Alert>, AppError> {
    let key = open_key(company_id, code, subject);
    let key = &key;
    let resolved = occ::retry(store, "the alert", move || async move {
        let Some(item) = store.get(key).await? else {
            return Ok(Plan::Keep(None));
        };
        let mut alert: Alert = from_item(item)?;
        let previous = alert.version;
        alert.status = AlertStatus::Resolved;
        alert.resolved_at = Some(now.to_string());
        alert.version += 1;
        let history = to_item(&alert, &resolved_key(&alert, now))?;
        let writes = vec![
            Write::Delete(key.clone(), Condition::VersionIs(previous)),
            Write::Put(history, Condition::NotExists),
        ];
        Ok(Plan::Write(writes, Some(alert)))
    })
    .await?;
    if resolved.is_some() {
        tracing::info!(company_id, code, subject, "alert resolved");
    }
    Ok(resolved)
}

/// One page of a company's open or resolved alerts.
pub async fn list(
    store: &dyn ItemStore,
    company_id: &str,
    status: AlertStatus,
    limit: u32,
    start_after: Option<crate::store::Item>,
) -> Result<(Vec<Alert>, Option<crate::store::Item>), AppError> {
    let prefix = match status {
        AlertStatus::Open => OPEN_PREFIX,
        AlertStatus::Resolved => RESOLVED_PREFIX,
    };
    let mut query = Query::partition(partition(company_id))
        .begins_with(prefix)
        .limit(limit)
        .start_after(start_after);
    // Newest resolutions first; open alerts in code order.
    query.forward = status == AlertStatus::Open;
    Ok(query_page_as(store, &query).await?)
}

/// Every page of a company's open or resolved alerts, up to `most` (newest resolutions first).
pub async fn list_all(
    store: &dyn ItemStore,
    company_id: &str,
    status: AlertStatus,
    most: usize,
) -> Result<Vec<Alert>, AppError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = list(store, company_id, status, 100, after).await?;
        out.extend(page);
        match next {
            Some(next) if out.len() < most => after = Some(next),
            _ => return Ok(out),
        }
    }
}

pub fn list_partition(company_id: &str) -> String {
    partition(company_id)
}

/// Marks an open alert as seen by a person; it stays open until the cause recovers.
pub async fn acknowledge(
    store: &dyn ItemStore,
    company_id: &str,
    alert_id: &str,
    now: &str,
) -> Result<Alert, AppError> {
    let not_found = || {
        AppError::new(
            ErrorCode::AlertNotFound,
            format!("no open alert `{alert_id}` in this company"),
        )
    };
    occ::retry(store, "the alert", move || async move {
        let mut start = None;
        let found = loop {
            let (alerts, next) = list(store, company_id, AlertStatus::Open, 100, start).await?;
            if let Some(alert) = alerts.into_iter().find(|a| a.alert_id == alert_id) {
                break Some(alert);
            }
            match next {
                Some(key) => start = Some(key),
                None => break None,
            }
        };
        let mut alert = found.ok_or_else(not_found)?;
        let previous = alert.version;
        alert.acknowledged_at = Some(now.to_string());
        alert.version += 1;
        let key = open_key(company_id, &alert.code, &alert.subject);
        let write = Write::Put(to_item(&alert, &key)?, Condition::VersionIs(previous));
        Ok(Plan::one(write, alert))
    })
    .await
}

/// The API view of an alert (the stored record without bookkeeping).
pub fn view(alert: &Alert) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
    }
    value
}
