//! Stock receipts of an ingredient.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::partition_page;
use crate::api::{body, envelope};
use crate::catalog::ingredient::IngredientView;
use crate::catalog::receipt::{self, Receipt, ReceiptInput};
use crate::catalog::{records, Ingredient};
use crate::deps::Deps;
use crate::error::AppError;
use crate::handlers::now;

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
    let query = receipt::list_query(company_id, ingredient_id);
    partition_page::<Receipt>(deps.store.as_ref(), request, query).await
}
