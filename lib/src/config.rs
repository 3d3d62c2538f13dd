//! Typed configuration, read once from the environment in each function's `main`.

use std::collections::HashMap;

/// Names of the environment variables, shared with `template.yaml` and the local host.
pub mod env {
    pub const TABLE_NAME: &str = "TABLE_NAME";
    pub const TRANSFER_QUEUE_URL: &str = "TRANSFER_QUEUE_URL";
    pub const MIGRATION_QUEUE_URL: &str = "MIGRATION_QUEUE_URL";
    pub const SALES_EVENTS_QUEUE_URL: &str = "SALES_EVENTS_QUEUE_URL";
    pub const JOURNAL_QUEUE_URL: &str = "JOURNAL_QUEUE_URL";
    /// The dead-letter queues (read by the admin API's `/v1/dead-letters` and the
    /// reconcile schedule's check); a function without them sees no dead letters.
    pub const TRANSFER_DLQ_URL: &str = "TRANSFER_DLQ_URL";
    pub const MIGRATION_DLQ_URL: &str = "MIGRATION_DLQ_URL";
    pub const SALES_EVENTS_DLQ_URL: &str = "SALES_EVENTS_DLQ_URL";
    pub const JOURNAL_DLQ_URL: &str = "JOURNAL_DLQ_URL";
    pub const SECRET_PREFIX: &str = "SECRET_PREFIX";
    pub const APP_SECRET_ID: &str = "APP_SECRET_ID";
    /// Local runs only: DynamoDB Local / moto endpoints. Unset in AWS.
    pub const DYNAMODB_ENDPOINT: &str = "DYNAMODB_ENDPOINT";
    pub const SQS_ENDPOINT: &str = "SQS_ENDPOINT";
    pub const SECRETS_ENDPOINT: &str = "SECRETS_ENDPOINT";
    pub const AWS_REGION: &str = "AWS_REGION";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable(s): {0}; set them in template.yaml or the local stack environment")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The trimmed value of `name`, unless it is absent or blank.
pub fn optional_var<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The whole number in `name` (`None` when absent or blank), refused unless `valid`;
/// `expected` says what it must be, e.g. "a whole number from 1 to 10".
pub fn whole_number_var(
    vars: &HashMap<String, String>,
    name: &'static str,
    valid: impl Fn(u32) -> bool,
    expected: &str,
) -> Result<Option<u32>, ConfigError> {
    let Some(raw) = optional_var(vars, name) else {
        return Ok(None);
    };
    match raw.parse::<u32>() {
        Ok(n) if valid(n) => Ok(Some(n)),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("`{raw}` is not {expected}"),
        }),
    }
}

/// A whole-number setting: its environment variable, its default and the range it must
/// fall in (a bad value fails the function at init rather than silently running another
/// way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumberSetting {
    pub var: &'static str,
    pub default: u32,
    pub min: u32,
    pub max: u32,
}

impl WholeNumberSetting {
    /// The value in `vars`, or the default when absent or blank.
    pub fn read(&self, vars: &HashMap<String, String>) -> Result<u32, ConfigError> {
        let expected = format!("a whole number from {} to {}", self.min, self.max);
        let value = whole_number_var(
            vars,
            self.var,
            |n| (self.min..=self.max).contains(&n),
            &expected,
        )?;
        Ok(value.unwrap_or(self.default))
    }
}

/// The queue URLs every function may send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub transfer: String,
    pub migration: String,
    pub sales_events: String,
    pub journal: String,
}

/// The dead-letter queue of each source queue, where configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterUrls {
    pub transfer: Option<String>,
    pub migration: Option<String>,
    pub sales_events: Option<String>,
    pub journal: Option<String>,
}

impl DeadLetterUrls {
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let optional = |name: &str| optional_var(vars, name).map(str::to_string);
        Self {
            transfer: optional(env::TRANSFER_DLQ_URL),
            migration: optional(env::MIGRATION_DLQ_URL),
            sales_events: optional(env::SALES_EVENTS_DLQ_URL),
            journal: optional(env::JOURNAL_DLQ_URL),
        }
    }
}

/// Optional endpoint overrides for running against DynamoDB Local and moto.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub dynamodb: Option<String>,
    pub sqs: Option<String>,
    pub secrets: Option<String>,
}

impl Endpoints {
    /// Any override means the services are local emulators.
    pub fn is_local(&self) -> bool {
        self.dynamodb.is_some() || self.sqs.is_some() || self.secrets.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub queues: QueueUrls,
    pub dead_letters: DeadLetterUrls,
    /// Prefix of the per-integration token secrets (`<prefix>/integration/<id>`).
    pub secret_prefix: String,
    /// Secret holding the app's own keys (OAuth client secrets, state-signing key).
    pub app_secret_id: String,
    pub region: Option<String>,
    pub endpoints: Endpoints,
    pub lightspeed: crate::lightspeed::LightspeedSettings,
    pub fanout: crate::fanout::FanoutSettings,
    pub transfer: crate::transfer::TransferSettings,
    pub migration: crate::migration::MigrationSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Builds the config from an explicit map, so tests need not touch the process environment.
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut missing = Vec::new();
        let mut required = |name: &'static str| -> String {
            match optional_var(&vars, name) {
                Some(v) => v.to_string(),
                None => {
                    missing.push(name);
                    String::new()
                }
            }
        };
        let table_name = required(env::TABLE_NAME);
        let queues = QueueUrls {
            transfer: required(env::TRANSFER_QUEUE_URL),
            migration: required(env::MIGRATION_QUEUE_URL),
            sales_events: required(env::SALES_EVENTS_QUEUE_URL),
            journal: required(env::JOURNAL_QUEUE_URL),
        };
        let secret_prefix = required(env::SECRET_PREFIX);
        let app_secret_id = required(env::APP_SECRET_ID);
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing.join(", ")));
        }
        let optional = |name: &str| optional_var(&vars, name).map(str::to_string);
        let endpoints = Endpoints {
            dynamodb: optional(env::DYNAMODB_ENDPOINT),
            sqs: optional(env::SQS_ENDPOINT),
            secrets: optional(env::SECRETS_ENDPOINT),
        };
        for (name, value) in [
            (env::DYNAMODB_ENDPOINT, &endpoints.dynamodb),
            (env::SQS_ENDPOINT, &endpoints.sqs),
            (env::SECRETS_ENDPOINT, &endpoints.secrets),
        ] {
            if let Some(url) = value {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        name,
                        reason: format!("`{url}` is not an http(s) URL"),
                    });
                }
            }
        }
        Ok(Self {
            table_name,
            queues,
            dead_letters: DeadLetterUrls::from_vars(&vars),
            secret_prefix,
            app_secret_id,
            region: optional(env::AWS_REGION),
            endpoints,
            lightspeed: crate::lightspeed::LightspeedSettings::from_vars(&vars),
            fanout: crate::fanout::FanoutSettings::from_vars(&vars)?,
            transfer: crate::transfer::TransferSettings::from_vars(&vars),
            migration: crate::migration::MigrationSettings::from_vars(&vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> HashMap<String, String> {
        [
            (env::TABLE_NAME, "t"),
            (env::TRANSFER_QUEUE_URL, "http://q/transfer"),
            (env::MIGRATION_QUEUE_URL, "http://q/migration"),
            (env::SALES_EVENTS_QUEUE_URL, "http://q/sales"),
            (env::JOURNAL_QUEUE_URL, "http://q/journal"),
            (env::SECRET_PREFIX, "tillbridge"),
            (env::APP_SECRET_ID, "tillbridge/app"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn reads_required_and_optional_values() {
        let mut vars = full();
        vars.insert(
            env::DYNAMODB_ENDPOINT.into(),
            "http://127.0.0.1:8000".into(),
        );
        let config = Config::from_vars(vars).unwrap();
        assert_eq!(config.table_name, "t");
        assert_eq!(config.queues.journal, "http://q/journal");
        assert_eq!(
            config.endpoints.dynamodb.as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(config.endpoints.sqs, None);
    }

    #[test]
    fn names_every_missing_variable() {
        let mut vars = full();
        vars.remove(env::TABLE_NAME);
        vars.insert(env::JOURNAL_QUEUE_URL.into(), "  ".into());
        let err = Config::from_vars(vars).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing("TABLE_NAME, JOURNAL_QUEUE_URL".into())
        );
    }

    #[test]
    fn rejects_an_endpoint_that_is_not_a_url() {
        let mut vars = full();
        vars.insert(env::SQS_ENDPOINT.into(), "localhost:5000".into());
        assert!(matches!(
            Config::from_vars(vars),
            Err(ConfigError::Invalid {
                name: "SQS_ENDPOINT",
                ..
            })
        ));
    }
}
