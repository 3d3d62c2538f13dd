//! Stock receipts of an ingredient.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::query_param;
use crate::api::pagination::{self, PageBody};
use crate::api::{body, envelope};
use crate::catalog::ingredient::IngredientView;
use crate::catalog::receipt::{self, Receipt, ReceiptInput};
use crate::catalog::{records, Ingredient};
use crate::deps::Deps;
use crate::error::AppError;
use crate::handlers::now;
use crate::store::{attr, from_item, Query};

pub async fn create(
    deps: &Deps,
    request: &Request,
    company_id: &str,
    ingredient_id: &str,
) -> Result<Response<Body>, AppError> {
    records::get::<Ingredient>(deps.store.as_ref(), company_id, ingredient_id).await?;
    let input: ReceiptInput = body::json(request)?;
    let key = super::catalog::idempotency_key(request)?;
    let (receipt, ingredient, replayed) = receipt::record(
        deps.store.as_ref(),
        company_id,
        ingredient_id,
        input,
        key,
        &now(),
    )
    .await?;
    Ok(envelope::json(
        if replayed { 200 } else { 201 },
        &json!({ "receipt": receipt, "ingredient": IngredientView::from(&ingredient) }),
    ))
}

pub async fn list(
    deps: &Deps,
    request: &Request,
    company_id: &str,
    ingredient_id: &str,
) -> Result<Response<Body>, AppError> {
    records::get::<Ingredient>(deps.store.as_ref(), company_id, ingredient_id).await?;
    let limit = pagination::limit(query_param(request, "limit").as_deref())?;
    let partition = receipt::partition(company_id, ingredient_id);
    let cursor = pagination::decode_cursor(
        query_param(request, "cursor").as_deref(),
        attr::PK,
        &partition,
    )?;
    let page = deps
        .store
        .query(
            &Query::partition(partition)
                .begins_with("RCPT#")
                .limit(limit)
                .start_after(cursor),
        )
        .await?;
    let items = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<Vec<Receipt>, _>>()?;
    Ok(envelope::json(
        200,
        &PageBody {
            items,
            next_cursor: pagination::encode_cursor(page.last_key.as_ref()),
        },
    ))
}
