//! Shared setup for the end-to-end tests: the local stack (started once, reused by every
//! test process), a function host per test, and helpers to reach it.

use std::future::Future;
use std::time::{Duration, Instant};

pub use tillbridge_local::admin_client::AdminClient;
use tillbridge_local::{ensure_up, HostOptions, LocalHost, LocalStack};

pub struct TestEnv {
    pub stack: LocalStack,
    pub host: LocalHost,
}

impl TestEnv {
    /// The admin API only.
    pub async fn http() -> Self {
        Self::start(false).await
    }

    /// The admin API plus the queue workers.
    pub async fn with_workers() -> Self {
        Self::start(true).await
    }

    async fn start(workers: bool) -> Self {
        let stack = ensure_up().await.expect("local stack");
        let host = LocalHost::start(
            &stack,
            HostOptions {
                port: 0,
                workers,
                env: Vec::new(),
            },
        )
        .await
        .expect("function host");
        Self { stack, host }
    }

    /// A client authenticated as an admin of `company_id`.
    pub fn client(&self, company_id: &str) -> AdminClient {
        AdminClient::new(&self.host.base_url, self.host.token(company_id))
    }

    pub fn anonymous(&self) -> AdminClient {
        AdminClient::new(&self.host.base_url, None)
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        tillbridge_local::provision::Clients::new(&self.stack.resources.endpoints)
            .await
            .sqs
    }

    pub fn queue_url(&self, logical_id: &str) -> String {
        self.stack
            .resources
            .queue(logical_id)
            .expect("queue")
            .url
            .clone()
    }
}

/// A company id no other test (or earlier run) uses.
pub fn unique_company(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Polls `probe` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
