//! Ingredients: what stock issues deduct. Receipt totals give the weighted average cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::records::CatalogRecord;
use super::validate;
use crate::api::openapi::schemas as doc;
use crate::error::{AppError, ErrorCode};
use crate::money::{Money, Quantity};
use crate::store::keys;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingredient {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub unit: String,
    pub sku: Option<String>,
    /// Received stock per currency (ISO 4217 code → totals). The weighted average cost is
    /// kept per currency, so a location is valued only in its own currency.
    #[serde(default)]
    pub costs: BTreeMap<String, CostTotals>,
    /// How many recipes (and later mappings) use this ingredient; delete is refused while
    /// it is above zero. Changed only in the same transaction as the reference it counts.
    #[serde(default)]
    pub ref_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Receipts of one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTotals {
    /// Sum of received quantities; with `total_value` it gives the weighted average cost.
    pub total_qty: Quantity,
    pub total_value: Money,
}

impl CostTotals {
    /// Weighted average cost = total value / total quantity (0 when nothing was received),
    /// unrounded: rounding happens once, where a posting is valued. `None` when stored
    /// totals are so far apart that the quotient leaves the decimal range.
    pub fn average_cost(&self) -> Option<Money> {
        if self.total_qty.is_zero() {
            return Some(Money::ZERO);
        }
        self.total_value
            .value()
            .checked_div(self.total_qty.value())
            .map(Money)
    }
}

/// Why an ingredient has no usable cost in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CostRefusal {
    /// Stock was received, but in other currencies only.
    CurrencyMismatch { received_in: Vec<String> },
    /// The stored totals give no average cost inside the decimal range.
    OutOfRange,
}

impl CostRefusal {
    /// The transfer exception (and alert code) naming it.
    pub fn exception(&self, ingredient_id: &str, currency: &str) -> String {
        match self {
            CostRefusal::CurrencyMismatch { .. } => {
                format!("currency_mismatch:{ingredient_id}:{currency}")
            }
            CostRefusal::OutOfRange => format!("value_out_of_range:average_cost:{ingredient_id}"),
        }
    }
}

impl Ingredient {
    /// The average cost in `currency`: 0 when no stock was ever received, refused when
    /// stock was received only in other currencies (never converted silently) or when the
    /// stored totals leave the range. A location of unknown currency is valued only if the
    /// ingredient was never received at all.
    pub fn average_cost_in(&self, currency: Option<&str>) -> Result<Money, CostRefusal> {
        if self.costs.is_empty() {
            return Ok(Money::ZERO);
        }
        match currency.and_then(|c| self.costs.get(c)) {
            Some(totals) => totals.average_cost().ok_or(CostRefusal::OutOfRange),
            None => Err(CostRefusal::CurrencyMismatch {
                received_in: self.costs.keys().cloned().collect(),
            }),
        }
    }
}

/// One currency's totals as the API shows them: the average cost, or the code of the
/// reason there is none (`value_out_of_range`), so one bad record never fails a list.
#[derive(Debug, Serialize)]
pub struct CostView<'a> {
    #[serde(flatten)]
    pub totals: &'a CostTotals,
    pub average_cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// The API view: the stored record with each currency's average cost.
#[derive(Debug, Serialize)]
pub struct IngredientView<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub sku: Option<&'a str>,
    pub costs: BTreeMap<&'a str, CostView<'a>>,
    pub ref_count: u64,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub version: u64,
}

impl<'a> From<&'a Ingredient> for IngredientView<'a> {
    fn from(ingredient: &'a Ingredient) -> Self {
        let costs = ingredient
            .costs
            .iter()
            .map(|(currency, totals)| {
                let average_cost = totals.average_cost();
                let error = average_cost
                    .is_none()
                    .then_some(ErrorCode::ValueOutOfRange.as_str());
                (
                    currency.as_str(),
                    CostView {
                        totals,
                        average_cost,
                        error,
                    },
                )
            })
            .collect();
        Self {
            id: &ingredient.id,
            company_id: &ingredient.company_id,
            name: &ingredient.name,
            unit: &ingredient.unit,
            sku: ingredient.sku.as_deref(),
            costs,
            ref_count: ingredient.ref_count,
            created_at: &ingredient.created_at,
            updated_at: &ingredient.updated_at,
            version: ingredient.version,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngredientInput {
    #[schema(schema_with = doc::name_text)]
    pub name: String,
    #[schema(schema_with = doc::unit_text)]
    pub unit: String,
    #[serde(default)]
    #[schema(schema_with = doc::code_text)]
    pub sku: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngredientPatch {
    #[serde(default)]
    #[schema(schema_with = doc::name_text)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = doc::unit_text)]
    pub unit: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = doc::code_text)]
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
            costs: BTreeMap::new(),
            ref_count: 0,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        })
    }

    fn apply(&mut self, patch: IngredientPatch, now: &str) -> Result<(), AppError> {
        validate::some_field(&[
            ("name", patch.name.is_some()),
            ("unit", patch.unit.is_some()),
            ("sku", patch.sku.is_some()),
        ])?;
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

    super::records::versioned!();
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

    fn totals(qty: &str, value: &str) -> CostTotals {
        CostTotals {
            total_qty: qty.parse().unwrap(),
            total_value: value.parse().unwrap(),
        }
    }

    #[test]
    fn average_cost_is_zero_without_receipts_and_value_over_quantity_with_them() {
        let mut ing = coffee();
        assert_eq!(ing.unit, "kg");
        assert_eq!(ing.average_cost_in(Some("GBP")), Ok(Money::ZERO));
        assert_eq!(ing.average_cost_in(None), Ok(Money::ZERO));
        // 10 kg at 12.00 and 5 kg at 15.00 → 195 / 15 = 13
        ing.costs.insert("GBP".into(), totals("15", "195.00"));
        assert_eq!(ing.average_cost_in(Some("GBP")), Ok("13".parse().unwrap()));
    }

    #[test]
    fn a_cost_is_never_used_in_another_currency() {
        let mut ing = coffee();
        ing.costs.insert("GBP".into(), totals("15", "195.00"));
        let refused = ing.average_cost_in(Some("NZD")).unwrap_err();
        assert_eq!(
            refused,
            CostRefusal::CurrencyMismatch {
                received_in: vec!["GBP".into()]
            }
        );
        assert_eq!(refused.exception("i1", "NZD"), "currency_mismatch:i1:NZD");
        assert!(ing.average_cost_in(None).is_err(), "unknown currency");
        ing.costs.insert("NZD".into(), totals("2", "7.00"));
        assert_eq!(ing.average_cost_in(Some("NZD")), Ok("3.5".parse().unwrap()));
    }

    #[test]
    fn stored_totals_beyond_the_range_give_an_error_not_a_panic() {
        let mut ing = coffee();
        ing.costs.insert(
            "GBP".into(),
            totals(
                "0.0000000000000000000000000001",
                "79228162514264337593543950335",
            ),
        );
        assert_eq!(
            ing.average_cost_in(Some("GBP")),
            Err(CostRefusal::OutOfRange)
        );
        let json = serde_json::to_value(IngredientView::from(&ing)).unwrap();
        assert_eq!(
            json["costs"]["GBP"]["average_cost"],
            serde_json::Value::Null
        );
        assert_eq!(json["costs"]["GBP"]["error"], "value_out_of_range");
    }

    #[test]
    fn view_shows_costs_per_currency_as_strings() {
        let mut ing = coffee();
        let json = serde_json::to_value(IngredientView::from(&ing)).unwrap();
        assert_eq!(json["costs"], serde_json::json!({}));
        assert_eq!(json["name"], "Coffee beans");
        ing.costs.insert("GBP".into(), totals("15", "195.00"));
        let json = serde_json::to_value(IngredientView::from(&ing)).unwrap();
        assert_eq!(
            json["costs"]["GBP"],
            serde_json::json!({"total_qty": "15", "total_value": "195.00", "average_cost": "13.00"})
        );
    }
}
