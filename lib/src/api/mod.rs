//! What the domain shares with the admin API (SPEC C11): the error envelope, which the other
//! HTTP functions answer with too, and the OpenAPI schemas the domain types name. The router
//! and routes are the `tillbridge-api` crate.

pub mod envelope;
pub mod openapi;
