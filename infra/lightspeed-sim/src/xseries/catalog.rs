//! Products (version-paged; `deleted=true` includes deleted, `sku=` matches the SKU or any
//! product code), outlets, registers, payment types and taxes.

use super::sales::{cursor, Page, VersionRange};
use super::wire;
use crate::money::Num;
use crate::respond::{json, x_error, Params};
use crate::server::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;

pub async fn products(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
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
    let include_deleted = p.get("deleted").is_some_and(|v| v == "true" || v == "1");
    let sku = p.get("sku");
    let store = state.x();
    let mut list: Vec<&crate::data::retail::XProduct> = store
        .products
        .iter()
        .filter(|pr| {
            pr.version
                .is_some_and(|v| v > c.after && c.before.is_none_or(|b| v < b))
        })
        .filter(|pr| include_deleted || pr.deleted_at.is_none())
        .filter(|pr| {
            sku.is_none_or(|s| pr.sku == s || pr.product_codes.iter().any(|(_, code)| code == s))
        })
        .collect();
    list.sort_by_key(|pr| pr.version);
    list.truncate(c.page_size);
    let version = VersionRange {
        min: list.first().and_then(|p| p.version),
        max: list.last().and_then(|p| p.version),
    };
    json(
        StatusCode::OK,
        &Page {
            data: list.into_iter().map(wire::product).collect(),
            version,
        },
    )
}

#[derive(Serialize)]
struct Outlet {
    id: String,
    name: String,
    time_zone: String,
    currency: &'static str,
    deleted_at: Option<String>,
    version: u64,
}

#[derive(Serialize)]
struct Register {
    id: String,
    name: String,
    outlet_id: String,
    is_open: bool,
    deleted_at: Option<String>,
    version: u64,
}

#[derive(Serialize)]
struct PaymentType {
    id: String,
    name: String,
    type_id: u32,
    deleted_at: Option<String>,
}

#[derive(Serialize)]
struct Tax {
    id: String,
    name: String,
    rate: Num,
    active: bool,
    deleted_at: Option<String>,
}

#[derive(Serialize)]
struct Data<T: Serialize> {
    data: Vec<T>,
}

pub async fn outlets(State(state): State<Arc<AppState>>) -> Response {
    let s = state.x();
    let data = s
        .outlets
        .iter()
        .enumerate()
        .map(|(i, o)| Outlet {
            id: o.id.clone(),
            name: o.name.clone(),
            time_zone: o.tz.name().to_string(),
            currency: s.currency,
            deleted_at: None,
            version: 1000 + i as u64,
        })
        .collect();
    json(StatusCode::OK, &Data { data })
}

pub async fn registers(State(state): State<Arc<AppState>>) -> Response {
    let s = state.x();
    let data = s
        .registers
        .iter()
        .enumerate()
        .map(|(i, r)| Register {
            id: r.id.clone(),
            name: r.name.clone(),
            outlet_id: r.outlet_id.clone(),
            is_open: true,
            deleted_at: None,
            version: 2000 + i as u64,
        })
        .collect();
    json(StatusCode::OK, &Data { data })
}

pub async fn payment_types(State(state): State<Arc<AppState>>) -> Response {
    let s = state.x();
    let data = s
        .payment_types
        .iter()
        .map(|p| PaymentType {
            id: p.id.clone(),
            name: p.name.clone(),
            type_id: p.type_id,
            deleted_at: None,
        })
        .collect();
    json(StatusCode::OK, &Data { data })
}

pub async fn taxes(State(state): State<Arc<AppState>>) -> Response {
    let s = state.x();
    let data = s
        .taxes
        .iter()
        .map(|t| Tax {
            id: t.id.clone(),
            name: t.name.clone(),
            rate: Num(t.rate),
            active: true,
            deleted_at: None,
        })
        .collect();
    json(StatusCode::OK, &Data { data })
}
