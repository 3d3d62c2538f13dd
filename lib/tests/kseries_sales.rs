//! K-Series sales fetched from the simulator over HTTP (every page, every wire variant),
//! mapped to canonical sales, add up to the simulator's ground truth for the business day —
//! computed from its generated data, not from the API's paging.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lightspeed_sim::tokens::Realm;
use lightspeed_sim::{PaymentsMode, RefundSign, SimConfig, Simulator};
use rust_decimal::Decimal;
use serde_json::Value;
use tillbridge::location::business_day::{window, DayMode};
use tillbridge::sales::canonical::totals;
use tillbridge::sales::kseries::to_canonical;

mod common;
use common::get_json;

fn dec(value: &Value) -> Decimal {
    match value {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.to_string().parse().unwrap(),
        other => panic!("not a decimal: {other}"),
    }
}

async fn check_day(config: SimConfig, location_index: usize, date: &str, page_size: u32) {
    let sim = Simulator::start(config).await.unwrap();
    let token = sim
        .issue_token(Realm::KV2, &["financial-api", "items"])
        .access_token;
    let location = &sim.state().k.catalog.locations[location_index];
    let (location_id, tz) = (location.id, location.tz);
    let date: NaiveDate = date.parse().unwrap();
    let day = window(DayMode::Local { tz, cutoff_hour: 4 }, date);
    let http = reqwest::Client::new();
    let mut sales = Vec::new();
    let mut token_param: Option<String> = None;
    loop {
        let mut query = vec![
            ("from", day.start.to_rfc3339()),
            ("to", day.end.to_rfc3339()),
            ("pageSize", page_size.to_string()),
            ("include", "payments".to_string()),
        ];
        if let Some(next) = &token_param {
            query.push(("nextPageToken", next.clone()));
        }
        let url = format!(
            "{}/f/v2/business-location/{location_id}/sales",
            sim.base_url()
        );
        let body = get_json(http.get(&url).query(&query).bearer_auth(&token)).await;
        for sale in body["sales"].as_array().unwrap() {
            sales.push(to_canonical(sale).unwrap());
        }
        match body["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(next) => token_param = Some(next.to_string()),
            None => break,
        }
    }
    let truth = get_json(
        http.get(format!("{}/_sim/ground-truth", sim.base_url()))
            .query(&[
                ("locationId", location_id.to_string()),
                ("date", date.to_string()),
                ("cutoffHour", "4".into()),
            ]),
    )
    .await;
    let got = totals(&sales).unwrap();
    assert!(got.sale_count > 0, "a trading day");
    assert_eq!(
        got.sale_count as u64,
        truth["saleCount"].as_u64().unwrap(),
        "sales"
    );
    assert_eq!(
        got.refund_count as u64,
        truth["refundCount"].as_u64().unwrap(),
        "refunds"
    );
    assert_eq!(got.gross.value(), dec(&truth["gross"]));
    assert_eq!(got.net.value(), dec(&truth["net"]));
    assert_eq!(got.tax.value(), dec(&truth["tax"]));
    let expected: BTreeMap<String, Decimal> = truth["payments"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(method, t)| (method.clone(), dec(&t["amount"])))
        .collect();
    let actual: BTreeMap<String, Decimal> = got
        .payments
        .iter()
        .map(|(m, t)| (m.clone(), t.amount.value()))
        .collect();
    assert_eq!(actual, expected, "takings by payment method");
    let expected: BTreeMap<String, Decimal> = truth["itemQuantities"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), dec(v)))
        .collect();
    let actual: BTreeMap<String, Decimal> = got
        .item_quantities
        .iter()
        .map(|(k, v)| (k.clone(), v.value()))
        .collect();
    assert_eq!(actual, expected, "quantity per item");
}

#[tokio::test]
async fn london_day_with_negative_refunds_matches_ground_truth() {
    check_day(SimConfig::default(), 0, "2026-02-20", 100).await;
}

#[tokio::test]
async fn positive_refunds_and_payments_always_present_match_too() {
    let mut config = SimConfig::default();
    config.wire.refund_sign = RefundSign::Positive;
    config.wire.payments = PaymentsMode::Always;
    check_day(config, 0, "2026-02-20", 7).await;
}

#[tokio::test]
async fn auckland_day_far_from_utc_matches_ground_truth() {
    check_day(SimConfig::default(), 2, "2026-02-14", 33).await;
}
