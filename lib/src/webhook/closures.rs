//! X-Series register closures (`register_closure.create`), kept per outlet so journals can
//! post per closure once configured, and listed in the admin API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::receipt::SalesEvent;
use crate::error::AppError;
use crate::store::{to_item, Condition, ItemStore, Key, Query, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterClosure {
    pub company_id: String,
    pub closure_id: String,
    pub outlet_id: String,
    pub register_id: String,
    #[schema(required)]
    pub open_sequence: Option<u64>,
    /// As X-Series states them (`YYYY-MM-DD HH:MM:SS`, UTC).
    #[schema(required)]
    pub opened_at: Option<String>,
    #[schema(required)]
    pub closed_at: Option<String>,
    pub received_at: String,
}

/// Pattern 31: the partition of an outlet's closures, by close time.
pub fn partition(company_id: &str, outlet_id: &str) -> String {
    format!("LOC#{company_id}#{outlet_id}#CLOSURES")
}

fn text(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The closure an event carries (pure); `None` without a register and an outlet.
pub fn from_event(event: &SalesEvent) -> Option<RegisterClosure> {
    let details = event.closure.as_ref()?;
    let outlet_id = text(details, "outlet_id").filter(|o| crate::ids::is_valid_id(o))?;
    Some(RegisterClosure {
        company_id: event.company_id.clone(),
        closure_id: event.object_id.clone(),
        outlet_id,
        register_id: text(details, "register_id")?,
        open_sequence: text(details, "register_open_sequence_id").and_then(|s| s.parse().ok()),
        opened_at: text(details, "register_open_time"),
        closed_at: text(details, "register_close_time"),
        received_at: event.received_at.clone(),
    })
}

/// Pattern 31: records a closure once (a redelivery finds it there).
pub async fn record(store: &dyn ItemStore, closure: &RegisterClosure) -> Result<bool, AppError> {
    let sort = format!(
        "{}#{}",
        closure.closed_at.as_deref().unwrap_or("-"),
        closure.closure_id
    );
    let key = Key::new(partition(&closure.company_id, &closure.outlet_id), sort);
    match store
        .put(to_item(closure, &key)?, Condition::NotExists)
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Pattern 31: the query of an outlet's closures, newest first.
pub fn list_query(company_id: &str, outlet_id: &str) -> Query {
    let mut query = Query::partition(partition(company_id, outlet_id));
    query.forward = false;
    query
}
