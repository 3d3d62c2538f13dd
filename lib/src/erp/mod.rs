//! The ERP port (SPEC C9): what posting a day's journal needs of any ERP, and the checks
//! that keep an ERP from changing a journal silently. Odoo's wire format is in [`odoo`].
//!
//! Posting is idempotent by the deterministic reference
//! `tillbridge:<location>:<date>:<revision>`: search before create, create a draft, read it
//! back and compare with what was sent, then post and read back again (a lock date moves
//! the date at post).

pub mod connection;
pub mod odoo;
pub mod odoo_client;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::journal::Journal;
use crate::money::Money;

/// The reference a day's journal carries in the ERP; nothing in Odoo makes `ref` unique,
/// so the search before create is what keeps it to one move.
pub fn reference(location_id: &str, business_date: &str, revision: u32) -> String {
    format!("tillbridge:{location_id}:{business_date}:{revision}")
}

/// One line as sent to the ERP, accounts by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveLine {
    pub account: String,
    pub label: String,
    /// In the ERP company's currency.
    pub debit: Money,
    pub credit: Money,
    /// The line in the move's own currency (signed: debit positive) when that is not the
    /// company's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_currency: Option<Money>,
}

/// A journal entry as sent to the ERP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub reference: String,
    pub date: String,
    pub journal: String,
    /// The lines' own currency when it is not the company's (their `amount_currency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub lines: Vec<MoveLine>,
}

impl Move {
    pub fn from_journal(
        reference: String,
        date: &str,
        journal_code: &str,
        journal: &Journal,
    ) -> Self {
        Move {
            reference,
            date: date.to_string(),
            journal: journal_code.to_string(),
            currency: None,
            lines: journal
                .lines
                .iter()
                .map(|l| MoveLine {
                    account: l.account.clone(),
                    label: l.label.clone(),
                    debit: l.debit,
                    credit: l.credit,
                    amount_currency: None,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveState {
    Draft,
    Posted,
    Cancelled,
}

/// A move as the ERP holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMove {
    pub id: i64,
    pub state: MoveState,
    /// The ERP's own number (`MISC/2026/11/0001`), once posted.
    pub name: Option<String>,
    pub date: String,
    pub lines: Vec<MoveLine>,
}

/// How the ERP changed what it was sent; never accepted silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// `journal_out_of_balance`: a line the ERP added (Odoo's "Automatic Balancing Line")
    /// or lines whose accounts or amounts differ from what was sent.
    #[error("the ERP holds other lines than were sent: {0}")]
    Lines(String),
    /// `journal_date_moved`: the ERP dated the move otherwise (a lock date moves it at post).
    #[error("the ERP dated the move {held} instead of {sent}")]
    Date { sent: String, held: String },
}

/// What Odoo names the line it adds to balance an entry silently.
pub const AUTOMATIC_BALANCING_LABEL: &str = "Automatic Balancing Line";

/// Compares a move read back with what was sent: the same date, and the same lines as a
/// multiset of (account, debit, credit) — labels may be translated, amounts may not move.
pub fn verify(sent: &Move, held: &StoredMove) -> Result<(), Mismatch> {
    if let Some(line) = held
        .lines
        .iter()
        .find(|l| l.label.contains(AUTOMATIC_BALANCING_LABEL))
    {
        return Err(Mismatch::Lines(format!(
            "the ERP added \"{}\" on account {} ({} / {})",
            line.label, line.account, line.debit, line.credit
        )));
    }
    // The foreign amount counts only where one was sent.
    let foreign = sent.currency.is_some();
    let key = |l: &MoveLine| {
        let amount_currency = if foreign { l.amount_currency } else { None };
        (l.account.clone(), l.debit, l.credit, amount_currency)
    };
    let mut want: Vec<_> = sent.lines.iter().map(key).collect();
    let mut have: Vec<_> = held.lines.iter().map(key).collect();
    want.sort();
    have.sort();
    if want != have {
        return Err(Mismatch::Lines(format!(
            "sent {} lines, the ERP holds {} that differ in accounts or amounts",
            want.len(),
            have.len()
        )));
    }
    if held.date != sent.date {
        return Err(Mismatch::Date {
            sent: sent.date.clone(),
            held: held.date.clone(),
        });
    }
    Ok(())
}

/// Why an ERP call failed, in the terms posting decides on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErpError {
    /// Worth retrying through the queue (5xx, timeouts, concurrency errors).
    #[error("the ERP is unavailable: {0}")]
    Unavailable(String),
    /// The credentials were refused.
    #[error("the ERP refused the credentials: {0}")]
    AccessDenied(String),
    /// The ERP refused the request as it is (e.g. "The entry is not balanced.").
    #[error("the ERP refused the request: {0}")]
    Rejected(String),
}

/// What posting needs of an ERP. Accounts and journals are named by code; the adapter
/// looks up its own ids.
#[async_trait]
pub trait Erp: Send + Sync {
    /// Moves (not cancelled) carrying `reference` in `journal`.
    async fn find(&self, journal: &str, reference: &str) -> Result<Vec<StoredMove>, ErpError>;
    /// Creates the move as a draft; its id.
    async fn create_draft(&self, draft: &Move) -> Result<i64, ErpError>;
    async fn post(&self, id: i64) -> Result<(), ErpError>;
    /// Removes a draft (one whose lines are not what is to be posted).
    async fn delete_draft(&self, id: i64) -> Result<(), ErpError>;
    async fn read(&self, id: i64) -> Result<StoredMove, ErpError>;
    /// The ISO code of the ERP company's currency.
    async fn company_currency(&self) -> Result<String, ErpError>;
    /// The ERP's rate of `currency` on `date` (units of it per unit of the company's
    /// currency), the newest on or before the date.
    async fn rate(&self, currency: &str, date: &str) -> Result<rust_decimal::Decimal, ErpError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(account: &str, label: &str, debit: i64, credit: i64) -> MoveLine {
        MoveLine {
            account: account.into(),
            label: label.into(),
            debit: Money(rust_decimal::Decimal::new(debit, 2)),
            credit: Money(rust_decimal::Decimal::new(credit, 2)),
            amount_currency: None,
        }
    }

    fn sent() -> Move {
        Move {
            reference: reference("loc-1", "2026-11-21", 0),
            date: "2026-11-21".into(),
            journal: "MISC".into(),
            currency: None,
            lines: vec![
                line("1000", "Takings CASH", 11500, 0),
                line("4000", "Revenue", 0, 10000),
                line("2200", "Tax VAT15", 0, 1500),
            ],
        }
    }

    fn held(lines: Vec<MoveLine>, date: &str) -> StoredMove {
        StoredMove {
            id: 7,
            state: MoveState::Draft,
            name: None,
            date: date.into(),
            lines,
        }
    }

    #[test]
    fn the_reference_names_location_date_and_revision() {
        assert_eq!(
            reference("loc-1", "2026-11-21", 2),
            "tillbridge:loc-1:2026-11-21:2"
        );
    }

    #[test]
    fn the_same_lines_in_any_order_and_wording_verify() {
        let mut lines = sent().lines;
        lines.reverse();
        lines[0].label = "TVA 15 %".into();
        assert_eq!(verify(&sent(), &held(lines, "2026-11-21")), Ok(()));
    }

    #[test]
    fn an_automatic_balancing_line_changed_amounts_or_a_moved_date_are_refused() {
        let mut with_balancing = sent().lines;
        with_balancing.push(line("101402", AUTOMATIC_BALANCING_LABEL, 1500, 0));
        assert!(matches!(
            verify(&sent(), &held(with_balancing, "2026-11-21")),
            Err(Mismatch::Lines(why)) if why.contains("101402")
        ));
        let mut changed = sent().lines;
        changed[2] = line("2200", "Tax VAT15", 0, 1499);
        assert!(matches!(
            verify(&sent(), &held(changed, "2026-11-21")),
            Err(Mismatch::Lines(_))
        ));
        assert_eq!(
            verify(&sent(), &held(sent().lines, "2026-12-01")),
            Err(Mismatch::Date {
                sent: "2026-11-21".into(),
                held: "2026-12-01".into()
            })
        );
    }
}
