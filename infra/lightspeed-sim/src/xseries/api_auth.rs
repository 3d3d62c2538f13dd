//! Bearer check, domain check and rate limit for every X-Series API route (not the token
//! endpoint, which has its own limits upstream).

use super::ratelimit::{limit_for, RateDecision};
use crate::faults::retry_after_value;
use crate::respond::{bearer, unauthorized, x_error};
use crate::server::AppState;
use crate::tokens::Realm;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

pub async fn layer(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let prefix = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .unwrap_or("")
        .to_string();
    if prefix != state.cfg.x_domain_prefix {
        return x_error(StatusCode::NOT_FOUND, "Not Found", "Unknown store");
    }
    let Some(tok) = bearer(req.headers()) else {
        return unauthorized("Bearer token required");
    };
    let grant = match state.tokens.check(&tok, state.clock.now()) {
        Ok(g) if g.realm == Realm::X && g.domain_prefix.as_deref() == Some(prefix.as_str()) => g,
        Ok(_) => return unauthorized("Token not valid for this store"),
        Err(_) => return unauthorized("Access token expired or not recognised"),
    };
    let limit = limit_for(state.x().registers.len());
    let (lim, remaining) = if state.cfg.x_rate_limit {
        match state.rate.hit(&grant.client_id, limit) {
            RateDecision::Allowed { limit, remaining } => (limit, remaining),
            RateDecision::Limited {
                limit,
                retry_after_secs,
            } => {
                let mut r = x_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests",
                    "Rate limiting enforced",
                );
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&retry_after_value(retry_after_secs, true)) {
                    h.insert(header::RETRY_AFTER, v);
                }
                h.insert("x-ratelimit-limit", HeaderValue::from(limit as u64));
                h.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
                return r;
            }
        }
    } else {
        (limit, limit)
    };
    req.extensions_mut().insert(grant);
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .insert("x-ratelimit-limit", HeaderValue::from(lim as u64));
    resp.headers_mut()
        .insert("x-ratelimit-remaining", HeaderValue::from(remaining as u64));
    resp
}
