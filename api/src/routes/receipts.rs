//! Stock receipts of an ingredient.

use lambda_http::{Body, Response};
use serde::Serialize;
use tillbridge::api::envelope;
use tillbridge::catalog::ingredient::IngredientView;
use tillbridge::catalog::receipt::{self, Receipt, ReceiptInput};
use tillbridge::catalog::{records, Ingredient};
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;

use super::{partition_page, PageQuery};
use crate::extract::{IdempotencyKey, Json};
use crate::openapi::schemas as doc;

pub async fn create(
    deps: &Deps,
    input: Result<Json<ReceiptInput>, AppError>,
    key: IdempotencyKey,
    company_id: &str,
    ingredient_id: &str,
) -> Result<Response<Body>, AppError> {
    records::get::<Ingredient>(deps.store.as_ref(), company_id, ingredient_id).await?;
    let Json(input) = input?;
    let (receipt, ingredient, replayed) = receipt::record(
        deps.store.as_ref(),
        company_id,
        ingredient_id,
        input,
        key.as_deref(),
        &now(),
    )
    .await?;
    Ok(envelope::json(
        if replayed { 200 } else { 201 },
        &ReceiptCreated {
            receipt,
            ingredient: IngredientView::from(&ingredient),
        },
    ))
}

/// The receipt and the ingredient with its new totals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptCreated<'a> {
    receipt: Receipt,
    #[schema(value_type = doc::Ingredient)]
    ingredient: IngredientView<'a>,
}

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
    ingredient_id: &str,
) -> Result<Response<Body>, AppError> {
    records::get::<Ingredient>(deps.store.as_ref(), company_id, ingredient_id).await?;
    let query = receipt::list_query(company_id, ingredient_id);
    partition_page::<Receipt>(deps.store.as_ref(), &page, query).await
}
