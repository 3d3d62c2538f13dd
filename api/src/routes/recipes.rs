//! Recipes, their explosion, and deleting catalogue objects nothing uses.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::json;
use tillbridge::api::envelope;
use tillbridge::catalog::recipe::{self, Recipe, RecipeInput, RecipePatch};
use tillbridge::catalog::records::{self, CatalogRecord};
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::money::Quantity;
use utoipa::IntoParams;

use crate::extract::{IdempotencyKey, Json};
use crate::openapi::schemas as doc;

fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

pub async fn create(
    deps: &Deps,
    input: RecipeInput,
    key: IdempotencyKey,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let store = deps.store.as_ref();
    let created = recipe::create(store, company_id, input, key.as_deref(), &now()).await?;
    Ok(super::catalog::created(created))
}

pub async fn update(
    deps: &Deps,
    patch: Result<Json<RecipePatch>, AppError>,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError> {
    // Existence first: an unknown id is `recipe_not_found` whatever the body says.
    records::get::<Recipe>(deps.store.as_ref(), company_id, id).await?;
    let Json(patch) = patch?;
    let updated = recipe::update(deps.store.as_ref(), company_id, id, patch, &now()).await?;
    Ok(envelope::json(200, &updated.view()))
}

pub async fn delete(deps: &Deps, company_id: &str, id: &str) -> Result<Response<Body>, AppError> {
    recipe::delete(deps.store.as_ref(), company_id, id).await?;
    Ok(no_content())
}

pub async fn delete_ingredient(
    deps: &Deps,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError> {
    recipe::delete_ingredient(deps.store.as_ref(), company_id, id).await?;
    Ok(no_content())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplosionQuery {
    /// Quantity sold, an exact decimal greater than zero (default 1).
    #[param(value_type = Option<doc::QuantityInput>)]
    pub quantity: Option<String>,
}

/// `?quantity=N` sold (default 1) → the ingredient quantities it consumes.
pub async fn explosion(
    deps: &Deps,
    params: ExplosionQuery,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let quantity = match params.quantity {
        None => Quantity(rust_decimal::Decimal::ONE),
        Some(text) => text.parse::<Quantity>().map_err(|_| {
            AppError::validation(format!(
                "`quantity` must be a decimal number such as 2 or 0.5 (got `{text}`)"
            ))
        })?,
    };
    if quantity.value() <= rust_decimal::Decimal::ZERO {
        return Err(AppError::validation(format!(
            "`quantity` must be greater than zero (got {quantity})"
        )));
    }
    tillbridge::money::check_bounds(
        "quantity",
        quantity.value(),
        tillbridge::money::bounds::QUANTITY_MAX,
        tillbridge::money::bounds::SCALE_MAX,
    )?;
    let ingredients = recipe::explosion(deps.store.as_ref(), company_id, id, quantity).await?;
    Ok(envelope::json(
        200,
        &json!({ "recipe_id": id, "quantity": quantity, "ingredients": ingredients }),
    ))
}
