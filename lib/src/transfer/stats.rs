//! The statistics a transfer reports (SPEC C5 `stats`), stored on its log.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ledger::derive::{DerivedStats, SkipReason};
use crate::money::Quantity;

/// What was fetched or reused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiResponseSummary {
    /// `lightspeed` or `cache`.
    pub source: String,
    pub window_start: String,
    pub window_end: String,
    pub fetched_at: String,
    pub pages: u32,
    pub requests: u32,
    pub sales: usize,
    pub lines: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedName {
    pub name: String,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStats {
    pub sales_count: usize,
    pub lines_processed: usize,
    pub lines_skipped: usize,
    pub ledger_entries_created: usize,
    pub exceptions: Vec<String>,
    pub used_cache: bool,
    /// Nothing new was needed: every line that feeds the ledger was already posted.
    pub idempotent: bool,
    pub recipes_used: BTreeMap<String, usize>,
    pub unmapped_names: Vec<String>,
    pub api_response_summary: ApiResponseSummary,
    /// Beyond the baseline: why lines were skipped, unmapped quantities (largest first),
    /// and the line × ingredient quantities computed.
    pub skipped_by_reason: BTreeMap<SkipReason, usize>,
    pub unmapped: Vec<UnmappedName>,
    pub deductions: usize,
}

impl TransferStats {
    pub fn new(
        derived: &DerivedStats,
        created: usize,
        used_cache: bool,
        api: ApiResponseSummary,
    ) -> Self {
        let unmapped: Vec<UnmappedName> = derived
            .unmapped_ranked()
            .into_iter()
            .map(|(name, quantity)| UnmappedName { name, quantity })
            .collect();
        Self {
            sales_count: derived.sales_count,
            lines_processed: derived.lines_processed,
            lines_skipped: derived.lines_skipped,
            ledger_entries_created: created,
            exceptions: derived.exceptions.clone(),
            used_cache,
            idempotent: created == 0 && derived.lines_processed == 0,
            recipes_used: derived.recipes_used.clone(),
            unmapped_names: unmapped.iter().map(|u| u.name.clone()).collect(),
            api_response_summary: api,
            skipped_by_reason: derived.skipped.clone(),
            unmapped,
            deductions: derived.deductions,
        }
    }
}
