//! K-Series contract: field names, JSON types, paging and error bodies per the fact sheet.

mod common;
use common::*;
use lightspeed_sim::{ItemsShape, LastPageToken, PaymentsMode, RefundSign, SimConfig};
use serde_json::Value;

fn is_int(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

#[tokio::test]
async fn businesses_hal_envelope() {
    let sim = start(SimConfig::default()).await;
    let tok = token(&sim, "k-v1").await;
    let (s, b) = get_json(&format!("{}/f/data/businesses", sim.base_url()), &tok).await;
    assert_eq!(s, 200);
    assert!(b["_links"]["self"]["href"].is_string());
    let list = b["_embedded"]["businessList"]
        .as_array()
        .expect("businessList");
    assert_eq!(list.len(), 2);
    let mut tzs = Vec::new();
    for biz in list {
        assert!(is_int(&biz["businessId"]));
        assert!(biz["businessName"].is_string());
        assert_eq!(biz["currencyCode"].as_str().map(str::len), Some(3));
        for l in biz["businessLocations"].as_array().expect("locations") {
            assert!(is_int(&l["blID"]), "blID is a number");
            assert!(l["blName"].is_string());
            assert_eq!(l["country"].as_str().map(str::len), Some(2));
            tzs.push(l["timezone"].as_str().unwrap_or("").to_string());
        }
    }
    assert!(
        tzs.contains(&"Europe/London".to_string()) && tzs.contains(&"Pacific/Auckland".to_string())
    );
}

#[tokio::test]
async fn items_shape_paging_and_errors() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v1").await;
    // Missing businessLocationId: 400 with the Items error body (status is a string).
    let (s, e) = get_json(&format!("{base}/items/v1/items"), &tok).await;
    assert_eq!(s, 400);
    assert_eq!(e["status"], "400");
    assert!(e["timestamp"].is_string() && e["message"].is_string());
    assert_eq!(e["apiSubExceptions"][0]["field"], "businessLocationId");
    let (s, e) = get_json(
        &format!("{base}/items/v1/items?businessLocationId=abc"),
        &tok,
    )
    .await;
    assert_eq!((s, e["status"].as_str()), (400, Some("400")));
    let (s, e) = get_json(
        &format!("{base}/items/v1/items?businessLocationId={SOHO}&amount=101"),
        &tok,
    )
    .await;
    assert_eq!(
        (s, e["apiSubExceptions"][0]["field"].as_str()),
        (400, Some("amount"))
    );
    // Paging with offset/amount covers every item exactly once; bare array by default.
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let (s, page) = get_json(
            &format!("{base}/items/v1/items?businessLocationId={SOHO}&offset={offset}&amount=30"),
            &tok,
        )
        .await;
        assert_eq!(s, 200);
        let arr = page.as_array().expect("bare array");
        if arr.is_empty() {
            break;
        }
        for it in arr {
            assert!(is_int(&it["id"]));
            for f in [
                "name",
                "docketName",
                "sku",
                "barcode",
                "sharingType",
                "priceMode",
                "inventorySource",
                "contentDimension",
                "itemType",
            ] {
                assert!(it[f].is_string(), "{f} is a string");
            }
            assert!(it["active"].is_boolean() && it["disabled"].is_boolean());
            assert!(it["costPrice"].is_number(), "item money is a JSON number");
            assert!(it["prices"][0]["amount"].is_number());
            assert!(is_int(&it["accountingGroup"]["id"]));
            ids.push(it["id"].as_i64().unwrap_or(0));
        }
        offset += 30;
    }
    assert!(
        ids.len() >= 100,
        "at least 100 menu items, got {}",
        ids.len()
    );
    let mut dedup = ids.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), ids.len());
    // sku filter and single item.
    let (_, one) = get_json(
        &format!("{base}/items/v1/items?businessLocationId={SOHO}&sku=MN-001"),
        &tok,
    )
    .await;
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    let (s, single) = get_json(
        &format!("{base}/items/v1/items/{}?businessLocationId={SOHO}", ids[0]),
        &tok,
    )
    .await;
    assert_eq!((s, single["id"].as_i64()), (200, Some(ids[0])));
    let (s, nf) = get_json(
        &format!("{base}/items/v1/items/1?businessLocationId={SOHO}"),
        &tok,
    )
    .await;
    assert_eq!((s, nf["status"].as_str()), (404, Some("404")));
}

#[tokio::test]
async fn items_wrapped_variant() {
    let mut cfg = SimConfig::default();
    cfg.wire.items_shape = ItemsShape::Wrapped;
    let sim = start(cfg).await;
    let tok = token(&sim, "k-v1").await;
    let (_, b) = get_json(
        &format!(
            "{}/items/v1/items?businessLocationId={SOHO}",
            sim.base_url()
        ),
        &tok,
    )
    .await;
    assert_eq!(b["items"].as_array().map(Vec::len), Some(100));
}

fn check_sale(s: &Value, with_payments: bool) {
    for f in [
        "accountReference",
        "accountFiscId",
        "receiptId",
        "timeOfOpening",
        "timeClosed",
        "type",
        "ownerName",
        "deviceName",
        "accountProfileCode",
    ] {
        assert!(s[f].is_string(), "sale.{f} is a string: {s}");
    }
    assert!(s["accountFiscId"].as_str().unwrap_or("").starts_with('A'));
    assert!(s["receiptId"].as_str().unwrap_or("").starts_with('R'));
    assert!(s["cancelled"].is_boolean() && s["dineIn"].is_boolean());
    assert!(is_int(&s["deviceId"]), "sale deviceId is an integer");
    assert!(is_int(&s["ownerId"]));
    assert!(s["nbCovers"].is_f64(), "nbCovers is a double");
    assert!(s["source"]["initialAccountId"].is_string());
    for l in s["salesLines"].as_array().expect("salesLines") {
        assert!(l["id"].as_str().unwrap_or("").starts_with('S'));
        assert!(l["parentLineId"].is_null() || l["parentLineId"].is_string());
        assert!(
            l.get("itemName").is_none() && l.get("itemSku").is_none(),
            "no Order & Pay names"
        );
        assert_decimal_string(&l["quantity"], 3, "quantity");
        assert_decimal_string(&l["totalNetAmountWithTax"], 2, "totalNetAmountWithTax");
        assert_decimal_string(
            &l["totalNetAmountWithoutTax"],
            2,
            "totalNetAmountWithoutTax",
        );
        assert_decimal_string(&l["taxAmount"], 4, "taxAmount");
        assert_decimal_string(&l["taxRatePercentage"], 2, "taxRatePercentage");
        assert_decimal_string(&l["menuListPrice"], 2, "menuListPrice");
        assert_decimal_string(&l["serviceCharge"], 2, "serviceCharge");
        assert_decimal_string(&l["totalDiscountAmount"], 2, "totalDiscountAmount");
        let tl = &l["taxLines"][0];
        assert!(tl["taxId"].is_string(), "taxId is a string");
        assert_decimal_string(&tl["taxAmount"], 6, "taxLines.taxAmount");
        assert!(
            tl["taxRate"]
                .as_str()
                .is_some_and(|r| r.starts_with("1.") || r == "1"),
            "taxRate is a multiplier string"
        );
        assert!(tl["taxIncluded"].is_boolean());
        assert!(is_int(&l["accountingGroup"]["accountingGroupId"]));
        assert!(is_int(&l["deviceId"]) && is_int(&l["staffId"]) && is_int(&l["revenueCenterId"]));
        assert!(l["sku"].is_string() && l["name"].is_string() && l["timeOfSale"].is_string());
    }
    match s.get("payments") {
        Some(ps) => {
            assert!(with_payments, "payments only with include=payments");
            for p in ps.as_array().expect("payments") {
                for f in [
                    "code",
                    "description",
                    "currency",
                    "type",
                    "fiscId",
                    "uuid",
                    "fiscDate",
                    "deviceName",
                    "staffName",
                ] {
                    assert!(p[f].is_string(), "payment.{f} is a string");
                }
                assert!(p["deviceId"].is_string(), "payment deviceId is a string");
                assert!(is_int(&p["paymentMethodId"]) && is_int(&p["staffId"]));
                for f in ["netAmountWithTax", "tip", "surcharge", "roundingAmount"] {
                    assert_decimal_string(&p[f], 2, f);
                }
                assert!(p.get("amount").is_none() && p.get("paymentMethod").is_none());
            }
        }
        None => assert!(!with_payments, "payments requested but missing"),
    }
}

#[tokio::test]
async fn sales_shape_paging_and_errors() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v2").await;
    let url = format!("{base}/f/v2/business-location/{SOHO}/sales");
    for (q, why) in [
        ("", "missing from"),
        ("?from=yesterday", "bad date"),
        (
            "?from=2026-02-10T00:00:00Z&to=2026-02-01T00:00:00Z",
            "from after to",
        ),
        (
            "?from=2024-01-01T00:00:00Z&to=2025-06-01T00:00:00Z",
            "over 365 days",
        ),
        (
            "?from=2026-02-01T00:00:00Z&pageSize=101",
            "pageSize over 100",
        ),
        (
            "?from=2026-02-01T00:00:00Z&pageSize=abc",
            "pageSize not a number",
        ),
        ("?from=2026-02-01T00:00:00Z&nextPageToken=%%%", "bad token"),
    ] {
        let (s, e) = get_json(&format!("{url}{q}"), &tok).await;
        assert_eq!(s, 400, "{why}");
        assert!(
            e["error"].is_string(),
            "{why}: error body is {{\"error\": string}}: {e}"
        );
        assert_eq!(e.as_object().map(|o| o.len()), Some(1));
    }
    // One day, paged by 37 with payments: sorted by timeClosed, all inside the window.
    let from = "2026-02-20T04:00:00Z";
    let to = "2026-02-21T04:00:00Z";
    let mut token_q = String::new();
    let mut seen = Vec::new();
    let mut kinds = std::collections::HashSet::new();
    loop {
        let (s, page) = get_json(
            &format!("{url}?from={from}&to={to}&pageSize=37&include=payments{token_q}"),
            &tok,
        )
        .await;
        assert_eq!(s, 200);
        assert!(page.get("_links").is_none());
        let sales = page["sales"].as_array().expect("sales");
        assert!(sales.len() <= 37);
        for s in sales {
            check_sale(s, true);
            kinds.insert(s["type"].as_str().unwrap_or("").to_string());
            seen.push(s["timeClosed"].as_str().unwrap_or("").to_string());
        }
        match page.get("nextPageToken") {
            Some(Value::String(t)) if !t.is_empty() => token_q = format!("&nextPageToken={t}"),
            None => break,
            other => panic!("default last page omits the token, got {other:?}"),
        }
    }
    assert!(seen.len() > 50);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "sorted by timeClosed");
    assert!(seen.iter().all(|t| t.as_str() >= from && t.as_str() < to));
    assert!(kinds.contains("SALE"));
    // Without include=payments, payments are absent.
    let (_, page) = get_json(&format!("{url}?from={from}&to={to}&pageSize=5"), &tok).await;
    for s in page["sales"].as_array().expect("sales") {
        check_sale(s, false);
    }
}

#[tokio::test]
async fn wire_switches_change_the_wire() {
    // Refund sign, payments always, last page token null/empty.
    for (last, refund) in [
        (LastPageToken::Null, RefundSign::Positive),
        (LastPageToken::Empty, RefundSign::Negative),
    ] {
        let mut cfg = SimConfig::default();
        cfg.wire.last_page_token = last;
        cfg.wire.refund_sign = refund;
        cfg.wire.payments = PaymentsMode::Always;
        let sim = start(cfg).await;
        let tok = token(&sim, "k-v1").await;
        let url = format!("{}/f/v2/business-location/{SOHO}/sales?from=2026-01-05T00:00:00Z&to=2026-01-15T00:00:00Z&pageSize=100", sim.base_url());
        let mut next = String::new();
        let mut refunds = 0;
        loop {
            let (_, page) = get_json(&format!("{url}{next}"), &tok).await;
            for s in page["sales"].as_array().expect("sales") {
                assert!(s.get("payments").is_some(), "payments always present");
                if s["type"] == "REFUND" {
                    refunds += 1;
                    assert!(
                        s["source"]["previousAccountId"].is_string(),
                        "refund links to its original"
                    );
                    let q = dec(&s["salesLines"][0]["quantity"]);
                    match refund {
                        RefundSign::Positive => assert!(q > rust_decimal::Decimal::ZERO),
                        RefundSign::Negative => assert!(q < rust_decimal::Decimal::ZERO),
                    }
                }
            }
            match page.get("nextPageToken") {
                Some(Value::String(t)) if !t.is_empty() => next = format!("&nextPageToken={t}"),
                Some(Value::Null) => {
                    assert_eq!(last, LastPageToken::Null);
                    break;
                }
                Some(Value::String(_)) => {
                    assert_eq!(last, LastPageToken::Empty);
                    break;
                }
                other => panic!("unexpected last token {other:?}"),
            }
        }
        assert!(refunds > 0, "ten days have refunds");
    }
}

#[tokio::test]
async fn sales_daily_payment_methods_tax_rates() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let tok = token(&sim, "k-v1").await;
    let (s, d) = get_json(
        &format!(
            "{base}/f/v2/business-location/{PONSONBY}/sales-daily?date=2026-02-14&include=payments"
        ),
        &tok,
    )
    .await;
    assert_eq!(s, 200);
    assert!(d["sales"].as_array().is_some_and(|v| !v.is_empty()));
    assert_eq!(d["dataComplete"], true);
    let next = d["nextStartOfDayAsIso8601"].as_str().unwrap_or("");
    assert!(next.starts_with("2026-02-15T04:00:00+13:00"), "{next}");
    let (s, e) = get_json(
        &format!("{base}/f/v2/business-location/{PONSONBY}/sales-daily?date=2020-01-01"),
        &tok,
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["error"]
        .as_str()
        .unwrap_or("")
        .contains("not operational"));
    let (s, e) = get_json(
        &format!("{base}/f/v2/business-location/{PONSONBY}/sales-daily?date=14-02-2026"),
        &tok,
    )
    .await;
    assert_eq!((s, e["error"].is_string()), (400, true));
    let (s, pm) = get_json(&format!("{base}/f/finance/{SOHO}/paymentMethods"), &tok).await;
    assert_eq!(s, 200);
    for m in pm["_embedded"]["paymentMethodList"]
        .as_array()
        .expect("list")
    {
        assert!(
            m["name"].is_string()
                && m["code"].is_string()
                && m["accountingReference"].is_string()
                && is_int(&m["pmId"])
        );
    }
    let (_, tr) = get_json(&format!("{base}/f/finance/{SOHO}/tax-rates"), &tok).await;
    let rates = tr["_embedded"]["taxRateList"].as_array().expect("list");
    assert!(rates.len() >= 3, "several tax rates");
    assert!(rates
        .iter()
        .any(|r| r["rate"] == "1.2" && r["code"] == "VAT20" && r["taxIncluded"] == true));
}
