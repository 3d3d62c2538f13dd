//! `GET /api/2.0/sales` (a change feed paged by the global `version`: `after`, `before`,
//! `page_size`) and `GET /api/2.0/sales/{id}`.

use super::wire::{self, Sale};
use crate::respond::{json, x_error, Params};
use crate::server::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;

/// `{"min": .., "max": ..}`; both null on an empty page.
#[derive(Serialize)]
pub struct VersionRange {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Serialize)]
pub struct Page<T: Serialize> {
    pub data: Vec<T>,
    pub version: VersionRange,
}

#[derive(Serialize)]
pub struct One<T: Serialize> {
    pub data: T,
}

pub const DEFAULT_PAGE_SIZE: usize = 1000;
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Parsed version-cursor parameters.
pub struct Cursor {
    pub after: u64,
    pub before: Option<u64>,
    pub page_size: usize,
}

pub fn cursor(p: &Params) -> Result<Cursor, Response> {
    let bad = |k: &str| {
        x_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            &format!("'{k}' must be a non-negative integer"),
        )
    };
    let after = p
        .int::<u64>("after")
        .map_err(|_| bad("after"))?
        .unwrap_or(0);
    let before = p.int::<u64>("before").map_err(|_| bad("before"))?;
    let page_size = match p.int::<usize>("page_size").map_err(|_| bad("page_size"))? {
        None => DEFAULT_PAGE_SIZE,
        Some(0) => return Err(bad("page_size")),
        Some(n) => n.min(MAX_PAGE_SIZE),
    };
    Ok(Cursor {
        after,
        before,
        page_size,
    })
}

pub async fn list(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return x_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Malformed query string",
        );
    };
    let c = match cursor(&p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = state.clock.now();
    let store = state.x();
    let mut visible: Vec<(u64, usize)> = store
        .sales
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.current(now).and_then(|r| r.version).map(|v| (v, i)))
        .filter(|(v, _)| *v > c.after && c.before.is_none_or(|b| *v < b))
        .collect();
    visible.sort();
    visible.truncate(c.page_size);
    let data: Vec<Sale> = visible
        .iter()
        .filter_map(|(_, i)| {
            let s = &store.sales[*i];
            s.current(now).map(|r| wire::sale(&store, s, r))
        })
        .collect();
    let version = VersionRange {
        min: visible.first().map(|v| v.0),
        max: visible.last().map(|v| v.0),
    };
    json(StatusCode::OK, &Page { data, version })
}

pub async fn one(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((_prefix, id))) = path else {
        return x_error(StatusCode::NOT_FOUND, "Not Found", "Sale not found");
    };
    let now = state.clock.now();
    let store = state.x();
    match store
        .sales
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.current(now).map(|r| (s, r)))
    {
        Some((s, r)) => json(
            StatusCode::OK,
            &One {
                data: wire::sale(&store, s, r),
            },
        ),
        None => x_error(StatusCode::NOT_FOUND, "Not Found", "Sale not found"),
    }
}
