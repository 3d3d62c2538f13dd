pub mod accounts;
pub mod alerts;
pub mod catalog;
pub mod integrations;
pub mod items;
pub mod journals;
pub mod ledger;
pub mod locations;
pub mod migrations;
pub mod receipts;
pub mod recipes;
pub mod transfer_logs;
pub mod transfers;

use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::envelope;
use crate::api::pagination::{self, PageBody};
use crate::connection::PosProduct;
use crate::error::AppError;
use crate::store::{attr, from_item, ItemStore, Query};

/// One page of a table partition's records as `{items, next_cursor}`: the request's `limit`
/// and `cursor` applied to `query` (the cursor must belong to its partition).
pub async fn partition_page<T: DeserializeOwned + Serialize>(
    store: &dyn ItemStore,
    request: &Request,
    mut query: Query,
) -> Result<Response<Body>, AppError> {
    query.limit = pagination::limit(query_param(request, "limit").as_deref())?;
    query.start_after = pagination::decode_cursor(
        query_param(request, "cursor").as_deref(),
        attr::PK,
        &query.pk,
    )?;
    let page = store.query(&query).await?;
    let items = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<Vec<T>, _>>()?;
    Ok(envelope::json(
        200,
        &PageBody {
            items,
            next_cursor: pagination::encode_cursor(page.last_key.as_ref()),
        },
    ))
}

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
