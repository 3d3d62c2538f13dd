//! Financial API V2 sales: `GET /f/v2/business-location/{id}/sales` (window on `timeClosed`,
//! sorted by it, `pageSize` ≤ 100, opaque `nextPageToken`) and `.../sales-daily?date=`.
//!
//! The page token is keyset-based (last `timeClosed` + account id), so late sales inserted while
//! a client pages never shift pages under it.

use super::auth::{location, require, Api};
use super::wire;
use crate::config::{LastPageToken, PaymentsMode};
use crate::respond::{fin_error, json, parse_time, Params};
use crate::server::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use std::sync::Arc;

/// Maximum window between `from` and `to`.
pub const MAX_WINDOW_DAYS: i64 = 365;

fn encode_token(t: DateTime<Utc>, fisc: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "v2|{}|{}",
        t.timestamp_millis(),
        fisc
    ))
}

fn decode_token(s: &str) -> Option<(DateTime<Utc>, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut it = text.splitn(3, '|');
    if it.next()? != "v2" {
        return None;
    }
    let ms: i64 = it.next()?.parse().ok()?;
    let fisc = it.next()?.to_string();
    Some((DateTime::from_timestamp_millis(ms)?, fisc))
}

fn wants_payments(state: &AppState, p: &Params) -> bool {
    state.cfg.wire.payments == PaymentsMode::Always
        || p.get("include").is_some_and(|v| {
            v.split(',')
                .any(|x| x.trim().eq_ignore_ascii_case("payments"))
        })
}

fn loc_id(id: &str) -> Result<i64, Response> {
    id.parse::<i64>()
        .map_err(|_| fin_error(StatusCode::BAD_REQUEST, "Invalid business location id"))
}

/// `GET …/sales`: a page of sales and, while more follow, the token of the next.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SalesPage<'a> {
    sales: Vec<wire::Sale<'a>>,
    /// Absent, `null` or a string: the last page's token is a wire switch.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<Option<String>>,
}

/// `GET …/sales-daily`: the business day's sales, where the next day starts, and whether
/// the day is over.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DailyPage<'a> {
    sales: Vec<wire::Sale<'a>>,
    next_start_of_day_as_iso8601: String,
    data_complete: bool,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(Path(id)) = id else {
        return fin_error(StatusCode::BAD_REQUEST, "Invalid business location id");
    };
    if let Err(r) = require(&state, &headers, "financial-api", Api::Financial) {
        return r;
    }
    let id = match loc_id(&id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let li = match location(&state, id, Api::Financial) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return fin_error(StatusCode::BAD_REQUEST, "Malformed query string");
    };
    let now = state.clock.now();
    let Some(from_raw) = p.get("from") else {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "Required parameter 'from' is missing",
        );
    };
    let Some(from) = parse_time(from_raw) else {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "Invalid date format for 'from', expected ISO-8601 date-time",
        );
    };
    // An explicit `to` before `from` is an error; a `to` past the clock (or none) means now.
    let to = match p.get("to") {
        None => now,
        Some(t) => match parse_time(t) {
            Some(t) if t < from => {
                return fin_error(StatusCode::BAD_REQUEST, "'from' must be before 'to'")
            }
            Some(t) => t.min(now),
            None => {
                return fin_error(
                    StatusCode::BAD_REQUEST,
                    "Invalid date format for 'to', expected ISO-8601 date-time",
                )
            }
        },
    };
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "The period between 'from' and 'to' must not exceed 365 days",
        );
    }
    let page_size = match p.int::<i64>("pageSize") {
        Ok(None) => 50,
        Ok(Some(n)) if (1..=100).contains(&n) => n as usize,
        _ => {
            return fin_error(
                StatusCode::BAD_REQUEST,
                "'pageSize' must be an integer between 1 and 100",
            )
        }
    };
    let after = match p.get("nextPageToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match decode_token(t) {
            Some(k) => Some(k),
            None => return fin_error(StatusCode::BAD_REQUEST, "Invalid 'nextPageToken'"),
        },
    };
    let all = state.k.sales_between(li, from, to, now);
    let start = match &after {
        None => 0,
        Some((t, f)) => {
            all.partition_point(|s| (s.time_closed, s.fisc_id.as_str()) <= (*t, f.as_str()))
        }
    };
    let page = &all[start.min(all.len())..(start + page_size).min(all.len())];
    let more = start + page_size < all.len();
    let loc = &state.k.catalog.locations[li];
    let currency = state
        .k
        .catalog
        .businesses
        .get(loc.business)
        .map(|b| b.currency)
        .unwrap_or("GBP");
    let with_payments = wants_payments(&state, &p);
    let sales: Vec<wire::Sale> = page
        .iter()
        .map(|s| wire::sale(s, loc, currency, with_payments, state.cfg.wire.refund_sign))
        .collect();
    let next_page_token = match (more, page.last()) {
        (true, Some(last)) => Some(Some(encode_token(last.time_closed, &last.fisc_id))),
        _ => match state.cfg.wire.last_page_token {
            LastPageToken::Absent => None,
            LastPageToken::Null => Some(None),
            LastPageToken::Empty => Some(Some(String::new())),
        },
    };
    let body = SalesPage {
        sales,
        next_page_token,
    };
    json(StatusCode::OK, &body)
}

/// Business day of the daily endpoint: local start of day 04:00.
pub const DAY_START_HOUR: u32 = 4;

pub async fn daily(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(Path(id)) = id else {
        return fin_error(StatusCode::BAD_REQUEST, "Invalid business location id");
    };
    if let Err(r) = require(&state, &headers, "financial-api", Api::Financial) {
        return r;
    }
    let id = match loc_id(&id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let li = match location(&state, id, Api::Financial) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return fin_error(StatusCode::BAD_REQUEST, "Malformed query string");
    };
    let Some(d) = p.get("date") else {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "Required parameter 'date' is missing",
        );
    };
    let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") else {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "Invalid date format for 'date', expected yyyy-MM-dd",
        );
    };
    if date < state.k.first_date(li) {
        return fin_error(
            StatusCode::BAD_REQUEST,
            "The location was not operational on the provided date",
        );
    }
    let now = state.clock.now();
    let Some((from, to)) = state.k.window(li, date, DAY_START_HOUR) else {
        return fin_error(StatusCode::BAD_REQUEST, "Unknown location");
    };
    let loc = &state.k.catalog.locations[li];
    let currency = state
        .k
        .catalog
        .businesses
        .get(loc.business)
        .map(|b| b.currency)
        .unwrap_or("GBP");
    let with_payments = wants_payments(&state, &p);
    let day = state.k.sales_between(li, from, to, now);
    let sales: Vec<wire::Sale> = day
        .iter()
        .map(|s| wire::sale(s, loc, currency, with_payments, state.cfg.wire.refund_sign))
        .collect();
    let next_start = to
        .with_timezone(&loc.tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false);
    json(
        StatusCode::OK,
        &DailyPage {
            sales,
            next_start_of_day_as_iso8601: next_start,
            data_complete: now >= to,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_rejects_garbage() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap_or_default();
        let tok = encode_token(t, "A65315.17");
        assert_eq!(decode_token(&tok), Some((t, "A65315.17".to_string())));
        assert_eq!(decode_token("not a token"), None);
        assert_eq!(decode_token(""), None);
    }
}
