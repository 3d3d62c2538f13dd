//! A journal in the location's currency as lines in the ERP company's currency (pure), for
//! a location whose mapping says `convert`: each line keeps its own amount as
//! `amount_currency` and carries the company amount at the ERP's rate for the date
//! (Odoo's rate: units of the foreign currency per unit of the company's), rounded
//! half-even to the company currency's minor unit. What that rounding leaves between
//! debits and credits goes to one explicit line on the rounding account, so the move
//! still balances to the cent.

use rust_decimal::{Decimal, RoundingStrategy};

use super::builder::{balancing, Journal};
use crate::erp::MoveLine;
use crate::money::{Money, OutOfRange};

pub const CURRENCY_ROUNDING_LABEL: &str = "Currency conversion rounding";

/// The journal's lines in the company currency. `rate` must be positive.
pub fn to_company_currency(
    journal: &Journal,
    rate: Decimal,
    company_minor_units: u32,
    rounding_account: &str,
) -> Result<Vec<MoveLine>, OutOfRange> {
    if rate <= Decimal::ZERO {
        return Err(OutOfRange(format!("the ERP's rate {rate} is not positive")));
    }
    let convert = |amount: Money| -> Result<Money, OutOfRange> {
        amount
            .value()
            .checked_div(rate)
            .map(|v| {
                Money(v.round_dp_with_strategy(
                    company_minor_units,
                    RoundingStrategy::MidpointNearestEven,
                ))
            })
            .ok_or_else(|| OutOfRange::computing("a converted amount"))
    };
    let mut lines = Vec::with_capacity(journal.lines.len() + 1);
    for line in &journal.lines {
        let signed = line
            .debit
            .checked_sub(line.credit)
            .ok_or_else(|| OutOfRange::computing("a line amount"))?;
        lines.push(MoveLine {
            account: line.account.clone(),
            label: line.label.clone(),
            debit: convert(line.debit)?,
            credit: convert(line.credit)?,
            amount_currency: Some(signed),
        });
    }
    let sum = |side: fn(&MoveLine) -> Money| {
        Money::checked_sum(lines.iter().map(side))
            .ok_or_else(|| OutOfRange::computing("the converted totals"))
    };
    let difference = sum(|l| l.debit)?
        .checked_sub(sum(|l| l.credit)?)
        .ok_or_else(|| OutOfRange::computing("the converted totals"))?;
    if !difference.is_zero() {
        let (debit, credit) = balancing(difference);
        lines.push(MoveLine {
            account: rounding_account.to_string(),
            label: CURRENCY_ROUNDING_LABEL.into(),
            debit,
            credit,
            amount_currency: Some(Money::ZERO),
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalLine;
    use proptest::prelude::*;

    fn line(account: &str, debit: i64, credit: i64) -> JournalLine {
        JournalLine {
            account: account.into(),
            label: account.into(),
            debit: Money(Decimal::new(debit, 2)),
            credit: Money(Decimal::new(credit, 2)),
            tax_code: None,
        }
    }

    fn journal(lines: Vec<JournalLine>) -> Journal {
        Journal {
            lines,
            difference: Money::ZERO,
            difference_above_threshold: false,
        }
    }

    #[test]
    fn nzd_at_2_14_per_pound_becomes_pounds_with_a_rounding_line() {
        // NZ$10.00 cash = NZ$3.33 + 3.33 + 3.34 revenue.
        let day = journal(vec![
            line("101501", 1000, 0),
            line("400000", 0, 333),
            line("400000", 0, 333),
            line("251000", 0, 334),
        ]);
        let lines = to_company_currency(&day, Decimal::new(214, 2), 2, "643000").unwrap();
        // 10.00 / 2.14 = 4.6729 → 4.67; 3.33 / 2.14 = 1.5560 → 1.56; 3.34 / 2.14 = 1.5607 → 1.56.
        assert_eq!(lines[0].debit, Money(Decimal::new(467, 2)));
        assert_eq!(lines[1].credit, Money(Decimal::new(156, 2)));
        assert_eq!(lines[3].credit, Money(Decimal::new(156, 2)));
        assert_eq!(lines[0].amount_currency, Some(Money(Decimal::new(1000, 2))));
        assert_eq!(lines[1].amount_currency, Some(Money(Decimal::new(-333, 2))));
        // 4.67 against 4.68: one penny of conversion rounding on the debit side.
        let last = lines.last().unwrap();
        assert_eq!(last.label, CURRENCY_ROUNDING_LABEL);
        assert_eq!(last.debit, Money(Decimal::new(1, 2)));
        assert!(to_company_currency(&day, Decimal::ZERO, 2, "643000").is_err());
    }

    proptest! {
        #[test]
        fn converted_lines_balance_and_keep_their_own_amounts(
            amounts in proptest::collection::vec(1i64..10_000_000, 1..30),
            rate in 1i64..100_000,
        ) {
            let total: i64 = amounts.iter().sum();
            let mut lines = vec![line("cash", total, 0)];
            lines.extend(amounts.iter().map(|a| line("rev", 0, *a)));
            let out = to_company_currency(&journal(lines), Decimal::new(rate, 4), 2, "round").unwrap();
            let debit: Decimal = out.iter().map(|l| l.debit.value()).sum();
            let credit: Decimal = out.iter().map(|l| l.credit.value()).sum();
            prop_assert_eq!(debit, credit);
            let foreign: Decimal = out.iter().filter_map(|l| l.amount_currency).map(|m| m.value()).sum();
            prop_assert_eq!(foreign, Decimal::ZERO);
        }
    }
}
