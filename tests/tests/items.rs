//! Items: sync from the simulated K-Series group (paged per location, deduplicated across
//! locations), the item list with filters and its "mapped to" column, mappings, and the
//! rename / archive / delete behaviour on re-sync.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge_tests::{error_code, param, unique_company, AdminClient, TestEnv};

async fn synced(prefix: &str) -> (TestEnv, String) {
    let (env, company) = TestEnv::connected(prefix, "k_series").await;
    let (status, body) = env
        .client(&company)
        .post(
            &format!("/v1/companies/{company}/locations/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    (env, company)
}

async fn sync_items(api: &AdminClient, company: &str) -> Value {
    let (status, summary) = api
        .post(
            &format!("/v1/companies/{company}/items/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{summary}");
    summary
}

async fn map(api: &AdminClient, company: &str, item_id: &str, body: Value) -> (u16, Value) {
    api.request(
        Method::PUT,
        &format!("/v1/companies/{company}/items/k_series/{item_id}/mapping"),
        Some(("application/json", body.to_string().into_bytes())),
        &[],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn sync_reads_every_page_of_every_location_and_deduplicates() {
    let (env, company) = synced("items-sync").await;
    let api = env.client(&company);
    // Independent expectation from the simulator's own data: distinct live items per
    // business, and per location one page per 100 items plus the short last page.
    let state = env.sim().state().clone();
    let (expected_items, expected_requests) = {
        let items = state.k.items.read().unwrap();
        let mut distinct = BTreeSet::new();
        let mut requests = 0;
        for location in &state.k.catalog.locations {
            let live: Vec<i64> = items[location.business]
                .iter()
                .filter(|i| !i.deleted)
                .map(|i| i.id)
                .collect();
            requests += live.len() / 100 + 1;
            distinct.extend(live);
        }
        (distinct.len(), requests)
    };
    assert!(
        expected_items >= 100,
        "the simulated menu has at least 100 items"
    );
    let summary = sync_items(&api, &company).await;
    assert_eq!(
        summary["seen"].as_u64(),
        Some(expected_items as u64),
        "{summary}"
    );
    assert_eq!(summary["created"].as_u64(), Some(expected_items as u64));
    assert_eq!(
        summary["requests"].as_u64(),
        Some(expected_requests as u64),
        "no more requests than pages"
    );

    let (all, pages) = api
        .list_all(&format!("/v1/companies/{company}/items"), 40)
        .await
        .unwrap();
    assert_eq!(all.len(), expected_items);
    assert_eq!(pages, expected_items.div_ceil(40));
    let ids: BTreeSet<&str> = all.iter().map(|i| i["item_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), expected_items, "each item once");
    let shared = all
        .iter()
        .filter(|i| i["location_ids"].as_array().is_some_and(|l| l.len() > 1))
        .count();
    assert!(shared > 0, "items sold at several locations are one record");
    assert!(
        all.iter()
            .all(|i| i["price"].is_string() || i["price"].is_null()),
        "prices are decimal strings"
    );

    let again = sync_items(&api, &company).await;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
}

#[tokio::test]
async fn mappings_filters_and_errors() {
    let (env, company) = synced("items-map").await;
    let api = env.client(&company);
    sync_items(&api, &company).await;
    let (_, first) = api
        .get(&format!("/v1/companies/{company}/items?limit=3"))
        .await
        .unwrap();
    let items: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_string())
        .collect();
    let (_, ingredient) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Bun", "unit": "piece"}),
            None,
        )
        .await
        .unwrap();

    for (body, status, expected) in [
        (
            json!({"ingredient_id": ingredient["id"], "quantity": "0"}),
            400,
            "validation_failed",
        ),
        (
            json!({"ingredient_id": ingredient["id"], "recipe_id": "r", "quantity": "1"}),
            400,
            "validation_failed",
        ),
        (json!({"quantity": "1"}), 400, "validation_failed"),
        (
            json!({"ingredient_id": "nope", "quantity": "1"}),
            404,
            "ingredient_not_found",
        ),
        (
            json!({"recipe_id": "nope", "quantity": "1"}),
            404,
            "recipe_not_found",
        ),
    ] {
        let (got, reply) = map(&api, &company, &items[0], body.clone()).await;
        assert_eq!((got, error_code(&reply)), (status, expected), "{body}");
    }
    let (status, reply) = map(
        &api,
        &company,
        "no-such-item",
        json!({"ingredient_id": ingredient["id"], "quantity": "1"}),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (404, "item_not_found"));

    let (status, mapped) = map(
        &api,
        &company,
        &items[0],
        json!({"ingredient_id": ingredient["id"], "quantity": "2", "is_subtraction": false}),
    )
    .await;
    assert_eq!(status, 200, "{mapped}");
    map(
        &api,
        &company,
        &items[1],
        json!({"ingredient_id": ingredient["id"], "quantity": "1.5"}),
    )
    .await;
    // Update replaces.
    let (_, replaced) = map(
        &api,
        &company,
        &items[0],
        json!({"ingredient_id": ingredient["id"], "quantity": "3", "is_subtraction": true}),
    )
    .await;
    assert_eq!(
        (
            replaced["quantity"].as_str(),
            replaced["is_subtraction"].as_bool()
        ),
        (Some("3"), Some(true))
    );

    let (mapped_list, _) = api
        .list_all(&format!("/v1/companies/{company}/items?mapped=true"), 100)
        .await
        .unwrap();
    assert_eq!(mapped_list.len(), 2);
    let first_mapped = mapped_list
        .iter()
        .find(|i| i["item_id"] == items[0].as_str())
        .unwrap();
    assert_eq!(first_mapped["mapped_to"]["target_id"], ingredient["id"]);
    assert_eq!(first_mapped["mapped_to"]["quantity"], "3");
    let (unmapped, _) = api
        .list_all(&format!("/v1/companies/{company}/items?mapped=false"), 100)
        .await
        .unwrap();
    let (all, _) = api
        .list_all(&format!("/v1/companies/{company}/items"), 100)
        .await
        .unwrap();
    assert_eq!(unmapped.len() + 2, all.len());
    let location = first_mapped["location_ids"][0].as_str().unwrap();
    let (at_location, _) = api
        .list_all(
            &format!("/v1/companies/{company}/items?location_id={location}"),
            100,
        )
        .await
        .unwrap();
    assert!(at_location.iter().all(|i| i["location_ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == location)));
    assert!(!at_location.is_empty());

    // Delete removes.
    let path = format!(
        "/v1/companies/{company}/items/k_series/{}/mapping",
        items[1]
    );
    let (status, _) = api.request(Method::DELETE, &path, None, &[]).await.unwrap();
    assert_eq!(status, 200);
    let (status, reply) = api.request(Method::DELETE, &path, None, &[]).await.unwrap();
    assert_eq!((status, error_code(&reply)), (404, "mapping_not_found"));
    let (_, item) = api
        .get(&format!(
            "/v1/companies/{company}/items/k_series/{}",
            items[1]
        ))
        .await
        .unwrap();
    assert_eq!(item["mapped_to"], Value::Null);

    // A mapped ingredient or recipe cannot be deleted from under its mapping.
    let ingredient_path = format!(
        "/v1/companies/{company}/ingredients/{}",
        ingredient["id"].as_str().unwrap()
    );
    let (status, reply) = api
        .request(Method::DELETE, &ingredient_path, None, &[])
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (409, "ingredient_in_use"),
        "{reply}"
    );
    let (_, recipe) = api
        .post(&format!("/v1/companies/{company}/recipes"), &json!({"name": "Burger build", "lines": [{"ingredient_id": ingredient["id"], "quantity": "1"}]}), None)
        .await
        .unwrap();
    // Re-pointing the mapping to the recipe moves the reference with it.
    let (status, _) = map(
        &api,
        &company,
        &items[0],
        json!({"recipe_id": recipe["id"], "quantity": "1"}),
    )
    .await;
    assert_eq!(status, 200);
    let recipe_path = format!(
        "/v1/companies/{company}/recipes/{}",
        recipe["id"].as_str().unwrap()
    );
    let (status, reply) = api
        .request(Method::DELETE, &recipe_path, None, &[])
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (409, "recipe_in_use"),
        "{reply}"
    );
    api.request(
        Method::DELETE,
        &format!(
            "/v1/companies/{company}/items/k_series/{}/mapping",
            items[0]
        ),
        None,
        &[],
    )
    .await
    .unwrap();
    let (status, _) = api
        .request(Method::DELETE, &recipe_path, None, &[])
        .await
        .unwrap();
    assert_eq!(status, 204, "unused once the mapping is gone");
    let (status, _) = api
        .request(Method::DELETE, &ingredient_path, None, &[])
        .await
        .unwrap();
    assert_eq!(status, 204, "the recipe that used it is gone too");
}

#[tokio::test]
async fn renamed_archived_and_deleted_items_on_resync() {
    let (env, company) = synced("items-change").await;
    let api = env.client(&company);
    sync_items(&api, &company).await;
    let (_, page) = api
        .get(&format!("/v1/companies/{company}/items?limit=4"))
        .await
        .unwrap();
    let ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_string())
        .collect();
    let (_, ingredient) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Patty", "unit": "piece"}),
            None,
        )
        .await
        .unwrap();
    for id in &ids[..3] {
        map(
            &api,
            &company,
            id,
            json!({"ingredient_id": ingredient["id"], "quantity": "1"}),
        )
        .await;
    }
    // ids[0] mapped + renamed, ids[1] mapped + archived, ids[2] mapped + deleted, ids[3] unmapped + renamed.
    env.sim_control(
        Method::PATCH,
        &format!("/_sim/k/items/{}", ids[0]),
        Some(json!({"name": "Burger Deluxe", "sku": "BURG-DLX"})),
    )
    .await;
    env.sim_control(
        Method::PATCH,
        &format!("/_sim/k/items/{}", ids[1]),
        Some(json!({"active": false})),
    )
    .await;
    env.sim_control(Method::DELETE, &format!("/_sim/k/items/{}", ids[2]), None)
        .await;
    env.sim_control(
        Method::PATCH,
        &format!("/_sim/k/items/{}", ids[3]),
        Some(json!({"name": "Renamed but unmapped"})),
    )
    .await;

    let summary = sync_items(&api, &company).await;
    assert_eq!(
        (
            summary["renamed_alerts"].as_u64(),
            summary["orphaned_alerts"].as_u64(),
            summary["deleted_upstream"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{summary}"
    );
    let (_, alerts) = api
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    let mut found: Vec<(String, String)> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        ("mapped_item_renamed".to_string(), ids[0].clone()),
        ("orphaned_mapping".to_string(), ids[2].clone()),
    ];
    expected.sort();
    assert_eq!(found, expected);

    let (_, renamed) = api
        .get(&format!(
            "/v1/companies/{company}/items/k_series/{}",
            ids[0]
        ))
        .await
        .unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["sku"].as_str()),
        (Some("Burger Deluxe"), Some("BURG-DLX"))
    );
    assert!(
        renamed["mapped_to"].is_object(),
        "a rename keeps the mapping"
    );
    let (_, archived) = api
        .get(&format!(
            "/v1/companies/{company}/items/k_series/{}",
            ids[1]
        ))
        .await
        .unwrap();
    assert_eq!(archived["active"], false);
    assert!(
        archived["mapped_to"].is_object(),
        "archived items keep working"
    );
    let (_, deleted) = api
        .get(&format!(
            "/v1/companies/{company}/items/k_series/{}",
            ids[2]
        ))
        .await
        .unwrap();
    assert_eq!(deleted["deleted_upstream"], true);
    let (inactive, _) = api
        .list_all(&format!("/v1/companies/{company}/items?active=false"), 100)
        .await
        .unwrap();
    assert!(inactive.iter().any(|i| i["item_id"] == ids[1].as_str()));

    // A second sync with nothing new raises nothing new.
    let quiet = sync_items(&api, &company).await;
    assert_eq!(
        (
            quiet["renamed_alerts"].as_u64(),
            quiet["orphaned_alerts"].as_u64()
        ),
        (Some(0), Some(0)),
        "{quiet}"
    );
}

#[tokio::test]
async fn x_series_products_sync_with_custom_codes_and_orphan_on_delete() {
    let env = TestEnv::with_lightspeed(
        tillbridge_local::lightspeed::sim_config(),
        KAuthVersion::V2,
        false,
    )
    .await;
    let company = unique_company("x-items");
    let params = env
        .authorize(
            &company,
            &format!("/v1/companies/{company}/integrations"),
            Some(json!({"product": "x_series"})),
        )
        .await;
    assert_eq!(param(&params, "outcome"), Some("connected"));
    let api = env.client(&company);
    let (status, outlets) = api
        .post(
            &format!("/v1/companies/{company}/locations/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{outlets}");
    assert!(outlets["created"].as_u64().unwrap() >= 1);

    // Independent expectation from the simulator's data.
    let state = env.sim().state().clone();
    let (live, with_custom, sample) = {
        let x = state.x();
        let live: Vec<_> = x
            .products
            .iter()
            .filter(|p| p.deleted_at.is_none() && p.version.is_some())
            .collect();
        let custom = live
            .iter()
            .filter(|p| p.product_codes.iter().any(|(t, _)| t == "custom"))
            .count();
        let sample = live
            .iter()
            .find(|p| p.product_codes.iter().any(|(t, _)| t == "custom"))
            .map(|p| {
                let code = p
                    .product_codes
                    .iter()
                    .find(|(t, _)| t == "custom")
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default();
                (p.id.clone(), code)
            });
        (live.len(), custom, sample)
    };
    let (status, summary) = api
        .post(
            &format!("/v1/companies/{company}/items/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["seen"].as_u64(), Some(live as u64), "{summary}");
    let (items, _) = api
        .list_all(
            &format!("/v1/companies/{company}/items?product=x_series"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(items.len(), live);
    assert_eq!(
        items
            .iter()
            .filter(|i| i["custom_code"].is_string())
            .count(),
        with_custom
    );
    let (product_id, code) = sample.expect("a product with a custom code");
    let item = items
        .iter()
        .find(|i| i["item_id"] == product_id.as_str())
        .unwrap();
    assert_eq!(item["custom_code"], code.as_str());

    let (_, ingredient) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Mug", "unit": "piece"}),
            None,
        )
        .await
        .unwrap();
    let path = format!("/v1/companies/{company}/items/x_series/{product_id}/mapping");
    let body = json!({"ingredient_id": ingredient["id"], "quantity": "1"})
        .to_string()
        .into_bytes();
    let (status, _) = api
        .request(Method::PUT, &path, Some(("application/json", body)), &[])
        .await
        .unwrap();
    assert_eq!(status, 200);

    env.sim_control(
        Method::DELETE,
        &format!("/_sim/x/products/{product_id}"),
        None,
    )
    .await;
    let (_, resync) = api
        .post(
            &format!("/v1/companies/{company}/items/sync"),
            &json!({"product": "x_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            resync["deleted_upstream"].as_u64(),
            resync["orphaned_alerts"].as_u64()
        ),
        (Some(1), Some(1)),
        "{resync}"
    );
    let (_, alerts) = api
        .get(&format!("/v1/companies/{company}/alerts"))
        .await
        .unwrap();
    assert_eq!(alerts["items"][0]["code"], "orphaned_mapping");
    assert_eq!(alerts["items"][0]["subject"], product_id.as_str());
}
