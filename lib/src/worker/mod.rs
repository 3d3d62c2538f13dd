//! Queue consumers: per-record parsing and partial batch responses.

pub mod batch;

pub use batch::{process_batch, RecordOutcome};
