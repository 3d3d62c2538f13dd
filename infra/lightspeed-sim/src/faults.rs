//! Fault injection per endpoint: 429 (Retry-After in seconds or as an HTTP date), 5xx, delays
//! past a client timeout, malformed JSON and 401 on a valid token. Decisions come from a seeded
//! PRNG so a test run is repeatable.

use crate::respond::{json, unauthorized, x_error};
use crate::rng::{mix, Rng};
use crate::server::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Faults for one endpoint key (see [`endpoint_key`]); shares are probabilities in [0, 1].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultSpec {
    pub share429: f64,
    /// `Retry-After` seconds (default 1).
    pub retry_after_seconds: Option<u64>,
    /// Send `Retry-After` as an HTTP date instead of seconds.
    pub retry_after_http_date: bool,
    pub share5xx: f64,
    /// Status for injected server errors (default 503).
    pub status5xx: Option<u16>,
    pub share_delay: f64,
    pub delay_ms: u64,
    pub share_malformed: f64,
    pub share401: f64,
    /// Apply to the next N matching requests only (then the fault is removed).
    pub remaining: Option<u32>,
}

/// Active faults and the PRNG that decides them.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<(HashMap<String, FaultSpec>, Rng)>,
}

fn per_mille(share: f64) -> u64 {
    if share.is_nan() || share <= 0.0 {
        0
    } else if share >= 1.0 {
        1000
    } else {
        (share * 1000.0).round() as u64
    }
}

/// What to do with one request.
#[derive(Debug, Default, Clone)]
struct Decision {
    unauthorized: bool,
    too_many: Option<(u64, bool)>,
    server_error: Option<u16>,
    delay_ms: u64,
    malformed: bool,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults {
            inner: Mutex::new((HashMap::new(), Rng::new(mix(&[seed, 0xfa_17])))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, FaultSpec>, Rng)> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn set(&self, key: &str, spec: FaultSpec) {
        self.lock().0.insert(key.to_string(), spec);
    }

    pub fn clear(&self) {
        self.lock().0.clear();
    }

    pub fn list(&self) -> HashMap<String, FaultSpec> {
        self.lock().0.clone()
    }

    fn decide(&self, key: &str) -> Decision {
        let mut g = self.lock();
        let (map, rng) = &mut *g;
        let k = if map.contains_key(key) {
            key.to_string()
        } else if map.contains_key("*") {
            "*".to_string()
        } else {
            return Decision::default();
        };
        let Some(spec) = map.get_mut(&k) else {
            return Decision::default();
        };
        let mut d = Decision::default();
        if rng.chance(per_mille(spec.share401)) {
            d.unauthorized = true;
        } else if rng.chance(per_mille(spec.share429)) {
            d.too_many = Some((
                spec.retry_after_seconds.unwrap_or(1),
                spec.retry_after_http_date,
            ));
        } else if rng.chance(per_mille(spec.share5xx)) {
            d.server_error = Some(spec.status5xx.unwrap_or(503));
        } else {
            if rng.chance(per_mille(spec.share_delay)) {
                d.delay_ms = spec.delay_ms;
            }
            d.malformed = rng.chance(per_mille(spec.share_malformed));
        }
        let fired = d.unauthorized
            || d.too_many.is_some()
            || d.server_error.is_some()
            || d.delay_ms > 0
            || d.malformed;
        if fired {
            if let Some(n) = spec.remaining.as_mut() {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&k);
                }
            }
        }
        d
    }
}

/// Stable key of a simulated endpoint, e.g. `k.sales` or `x.products`; `None` for other paths.
pub fn endpoint_key(path: &str) -> Option<&'static str> {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    match seg.as_slice() {
        ["oauth", "token"] | ["realms", "k-series", "protocol", "openid-connect", "token"] => {
            Some("k.token")
        }
        ["oauth", "userinfo"] => Some("k.userinfo"),
        ["f", "data", "businesses"] => Some("k.businesses"),
        ["items", "v1", "items", ..] => Some("k.items"),
        ["f", "v2", "business-location", _, "sales"] => Some("k.sales"),
        ["f", "v2", "business-location", _, "sales-daily"] => Some("k.sales_daily"),
        ["f", "finance", _, "paymentMethods"] => Some("k.payment_methods"),
        ["f", "finance", _, "tax-rates"] => Some("k.tax_rates"),
        ["x", _, "api", "1.0", "token"] => Some("x.token"),
        ["x", _, "api", "2.0", "sales"] => Some("x.sales"),
        ["x", _, "api", "2.0", "sales", _] => Some("x.sale"),
        ["x", _, "api", "2.0", "products", ..] => Some("x.products"),
        ["x", _, "api", "2.0", "outlets"] => Some("x.outlets"),
        ["x", _, "api", "2.0", "registers"] => Some("x.registers"),
        ["x", _, "api", "2.0", "payment_types"] => Some("x.payment_types"),
        ["x", _, "api", "2.0", "taxes"] => Some("x.taxes"),
        ["x", _, "api", .., "webhooks"] | ["x", _, "api", .., "webhooks", _] => Some("x.webhooks"),
        _ => None,
    }
}

/// `Retry-After` value: seconds, or an HTTP date that far in the (real) future.
pub fn retry_after_value(seconds: u64, http_date: bool) -> String {
    if http_date {
        httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(seconds))
    } else {
        seconds.to_string()
    }
}

/// Middleware applying the configured faults before/after the real handler.
pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(key) = endpoint_key(&path) else {
        return next.run(req).await;
    };
    let d = state.faults.decide(key);
    if d.unauthorized {
        return unauthorized("Access token is invalid (injected fault)");
    }
    if let Some((secs, http_date)) = d.too_many {
        let mut r = x_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "Rate limiting enforced",
        );
        if let Ok(v) = HeaderValue::from_str(&retry_after_value(secs, http_date)) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if let Some(code) = d.server_error {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return json(
            status,
            &j!({
                "timestamp": crate::respond::iso_millis(state.clock.now()),
                "path": path,
                "status": status.as_u16(),
                "error": status.canonical_reason().unwrap_or("Server Error"),
                "requestId": format!("sim-{}", key),
            }),
        );
    }
    if d.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(d.delay_ms)).await;
    }
    let resp = next.run(req).await;
    if !d.malformed {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    // Cut the document in half and leave an unterminated string: never valid JSON.
    let mut cut = bytes[..bytes.len() / 2].to_vec();
    cut.extend_from_slice(b"\"\xE2\x80\x9Ctruncated");
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}
