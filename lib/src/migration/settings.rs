//! Migration tuning read from the function environment.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::config::{ConfigError, WholeNumberSetting};

/// Days of one integration worked on at once; more lanes than the maximum would only queue
/// up behind Lightspeed's rate limit.
pub const LANES_PER_INTEGRATION: WholeNumberSetting = WholeNumberSetting {
    var: "MIGRATION_LANES_PER_INTEGRATION",
    default: 2,
    min: 1,
    max: 10,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSettings {
    /// Days of one integration worked on at once. Each lane is a FIFO message group, so the
    /// queue itself enforces the bound across every worker and every location of the
    /// integration, while other integrations' lanes run alongside.
    pub lanes_per_integration: u32,
}

impl Default for MigrationSettings {
    fn default() -> Self {
        Self {
            lanes_per_integration: LANES_PER_INTEGRATION.default,
        }
    }
}

impl MigrationSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Ok(Self {
            lanes_per_integration: LANES_PER_INTEGRATION.read(vars)?,
        })
    }

    /// The message group of a day: consecutive dates take turns over the lanes, and a day
    /// queued again keeps its lane.
    pub fn group_id(&self, company_id: &str, date: NaiveDate) -> String {
        let ordinal = date.num_days_from_ce().unsigned_abs();
        format!(
            "{company_id}.lane{}",
            ordinal % self.lanes_per_integration.max(1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(value: &str) -> HashMap<String, String> {
        [(LANES_PER_INTEGRATION.var.to_string(), value.to_string())].into()
    }

    #[test]
    fn lanes_default_to_two_and_reject_what_is_not_1_to_10() {
        assert_eq!(
            MigrationSettings::from_vars(&HashMap::new())
                .unwrap()
                .lanes_per_integration,
            2
        );
        assert_eq!(
            MigrationSettings::from_vars(&vars(" 4 "))
                .unwrap()
                .lanes_per_integration,
            4
        );
        for bad in ["0", "11", "two", "-1", "1.5"] {
            let err = MigrationSettings::from_vars(&vars(bad)).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name, .. } if *name == LANES_PER_INTEGRATION.var),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn consecutive_days_take_turns_over_the_lanes_of_their_integration() {
        let settings = MigrationSettings {
            lanes_per_integration: 3,
        };
        let start = NaiveDate::from_ymd_opt(2026, 2, 27).unwrap();
        let groups: Vec<String> = (0..6)
            .map(|n| settings.group_id("co1", start + chrono::Days::new(n)))
            .collect();
        // Every lane used twice, never the same lane for neighbours, same lane every 3 days.
        let mut distinct = groups.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{groups:?}");
        for n in 0..5 {
            assert_ne!(groups[n], groups[n + 1]);
        }
        for n in 0..3 {
            assert_eq!(groups[n], groups[n + 3]);
        }
        assert!(groups.iter().all(|g| g.starts_with("co1.lane")));
        assert_ne!(
            settings.group_id("co2", start),
            settings.group_id("co1", start),
            "integrations never share a lane"
        );
    }
}
