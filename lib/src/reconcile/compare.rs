//! Where Lightspeed's figures for a day and our cached copy differ (pure). Both sides are
//! summed by [`crate::sales::canonical::totals`] from canonical sales, so they are read
//! through the same conversion and compare exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::money::OutOfRange;
use crate::sales::DayTotals;

/// One figure that differs: `pos` is Lightspeed's, `cached` ours, `difference` = pos − cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Difference {
    /// `sales`, `refunds`, `gross`, `net`, `tax`, `payment:<method>` or `item:<sku or name>`.
    pub figure: String,
    pub pos: String,
    pub cached: String,
    pub difference: String,
}

fn push<T: PartialEq + Display + Copy>(
    out: &mut Vec<Difference>,
    figure: String,
    pos: T,
    cached: T,
    minus: impl Fn(T, T) -> Option<T>,
) -> Result<(), OutOfRange> {
    if pos == cached {
        return Ok(());
    }
    let difference =
        minus(pos, cached).ok_or_else(|| OutOfRange::computing("a difference of day totals"))?;
    out.push(Difference {
        figure,
        pos: pos.to_string(),
        cached: cached.to_string(),
        difference: difference.to_string(),
    });
    Ok(())
}

fn keys<'a, V>(a: &'a BTreeMap<String, V>, b: &'a BTreeMap<String, V>) -> BTreeSet<&'a String> {
    a.keys().chain(b.keys()).collect()
}

/// Every figure where `pos` and `cached` differ, in a fixed order (counts, amounts, payment
/// methods, then item quantities).
pub fn differences(pos: &DayTotals, cached: &DayTotals) -> Result<Vec<Difference>, OutOfRange> {
    let mut out = Vec::new();
    let count = |a: i64, b: i64| a.checked_sub(b);
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    for (figure, a, b) in [
        ("sales", pos.sale_count, cached.sale_count),
        ("refunds", pos.refund_count, cached.refund_count),
    ] {
        push(&mut out, figure.into(), as_i64(a), as_i64(b), count)?;
    }
    for (figure, a, b) in [
        ("gross", pos.gross, cached.gross),
        ("net", pos.net, cached.net),
        ("tax", pos.tax, cached.tax),
    ] {
        push(&mut out, figure.into(), a, b, |a, b| a.checked_sub(b))?;
    }
    for method in keys(&pos.payments, &cached.payments) {
        let taken = |totals: &DayTotals| {
            totals
                .payments
                .get(method)
                .and_then(|m| m.amount.checked_add(m.tip))
                .unwrap_or_default()
        };
        let figure = format!("payment:{method}");
        push(&mut out, figure, taken(pos), taken(cached), |a, b| {
            a.checked_sub(b)
        })?;
    }
    for item in keys(&pos.item_quantities, &cached.item_quantities) {
        let quantity = |totals: &DayTotals| {
            totals
                .item_quantities
                .get(item)
                .copied()
                .unwrap_or_default()
        };
        let figure = format!("item:{item}");
        push(&mut out, figure, quantity(pos), quantity(cached), |a, b| {
            a.checked_sub(b)
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::matching::LineItemRef;
    use crate::money::Money;
    use crate::sales::canonical::totals;
    use crate::sales::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};

    fn m(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn sale(
        id: &str,
        kind: SaleKind,
        sku: &str,
        gross: &str,
        net: &str,
        method: &str,
    ) -> CanonicalSale {
        let quantity = if gross.starts_with('-') { "-1" } else { "1" };
        CanonicalSale {
            sale_id: id.into(),
            receipt: None,
            kind,
            closed_at: "2026-11-30T12:00:00Z".parse().unwrap(),
            original_sale_id: None,
            currency: Some("GBP".into()),
            lines: vec![CanonicalLine {
                line_id: "l1".into(),
                parent_line_id: None,
                item: LineItemRef {
                    sku: Some(sku.into()),
                    ..LineItemRef::default()
                },
                quantity: quantity.parse().unwrap(),
                net: m(net),
                gross: m(gross),
                tax: m(gross).checked_sub(m(net)).unwrap(),
                discount: Money::ZERO,
                service_charge: Money::ZERO,
                tax_code: None,
                accounting_group: None,
            }],
            payments: vec![CanonicalPayment {
                method: method.into(),
                description: None,
                amount: m(gross),
                tip: Money::ZERO,
                rounding: Money::ZERO,
                paid_at: None,
            }],
            register_id: None,
        }
    }

    fn found(pos: &[CanonicalSale], cached: &[CanonicalSale]) -> Vec<(String, String)> {
        let (pos, cached) = (totals(pos).unwrap(), totals(cached).unwrap());
        differences(&pos, &cached)
            .unwrap()
            .into_iter()
            .map(|d| (d.figure, d.difference))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, a)| (f.to_string(), a.to_string()))
            .collect()
    }

    #[test]
    fn a_late_sale_differs_in_count_amounts_its_method_and_item_only() {
        let cached = vec![sale(
            "a",
            SaleKind::Sale,
            "BURGER",
            "12.00",
            "10.00",
            "CARD",
        )];
        let mut pos = cached.clone();
        pos.push(sale("late", SaleKind::Sale, "COLA", "3.60", "3.00", "CASH"));
        let expected = [
            ("sales", "1"),
            ("gross", "3.60"),
            ("net", "3.00"),
            ("tax", "0.60"),
            ("payment:CASH", "3.60"),
            ("item:COLA", "1"),
        ];
        assert_eq!(found(&pos, &cached), pairs(&expected));
        assert!(found(&cached, &cached).is_empty());
    }

    #[test]
    fn voids_do_not_count_and_a_refund_the_cache_lacks_is_negative() {
        let cached = vec![
            sale("a", SaleKind::Sale, "BURGER", "12.00", "10.00", "CARD"),
            sale("v", SaleKind::Void, "BURGER", "99.00", "80.00", "CASH"),
        ];
        let mut pos = cached.clone();
        pos.push(sale(
            "r",
            SaleKind::Refund,
            "BURGER",
            "-12.00",
            "-10.00",
            "CARD",
        ));
        let expected = [
            ("refunds", "1"),
            ("gross", "-12.00"),
            ("net", "-10.00"),
            ("tax", "-2.00"),
            ("payment:CARD", "-12.00"),
            ("item:BURGER", "-1"),
        ];
        assert_eq!(found(&pos, &cached), pairs(&expected));
    }

    #[test]
    fn the_same_sales_in_another_order_do_not_differ() {
        let a = vec![
            sale("a", SaleKind::Sale, "BURGER", "12.00", "10.00", "CARD"),
            sale("b", SaleKind::Sale, "COLA", "1.20", "1.00", "CASH"),
        ];
        let mut b = a.clone();
        b.reverse();
        assert!(found(&a, &b).is_empty());
    }
}
