//! Item mappings (SPEC C4): which ingredient or recipe a sold item consumes.

pub mod matching;
pub mod record;
pub mod setup;
