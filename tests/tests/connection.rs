//! Connecting Lightspeed through the real OAuth redirect flow against the simulator, and
//! keeping the connection authorised: rotation-safe single-flight refresh, revocation,
//! reauthorization and token-endpoint outages.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tillbridge::connection::state::{self, StateClaims};
use tillbridge::connection::PosProduct;
use tillbridge::lightspeed::client::Connection;
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge::lightspeed::{vault, AppKeys, LightspeedError};
use tillbridge_tests::{follow_redirect, param, result_params, unique_company, SimConfig, TestEnv};

fn sim() -> SimConfig {
    tillbridge_local::lightspeed::sim_config()
}

async fn connect_k_series(env: &TestEnv, company: &str) {
    let params = env
        .authorize(
            company,
            &format!("/v1/companies/{company}/integrations"),
            Some(json!({"product": "k_series", "name": "Copper group"})),
        )
        .await;
    assert_eq!(param(&params, "outcome"), Some("connected"), "{params:?}");
}

fn k_connection(company: &str) -> Connection {
    Connection {
        company_id: company.into(),
        product: PosProduct::KSeries,
        domain_prefix: None,
    }
}

async fn stats(env: &TestEnv) -> (u64, u64) {
    let stats = env
        .sim_control(Method::GET, "/_sim/tokens/stats", None)
        .await;
    (
        stats["codeExchanges"].as_u64().unwrap(),
        stats["refreshRequests"].as_u64().unwrap(),
    )
}

async fn expire_access_tokens(env: &TestEnv) {
    // Past the V1 (3600 s) and V2 (300 s) access lifetimes of the simulator.
    env.sim_control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advanceSeconds": 3700})),
    )
    .await;
}

async fn open_alerts(env: &TestEnv, company: &str) -> Vec<Value> {
    let (_, body) = env
        .client(company)
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn integration(env: &TestEnv, company: &str) -> Value {
    let (status, body) = env
        .client(company)
        .get(&format!("/v1/companies/{company}/integrations/k_series"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn scan_table_text(env: &TestEnv) -> String {
    let clients = tillbridge_local::provision::Clients::new(&env.stack.resources.endpoints).await;
    let mut text = String::new();
    let mut start = None;
    loop {
        let page = clients
            .dynamodb
            .scan()
            .table_name(&env.stack.resources.table_name)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            text.push_str(&format!("{item:?}\n"));
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return text,
        }
    }
}

#[tokio::test]
async fn connect_through_the_redirect_flow_and_keep_tokens_only_in_the_vault() {
    let logs = Captured::default();
    let writer = logs.clone();
    tillbridge::telemetry::init_with_writer(move || writer.clone());

    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("connect");
    connect_k_series(&env, &company).await;

    let view = integration(&env, &company).await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["name"], "Copper group");
    assert!(view["access_token_expires_at"].is_string(), "{view}");
    assert!(view["connected_at"].is_string());
    let text = view.to_string();
    assert!(
        !text.contains("token\":\"") && !text.contains("access_token\""),
        "no token values in the status: {text}"
    );

    // The tokens are in Secrets Manager, and they work against the API.
    let deps = env.deps("transfer-worker").await;
    let secret = vault::secret_id(&deps.config.secret_prefix, &company, PosProduct::KSeries);
    let tokens = vault::read(deps.secrets.as_ref(), &secret)
        .await
        .unwrap()
        .expect("tokens in the vault");
    let businesses = deps
        .lightspeed
        .get_json(&k_connection(&company), "/f/data/businesses", &[])
        .await
        .unwrap();
    assert!(businesses["_embedded"]["businessList"]
        .as_array()
        .is_some_and(|b| !b.is_empty()));

    // …and nowhere else: not in any DynamoDB item, not in any log line.
    let table = scan_table_text(&env).await;
    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!captured.is_empty(), "logs were captured");
    for token in [&tokens.access_token, &tokens.refresh_token] {
        assert!(
            !table.contains(token.expose_secret()),
            "a token is stored in DynamoDB"
        );
        assert!(
            !captured.contains(token.expose_secret()),
            "a token reached the logs"
        );
    }

    // One integration per company and product.
    let (status, body) = env
        .client(&company)
        .post(
            &format!("/v1/companies/{company}/integrations"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("lightspeed_integration_exists"))
    );
}

#[tokio::test]
async fn tampered_expired_and_replayed_states_are_refused() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V1, false).await;
    let company = unique_company("state");
    let api = env.client(&company);
    let (status, started) = api
        .post(
            &format!("/v1/companies/{company}/integrations"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{started}");
    let authorize_url = started["authorize_url"].as_str().unwrap();
    assert!(
        authorize_url.starts_with(&format!("{}/oauth/authorize?", env.sim().base_url())),
        "V1 authorize URL: {authorize_url}"
    );
    let callback = follow_redirect(authorize_url).await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let state_value = pairs.iter().find(|(k, _)| k == "state").unwrap().1.clone();

    let with_state = |url: &mut reqwest::Url, state: &str| {
        let others: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "state")
            .cloned()
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair("state", state);
        url.to_string()
    };
    // Tampered: flip one character of the signed payload.
    let mut tampered = state_value.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let outcome = result_params(
        &follow_redirect(&with_state(&mut url, &String::from_utf8(tampered).unwrap())).await,
    );
    assert_eq!(
        (param(&outcome, "outcome"), param(&outcome, "code")),
        (Some("error"), Some("invalid_state")),
        "{outcome:?}"
    );

    // Expired: a state signed with the deployment's own key but past its lifetime.
    let deps = env.deps("oauth-callback").await;
    let keys =
        AppKeys::parse(&deps.secrets.get(&deps.config.app_secret_id).await.unwrap()).unwrap();
    let expired = state::sign(
        &StateClaims {
            company_id: company.clone(),
            product: PosProduct::KSeries,
            nonce: "never-issued".into(),
            expires_at: chrono::Utc::now().timestamp() - 1,
            reauthorize: false,
            domain_prefix: None,
        },
        keys.state_signing_key.expose_secret().as_bytes(),
    );
    let outcome = result_params(&follow_redirect(&with_state(&mut url, &expired)).await);
    assert_eq!(param(&outcome, "code"), Some("invalid_state"));
    assert!(
        param(&outcome, "message").is_some_and(|m| m.contains("expired")),
        "{outcome:?}"
    );

    // The genuine state works once…
    let outcome = result_params(&follow_redirect(&callback).await);
    assert_eq!(param(&outcome, "outcome"), Some("connected"), "{outcome:?}");
    // …and a replay is refused.
    let outcome = result_params(&follow_redirect(&callback).await);
    assert_eq!(
        param(&outcome, "code"),
        Some("invalid_state"),
        "{outcome:?}"
    );
    assert_eq!(integration(&env, &company).await["status"], "active");
}

#[tokio::test]
async fn eight_workers_on_an_expired_token_cause_exactly_one_refresh() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("flight");
    connect_k_series(&env, &company).await;
    expire_access_tokens(&env).await;
    let (_, refreshes_before) = stats(&env).await;

    // Eight separate "Lambda instances": own clients, own token caches.
    let mut workers = Vec::new();
    for _ in 0..8 {
        workers.push(env.deps("transfer-worker").await);
    }
    let connection = k_connection(&company);
    let calls = workers.iter().map(|deps| {
        deps.lightspeed
            .get_json(&connection, "/f/data/businesses", &[])
    });
    let results = futures::future::join_all(calls).await;
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    let (_, refreshes_after) = stats(&env).await;
    assert_eq!(
        refreshes_after - refreshes_before,
        1,
        "exactly one refresh request reached Lightspeed"
    );
    let view = integration(&env, &company).await;
    assert_eq!(view["status"], "active");
    assert!(view["last_refresh_at"].is_string());
    assert!(open_alerts(&env, &company).await.is_empty());
}

#[tokio::test]
async fn a_revoked_refresh_token_disconnects_until_reauthorized() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("revoked");
    connect_k_series(&env, &company).await;
    let api = env.client(&company);
    // Setup that must survive reauthorization.
    let (_, unit) = api
        .post(
            &format!("/v1/companies/{company}/storage-units"),
            &json!({"name": "Main Kitchen"}),
            None,
        )
        .await
        .unwrap();

    env.sim_control(Method::POST, "/_sim/tokens/revoke-all", None)
        .await;
    let deps = env.deps("transfer-worker").await;
    let result = deps
        .lightspeed
        .get_json(&k_connection(&company), "/f/data/businesses", &[])
        .await;
    assert!(
        matches!(result, Err(LightspeedError::Disconnected(_))),
        "{result:?}"
    );
    // A second worker does not hammer the token endpoint: it sees the disconnection.
    let (_, refreshes) = stats(&env).await;
    let again = env
        .deps("transfer-worker")
        .await
        .lightspeed
        .get_json(&k_connection(&company), "/f/data/businesses", &[])
        .await;
    assert!(
        matches!(again, Err(LightspeedError::Disconnected(_))),
        "{again:?}"
    );
    assert_eq!(stats(&env).await.1, refreshes);

    assert_eq!(integration(&env, &company).await["status"], "disconnected");
    let alerts = open_alerts(&env, &company).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (alerts[0]["code"].as_str(), alerts[0]["subject"].as_str()),
        (Some("disconnected"), Some("k_series"))
    );

    // Reauthorize through the same redirect flow.
    let params = env
        .authorize(
            &company,
            &format!("/v1/companies/{company}/integrations/k_series/reauthorize"),
            None,
        )
        .await;
    assert_eq!(param(&params, "outcome"), Some("connected"), "{params:?}");
    let view = integration(&env, &company).await;
    assert_eq!(view["status"], "active");
    assert!(view["reauthorized_at"].is_string());
    assert_eq!(view["name"], "Copper group");
    assert!(
        open_alerts(&env, &company).await.is_empty(),
        "the alert resolved itself"
    );
    let (_, history) = api
        .get(&format!("/v1/companies/{company}/alerts?status=resolved"))
        .await
        .unwrap();
    assert_eq!(history["items"][0]["code"], "disconnected");
    let fresh = env.deps("transfer-worker").await;
    assert!(fresh
        .lightspeed
        .get_json(&k_connection(&company), "/f/data/businesses", &[])
        .await
        .is_ok());
    let (status, still) = api
        .get(&format!(
            "/v1/companies/{company}/storage-units/{}",
            unit["id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    assert_eq!((status, &still), (200, &unit), "setup is intact");
}

#[tokio::test]
async fn a_token_endpoint_outage_is_retryable_and_recovers() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("outage");
    connect_k_series(&env, &company).await;
    expire_access_tokens(&env).await;
    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.token",
        Some(json!({"share5xx": 1.0, "status5xx": 503})),
    )
    .await;

    let deps = env.deps("transfer-worker").await;
    let connection = k_connection(&company);
    for _ in 0..2 {
        let result = deps
            .lightspeed
            .get_json(&connection, "/f/data/businesses", &[])
            .await;
        assert!(
            matches!(&result, Err(e @ LightspeedError::RefreshFailed(_)) if e.is_retryable()),
            "{result:?}"
        );
    }
    assert_eq!(
        integration(&env, &company).await["status"],
        "refresh_failed"
    );
    let alerts = open_alerts(&env, &company).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0]["code"].as_str(), alerts[0]["count"].as_u64()),
        (Some("token_refresh_failed"), Some(2))
    );

    env.sim_control(Method::DELETE, "/_sim/faults", None).await;
    assert!(deps
        .lightspeed
        .get_json(&connection, "/f/data/businesses", &[])
        .await
        .is_ok());
    assert_eq!(integration(&env, &company).await["status"], "active");
    assert!(
        open_alerts(&env, &company).await.is_empty(),
        "recovery resolved the alert"
    );
}

#[tokio::test]
async fn x_series_connects_with_its_store_prefix() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("retail");
    let params = env
        .authorize(
            &company,
            &format!("/v1/companies/{company}/integrations"),
            Some(json!({"product": "x_series"})),
        )
        .await;
    assert_eq!(param(&params, "outcome"), Some("connected"), "{params:?}");
    let (_, view) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/x_series"))
        .await
        .unwrap();
    assert_eq!(view["status"], "active");
    assert_eq!(view["domain_prefix"], "harbourgoods");
    let deps = env.deps("transfer-worker").await;
    let connection = Connection {
        company_id: company.clone(),
        product: PosProduct::XSeries,
        domain_prefix: Some("harbourgoods".into()),
    };
    let outlets = deps
        .lightspeed
        .get_json(&connection, "/api/2.0/outlets", &[])
        .await
        .unwrap();
    assert!(
        outlets["data"].as_array().is_some_and(|o| !o.is_empty()),
        "{outlets}"
    );
}

#[tokio::test]
async fn connection_errors_have_stable_codes() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("errors");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/integrations");
    let (status, body) = api
        .post(&base, &json!({"product": "r_series"}), None)
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
    let (status, body) = api
        .request(
            Method::POST,
            &format!("{base}/k_series/reauthorize"),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("integration_not_found"))
    );
    let (status, body) = api.get(&format!("{base}/k_series")).await.unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("integration_not_found"))
    );
    let other = unique_company("other");
    let (status, body) = api
        .post(
            &format!("/v1/companies/{other}/integrations"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("unauthorized_company_access"))
    );

    // A code Lightspeed refuses at the token endpoint.
    let (_, started) = api
        .post(&base, &json!({"product": "k_series"}), None)
        .await
        .unwrap();
    let callback = follow_redirect(started["authorize_url"].as_str().unwrap()).await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == "code" {
                (k.into_owned(), "code-forged".to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let outcome = result_params(&follow_redirect(url.as_str()).await);
    assert_eq!(
        param(&outcome, "code"),
        Some("lightspeed_oauth_exchange_failed"),
        "{outcome:?}"
    );

    // The result page shows the outcome to a person.
    let page = reqwest::get(format!(
        "{}/oauth/result?outcome=error&code=invalid_state&message=%3Cscript%3E",
        env.host.base_url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        page.contains("did not complete")
            && page.contains("&lt;script&gt;")
            && !page.contains("<script>"),
        "{page}"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test]
async fn an_unconfigured_deployment_says_so() {
    // No redirect URI configured: nothing can be authorized.
    let extra = vec![(
        tillbridge::lightspeed::settings::env::OAUTH_REDIRECT_URI.to_string(),
        String::new(),
    )];
    let env = TestEnv::with_lightspeed_env(sim(), KAuthVersion::V2, extra).await;
    let company = unique_company("unconfigured");
    let (status, body) = env
        .client(&company)
        .post(
            &format!("/v1/companies/{company}/integrations"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("lightspeed_not_configured")),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("OAUTH_REDIRECT_URI"));
    let (status, _) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/k_series"))
        .await
        .unwrap();
    assert_eq!(status, 404, "nothing was created");
}

#[tokio::test]
async fn throttling_and_server_errors_are_typed_and_carry_retry_after() {
    let env = TestEnv::with_lightspeed(sim(), KAuthVersion::V2, false).await;
    let company = unique_company("throttle");
    connect_k_series(&env, &company).await;
    let deps = env.deps("transfer-worker").await;
    let connection = k_connection(&company);
    let call = || {
        deps.lightspeed
            .get_json(&connection, "/f/data/businesses", &[])
    };

    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.businesses",
        Some(json!({"share429": 1.0, "retryAfterSeconds": 7})),
    )
    .await;
    match call().await {
        Err(LightspeedError::Retryable {
            status: Some(429),
            retry_after: Some(wait),
            ..
        }) => assert_eq!(wait, Duration::from_secs(7)),
        other => panic!("expected a retryable 429 with Retry-After 7 s, got {other:?}"),
    }
    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.businesses",
        Some(json!({"share429": 1.0, "retryAfterSeconds": 120, "retryAfterHttpDate": true})),
    )
    .await;
    match call().await {
        Err(LightspeedError::Retryable {
            status: Some(429),
            retry_after: Some(wait),
            ..
        }) => {
            assert!(
                (Duration::from_secs(115)..=Duration::from_secs(121)).contains(&wait),
                "HTTP-date Retry-After read as {wait:?}"
            )
        }
        other => panic!("expected a retryable 429 with an HTTP-date Retry-After, got {other:?}"),
    }
    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.businesses",
        Some(json!({"share5xx": 1.0, "status5xx": 502})),
    )
    .await;
    assert!(matches!(
        call().await,
        Err(LightspeedError::Retryable {
            status: Some(502),
            ..
        })
    ));
    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.businesses",
        Some(json!({"shareMalformed": 1.0})),
    )
    .await;
    assert!(
        matches!(call().await, Err(e @ LightspeedError::Retryable { .. }) if e.to_string().contains("not valid JSON"))
    );
    // A 401 on a valid token: refreshed once, retried once, then it works.
    env.sim_control(
        Method::PUT,
        "/_sim/faults/k.businesses",
        Some(json!({"share401": 1.0, "remaining": 1})),
    )
    .await;
    let (_, refreshes_before) = stats(&env).await;
    assert!(call().await.is_ok());
    assert_eq!(stats(&env).await.1 - refreshes_before, 1);
    env.sim_control(Method::DELETE, "/_sim/faults", None).await;
    assert_eq!(
        integration(&env, &company).await["status"],
        "active",
        "API faults do not touch the connection"
    );
}
