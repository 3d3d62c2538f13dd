//! Everything a handler needs, built once in `main` and borrowed by every invocation.

use std::sync::Arc;

use crate::aws;
use crate::config::{Config, ConfigError};
use crate::queue::{sqs::SqsQueue, MessageQueue};
use crate::secrets::{secrets_manager::SecretsManagerVault, SecretVault};
use crate::store::{dynamodb::DynamoDbStore, ItemStore};

#[derive(Clone)]
pub struct Deps {
    pub config: Config,
    pub store: Arc<dyn ItemStore>,
    pub queue: Arc<dyn MessageQueue>,
    pub secrets: Arc<dyn SecretVault>,
}

impl Deps {
    /// Reads the environment and builds the AWS adapters.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        Ok(Self::from_config(config).await)
    }

    pub async fn from_config(config: Config) -> Self {
        let clients = aws::clients(&config).await;
        Self {
            store: Arc::new(DynamoDbStore::new(
                clients.dynamodb,
                config.table_name.clone(),
            )),
            queue: Arc::new(SqsQueue::new(clients.sqs, config.queues.clone())),
            secrets: Arc::new(SecretsManagerVault::new(clients.secrets)),
            config,
        }
    }
}
