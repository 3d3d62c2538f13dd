//! Alerts are deduplicated per (company, code, subject), counted, resolved on recovery, and
//! listed and acknowledged through the admin API.

use reqwest::Method;
use tillbridge::alerts;
use tillbridge_tests::{unique_company, TestEnv};

#[tokio::test]
async fn repeated_failures_share_one_open_alert_until_recovery() {
    let env = TestEnv::http().await;
    let company = unique_company("alerts");
    let config = env
        .stack
        .resources
        .function_config(&env.stack.template, "admin-api")
        .unwrap();
    let deps = tillbridge::Deps::from_config(config).await;
    let store = deps.store.as_ref();

    let first = alerts::raise(
        store,
        &company,
        "disconnected",
        "k_series",
        "refresh token revoked",
        "2026-11-22T01:00:00Z",
    )
    .await
    .unwrap();
    let second = alerts::raise(
        store,
        &company,
        "disconnected",
        "k_series",
        "still revoked",
        "2026-11-22T02:00:00Z",
    )
    .await
    .unwrap();
    alerts::raise(
        store,
        &company,
        "token_refresh_failed",
        "k_series",
        "503",
        "2026-11-22T02:30:00Z",
    )
    .await
    .unwrap();
    assert_eq!(first.alert_id, second.alert_id);
    assert_eq!(
        (
            second.count,
            second.first_seen.as_str(),
            second.last_seen.as_str()
        ),
        (2, "2026-11-22T01:00:00Z", "2026-11-22T02:00:00Z")
    );

    let api = env.client(&company);
    let (status, open) = api
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let codes: Vec<&str> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["disconnected", "token_refresh_failed"]);
    assert_eq!(open["items"][0]["count"], 2);
    assert_eq!(open["items"][0]["message"], "still revoked");

    let (status, acked) = api
        .request(
            Method::POST,
            &format!(
                "/v1/companies/{company}/alerts/{}/acknowledge",
                first.alert_id
            ),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{acked}");
    assert!(acked["acknowledged_at"].is_string());
    assert_eq!(acked["status"], "open", "acknowledging does not resolve");

    let resolved = alerts::resolve(
        store,
        &company,
        "disconnected",
        "k_series",
        "2026-11-22T03:00:00Z",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        resolved.resolved_at.as_deref(),
        Some("2026-11-22T03:00:00Z")
    );
    assert!(alerts::resolve(
        store,
        &company,
        "disconnected",
        "k_series",
        "2026-11-22T03:00:01Z"
    )
    .await
    .unwrap()
    .is_none());

    let (_, open) = api
        .get(&format!("/v1/companies/{company}/alerts?status=open"))
        .await
        .unwrap();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let (_, history) = api
        .get(&format!("/v1/companies/{company}/alerts?status=resolved"))
        .await
        .unwrap();
    assert_eq!(history["items"][0]["alert_id"], first.alert_id.as_str());
    assert_eq!(history["items"][0]["count"], 2);

    // The same failure after recovery is a new incident.
    let again = alerts::raise(
        store,
        &company,
        "disconnected",
        "k_series",
        "revoked again",
        "2026-11-23T01:00:00Z",
    )
    .await
    .unwrap();
    assert_ne!(again.alert_id, first.alert_id);
    assert_eq!(again.count, 1);

    let (status, body) = api
        .request(
            Method::POST,
            &format!(
                "/v1/companies/{company}/alerts/{}/acknowledge",
                first.alert_id
            ),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("alert_not_found")),
        "resolved alerts cannot be acknowledged"
    );
    let (status, body) = api
        .get(&format!("/v1/companies/{company}/alerts?status=maybe"))
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
}

#[tokio::test]
async fn concurrent_raises_count_every_occurrence() {
    let env = TestEnv::http().await;
    let company = unique_company("alert-race");
    let config = env
        .stack
        .resources
        .function_config(&env.stack.template, "admin-api")
        .unwrap();
    let deps = tillbridge::Deps::from_config(config).await;
    let raises = (0..6).map(|i| {
        let store = deps.store.clone();
        let company = company.clone();
        async move {
            alerts::raise(
                store.as_ref(),
                &company,
                "token_refresh_failed",
                "x_series",
                &format!("attempt {i}"),
                "2026-11-22T00:00:00Z",
            )
            .await
        }
    });
    let results = futures::future::join_all(raises).await;
    let ids: std::collections::BTreeSet<String> =
        results.into_iter().map(|r| r.unwrap().alert_id).collect();
    assert_eq!(ids.len(), 1, "one alert for one (code, subject)");
    let (open, _) = alerts::list(
        deps.store.as_ref(),
        &company,
        alerts::AlertStatus::Open,
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(open[0].count, 6);
}
