//! Numbers at and beyond the edge of the exact decimal range, through the real admin API,
//! DynamoDB Local and the transfer engine: refused with `value_out_of_range` where they
//! come in, and where they are already stored (written before bounds existed) they fail
//! only their own object, with an alert, while lists, transfers and the lease carry on.

use serde_json::{json, Value};
use tillbridge::store::{from_item, keys, to_item, Condition, ItemStore, Query};
use tillbridge_tests::fixture::TransferFixture;
use tillbridge_tests::{error_code, unique_company, AdminClient, TestEnv};

const MAX: &str = "79228162514264337593543950335";
const TINY: &str = "0.0000000000000000000000000001";

async fn create(api: &AdminClient, path: &str, body: Value) -> (u16, Value) {
    api.post(path, &body, None).await.unwrap()
}

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn recipes_and_explosions_beyond_the_range_are_refused_not_crashed() {
    let env = TestEnv::http().await;
    let company = unique_company("range-recipe");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (status, flour) = create(
        &api,
        &format!("{base}/ingredients"),
        json!({"name": "Flour", "unit": "kg"}),
    )
    .await;
    assert_eq!(status, 201, "{flour}");
    let recipe = |name: &str, line: Value| json!({"name": name, "lines": [line]});
    let (status, r1) = create(
        &api,
        &format!("{base}/recipes"),
        recipe(
            "r1",
            json!({"ingredient_id": id(&flour), "quantity": "1000000000"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r1}");
    let (status, r2) = create(
        &api,
        &format!("{base}/recipes"),
        recipe(
            "r2",
            json!({"recipe_id": id(&r1), "quantity": "1000000000"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r2}");
    let (status, r3) = create(
        &api,
        &format!("{base}/recipes"),
        recipe(
            "r3",
            json!({"recipe_id": id(&r2), "quantity": "1000000000"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r3}: 10²⁷ per portion still fits");
    // 10³⁰ per portion does not: refused at save.
    let (status, reply) = create(
        &api,
        &format!("{base}/recipes"),
        recipe("r4", json!({"recipe_id": id(&r3), "quantity": "1000"})),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (422, "value_out_of_range"));
    // A line beyond the documented bound, and a trim with too many decimals.
    let (status, reply) = create(
        &api,
        &format!("{base}/recipes"),
        recipe("big", json!({"ingredient_id": id(&flour), "quantity": MAX})),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (422, "value_out_of_range"));
    let (status, reply) = create(
        &api,
        &format!("{base}/recipes"),
        recipe(
            "trim",
            json!({"ingredient_id": id(&flour), "quantity": "1", "trim_pct": "99.9999999999999999999999999"}),
        ),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (422, "invalid_trim_pct"));
    let (status, trimmed) = create(
        &api,
        &format!("{base}/recipes"),
        recipe(
            "trimmed",
            json!({"ingredient_id": id(&flour), "quantity": "1", "trim_pct": "99.99"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{trimmed}");

    let explosion = |recipe: &Value, quantity: &str| {
        format!(
            "{base}/recipes/{}/explosion?quantity={quantity}",
            id(recipe)
        )
    };
    for (recipe, quantity, status, code) in [
        (&r3, MAX, 422, "value_out_of_range"),
        (&r3, "1000", 422, "value_out_of_range"),
        (&r1, "1000000000.5", 422, "value_out_of_range"),
        (&r1, "1_0", 400, "validation_failed"),
        (&r1, "%2B1", 400, "validation_failed"),
        (&r1, "%201", 400, "validation_failed"),
    ] {
        let (got, reply) = api.get(&explosion(recipe, quantity)).await.unwrap();
        assert_eq!((got, error_code(&reply)), (status, code), "{quantity}");
    }
    // In range: exact, also at the largest trim.
    let (status, reply) = api.get(&explosion(&r1, "2")).await.unwrap();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ingredients"][0]["quantity"], "2000000000");
    let (status, reply) = api.get(&explosion(&trimmed, "1000")).await.unwrap();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ingredients"][0]["quantity"], "10000000");
}

/// Writes a stored record back with `change` applied, bypassing every API check.
async fn tamper(store: &dyn ItemStore, key: &tillbridge::store::Key, change: impl Fn(&mut Value)) {
    let item = store.get(key).await.unwrap().expect("stored item");
    let mut value = Value::Object(item);
    change(&mut value);
    let Value::Object(item) = value else {
        unreachable!()
    };
    store.put(item, Condition::None).await.unwrap();
}

#[tokio::test]
async fn a_stored_average_cost_beyond_the_range_fails_only_its_own_ingredient() {
    let env = TestEnv::http().await;
    let company = unique_company("range-cost");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/ingredients");
    let (_, broken) = create(&api, &base, json!({"name": "Broken", "unit": "kg"})).await;
    let (_, fine) = create(&api, &base, json!({"name": "Fine", "unit": "kg"})).await;
    let (status, reply) = create(
        &api,
        &format!("{base}/{}/receipts", id(&fine)),
        json!({"quantity": "10", "value": "20", "currency": "GBP"}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    // What a receipt accepted before bounds existed would have left behind.
    let deps = env.deps("admin-api").await;
    tamper(
        deps.store.as_ref(),
        &keys::ingredient(&company, &id(&broken)),
        |v| v["costs"] = json!({"GBP": {"total_qty": TINY, "total_value": MAX}}),
    )
    .await;

    let (status, list) = api.get(&base).await.unwrap();
    assert_eq!(status, 200, "{list}");
    let by_name = |name: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .unwrap()
    };
    let gbp = &by_name("Broken")["costs"]["GBP"];
    assert_eq!(
        (gbp["average_cost"].clone(), gbp["error"].clone()),
        (Value::Null, json!("value_out_of_range"))
    );
    assert_eq!(by_name("Fine")["costs"]["GBP"]["average_cost"], "2");
    let (status, one) = api.get(&format!("{base}/{}", id(&broken))).await.unwrap();
    assert_eq!(status, 200, "{one}");
    // Adding to totals already at the edge is refused and changes nothing.
    let (status, reply) = create(
        &api,
        &format!("{base}/{}/receipts", id(&broken)),
        json!({"quantity": "1", "value": "1", "currency": "GBP"}),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (422, "value_out_of_range"));
    let (_, after) = api.get(&format!("{base}/{}", id(&broken))).await.unwrap();
    assert_eq!(after, one);
}

/// The company's stored mappings.
async fn mappings(store: &dyn ItemStore, company: &str) -> Vec<tillbridge::store::Item> {
    tillbridge::store::query_all(
        store,
        Query::partition(tillbridge::mapping::record::partition(company)),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn stored_figures_beyond_the_range_skip_their_lines_raise_alerts_and_free_the_lease() {
    let fixture = TransferFixture::new("range-xfer").await;
    let deps = fixture.env.deps("admin-api").await;
    let store = deps.store.as_ref();
    // Every mapping at the maximum: two of anything sold leave the range.
    for item in mappings(store, &fixture.company).await {
        let mut mapping: tillbridge::mapping::record::Mapping = from_item(item).unwrap();
        mapping.quantity = MAX.parse().unwrap();
        store
            .put(to_item(&mapping, &mapping.key()).unwrap(), Condition::None)
            .await
            .unwrap();
    }
    let location = fixture.locations.keys().next().unwrap().clone();
    let date = "2026-02-20";
    let (status, result) = fixture.transfer(&location, date, true).await;
    assert_eq!(status, 200, "{result}");
    let exceptions: Vec<String> = result["stats"]["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect();
    assert!(
        exceptions
            .iter()
            .any(|e| e.starts_with("value_out_of_range:")),
        "{result}"
    );
    assert!(
        result["stats"]["skipped_by_reason"]["value_out_of_range"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{result}"
    );
    // The lease was released: the same day runs again at once.
    let (status, again) = fixture.transfer(&location, date, true).await;
    assert_eq!(status, 200, "{again}");
    let alerts = fixture.alerts().await;
    assert!(
        alerts.iter().any(|a| a["code"] == "value_out_of_range"),
        "{alerts:?}"
    );
}

#[tokio::test]
async fn a_location_is_valued_only_in_its_own_currency() {
    let fixture = TransferFixture::new("currency").await;
    let api = fixture.env.client(&fixture.company);
    let (locations, _) = api
        .list_all(&format!("/v1/companies/{}/locations", fixture.company), 100)
        .await
        .unwrap();
    let currency_of = |id: &str| {
        locations
            .iter()
            .find(|l| l["id"] == id || l["location_id"] == id)
            .and_then(|l| l["currency"].as_str())
            .map(str::to_string)
    };
    let (nzd, gbp): (Vec<String>, Vec<String>) = fixture
        .locations
        .keys()
        .cloned()
        .partition(|l| currency_of(l).as_deref() == Some("NZD"));
    let (auckland, london) = (&nzd[0], &gbp[0]);
    let date = "2026-02-21";

    // Every ingredient loses its NZD stock: Auckland has no cost in its currency.
    let deps = fixture.env.deps("admin-api").await;
    for ingredient in &fixture.ingredients {
        tamper(
            deps.store.as_ref(),
            &keys::ingredient(&fixture.company, ingredient),
            |v| {
                if let Some(costs) = v["costs"].as_object_mut() {
                    costs.remove("NZD");
                }
            },
        )
        .await;
    }
    let (status, result) = fixture.transfer(auckland, date, true).await;
    assert_eq!(status, 200, "{result}");
    let exceptions = result["stats"]["exceptions"].to_string();
    assert!(exceptions.contains(":NZD"), "{result}");
    assert!(exceptions.contains("currency_mismatch:"), "{result}");
    assert!(
        fixture.ledger_totals(auckland, date).await.is_empty(),
        "nothing valued in another currency"
    );
    assert!(fixture
        .alerts()
        .await
        .iter()
        .any(|a| a["code"] == "currency_mismatch"));

    // London is valued in GBP, as the ground truth expects.
    let (status, result) = fixture.transfer(london, date, true).await;
    assert_eq!(status, 200, "{result}");
    let truth = fixture.ground_truth(london, date).await;
    assert_eq!(
        fixture.ledger_totals(london, date).await,
        fixture.expected_from(&truth)
    );
    let entries = fixture.ledger_entries(london, date).await;
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["currency"] == "GBP"),
        "{entries:?}"
    );
}
