//! The canonical sale: sale, refund or void, with lines (item reference, quantity, net, tax,
//! discount, tax code, parent line) and payments (method, amount, tip, rounding). Refund
//! lines and payments are always negative here, whatever sign the wire used.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
pub use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::mapping::matching::LineItemRef;
use crate::money::{Money, Quantity};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleKind {
    Sale,
    /// Linked to the sale it refunds by `original_sale_id` when the POS says so.
    Refund,
    /// Voided or cancelled: moves no stock and no money.
    Void,
    /// Any other account type (transfers, splits, floats…): not a sale.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalLine {
    pub line_id: CompactString,
    pub parent_line_id: Option<CompactString>,
    pub item: LineItemRef,
    pub quantity: Quantity,
    /// Without tax.
    pub net: Money,
    /// With tax.
    pub gross: Money,
    pub tax: Money,
    pub discount: Money,
    pub service_charge: Money,
    pub tax_code: Option<CompactString>,
    pub accounting_group: Option<CompactString>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalPayment {
    pub method: String,
    pub description: Option<String>,
    pub amount: Money,
    pub tip: Money,
    pub rounding: Money,
    /// When the money was taken, where the POS says so and it may differ from the sale's
    /// own time (X-Series on-account sales are paid days later). `None`: paid when the
    /// sale closed (K-Series, CSV, what was still owed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalSale {
    /// The POS's id of the account (K-Series `accountFiscId`, X-Series sale id).
    pub sale_id: String,
    pub receipt: Option<String>,
    pub kind: SaleKind,
    pub closed_at: DateTime<Utc>,
    /// For refunds: the sale refunded.
    pub original_sale_id: Option<String>,
    pub currency: Option<String>,
    pub lines: Vec<CanonicalLine>,
    pub payments: Vec<CanonicalPayment>,
    /// The register it was rung up on (X-Series), for journals per register closure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_id: Option<String>,
}

impl CanonicalSale {
    /// Sales and refunds move stock and money; voids and other accounts do not.
    pub fn counts(&self) -> bool {
        matches!(self.kind, SaleKind::Sale | SaleKind::Refund)
    }

    /// The distinct instants, after the sale closed, at which some of it was paid
    /// (an on-account sale settled later), in time order.
    pub fn later_payment_times(&self) -> Vec<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = self
            .payments
            .iter()
            .filter_map(|p| p.paid_at)
            .filter(|at| *at > self.closed_at)
            .collect();
        times.sort();
        times.dedup();
        times
    }
}

/// A method's takings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MethodTotals {
    pub count: usize,
    pub amount: Money,
    pub tip: Money,
    pub rounding: Money,
}

/// Totals of a set of sales (what reconciliation compares with the POS's own figures).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    pub sale_count: usize,
    pub refund_count: usize,
    pub line_count: usize,
    pub gross: Money,
    pub net: Money,
    pub tax: Money,
    pub payments: BTreeMap<String, MethodTotals>,
    /// By SKU (else name, else POS item id); refunds negative.
    pub item_quantities: BTreeMap<String, Quantity>,
}

/// Sums the sales that count (pure, exact); `None` when a sum leaves the decimal range
/// (figures come from outside).
pub fn totals(sales: &[CanonicalSale]) -> Option<DayTotals> {
    let mut out = DayTotals::default();
    for sale in sales.iter().filter(|s| s.counts()) {
        match sale.kind {
            SaleKind::Refund => out.refund_count += 1,
            _ => out.sale_count += 1,
        }
        for line in &sale.lines {
            out.line_count += 1;
            out.gross = out.gross.checked_add(line.gross)?;
            out.net = out.net.checked_add(line.net)?;
            out.tax = out.tax.checked_add(line.tax)?;
            // SKU, else the name, else the POS item id (X-Series 2.0 lines carry only that).
            let name = Some(line.item.name.clone()).filter(|n| !n.trim().is_empty());
            let key = line
                .item
                .sku
                .clone()
                .or(name)
                .or_else(|| line.item.item_id.clone())
                .unwrap_or_default()
                .into_string();
            let quantity = out.item_quantities.entry(key).or_default();
            *quantity = quantity.checked_add(line.quantity)?;
        }
        for payment in &sale.payments {
            let method = out.payments.entry(payment.method.clone()).or_default();
            method.count += 1;
            method.amount = method.amount.checked_add(payment.amount)?;
            method.tip = method.tip.checked_add(payment.tip)?;
            method.rounding = method.rounding.checked_add(payment.rounding)?;
        }
    }
    Some(out)
}

/// Builders and assertions the tests share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A line of `quantity` of `item` (its id and name), with no money.
    pub fn line(id: &str, item: &str, quantity: &str) -> CanonicalLine {
        CanonicalLine {
            line_id: id.into(),
            parent_line_id: None,
            item: LineItemRef {
                item_id: Some(item.into()),
                sku: None,
                name: item.into(),
            },
            quantity: quantity.parse().unwrap_or_else(|_| panic!("{quantity}")),
            net: Money::ZERO,
            gross: Money::ZERO,
            tax: Money::ZERO,
            discount: Money::ZERO,
            service_charge: Money::ZERO,
            tax_code: None,
            accounting_group: None,
        }
    }

    /// `sale` is a refund of one unit of its first line, linked to `original`, with
    /// `gross` (negative) on that line and its first payment.
    pub fn assert_refund_of_one(sale: &CanonicalSale, original: &str, gross: &str) {
        assert_eq!(sale.kind, SaleKind::Refund);
        assert_eq!(sale.original_sale_id.as_deref(), Some(original));
        assert_eq!(sale.lines[0].quantity, "-1".parse().unwrap());
        assert_eq!(sale.lines[0].gross, gross.parse().unwrap());
        assert_eq!(sale.payments[0].amount, gross.parse().unwrap());
    }
}
