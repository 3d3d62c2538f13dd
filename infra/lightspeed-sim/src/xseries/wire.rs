//! X-Series wire objects: API 2.0 sales and products (numbers as exact JSON numbers) and the
//! API 1.0 `register_sale` / product shapes that webhooks deliver.

use crate::data::retail::{state_of, XProduct, XRevision, XSale, XStore};
use crate::money::{round, Num};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// `2016-09-19T20:28:03+00:00`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Legacy `2013-11-14 20:41:01` (no zone).
pub fn legacy_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[derive(Serialize)]
pub struct TaxComponent {
    pub rate_id: String,
    pub total_tax: Num,
}

#[derive(Serialize)]
pub struct LineItem {
    pub id: String,
    pub product_id: String,
    pub tax_id: String,
    pub sequence: u32,
    pub status: &'static str,
    pub quantity: Num,
    pub is_return: bool,
    pub price_set: bool,
    pub price: Num,
    pub unit_price: Num,
    pub price_total: Num,
    pub total_price: Num,
    pub cost: Num,
    pub unit_cost: Num,
    pub cost_total: Num,
    pub total_cost: Num,
    pub tax: Num,
    pub unit_tax: Num,
    pub tax_total: Num,
    pub total_tax: Num,
    pub discount: Num,
    pub unit_discount: Num,
    pub discount_total: Num,
    pub total_discount: Num,
    pub loyalty_value: Num,
    pub unit_loyalty_value: Num,
    pub total_loyalty_value: Num,
    pub tax_components: Vec<TaxComponent>,
}

#[derive(Serialize)]
pub struct PaymentTypeRef {
    pub config_id: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct Payment {
    pub id: String,
    pub register_id: String,
    pub outlet_id: String,
    pub retailer_payment_type_id: String,
    pub payment_type_id: String,
    pub name: String,
    pub amount: Num,
    pub payment_date: String,
    #[serde(rename = "type")]
    pub kind: PaymentTypeRef,
    pub deleted_at: Option<String>,
}

#[derive(Serialize)]
pub struct SaleTax {
    pub id: String,
    pub amount: Num,
}

#[derive(Serialize)]
pub struct Sale {
    pub id: String,
    pub outlet_id: String,
    pub register_id: String,
    pub user_id: String,
    pub customer_id: Option<String>,
    pub invoice_number: String,
    pub invoice_sequence: u64,
    pub receipt_number: String,
    pub receipt_sequence: u64,
    pub status: &'static str,
    pub state: &'static str,
    pub attributes: Vec<&'static str>,
    pub short_code: String,
    pub note: String,
    pub return_for: Option<String>,
    pub sale_date: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub total_price: Num,
    pub total_tax: Num,
    pub total_loyalty: Num,
    pub line_items: Vec<LineItem>,
    pub payments: Vec<Payment>,
    pub taxes: Vec<SaleTax>,
    pub version: u64,
}

fn n(d: Decimal) -> Num {
    Num(round(d, 5))
}

/// API 2.0 sale at a given revision.
pub fn sale(store: &XStore, s: &XSale, rev: &XRevision) -> Sale {
    let (state, attributes) = state_of(rev.status);
    let outlet = store
        .registers
        .iter()
        .find(|r| r.id == s.register_id)
        .map(|r| r.outlet_id.clone())
        .unwrap_or_default();
    let line_items = s
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineItem {
            id: l.id.clone(),
            product_id: l.product_id.clone(),
            tax_id: l.tax_id.clone(),
            sequence: i as u32,
            status: "CONFIRMED",
            quantity: n(l.quantity),
            is_return: l.is_return,
            price_set: false,
            price: n(l.price),
            unit_price: n(l.price),
            price_total: n(l.price * l.quantity),
            total_price: n(l.price * l.quantity),
            cost: n(l.cost),
            unit_cost: n(l.cost),
            cost_total: n(l.cost * l.quantity),
            total_cost: n(l.cost * l.quantity),
            tax: n(l.tax),
            unit_tax: n(l.tax),
            tax_total: n(l.tax * l.quantity),
            total_tax: n(l.tax * l.quantity),
            discount: Num(Decimal::ZERO),
            unit_discount: Num(Decimal::ZERO),
            discount_total: Num(Decimal::ZERO),
            total_discount: Num(Decimal::ZERO),
            loyalty_value: Num(Decimal::ZERO),
            unit_loyalty_value: Num(Decimal::ZERO),
            total_loyalty_value: Num(Decimal::ZERO),
            tax_components: vec![TaxComponent {
                rate_id: l.tax_id.clone(),
                total_tax: n(l.tax * l.quantity),
            }],
        })
        .collect();
    let payments = rev
        .payments
        .iter()
        .map(|p| Payment {
            id: p.id.clone(),
            register_id: p.register_id.clone(),
            outlet_id: outlet.clone(),
            retailer_payment_type_id: p.payment_type.id.clone(),
            payment_type_id: p.payment_type.type_id.to_string(),
            name: p.payment_type.name.clone(),
            amount: Num(p.amount),
            payment_date: ts(p.date),
            kind: PaymentTypeRef {
                config_id: p.payment_type.id.clone(),
                name: p.payment_type.name.clone(),
            },
            deleted_at: None,
        })
        .collect();
    let mut taxes: Vec<SaleTax> = Vec::new();
    for l in &s.lines {
        match taxes.iter_mut().find(|t| t.id == l.tax_id) {
            Some(t) => t.amount = n(t.amount.0 + l.tax * l.quantity),
            None => taxes.push(SaleTax {
                id: l.tax_id.clone(),
                amount: n(l.tax * l.quantity),
            }),
        }
    }
    Sale {
        id: s.id.clone(),
        outlet_id: s.outlet_id.clone(),
        register_id: s.register_id.clone(),
        user_id: s.user_id.clone(),
        customer_id: s.customer_id.clone(),
        invoice_number: s.invoice_sequence.to_string(),
        invoice_sequence: s.invoice_sequence,
        receipt_number: s.invoice_sequence.to_string(),
        receipt_sequence: s.invoice_sequence,
        status: rev.status,
        state,
        attributes,
        short_code: s.short_code.clone(),
        note: s.note.clone(),
        return_for: s.return_for.clone(),
        sale_date: ts(s.sale_date),
        created_at: ts(s.sale_date),
        updated_at: ts(rev.at),
        deleted_at: None,
        total_price: n(s.total_price()),
        total_tax: n(s.total_tax()),
        total_loyalty: Num(Decimal::ZERO),
        line_items,
        payments,
        taxes,
        version: rev.version.unwrap_or(0),
    }
}

#[derive(Serialize)]
pub struct ProductCode {
    #[serde(rename = "type")]
    pub kind: String,
    pub code: String,
}

#[derive(Serialize)]
pub struct Product {
    pub id: String,
    pub source_id: Option<String>,
    pub source: &'static str,
    pub name: String,
    pub handle: String,
    pub sku: String,
    pub product_codes: Vec<ProductCode>,
    pub supplier_code: String,
    pub active: bool,
    pub is_active: bool,
    pub deleted_at: Option<String>,
    pub has_variants: bool,
    pub variant_parent_id: Option<String>,
    pub family_id: String,
    pub price_excluding_tax: Num,
    pub price_including_tax: Num,
    pub supply_price: Num,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// API 2.0 product.
pub fn product(p: &XProduct) -> Product {
    Product {
        id: p.id.clone(),
        source_id: None,
        source: "USER",
        name: p.name.clone(),
        handle: p.handle.clone(),
        sku: p.sku.clone(),
        product_codes: p
            .product_codes
            .iter()
            .map(|(k, c)| ProductCode {
                kind: k.clone(),
                code: c.clone(),
            })
            .collect(),
        supplier_code: p.supplier_code.clone(),
        active: p.active,
        is_active: p.active,
        deleted_at: p.deleted_at.map(ts),
        has_variants: p.has_variants,
        variant_parent_id: p.variant_parent_id.clone(),
        family_id: p.family_id.clone(),
        price_excluding_tax: Num(p.price_excluding_tax),
        price_including_tax: Num(p.price_including_tax),
        supply_price: Num(p.supply_price),
        created_at: ts(p.created_at),
        updated_at: ts(p.updated_at),
        version: p.version.unwrap_or(0),
    }
}

#[derive(Serialize)]
pub struct LegacyLine {
    pub id: String,
    pub product_id: String,
    pub register_id: String,
    pub sequence: String,
    pub handle: String,
    pub sku: String,
    pub name: String,
    pub quantity: Num,
    pub price: Num,
    pub cost: Num,
    pub price_set: u8,
    pub discount: Num,
    pub loyalty_value: Num,
    pub tax: Num,
    pub tax_id: String,
    pub tax_name: String,
    pub tax_rate: Num,
    pub tax_total: Num,
    pub price_total: Num,
    pub display_retail_price_tax_inclusive: String,
    pub status: &'static str,
}

#[derive(Serialize)]
pub struct LegacyPayment {
    pub id: String,
    pub payment_type_id: String,
    pub register_id: String,
    pub retailer_payment_type_id: String,
    pub name: String,
    pub label: String,
    pub payment_date: String,
    pub amount: Num,
}

#[derive(Serialize)]
pub struct LegacyTotals {
    pub total_tax: Num,
    pub total_price: Num,
    pub total_payment: Num,
    pub total_to_pay: Num,
}

#[derive(Serialize)]
pub struct LegacyTax {
    pub id: String,
    pub tax: Num,
    pub name: String,
    pub rate: Num,
}

/// API 1.0 `register_sale` (what `sale.update` delivers; carries no `version`).
#[derive(Serialize)]
pub struct LegacySale {
    pub id: String,
    pub register_id: String,
    pub market_id: String,
    pub customer_id: String,
    pub user_id: String,
    pub sale_date: String,
    pub created_at: String,
    pub updated_at: String,
    pub total_price: Num,
    pub total_cost: Num,
    pub total_tax: Num,
    pub tax_name: String,
    pub status: &'static str,
    pub short_code: String,
    pub invoice_number: String,
    pub return_for: String,
    pub note: String,
    pub register_sale_products: Vec<LegacyLine>,
    pub totals: LegacyTotals,
    pub register_sale_payments: Vec<LegacyPayment>,
    pub taxes: Vec<LegacyTax>,
}

pub fn legacy_sale(store: &XStore, s: &XSale, rev: &XRevision) -> LegacySale {
    let tax_of = |id: &str| store.taxes.iter().find(|t| t.id == id).cloned();
    let lines: Vec<LegacyLine> = s
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let p = store.products.iter().find(|p| p.id == l.product_id);
            let t = tax_of(&l.tax_id);
            LegacyLine {
                id: l.id.clone(),
                product_id: l.product_id.clone(),
                register_id: s.register_id.clone(),
                sequence: i.to_string(),
                handle: p.map(|p| p.handle.clone()).unwrap_or_default(),
                sku: p.map(|p| p.sku.clone()).unwrap_or_default(),
                name: p.map(|p| p.name.clone()).unwrap_or_default(),
                quantity: n(l.quantity),
                price: n(l.price),
                cost: n(l.cost),
                price_set: 0,
                discount: Num(Decimal::ZERO),
                loyalty_value: Num(Decimal::ZERO),
                tax: n(l.tax),
                tax_id: l.tax_id.clone(),
                tax_name: t.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
                tax_rate: Num(t.as_ref().map(|t| t.rate).unwrap_or_default()),
                tax_total: n(l.tax * l.quantity),
                price_total: n(l.price * l.quantity),
                display_retail_price_tax_inclusive: "1".into(),
                status: "CONFIRMED",
            }
        })
        .collect();
    let paid: Decimal = rev.payments.iter().map(|p| p.amount).sum();
    let total = round(s.total_price() + s.total_tax(), 2);
    let taxes = store
        .taxes
        .iter()
        .filter_map(|t| {
            let amount: Decimal = s
                .lines
                .iter()
                .filter(|l| l.tax_id == t.id)
                .map(|l| l.tax * l.quantity)
                .sum();
            if s.lines.iter().any(|l| l.tax_id == t.id) {
                Some(LegacyTax {
                    id: t.id.clone(),
                    tax: n(amount),
                    name: t.name.clone(),
                    rate: Num(t.rate),
                })
            } else {
                None
            }
        })
        .collect();
    LegacySale {
        id: s.id.clone(),
        register_id: s.register_id.clone(),
        market_id: "1".into(),
        customer_id: s.customer_id.clone().unwrap_or_default(),
        user_id: s.user_id.clone(),
        sale_date: legacy_ts(s.sale_date),
        created_at: legacy_ts(s.sale_date),
        updated_at: legacy_ts(rev.at),
        total_price: n(s.total_price()),
        total_cost: n(s.lines.iter().map(|l| l.cost * l.quantity).sum()),
        total_tax: n(s.total_tax()),
        tax_name: "GST".into(),
        status: rev.status,
        short_code: s.short_code.clone(),
        invoice_number: s.invoice_sequence.to_string(),
        return_for: s.return_for.clone().unwrap_or_default(),
        note: s.note.clone(),
        register_sale_products: lines,
        totals: LegacyTotals {
            total_tax: n(s.total_tax()),
            total_price: n(s.total_price()),
            total_payment: Num(paid),
            total_to_pay: Num(total - paid),
        },
        register_sale_payments: rev
            .payments
            .iter()
            .map(|p| LegacyPayment {
                id: p.id.clone(),
                payment_type_id: p.payment_type.type_id.to_string(),
                register_id: p.register_id.clone(),
                retailer_payment_type_id: p.payment_type.id.clone(),
                name: p.payment_type.name.clone(),
                label: p.payment_type.name.clone(),
                payment_date: legacy_ts(p.date),
                amount: Num(p.amount),
            })
            .collect(),
        taxes,
    }
}

/// Product as the legacy `product.update` webhook delivers it.
#[derive(Serialize)]
pub struct LegacyProduct {
    pub id: String,
    pub handle: String,
    pub sku: String,
    pub name: String,
    pub active: bool,
    pub deleted_at: Option<String>,
    pub price: Num,
    pub tax: Num,
    pub supply_price: Num,
    pub version: u64,
    pub updated_at: String,
}

pub fn legacy_product(p: &XProduct) -> LegacyProduct {
    LegacyProduct {
        id: p.id.clone(),
        handle: p.handle.clone(),
        sku: p.sku.clone(),
        name: p.name.clone(),
        active: p.active,
        deleted_at: p.deleted_at.map(legacy_ts),
        price: Num(p.price_excluding_tax),
        tax: Num(p.price_including_tax - p.price_excluding_tax),
        supply_price: Num(p.supply_price),
        version: p.version.unwrap_or(0),
        updated_at: legacy_ts(p.updated_at),
    }
}
