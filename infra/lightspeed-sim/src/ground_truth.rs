//! Ground truth: exact totals for a location and window computed straight from the generated
//! sales (canonical signs, exact decimals), never through the HTTP paging or wire code.
//!
//! Counted accounts are `SALE` and `REFUND` accounts that are not cancelled; `VOID` and
//! cancelled accounts are only counted in their own fields. Refund amounts are negative.

use crate::data::SaleType;
use crate::server::AppState;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTotals {
    pub count: usize,
    /// Σ `netAmountWithTax`.
    pub amount: Decimal,
    pub tip: Decimal,
    pub rounding: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TaxTotals {
    pub net: Decimal,
    pub tax: Decimal,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroundTruth {
    pub location_id: i64,
    pub currency: String,
    pub business_date: Option<NaiveDate>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every account the sales endpoint returns for this window (all types).
    pub account_count: usize,
    pub sale_count: usize,
    pub refund_count: usize,
    pub void_count: usize,
    pub cancelled_count: usize,
    /// Lines of counted accounts.
    pub line_count: usize,
    /// Σ `totalNetAmountWithTax`.
    pub gross: Decimal,
    /// Σ `totalNetAmountWithoutTax`.
    pub net: Decimal,
    /// Σ `taxAmount`.
    pub tax: Decimal,
    /// Σ `totalDiscountAmount`.
    pub discount: Decimal,
    pub service_charge: Decimal,
    pub tips: Decimal,
    pub rounding: Decimal,
    /// Σ payment `netAmountWithTax`.
    pub payments_total: Decimal,
    pub payments: BTreeMap<String, PaymentTotals>,
    pub tax_by_code: BTreeMap<String, TaxTotals>,
    /// SKU → Σ quantity (refunds negative).
    pub item_quantities: BTreeMap<String, Decimal>,
}

/// Totals for sales closed in [from, to) and not after the simulated now.
pub fn compute(
    state: &AppState,
    location_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    business_date: Option<NaiveDate>,
) -> Option<GroundTruth> {
    let li = state.k.location_index(location_id)?;
    let loc = state.k.catalog.locations.get(li)?;
    let currency = state
        .k
        .catalog
        .businesses
        .get(loc.business)?
        .currency
        .to_string();
    let now = state.clock.now();
    let mut g = GroundTruth {
        location_id,
        currency,
        business_date,
        from,
        to,
        account_count: 0,
        sale_count: 0,
        refund_count: 0,
        void_count: 0,
        cancelled_count: 0,
        line_count: 0,
        gross: Decimal::ZERO,
        net: Decimal::ZERO,
        tax: Decimal::ZERO,
        discount: Decimal::ZERO,
        service_charge: Decimal::ZERO,
        tips: Decimal::ZERO,
        rounding: Decimal::ZERO,
        payments_total: Decimal::ZERO,
        payments: BTreeMap::new(),
        tax_by_code: BTreeMap::new(),
        item_quantities: BTreeMap::new(),
    };
    for date in state.k.dates_touching(li, from, to) {
        for s in state.k.day(li, date).iter() {
            if s.time_closed < from || s.time_closed >= to || s.time_closed > now {
                continue;
            }
            g.account_count += 1;
            if s.cancelled {
                g.cancelled_count += 1;
                continue;
            }
            match s.kind {
                SaleType::Sale => g.sale_count += 1,
                SaleType::Refund => g.refund_count += 1,
                SaleType::Void => {
                    g.void_count += 1;
                    continue;
                }
                SaleType::Cancel => {
                    g.cancelled_count += 1;
                    continue;
                }
            }
            for l in &s.lines {
                g.line_count += 1;
                g.gross += l.with_tax;
                g.net += l.without_tax;
                g.tax += l.tax_amount;
                g.discount += l.discount_amount + l.account_discount_amount;
                g.service_charge += l.service_charge;
                let t = g.tax_by_code.entry(l.tax.code.to_string()).or_default();
                t.net += l.without_tax;
                t.tax += l.tax_amount;
                *g.item_quantities
                    .entry(l.sku.clone())
                    .or_insert(Decimal::ZERO) += l.quantity;
            }
            for p in &s.payments {
                g.tips += p.tip;
                g.rounding += p.rounding;
                g.payments_total += p.amount;
                let e = g.payments.entry(p.method.code.to_string()).or_default();
                e.count += 1;
                e.amount += p.amount;
                e.tip += p.tip;
                e.rounding += p.rounding;
            }
        }
    }
    Some(g)
}

/// Totals for a business date with the given local cutoff hour (tillbridge's default is 4).
pub fn for_date(
    state: &AppState,
    location_id: i64,
    date: NaiveDate,
    cutoff_hour: u32,
) -> Option<GroundTruth> {
    let li = state.k.location_index(location_id)?;
    let (from, to) = state.k.window(li, date, cutoff_hour)?;
    compute(state, location_id, from, to, Some(date))
}
