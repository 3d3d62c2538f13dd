//! Connecting a company to Lightspeed (SPEC C1): OAuth state, the integration record,
//! the token vault and rotation-safe refresh.

pub mod disconnect;
pub mod flow;
pub mod integration;
pub mod product;
pub mod source;
pub mod state;

pub use integration::{Integration, IntegrationStatus};
pub use product::PosProduct;
