//! X-Series webhooks (SPEC C8): the signature check ([`signature`]) and the receipt that
//! turns a delivery into a sales-events message ([`receipt`]).

pub mod closures;
pub mod events;
pub mod receipt;
pub mod signature;
pub mod subscriptions;
