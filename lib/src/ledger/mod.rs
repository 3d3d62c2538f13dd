//! The inventory ledger (SPEC C5). Entries are ISSUE (stock out) or REVERSAL (stock back),
//! one per storage unit, location, business day, ingredient, stream (sales or refunds) and
//! revision. `derive` computes them purely from a day's sales and what is already posted;
//! `entry` is the stored record and its keys; `query` serves the admin API.

pub mod derive;
#[cfg(test)]
mod derive_reference;
pub mod entry;
pub mod line_list;
pub mod query;

pub use entry::{EntryReason, EntryType, LedgerEntry, Stream};
