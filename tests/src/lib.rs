//! Shared setup for the end-to-end tests: the local stack (started once, reused by every
//! test process), a function host per test, optionally a Lightspeed simulator, and helpers.

use std::future::Future;
use std::time::{Duration, Instant};

pub use lightspeed_sim::{RunningSimulator, SimConfig};
use serde_json::Value;
use tillbridge::lightspeed::settings::KAuthVersion;
pub use tillbridge_local::admin_client::AdminClient;
use tillbridge_local::{ensure_up, HostOptions, LocalHost, LocalStack};

pub mod books;
pub mod counting_store;
pub mod failing_store;
pub mod fixture;

pub struct TestEnv {
    pub stack: LocalStack,
    pub host: LocalHost,
    pub sim: Option<RunningSimulator>,
    env: Vec<(String, String)>,
    queues: std::collections::HashMap<String, tillbridge_local::provision::QueueInfo>,
}

/// Copies of the template's transfer, migration, journal and sales-events queues (with their dead-letter queues and
/// the local redrive and visibility settings) under unique names.
async fn private_queues(
    stack: &LocalStack,
) -> std::collections::HashMap<String, tillbridge_local::provision::QueueInfo> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = tillbridge_local::provision::Clients::new(&stack.resources.endpoints)
        .await
        .sqs;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let mut out = std::collections::HashMap::new();
    for (queue, dlq) in [
        ("TransferQueue", "TransferDLQ"),
        ("MigrationQueue", "MigrationDLQ"),
        ("JournalQueue", "JournalDLQ"),
        ("SalesEventsQueue", "SalesEventsDLQ"),
    ] {
        let fifo = stack
            .template
            .queues
            .iter()
            .any(|q| q.logical_id == queue && q.fifo);
        let (suffix, kind) = if fifo {
            (
                ".fifo",
                vec![(QueueAttributeName::FifoQueue, "true".to_string())],
            )
        } else {
            ("", Vec::new())
        };
        let create = |name: String, attributes: Vec<(QueueAttributeName, String)>| {
            let sqs = sqs.clone();
            async move {
                let mut request = sqs.create_queue().queue_name(&name);
                for (key, value) in attributes {
                    request = request.attributes(key, value);
                }
                let url = request
                    .send()
                    .await
                    .expect("private queue")
                    .queue_url
                    .expect("url");
                tillbridge_local::provision::QueueInfo {
                    arn: format!(
                        "arn:aws:sqs:{}:{}:{name}",
                        tillbridge_local::provision::LOCAL_REGION,
                        tillbridge_local::provision::LOCAL_ACCOUNT
                    ),
                    name,
                    url,
                }
            }
        };
        let dead = create(format!("{dlq}-{tag}{suffix}"), kind.clone()).await;
        let redrive = serde_json::json!({"deadLetterTargetArn": dead.arn, "maxReceiveCount": "3"});
        let mut attributes = vec![
            (QueueAttributeName::VisibilityTimeout, "5".into()),
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
        ];
        attributes.extend(kind);
        let live = create(format!("{queue}-{tag}{suffix}"), attributes).await;
        out.insert(queue.to_string(), live);
        out.insert(dlq.to_string(), dead);
    }
    out
}

impl TestEnv {
    /// The admin API only.
    pub async fn http() -> Self {
        Self::start(false, None, Vec::new()).await
    }

    /// The admin API plus the queue workers.
    pub async fn with_workers() -> Self {
        Self::start(true, None, Vec::new()).await
    }

    /// The functions wired to a fresh Lightspeed simulator.
    pub async fn with_lightspeed(config: SimConfig, auth: KAuthVersion, workers: bool) -> Self {
        Self::start(workers, Some((config, auth)), Vec::new()).await
    }

    /// As [`Self::with_lightspeed`], with extra function environment on top.
    pub async fn with_lightspeed_env(
        config: SimConfig,
        auth: KAuthVersion,
        extra: Vec<(String, String)>,
    ) -> Self {
        Self::start(false, Some((config, auth)), extra).await
    }

    /// As [`Self::with_lightspeed`] without workers, on a private copy of the table: for
    /// tests that run a schedule with a clock in the future, which would otherwise act on
    /// every other test's records in the shared table.
    pub async fn with_lightspeed_private_table(config: SimConfig, auth: KAuthVersion) -> Self {
        let stack = ensure_up().await.expect("local stack");
        let name = format!(
            "tillbridge-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let dynamodb = tillbridge_local::provision::Clients::new(&stack.resources.endpoints)
            .await
            .dynamodb;
        tillbridge_local::provision::create_table(&dynamodb, &stack.template, &name)
            .await
            .expect("private table");
        let table = (tillbridge::config::env::TABLE_NAME.to_string(), name);
        Self::start(false, Some((config, auth)), vec![table]).await
    }

    /// As [`Self::with_lightspeed_env`], with the queue workers running.
    pub async fn with_lightspeed_workers_env(
        config: SimConfig,
        auth: KAuthVersion,
        extra: Vec<(String, String)>,
    ) -> Self {
        Self::start(true, Some((config, auth)), extra).await
    }

    async fn start(
        workers: bool,
        lightspeed: Option<(SimConfig, KAuthVersion)>,
        extra: Vec<(String, String)>,
    ) -> Self {
        let stack = ensure_up().await.expect("local stack");
        let (sim, env) = match lightspeed {
            Some((config, auth)) => {
                let sim = tillbridge_local::lightspeed::start_simulator(config)
                    .await
                    .expect("simulator");
                let env = tillbridge_local::lightspeed::host_env(&sim, auth);
                (Some(sim), env)
            }
            None => (None, Vec::new()),
        };
        // Private transfer, migration, journal and sales-events queues: other test processes' workers
        // (with other simulators) never see this environment's messages, nor it theirs.
        let queues = private_queues(&stack).await;
        let queue_env = [
            ("TransferQueue", tillbridge::config::env::TRANSFER_QUEUE_URL),
            (
                "MigrationQueue",
                tillbridge::config::env::MIGRATION_QUEUE_URL,
            ),
            ("JournalQueue", tillbridge::config::env::JOURNAL_QUEUE_URL),
            (
                "SalesEventsQueue",
                tillbridge::config::env::SALES_EVENTS_QUEUE_URL,
            ),
            ("TransferDLQ", tillbridge::config::env::TRANSFER_DLQ_URL),
            ("MigrationDLQ", tillbridge::config::env::MIGRATION_DLQ_URL),
            ("JournalDLQ", tillbridge::config::env::JOURNAL_DLQ_URL),
            (
                "SalesEventsDLQ",
                tillbridge::config::env::SALES_EVENTS_DLQ_URL,
            ),
        ]
        .into_iter()
        .map(|(id, var)| (var.to_string(), queues[id].url.clone()));
        let env: Vec<(String, String)> = env.into_iter().chain(queue_env).chain(extra).collect();
        let host = LocalHost::start(
            &stack,
            HostOptions {
                port: 0,
                workers,
                env: env.clone(),
                queues: queues.clone(),
            },
        )
        .await
        .expect("function host");
        Self {
            stack,
            host,
            sim,
            env,
            queues,
        }
    }

    /// A client authenticated as an admin of `company_id`.
    pub fn client(&self, company_id: &str) -> AdminClient {
        AdminClient::new(&self.host.base_url, self.host.token(company_id))
    }

    /// A client with an operator token (`role: operator`, no company).
    pub fn operator(&self) -> AdminClient {
        AdminClient::new(&self.host.base_url, self.host.operator_token())
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
        match self.queues.get(logical_id) {
            Some(private) => private.url.clone(),
            None => self
                .stack
                .resources
                .queue(logical_id)
                .expect("queue")
                .url
                .clone(),
        }
    }

    /// A queue of this environment (its private copy when it has one).
    pub fn queue(&self, logical_id: &str) -> tillbridge_local::provision::QueueInfo {
        match self.queues.get(logical_id) {
            Some(private) => private.clone(),
            None => self
                .stack
                .resources
                .queue(logical_id)
                .expect("queue")
                .clone(),
        }
    }

    /// A function's dependencies as the host builds them: a separate "Lambda instance"
    /// with its own clients and caches.
    pub async fn deps(&self, binary: &str) -> tillbridge::Deps {
        LocalHost::function_deps(&self.stack, &self.host, binary, &self.env)
            .await
            .expect("function deps")
    }

    /// A transfer worker of this test only: a private transfer queue (its visibility and
    /// delays are moto's), the real handler polled like Lambda's event source mapping, and
    /// the deps it runs with (their retries go back to the private queue). Keeps this
    /// test's messages away from other test processes' workers on the shared stack.
    pub async fn private_transfer_worker(
        &self,
        name: &str,
    ) -> (tillbridge::Deps, tokio::task::JoinHandle<()>) {
        let sqs = self.sqs().await;
        let queue_name = format!("{name}-transfer");
        let url = sqs
            .create_queue()
            .queue_name(&queue_name)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "5",
            )
            .send()
            .await
            .expect("private queue")
            .queue_url
            .expect("queue url");
        let mut deps = self.deps("transfer-worker").await;
        deps.queue = std::sync::Arc::new(tillbridge::queue::sqs::SqsQueue::new(
            sqs.clone(),
            tillbridge::config::QueueUrls {
                transfer: url.clone(),
                ..deps.config.queues.clone()
            },
        ));
        let mapping = tillbridge_local::host::poller::EventSourceMapping {
            binary: "transfer-worker".into(),
            queue: tillbridge_local::provision::QueueInfo {
                arn: format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}"),
                name: queue_name,
                url,
            },
            batch_size: 5,
            report_batch_item_failures: true,
        };
        let functions = std::sync::Arc::new(std::collections::HashMap::from([(
            "transfer-worker".to_string(),
            deps.clone(),
        )]));
        let task = tillbridge_local::host::poller::spawn(mapping, sqs, functions);
        (deps, task)
    }

    pub fn sim(&self) -> &RunningSimulator {
        self.sim
            .as_ref()
            .expect("this environment has no simulator")
    }

    /// Calls the simulator's control API.
    pub async fn sim_control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let client = reqwest::Client::new();
        let mut request = client.request(method, format!("{}{path}", self.sim().base_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("simulator control call");
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Runs the whole browser flow: start (or reauthorize) → Lightspeed authorize →
    /// callback → result page. Returns the result page's query parameters.
    pub async fn authorize(
        &self,
        company_id: &str,
        start_path: &str,
        body: Option<Value>,
    ) -> Vec<(String, String)> {
        let api = self.client(company_id);
        let (status, started) = match body {
            Some(body) => api.post(start_path, &body, None).await.expect("start"),
            None => api
                .request(reqwest::Method::POST, start_path, None, &[])
                .await
                .expect("start"),
        };
        assert!(
            status == 200 || status == 201,
            "start connection: {status} {started}"
        );
        let authorize_url = started["authorize_url"]
            .as_str()
            .expect("authorize_url")
            .to_string();
        let callback = follow_redirect(&authorize_url).await;
        assert!(
            callback.starts_with(&self.host.base_url),
            "Lightspeed redirected to {callback}"
        );
        result_params(&follow_redirect(&callback).await)
    }
}

impl TestEnv {
    /// A simulator-backed environment with a fresh company connected to `product` through
    /// the redirect flow.
    pub async fn connected(prefix: &str, product: &str) -> (Self, String) {
        let env = Self::with_lightspeed(
            tillbridge_local::lightspeed::sim_config(),
            KAuthVersion::V2,
            false,
        )
        .await;
        let company = env.connect(prefix, product).await;
        (env, company)
    }

    /// Connects a fresh company of this environment's simulator through the redirect flow.
    pub async fn connect(&self, prefix: &str, product: &str) -> String {
        let env = self;
        let company = unique_company(prefix);
        let body = serde_json::json!({ "product": product });
        let params = env
            .authorize(
                &company,
                &format!("/v1/companies/{company}/integrations"),
                Some(body),
            )
            .await;
        assert_eq!(param(&params, "outcome"), Some("connected"), "{params:?}");
        company
    }
}

/// The error envelope's code, or `<none>`.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

/// GETs `url` without following the redirect and returns its `Location`.
pub async fn follow_redirect(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let response = client.get(url).send().await.expect("redirect request");
    assert!(
        response.status().is_redirection(),
        "expected a redirect from {url}, got {}",
        response.status()
    );
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location header")
        .to_string()
}

pub fn result_params(location: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(location)
        .expect("result URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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

/// An API Gateway (HTTP API v2) request for the admin-api handler, authorised as `claim`,
/// with API Gateway's own request id `gw-request-1`.
pub fn gateway_request(
    method: &str,
    path: &str,
    claim: &str,
    body: Option<String>,
    correlation: &str,
) -> tillbridge::lambda_http::Request {
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "ANY /v1/{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "localhost", "x-correlation-id": correlation},
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost",
            "domainPrefix": "local",
            "authorizer": {"jwt": {"claims": {"company_id": claim}, "scopes": null}},
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "gw-request-1", "routeKey": "ANY /v1/{proxy+}", "stage": "$default",
            "time": "01/Dec/2026:06:00:00 +0000", "timeEpoch": 1_796_104_800_000_i64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = Value::String(body);
    }
    tillbridge::lambda_http::request::from_str(&event.to_string()).expect("gateway event")
}

impl TestEnv {
    /// A function's deps whose DynamoDB endpoint does not answer: every store call fails in
    /// the SDK.
    pub async fn deps_with_unreachable_store(&self, binary: &str) -> tillbridge::Deps {
        let mut deps = self.deps(binary).await;
        let mut config = deps.config.clone();
        config.endpoints.dynamodb = Some("http://127.0.0.1:9".into());
        deps.store = tillbridge::Deps::from_config(config).await.store;
        deps
    }
}
