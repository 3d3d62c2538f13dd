//! Ingredients: what stock issues deduct. Receipt totals give the weighted average cost.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::records::CatalogRecord;
use super::validate;
use crate::error::{AppError, ErrorCode};
use crate::money::{Money, Quantity};
use crate::store::{keys, Key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingredient {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub unit: String,
    pub sku: Option<String>,
    /// Sum of received quantities; with `total_value` it gives the weighted average cost.
    pub total_qty: Quantity,
    pub total_value: Money,
    /// How many recipes (and later mappings) use this ingredient; delete is refused while
    /// it is above zero. Changed only in the same transaction as the reference it counts.
    #[serde(default)]
    pub ref_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Ingredient {
    /// Weighted average cost = total receipt value / total receipt quantity (0 when none).
    /// Kept unrounded; rounding happens once, where a posting is valued.
    pub fn average_cost(&self) -> Money {
        if self.total_qty.is_zero() {
            Money::ZERO
        } else {
            Money(self.total_value.value() / self.total_qty.value())
        }
    }
}

/// The API view: the stored record plus the derived average cost.
#[derive(Debug, Serialize)]
pub struct IngredientView<'a> {
    #[serde(flatten)]
    pub ingredient: &'a Ingredient,
    pub average_cost: Money,
}

impl<'a> From<&'a Ingredient> for IngredientView<'a> {
    fn from(ingredient: &'a Ingredient) -> Self {
        Self {
            average_cost: ingredient.average_cost(),
            ingredient,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngredientInput {
    pub name: String,
    pub unit: String,
    #[serde(default)]
    pub sku: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngredientPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub sku: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl CatalogRecord for Ingredient {
    const KIND: &'static str = "ingredient";
    const SORT_PREFIX: &'static str = keys::INGREDIENT_PREFIX;
    const NOT_FOUND: ErrorCode = ErrorCode::IngredientNotFound;
    type Input = IngredientInput;
    type Patch = IngredientPatch;

    fn key(company_id: &str, id: &str) -> Key {
        keys::ingredient(company_id, id)
    }

    fn create(
        company_id: &str,
        id: String,
        input: IngredientInput,
        now: &str,
    ) -> Result<Self, AppError> {
        Ok(Self {
            id,
            company_id: company_id.to_string(),
            name: validate::name("name", &input.name)?,
            unit: validate::unit(&input.unit)?,
            sku: validate::optional_code("sku", input.sku.as_deref())?,
            total_qty: Quantity(Decimal::ZERO),
            total_value: Money(Decimal::ZERO),
            ref_count: 0,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        })
    }

    fn apply(&mut self, patch: IngredientPatch, now: &str) -> Result<(), AppError> {
        if patch.name.is_none() && patch.unit.is_none() && patch.sku.is_none() {
            return Err(AppError::validation(
                "nothing to update: send at least one of `name`, `unit`, `sku`",
            ));
        }
        if let Some(name) = patch.name {
            self.name = validate::name("name", &name)?;
        }
        if let Some(unit) = patch.unit {
            self.unit = validate::unit(&unit)?;
        }
        if let Some(sku) = patch.sku {
            self.sku = validate::optional_code("sku", sku.as_deref())?;
        }
        self.updated_at = now.to_string();
        Ok(())
    }

    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
    fn view(&self) -> serde_json::Value {
        serde_json::to_value(IngredientView::from(self)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coffee() -> Ingredient {
        let input = IngredientInput {
            name: "Coffee beans".into(),
            unit: "KG".into(),
            sku: None,
        };
        Ingredient::create("acme", "i1".into(), input, "t0").unwrap()
    }

    #[test]
    fn average_cost_is_zero_without_receipts_and_value_over_quantity_with_them() {
        let mut ing = coffee();
        assert_eq!(ing.unit, "kg");
        assert_eq!(ing.average_cost(), Money::ZERO);
        // 10 kg at 12.00 and 5 kg at 15.00 → 195 / 15 = 13
        ing.total_qty = "15".parse().unwrap();
        ing.total_value = "195.00".parse().unwrap();
        assert_eq!(ing.average_cost(), "13".parse().unwrap());
    }

    #[test]
    fn view_shows_average_cost_as_a_string() {
        let ing = coffee();
        let json = serde_json::to_value(IngredientView::from(&ing)).unwrap();
        assert_eq!(json["average_cost"], "0");
        assert_eq!(json["total_qty"], "0");
        assert_eq!(json["name"], "Coffee beans");
    }
}
