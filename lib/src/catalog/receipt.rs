//! Stock receipts: each adds quantity and value to its ingredient's totals, from which the
//! weighted average cost follows. The receipt and the new totals are written in one
//! transaction guarded by the ingredient's version, so concurrent receipts never lose one.

use serde::{Deserialize, Serialize};

use super::ingredient::{CostTotals, Ingredient};
use super::records::{self, CatalogRecord};
use crate::api::openapi::schemas as doc;
use crate::error::AppError;
use crate::ids;
use crate::money::{bounds, check_bounds, Money, OutOfRange, Quantity};
use crate::store::occ::{self, Plan};
use crate::store::{from_item, keys, query_all, to_item, Condition, ItemStore, Key, Query, Write};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    pub company_id: String,
    pub ingredient_id: String,
    pub quantity: Quantity,
    /// Total value of the received quantity (not a unit price).
    pub value: Money,
    /// ISO 4217 code of `value`; the average cost is kept per currency.
    #[serde(default)]
    #[schema(required, pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(schema_with = doc::time)]
    pub received_at: String,
    #[schema(required)]
    pub reference: Option<String>,
    #[schema(schema_with = doc::time)]
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    #[schema(value_type = doc::QuantityInput)]
    pub quantity: Quantity,
    #[schema(value_type = doc::MoneyInput)]
    pub value: Money,
    /// ISO 4217 code, e.g. `GBP`.
    #[schema(value_type = doc::CurrencyCode)]
    pub currency: String,
    /// RFC 3339 time (default: now)
    #[serde(default)]
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

const SORT_PREFIX: &str = "RCPT#";

pub fn partition(company_id: &str, ingredient_id: &str) -> String {
    format!("{}#ING#{ingredient_id}", keys::company(company_id))
}

/// Pattern 3: the stock receipts of an ingredient, oldest first.
pub fn list_query(company_id: &str, ingredient_id: &str) -> Query {
    Query::partition(partition(company_id, ingredient_id)).begins_with(SORT_PREFIX)
}

fn key(receipt: &Receipt) -> Key {
    Key::new(
        partition(&receipt.company_id, &receipt.ingredient_id),
        format!("{SORT_PREFIX}{}#{}", receipt.received_at, receipt.id),
    )
}

/// Checks a receipt's fields (pure).
pub fn validate(input: &ReceiptInput) -> Result<(), AppError> {
    if input.quantity.value() <= rust_decimal::Decimal::ZERO {
        return Err(AppError::validation("`quantity` must be greater than zero"));
    }
    if input.value.is_negative() {
        return Err(AppError::validation("`value` must not be negative"));
    }
    check_bounds(
        "quantity",
        input.quantity.value(),
        bounds::QUANTITY_MAX,
        bounds::SCALE_MAX,
    )?;
    check_bounds(
        "value",
        input.value.value(),
        bounds::MONEY_MAX,
        bounds::SCALE_MAX,
    )?;
    if !is_currency_code(&input.currency) {
        return Err(AppError::validation(
            "`currency` must be an ISO 4217 code of three capital letters, e.g. \"GBP\"",
        ));
    }
    if let Some(at) = &input.received_at {
        if chrono::DateTime::parse_from_rfc3339(at).is_err() {
            return Err(AppError::validation(
                "`received_at` must be an RFC 3339 time, e.g. 2026-11-20T08:00:00Z",
            ));
        }
    }
    if input
        .reference
        .as_deref()
        .is_some_and(|r| r.chars().count() > 200)
    {
        return Err(AppError::validation(
            "`reference` is longer than 200 characters",
        ));
    }
    Ok(())
}

/// Three capital ASCII letters (ISO 4217 shape; which codes exist is not checked here).
pub fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// Adds the receipt to the ingredient's totals in its currency; nothing changes when a
/// total would leave the decimal range.
fn add_to(ingredient: &mut Ingredient, receipt: &Receipt) -> Result<(), OutOfRange> {
    let currency = receipt.currency.clone().unwrap_or_default();
    let before = ingredient.costs.get(&currency).cloned().unwrap_or_default();
    let added = CostTotals {
        total_qty: before
            .total_qty
            .checked_add(receipt.quantity)
            .ok_or_else(|| OutOfRange::computing("the total received quantity"))?,
        total_value: before
            .total_value
            .checked_add(receipt.value)
            .ok_or_else(|| OutOfRange::computing("the total received value"))?,
    };
    ingredient.costs.insert(currency, added);
    Ok(())
}

/// Records a receipt; with an idempotency key a retry returns the first receipt unchanged.
pub async fn record(
    store: &dyn ItemStore,
    company_id: &str,
    ingredient_id: &str,
    input: ReceiptInput,
    idempotency_key: Option<&str>,
    now: &str,
) -> Result<(Receipt, Ingredient, bool), AppError> {
    validate(&input)?;
    let fingerprint = ids::request_fingerprint(&input);
    let id = ids::new_id(
        company_id,
        "receipt",
        idempotency_key
            .map(|k| format!("{ingredient_id}:{k}"))
            .as_deref(),
    );
    let receipt = Receipt {
        id,
        company_id: company_id.to_string(),
        ingredient_id: ingredient_id.to_string(),
        quantity: input.quantity,
        value: input.value,
        currency: Some(input.currency.clone()),
        received_at: input.received_at.clone().unwrap_or_else(|| now.to_string()),
        reference: input.reference.clone(),
        created_at: now.to_string(),
    };
    let (receipt, fingerprint) = (&receipt, &fingerprint);
    occ::retry(store, "the ingredient's stock", move || async move {
        let mut ingredient = records::get::<Ingredient>(store, company_id, ingredient_id).await?;
        if idempotency_key.is_some() {
            if let Some(existing) = find(store, company_id, ingredient_id, &receipt.id).await? {
                ids::check_replay(&existing, fingerprint)?;
                return Ok(Plan::Keep((from_item(existing)?, ingredient, true)));
            }
        }
        let previous = ingredient.version;
        add_to(&mut ingredient, receipt)?;
        ingredient.version = previous + 1;
        ingredient.updated_at = now.to_string();
        let mut item = to_item(&receipt, &key(receipt))?;
        if idempotency_key.is_some() {
            item.insert(
                ids::REQUEST_FINGERPRINT_ATTR.into(),
                fingerprint.clone().into(),
            );
        }
        let writes = vec![
            Write::Put(item, Condition::NotExists),
            Write::Put(
                to_item(&ingredient, &Ingredient::key(company_id, ingredient_id))?,
                Condition::VersionIs(previous),
            ),
        ];
        Ok(Plan::Write(writes, (receipt.clone(), ingredient, false)))
    })
    .await
}

async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    ingredient_id: &str,
    receipt_id: &str,
) -> Result<Option<crate::store::Item>, AppError> {
    let query = list_query(company_id, ingredient_id).limit(200);
    for item in query_all(store, query).await? {
        if item.get("id").and_then(|v| v.as_str()) == Some(receipt_id) {
            return Ok(Some(item));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn input(quantity: &str, value: &str) -> ReceiptInput {
        ReceiptInput {
            quantity: quantity.parse().unwrap(),
            value: value.parse().unwrap(),
            currency: "GBP".into(),
            received_at: None,
            reference: None,
        }
    }

    #[test]
    fn quantities_must_be_positive_and_values_not_negative() {
        assert!(validate(&input("10", "120.00")).is_ok());
        assert!(validate(&input("0", "1")).is_err());
        assert!(validate(&input("-1", "1")).is_err());
        assert!(validate(&input("1", "-0.01")).is_err());
        assert!(validate(&input("1", "0")).is_ok(), "free stock is allowed");
        let mut bad_time = input("1", "1");
        bad_time.received_at = Some("yesterday".into());
        assert!(validate(&bad_time).is_err());
    }

    #[test]
    fn receipts_are_bounded_and_carry_a_currency() {
        let code = |i: ReceiptInput| validate(&i).unwrap_err().code;
        assert_eq!(
            code(input("0.0000000000000000000000000001", "1")),
            ErrorCode::ValueOutOfRange
        );
        assert_eq!(
            code(input("1", "79228162514264337593543950335")),
            ErrorCode::ValueOutOfRange
        );
        assert!(validate(&input("1000000000", "1000000000000")).is_ok());
        for bad in ["gbp", "GB", "GBPX", "", "G1P"] {
            let mut i = input("1", "1");
            i.currency = bad.into();
            assert_eq!(code(i), ErrorCode::ValidationFailed, "{bad:?}");
        }
    }

    #[test]
    fn totals_that_would_leave_the_range_are_refused() {
        let mut ingredient = Ingredient {
            id: "i".into(),
            company_id: "c".into(),
            name: "n".into(),
            unit: "kg".into(),
            sku: None,
            costs: Default::default(),
            ref_count: 0,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        };
        ingredient.costs.insert(
            "GBP".into(),
            CostTotals {
                total_qty: "1".parse().unwrap(),
                total_value: "79228162514264337593543950335".parse().unwrap(),
            },
        );
        let receipt = |currency: &str| Receipt {
            id: "r".into(),
            company_id: "c".into(),
            ingredient_id: "i".into(),
            quantity: "1".parse().unwrap(),
            value: "1".parse().unwrap(),
            currency: Some(currency.into()),
            received_at: String::new(),
            reference: None,
            created_at: String::new(),
        };
        let before = ingredient.costs.clone();
        assert!(add_to(&mut ingredient, &receipt("GBP")).is_err());
        assert_eq!(ingredient.costs, before, "nothing changed");
        add_to(&mut ingredient, &receipt("NZD")).unwrap();
        assert_eq!(ingredient.costs["NZD"].total_value, "1".parse().unwrap());
    }
}
