//! The admin API's HTTP layer (SPEC C11): the axum router, its routes, request parsing and
//! the OpenAPI document. A crate of its own so that its many route handlers are built for
//! size (see the release profile in the workspace's Cargo.toml) while the library's domain
//! code keeps opt-level 3.

pub mod auth;
pub mod body;
pub mod bounds;
pub mod extract;
pub mod openapi;
pub mod pagination;
pub mod router;
pub mod routes;

pub use router::{handle, router, AdminApi};
