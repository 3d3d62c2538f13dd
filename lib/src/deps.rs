//! Everything a handler needs, built once in `main` and borrowed by every invocation.

use std::sync::Arc;

use crate::aws;
use crate::config::{Config, ConfigError};
use crate::connection::source::{CatalogSource, LightspeedCatalog};
use crate::erp::connection::ErpConnector;
use crate::erp::odoo_client::OdooConnector;
use crate::lightspeed::{LightspeedClient, LightspeedParts};
use crate::queue::sqs::{SqsDeadLetters, SqsQueue};
use crate::queue::{DeadLetterQueues, MessageQueue};
use crate::secrets::{secrets_manager::SecretsManagerVault, SecretVault};
use crate::store::{dynamodb::DynamoDbStore, ItemStore};
use crate::transfer::run::TransferContext;
use crate::transfer::source::{LightspeedSales, SalesSource};

#[derive(Clone)]
pub struct Deps {
    pub config: Config,
    pub store: Arc<dyn ItemStore>,
    pub queue: Arc<dyn MessageQueue>,
    /// The source queues' dead-letter queues (listed and replayed by operators).
    pub dead_letters: Arc<dyn DeadLetterQueues>,
    pub secrets: Arc<dyn SecretVault>,
    /// One HTTP client (connection pool) for Lightspeed and the ERP.
    pub http: reqwest::Client,
    pub lightspeed: Arc<LightspeedClient>,
    /// Where transfers read a day's sales (Lightspeed, through `lightspeed`).
    pub sales: Arc<dyn SalesSource>,
    /// Where location and item sync read the upstream catalogue (Lightspeed too).
    pub catalog: Arc<dyn CatalogSource>,
    /// Opens ERP sessions for journal posting (Odoo).
    pub erp: Arc<dyn ErpConnector>,
}

impl Deps {
    /// Where migration days are queued: the migration queue, in the integration's lanes.
    pub fn migration_days(&self) -> crate::migration::enqueue::DayQueue<'_> {
        crate::migration::enqueue::DayQueue {
            queue: self.queue.as_ref(),
            settings: &self.config.migration,
        }
    }

    /// What a transfer run reads and writes. `retry_through_queue` as in [`TransferContext`].
    pub fn transfers(&self, retry_through_queue: bool) -> TransferContext<'_> {
        TransferContext {
            store: self.store.as_ref(),
            queue: self.queue.as_ref(),
            sales: self.sales.as_ref(),
            settings: &self.config.transfer,
            retry_through_queue,
        }
    }

    /// Reads the environment and builds the AWS adapters.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        Ok(Self::from_config(config).await)
    }

    pub async fn from_config(config: Config) -> Self {
        // reqwest's rustls has no crypto of its own here (see lib/Cargo.toml): ring. Err only
        // when one is installed already (a test, the local host).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // One HTTP client for Lightspeed, the ERP and the AWS SDK clients. Redirects are never
        // followed: an OAuth or API redirect is an answer to read (AWS answers none).
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let clients = aws::clients(&config, http.clone());
        let store: Arc<dyn ItemStore> = Arc::new(DynamoDbStore::new(
            clients.dynamodb,
            config.table_name.clone(),
        ));
        let secrets: Arc<dyn SecretVault> = Arc::new(SecretsManagerVault::new(clients.secrets));
        let lightspeed = Arc::new(LightspeedClient::new(LightspeedParts {
            http: http.clone(),
            settings: config.lightspeed.clone(),
            store: store.clone(),
            vault: secrets.clone(),
            secret_prefix: config.secret_prefix.clone(),
            app_secret_id: config.app_secret_id.clone(),
        }));
        let sales: Arc<dyn SalesSource> = Arc::new(LightspeedSales {
            client: lightspeed.clone(),
            store: store.clone(),
        });
        let catalog: Arc<dyn CatalogSource> = Arc::new(LightspeedCatalog {
            client: lightspeed.clone(),
        });
        let erp: Arc<dyn ErpConnector> = Arc::new(OdooConnector { http: http.clone() });
        Self {
            sales,
            catalog,
            erp,
            store,
            dead_letters: Arc::new(SqsDeadLetters::new(
                clients.sqs.clone(),
                config.dead_letters.clone(),
            )),
            queue: Arc::new(SqsQueue::new(clients.sqs, config.queues.clone())),
            secrets,
            http,
            lightspeed,
            config,
        }
    }
}
