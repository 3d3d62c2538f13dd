//! Stock receipts feed the weighted average cost: total value / total quantity, kept per
//! currency.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge_tests::{unique_company, TestEnv};

/// A decimal string from the API as a number, so "13.00" equals "13".
fn dec(value: &Value) -> Decimal {
    Decimal::from_str_exact(value.as_str().unwrap_or("NaN"))
        .unwrap_or_else(|_| panic!("not a decimal string: {value}"))
}

fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

#[tokio::test]
async fn receipts_give_the_weighted_average_cost() {
    let env = TestEnv::http().await;
    let company = unique_company("wac");
    let api = env.client(&company);
    let (_, coffee) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Coffee beans", "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    let receipts = format!(
        "/v1/companies/{company}/ingredients/{}/receipts",
        coffee["id"].as_str().unwrap()
    );

    let (status, first) = api
        .post(
            &receipts,
            &json!({"quantity": "10", "value": "120.00", "currency": "GBP", "reference": "PO-1"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        dec(&first["ingredient"]["costs"]["GBP"]["average_cost"]),
        d("12")
    );
    let (_, second) = api
        .post(
            &receipts,
            &json!({"quantity": "5", "value": "75.00", "currency": "GBP"}),
            None,
        )
        .await
        .unwrap();
    // (120 + 75) / 15 = 13
    assert_eq!(
        dec(&second["ingredient"]["costs"]["GBP"]["average_cost"]),
        d("13")
    );
    let (_, third) = api
        .post(
            &receipts,
            &json!({"quantity": "0.3", "value": "4.10", "currency": "GBP"}),
            None,
        )
        .await
        .unwrap();
    // 199.10 / 15.3 = 13.013071895424836601307189542…
    let expected = d("199.10") / d("15.3");
    assert_eq!(
        dec(&third["ingredient"]["costs"]["GBP"]["average_cost"]),
        expected
    );
    assert_eq!(
        dec(&third["ingredient"]["costs"]["GBP"]["total_qty"]),
        d("15.3")
    );

    // An idempotency key makes a retried receipt count once.
    let (s1, a) = api
        .post(
            &receipts,
            &json!({"quantity": "1", "value": "10", "currency": "GBP"}),
            Some("po-77"),
        )
        .await
        .unwrap();
    let (s2, b) = api
        .post(
            &receipts,
            &json!({"quantity": "1", "value": "10", "currency": "GBP"}),
            Some("po-77"),
        )
        .await
        .unwrap();
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(a["receipt"]["id"], b["receipt"]["id"]);
    let (items, _) = api.list_all(&receipts, 2).await.unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        dec(&b["ingredient"]["costs"]["GBP"]["total_qty"]),
        d("16.3")
    );

    // The same key with another body is refused, and nothing is recorded.
    let (status, reply) = api
        .post(
            &receipts,
            &json!({"quantity": "100", "value": "10", "currency": "GBP"}),
            Some("po-77"),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{reply}"
    );
    let (items, _) = api.list_all(&receipts, 2).await.unwrap();
    assert_eq!(items.len(), 4);

    // Another currency has its own average, never mixed with this one.
    let (status, nzd) = api
        .post(
            &receipts,
            &json!({"quantity": "4", "value": "100.00", "currency": "NZD"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{nzd}");
    assert_eq!(nzd["receipt"]["currency"], "NZD");
    assert_eq!(
        dec(&nzd["ingredient"]["costs"]["NZD"]["average_cost"]),
        d("25")
    );
    assert_eq!(
        dec(&nzd["ingredient"]["costs"]["GBP"]["average_cost"]),
        d("209.10") / d("16.3"),
        "GBP untouched"
    );
}

#[tokio::test]
async fn concurrent_receipts_are_all_counted() {
    let env = TestEnv::http().await;
    let company = unique_company("wac-race");
    let api = env.client(&company);
    let (_, flour) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Flour", "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    let receipts = format!(
        "/v1/companies/{company}/ingredients/{}/receipts",
        flour["id"].as_str().unwrap()
    );
    let body = json!({"quantity": "2", "value": "3.00", "currency": "EUR"});
    let posts = (0..6).map(|_| api.post(&receipts, &body, None));
    for (status, reply) in futures::future::join_all(posts)
        .await
        .into_iter()
        .map(Result::unwrap)
    {
        assert_eq!(status, 201, "{reply}");
    }
    let (_, after) = api
        .get(&format!(
            "/v1/companies/{company}/ingredients/{}",
            flour["id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    let eur = &after["costs"]["EUR"];
    assert_eq!(
        (eur["total_qty"].as_str(), eur["total_value"].as_str()),
        (Some("12"), Some("18.00"))
    );
    assert_eq!(dec(&eur["average_cost"]), d("1.5"));
}

#[tokio::test]
async fn bad_receipts_are_refused_and_change_nothing() {
    let env = TestEnv::http().await;
    let company = unique_company("wac-bad");
    let api = env.client(&company);
    let (_, salt) = api
        .post(
            &format!("/v1/companies/{company}/ingredients"),
            &json!({"name": "Salt", "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    let item = format!(
        "/v1/companies/{company}/ingredients/{}",
        salt["id"].as_str().unwrap()
    );
    for body in [
        json!({"quantity": "0", "value": "1", "currency": "GBP"}),
        json!({"quantity": "-1", "value": "1", "currency": "GBP"}),
        json!({"quantity": "1", "value": "-1", "currency": "GBP"}),
        json!({"quantity": 1.5, "value": "1", "currency": "GBP"}),
        json!({"quantity": "abc", "value": "1", "currency": "GBP"}),
        json!({"quantity": "1_0", "value": "1", "currency": "GBP"}),
        json!({"quantity": "+1", "value": "1", "currency": "GBP"}),
        json!({"quantity": " 1", "value": "1", "currency": "GBP"}),
        json!({"quantity": "1", "currency": "GBP"}),
        json!({"quantity": "1", "value": "1"}),
        json!({"quantity": "1", "value": "1", "currency": "gbp"}),
        json!({"quantity": "1", "value": "1", "currency": "GBP", "received_at": "last week"}),
    ] {
        let (status, reply) = api
            .post(&format!("{item}/receipts"), &body, None)
            .await
            .unwrap();
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (400, Some("validation_failed")),
            "{body}"
        );
    }
    // Beyond the documented bounds: the value that used to make every later read crash.
    for body in [
        json!({"quantity": "0.0000000000000000000000000001",
               "value": "79228162514264337593543950335", "currency": "GBP"}),
        json!({"quantity": "1000000001", "value": "1", "currency": "GBP"}),
        json!({"quantity": "1", "value": "1000000000000.01", "currency": "GBP"}),
        json!({"quantity": "1.0000001", "value": "1", "currency": "GBP"}),
    ] {
        let (status, reply) = api
            .post(&format!("{item}/receipts"), &body, None)
            .await
            .unwrap();
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (422, Some("value_out_of_range")),
            "{body}: {reply}"
        );
    }
    let (status, reply) = api
        .post(
            &format!("/v1/companies/{company}/ingredients/nope/receipts"),
            &json!({"quantity": "1", "value": "1", "currency": "GBP"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (404, Some("ingredient_not_found"))
    );
    let (_, after) = api.get(&item).await.unwrap();
    assert_eq!(after, salt, "nothing changed");
}
