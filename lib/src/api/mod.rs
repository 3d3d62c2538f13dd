//! The admin API (SPEC C11): request parsing, the error envelope, the router and routes.

pub mod auth;
pub mod body;
pub mod bounds;
pub mod envelope;
pub mod extract;
pub mod openapi;
pub mod pagination;
pub mod router;
pub mod routes;

pub use router::{handle, router, AdminApi};
