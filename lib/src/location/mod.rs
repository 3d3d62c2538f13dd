//! Locations (SPEC C3): business days in each location's own time zone.

pub mod business_day;
