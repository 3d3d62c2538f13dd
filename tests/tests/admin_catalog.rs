//! The admin API's catalogue routes over real HTTP, against DynamoDB Local.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use tillbridge_tests::{error_code, unique_company, TestEnv};

#[tokio::test]
async fn storage_units_are_created_read_listed_and_updated() {
    let env = TestEnv::http().await;
    let company = unique_company("su");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/storage-units");

    let (status, created) = api
        .post(
            &base,
            &json!({"name": "  Main Kitchen ", "code": "MK"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Main Kitchen");
    assert_eq!(created["code"], "MK");
    assert_eq!(created["company_id"], company.as_str());
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap();

    let (status, fetched) = api.get(&format!("{base}/{id}")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let (status, updated) = api
        .patch(
            &format!("{base}/{id}"),
            &json!({"name": "Kitchen", "description": "ground floor"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["name"].as_str(), updated["code"].as_str()),
        (Some("Kitchen"), Some("MK"))
    );
    assert_eq!(updated["description"], "ground floor");
    assert_eq!(updated["version"], 2);

    let (_, cleared) = api
        .patch(&format!("{base}/{id}"), &json!({"code": null}))
        .await
        .unwrap();
    assert_eq!(cleared["code"], Value::Null);

    let (status, list) = api.get(&base).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "Kitchen");
    assert_eq!(list["next_cursor"], Value::Null);
}

#[tokio::test]
async fn ingredients_show_their_unit_and_average_cost() {
    let env = TestEnv::http().await;
    let company = unique_company("ing");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/ingredients");
    let (status, created) = api
        .post(
            &base,
            &json!({"name": "Coffee beans", "unit": "KG", "sku": "CB-1"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["unit"], "kg");
    assert_eq!(created["costs"], json!({}), "nothing received yet");
    let id = created["id"].as_str().unwrap();
    let (status, updated) = api
        .patch(&format!("{base}/{id}"), &json!({"unit": "g", "sku": null}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["unit"].as_str(), &updated["sku"]),
        (Some("g"), &Value::Null)
    );
    assert_eq!(updated["name"], "Coffee beans");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_create_return_the_first_object() {
    let env = TestEnv::http().await;
    let company = unique_company("idem");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/storage-units");
    let (first_status, first) = api
        .post(&base, &json!({"name": "Bar"}), Some("create-bar"))
        .await
        .unwrap();
    let (second_status, second) = api
        .post(&base, &json!({"name": "Bar"}), Some("create-bar"))
        .await
        .unwrap();
    assert_eq!((first_status, second_status), (201, 200));
    assert_eq!(first["id"], second["id"]);
    let (other_status, other) = api
        .post(&base, &json!({"name": "Bar"}), Some("another-key"))
        .await
        .unwrap();
    assert_eq!(other_status, 201);
    assert_ne!(other["id"], first["id"]);
    let (items, _) = api.list_all(&base, 10).await.unwrap();
    assert_eq!(items.len(), 2);

    // The same key with another body is not answered with the first result as success;
    // the same body with other spacing and key order is the same request.
    let (status, reply) = api
        .post(&base, &json!({"name": "Kitchen"}), Some("create-bar"))
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (422, "idempotency_key_reused"),
        "{reply}"
    );
    let (status, reply) = api
        .request(
            Method::POST,
            &base,
            Some(("application/json", b"{ \"name\" :  \"Bar\" }".to_vec())),
            &[("idempotency-key", "create-bar")],
        )
        .await
        .unwrap();
    assert_eq!((status, &reply["id"]), (200, &first["id"]), "{reply}");
    for (path, first_body, other_body) in [
        (
            format!("/v1/companies/{company}/ingredients"),
            json!({"name": "Salt", "unit": "kg"}),
            json!({"name": "Salt", "unit": "g"}),
        ),
        (
            format!("/v1/companies/{company}/recipes"),
            json!({"name": "Brine", "lines": [{"ingredient_id": items_id(&api, &company).await, "quantity": "1"}]}),
            json!({"name": "Brine", "lines": [{"ingredient_id": items_id(&api, &company).await, "quantity": "2"}]}),
        ),
    ] {
        let (status, _) = api.post(&path, &first_body, Some("k-1")).await.unwrap();
        assert_eq!(status, 201);
        let (status, _) = api.post(&path, &first_body, Some("k-1")).await.unwrap();
        assert_eq!(status, 200);
        let (status, reply) = api.post(&path, &other_body, Some("k-1")).await.unwrap();
        assert_eq!(
            (status, error_code(&reply)),
            (422, "idempotency_key_reused"),
            "{path}: {reply}"
        );
    }
    let (items, _) = api.list_all(&base, 10).await.unwrap();
    assert_eq!(items.len(), 2, "nothing more created");
}

/// The id of an ingredient of the company, created once.
async fn items_id(api: &tillbridge_tests::AdminClient, company: &str) -> String {
    let (_, body) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Water", "unit": "l"}),
            Some("water"),
        )
        .await
        .unwrap();
    body["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn pagination_returns_every_item_exactly_once() {
    let env = TestEnv::http().await;
    let company = unique_company("page");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/ingredients");
    let mut created = BTreeSet::new();
    for i in 0..7 {
        let (status, body) = api
            .post(
                &base,
                &json!({"name": format!("Ingredient {i}"), "unit": "kg"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 201);
        created.insert(body["id"].as_str().unwrap().to_string());
    }
    let (items, pages) = api.list_all(&base, 3).await.unwrap();
    let listed: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 7, "no duplicates across pages");
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), created);
    assert!(
        pages >= 3,
        "7 items in pages of 3 need at least 3 pages, got {pages}"
    );

    for bad in ["0", "101", "abc"] {
        let (status, body) = api.get(&format!("{base}?limit={bad}")).await.unwrap();
        assert_eq!(
            (status, error_code(&body)),
            (400, "validation_failed"),
            "limit={bad}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_a_stable_code_and_writes_nothing() {
    let env = TestEnv::http().await;
    let company = unique_company("bad");
    let api = env.client(&company);
    let units = format!("/v1/companies/{company}/storage-units");
    let ingredients = format!("/v1/companies/{company}/ingredients");
    let json_ct = "application/json";
    /// (case, path, body as (content type, bytes), expected status, expected code)
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, &'a [u8])>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            &units,
            Some((json_ct, b"{\"name\": ")),
            400,
            "invalid_json",
        ),
        (
            "JSON array",
            &units,
            Some((json_ct, b"[]")),
            400,
            "invalid_json",
        ),
        (
            "empty body",
            &units,
            Some((json_ct, b"")),
            400,
            "invalid_json",
        ),
        (
            "missing name",
            &units,
            Some((json_ct, b"{\"code\": \"X\"}")),
            400,
            "validation_failed",
        ),
        (
            "name of wrong type",
            &units,
            Some((json_ct, b"{\"name\": 5}")),
            400,
            "validation_failed",
        ),
        (
            "blank name",
            &units,
            Some((json_ct, b"{\"name\": \"   \"}")),
            400,
            "validation_failed",
        ),
        (
            "unknown field",
            &units,
            Some((json_ct, b"{\"name\": \"A\", \"colour\": \"red\"}")),
            400,
            "validation_failed",
        ),
        (
            "text/plain",
            &units,
            Some(("text/plain", b"{\"name\": \"A\"}")),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            &units,
            None,
            415,
            "unsupported_media_type",
        ),
        (
            "ingredient without unit",
            &ingredients,
            Some((json_ct, b"{\"name\": \"Tomato\"}")),
            400,
            "validation_failed",
        ),
        (
            "ingredient with null unit",
            &ingredients,
            Some((json_ct, b"{\"name\": \"Tomato\", \"unit\": null}")),
            400,
            "validation_failed",
        ),
        (
            "not UTF-8",
            &ingredients,
            Some((json_ct, &[0xff, 0xfe, 0x00])),
            400,
            "invalid_json",
        ),
    ];
    for (name, path, body, status, expected) in cases {
        let body = body.map(|(ct, bytes)| (ct, bytes.to_vec()));
        let (got, reply) = api.request(Method::POST, path, body, &[]).await.unwrap();
        assert_eq!(
            (got, error_code(&reply)),
            (status, expected),
            "{name}: {reply}"
        );
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name} has a message"
        );
    }
    for path in [&units, &ingredients] {
        let (items, _) = api.list_all(path, 100).await.unwrap();
        assert!(items.is_empty(), "nothing written to {path}: {items:?}");
    }
}

#[tokio::test]
async fn unknown_ids_and_bad_updates_are_refused() {
    let env = TestEnv::http().await;
    let company = unique_company("ids");
    let api = env.client(&company);
    let units = format!("/v1/companies/{company}/storage-units");
    for (path, code, expected) in [
        (
            format!("{units}/does-not-exist"),
            404,
            "storage_unit_not_found",
        ),
        // Outside the path-id charset: refused before any lookup.
        (format!("{units}/a%23b"), 400, "validation_failed"),
        (
            format!("/v1/companies/{company}/ingredients/nope"),
            404,
            "ingredient_not_found",
        ),
    ] {
        let (status, body) = api.get(&path).await.unwrap();
        assert_eq!((status, error_code(&body)), (code, expected), "{path}");
        let (status, body) = api.patch(&path, &json!({"name": "x"})).await.unwrap();
        assert_eq!(
            (status, error_code(&body)),
            (code, expected),
            "PATCH {path}"
        );
    }
    let (_, created) = api
        .post(&units, &json!({"name": "Bar"}), None)
        .await
        .unwrap();
    let item = format!("{units}/{}", created["id"].as_str().unwrap());
    for (body, expected) in [
        (json!({}), "validation_failed"),
        (json!({"name": ""}), "validation_failed"),
        (json!({"nope": 1}), "validation_failed"),
    ] {
        let (status, reply) = api.patch(&item, &body).await.unwrap();
        assert_eq!((status, error_code(&reply)), (400, expected), "{body}");
    }
    let (_, unchanged) = api.get(&item).await.unwrap();
    assert_eq!(unchanged, created, "refused updates change nothing");

    let (status, body) = api
        .get(&format!("/v1/companies/{company}/nothing-here"))
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (404, "route_not_found"));
    let (status, body) = api
        .request(Method::DELETE, &units, None, &[])
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
    let (status, body) = api
        .get(&format!("{units}?cursor=bm90LWEtY3Vyc29y"))
        .await
        .unwrap();
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
}

#[tokio::test]
async fn another_companys_objects_are_out_of_reach() {
    let env = TestEnv::http().await;
    let owner = unique_company("owner");
    let intruder = unique_company("intruder");
    let owner_api = env.client(&owner);
    let intruder_api = env.client(&intruder);
    let owner_units = format!("/v1/companies/{owner}/storage-units");
    let (_, unit) = owner_api
        .post(&owner_units, &json!({"name": "Vault"}), None)
        .await
        .unwrap();
    let unit_id = unit["id"].as_str().unwrap();
    let owner_item = format!("{owner_units}/{unit_id}");

    for (method, path, body) in [
        (Method::GET, owner_units.clone(), None),
        (
            Method::POST,
            owner_units.clone(),
            Some(json!({"name": "Planted"})),
        ),
        (Method::GET, owner_item.clone(), None),
        (
            Method::PATCH,
            owner_item.clone(),
            Some(json!({"name": "Renamed"})),
        ),
        (
            Method::GET,
            format!("/v1/companies/{owner}/ingredients"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/companies/{owner}/locations/l1/transfer-logs"),
            None,
        ),
    ] {
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        let (status, reply) = intruder_api
            .request(method.clone(), &path, body, &[])
            .await
            .unwrap();
        assert_eq!(
            (status, error_code(&reply)),
            (403, "unauthorized_company_access"),
            "{method} {path}"
        );
    }
    // The owner's id under the intruder's own company is simply not there.
    let (status, reply) = intruder_api
        .get(&format!("/v1/companies/{intruder}/storage-units/{unit_id}"))
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (404, "storage_unit_not_found")
    );
    // A cursor minted for the owner's list cannot page the intruder's.
    for i in 0..2 {
        owner_api
            .post(&owner_units, &json!({"name": format!("U{i}")}), None)
            .await
            .unwrap();
    }
    let (_, page) = owner_api
        .get(&format!("{owner_units}?limit=1"))
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, reply) = intruder_api
        .get(&format!(
            "/v1/companies/{intruder}/storage-units?cursor={cursor}"
        ))
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (400, "invalid_cursor"));

    let (_, after) = owner_api.get(&owner_item).await.unwrap();
    assert_eq!(after, unit, "the owner's object is untouched");
    let (items, _) = owner_api.list_all(&owner_units, 100).await.unwrap();
    assert_eq!(items.len(), 3);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_rejected_at_the_gateway() {
    let env = TestEnv::http().await;
    let path = "/v1/companies/anyone/storage-units";
    let (status, body) = env.anonymous().get(path).await.unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let forged = tillbridge_tests::AdminClient::new(
        &env.host.base_url,
        "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".to_string(),
    );
    let (status, _) = forged.get(path).await.unwrap();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn concurrent_updates_of_different_fields_both_land() {
    let env = TestEnv::http().await;
    let company = unique_company("race");
    let api = env.client(&company);
    let units = format!("/v1/companies/{company}/storage-units");
    let (_, unit) = api
        .post(&units, &json!({"name": "Cellar"}), None)
        .await
        .unwrap();
    let item = format!("{units}/{}", unit["id"].as_str().unwrap());
    let (code_patch, description_patch) = (
        json!({"code": "CEL"}),
        json!({"description": "under the bar"}),
    );
    let (a, b) = tokio::join!(
        api.patch(&item, &code_patch),
        api.patch(&item, &description_patch)
    );
    assert_eq!((a.unwrap().0, b.unwrap().0), (200, 200));
    let (_, after) = api.get(&item).await.unwrap();
    assert_eq!(after["code"], "CEL");
    assert_eq!(after["description"], "under the bar");
    assert_eq!(after["version"], 3);
}

/// A tiny deterministic generator, so a failing input can be reproduced from its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }
}

#[tokio::test]
async fn random_requests_never_get_a_server_error() {
    let env = TestEnv::http().await;
    let company = unique_company("fuzz");
    let api = env.client(&company);
    let mut rng = SplitMix(0x7111_b41d);
    let segments = [
        "storage-units",
        "ingredients",
        "locations",
        "x",
        "%00",
        "..",
        "a%23b",
        "%F0%9F%8D%94",
        "transfer-logs",
        "",
    ];
    let fragments = [
        "{",
        "}",
        "\"name\"",
        ":",
        "\"unit\"",
        "null",
        "1e999",
        "-0",
        "[",
        "]",
        ",",
        "\"\u{0}\"",
        "true",
        "\"kg\"",
        "\"sku\"",
        "\"code\"",
        "{}",
        "\"\\ud800\"",
        "12.5",
        "\"x\"",
    ];
    let methods = [
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::PUT,
        Method::DELETE,
    ];
    for case in 0..150 {
        let depth = 1 + rng.next() % 3;
        let mut path = format!("/v1/companies/{company}");
        for _ in 0..depth {
            path.push('/');
            path.push_str(rng.pick(&segments));
        }
        if rng.next().is_multiple_of(4) {
            path.push_str(&format!(
                "?limit={}&cursor={}",
                rng.pick(&["0", "5", "x", "-1"]),
                rng.pick(&["", "e30", "%%"])
            ));
        }
        let mut body = String::new();
        for _ in 0..(rng.next() % 8) {
            body.push_str(rng.pick(&fragments));
        }
        let method = methods[(rng.next() % methods.len() as u64) as usize].clone();
        let content_type = rng.pick(&[
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
        ]);
        let (status, reply) = api
            .request(
                method.clone(),
                &path,
                Some((content_type, body.clone().into_bytes())),
                &[],
            )
            .await
            .unwrap();
        assert!(
            status < 500,
            "case {case}: {method} {path} {body:?} → {status} {reply}"
        );
        if status >= 400 {
            // The function answers with a code; the gateway itself (no route) with a message.
            let function_error = reply["error"]["code"].is_string();
            let gateway_error = status == 404 && reply["message"] == "Not Found";
            assert!(
                function_error || gateway_error,
                "case {case}: {status} without an error code: {reply}"
            );
        }
    }
}
