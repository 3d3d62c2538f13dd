//! The 90-day migration of a location (SPEC C7): a job of one item per business day,
//! processed one day per queue message by the migration worker through the transfer engine.
//!
//! `job`: records, keys and the pure progress rule; `start`: creating, re-running and
//! cancelling jobs; `enqueue`: days onto the queue in their lanes; `update`: writing a job
//! under its version; `day`: the worker's use case for one day; `maintenance`: the scheduled
//! recovery of stuck jobs and failed days; `settings`: the lanes that bound how many days of
//! one integration run at once.

pub mod day;
pub mod enqueue;
pub mod job;
pub mod maintenance;
pub mod settings;
pub mod start;
pub mod update;

pub use job::{DayMessage, DayStatus, JobStatus, MigrationDay, MigrationJob};
pub use settings::MigrationSettings;
