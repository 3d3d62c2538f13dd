//! One handler per Lambda function. Each parses its event, calls one use case and maps
//! errors; the function crates' `main` only builds [`crate::Deps`] and runs these.

pub mod daily_fanout;
pub mod migration_worker;
pub mod oauth_callback;
pub mod pending;
pub mod reconcile;
pub mod transfer_worker;

pub use crate::api::handle as admin_api;

/// Current time as the RFC 3339 text stored on records. The domain core never reads the
/// clock; handlers pass this in.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
