//! Fan-out tuning read from the function environment.

use std::collections::HashMap;

use chrono::Duration;

use crate::config::{whole_number_var, ConfigError};

pub mod env {
    /// How many days before a just-closed day are re-checked (SPEC C6, default 3).
    pub const RECHECK_DAYS: &str = "RECHECK_DAYS";
}

pub const DEFAULT_RECHECK_DAYS: u32 = 3;
/// Each re-check is a Lightspeed fetch per location, so the knob is bounded.
pub const MAX_RECHECK_DAYS: u32 = 31;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutSettings {
    /// Days D-1..D-N re-fetched with `force_refresh` when day D closes.
    pub recheck_days: u32,
    /// The run covers closings in (`now - look_back`, `now`]; one hour matches the hourly
    /// schedule, so consecutive runs tile time without gaps or double coverage.
    pub look_back: Duration,
}

impl Default for FanoutSettings {
    fn default() -> Self {
        Self {
            recheck_days: DEFAULT_RECHECK_DAYS,
            look_back: Duration::hours(1),
        }
    }
}

impl FanoutSettings {
    /// A bad value fails the function at init rather than silently re-checking a different
    /// number of days.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let recheck_days = whole_number_var(
            vars,
            env::RECHECK_DAYS,
            |n| n <= MAX_RECHECK_DAYS,
            &format!("a whole number of days from 0 to {MAX_RECHECK_DAYS}"),
        )?;
        Ok(Self {
            recheck_days: recheck_days.unwrap_or(DEFAULT_RECHECK_DAYS),
            ..Self::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(value: Option<&str>) -> HashMap<String, String> {
        value
            .map(|v| (env::RECHECK_DAYS.to_string(), v.to_string()))
            .into_iter()
            .collect()
    }

    #[test]
    fn recheck_days_default_to_three_and_accept_0_to_31() {
        assert_eq!(
            FanoutSettings::from_vars(&vars(None)).unwrap().recheck_days,
            3
        );
        assert_eq!(
            FanoutSettings::from_vars(&vars(Some(" ")))
                .unwrap()
                .recheck_days,
            3
        );
        assert_eq!(
            FanoutSettings::from_vars(&vars(Some("0")))
                .unwrap()
                .recheck_days,
            0
        );
        assert_eq!(
            FanoutSettings::from_vars(&vars(Some(" 7 ")))
                .unwrap()
                .recheck_days,
            7
        );
        assert_eq!(
            FanoutSettings::from_vars(&vars(None)).unwrap().look_back,
            Duration::hours(1)
        );
        for bad in ["-1", "three", "32", "2.5"] {
            assert!(
                matches!(
                    FanoutSettings::from_vars(&vars(Some(bad))),
                    Err(ConfigError::Invalid {
                        name: "RECHECK_DAYS",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
