//! Locations (SPEC C3): the record, Lightspeed sync, and business days in each location's
//! own time zone.

pub mod business_day;
pub mod record;
pub mod setup;
pub mod sync;

pub use record::{Location, UpstreamLocation};
