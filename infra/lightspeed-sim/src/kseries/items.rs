//! `GET /items/v1/items` (offset/amount paging, `businessLocationId` required) and
//! `GET /items/v1/items/{id}`. Item money is a JSON number here (unlike the Financial API).

use super::auth::{location, require, Api};
use crate::config::ItemsShape;
use crate::data::{Category, ItemKind, KItem};
use crate::money::RawNum;
use crate::respond::{items_error, json, Params};
use crate::server::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::Arc;

/// A Java `double` as Jackson prints it: `5.0`, `12.5`.
fn java_double(d: Decimal) -> RawNum {
    let n = d.normalize();
    if n.scale() == 0 {
        RawNum(format!("{n}.0"))
    } else {
        RawNum(n.to_string())
    }
}

fn dto(i: &KItem) -> serde_json::Value {
    let item_type = match i.kind {
        ItemKind::Modifier => "SUB_ITEM",
        ItemKind::Combo => "GROUP",
        _ => "ITEM",
    };
    let produced = matches!(
        i.category,
        Category::Starter | Category::Main | Category::Side | Category::Dessert | Category::Combo
    );
    let (dimension, uom, value) = if i.kind == ItemKind::Weighed {
        ("MASS", "kg", 0.1)
    } else {
        ("DIMENSION_LESS", "unit", 1.0)
    };
    let barcode = format!("{:08}", i.id % 100_000_000);
    json!({
        "id": i.id,
        "name": i.name,
        "docketName": i.name.to_uppercase(),
        "sku": i.sku,
        "active": i.active,
        "barcode": barcode,
        "barcodes": [barcode],
        "accountingGroup": { "id": i.group.id, "name": i.group.name },
        "statisticGroups": [{ "category": "default", "value": i.group.name }],
        "costPrice": java_double(i.cost),
        "prices": [{ "amount": java_double(i.price), "name": "Default" }],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": if produced { "PRODUCED" } else { "PURCHASED" },
        "disabled": false,
        "contentDimension": dimension,
        "contentUom": uom,
        "contentValue": value,
        "itemType": item_type,
    })
}

fn location_param(state: &AppState, p: &Params) -> Result<usize, Response> {
    let now = state.clock.now();
    let id = match p.int::<i64>("businessLocationId") {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Err(items_error(
                StatusCode::BAD_REQUEST,
                "Required request parameter 'businessLocationId' is not present",
                Some(("businessLocationId", None, "must not be null")),
                now,
            ))
        }
        Err(raw) => {
            return Err(items_error(
                StatusCode::BAD_REQUEST,
                "Invalid value for parameter 'businessLocationId'",
                Some(("businessLocationId", Some(&raw), "must be an integer")),
                now,
            ))
        }
    };
    location(state, id, Api::Items)
}

fn business_items(state: &AppState, loc: usize) -> Vec<KItem> {
    let b = state
        .k
        .catalog
        .locations
        .get(loc)
        .map(|l| l.business)
        .unwrap_or(0);
    let items = match state.k.items.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    items
        .get(b)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.deleted)
        .collect()
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = state.clock.now();
    if let Err(r) = require(&state, &headers, "items", Api::Items) {
        return r;
    }
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return items_error(StatusCode::BAD_REQUEST, "Malformed query string", None, now);
    };
    let loc = match location_param(&state, &p) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let bad = |field: &str, raw: &str, m: &str| {
        items_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for parameter '{field}'"),
            Some((field, Some(raw), m)),
            now,
        )
    };
    let offset = match p.int::<u64>("offset") {
        Ok(v) => v.unwrap_or(0),
        Err(r) => return bad("offset", &r, "must be a non-negative integer"),
    };
    let max = state.cfg.wire.items_max_amount;
    let amount = match p.int::<u32>("amount") {
        Ok(Some(a)) if a >= 1 && a <= max => a,
        Ok(None) => 100.min(max),
        Ok(Some(a)) => {
            return bad(
                "amount",
                &a.to_string(),
                &format!("must be between 1 and {max}"),
            )
        }
        Err(r) => return bad("amount", &r, "must be an integer"),
    };
    let mut items = business_items(&state, loc);
    if let Some(sku) = p.get("sku") {
        if sku.is_empty() || sku.chars().count() > 32 {
            return bad("sku", sku, "size must be between 1 and 32");
        }
        items.retain(|i| i.sku == sku);
    }
    if let Some(name) = p.get("name") {
        if name.is_empty() || name.chars().count() > 180 {
            return bad("name", name, "size must be between 1 and 180");
        }
        let n = name.to_lowercase();
        items.retain(|i| i.name.to_lowercase().contains(&n));
    }
    if let Some(g) = p.get("accountingGroupId") {
        let Ok(gid) = g.parse::<i64>() else {
            return bad("accountingGroupId", g, "must be an integer");
        };
        items.retain(|i| i.group.id == gid);
    }
    let page: Vec<serde_json::Value> = if let Some(ids) = p.get("itemIds") {
        let mut wanted = Vec::new();
        for part in ids.split(',').filter(|s| !s.trim().is_empty()) {
            match part.trim().parse::<i64>() {
                Ok(v) => wanted.push(v),
                Err(_) => return bad("itemIds", ids, "must be a comma-separated list of integers"),
            }
        }
        if wanted.len() > 200 {
            return bad("itemIds", ids, "at most 200 ids");
        }
        items
            .iter()
            .filter(|i| wanted.contains(&i.id))
            .map(dto)
            .collect()
    } else {
        items
            .iter()
            .skip(offset as usize)
            .take(amount as usize)
            .map(dto)
            .collect()
    };
    match state.cfg.wire.items_shape {
        ItemsShape::BareArray => json(StatusCode::OK, &page),
        ItemsShape::Wrapped => json(StatusCode::OK, &json!({ "items": page })),
    }
}

pub async fn one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(Path(id)) = id else {
        return items_error(
            StatusCode::BAD_REQUEST,
            "Invalid item id",
            None,
            state.clock.now(),
        );
    };
    let now = state.clock.now();
    if let Err(r) = require(&state, &headers, "items", Api::Items) {
        return r;
    }
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return items_error(StatusCode::BAD_REQUEST, "Malformed query string", None, now);
    };
    let loc = match location_param(&state, &p) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Ok(item_id) = id.parse::<i64>() else {
        return items_error(
            StatusCode::BAD_REQUEST,
            "Invalid item id",
            Some(("id", Some(&id), "must be an integer")),
            now,
        );
    };
    match business_items(&state, loc).iter().find(|i| i.id == item_id) {
        Some(i) => json(StatusCode::OK, &dto(i)),
        None => items_error(
            StatusCode::NOT_FOUND,
            &format!("Item with id {item_id} not found"),
            None,
            now,
        ),
    }
}
