//! Creating, replacing and removing an item's mapping.

use serde::Deserialize;

use super::record::{self, Mapping, TargetKind};
use crate::catalog::{records, Ingredient};
use crate::connection::PosProduct;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::items::record::{sort_key, PosItem};
use crate::money::Quantity;
use crate::store::{from_item, Condition, Key, StoreError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    #[serde(default)]
    pub ingredient_id: Option<String>,
    #[serde(default)]
    pub recipe_id: Option<String>,
    pub quantity: Quantity,
    #[serde(default)]
    pub is_subtraction: bool,
}

/// Which target the input names (pure).
pub fn target(input: &MappingInput) -> Result<(TargetKind, String), AppError> {
    if input.quantity.value() <= rust_decimal::Decimal::ZERO {
        return Err(AppError::validation(
            "`quantity` must be greater than zero (units of the target per item sold)",
        ));
    }
    match (input.ingredient_id.as_deref(), input.recipe_id.as_deref()) {
        (Some(id), None) if !id.trim().is_empty() => {
            Ok((TargetKind::Ingredient, id.trim().to_string()))
        }
        (None, Some(id)) if !id.trim().is_empty() => {
            Ok((TargetKind::Recipe, id.trim().to_string()))
        }
        _ => Err(AppError::validation(
            "send exactly one of `ingredient_id` or `recipe_id`",
        )),
    }
}

pub async fn item(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    item_id: &str,
) -> Result<PosItem, AppError> {
    let key = Key::new(
        crate::items::record::partition(company_id),
        sort_key(product, item_id),
    );
    match deps.store.get(&key).await? {
        Some(stored) => Ok(from_item(stored)?),
        None => Err(AppError::new(
            ErrorCode::ItemNotFound,
            format!("{product} item `{item_id}` is not synced for this company; sync items first"),
        )),
    }
}

async fn check_target(
    deps: &Deps,
    company_id: &str,
    kind: TargetKind,
    id: &str,
) -> Result<(), AppError> {
    match kind {
        TargetKind::Ingredient => records::get::<Ingredient>(deps.store.as_ref(), company_id, id)
            .await
            .map(|_| ()),
        TargetKind::Recipe => {
            let key = Key::new(crate::store::keys::company(company_id), format!("RCP#{id}"));
            match deps.store.get(&key).await? {
                Some(_) => Ok(()),
                None => Err(AppError::new(
                    ErrorCode::RecipeNotFound,
                    format!("recipe `{id}` does not exist in this company"),
                )),
            }
        }
    }
}

/// Creates or replaces the item's mapping.
pub async fn put(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    item_id: &str,
    input: MappingInput,
    now: &str,
) -> Result<Mapping, AppError> {
    let (kind, target_id) = target(&input)?;
    let item = item(deps, company_id, product, item_id).await?;
    check_target(deps, company_id, kind, &target_id).await?;
    let key = record::key(company_id, product, item_id);
    let created_at = match deps.store.get(&key).await? {
        Some(existing) => from_item::<Mapping>(existing)?.created_at,
        None => now.to_string(),
    };
    let mapping = Mapping {
        company_id: company_id.to_string(),
        product,
        item_id: item_id.to_string(),
        target_kind: kind,
        target_id,
        quantity: input.quantity,
        is_subtraction: input.is_subtraction,
        item_name: item.name,
        item_sku: item.custom_code.or(item.sku),
        created_at,
        updated_at: now.to_string(),
    };
    deps.store
        .put(crate::store::to_item(&mapping, &key)?, Condition::None)
        .await?;
    Ok(mapping)
}

pub async fn delete(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    item_id: &str,
) -> Result<(), AppError> {
    match deps
        .store
        .delete(
            &record::key(company_id, product, item_id),
            Condition::Exists,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(AppError::new(
            ErrorCode::MappingNotFound,
            format!("{product} item `{item_id}` has no mapping"),
        )),
        Err(err) => Err(err.into()),
    }
}
