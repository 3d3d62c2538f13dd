pub mod alerts;
pub mod catalog;
pub mod integrations;
pub mod items;
pub mod ledger;
pub mod locations;
pub mod migrations;
pub mod receipts;
pub mod recipes;
pub mod transfer_logs;
pub mod transfers;

use lambda_http::{Request, RequestExt};

use crate::connection::PosProduct;
use crate::error::AppError;

/// A query-string value, if present.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_string)
}

/// A `true` / `false` query filter, if present.
pub fn bool_filter(request: &Request, name: &str) -> Result<Option<bool>, AppError> {
    match query_param(request, name).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(AppError::validation(format!(
            "`{name}` must be `true` or `false`, not `{other}`"
        ))),
    }
}

/// A sync request body: `{"product": "k_series" | "x_series"}`.
pub fn sync_product(request: &Request) -> Result<PosProduct, AppError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SyncInput {
        product: String,
    }
    let input: SyncInput = crate::api::body::json(request)?;
    PosProduct::parse(&input.product)
}
