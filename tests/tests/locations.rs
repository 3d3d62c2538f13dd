//! Locations: sync from the simulated K-Series group, storage-unit links, day settings,
//! activation, filters, the detail page and cross-company refusal.

use reqwest::Method;
use serde_json::{json, Value};
use tillbridge_tests::{error_code, unique_company, AdminClient, TestEnv};

async fn connected(prefix: &str) -> (TestEnv, String) {
    TestEnv::connected(prefix, "k_series").await
}

async fn sync(api: &AdminClient, company: &str) -> Value {
    let (status, summary) = api
        .post(
            &format!("/v1/companies/{company}/locations/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{summary}");
    summary
}

#[tokio::test]
async fn sync_records_every_location_with_zone_and_currency_and_keeps_vanished_ones() {
    let (env, company) = connected("loc-sync").await;
    let api = env.client(&company);
    // A location this company had before that Lightspeed no longer returns.
    let deps = env.deps("admin-api").await;
    let old = tillbridge::location::record::new_location(
        &company,
        tillbridge::connection::PosProduct::KSeries,
        &tillbridge::location::UpstreamLocation {
            location_id: "999".into(),
            name: "Closed site".into(),
            business_name: None,
            country: Some("GB".into()),
            timezone: Some("Europe/London".into()),
            currency: Some("GBP".into()),
        },
        "2026-01-01T00:00:00Z",
    );
    deps.store
        .put(
            old.to_item().unwrap(),
            tillbridge::store::Condition::NotExists,
        )
        .await
        .unwrap();

    let summary = sync(&api, &company).await;
    assert_eq!(
        (
            summary["seen"].as_u64(),
            summary["created"].as_u64(),
            summary["missing_upstream"].as_u64()
        ),
        (Some(3), Some(3), Some(1)),
        "{summary}"
    );
    let (items, _) = api
        .list_all(&format!("/v1/companies/{company}/locations"), 100)
        .await
        .unwrap();
    assert_eq!(items.len(), 4);
    let ponsonby = items
        .iter()
        .find(|l| l["name"].as_str().is_some_and(|n| n.contains("Ponsonby")))
        .expect("the Auckland site");
    assert_eq!(
        (
            ponsonby["timezone"].as_str(),
            ponsonby["currency"].as_str(),
            ponsonby["country"].as_str()
        ),
        (Some("Pacific/Auckland"), Some("NZD"), Some("NZ"))
    );
    assert_eq!(ponsonby["day_cutoff_hour"], 4);
    let closed = items.iter().find(|l| l["location_id"] == "999").unwrap();
    assert_eq!(
        closed["missing_upstream"], true,
        "kept, flagged, never deleted"
    );

    let again = sync(&api, &company).await;
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{again}"
    );
    let (missing, _) = api
        .list_all(
            &format!("/v1/companies/{company}/locations?missing=true"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(missing.len(), 1);
}

#[tokio::test]
async fn storage_units_link_and_unlink_with_company_checks() {
    let (env, company) = connected("loc-link").await;
    let api = env.client(&company);
    sync(&api, &company).await;
    let (locations, _) = api
        .list_all(&format!("/v1/companies/{company}/locations"), 100)
        .await
        .unwrap();
    let location = locations[0]["location_id"].as_str().unwrap().to_string();
    let link = format!("/v1/companies/{company}/locations/{location}/storage-unit");

    let (status, body) = api
        .request(
            Method::PUT,
            &link,
            Some(("application/json", b"{}".to_vec())),
            &[],
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (422, "storage_unit_required"));
    let (status, body) = api
        .request(
            Method::PUT,
            &link,
            Some((
                "application/json",
                br#"{"storage_unit_id":"no-such-unit"}"#.to_vec(),
            )),
            &[],
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (404, "storage_unit_not_found"));

    let other = unique_company("loc-other");
    let (_, foreign) = env
        .client(&other)
        .post(
            &format!("/v1/companies/{other}/storage-units"),
            &json!({"name": "Not yours"}),
            None,
        )
        .await
        .unwrap();
    let body = json!({"storage_unit_id": foreign["id"]})
        .to_string()
        .into_bytes();
    let (status, reply) = api
        .request(Method::PUT, &link, Some(("application/json", body)), &[])
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (422, "storage_unit_company_mismatch"),
        "{reply}"
    );

    let (_, own) = api
        .post(
            &format!("/v1/companies/{company}/storage-units"),
            &json!({"name": "Main Kitchen"}),
            None,
        )
        .await
        .unwrap();
    let body = json!({"storage_unit_id": own["id"]})
        .to_string()
        .into_bytes();
    let (status, linked) = api
        .request(Method::PUT, &link, Some(("application/json", body)), &[])
        .await
        .unwrap();
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["storage_unit_id"], own["id"]);
    let (_, detail) = api
        .get(&format!("/v1/companies/{company}/locations/{location}"))
        .await
        .unwrap();
    assert_eq!(detail["storage_unit"]["name"], "Main Kitchen");
    let (linked_list, _) = api
        .list_all(
            &format!(
                "/v1/companies/{company}/locations?storage_unit_id={}",
                own["id"].as_str().unwrap()
            ),
            100,
        )
        .await
        .unwrap();
    assert_eq!(linked_list.len(), 1);

    let (status, unlinked) = api.request(Method::DELETE, &link, None, &[]).await.unwrap();
    assert_eq!((status, &unlinked["storage_unit_id"]), (200, &Value::Null));
    let (_, detail) = api
        .get(&format!("/v1/companies/{company}/locations/{location}"))
        .await
        .unwrap();
    assert!(
        detail["health"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["code"] == "storage_unit_required"),
        "{detail}"
    );
}

#[tokio::test]
async fn day_settings_activation_and_filters() {
    let (env, company) = connected("loc-activate").await;
    let api = env.client(&company);
    sync(&api, &company).await;
    let (locations, pages) = api
        .list_all(&format!("/v1/companies/{company}/locations"), 1)
        .await
        .unwrap();
    assert_eq!((locations.len(), pages), (3, 3), "one location per page");
    let location = locations[0]["location_id"].as_str().unwrap().to_string();
    let base = format!("/v1/companies/{company}/locations/{location}");

    for (body, expected) in [
        (json!({"timezone": "Mars/Olympus"}), "validation_failed"),
        (json!({"day_cutoff_hour": 24}), "validation_failed"),
        (json!({"day_mode": "lunar"}), "validation_failed"),
        (json!({}), "validation_failed"),
    ] {
        let (status, reply) = api.patch(&base, &body).await.unwrap();
        assert_eq!((status, error_code(&reply)), (400, expected), "{body}");
    }
    let (status, patched) = api
        .patch(
            &base,
            &json!({"timezone": "America/New_York", "day_cutoff_hour": 5}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (
            patched["timezone"].as_str(),
            patched["day_cutoff_hour"].as_u64()
        ),
        (Some("America/New_York"), Some(5))
    );

    let activate = format!("{base}/activate");
    let (status, reply) = api
        .request(Method::POST, &activate, None, &[])
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (422, "storage_unit_required"));
    let (_, unit) = api
        .post(
            &format!("/v1/companies/{company}/storage-units"),
            &json!({"name": "Bar"}),
            None,
        )
        .await
        .unwrap();
    let body = json!({"storage_unit_id": unit["id"]})
        .to_string()
        .into_bytes();
    api.request(
        Method::PUT,
        &format!("{base}/storage-unit"),
        Some(("application/json", body)),
        &[],
    )
    .await
    .unwrap();
    let (status, reply) = api
        .request(Method::POST, &activate, None, &[])
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (422, "mapping_required"));

    // One mapped item makes the location ready.
    let (_, ingredient) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Cola", "unit": "bottle"}),
            None,
        )
        .await
        .unwrap();
    let (status, items) = api
        .post(
            &format!("/v1/companies/{company}/items/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{items}");
    let (_, first) = api
        .get(&format!("/v1/companies/{company}/items?limit=1"))
        .await
        .unwrap();
    let item_id = first["items"][0]["item_id"].as_str().unwrap();
    let (status, mapped) = api
        .request(
            Method::PUT,
            &format!("/v1/companies/{company}/items/k_series/{item_id}/mapping"),
            Some((
                "application/json",
                json!({"ingredient_id": ingredient["id"], "quantity": "1"})
                    .to_string()
                    .into_bytes(),
            )),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{mapped}");

    let (status, activated) = api
        .request(Method::POST, &activate, None, &[])
        .await
        .unwrap();
    assert_eq!(status, 201, "{activated}");
    assert_eq!(activated["migration_requested"], true);
    assert!(activated["location"]["activated_at"].is_string());
    let (status, again) = api
        .request(Method::POST, &activate, None, &[])
        .await
        .unwrap();
    assert_eq!(
        (status, &again["migration_requested"]),
        (200, &json!(false)),
        "activation is one way and idempotent"
    );
    assert_eq!(
        again["location"]["activated_at"],
        activated["location"]["activated_at"]
    );

    // One migration job, its 90 days on the migration queue (none skipped: nothing was
    // transferred yet), whatever the repeated activation.
    let (_, jobs) = api.get(&format!("{base}/migrations")).await.unwrap();
    let jobs = jobs["items"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["total_days"], 90);
    let job_id = jobs[0]["job_id"].as_str().unwrap().to_string();
    let sqs = env.sqs().await;
    let url = env.queue_url("MigrationQueue");
    let mut days = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap();
        // Taken off as read: a FIFO lane hands out its next day only then.
        for message in received.messages.unwrap_or_default() {
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            let body: Value =
                serde_json::from_str(message.body().unwrap_or("{}")).unwrap_or_default();
            assert_eq!(body["job_id"], job_id.as_str(), "{body}");
            assert_eq!(body["location_id"], location.as_str());
            days.insert(body["date"].as_str().unwrap().to_string());
        }
        if days.len() == 90 {
            break;
        }
    }
    assert_eq!(days.len(), 90);
    assert_eq!(
        days.iter().next().map(String::as_str),
        jobs[0]["start_date"].as_str()
    );

    let (_, detail) = api.get(&base).await.unwrap();
    let stats = &detail["stats"];
    assert_eq!(stats["catalog_mapped"], 1, "{detail}");
    assert!(stats["catalog_items"].as_u64().unwrap() > 1);
    assert!(detail["health"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["code"] == "unmapped_items"));
    assert!(!detail["health"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["code"] == "storage_unit_required" || h["code"] == "not_activated"));
    let (active, _) = api
        .list_all(
            &format!("/v1/companies/{company}/locations?activated=true"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    let (_, paused) = api
        .patch(&base, &json!({"auto_issue": false}))
        .await
        .unwrap();
    assert_eq!(paused["auto_issue"], false);
    let (paused_list, _) = api
        .list_all(
            &format!("/v1/companies/{company}/locations?auto_issue=false"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(paused_list.len(), 1);
    let (status, bad) = api
        .get(&format!(
            "/v1/companies/{company}/locations?activated=maybe"
        ))
        .await
        .unwrap();
    assert_eq!((status, error_code(&bad)), (400, "validation_failed"));
}

#[tokio::test]
async fn location_routes_refuse_other_companies() {
    let (env, company) = connected("loc-403").await;
    let intruder = env.client(&unique_company("intruder"));
    for (method, path) in [
        (
            Method::POST,
            format!("/v1/companies/{company}/locations/sync"),
        ),
        (Method::GET, format!("/v1/companies/{company}/locations")),
        (Method::GET, format!("/v1/companies/{company}/locations/1")),
        (
            Method::PATCH,
            format!("/v1/companies/{company}/locations/1"),
        ),
        (
            Method::PUT,
            format!("/v1/companies/{company}/locations/1/storage-unit"),
        ),
        (
            Method::DELETE,
            format!("/v1/companies/{company}/locations/1/storage-unit"),
        ),
        (
            Method::POST,
            format!("/v1/companies/{company}/locations/1/activate"),
        ),
        (Method::POST, format!("/v1/companies/{company}/items/sync")),
        (Method::GET, format!("/v1/companies/{company}/items")),
        (
            Method::GET,
            format!("/v1/companies/{company}/items/k_series/1"),
        ),
        (
            Method::PUT,
            format!("/v1/companies/{company}/items/k_series/1/mapping"),
        ),
        (
            Method::DELETE,
            format!("/v1/companies/{company}/items/k_series/1/mapping"),
        ),
    ] {
        let (status, body) = intruder
            .request(
                method.clone(),
                &path,
                Some(("application/json", b"{}".to_vec())),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (status, error_code(&body)),
            (403, "unauthorized_company_access"),
            "{method} {path}"
        );
    }
    let (status, body) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/locations/nope"))
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (404, "location_not_found"));
}
