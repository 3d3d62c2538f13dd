//! Reconciliation (SPEC C10): per location and business date, Lightspeed's own figures
//! against the ledger's cached sales, the ledger against what the mappings imply, and the
//! journal against what the ERP holds; every difference a named exception and an alert.

pub mod compare;
pub mod day;
pub mod erp_readback;
pub mod report;
pub mod run;
