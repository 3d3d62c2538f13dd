//! X-Series webhooks (SPEC C8): the signature check ([`signature`]), the receipt that
//! turns a delivery into a sales-events message ([`receipt`]), and the polling backstop
//! that catches what no webhook brought ([`backstop`]).

pub mod backstop;
pub mod closures;
pub mod events;
pub mod receipt;
pub mod signature;
pub mod subscriptions;
