//! An in-process simulator of Odoo's accounting API for tillbridge's tests and demo: the
//! JSON-RPC `/jsonrpc` transport (Odoo 18 and 19) and JSON-2 `/json/2/<model>/<method>`
//! (Odoo 19), with Odoo's own answer shapes, errors and traps (automatic balancing line,
//! lock dates, duplicate references, 5xx faults, slow answers), driven by a control API
//! under `/_sim/odoo/`. The facts it reproduces are in `reference/odoo-api.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), odoo_sim::OdooSimError> {
//! let odoo = odoo_sim::RunningOdoo::start(odoo_sim::OdooConfig::default()).await?;
//! println!("{} db={} login={} key={}", odoo.base_url(), odoo.db(), odoo.login(), odoo.api_key());
//! # Ok(()) }
//! ```

// Handlers return early with a ready `Response` as the error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod control;
pub mod domain;
pub mod error;
pub mod orm;
pub mod server;
pub mod store;
pub mod traps;

pub use config::{OdooConfig, OdooVersion};
pub use orm::BalancingMode;
pub use server::{AppState, OdooSimError, RunningOdoo};
pub use traps::{FaultMode, FaultRule};
