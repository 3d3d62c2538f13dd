//! Reading Lightspeed's item payloads (pure): K-Series `/items/v1/items` and X-Series
//! `/api/2.0/products`, with the documented quirks.

use crate::lightspeed::json::text;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::money::Money;

/// What one upstream item says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamItem {
    pub item_id: String,
    pub name: String,
    pub sku: Option<String>,
    pub custom_code: Option<String>,
    pub price: Option<Money>,
    pub active: bool,
    pub accounting_group: Option<String>,
}

/// A JSON number or decimal string as an exact amount (numbers via their shortest text,
/// which is what Lightspeed sent).
fn amount(value: &Value) -> Option<Money> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    Decimal::from_str_exact(&text)
        .ok()
        .or_else(|| text.parse::<Decimal>().ok())
        .map(Money)
}

/// The K-Series price: the first usable of `prices[].amount`, `prices.value`,
/// `prices.price`, `price`, `costPrice`.
pub fn k_series_price(item: &Value) -> Option<Money> {
    let prices = &item["prices"];
    prices
        .as_array()
        .and_then(|list| list.iter().find_map(|p| amount(&p["amount"])))
        .or_else(|| amount(&prices["value"]))
        .or_else(|| amount(&prices["price"]))
        .or_else(|| amount(&item["price"]))
        .or_else(|| amount(&item["costPrice"]))
}

/// The items of one `/items/v1/items` page, whatever envelope the body uses (bare array,
/// `{"items": [...]}`, or one object).
pub fn k_series_page(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        Value::Object(map) => match map.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ if map.contains_key("id") => vec![body.clone()],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

pub fn k_series_item(item: &Value) -> Option<UpstreamItem> {
    let item_id = text(&item["id"])?;
    Some(UpstreamItem {
        name: text(&item["name"]).unwrap_or_else(|| item_id.clone()),
        sku: text(&item["sku"]),
        custom_code: None,
        price: k_series_price(item),
        active: item["active"].as_bool().unwrap_or(true),
        accounting_group: text(&item["accountingGroup"]["name"]),
        item_id,
    })
}

/// An X-Series product; `None` when deleted (`deleted_at` set).
pub fn x_series_product(product: &Value) -> Option<UpstreamItem> {
    if !product["deleted_at"].is_null() {
        return None;
    }
    let item_id = text(&product["id"])?;
    let custom_code = product["product_codes"]
        .as_array()
        .and_then(|codes| {
            codes.iter().find(|c| {
                c["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("custom"))
            })
        })
        .and_then(|c| text(&c["code"]));
    let active = product["active"]
        .as_bool()
        .or(product["is_active"].as_bool())
        .unwrap_or(true);
    Some(UpstreamItem {
        name: text(&product["name"]).unwrap_or_else(|| item_id.clone()),
        sku: text(&product["sku"]),
        custom_code,
        price: amount(&product["price_excluding_tax"]),
        active,
        accounting_group: None,
        item_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(s: &str) -> Option<Money> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn price_comes_from_the_first_usable_field() {
        assert_eq!(
            k_series_price(
                &json!({"prices": [{"amount": 10.5, "name": "Default"}], "costPrice": 5.0})
            ),
            m("10.5")
        );
        assert_eq!(
            k_series_price(&json!({"prices": [{"name": "No amount"}, {"amount": 4.35}]})),
            m("4.35")
        );
        assert_eq!(
            k_series_price(&json!({"prices": {"value": 7.25}})),
            m("7.25")
        );
        assert_eq!(
            k_series_price(&json!({"prices": {"price": "8.10"}})),
            m("8.10")
        );
        assert_eq!(k_series_price(&json!({"price": 3})), m("3"));
        assert_eq!(
            k_series_price(&json!({"prices": [], "costPrice": 1.1})),
            m("1.1")
        );
        assert_eq!(k_series_price(&json!({"name": "free"})), None);
    }

    #[test]
    fn any_items_envelope_is_read() {
        let item = json!({"id": 1, "name": "Burger"});
        assert_eq!(k_series_page(&json!([item.clone()])).len(), 1);
        assert_eq!(
            k_series_page(&json!({"items": [item.clone(), item.clone()]})).len(),
            2
        );
        assert_eq!(k_series_page(&item).len(), 1);
        assert!(k_series_page(&json!({"status": "404"})).is_empty());
        let parsed = k_series_item(&json!({"id": 3012455645_i64, "name": "Burger", "sku": "BURG-01", "active": false, "prices": [{"amount": 10.0}]})).unwrap();
        assert_eq!(
            (parsed.item_id.as_str(), parsed.active, parsed.price),
            ("3012455645", false, m("10.0"))
        );
    }

    #[test]
    fn x_series_products_use_the_custom_code_and_either_active_flag() {
        let product = json!({"id": "p1", "name": "Mug", "sku": "10001", "is_active": false, "deleted_at": null,
            "product_codes": [{"type": "auto-generated", "code": "X1"}, {"type": "custom", "code": "ERP-MUG"}], "price_excluding_tax": 12.5});
        let parsed = x_series_product(&product).unwrap();
        assert_eq!(parsed.custom_code.as_deref(), Some("ERP-MUG"));
        assert!(!parsed.active);
        assert_eq!(parsed.price, m("12.5"));
        assert!(
            x_series_product(&json!({"id": "p2", "name": "Gone", "deleted_at": "2026-01-01"}))
                .is_none()
        );
    }
}
