//! X-Series rate limit: 300 × registers + 50 requests per sliding 5-minute window, counted per
//! application. Measured in real time (clients compare `Retry-After` dates with their own clock).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(300);

/// The documented budget for a store with `registers` registers.
pub fn limit_for(registers: usize) -> usize {
    300 * registers + 50
}

/// Outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed { limit: usize, remaining: usize },
    Limited { limit: usize, retry_after_secs: u64 },
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Every API request counted since start, limited or not (benchmarks read it).
    total: std::sync::atomic::AtomicU64,
}

impl RateLimiter {
    /// Counts a request for `app` unless the window is full.
    pub fn hit(&self, app: &str, limit: usize) -> RateDecision {
        self.total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        let mut g = match self.hits.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let q = g.entry(app.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= limit {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return RateDecision::Limited {
                limit,
                retry_after_secs: wait.as_secs().max(1),
            };
        }
        q.push_back(now);
        RateDecision::Allowed {
            limit,
            remaining: limit - q.len(),
        }
    }

    /// API requests seen since start.
    pub fn total(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn reset(&self) {
        match self.hits.lock() {
            Ok(mut g) => g.clear(),
            Err(p) => p.into_inner().clear(),
        }
    }
}
