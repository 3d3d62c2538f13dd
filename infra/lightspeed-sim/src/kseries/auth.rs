//! Bearer-token and location checks for K-Series endpoints, with each API's error shape.

use crate::respond::{bearer, fin_error, items_error, unauthorized};
use crate::server::AppState;
use crate::tokens::{AccessError, Grant, Realm};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Which K-Series API is asking (they spell errors differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Financial,
    Items,
}

fn denied(state: &AppState, api: Api, msg: &str) -> Response {
    match api {
        Api::Financial => fin_error(StatusCode::FORBIDDEN, msg),
        Api::Items => items_error(StatusCode::FORBIDDEN, msg, None, state.clock.now()),
    }
}

/// Validates the bearer token and its scope: 401 when missing/unknown/expired, 403 without scope.
pub fn require(
    state: &AppState,
    headers: &HeaderMap,
    scope: &str,
    api: Api,
) -> Result<Grant, Response> {
    let Some(tok) = bearer(headers) else {
        return Err(unauthorized("Bearer token required"));
    };
    let grant = match state.tokens.check(&tok, state.clock.now()) {
        Ok(g) => g,
        Err(AccessError::Expired) => return Err(unauthorized("Access token expired")),
        Err(AccessError::Unknown) => return Err(unauthorized("Access token not recognised")),
    };
    if !matches!(grant.realm, Realm::KV1 | Realm::KV2) {
        return Err(unauthorized("Access token not recognised"));
    }
    if !grant.has_scope(scope) {
        return Err(denied(state, api, "Access Denied."));
    }
    Ok(grant)
}

/// 403 when the authorising user cannot see the location (unknown ids look the same).
pub fn location(state: &AppState, id: i64, api: Api) -> Result<usize, Response> {
    if !state.k_user_sees(id) {
        return Err(denied(state, api, "Access Denied."));
    }
    state
        .k
        .location_index(id)
        .ok_or_else(|| denied(state, api, "Access Denied."))
}
