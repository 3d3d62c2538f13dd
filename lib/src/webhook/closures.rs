//! X-Series register closures (`register_closure.create`), kept per outlet (pattern 31) and
//! listed in the admin API. An outlet that journals per register closure posts one journal
//! per closure: the sales rung up on that register between its opening and closing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::receipt::SalesEvent;
use crate::error::AppError;
use crate::location::business_day::Window;
use crate::store::{query_all_as, to_item, Condition, ItemStore, Key, Query, StoreError};

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

/// X-Series closure times (`YYYY-MM-DD HH:MM:SS`, UTC).
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(text.trim(), TIME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

fn time_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format(TIME_FORMAT).to_string()
}

impl RegisterClosure {
    /// When the register was open: from its opening to its closing second, inclusive.
    pub fn window(&self) -> Option<Window> {
        let start = parse_time(self.opened_at.as_deref()?)?;
        let closed = parse_time(self.closed_at.as_deref()?)?;
        let end = closed.checked_add_signed(chrono::Duration::seconds(1))?;
        (start < end).then_some(Window { start, end })
    }

    /// When it closed, if readable.
    pub fn closed(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        parse_time(self.closed_at.as_deref()?)
    }
}

/// Pattern 31: the closure `closure_id` of an outlet that closed in business day `date`
/// (its UTC close date is within a day before and two after, whatever the time zone and
/// cutoff).
pub async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    outlet_id: &str,
    closure_id: &str,
    date: &str,
) -> Result<Option<RegisterClosure>, AppError> {
    let Some(day) = crate::ids::strict_date(date) else {
        return Ok(None);
    };
    let from = day - chrono::Days::new(1);
    let to = day + chrono::Days::new(3);
    let query = Query::partition(partition(company_id, outlet_id))
        .between(from.to_string(), to.to_string())
        .limit(200);
    let closures: Vec<RegisterClosure> = query_all_as(store, query).await?;
    Ok(closures.into_iter().find(|c| c.closure_id == closure_id))
}

/// Pattern 31: an outlet's closures that closed within `window`, oldest first.
pub async fn closed_in(
    store: &dyn ItemStore,
    company_id: &str,
    outlet_id: &str,
    window: &Window,
) -> Result<Vec<RegisterClosure>, AppError> {
    // `{end}` sorts before any closure at the (exclusive) end: its text is followed by `#`.
    let query = Query::partition(partition(company_id, outlet_id))
        .between(time_text(window.start), time_text(window.end))
        .limit(200);
    let closures: Vec<RegisterClosure> = query_all_as(store, query).await?;
    Ok(closures
        .into_iter()
        .filter(|c| c.closed().is_some_and(|t| window.contains(t)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closure(opened: Option<&str>, closed: Option<&str>) -> RegisterClosure {
        RegisterClosure {
            company_id: "c".into(),
            closure_id: "k1".into(),
            outlet_id: "o1".into(),
            register_id: "r1".into(),
            open_sequence: Some(7),
            opened_at: opened.map(str::to_string),
            closed_at: closed.map(str::to_string),
            received_at: "2026-03-02T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_closure_covers_its_opening_to_its_closing_second() {
        let window = closure(Some("2026-03-01 08:00:00"), Some("2026-03-01 20:30:00"))
            .window()
            .unwrap();
        let at = |t: &str| parse_time(t).unwrap();
        assert!(window.contains(at("2026-03-01 08:00:00")));
        assert!(window.contains(at("2026-03-01 20:30:00")));
        assert!(!window.contains(at("2026-03-01 07:59:59")));
        assert!(!window.contains(at("2026-03-01 20:30:01")));
    }

    #[test]
    fn a_closure_without_readable_times_has_no_window() {
        for (opened, closed) in [
            (None, Some("2026-03-01 20:30:00")),
            (Some("2026-03-01 08:00:00"), None),
            (Some("yesterday"), Some("2026-03-01 20:30:00")),
            // Closed before it opened.
            (Some("2026-03-02 08:00:00"), Some("2026-03-01 20:30:00")),
        ] {
            assert!(
                closure(opened, closed).window().is_none(),
                "{opened:?} {closed:?}"
            );
        }
    }
}
