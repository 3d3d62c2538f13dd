//! A deterministic, in-process simulator of the Lightspeed K-Series (restaurant) and X-Series
//! (retail) APIs, used by tillbridge's tests and demo. It speaks the wire shapes of
//! `reference/lightspeed-api.md`, generates realistic data from a seed, injects faults on
//! demand and reports ground-truth totals computed straight from its data.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lightspeed_sim::SimError> {
//! let sim = lightspeed_sim::Simulator::start(lightspeed_sim::SimConfig::default()).await?;
//! println!("{}", sim.base_url());
//! # Ok(()) }
//! ```

// Handlers return early with a ready `Response` as the error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod clock;
pub mod config;
pub mod control;
pub mod data;
pub mod faults;
pub mod ground_truth;
pub mod kseries;
pub mod money;
pub mod respond;
pub mod rng;
pub mod server;
pub mod tokens;
pub mod webhooks;
pub mod xseries;

pub use config::{
    ItemsShape, LastPageToken, OAuthClient, PaymentsMode, RefundSign, SimConfig, TokenLifetimes,
    WebhookPolicy, WireVariants,
};
pub use server::{AppState, RunningSimulator, SimError, Simulator};
