//! Traps switched on through the control API: 5xx faults (with or without doing the work),
//! slow answers, and the call log.

use serde::{Deserialize, Serialize};

/// What an injected fault does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer the status without doing the work.
    #[default]
    Fail,
    /// Do the work (committed) and then answer the status, as a crash or a proxy timeout
    /// after the commit looks to a client.
    CommitThenFail,
}

/// One fault rule. It matches calls by model and method (`None` = any; the `common` service
/// counts as model `common`). It fires on every `every_nth` matching call, or with
/// probability `percent` from the seeded PRNG, or (neither given) on every matching call;
/// `remaining` caps how many times it fires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRule {
    pub model: Option<String>,
    pub method: Option<String>,
    pub mode: FaultMode,
    /// HTTP status answered (default 502).
    pub status: Option<u16>,
    pub every_nth: Option<u32>,
    pub percent: Option<f64>,
    pub remaining: Option<u32>,
    /// Matching calls seen so far (read-only).
    pub seen: u32,
    /// Times fired so far (read-only).
    pub fired: u32,
}

impl FaultRule {
    pub fn matches(&self, model: &str, method: &str) -> bool {
        self.model.as_deref().is_none_or(|m| m == model || m == "*")
            && self
                .method
                .as_deref()
                .is_none_or(|m| m == method || m == "*")
    }
}

/// A delay before every matching answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delay {
    pub ms: u64,
    pub model: Option<String>,
    pub method: Option<String>,
}

/// One call as the simulator saw it.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub seq: u64,
    pub transport: &'static str,
    pub model: String,
    pub method: String,
    /// `ok`, `error:<exception name>`, `fault:<status>` or `commit_then_fail:<status>`.
    pub outcome: String,
    pub status: u16,
}

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: f64) -> bool {
        if percent.is_nan() || percent <= 0.0 {
            return false;
        }
        (self.next_u64() % 10_000) < (percent * 100.0).round() as u64
    }
}

/// What to do with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Serve,
    Fail(u16),
    CommitThenFail(u16),
}

/// Decides a call against the rules (first matching rule that fires wins).
pub fn decide(rules: &mut [FaultRule], rng: &mut Rng, model: &str, method: &str) -> Decision {
    for rule in rules.iter_mut() {
        if !rule.matches(model, method) || rule.remaining == Some(0) {
            continue;
        }
        rule.seen += 1;
        let fire = match (rule.every_nth, rule.percent) {
            (Some(n), _) => n > 0 && rule.seen % n == 0,
            (None, Some(p)) => rng.percent(p),
            (None, None) => true,
        };
        if fire {
            rule.fired += 1;
            if let Some(r) = rule.remaining.as_mut() {
                *r -= 1;
            }
            let status = rule.status.unwrap_or(502);
            return match rule.mode {
                FaultMode::Fail => Decision::Fail(status),
                FaultMode::CommitThenFail => Decision::CommitThenFail(status),
            };
        }
    }
    Decision::Serve
}
