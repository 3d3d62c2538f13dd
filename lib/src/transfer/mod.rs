//! Transfer of one location and business date (SPEC C5). This module holds the queue
//! message, the transfer log, and the worker's use case; the sales engine plugs in here.

pub mod log;
pub mod request;
pub mod run;

pub use log::{TransferLog, TransferStatus};
pub use request::TransferRequest;
