//! Journals (SPEC C9): a location's business day of sales as one balanced journal for the
//! ERP. Today the pure builder; posting through the `Erp` port follows.

pub mod builder;

pub use builder::{build, AccountMap, BuildError, Journal, JournalLine};
