//! Transfer tuning read from the function environment (the template sets production values;
//! the local stack shortens the retry delays so tests see every retry in seconds).

use std::collections::HashMap;
use std::time::Duration;

pub mod env {
    pub const RETRY_DELAYS: &str = "TRANSFER_RETRY_DELAYS";
    pub const LEASE_SECONDS: &str = "TRANSFER_LEASE_SECONDS";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSettings {
    /// Delay before retry n (SPEC C5: 30 s, 60 s, 120 s); its length is the retry budget.
    pub retry_delays: Vec<Duration>,
    /// How long a worker holds a location-day before another may take it over.
    pub lease: Duration,
    /// How long a worker waits for a busy location-day before handing the message back.
    pub lease_wait: Duration,
}

impl Default for TransferSettings {
    fn default() -> Self {
        Self {
            retry_delays: [30, 60, 120].map(Duration::from_secs).to_vec(),
            lease: Duration::from_secs(300),
            lease_wait: Duration::from_secs(20),
        }
    }
}

impl TransferSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let mut settings = Self::default();
        if let Some(delays) = vars.get(env::RETRY_DELAYS) {
            let parsed: Option<Vec<Duration>> = delays
                .split(',')
                .map(|d| d.trim().parse::<u64>().ok().filter(|s| *s <= 900))
                .map(|d| d.map(Duration::from_secs))
                .collect();
            match parsed {
                Some(list) if !list.is_empty() => settings.retry_delays = list,
                _ => tracing::warn!(value = %delays, "ignoring malformed {}", env::RETRY_DELAYS),
            }
        }
        if let Some(secs) = vars
            .get(env::LEASE_SECONDS)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
        {
            settings.lease = Duration::from_secs(secs);
        }
        settings
    }

    pub fn max_retries(&self) -> u32 {
        self.retry_delays.len() as u32
    }

    /// The delay before attempt `attempt + 1`, at least what Lightspeed asked for (SQS caps
    /// delays at 900 s); `None` when the retries are used up.
    pub fn delay_after(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let planned = *self.retry_delays.get(attempt.checked_sub(1)? as usize)?;
        Some(
            planned
                .max(retry_after.unwrap_or_default())
                .min(Duration::from_secs(900)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retries_at_30_60_120_unless_lightspeed_asks_for_longer() {
        let s = TransferSettings::default();
        let secs = |a, r: Option<u64>| {
            s.delay_after(a, r.map(Duration::from_secs))
                .map(|d| d.as_secs())
        };
        assert_eq!(secs(1, None), Some(30));
        assert_eq!(secs(2, None), Some(60));
        assert_eq!(secs(3, None), Some(120));
        assert_eq!(secs(4, None), None);
        assert_eq!(secs(1, Some(5)), Some(30));
        assert_eq!(secs(1, Some(90)), Some(90));
        assert_eq!(secs(3, Some(5000)), Some(900));
        assert_eq!(secs(0, None), None);
    }

    #[test]
    fn delays_come_from_the_environment_when_well_formed() {
        let vars = |v: &str| HashMap::from([(env::RETRY_DELAYS.to_string(), v.to_string())]);
        assert_eq!(
            TransferSettings::from_vars(&vars("1, 2,3")).retry_delays,
            [1, 2, 3].map(Duration::from_secs).to_vec()
        );
        for bad in ["", "a,b", "1,,2", "1000"] {
            assert_eq!(
                TransferSettings::from_vars(&vars(bad)),
                TransferSettings::default(),
                "{bad}"
            );
        }
    }
}
