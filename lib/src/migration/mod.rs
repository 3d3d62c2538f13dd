//! The 90-day migration of a location (SPEC C7): a job of one item per business day,
//! processed one day per queue message by the migration worker through the transfer engine.
//!
//! `job`: records, keys and the pure progress rule; `start`: creating, re-running and
//! cancelling jobs; `day`: the worker's use case for one day; `maintenance`: the scheduled
//! recovery of stuck jobs and failed days.

pub mod day;
pub mod job;
pub mod maintenance;
pub mod start;

pub use job::{DayMessage, DayStatus, JobStatus, MigrationDay, MigrationJob};
