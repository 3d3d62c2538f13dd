//! A location's transfer logs, newest business date first.

use lambda_http::{Body, Request, Response};

use super::query_param;
use crate::api::envelope;
use crate::api::pagination::{self, PageBody};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::store::{attr, from_item, keys, Query};
use crate::transfer::TransferLog;

pub async fn list(
    deps: &Deps,
    request: &Request,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    if !ids::is_valid_id(location_id) {
        return Err(AppError::new(
            ErrorCode::LocationNotFound,
            "location id is malformed",
        ));
    }
    let limit = pagination::limit(query_param(request, "limit").as_deref())?;
    let partition = keys::transfer_logs(company_id, location_id);
    let cursor = pagination::decode_cursor(
        query_param(request, "cursor").as_deref(),
        attr::PK,
        &partition,
    )?;
    let mut query = Query::partition(partition).limit(limit).start_after(cursor);
    query.forward = false;
    let page = deps.store.query(&query).await?;
    let items = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<Vec<TransferLog>, _>>()?;
    Ok(envelope::json(
        200,
        &PageBody {
            items,
            next_cursor: pagination::encode_cursor(page.last_key.as_ref()),
        },
    ))
}
