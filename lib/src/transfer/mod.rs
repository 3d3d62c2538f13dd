//! Transfer of one location and business date (SPEC C5): the queue message, the engine
//! that turns a day's sales into ledger entries, and the log of every attempt.
//!
//! `run` is the use case (log, retry, alert); `engine` does the work under the location-day
//! `lease`; `cache` keeps the day's sales and state, `patches` changes it sale by sale; `source` fetches sales.

pub mod cache;
pub mod engine;
pub mod lease;
pub mod location_stats;
pub mod log;
pub mod patches;
pub mod request;
pub mod run;
pub mod settings;
pub mod source;
pub mod stats;

pub use log::{TransferLog, TransferStatus};
pub use request::TransferRequest;
pub use settings::TransferSettings;
pub use stats::TransferStats;
