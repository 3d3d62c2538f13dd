//! Creating, replacing and removing an item's mapping.

use serde::Deserialize;

use super::record::{self, Mapping, TargetKind};
use crate::catalog::recipe::{
    add_reference, load_target, remove_reference, Referrer, Target, TargetKind as CatalogKind,
};
use crate::connection::PosProduct;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::items::record::{sort_key, PosItem};
use crate::money::Quantity;
use crate::store::occ::{self, Plan};
use crate::store::{from_item, Condition, Key, Write};

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
    crate::money::check_bounds(
        "quantity",
        input.quantity.value(),
        crate::money::bounds::QUANTITY_MAX,
        crate::money::bounds::SCALE_MAX,
    )?;
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

fn missing_target(target: &Target) -> AppError {
    match target.kind {
        CatalogKind::Ingredient => AppError::new(
            ErrorCode::IngredientNotFound,
            format!("ingredient `{}` does not exist in this company", target.id),
        ),
        CatalogKind::Recipe => AppError::new(
            ErrorCode::RecipeNotFound,
            format!("recipe `{}` does not exist in this company", target.id),
        ),
    }
}

/// Creates or replaces the item's mapping. The mapping and the reference counts of the
/// targets it starts and stops using are written in one transaction, so an ingredient or
/// recipe in use can never be deleted from under it.
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
    let store = deps.store.as_ref();
    let key = &record::key(company_id, product, item_id);
    let (item, target_id) = (&item, &target_id);
    occ::retry(store, "the mapping or its target", move || async move {
        let existing = store
            .get(key)
            .await?
            .map(from_item::<Mapping>)
            .transpose()?;
        let mapping = Mapping {
            company_id: company_id.to_string(),
            product,
            item_id: item_id.to_string(),
            target_kind: kind,
            target_id: target_id.clone(),
            quantity: input.quantity,
            is_subtraction: input.is_subtraction,
            item_name: item.name.clone(),
            item_sku: item.custom_code.clone().or(item.sku.clone()),
            created_at: existing
                .as_ref()
                .map(|m| m.created_at.clone())
                .unwrap_or_else(|| now.to_string()),
            updated_at: now.to_string(),
            version: existing.as_ref().map(|m| m.version + 1).unwrap_or(1),
        };
        let new_target = mapping.target();
        let loaded = load_target(store, company_id, &new_target)
            .await?
            .ok_or_else(|| missing_target(&new_target))?;
        let referrer_id = mapping.referrer_id();
        let referrer = Referrer {
            kind: "MAP",
            id: &referrer_id,
            name: &item.name,
        };
        let condition = Condition::replacing(existing.as_ref().map_or(0, |old| old.version));
        let mut writes = vec![Write::Put(crate::store::to_item(&mapping, key)?, condition)];
        match &existing {
            Some(old) if old.target() == new_target => {}
            Some(old) => {
                if let Some(previous) = load_target(store, company_id, &old.target()).await? {
                    writes.extend(remove_reference(company_id, &previous, &referrer));
                }
                writes.extend(add_reference(company_id, &loaded, &referrer));
            }
            None => writes.extend(add_reference(company_id, &loaded, &referrer)),
        }
        Ok(Plan::Write(writes, mapping))
    })
    .await
}

pub async fn delete(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    item_id: &str,
) -> Result<(), AppError> {
    let store = deps.store.as_ref();
    let key = &record::key(company_id, product, item_id);
    occ::retry(store, "the mapping", move || async move {
        let Some(existing) = store
            .get(key)
            .await?
            .map(from_item::<Mapping>)
            .transpose()?
        else {
            return Err(AppError::new(
                ErrorCode::MappingNotFound,
                format!("{product} item `{item_id}` has no mapping"),
            ));
        };
        let mut writes = vec![Write::Delete(
            key.clone(),
            Condition::VersionIs(existing.version),
        )];
        if let Some(target) = load_target(store, company_id, &existing.target()).await? {
            let referrer_id = existing.referrer_id();
            let referrer = Referrer {
                kind: "MAP",
                id: &referrer_id,
                name: &existing.item_name,
            };
            writes.extend(remove_reference(company_id, &target, &referrer));
        }
        Ok(Plan::Write(writes, ()))
    })
    .await
}
