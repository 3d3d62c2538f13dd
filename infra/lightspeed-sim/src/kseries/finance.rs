//! Payment methods and tax rates of a location (HAL envelopes), for ERP account mapping.

use super::auth::{location, require, Api};
use crate::respond::{fin_error, json};
use crate::server::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

fn business<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<&'a crate::data::KBusiness, Response> {
    require(state, headers, "financial-api", Api::Financial)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(fin_error(
            StatusCode::BAD_REQUEST,
            "Invalid business location id",
        ));
    };
    let li = location(state, id, Api::Financial)?;
    let b = state
        .k
        .catalog
        .locations
        .get(li)
        .map(|l| l.business)
        .unwrap_or(0);
    state
        .k
        .catalog
        .businesses
        .get(b)
        .ok_or_else(|| fin_error(StatusCode::FORBIDDEN, "Access Denied."))
}

pub async fn payment_methods(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return fin_error(StatusCode::BAD_REQUEST, "Invalid business location id");
    };
    let b = match business(&state, &headers, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let list: Vec<_> = b
        .payment_methods
        .iter()
        .map(|m| json!({ "name": m.name, "code": m.code, "accountingReference": m.accounting_reference, "pmId": m.id }))
        .collect();
    json(
        StatusCode::OK,
        &json!({ "_embedded": { "paymentMethodList": list }, "_links": { "self": { "href": format!("{}/f/finance/{id}/paymentMethods", state.base_url()) } } }),
    )
}

pub async fn tax_rates(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return fin_error(StatusCode::BAD_REQUEST, "Invalid business location id");
    };
    let b = match business(&state, &headers, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let list: Vec<_> = b
        .tax_rates
        .iter()
        .map(|t| {
            json!({
                "code": t.code,
                "description": t.description,
                "rate": t.multiplier().normalize().to_string(),
                "taxIncluded": true,
                "accountingReference": t.accounting_reference,
            })
        })
        .collect();
    json(
        StatusCode::OK,
        &json!({ "_embedded": { "taxRateList": list }, "_links": { "self": { "href": format!("{}/f/finance/{id}/tax-rates", state.base_url()) } } }),
    )
}
