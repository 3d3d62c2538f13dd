//! tillbridge's shared library: the pure domain core, the ports (narrow traits) it talks
//! through, their AWS adapters, and the use cases and handlers the Lambda functions call.

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod aws;
pub mod catalog;
pub mod config;
pub mod connection;
pub mod dead_letters;
pub mod deps;
pub mod erp;
pub mod error;
pub mod fanout;
pub mod handlers;
pub mod ids;
pub mod imports;
pub mod items;
pub mod journal;
pub mod ledger;
pub mod lightspeed;
pub mod location;
pub mod mapping;
pub mod metrics;
pub mod migration;
pub mod money;
pub mod queue;
pub mod random;
pub mod reconcile;
pub mod sales;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod transfer;
pub mod webhook;
pub mod worker;

pub use config::Config;
pub use deps::Deps;
pub use error::{AppError, ErrorCode};

// Re-exported so the function crates stay a thin `main` with one dependency.
pub use aws_lambda_events;
pub use lambda_http;
pub use lambda_runtime;
