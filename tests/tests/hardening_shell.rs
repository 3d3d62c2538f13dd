//! The shell around the domain holds under hostile or unlucky conditions: every input is
//! bounded before it reaches the store, server errors say nothing internal, claims are
//! compared exactly, and queue messages that can never succeed are not redelivered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use reqwest::Method;
use serde_json::{json, Value};
use tillbridge::lambda_http::Body;
use tillbridge_tests::{error_code, gateway_request, unique_company, TestEnv};

fn body_json(response: &tillbridge::lambda_http::Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON body"),
        other => panic!("unexpected body {other:?}"),
    }
}

fn assert_opaque_server_error(body: &Value, code: &str, correlation: &str) {
    let error = body["error"].as_object().expect("error envelope");
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "correlation_id", "message"], "{body}");
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["correlation_id"], correlation, "{body}");
    let text = body.to_string().to_lowercase();
    for internal in [
        "dispatch",
        "connector",
        "os error",
        "127.0.0.1",
        "injected",
        "sdk",
        "hyper",
        "store unavailable:",
    ] {
        assert!(!text.contains(internal), "`{internal}` leaked: {body}");
    }
}

#[tokio::test]
async fn ledger_date_range_is_optional_in_every_combination() {
    let env = TestEnv::http().await;
    let company = unique_company("ledger-range");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (status, unit) = api
        .post(
            &format!("{base}/storage-units"),
            &json!({"name": "Kitchen"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{unit}");
    let (status, ingredient) = api
        .post(
            &format!("{base}/ingredients"),
            &json!({"name": "Flour", "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{ingredient}");
    let selections = [
        format!("storage_unit_id={}", unit["id"].as_str().unwrap()),
        format!("ingredient_id={}", ingredient["id"].as_str().unwrap()),
    ];
    for selection in &selections {
        for from in [None, Some("2026-01-01")] {
            for to in [None, Some("2026-12-31")] {
                let mut query = selection.clone();
                if let Some(from) = from {
                    query.push_str(&format!("&from={from}"));
                }
                if let Some(to) = to {
                    query.push_str(&format!("&to={to}"));
                }
                let (status, body) = api.get(&format!("{base}/ledger?{query}")).await.unwrap();
                assert_eq!(status, 200, "{query}: {body}");
                assert!(body["items"].is_array(), "{query}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn oversized_or_malformed_inputs_are_refused_before_any_store_call() {
    let env = TestEnv::http().await;
    let company = unique_company("bounds");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let digits = "7".repeat(3_000);
    let mapping = json!({"ingredient_id": "i-1", "quantity": "1"});
    let body = Some(("application/json", mapping.to_string().into_bytes()));
    for path in [
        format!("{base}/items/k_series/{digits}/mapping"),
        format!("{base}/storage-units/{}", "a".repeat(201)),
        format!("{base}/ingredients/a%23b"),
        format!("{base}/ledger/{}", "x".repeat(500)),
    ] {
        let method = if path.ends_with("/mapping") {
            Method::PUT
        } else {
            Method::GET
        };
        let (status, reply) = api.request(method, &path, body.clone(), &[]).await.unwrap();
        assert_eq!(
            (status, error_code(&reply)),
            (400, "validation_failed"),
            "{}: {reply}",
            &path[..path.len().min(120)]
        );
    }
    // Body texts: ids and free text each have a ceiling, whatever the field.
    for body in [
        json!({"ingredient_id": "i".repeat(201), "quantity": "1"}),
        json!({"ingredient_id": "i-1", "quantity": "1", "note": "n".repeat(1_001)}),
    ] {
        let (status, reply) = api
            .request(
                Method::PUT,
                &format!("{base}/items/k_series/1001/mapping"),
                Some(("application/json", body.to_string().into_bytes())),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (status, error_code(&reply)),
            (400, "validation_failed"),
            "{reply}"
        );
    }
    let (status, reply) = api
        .get(&format!("{base}/items?location_id={}", "9".repeat(3_000)))
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (400, "validation_failed"),
        "{reply}"
    );
}

#[tokio::test]
async fn server_errors_show_only_code_message_and_correlation_id() {
    let env = TestEnv::http().await;
    let company = unique_company("opaque");
    let path = format!("/v1/companies/{company}/storage-units");

    // The real DynamoDB adapter failing in the SDK (nothing listens on the endpoint).
    let deps = env.deps_with_unreachable_store("admin-api").await;
    for (method, body) in [("GET", None), ("POST", Some(json!({"name": "Bar"})))] {
        let response = tillbridge_api::handle(
            &deps,
            gateway_request(
                method,
                &path,
                &company,
                body.map(|b| b.to_string()),
                "corr-opaque-1",
            ),
        )
        .await
        .unwrap();
        assert_eq!(response.status().as_u16(), 503);
        assert_opaque_server_error(&body_json(&response), "store_unavailable", "corr-opaque-1");
    }

    // A store that fails its first write, on the real table.
    let mut deps = env.deps("admin-api").await;
    deps.store = Arc::new(tillbridge_tests::failing_store::FailingStore::new(
        deps.store.clone(),
        1,
    ));
    let response = tillbridge_api::handle(
        &deps,
        gateway_request(
            "POST",
            &path,
            &company,
            Some(json!({"name": "Bar"}).to_string()),
            "corr-opaque-2",
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_opaque_server_error(&body_json(&response), "store_unavailable", "corr-opaque-2");

    // Client errors keep their explanation and carry the correlation id too.
    let (status, body) = env
        .client(&company)
        .request(
            Method::POST,
            &path,
            Some(("application/json", b"{}".to_vec())),
            &[("x-correlation-id", "corr-opaque-3")],
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    assert_eq!(body["error"]["correlation_id"], "corr-opaque-3");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn company_claims_are_compared_exactly_and_401_is_the_error_envelope() {
    let env = TestEnv::http().await;
    let company = unique_company("claims");
    let path = format!("/v1/companies/{company}/storage-units");
    for claim in [
        format!("{company} "),
        format!(" {company}"),
        company.to_uppercase(),
    ] {
        let (status, body) = env.client(&claim).get(&path).await.unwrap();
        assert_eq!(
            (status, error_code(&body)),
            (403, "unauthorized_company_access"),
            "claim `{claim}`: {body}"
        );
    }
    let (status, body) = env.client(&company).get(&path).await.unwrap();
    assert_eq!(status, 200, "{body}");

    let (status, body) = env.anonymous().get(&path).await.unwrap();
    assert_eq!(
        (status, error_code(&body)),
        (401, "unauthenticated"),
        "{body}"
    );
    assert!(body["error"]["correlation_id"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

/// A queue with a dead-letter queue (redrive after 3 receives, 2 s visibility) polled by
/// the transfer-worker handler running with `deps`, as Lambda's event source mapping does.
struct WorkerQueue {
    url: String,
    dlq_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WorkerQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn worker_queue(env: &TestEnv, deps: tillbridge::Deps) -> WorkerQueue {
    let sqs = env.sqs().await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let account = tillbridge_local::provision::LOCAL_ACCOUNT;
    let region = tillbridge_local::provision::LOCAL_REGION;
    let dlq_name = format!("hardening-dlq-{tag}");
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let redrive = json!({
        "deadLetterTargetArn": format!("arn:aws:sqs:{region}:{account}:{dlq_name}"),
        "maxReceiveCount": "3"
    });
    let name = format!("hardening-{tag}");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::VisibilityTimeout, "2")
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mapping = tillbridge_local::host::poller::EventSourceMapping {
        binary: "transfer-worker".into(),
        queue: tillbridge_local::provision::QueueInfo {
            arn: format!("arn:aws:sqs:{region}:{account}:{name}"),
            name,
            url: url.clone(),
        },
        batch_size: 5,
        report_batch_item_failures: true,
    };
    let functions = Arc::new(std::collections::HashMap::from([(
        "transfer-worker".to_string(),
        deps,
    )]));
    let task = tillbridge_local::host::poller::spawn(mapping, sqs, functions);
    WorkerQueue { url, dlq_url, task }
}

/// Messages visible plus in flight.
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| {
        attributes
            .get(a)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}

async fn send(sqs: &aws_sdk_sqs::Client, url: &str, bodies: &[String]) {
    let mut batch = sqs.send_message_batch().queue_url(url);
    for (n, body) in bodies.iter().enumerate() {
        batch = batch.entries(
            SendMessageBatchRequestEntry::builder()
                .id(n.to_string())
                .message_body(body)
                .build()
                .unwrap(),
        );
    }
    let sent = batch.send().await.unwrap();
    assert!(sent.failed.is_empty(), "{:?}", sent.failed);
}

fn transfer_request(company: &str, location: &str) -> String {
    json!({
        "request_uuid": uuid::Uuid::new_v4().to_string(),
        "company_id": company,
        "location_id": location,
        "business_date": "2026-02-01",
        "attempt": 1,
        "force_refresh": false,
        "requested_at": "2026-02-02T06:00:00Z",
    })
    .to_string()
}

#[tokio::test]
async fn poison_messages_are_dropped_at_once_and_transient_failures_are_retried() {
    let env = TestEnv::http().await;
    let sqs = env.sqs().await;
    let company = unique_company("poison");

    // Poison: a body that is not a request, one that names its company but misses fields,
    // and ids that break the key rules. None can ever succeed.
    let poison = worker_queue(&env, env.deps("transfer-worker").await).await;
    send(
        &sqs,
        &poison.url,
        &[
            "{not json".to_string(),
            json!({"company_id": company, "location_id": "loc-9", "business_date": "2026-02-01"})
                .to_string(),
            transfer_request("bad#company", "loc-1"),
        ],
    )
    .await;
    // Transient: the same kind of valid request while the store cannot be reached.
    let unreachable = env.deps_with_unreachable_store("transfer-worker").await;
    let transient = worker_queue(&env, unreachable).await;
    send(&sqs, &transient.url, &[transfer_request(&company, "loc-1")]).await;

    // The poison leaves its queue...
    let started = Instant::now();
    while depth(&sqs, &poison.url).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "poison messages are still on the queue"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...and the transient failure is redelivered until the redrive limit dead-letters it.
    let started = Instant::now();
    while depth(&sqs, &transient.dlq_url).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the transient failure never reached its DLQ"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // By now the poison queue has seen three visibility timeouts: had a poison message
    // been left for redelivery it would be in its DLQ.
    assert_eq!(depth(&sqs, &poison.url).await, 0);
    assert_eq!(
        depth(&sqs, &poison.dlq_url).await,
        0,
        "poison reached the DLQ"
    );

    // The rejection that named a company is recorded where its people look.
    let (status, alerts) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{alerts}");
    let rejected: Vec<&Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["code"] == "message_rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{alerts}");
    assert_eq!(rejected[0]["subject"], "transfer-worker:loc-9:2026-02-01");
}

/// The real vault, except that every write of some secrets fails (as a throttled or
/// failing Secrets Manager would) until it is healed.
struct VaultFailingOn {
    inner: Arc<dyn tillbridge::secrets::SecretVault>,
    failing_ids: Vec<String>,
    failed_puts: std::sync::atomic::AtomicUsize,
    healed: std::sync::atomic::AtomicBool,
}

impl VaultFailingOn {
    fn new(inner: Arc<dyn tillbridge::secrets::SecretVault>, failing_ids: Vec<String>) -> Self {
        Self {
            inner,
            failing_ids,
            failed_puts: Default::default(),
            healed: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl tillbridge::secrets::SecretVault for VaultFailingOn {
    async fn get(&self, id: &str) -> Result<String, tillbridge::secrets::SecretError> {
        self.inner.get(id).await
    }
    async fn put(&self, id: &str, value: &str) -> Result<(), tillbridge::secrets::SecretError> {
        if !self.healed.load(std::sync::atomic::Ordering::SeqCst)
            && self.failing_ids.iter().any(|f| f == id)
        {
            self.failed_puts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(tillbridge::secrets::SecretError::Unavailable(
                "injected vault failure".into(),
            ));
        }
        self.inner.put(id, value).await
    }
    async fn delete(&self, id: &str) -> Result<(), tillbridge::secrets::SecretError> {
        self.inner.delete(id).await
    }
}

#[tokio::test]
async fn a_rotated_refresh_token_survives_a_failed_vault_write() {
    use secrecy::ExposeSecret;
    use tillbridge::connection::PosProduct;
    use tillbridge::lightspeed::client::Connection;
    use tillbridge::lightspeed::vault;

    let (env, company) = TestEnv::connected("rotation", "k_series").await;
    let connection = Connection {
        company_id: company.clone(),
        product: PosProduct::KSeries,
        domain_prefix: None,
    };
    let deps = env.deps("transfer-worker").await;
    let secret = vault::secret_id(&deps.config.secret_prefix, &company, PosProduct::KSeries);
    let before = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .expect("tokens after connecting");
    let refreshes = |stats: Value| stats["refreshRequests"].as_u64().unwrap();
    let refreshed_before = refreshes(
        env.sim_control(Method::GET, "/_sim/tokens/stats", None)
            .await,
    );

    // Past the access token's lifetime: the next call refreshes, Lightspeed rotates the
    // refresh token, and writing the new pair to the integration's secret fails.
    env.sim_control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advanceSeconds": 3700})),
    )
    .await;
    let flaky = Arc::new(VaultFailingOn::new(
        deps.secrets.clone(),
        vec![secret.clone()],
    ));
    let worker = client_with_vault(&deps, flaky.clone());
    worker
        .get_json(&connection, "/f/data/businesses", &[])
        .await
        .expect("the request that rotated the tokens still succeeds");
    assert!(flaky.failed_puts.load(std::sync::atomic::Ordering::SeqCst) > 1);
    let kept = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.access_token.expose_secret(),
        before.access_token.expose_secret(),
        "the integration's secret could not be written"
    );

    // Another Lambda, with nothing cached, finds the rotated pair and keeps working.
    let other = env.deps("migration-worker").await;
    other
        .lightspeed
        .get_json(&connection, "/f/data/businesses", &[])
        .await
        .expect("a fresh process works with the rotated token");
    let (status, view) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/k_series"))
        .await
        .unwrap();
    assert_eq!(
        (status, view["status"].as_str()),
        (200, Some("active")),
        "{view}"
    );
    assert_eq!(
        refreshes(
            env.sim_control(Method::GET, "/_sim/tokens/stats", None)
                .await
        ),
        refreshed_before + 1,
        "the rotated pair was used, not refreshed again"
    );
    // And the rotated pair is back in the integration's own secret.
    let now = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        now.refresh_token.expose_secret(),
        before.refresh_token.expose_secret()
    );
}

#[tokio::test]
async fn a_rotated_pair_no_secret_takes_is_kept_in_use_and_saved_once_the_vault_recovers() {
    use secrecy::ExposeSecret;
    use tillbridge::connection::PosProduct;
    use tillbridge::lightspeed::client::Connection;
    use tillbridge::lightspeed::vault;

    let (env, company) = TestEnv::connected("rotation-mem", "k_series").await;
    let connection = Connection {
        company_id: company.clone(),
        product: PosProduct::KSeries,
        domain_prefix: None,
    };
    let deps = env.deps("transfer-worker").await;
    let secret = vault::secret_id(&deps.config.secret_prefix, &company, PosProduct::KSeries);
    let before = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .unwrap();
    env.sim_control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advanceSeconds": 3700})),
    )
    .await;
    let flaky = Arc::new(VaultFailingOn::new(
        deps.secrets.clone(),
        vec![secret.clone(), vault::pending_secret_id(&secret)],
    ));
    let worker = client_with_vault(&deps, flaky.clone());
    for _ in 0..2 {
        worker
            .get_json(&connection, "/f/data/businesses", &[])
            .await
            .expect("the rotated pair serves while no secret takes it");
    }
    let (_, alerts) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert!(
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "token_refresh_failed"),
        "{alerts}"
    );

    flaky
        .healed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    worker
        .get_json(&connection, "/f/data/businesses", &[])
        .await
        .unwrap();
    let saved = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        saved.refresh_token.expose_secret(),
        before.refresh_token.expose_secret(),
        "the rotated pair reached the vault once it recovered"
    );
    let other = env.deps("migration-worker").await;
    other
        .lightspeed
        .get_json(&connection, "/f/data/businesses", &[])
        .await
        .expect("a fresh process works with the saved pair");
    let (_, view) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/k_series"))
        .await
        .unwrap();
    assert_eq!(view["status"], "active", "{view}");
    let (_, alerts) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert!(
        !alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "token_refresh_failed"),
        "resolved once saved: {alerts}"
    );
}

/// The deployment's Lightspeed client, but reading and writing tokens through `vault`.
fn client_with_vault(
    deps: &tillbridge::deps::Deps,
    vault: Arc<dyn tillbridge::secrets::SecretVault>,
) -> tillbridge::lightspeed::LightspeedClient {
    tillbridge::lightspeed::LightspeedClient::new(tillbridge::lightspeed::LightspeedParts {
        http: deps.http.clone(),
        settings: deps.config.lightspeed.clone(),
        store: deps.store.clone(),
        vault,
        secret_prefix: deps.config.secret_prefix.clone(),
        app_secret_id: deps.config.app_secret_id.clone(),
    })
}
