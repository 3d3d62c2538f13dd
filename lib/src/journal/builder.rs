//! A location's business day of canonical sales → one balanced journal (pure, no I/O).
//!
//! What each figure means (the canonical model's conventions):
//! * `line.net` is revenue without tax, after discount; `line.discount` what was given
//!   off. Revenue is credited at `net + discount` and the discount debited, so the books
//!   show both.
//! * Tax, `line.gross − line.net` (the cents the customer paid as tax), is credited to its
//!   tax code's account; `line.service_charge` to the service-charge account.
//! * `payment.amount` is what the method took for the sale and `payment.tip` what it took
//!   on top (Lightspeed states them apart): both are debited to the method's account, the
//!   tip credited to the tips account.
//! * Refunds are negative in canonical form: they are summed apart from sales, so each
//!   shows as its own line on the opposite side (revenue of refunds to the refund account
//!   when one is mapped).
//! * The journal of a business day says only what was known by the day's end, and books
//!   each payment on the day it was paid (`payment.paid_at`; none means when the sale
//!   closed). A sale closed in the day books what was paid by the day's end to its methods
//!   and the rest to the [`ON_ACCOUNT`] method (the receivable), so a later payment does not
//!   rewrite a closed day. A payment made in the day for a sale closed on an earlier day is
//!   a settlement: the method's account is debited and the receivable credited, and the
//!   sale's lines are not booked again.
//!
//! Each aggregate is rounded once, half-even to the minor unit. Whatever the rounded
//! debits and credits then differ by (cash rounding, the POS's own rounding) goes to one
//! explicit rounding line, so the journal balances to the cent by construction; a
//! difference above the company's threshold is reported.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::location::business_day::Window;
use crate::money::Money;
use crate::sales::xseries::ON_ACCOUNT;
use crate::sales::{CanonicalSale, SaleKind};

/// Where each kind of figure is booked, for one location (company accounts with the
/// location's overrides already applied).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMap {
    /// Accounting group → revenue account.
    pub revenue: BTreeMap<String, String>,
    /// Revenue of lines with no accounting group (or one not in `revenue`).
    pub default_revenue: Option<String>,
    /// Tax code → tax account.
    pub tax: BTreeMap<String, String>,
    /// Payment method → account.
    pub payment: BTreeMap<String, String>,
    pub discount: String,
    pub service_charge: String,
    pub tips: String,
    pub rounding: String,
    /// Revenue of refunds, when finance books it apart; else the revenue account.
    pub refunds: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub account: String,
    pub label: String,
    pub debit: Money,
    pub credit: Money,
    pub tax_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub lines: Vec<JournalLine>,
    /// The rounding line's amount: debits before it minus credits before it.
    pub difference: Money,
    /// `|difference|` is above the company's threshold (`rounding_above_threshold`).
    pub difference_above_threshold: bool,
}

impl Journal {
    pub fn total_debit(&self) -> Option<Money> {
        Money::checked_sum(self.lines.iter().map(|l| l.debit))
    }
    pub fn total_credit(&self) -> Option<Money> {
        Money::checked_sum(self.lines.iter().map(|l| l.credit))
    }
}

/// Why a day has no journal. Unmapped names are all listed, so one fix covers them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("payment methods without an account: {}", .0.join(", "))]
    PaymentMethodUnmapped(Vec<String>),
    #[error("tax codes without an account: {}", .0.join(", "))]
    TaxUnmapped(Vec<String>),
    #[error("revenue without an account (accounting groups: {})", .0.join(", "))]
    RevenueUnmapped(Vec<String>),
    #[error("the day's totals are beyond the exact decimal range")]
    OutOfRange,
}

/// What a figure is, which decides its account and its natural side.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Figure {
    /// Accounting group (or none), tax code (or none).
    Revenue(Option<String>, Option<String>),
    Tax(Option<String>),
    /// By tax code, so revenue net of discount is known per tax rate.
    Discount(Option<String>),
    ServiceCharge,
    Tips,
    Payment(String),
    /// Paid in the day by this method for a sale closed on an earlier day.
    Settlement(String),
    /// What those settlements took off the receivable ([`ON_ACCOUNT`]'s account).
    Settled,
}

impl Figure {
    fn natural_debit(&self) -> bool {
        matches!(
            self,
            Figure::Discount(_) | Figure::Payment(_) | Figure::Settlement(_)
        )
    }
}

/// Builds the journal of the business day `day` from the sales it holds (those closed in
/// it, and those closed earlier with a payment made in it). `minor_units`: the currency's
/// decimals; `threshold`: the largest rounding line accepted without a report.
pub fn build(
    sales: &[CanonicalSale],
    day: &Window,
    accounts: &AccountMap,
    minor_units: u32,
    threshold: Money,
) -> Result<Journal, BuildError> {
    let sums = sum_figures(sales, day).ok_or(BuildError::OutOfRange)?;
    check_mapped(&sums, accounts)?;
    let mut lines = Vec::new();
    for ((refund, figure), amount) in &sums {
        let amount = round(*amount, minor_units);
        if amount.is_zero() {
            continue;
        }
        let (account, label) = account_and_label(figure, *refund, accounts);
        // A natural-side amount stays on its side; a negative one goes to the other.
        let on_natural_side = amount.is_sign_positive();
        let (debit, credit) = match (figure.natural_debit(), on_natural_side) {
            (true, true) | (false, false) => (amount.abs(), Decimal::ZERO),
            _ => (Decimal::ZERO, amount.abs()),
        };
        lines.push(JournalLine {
            account,
            label,
            debit: Money(debit),
            credit: Money(credit),
            tax_code: match figure {
                Figure::Tax(code) | Figure::Revenue(_, code) | Figure::Discount(code) => {
                    code.clone()
                }
                _ => None,
            },
        });
    }
    let debit = Money::checked_sum(lines.iter().map(|l| l.debit)).ok_or(BuildError::OutOfRange)?;
    let credit =
        Money::checked_sum(lines.iter().map(|l| l.credit)).ok_or(BuildError::OutOfRange)?;
    let difference = debit.checked_sub(credit).ok_or(BuildError::OutOfRange)?;
    if !difference.is_zero() {
        let (debit, credit) = balancing(difference);
        lines.push(JournalLine {
            account: accounts.rounding.clone(),
            label: "Rounding and differences".into(),
            debit,
            credit,
            tax_code: None,
        });
    }
    Ok(Journal {
        lines,
        difference,
        difference_above_threshold: difference.value().abs() > threshold.value().abs(),
    })
}

/// The debit and credit of the line that balances `difference` (debits minus credits).
pub(crate) fn balancing(difference: Money) -> (Money, Money) {
    if difference.is_negative() {
        (-difference, Money::ZERO)
    } else {
        (Money::ZERO, difference)
    }
}

fn round(value: Decimal, minor_units: u32) -> Decimal {
    value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven)
}

/// Every figure of the day, signed, summed per (refund?, figure); `None` beyond the range.
fn sum_figures(sales: &[CanonicalSale], day: &Window) -> Option<BTreeMap<(bool, Figure), Decimal>> {
    let mut sums: BTreeMap<(bool, Figure), Decimal> = BTreeMap::new();
    let mut add = |key: (bool, Figure), amount: Decimal| -> Option<()> {
        if !amount.is_zero() {
            let sum = sums.entry(key).or_default();
            *sum = sum.checked_add(amount)?;
        }
        Some(())
    };
    for sale in sales {
        let refund = match sale.kind {
            SaleKind::Sale => false,
            SaleKind::Refund => true,
            _ => continue,
        };
        if sale.closed_at < day.start {
            // Closed on an earlier day: only what was paid in this one.
            for payment in &sale.payments {
                let paid_here = payment.paid_at.is_some_and(|at| day.contains(at));
                if !paid_here || payment.method == ON_ACCOUNT {
                    continue;
                }
                let taken = payment.amount.value().checked_add(payment.tip.value())?;
                add((refund, Figure::Settlement(payment.method.clone())), taken)?;
                add((refund, Figure::Settled), taken)?;
            }
            continue;
        }
        if sale.closed_at >= day.end {
            // Closed on a later day (a deposit): that day books it.
            continue;
        }
        for line in &sale.lines {
            let gross_revenue = line.net.value().checked_add(line.discount.value())?;
            let tax_code = line.tax_code.as_deref().map(str::to_string);
            let group = line.accounting_group.as_deref().map(str::to_string);
            let revenue = Figure::Revenue(group, tax_code.clone());
            add((refund, revenue), gross_revenue)?;
            // Tax at the cents the customer paid: gross − net. (Lightspeed states the tax
            // amount itself to 4–6 decimals; the cent figures are what the takings balance
            // against, so the rounding line keeps only the POS's own cash rounding.)
            let tax = line.gross.value().checked_sub(line.net.value())?;
            add((refund, Figure::Tax(tax_code.clone())), tax)?;
            add((refund, Figure::Discount(tax_code)), line.discount.value())?;
            add((refund, Figure::ServiceCharge), line.service_charge.value())?;
        }
        for payment in &sale.payments {
            // Lightspeed states the tip apart from the amount; the method took both. Paid
            // after the day's end: still owed at its end, so on account.
            let taken = payment.amount.value().checked_add(payment.tip.value())?;
            let paid_later = payment.paid_at.is_some_and(|at| at >= day.end);
            let method = if paid_later {
                ON_ACCOUNT
            } else {
                payment.method.as_str()
            };
            add((refund, Figure::Payment(method.to_string())), taken)?;
            add((refund, Figure::Tips), payment.tip.value())?;
        }
    }
    Some(sums)
}

/// Every payment method, tax code and revenue group of the day has an account, or the
/// names of those that do not.
fn check_mapped(
    sums: &BTreeMap<(bool, Figure), Decimal>,
    accounts: &AccountMap,
) -> Result<(), BuildError> {
    let mut methods = Vec::new();
    let mut taxes = Vec::new();
    let mut groups = Vec::new();
    for (_, figure) in sums.keys() {
        match figure {
            Figure::Payment(method) | Figure::Settlement(method)
                if !accounts.payment.contains_key(method) =>
            {
                methods.push(method.clone())
            }
            Figure::Settled if !accounts.payment.contains_key(ON_ACCOUNT) => {
                methods.push(ON_ACCOUNT.to_string())
            }
            Figure::Tax(code) => match code {
                Some(code) if accounts.tax.contains_key(code) => {}
                other => taxes.push(other.clone().unwrap_or_else(|| "(none)".into())),
            },
            Figure::Revenue(group, _) if revenue_account(group, accounts).is_none() => {
                groups.push(group.clone().unwrap_or_else(|| "(none)".into()))
            }
            _ => {}
        }
    }
    for list in [&mut methods, &mut taxes, &mut groups] {
        list.sort();
        list.dedup();
    }
    if !methods.is_empty() {
        return Err(BuildError::PaymentMethodUnmapped(methods));
    }
    if !taxes.is_empty() {
        return Err(BuildError::TaxUnmapped(taxes));
    }
    if !groups.is_empty() {
        return Err(BuildError::RevenueUnmapped(groups));
    }
    Ok(())
}

fn revenue_account<'a>(group: &Option<String>, accounts: &'a AccountMap) -> Option<&'a String> {
    group
        .as_ref()
        .and_then(|g| accounts.revenue.get(g))
        .or(accounts.default_revenue.as_ref())
}

fn account_and_label(figure: &Figure, refund: bool, accounts: &AccountMap) -> (String, String) {
    let prefix = if refund { "Refunds: " } else { "" };
    let (account, label) = match figure {
        Figure::Revenue(group, tax) => {
            let account = match (&accounts.refunds, refund) {
                (Some(refunds), true) => Some(refunds),
                _ => revenue_account(group, accounts),
            };
            (
                account.cloned().unwrap_or_default(),
                format!(
                    "Revenue {} / tax {}",
                    group.as_deref().unwrap_or("(no group)"),
                    tax.as_deref().unwrap_or("(none)")
                ),
            )
        }
        Figure::Tax(code) => (
            code.as_ref()
                .and_then(|c| accounts.tax.get(c))
                .cloned()
                .unwrap_or_default(),
            format!("Tax {}", code.as_deref().unwrap_or("(none)")),
        ),
        Figure::Discount(code) => (
            accounts.discount.clone(),
            format!("Discounts / tax {}", code.as_deref().unwrap_or("(none)")),
        ),
        Figure::ServiceCharge => (accounts.service_charge.clone(), "Service charge".into()),
        Figure::Tips => (accounts.tips.clone(), "Tips".into()),
        Figure::Payment(method) => (
            accounts.payment.get(method).cloned().unwrap_or_default(),
            format!("Takings {method}"),
        ),
        Figure::Settlement(method) => (
            accounts.payment.get(method).cloned().unwrap_or_default(),
            format!("Settlements {method}: earlier days' sales on account paid"),
        ),
        Figure::Settled => (
            accounts
                .payment
                .get(ON_ACCOUNT)
                .cloned()
                .unwrap_or_default(),
            format!("Settlements {ON_ACCOUNT}: earlier days' sales paid off"),
        ),
    };
    (account, format!("{prefix}{label}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::matching::LineItemRef;
    use crate::money::Quantity;
    use crate::sales::{CanonicalLine, CanonicalPayment};
    use proptest::prelude::*;

    fn accounts() -> AccountMap {
        AccountMap {
            revenue: BTreeMap::from([
                ("food".into(), "4000".into()),
                ("drink".into(), "4010".into()),
            ]),
            default_revenue: Some("4090".into()),
            tax: BTreeMap::from([
                ("VAT20".into(), "2200".into()),
                ("ZERO".into(), "2201".into()),
            ]),
            payment: BTreeMap::from([
                ("CARD".into(), "1100".into()),
                ("CASH".into(), "1000".into()),
            ]),
            discount: "4900".into(),
            service_charge: "4100".into(),
            tips: "2300".into(),
            rounding: "6990".into(),
            refunds: Some("4800".into()),
        }
    }

    fn cents(c: i64) -> Money {
        Money(Decimal::new(c, 2))
    }

    fn line(group: &str, tax: &str, net: i64, tax_amount: i64, discount: i64) -> CanonicalLine {
        CanonicalLine {
            line_id: "1".into(),
            parent_line_id: None,
            item: LineItemRef {
                item_id: None,
                sku: None,
                name: "x".into(),
            },
            quantity: Quantity(Decimal::ONE),
            net: cents(net),
            gross: cents(net + tax_amount),
            tax: cents(tax_amount),
            discount: cents(discount),
            service_charge: Money::ZERO,
            tax_code: Some(tax.into()),
            accounting_group: Some(group.into()),
        }
    }

    fn payment(method: &str, amount: i64, tip: i64) -> CanonicalPayment {
        CanonicalPayment {
            method: method.into(),
            description: None,
            amount: cents(amount),
            tip: cents(tip),
            rounding: Money::ZERO,
            paid_at: None,
        }
    }

    fn sale(
        kind: SaleKind,
        lines: Vec<CanonicalLine>,
        payments: Vec<CanonicalPayment>,
    ) -> CanonicalSale {
        CanonicalSale {
            sale_id: "s".into(),
            receipt: None,
            kind,
            closed_at: chrono::DateTime::UNIX_EPOCH,
            original_sale_id: None,
            currency: Some("GBP".into()),
            lines,
            payments,
            register_id: None,
        }
    }

    /// The business day the sales of [`sale`] close in: [epoch, epoch + 1 day).
    fn today() -> Window {
        day_at(0)
    }

    /// The business day `n` days after [`today`].
    fn day_at(n: i64) -> Window {
        let start = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(n);
        Window {
            start,
            end: start + chrono::Duration::days(1),
        }
    }

    fn side(journal: &Journal, account: &str) -> (Money, Money) {
        let of = |f: fn(&JournalLine) -> Money| {
            Money::checked_sum(journal.lines.iter().filter(|l| l.account == account).map(f))
                .unwrap()
        };
        (of(|l| l.debit), of(|l| l.credit))
    }

    #[test]
    fn a_day_with_a_discount_a_tip_and_a_refund_balances_to_the_cent() {
        let day = vec![
            // £10.00 net food after £1.00 off, £2.00 VAT, paid £13.00 by card with £1.00 tip.
            sale(
                SaleKind::Sale,
                vec![line("food", "VAT20", 1000, 200, 100)],
                vec![payment("CARD", 1200, 100)],
            ),
            // A refund of a £5.00 drink with £1.00 VAT, in cash.
            sale(
                SaleKind::Refund,
                vec![line("drink", "VAT20", -500, -100, 0)],
                vec![payment("CASH", -600, 0)],
            ),
        ];
        let journal = build(&day, &today(), &accounts(), 2, cents(5)).unwrap();
        assert_eq!(journal.total_debit(), journal.total_credit());
        assert_eq!(
            side(&journal, "4000"),
            (Money::ZERO, cents(1100)),
            "revenue before discount"
        );
        assert_eq!(side(&journal, "4900"), (cents(100), Money::ZERO));
        assert_eq!(
            side(&journal, "2200"),
            (cents(100), cents(200)),
            "refund VAT apart"
        );
        assert_eq!(side(&journal, "2300"), (Money::ZERO, cents(100)));
        assert_eq!(side(&journal, "1100"), (cents(1300), Money::ZERO));
        assert_eq!(side(&journal, "1000"), (Money::ZERO, cents(600)));
        assert_eq!(
            side(&journal, "4800"),
            (cents(500), Money::ZERO),
            "refund account"
        );
        assert_eq!(journal.difference, Money::ZERO);
        assert!(!journal.lines.iter().any(|l| l.account == "6990"));
    }

    #[test]
    fn cash_rounding_lands_on_the_rounding_line_and_a_large_one_is_reported() {
        // £9.98 due, £10.00 taken in cash: 2p to rounding, credited.
        let day = vec![sale(
            SaleKind::Sale,
            vec![line("food", "ZERO", 998, 0, 0)],
            vec![payment("CASH", 1000, 0)],
        )];
        let journal = build(&day, &today(), &accounts(), 2, cents(5)).unwrap();
        assert_eq!(side(&journal, "6990"), (Money::ZERO, cents(2)));
        assert!(!journal.difference_above_threshold);
        let journal = build(&day, &today(), &accounts(), 2, cents(1)).unwrap();
        assert!(journal.difference_above_threshold);
    }

    #[test]
    fn unmapped_methods_and_taxes_block_the_day_and_are_named() {
        let day = vec![sale(
            SaleKind::Sale,
            vec![line("food", "VAT5", 100, 5, 0)],
            vec![payment("VOUCHER", 105, 0), payment("GIFT", 0, 0)],
        )];
        assert_eq!(
            build(&day, &today(), &accounts(), 2, cents(5)),
            Err(BuildError::PaymentMethodUnmapped(vec!["VOUCHER".into()])),
            "a zero payment needs no account"
        );
        let mut mapped = accounts();
        mapped.payment.insert("VOUCHER".into(), "1200".into());
        assert_eq!(
            build(&day, &today(), &mapped, 2, cents(5)),
            Err(BuildError::TaxUnmapped(vec!["VAT5".into()]))
        );
    }

    /// Accounts with the receivable mapped.
    fn with_receivable() -> AccountMap {
        let mut accounts = accounts();
        accounts.payment.insert(ON_ACCOUNT.into(), "1200".into());
        accounts
    }

    /// `closed_sale` of £20.00 food (+ £4.00 VAT) closed on day 0 at noon, on account:
    /// the payments given, then what is still owed (as the X-Series mapper adds it).
    fn on_account(payments: &[(&str, i64, Option<i64>)]) -> CanonicalSale {
        let noon = chrono::DateTime::UNIX_EPOCH + chrono::Duration::hours(12);
        let mut out: Vec<CanonicalPayment> = payments
            .iter()
            .map(|(method, amount, day)| CanonicalPayment {
                paid_at: day.map(|d| noon + chrono::Duration::days(d)),
                ..payment(method, *amount, 0)
            })
            .collect();
        let paid: i64 = payments.iter().map(|(_, amount, _)| amount).sum();
        if paid < 2400 {
            out.push(payment(ON_ACCOUNT, 2400 - paid, 0));
        }
        CanonicalSale {
            closed_at: noon,
            ..sale(
                SaleKind::Sale,
                vec![line("food", "VAT20", 2000, 400, 0)],
                out,
            )
        }
    }

    #[test]
    fn an_on_account_sale_books_the_receivable_on_its_day_whenever_it_is_paid() {
        // Unpaid at the end of its day: the whole sale is owed. Paid in cash on day 3:
        // the sale's day reads the same, payment or not.
        let unpaid = build(
            &[on_account(&[])],
            &today(),
            &with_receivable(),
            2,
            cents(5),
        );
        let paid_later = build(
            &[on_account(&[("CASH", 2400, Some(3))])],
            &today(),
            &with_receivable(),
            2,
            cents(5),
        );
        let journal = unpaid.unwrap();
        assert_eq!(
            paid_later.unwrap(),
            journal,
            "a later payment leaves the day alone"
        );
        assert_eq!(side(&journal, "1200"), (cents(2400), Money::ZERO));
        assert_eq!(side(&journal, "1000"), (Money::ZERO, Money::ZERO));
        assert_eq!(side(&journal, "4000"), (Money::ZERO, cents(2000)));
        assert_eq!(side(&journal, "2200"), (Money::ZERO, cents(400)));
        assert_eq!(journal.total_debit(), journal.total_credit());
        assert_eq!(journal.difference, Money::ZERO);
    }

    #[test]
    fn the_payment_day_settles_the_receivable_and_books_no_sale() {
        let sales = [on_account(&[("CASH", 2400, Some(3))])];
        let journal = build(&sales, &day_at(3), &with_receivable(), 2, cents(5)).unwrap();
        assert_eq!(side(&journal, "1000"), (cents(2400), Money::ZERO));
        assert_eq!(side(&journal, "1200"), (Money::ZERO, cents(2400)));
        assert_eq!(journal.lines.len(), 2, "{:?}", journal.lines);
        assert!(journal
            .lines
            .iter()
            .all(|l| l.label.starts_with("Settlements")));
        assert_eq!(journal.total_debit(), journal.total_credit());
        assert_eq!(journal.difference, Money::ZERO);
        // Days between, and the sale's own day for the payment, settle nothing; a day
        // before the sale closed books nothing of it.
        for day in [day_at(1), day_at(2), day_at(4), day_at(-1)] {
            let journal = build(&sales, &day, &with_receivable(), 2, cents(5)).unwrap();
            assert!(journal.lines.is_empty(), "{day:?}: {:?}", journal.lines);
        }
        // The receivable must be mapped for a settlement too.
        assert_eq!(
            build(&sales, &day_at(3), &accounts(), 2, cents(5)),
            Err(BuildError::PaymentMethodUnmapped(vec![ON_ACCOUNT.into()]))
        );
    }

    #[test]
    fn a_part_paid_on_the_sale_day_and_the_rest_later_books_each_where_it_was_paid() {
        // £5.00 card at the till, £10.00 cash on day 2, £9.00 still owed.
        let sales = [on_account(&[
            ("CARD", 500, Some(0)),
            ("CASH", 1000, Some(2)),
        ])];
        let sale_day = build(&sales, &today(), &with_receivable(), 2, cents(5)).unwrap();
        assert_eq!(side(&sale_day, "1100"), (cents(500), Money::ZERO));
        assert_eq!(
            side(&sale_day, "1200"),
            (cents(1900), Money::ZERO),
            "owed at the day's end: £9.00 still owed + £10.00 paid later"
        );
        assert_eq!(side(&sale_day, "1000"), (Money::ZERO, Money::ZERO));
        assert_eq!(sale_day.total_debit(), sale_day.total_credit());
        let paid_day = build(&sales, &day_at(2), &with_receivable(), 2, cents(5)).unwrap();
        assert_eq!(side(&paid_day, "1000"), (cents(1000), Money::ZERO));
        assert_eq!(side(&paid_day, "1200"), (Money::ZERO, cents(1000)));
        // Across the days the receivable holds what is still owed.
        let (debit, _) = side(&sale_day, "1200");
        let (_, credit) = side(&paid_day, "1200");
        assert_eq!(debit.checked_sub(credit), Some(cents(900)));
    }

    #[test]
    fn a_sale_voided_after_a_later_payment_leaves_neither_day_anything() {
        // A void deletes the payments and moves no stock or money: re-built, the sale's day
        // and the payment's day both drop it (the days are re-posted as reversals).
        let mut voided = on_account(&[("CASH", 2400, Some(3))]);
        voided.kind = SaleKind::Void;
        voided.payments.clear();
        for day in [today(), day_at(3)] {
            let journal = build(
                std::slice::from_ref(&voided),
                &day,
                &with_receivable(),
                2,
                cents(5),
            )
            .unwrap();
            assert!(journal.lines.is_empty(), "{day:?}: {:?}", journal.lines);
        }
        // Even as the mapper keeps it, with a payment still listed, a void books nothing.
        let mut listed = on_account(&[("CASH", 2400, Some(3))]);
        listed.kind = SaleKind::Void;
        let journal = build(&[listed], &day_at(3), &with_receivable(), 2, cents(5)).unwrap();
        assert!(journal.lines.is_empty());
    }

    #[test]
    fn a_refund_paid_back_later_settles_with_the_opposite_signs() {
        // A refund on account (negative), the money given back in cash on day 1.
        let mut refund = on_account(&[]);
        refund.kind = SaleKind::Refund;
        refund.lines = vec![line("food", "VAT20", -2000, -400, 0)];
        refund.payments = vec![CanonicalPayment {
            paid_at: Some(refund.closed_at + chrono::Duration::days(1)),
            ..payment("CASH", -2400, 0)
        }];
        let sale_day = build(
            std::slice::from_ref(&refund),
            &today(),
            &with_receivable(),
            2,
            cents(5),
        )
        .unwrap();
        assert_eq!(side(&sale_day, "1200"), (Money::ZERO, cents(2400)));
        let paid_day = build(&[refund], &day_at(1), &with_receivable(), 2, cents(5)).unwrap();
        assert_eq!(side(&paid_day, "1000"), (Money::ZERO, cents(2400)));
        assert_eq!(side(&paid_day, "1200"), (cents(2400), Money::ZERO));
        assert_eq!(paid_day.total_debit(), paid_day.total_credit());
    }

    proptest! {
        /// Random days of sales and refunds: debits equal credits, tax per code and takings
        /// per method equal their sums, and the rounding line equals the cash rounding the
        /// day was generated with (all figures whole cents, so nothing else can differ).
        #[test]
        fn random_days_balance_and_match_their_figures(
            sales in proptest::collection::vec((
                any::<bool>(),
                proptest::collection::vec((0usize..2, 0usize..2, 1i64..50_000, 0i64..2_000, 0i64..1_000), 1..6),
                0usize..2, 0i64..500, -4i64..5,
            ), 1..30),
        ) {
            let groups = ["food", "drink"];
            let taxes = [("VAT20", 20i64), ("ZERO", 0)];
            let methods = ["CARD", "CASH"];
            let mut day = Vec::new();
            let mut want_tax: BTreeMap<&str, i64> = BTreeMap::new();
            let mut want_takings: BTreeMap<&str, i64> = BTreeMap::new();
            let mut want_rounding = 0i64;
            for (refund, lines, method, tip, cash_rounding) in &sales {
                let sign = if *refund { -1 } else { 1 };
                let mut due = 0i64;
                let mut canonical = Vec::new();
                for (g, t, net, _, discount) in lines {
                    let (code, rate) = taxes[*t];
                    let tax = net * rate / 100;
                    due += net + tax;
                    *want_tax.entry(code).or_default() += sign * tax;
                    canonical.push(line(groups[*g], code, sign * net, sign * tax, sign * discount));
                }
                let paid = due + tip + cash_rounding;
                *want_takings.entry(methods[*method]).or_default() += sign * paid;
                want_rounding += sign * cash_rounding;
                let kind = if *refund { SaleKind::Refund } else { SaleKind::Sale };
                let amount = sign * (paid - tip);
                day.push(sale(kind, canonical, vec![payment(methods[*method], amount, sign * tip)]));
            }
            let journal = build(&day, &today(), &accounts(), 2, cents(1_000_000)).unwrap();
            prop_assert_eq!(journal.total_debit(), journal.total_credit());
            for (code, want) in want_tax {
                let account = &accounts().tax[code];
                let (debit, credit) = side(&journal, account);
                prop_assert_eq!(credit.checked_sub(debit).unwrap(), cents(want), "tax {}", code);
            }
            for (method, want) in want_takings {
                let account = &accounts().payment[method];
                let (debit, credit) = side(&journal, account);
                prop_assert_eq!(debit.checked_sub(credit).unwrap(), cents(want), "takings {}", method);
            }
            prop_assert_eq!(journal.difference, cents(want_rounding));
        }
    }
}
