//! Recipes over real HTTP against DynamoDB Local: nesting and explosion, error codes,
//! delete guards (also under concurrency), pagination and company scoping.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge_tests::{error_code, unique_company, AdminClient, TestEnv};

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn id(body: &Value) -> String {
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {body}"))
        .to_string()
}

async fn ingredient(api: &AdminClient, company: &str, name: &str) -> String {
    let (status, body) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": name, "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    id(&body)
}

async fn recipe(api: &AdminClient, company: &str, name: &str, lines: Value) -> String {
    let (status, body) = api
        .post(
            &format!("/v1/companies/{company}/recipes"),
            &json!({"name": name, "lines": lines}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{name}: {body}");
    id(&body)
}

async fn delete(api: &AdminClient, path: &str) -> (u16, Value) {
    api.request(Method::DELETE, path, None, &[]).await.unwrap()
}

/// The explosion as ingredient id → quantity.
async fn explosion(
    api: &AdminClient,
    company: &str,
    recipe_id: &str,
    quantity: &str,
) -> BTreeMap<String, Decimal> {
    let (status, body) = api
        .get(&format!(
            "/v1/companies/{company}/recipes/{recipe_id}/explosion?quantity={quantity}"
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["ingredients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let quantity = i["quantity"].as_str().expect("quantity is a string");
            (
                i["ingredient_id"].as_str().unwrap().to_string(),
                d(quantity),
            )
        })
        .collect()
}

#[tokio::test]
async fn recipes_nested_six_levels_explode_to_hand_computed_quantities() {
    let env = TestEnv::http().await;
    let company = unique_company("rcp-deep");
    let api = env.client(&company);
    let flour = ingredient(&api, &company, "Flour").await;
    let water = ingredient(&api, &company, "Water").await;
    let salt = ingredient(&api, &company, "Salt").await;
    let tomato = ingredient(&api, &company, "Tomato").await;
    let cheese = ingredient(&api, &company, "Cheese").await;
    let basil = ingredient(&api, &company, "Basil").await;

    let brine = recipe(
        &api,
        &company,
        "Brine",
        json!([
            {"ingredient_id": water, "quantity": "1"},
            {"ingredient_id": salt, "quantity": "0.05"},
        ]),
    )
    .await;
    let dough = recipe(
        &api,
        &company,
        "Dough",
        json!([
            {"ingredient_id": flour, "quantity": "0.6"},
            {"recipe_id": brine, "quantity": "0.4"},
        ]),
    )
    .await;
    let base = recipe(
        &api,
        &company,
        "Base",
        json!([
            {"recipe_id": dough, "quantity": "0.25", "trim_pct": "20"},
            {"ingredient_id": tomato, "quantity": "0.08", "trim_pct": "25"},
        ]),
    )
    .await;
    let margherita = recipe(
        &api,
        &company,
        "Margherita",
        json!([
            {"recipe_id": base, "quantity": "1"},
            {"ingredient_id": cheese, "quantity": "0.125"},
            {"ingredient_id": basil, "quantity": "0.01", "trim_pct": "50"},
        ]),
    )
    .await;
    // Brine is reached twice (directly and through the dough): a diamond, not a cycle.
    let menu = recipe(
        &api,
        &company,
        "Pizza menu",
        json!([
            {"recipe_id": margherita, "quantity": "2"},
            {"recipe_id": brine, "quantity": "0.1"},
        ]),
    )
    .await;
    let party = recipe(
        &api,
        &company,
        "Party box",
        json!([{"recipe_id": menu, "quantity": "1.5"}]),
    )
    .await;

    // 4 party boxes → 6 menus → 12 margheritas (+ 0.6 brine) → 12 bases
    // → dough 12 × 0.25 / 0.8 = 3.75, tomato 12 × 0.08 / 0.75 = 1.28,
    //   cheese 12 × 0.125 = 1.5, basil 12 × 0.01 / 0.5 = 0.24
    // → flour 3.75 × 0.6 = 2.25, brine 3.75 × 0.4 + 0.6 = 2.1
    // → water 2.1, salt 2.1 × 0.05 = 0.105
    let expected: BTreeMap<String, Decimal> = [
        (&flour, "2.25"),
        (&water, "2.1"),
        (&salt, "0.105"),
        (&tomato, "1.28"),
        (&cheese, "1.5"),
        (&basil, "0.24"),
    ]
    .into_iter()
    .map(|(k, v)| (k.clone(), d(v)))
    .collect();
    assert_eq!(explosion(&api, &company, &party, "4").await, expected);

    // One base: tomato 0.08 / 0.75 = 0.10666… → 0.106667 (six decimals, half-even);
    // dough 0.3125 → flour 0.1875, brine 0.125 → water 0.125, salt 0.00625.
    let expected: BTreeMap<String, Decimal> = [
        (&flour, "0.1875"),
        (&water, "0.125"),
        (&salt, "0.00625"),
        (&tomato, "0.106667"),
    ]
    .into_iter()
    .map(|(k, v)| (k.clone(), d(v)))
    .collect();
    assert_eq!(explosion(&api, &company, &base, "1").await, expected);

    let (status, body) = api
        .get(&format!(
            "/v1/companies/{company}/recipes/{party}/explosion?quantity=4"
        ))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["quantity"], "4");
    let names: BTreeSet<&str> = body["ingredients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["Basil", "Cheese", "Flour", "Salt", "Tomato", "Water"])
    );

    let (status, stored) = api
        .get(&format!("/v1/companies/{company}/recipes/{base}"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(stored["lines"][0]["trim_pct"], "20");
    assert_eq!(stored["lines"][1]["quantity"], "0.08");
    assert_eq!(stored["ref_count"], 1, "used by Margherita");

    for bad in ["0", "-2", "abc", "1e3"] {
        let (status, body) = api
            .get(&format!(
                "/v1/companies/{company}/recipes/{party}/explosion?quantity={bad}"
            ))
            .await
            .unwrap();
        assert_eq!(
            (status, error_code(&body)),
            (400, "validation_failed"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn recipe_errors_have_stable_codes_and_statuses() {
    let env = TestEnv::http().await;
    let company = unique_company("rcp-err");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}/recipes");
    let flour = ingredient(&api, &company, "Flour").await;

    let cases = [
        (
            json!({"name": "Bad trim", "lines": [{"ingredient_id": flour, "quantity": "1", "trim_pct": "100"}]}),
            422,
            "invalid_trim_pct",
        ),
        (
            json!({"name": "Negative trim", "lines": [{"ingredient_id": flour, "quantity": "1", "trim_pct": "-1"}]}),
            422,
            "invalid_trim_pct",
        ),
        (
            json!({"name": "Ghost", "lines": [{"ingredient_id": "no-such-ingredient", "quantity": "1"}]}),
            404,
            "ingredient_not_found",
        ),
        (
            json!({"name": "Orphan", "lines": [{"recipe_id": "no-such-recipe", "quantity": "1"}]}),
            404,
            "recipe_not_found",
        ),
        (
            json!({"name": "Both", "lines": [{"ingredient_id": flour, "recipe_id": "x", "quantity": "1"}]}),
            400,
            "validation_failed",
        ),
        (
            json!({"name": "Neither", "lines": [{"quantity": "1"}]}),
            400,
            "validation_failed",
        ),
        (
            json!({"name": "Empty", "lines": []}),
            400,
            "validation_failed",
        ),
        (
            json!({"name": "Zero", "lines": [{"ingredient_id": flour, "quantity": "0"}]}),
            400,
            "validation_failed",
        ),
        (
            json!({"name": "Float", "lines": [{"ingredient_id": flour, "quantity": 0.5}]}),
            400,
            "validation_failed",
        ),
        (
            json!({"name": " ", "lines": [{"ingredient_id": flour, "quantity": "1"}]}),
            400,
            "validation_failed",
        ),
    ];
    for (body, status, expected) in cases {
        let (got, reply) = api.post(&base, &body, None).await.unwrap();
        assert_eq!(
            (got, error_code(&reply)),
            (status, expected),
            "{body}: {reply}"
        );
        assert!(!message(&reply).is_empty());
    }
    let (items, _) = api.list_all(&base, 100).await.unwrap();
    assert!(items.is_empty(), "refused creates write nothing: {items:?}");
    let (_, flour_after) = api
        .get(&format!("/v1/companies/{company}/ingredients/{flour}"))
        .await
        .unwrap();
    assert_eq!(flour_after["ref_count"], 0);

    for (method, path) in [
        (Method::GET, format!("{base}/nope")),
        (Method::DELETE, format!("{base}/nope")),
        (Method::GET, format!("{base}/nope/explosion")),
    ] {
        let (status, reply) = api.request(method.clone(), &path, None, &[]).await.unwrap();
        assert_eq!(
            (status, error_code(&reply)),
            (404, "recipe_not_found"),
            "{method} {path}"
        );
    }
    // Outside the path-id charset: refused before any lookup.
    let (status, reply) = api.get(&format!("{base}/a%23b")).await.unwrap();
    assert_eq!((status, error_code(&reply)), (400, "validation_failed"));
    let (status, reply) = api
        .patch(&format!("{base}/nope"), &json!({"name": "x"}))
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (404, "recipe_not_found"));

    // A → B → C; making C use A closes a cycle.
    let c = recipe(
        &api,
        &company,
        "Crumb",
        json!([{"ingredient_id": flour, "quantity": "1"}]),
    )
    .await;
    let b = recipe(
        &api,
        &company,
        "Batter",
        json!([{"recipe_id": c, "quantity": "2"}]),
    )
    .await;
    let a = recipe(
        &api,
        &company,
        "Appetiser",
        json!([{"recipe_id": b, "quantity": "3"}]),
    )
    .await;
    let (_, c_before) = api.get(&format!("{base}/{c}")).await.unwrap();
    let (status, reply) = api
        .patch(
            &format!("{base}/{c}"),
            &json!({"lines": [{"ingredient_id": flour, "quantity": "1"}, {"recipe_id": a, "quantity": "1"}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (422, "recipe_cycle"),
        "{reply}"
    );
    for name in ["Crumb", "Appetiser", "Batter"] {
        assert!(message(&reply).contains(name), "{}", message(&reply));
    }
    let (status, reply) = api
        .patch(
            &format!("{base}/{c}"),
            &json!({"lines": [{"recipe_id": c, "quantity": "1"}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, error_code(&reply)),
        (422, "recipe_cycle"),
        "{reply}"
    );
    let (_, c_after) = api.get(&format!("{base}/{c}")).await.unwrap();
    assert_eq!(c_after, c_before, "a refused PATCH changes nothing");
    let (_, a_after) = api.get(&format!("{base}/{a}")).await.unwrap();
    assert_eq!(
        a_after["ref_count"], 0,
        "the refused cycle left no reference"
    );

    let (status, reply) = api
        .patch(
            &format!("{base}/{a}"),
            &json!({"lines": [{"ingredient_id": flour, "quantity": "1", "trim_pct": "100"}]}),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (422, "invalid_trim_pct"));
    let (status, reply) = api
        .patch(
            &format!("{base}/{a}"),
            &json!({"lines": [{"ingredient_id": "gone", "quantity": "1"}]}),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (404, "ingredient_not_found"));
    let (status, reply) = api.patch(&format!("{base}/{a}"), &json!({})).await.unwrap();
    assert_eq!((status, error_code(&reply)), (400, "validation_failed"));
    let (status, renamed) = api
        .patch(&format!("{base}/{a}"), &json!({"name": "Starter"}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Starter");
    assert_eq!(renamed["lines"][0]["recipe_id"], b.as_str());
}

#[tokio::test]
async fn used_ingredients_and_recipes_cannot_be_deleted_until_unused() {
    let env = TestEnv::http().await;
    let company = unique_company("rcp-del");
    let api = env.client(&company);
    let ingredients = format!("/v1/companies/{company}/ingredients");
    let recipes = format!("/v1/companies/{company}/recipes");
    let flour = ingredient(&api, &company, "Flour").await;
    let salt = ingredient(&api, &company, "Salt").await;
    let dough = recipe(
        &api,
        &company,
        "Dough",
        json!([
            {"ingredient_id": flour, "quantity": "1"},
            {"ingredient_id": flour, "quantity": "0.1", "trim_pct": "5"},
        ]),
    )
    .await;
    let pizza = recipe(
        &api,
        &company,
        "Pizza",
        json!([{"recipe_id": dough, "quantity": "0.3"}]),
    )
    .await;

    let (_, flour_before) = api.get(&format!("{ingredients}/{flour}")).await.unwrap();
    assert_eq!(flour_before["ref_count"], 1, "two lines, one user");
    let (status, reply) = delete(&api, &format!("{ingredients}/{flour}")).await;
    assert_eq!(
        (status, error_code(&reply)),
        (409, "ingredient_in_use"),
        "{reply}"
    );
    assert!(message(&reply).contains("Dough"), "{}", message(&reply));
    let (status, flour_after) = api.get(&format!("{ingredients}/{flour}")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        flour_after, flour_before,
        "a refused delete changes nothing"
    );

    let (_, dough_before) = api.get(&format!("{recipes}/{dough}")).await.unwrap();
    let (status, reply) = delete(&api, &format!("{recipes}/{dough}")).await;
    assert_eq!(
        (status, error_code(&reply)),
        (409, "recipe_in_use"),
        "{reply}"
    );
    assert!(message(&reply).contains("Pizza"), "{}", message(&reply));
    let (_, dough_after) = api.get(&format!("{recipes}/{dough}")).await.unwrap();
    assert_eq!(dough_after, dough_before);

    // Pizza stops using the dough: the dough can go, and with it its use of flour.
    let (status, reply) = api
        .patch(
            &format!("{recipes}/{pizza}"),
            &json!({"lines": [{"ingredient_id": salt, "quantity": "0.01"}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = delete(&api, &format!("{recipes}/{dough}")).await;
    assert_eq!(status, 204, "{reply}");
    let (status, reply) = api.get(&format!("{recipes}/{dough}")).await.unwrap();
    assert_eq!((status, error_code(&reply)), (404, "recipe_not_found"));

    let (status, reply) = delete(&api, &format!("{ingredients}/{flour}")).await;
    assert_eq!(status, 204, "{reply}");
    let (status, reply) = api.get(&format!("{ingredients}/{flour}")).await.unwrap();
    assert_eq!((status, error_code(&reply)), (404, "ingredient_not_found"));
    let (status, reply) = delete(&api, &format!("{ingredients}/{flour}")).await;
    assert_eq!((status, error_code(&reply)), (404, "ingredient_not_found"));

    let (status, reply) = delete(&api, &format!("{ingredients}/{salt}")).await;
    assert_eq!((status, error_code(&reply)), (409, "ingredient_in_use"));
    let (status, _) = delete(&api, &format!("{recipes}/{pizza}")).await;
    assert_eq!(status, 204);
    let (status, reply) = delete(&api, &format!("{ingredients}/{salt}")).await;
    assert_eq!(status, 204, "{reply}");
}

#[tokio::test]
async fn the_recipe_list_pages_through_every_recipe_once() {
    let env = TestEnv::http().await;
    let company = unique_company("rcp-page");
    let api = env.client(&company);
    let flour = ingredient(&api, &company, "Flour").await;
    let mut created = BTreeSet::new();
    for i in 0..7 {
        created.insert(
            recipe(
                &api,
                &company,
                &format!("Recipe {i}"),
                json!([{"ingredient_id": flour, "quantity": "1"}]),
            )
            .await,
        );
    }
    let base = format!("/v1/companies/{company}/recipes");
    let (items, pages) = api.list_all(&base, 3).await.unwrap();
    let listed: Vec<String> = items.iter().map(id).collect();
    assert_eq!(listed.len(), 7, "no duplicates across pages");
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), created);
    assert!(pages >= 3, "7 recipes in pages of 3: {pages} pages");
    let (_, flour_now) = api
        .get(&format!("/v1/companies/{company}/ingredients/{flour}"))
        .await
        .unwrap();
    assert_eq!(flour_now["ref_count"], 7);

    // An idempotency key makes a retried create return the first recipe.
    let body = json!({"name": "Retried", "lines": [{"ingredient_id": flour, "quantity": "1"}]});
    let (s1, first) = api.post(&base, &body, Some("rcp-1")).await.unwrap();
    let (s2, second) = api.post(&base, &body, Some("rcp-1")).await.unwrap();
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first["id"], second["id"]);
    let (_, flour_now) = api
        .get(&format!("/v1/companies/{company}/ingredients/{flour}"))
        .await
        .unwrap();
    assert_eq!(flour_now["ref_count"], 8, "the replay counted once");
}

#[tokio::test]
async fn another_companys_recipes_are_out_of_reach() {
    let env = TestEnv::http().await;
    let owner = unique_company("rcp-owner");
    let intruder = unique_company("rcp-intruder");
    let owner_api = env.client(&owner);
    let intruder_api = env.client(&intruder);
    let flour = ingredient(&owner_api, &owner, "Flour").await;
    let bread = recipe(
        &owner_api,
        &owner,
        "Bread",
        json!([{"ingredient_id": flour, "quantity": "1"}]),
    )
    .await;
    let recipes = format!("/v1/companies/{owner}/recipes");
    let lines = json!([{"ingredient_id": flour, "quantity": "1"}]);
    for (method, path, body) in [
        (Method::GET, recipes.clone(), None),
        (
            Method::POST,
            recipes.clone(),
            Some(json!({"name": "Planted", "lines": lines})),
        ),
        (Method::GET, format!("{recipes}/{bread}"), None),
        (
            Method::PATCH,
            format!("{recipes}/{bread}"),
            Some(json!({"name": "Renamed"})),
        ),
        (Method::DELETE, format!("{recipes}/{bread}"), None),
        (
            Method::GET,
            format!("{recipes}/{bread}/explosion?quantity=2"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/companies/{owner}/ingredients/{flour}"),
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
    // The owner's ids named from the intruder's own company do not exist there.
    let (status, reply) = intruder_api
        .post(
            &format!("/v1/companies/{intruder}/recipes"),
            &json!({"name": "Copy", "lines": lines}),
            None,
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (404, "ingredient_not_found"));
    let (status, reply) = intruder_api
        .post(
            &format!("/v1/companies/{intruder}/recipes"),
            &json!({"name": "Copy", "lines": [{"recipe_id": bread, "quantity": "1"}]}),
            None,
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&reply)), (404, "recipe_not_found"));
    let (status, unchanged) = owner_api.get(&format!("{recipes}/{bread}")).await.unwrap();
    assert_eq!((status, unchanged["name"].as_str()), (200, Some("Bread")));
    let (items, _) = owner_api.list_all(&recipes, 100).await.unwrap();
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn deleting_an_ingredient_during_concurrent_recipe_creates_never_leaves_a_dangling_line() {
    let env = TestEnv::http().await;
    let company = unique_company("rcp-race");
    let api = env.client(&company);
    let recipes = format!("/v1/companies/{company}/recipes");
    let mut deleted_rounds = 0;
    let mut refused_rounds = 0;
    for round in 0..6 {
        let flour = ingredient(&api, &company, &format!("Flour {round}")).await;
        let path = format!("/v1/companies/{company}/ingredients/{flour}");
        // Creates are staggered; the delete lands before, among or after them.
        let creates = (0..8u64).map(|i| {
            let body = json!({
                "name": format!("Bread {round}-{i}"),
                "lines": [{"ingredient_id": flour, "quantity": "0.5"}],
            });
            let api = &api;
            let recipes = &recipes;
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(i * 6)).await;
                api.post(recipes, &body, None).await.unwrap()
            }
        });
        let delay = std::time::Duration::from_millis(round * 10);
        let remove = async {
            tokio::time::sleep(delay).await;
            delete(&api, &path).await
        };
        let (created, (delete_status, delete_reply)) =
            tokio::join!(futures::future::join_all(creates), remove);
        let mut made = 0;
        for (status, reply) in &created {
            match (*status, error_code(reply)) {
                (201, _) => made += 1,
                (404, "ingredient_not_found") => {}
                other => panic!("unexpected create result {other:?}: {reply}"),
            }
        }
        match (delete_status, error_code(&delete_reply)) {
            (204, _) => {
                deleted_rounds += 1;
                assert_eq!(
                    made, 0,
                    "round {round}: recipes created with a deleted ingredient"
                );
            }
            (409, "ingredient_in_use") => {
                refused_rounds += 1;
                assert!(made > 0, "round {round}: refused although unused");
                let (status, flour_now) = api.get(&path).await.unwrap();
                assert_eq!(status, 200);
                assert_eq!(flour_now["ref_count"], made, "round {round}");
            }
            other => panic!("unexpected delete result {other:?}: {delete_reply}"),
        }
    }
    // Whatever the interleaving, every line of every recipe names a live ingredient.
    let (items, _) = api.list_all(&recipes, 100).await.unwrap();
    for item in &items {
        for line in item["lines"].as_array().unwrap() {
            let ingredient = line["ingredient_id"].as_str().unwrap();
            let (status, _) = api
                .get(&format!("/v1/companies/{company}/ingredients/{ingredient}"))
                .await
                .unwrap();
            assert_eq!(
                status, 200,
                "{} points at a deleted ingredient",
                item["name"]
            );
        }
    }
    eprintln!("deleted in {deleted_rounds} rounds, refused in {refused_rounds}");
    assert_eq!(deleted_rounds + refused_rounds, 6);
}
