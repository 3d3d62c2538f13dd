//! Response and request helpers shared by every endpoint: JSON bodies, the documented error
//! shapes of each API, and query parsing that never panics or rejects with a plain-text body.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;

/// Serialises `body` as JSON with `status`.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("serialisation failed: {e}"),
        )
            .into_response(),
    }
}

/// K-Series Financial API error: `{"error": "<message>"}`.
pub fn fin_error(status: StatusCode, message: &str) -> Response {
    json(status, &json!({ "error": message }))
}

/// K-Series Items API error: `status` is a string; optional sub-exception for a field.
pub fn items_error(
    status: StatusCode,
    message: &str,
    field: Option<(&str, Option<&str>, &str)>,
    now: DateTime<Utc>,
) -> Response {
    let subs: Vec<serde_json::Value> = field
        .map(|(f, rejected, m)| {
            vec![json!({ "field": f, "rejectedValue": rejected, "message": m })]
        })
        .unwrap_or_default();
    json(
        status,
        &json!({
            "status": status.as_u16().to_string(),
            "timestamp": iso_millis(now),
            "message": message,
            "apiSubExceptions": subs,
        }),
    )
}

/// OAuth error body (RFC 6749 / Keycloak).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// 401 for a missing, unknown or expired bearer token.
pub fn unauthorized(description: &str) -> Response {
    let mut r = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

/// X-Series style error body.
pub fn x_error(status: StatusCode, error: &str, message: &str) -> Response {
    json(status, &json!({ "error": error, "message": message }))
}

/// `2023-02-14T19:58:48.224Z`.
pub fn iso_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Query string as ordered pairs; invalid encoding yields `Err` for a documented 400.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, String> {
        match raw {
            None => Ok(Params::default()),
            Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .map(Params)
                .map_err(|e| e.to_string()),
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }

    /// Parses an optional integer; `Err(raw)` when present but not an integer.
    pub fn int<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, String> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v.trim().parse::<T>().map(Some).map_err(|_| v.to_string()),
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty() {
        Some(tok.trim().to_string())
    } else {
        None
    }
}

/// HTTP Basic credentials of a request, if any.
pub fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Parses a form body into pairs (empty on malformed input; callers report missing fields).
pub fn form(body: &[u8]) -> Params {
    Params(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default())
}

/// Parses an ISO-8601 date-time; a value without offset is read as UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s.trim(), f) {
            return Some(n.and_utc());
        }
    }
    None
}
