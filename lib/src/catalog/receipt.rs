//! Stock receipts: each adds quantity and value to its ingredient's totals, from which the
//! weighted average cost follows. The receipt and the new totals are written in one
//! transaction guarded by the ingredient's version, so concurrent receipts never lose one.

use serde::{Deserialize, Serialize};

use super::ingredient::Ingredient;
use super::records::{self, CatalogRecord};
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::money::{Money, Quantity};
use crate::store::{
    from_item, keys, query_all, to_item, Condition, ItemStore, Key, Query, StoreError, Write,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub company_id: String,
    pub ingredient_id: String,
    pub quantity: Quantity,
    /// Total value of the received quantity (not a unit price).
    pub value: Money,
    pub received_at: String,
    pub reference: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub quantity: Quantity,
    pub value: Money,
    #[serde(default)]
    pub received_at: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

pub fn partition(company_id: &str, ingredient_id: &str) -> String {
    format!("{}#ING#{ingredient_id}", keys::company(company_id))
}

fn key(receipt: &Receipt) -> Key {
    Key::new(
        partition(&receipt.company_id, &receipt.ingredient_id),
        format!("RCPT#{}#{}", receipt.received_at, receipt.id),
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
        received_at: input.received_at.clone().unwrap_or_else(|| now.to_string()),
        reference: input.reference.clone(),
        created_at: now.to_string(),
    };
    for attempt in 0..crate::store::CONTENTION_ATTEMPTS {
        if attempt > 0 {
            crate::store::contention_pause(attempt).await;
        }
        let mut ingredient = records::get::<Ingredient>(store, company_id, ingredient_id).await?;
        if idempotency_key.is_some() {
            if let Some(existing) = find(store, company_id, ingredient_id, &receipt.id).await? {
                return Ok((existing, ingredient, true));
            }
        }
        let previous = ingredient.version;
        ingredient.total_qty = ingredient.total_qty + receipt.quantity;
        ingredient.total_value = ingredient.total_value + receipt.value;
        ingredient.version = previous + 1;
        ingredient.updated_at = now.to_string();
        let writes = vec![
            Write::Put(to_item(&receipt, &key(&receipt))?, Condition::NotExists),
            Write::Put(
                to_item(&ingredient, &Ingredient::key(company_id, ingredient_id))?,
                Condition::VersionIs(previous),
            ),
        ];
        match store.transact(writes).await {
            Ok(()) => return Ok((receipt, ingredient, false)),
            Err(StoreError::ConditionFailed) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AppError::new(
        ErrorCode::StoreUnavailable,
        "the ingredient is receiving stock concurrently; retry",
    ))
}

async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    ingredient_id: &str,
    receipt_id: &str,
) -> Result<Option<Receipt>, AppError> {
    let query = Query::partition(partition(company_id, ingredient_id))
        .begins_with("RCPT#")
        .limit(200);
    for item in query_all(store, query).await? {
        let receipt: Receipt = from_item(item)?;
        if receipt.id == receipt_id {
            return Ok(Some(receipt));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(quantity: &str, value: &str) -> ReceiptInput {
        ReceiptInput {
            quantity: quantity.parse().unwrap(),
            value: value.parse().unwrap(),
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
}
