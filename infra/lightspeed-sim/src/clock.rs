//! The simulated clock. It stands still unless the control API moves it, so data and token
//! expiry are deterministic.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// A settable "now" shared by every endpoint.
#[derive(Debug)]
pub struct SimClock {
    now: Mutex<DateTime<Utc>>,
}

impl SimClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        SimClock {
            now: Mutex::new(now),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.now.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Sets the clock and returns the previous value.
    pub fn set(&self, to: DateTime<Utc>) -> DateTime<Utc> {
        let mut g = match self.now.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let old = *g;
        *g = to;
        old
    }
}
