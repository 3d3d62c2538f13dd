//! Fan-out tuning read from the function environment.

use std::collections::HashMap;

use chrono::Duration;

use crate::config::{ConfigError, WholeNumberSetting};

/// How many days before a just-closed day are re-checked (SPEC C6). Each re-check is a
/// Lightspeed fetch per location, so the knob is bounded.
pub const RECHECK_DAYS: WholeNumberSetting = WholeNumberSetting {
    var: "RECHECK_DAYS",
    default: 3,
    min: 0,
    max: 31,
};

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
            recheck_days: RECHECK_DAYS.default,
            look_back: Duration::hours(1),
        }
    }
}

impl FanoutSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Ok(Self {
            recheck_days: RECHECK_DAYS.read(vars)?,
            ..Self::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(value: Option<&str>) -> HashMap<String, String> {
        value
            .map(|v| (RECHECK_DAYS.var.to_string(), v.to_string()))
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
