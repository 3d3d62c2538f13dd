//! Reading a posted journal back from the ERP: is the move still there, posted, and does it
//! hold the lines tillbridge sent? One ERP session per ERP company for a whole run.

use std::collections::HashMap;

use secrecy::SecretString;

use crate::erp::connection::{self as erp_connection, ErpConnector};
use crate::erp::{self, Erp, MoveState};
use crate::error::{AppError, ErrorCode};
use crate::journal::record::JournalRecord;
use crate::money::Money;
use crate::secrets::SecretVault;
use crate::store::ItemStore;

/// What the ERP holds for a posted journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// Posted with the lines that were sent.
    Matches,
    /// No posted move carries the reference (deleted, cancelled or reset to draft).
    Missing,
    /// Posted, but with other lines (an automatic balancing line, edited amounts).
    Differs(String),
}

pub struct ErpReader<'a> {
    pub store: &'a dyn ItemStore,
    pub connector: &'a dyn ErpConnector,
    pub vault: &'a dyn SecretVault,
    pub secret_prefix: &'a str,
    sessions: HashMap<(String, Option<i64>), Box<dyn Erp>>,
}

impl<'a> ErpReader<'a> {
    pub fn new(
        store: &'a dyn ItemStore,
        connector: &'a dyn ErpConnector,
        vault: &'a dyn SecretVault,
        secret_prefix: &'a str,
    ) -> Self {
        Self {
            store,
            connector,
            vault,
            secret_prefix,
            sessions: HashMap::new(),
        }
    }

    async fn session(&mut self, record: &JournalRecord) -> Result<&dyn Erp, AppError> {
        let key = (record.company_id.clone(), record.erp_company_id);
        if !self.sessions.contains_key(&key) {
            let connection = erp_connection::require(self.store, &record.company_id).await?;
            let api_key = self
                .vault
                .get(&erp_connection::secret_id(
                    self.secret_prefix,
                    &record.company_id,
                ))
                .await?;
            let session = self
                .connector
                .open(
                    &connection,
                    SecretString::from(api_key),
                    record.erp_company_id,
                )
                .await
                .map_err(unavailable)?;
            self.sessions.insert(key.clone(), session);
        }
        self.sessions
            .get(&key)
            .map(|s| s.as_ref())
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "ERP session not kept"))
    }

    /// Reads the record's move back by its reference.
    pub async fn check(&mut self, record: &JournalRecord) -> Result<Held, AppError> {
        let erp = self.session(record).await?;
        let found = erp
            .find(&record.journal, &record.reference)
            .await
            .map_err(unavailable)?;
        let Some(held) = found.into_iter().find(|m| m.state == MoveState::Posted) else {
            return Ok(Held::Missing);
        };
        if let Some(line) = held
            .lines
            .iter()
            .find(|l| l.label.contains(erp::AUTOMATIC_BALANCING_LABEL))
        {
            return Ok(Held::Differs(format!(
                "the ERP added `{}` of {} / {}",
                line.label, line.debit, line.credit
            )));
        }
        let debit = Money::checked_sum(held.lines.iter().map(|l| l.debit));
        let credit = Money::checked_sum(held.lines.iter().map(|l| l.credit));
        let (Some(debit), Some(credit)) = (debit, credit) else {
            return Ok(Held::Differs(
                "the move's totals are beyond the exact decimal range".into(),
            ));
        };
        if debit != credit {
            return Ok(Held::Differs(format!(
                "the move holds debits of {debit} and credits of {credit}"
            )));
        }
        // Lines in the location's currency compare one to one; a converted journal was
        // checked line by line when posted, so its totals are what can be compared here.
        if record.conversion.is_none() {
            let mut sent: Vec<_> = record.lines.iter().map(|l| (l.debit, l.credit)).collect();
            let mut kept: Vec<_> = held.lines.iter().map(|l| (l.debit, l.credit)).collect();
            sent.sort();
            kept.sort();
            if sent != kept {
                return Ok(Held::Differs(format!(
                    "the move holds {} lines totalling {debit}; {} were sent totalling {}",
                    held.lines.len(),
                    record.lines.len(),
                    record.total_debit
                )));
            }
        }
        Ok(Held::Matches)
    }
}

fn unavailable(err: erp::ErpError) -> AppError {
    AppError::new(
        ErrorCode::ErpUnavailable,
        format!("the ERP could not be read back: {err}"),
    )
}
