//! Ground truth equals the sum over all pages fetched over HTTP, for random days and page sizes,
//! including after late sales and edits.

mod common;
use common::*;
use lightspeed_sim::SimConfig;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq)]
struct Sums {
    accounts: usize,
    sales: usize,
    refunds: usize,
    gross: Decimal,
    net: Decimal,
    tax: Decimal,
    payments: BTreeMap<String, Decimal>,
    tips: Decimal,
    qty: BTreeMap<String, Decimal>,
}

async fn fetch_all(
    base: &str,
    tok: &str,
    loc: i64,
    from: &str,
    to: &str,
    page_size: u64,
) -> (Sums, usize) {
    let mut sums = Sums::default();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let url = format!("{base}/f/v2/business-location/{loc}/sales?from={from}&to={to}&pageSize={page_size}&include=payments{next}");
        let (s, page) = get_json(&url, tok).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        for s in page["sales"].as_array().expect("sales") {
            sums.accounts += 1;
            let kind = s["type"].as_str().unwrap_or("");
            if s["cancelled"] == true || !(kind == "SALE" || kind == "REFUND") {
                continue;
            }
            if kind == "SALE" {
                sums.sales += 1;
            } else {
                sums.refunds += 1;
            }
            for l in s["salesLines"].as_array().expect("lines") {
                sums.gross += dec(&l["totalNetAmountWithTax"]);
                sums.net += dec(&l["totalNetAmountWithoutTax"]);
                sums.tax += dec(&l["taxAmount"]);
                *sums
                    .qty
                    .entry(l["sku"].as_str().unwrap_or("").to_string())
                    .or_default() += dec(&l["quantity"]);
            }
            for p in s["payments"].as_array().expect("payments") {
                *sums
                    .payments
                    .entry(p["code"].as_str().unwrap_or("").to_string())
                    .or_default() += dec(&p["netAmountWithTax"]);
                sums.tips += dec(&p["tip"]);
            }
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => next = format!("&nextPageToken={t}"),
            _ => break,
        }
    }
    (sums, pages)
}

fn truth_sums(g: &Value) -> Sums {
    let map = |v: &Value, f: &dyn Fn(&Value) -> Decimal| -> BTreeMap<String, Decimal> {
        v.as_object()
            .map(|o| o.iter().map(|(k, x)| (k.clone(), f(x))).collect())
            .unwrap_or_default()
    };
    Sums {
        accounts: g["accountCount"].as_u64().unwrap_or(0) as usize,
        sales: g["saleCount"].as_u64().unwrap_or(0) as usize,
        refunds: g["refundCount"].as_u64().unwrap_or(0) as usize,
        gross: dec(&g["gross"]),
        net: dec(&g["net"]),
        tax: dec(&g["tax"]),
        payments: map(&g["payments"], &|x| dec(&x["amount"])),
        tips: dec(&g["tips"]),
        qty: map(&g["itemQuantities"], &dec),
    }
}

async fn truth(base: &str, loc: i64, date: &str) -> Value {
    client()
        .get(format!(
            "{base}/_sim/ground-truth?locationId={loc}&date={date}"
        ))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn ground_truth_matches_all_pages_for_random_days_and_page_sizes() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v2").await;
    let mut rng = TestRng(0x5eed_1234_abcd_0001);
    let locs = [SOHO, LEEDS, PONSONBY];
    let first = chrono::NaiveDate::from_ymd_opt(2025, 11, 5).expect("date");
    for _ in 0..8 {
        let loc = locs[rng.below(3) as usize];
        let date = first + chrono::Duration::days(rng.below(110) as i64);
        let page_size = 1 + rng.below(100);
        let g = truth(&base, loc, &date.to_string()).await;
        let (from, to) = (
            g["from"].as_str().unwrap_or("").to_string(),
            g["to"].as_str().unwrap_or("").to_string(),
        );
        let (sums, pages) = fetch_all(&base, &tok, loc, &from, &to, page_size).await;
        let expected = truth_sums(&g);
        assert!(expected.sales > 0);
        assert_eq!(
            sums, expected,
            "location {loc} date {date} pageSize {page_size}"
        );
        assert_eq!(
            pages,
            expected.accounts.div_ceil(page_size as usize).max(1),
            "minimum number of pages"
        );
        // Internal consistency of the generated data: payments cover gross + service charge.
        let pay: Decimal = expected.payments.values().copied().sum();
        let due = expected.gross + dec(&g["serviceCharge"]);
        assert_eq!(
            pay - dec(&g["rounding"]),
            due,
            "payments minus cash rounding equal gross plus service charge"
        );
    }
}

#[tokio::test]
async fn late_sales_and_edits_move_ground_truth_and_pages_together() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v1").await;
    let date = "2026-02-18";
    let before = truth(&base, LEEDS, date).await;
    let r: Value = client()
        .post(format!("{base}/_sim/k/late-sales"))
        .json(&serde_json::json!({ "locationId": LEEDS, "date": date, "count": 3 }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["added"].as_array().map(Vec::len), Some(3));
    let after = truth(&base, LEEDS, date).await;
    assert_eq!(
        after["saleCount"].as_u64(),
        before["saleCount"].as_u64().map(|n| n + 3)
    );
    // Edit a paid sale: change a line quantity and the payment method.
    let (from, to) = (
        after["from"].as_str().unwrap_or(""),
        after["to"].as_str().unwrap_or(""),
    );
    let (_, page) = get_json(&format!("{base}/f/v2/business-location/{LEEDS}/sales?from={from}&to={to}&pageSize=100&include=payments"), &tok).await;
    let sale = page["sales"]
        .as_array()
        .and_then(|v| {
            v.iter().find(|s| {
                s["type"] == "SALE" && s["payments"].as_array().is_some_and(|p| !p.is_empty())
            })
        })
        .cloned()
        .expect("a paid sale");
    let fisc = sale["accountFiscId"].as_str().unwrap_or("").to_string();
    let line = sale["salesLines"][0]["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let r = client()
        .post(format!("{base}/_sim/k/sales/edit"))
        .json(&serde_json::json!({ "locationId": LEEDS, "accountFiscId": fisc, "lineId": line, "quantity": "3", "paymentCode": "AMEX" }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let edited = truth(&base, LEEDS, date).await;
    assert_ne!(edited["gross"], after["gross"]);
    let (sums, _) = fetch_all(
        &base,
        &tok,
        LEEDS,
        edited["from"].as_str().unwrap_or(""),
        edited["to"].as_str().unwrap_or(""),
        17,
    )
    .await;
    assert_eq!(sums, truth_sums(&edited));
}
