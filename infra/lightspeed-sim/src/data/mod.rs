//! Generated data: the K-Series restaurant group and the X-Series retail store.
//!
//! Internal values are canonical (refunds negative, exact decimals); the wire modules decide how
//! they are spelled.

pub mod catalog;
pub mod generate;
pub mod retail;
pub mod store;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// A K-Series business (currency lives here).
#[derive(Debug, Clone)]
pub struct KBusiness {
    pub id: i64,
    pub name: String,
    pub currency: &'static str,
    pub tax_rates: Vec<TaxRate>,
    pub payment_methods: Vec<PaymentMethod>,
    pub items: Vec<KItem>,
}

/// A K-Series business location (country and time zone live here).
#[derive(Debug, Clone)]
pub struct KLocation {
    pub id: i64,
    pub name: String,
    pub country: &'static str,
    pub tz: Tz,
    pub business: usize,
    /// Prefix number of account, receipt, line and payment ids (`A65315.17`).
    pub code: u32,
    /// Sales on a normal Thursday at volume 1.
    pub base_sales: u32,
    /// Service charge percent applied to large dine-in tables (0 = none).
    pub service_charge_pct: Decimal,
    /// Cash payments are rounded to this step (0.01 = none, 0.10 in NZ).
    pub cash_rounding: Decimal,
    pub staff: Vec<(i64, String)>,
    pub devices: Vec<(i64, String)>,
    pub revenue_center_id: i64,
}

#[derive(Debug, Clone)]
pub struct TaxRate {
    pub id: i64,
    pub code: &'static str,
    pub description: &'static str,
    /// Percent, e.g. 20 for VAT 20 %.
    pub percent: Decimal,
    pub accounting_reference: &'static str,
}

impl TaxRate {
    /// The multiplier Lightspeed calls `rate` / `taxRate` (e.g. `1.2`).
    pub fn multiplier(&self) -> Decimal {
        Decimal::ONE + self.percent / Decimal::from(100)
    }
}

#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
    pub accounting_reference: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Item,
    Modifier,
    Combo,
    /// Sold by weight; quantity has three decimals.
    Weighed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Starter,
    Main,
    Side,
    Dessert,
    Soft,
    Hot,
    Beer,
    Wine,
    Spirit,
    Takeaway,
    HotTakeaway,
    Weighed,
    Modifier,
    Combo,
}

#[derive(Debug, Clone)]
pub struct AccountingGroup {
    pub id: i64,
    pub name: &'static str,
    pub code: &'static str,
}

#[derive(Debug, Clone)]
pub struct KItem {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub price: Decimal,
    pub cost: Decimal,
    pub tax: usize,
    pub group: AccountingGroup,
    pub category: Category,
    pub kind: ItemKind,
    /// `false` = archived from the menu (still returned by the Items API).
    pub active: bool,
    /// Deleted upstream: no longer returned by the Items API.
    pub deleted: bool,
}

/// K-Series account type (`type` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleType {
    Sale,
    Refund,
    Void,
    Cancel,
}

impl SaleType {
    pub fn wire(self) -> &'static str {
        match self {
            SaleType::Sale => "SALE",
            SaleType::Refund => "REFUND",
            SaleType::Void => "VOID",
            SaleType::Cancel => "CANCEL",
        }
    }
}

/// One K-Series account (a "sale" in the Financial API).
#[derive(Debug, Clone)]
pub struct KSale {
    pub account_reference: String,
    pub fisc_id: String,
    pub receipt_id: String,
    pub initial_account_id: String,
    pub previous_account_id: Option<String>,
    pub time_opened: DateTime<Utc>,
    pub time_closed: DateTime<Utc>,
    pub cancelled: bool,
    pub kind: SaleType,
    pub table: Option<(String, String)>,
    pub covers: u32,
    pub dine_in: bool,
    pub owner: (i64, String),
    pub device: (i64, String),
    pub void_reason: Option<&'static str>,
    pub lines: Vec<KLine>,
    pub payments: Vec<KPayment>,
}

/// One sale line; amounts are canonical (negative on refunds).
#[derive(Debug, Clone)]
pub struct KLine {
    pub id: String,
    pub parent_line_id: Option<String>,
    pub sku: String,
    pub name: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub unit_cost: Decimal,
    /// `totalNetAmountWithTax` (after discounts, before service charge).
    pub with_tax: Decimal,
    /// `totalNetAmountWithoutTax`, rounded to 2 places.
    pub without_tax: Decimal,
    /// `taxAmount`, rounded to 4 places.
    pub tax_amount: Decimal,
    /// `taxLines[0].taxAmount`, rounded to 6 places.
    pub tax_line_amount: Decimal,
    pub tax: TaxRate,
    pub discount_amount: Decimal,
    pub discount: Option<(&'static str, &'static str)>,
    pub account_discount_amount: Decimal,
    pub service_charge: Decimal,
    pub service_charge_rate: Decimal,
    pub group: AccountingGroup,
    pub category: &'static str,
    pub time_of_sale: DateTime<Utc>,
    pub staff: (i64, String),
    pub void_reason: Option<&'static str>,
}

/// One payment; amounts are canonical (negative on refunds).
#[derive(Debug, Clone)]
pub struct KPayment {
    pub fisc_id: String,
    pub uuid: String,
    pub method: PaymentMethod,
    /// `netAmountWithTax`: what was tendered towards the bill (after cash rounding, without tip).
    pub amount: Decimal,
    pub tip: Decimal,
    pub surcharge: Decimal,
    /// `roundingAmount` = tendered − exact due (cash rounding).
    pub rounding: Decimal,
    pub time: DateTime<Utc>,
    pub device: (i64, String),
    pub staff: (i64, String),
    pub authorization: Option<String>,
}
