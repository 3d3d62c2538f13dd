//! Journals (SPEC C9): a location's business day of sales as one balanced journal
//! ([`builder`], pure), kept per revision ([`record`]) and posted exactly once into the
//! ERP through the `Erp` port ([`post`]), queued by completed transfers ([`request`]).

pub mod builder;
pub mod convert;
pub mod post;
pub mod record;
pub mod request;

pub use builder::{build, AccountMap, BuildError, Journal, JournalLine};

#[cfg(test)]
mod post_tests;
