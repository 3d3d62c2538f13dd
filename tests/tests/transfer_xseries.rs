//! An X-Series outlet's day through the same engine: products mapped to ingredients, the
//! ledger compared with quantities summed straight from the simulator's generated store.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::json;
use tillbridge::location::business_day::{window, DayMode};
use tillbridge_tests::fixture::decimal;
use tillbridge_tests::TestEnv;

#[tokio::test]
async fn an_outlet_day_posts_what_the_store_sold() {
    let (env, company) = TestEnv::connected("xfer-x", "x_series").await;
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    for path in ["locations/sync", "items/sync"] {
        let (status, body) = api
            .post(
                &format!("{base}/{path}"),
                &json!({"product": "x_series"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{path}: {body}");
    }
    let mut ingredients = Vec::new();
    for name in ["Stock A", "Stock B"] {
        let (_, body) = api
            .post(
                &format!("{base}/ingredients"),
                &json!({"name": name, "unit": "pcs"}),
                None,
            )
            .await
            .unwrap();
        ingredients.push(body["id"].as_str().unwrap().to_string());
    }
    // Every other product → A × 1, the rest → B × 0.5.
    let (items, _) = api
        .list_all(&format!("{base}/items?product=x_series"), 100)
        .await
        .unwrap();
    let mut factor: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    for (n, item) in items.iter().enumerate() {
        let id = item["item_id"].as_str().unwrap().to_string();
        let (which, quantity) = if n % 2 == 0 {
            (0, Decimal::ONE)
        } else {
            (1, Decimal::new(5, 1))
        };
        let body = json!({"ingredient_id": ingredients[which], "quantity": quantity.to_string()});
        let (status, reply) = api
            .request(
                reqwest::Method::PUT,
                &format!("{base}/items/x_series/{id}/mapping"),
                Some(("application/json", body.to_string().into_bytes())),
                &[],
            )
            .await
            .unwrap();
        assert!(status == 200 || status == 201, "{reply}");
        factor.insert(id, (which, quantity));
    }
    let (status, unit) = api
        .post(
            &format!("{base}/storage-units"),
            &json!({"name": "Shop", "code": "SHOP"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{unit}");
    let (outlet_id, tz) = {
        let store = env.sim().state().x();
        (store.outlets[0].id.clone(), store.outlets[0].tz)
    };
    let link = json!({"storage_unit_id": unit["id"]})
        .to_string()
        .into_bytes();
    let (status, linked) = api
        .request(
            reqwest::Method::PUT,
            &format!("{base}/locations/{outlet_id}/storage-unit"),
            Some(("application/json", link)),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{linked}");

    let date = "2026-02-21";
    let (status, result) = api
        .post(
            &format!("{base}/locations/{outlet_id}/transfers"),
            &json!({"date": date}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{result}");

    // Independently: closed sales of the outlet in the business day, returns negative.
    let day = window(DayMode::Local { tz, cutoff_hour: 4 }, date.parse().unwrap());
    let mut expected: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut sales = 0;
    {
        let now = env.sim().state().clock.now();
        let store = env.sim().state().x();
        for sale in store.sales.iter().filter(|s| s.outlet_id == outlet_id) {
            // When the goods left: on-account sales when made, others when closed.
            if !sale.stock_moved_at(now).is_some_and(|at| day.contains(at)) {
                continue;
            }
            sales += 1;
            for line in &sale.lines {
                let (which, per_unit) = factor[&line.product_id];
                *expected.entry(ingredients[which].clone()).or_default() +=
                    line.quantity * per_unit;
            }
        }
    }
    assert!(sales > 0, "a trading day");
    assert_eq!(result["stats"]["sales_count"], sales, "{result}");
    let (entries, _) = api
        .list_all(
            &format!(
                "{base}/ledger?storage_unit_id={}&from={date}&to={date}",
                unit["id"].as_str().unwrap()
            ),
            100,
        )
        .await
        .unwrap();
    let mut actual: BTreeMap<String, Decimal> = BTreeMap::new();
    for e in &entries {
        *actual
            .entry(e["ingredient_id"].as_str().unwrap().to_string())
            .or_default() += decimal(&e["quantity"]);
    }
    expected.retain(|_, v| !v.is_zero());
    assert_eq!(actual, expected, "{result}");

    // Reconciled against the store's feed (read afresh through the mirror, whose lines
    // carry only product ids) with nothing to report.
    let (status, run) = api
        .post(
            &format!("{base}/reconciliation"),
            &json!({"from": date, "location_id": outlet_id}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{run}");
    let report = &run["reports"][0];
    assert_eq!(report["basis"], "sales_feed", "{report}");
    assert_eq!(report["pos_sales"], sales, "{report}");
    assert_eq!(report["status"], "reconciled", "{report}");
}
