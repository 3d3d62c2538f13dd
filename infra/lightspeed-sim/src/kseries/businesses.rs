//! `GET /f/data/businesses`: the HAL envelope with currency per business and country/time zone
//! per location, filtered to what the authorising user can see.

use super::auth::{require, Api};
use crate::respond::{fin_error, json, Params};
use crate::server::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = require(&state, &headers, "financial-api", Api::Financial) {
        return r;
    }
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return fin_error(StatusCode::BAD_REQUEST, "Malformed query string");
    };
    let page = match p.int::<u32>("page") {
        Ok(v) => v.unwrap_or(0),
        Err(v) => {
            return fin_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid value for 'page': {v}"),
            )
        }
    };
    let size = match p.int::<u32>("size") {
        Ok(v) => v.unwrap_or(1000).max(1),
        Err(v) => {
            return fin_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid value for 'size': {v}"),
            )
        }
    };
    let cat = &state.k.catalog;
    let all: Vec<serde_json::Value> = cat
        .businesses
        .iter()
        .enumerate()
        .filter_map(|(bi, b)| {
            let locs: Vec<serde_json::Value> = cat
                .locations
                .iter()
                .filter(|l| l.business == bi && state.k_user_sees(l.id))
                .take(500)
                .map(|l| json!({ "blID": l.id, "blName": l.name, "country": l.country, "timezone": l.tz.name() }))
                .collect();
            if locs.is_empty() {
                None
            } else {
                Some(json!({ "businessId": b.id, "businessName": b.name, "currencyCode": b.currency, "businessLocations": locs }))
            }
        })
        .collect();
    let list: Vec<_> = all
        .into_iter()
        .skip(page as usize * size as usize)
        .take(size as usize)
        .collect();
    json(
        StatusCode::OK,
        &json!({
            "_embedded": { "businessList": list },
            "_links": { "self": { "href": format!("{}/f/data/businesses", state.base_url()) } },
        }),
    )
}
