//! Lightspeed access for everything that talks to it: where it lives (settings), the token
//! endpoints (oauth), the token vault, rotation-safe refresh and the authorised API client.

pub mod client;
pub mod error;
pub mod json;
pub mod lenient;
pub mod oauth;
pub mod refresh;
pub mod settings;
pub mod vault;

pub use client::{LightspeedClient, LightspeedParts};
pub use error::LightspeedError;
pub use settings::{AppKeys, LightspeedSettings};
