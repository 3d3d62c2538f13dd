#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

//! X-Series sales fetched from the simulator over HTTP (the whole `/api/2.0/sales` version
//! feed, paged as `xseries_mirror` reads it and filtered by outlet and day), mapped to canonical sales,
//! add up to totals computed from the simulator's generated store.
//!
//! The simulator's `/_sim/ground-truth` covers K-Series locations only (it takes an integer
//! `locationId`), so the expected totals are computed here from `sim.state().x()` — the
//! generated sales and revisions, never their wire form: a sale counts on the day its goods
//! left (`XSale::stock_moved_at`: an on-account sale when made, others when closed), returns
//! (`return_for`) are refunds, voided sales and open laybys do not count.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use lightspeed_sim::tokens::Realm;
use lightspeed_sim::{RunningSimulator, SimConfig, Simulator};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge::location::business_day::{window, DayMode, Window};
use tillbridge::sales::canonical::{totals, CanonicalSale, SaleKind};
use tillbridge::sales::xseries::{day_sales, next_after, page_query, to_canonical, SALES_PATH};

mod common;
use common::get_json;

/// What the generated store says about one outlet's day.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    sale_ids: Vec<String>,
    sale_count: usize,
    refund_count: usize,
    line_count: usize,
    gross: Decimal,
    net: Decimal,
    tax: Decimal,
    /// Payment type name → (count, amount).
    payments: BTreeMap<String, (usize, Decimal)>,
    /// Product id → quantity.
    by_product: BTreeMap<String, Decimal>,
    /// SKU → quantity.
    by_sku: BTreeMap<String, Decimal>,
}

fn expected(sim: &RunningSimulator, outlet_id: &str, day: &Window) -> Expected {
    let now = sim.state().clock.now();
    let store = sim.state().x();
    let sku = |product_id: &str| {
        store
            .products
            .iter()
            .find(|p| p.id == product_id)
            .map(|p| p.sku.clone())
            .unwrap()
    };
    let mut e = Expected::default();
    for sale in store.sales.iter().filter(|s| s.outlet_id == outlet_id) {
        if !sale.stock_moved_at(now).is_some_and(|at| day.contains(at)) {
            continue;
        }
        let Some(current) = sale.current(now) else {
            continue;
        };
        let mut gross = Decimal::ZERO;
        e.sale_ids.push(sale.id.clone());
        match sale.return_for {
            Some(_) => e.refund_count += 1,
            None => e.sale_count += 1,
        }
        for line in &sale.lines {
            e.line_count += 1;
            e.net += line.price * line.quantity;
            e.tax += line.tax * line.quantity;
            e.gross += (line.price + line.tax) * line.quantity;
            gross += (line.price + line.tax) * line.quantity;
            *e.by_product.entry(line.product_id.clone()).or_default() += line.quantity;
            *e.by_sku.entry(sku(&line.product_id)).or_default() += line.quantity;
        }
        for payment in &current.payments {
            let method = e
                .payments
                .entry(payment.payment_type.name.clone())
                .or_default();
            method.0 += 1;
            method.1 += payment.amount;
        }
        // An open on-account sale's goods left unpaid: what is owed, in cents, is taken on
        // account.
        if current.status == "ONACCOUNT" {
            let paid: Decimal = current.payments.iter().map(|p| p.amount).sum();
            let owed = (gross - paid)
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            if owed > Decimal::ZERO {
                let method = e.payments.entry("On account".into()).or_default();
                method.0 += 1;
                method.1 += owed;
            }
        }
    }
    e.sale_ids.sort();
    e
}

/// What the canonical sales add up to, in the same terms.
fn actual(sales: &[CanonicalSale]) -> Expected {
    let t = totals(sales).unwrap();
    let mut sale_ids: Vec<String> = sales
        .iter()
        .filter(|s| s.counts())
        .map(|s| s.sale_id.clone())
        .collect();
    sale_ids.sort();
    let mut by_product = BTreeMap::new();
    for line in sales.iter().filter(|s| s.counts()).flat_map(|s| &s.lines) {
        let id = line.item.item_id.as_deref().unwrap().to_string();
        *by_product.entry(id).or_insert(Decimal::ZERO) += line.quantity.value();
    }
    Expected {
        sale_ids,
        sale_count: t.sale_count,
        refund_count: t.refund_count,
        line_count: t.line_count,
        gross: t.gross.value(),
        net: t.net.value(),
        tax: t.tax.value(),
        payments: t
            .payments
            .iter()
            .map(|(m, p)| (m.clone(), (p.count, p.amount.value())))
            .collect(),
        by_product,
        // API 2.0 lines carry no SKU; only the 1.0 shape fills this.
        by_sku: t
            .item_quantities
            .iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.clone(), v.value()))
            .collect(),
    }
}

struct Fetched {
    sales: Vec<CanonicalSale>,
    requests: u32,
}

/// The whole feed read for one outlet's day, over reqwest with a simulator token.
async fn fetch(sim: &RunningSimulator, outlet_id: &str, day: &Window) -> Fetched {
    let token = sim.issue_token(Realm::X, &["sales:read"]).access_token;
    let http = reqwest::Client::new();
    let url = format!("{}{SALES_PATH}", sim.x_base_url());
    let mut out = Fetched {
        sales: Vec::new(),
        requests: 0,
    };
    let mut after = 0;
    loop {
        let response = http
            .get(&url)
            .query(&page_query(after))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let page: Value = response.json().await.unwrap();
        out.requests += 1;
        out.sales.extend(day_sales(&page, outlet_id, day).unwrap());
        match next_after(&page, after) {
            Some(next) => after = next,
            None => break,
        }
    }
    out
}

fn outlet(sim: &RunningSimulator, index: usize, date: &str) -> (String, Window) {
    let store = sim.state().x();
    let outlet = &store.outlets[index];
    let date: NaiveDate = date.parse().unwrap();
    let day = window(
        DayMode::Local {
            tz: outlet.tz,
            cutoff_hour: 4,
        },
        date,
    );
    (outlet.id.clone(), day)
}

async fn check_day(sim: &RunningSimulator, index: usize, date: &str) -> Vec<CanonicalSale> {
    let (outlet_id, day) = outlet(sim, index, date);
    let fetched = fetch(sim, &outlet_id, &day).await;
    assert!(fetched.requests > 2, "the feed spans several pages");
    let want = expected(sim, &outlet_id, &day);
    assert!(want.sale_count > 0, "a trading day");
    let mut got = actual(&fetched.sales);
    got.by_sku = want.by_sku.clone();
    assert_eq!(got, want, "{date}");
    for sale in fetched.sales.iter().filter(|s| s.kind == SaleKind::Refund) {
        assert!(sale.original_sale_id.is_some());
        assert!(sale.lines.iter().all(|l| l.quantity.is_negative()));
        assert!(sale.payments.iter().all(|p| p.amount.is_negative()));
    }
    fetched.sales
}

/// Every counted sale's takings equal its lines (with tax), to the cent.
fn paid_in_full(sales: &[CanonicalSale]) {
    for sale in sales.iter().filter(|s| s.counts()) {
        let lines: Decimal = sale.lines.iter().map(|l| l.gross.value()).sum();
        let paid: Decimal = sale.payments.iter().map(|p| p.amount.value()).sum();
        assert_eq!(paid, lines.round_dp(2), "sale {}", sale.sale_id);
    }
}

async fn post(sim: &RunningSimulator, path: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}");
}

#[tokio::test]
async fn ponsonby_day_with_returns_matches_the_generated_store() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let sales = check_day(&sim, 0, "2026-02-20").await;
    assert!(sales.iter().any(|s| s.kind == SaleKind::Refund), "a return");
    paid_in_full(&sales);
}

#[tokio::test]
async fn britomart_day_with_other_seed_matches_too() {
    let config = SimConfig {
        seed: 7,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.unwrap();
    let sales = check_day(&sim, 1, "2026-02-14").await;
    paid_in_full(&sales);
}

/// A layby counts on the day its final payment closes it, not the day it was opened; a sale
/// voided later leaves the day it was closed on.
#[tokio::test]
async fn laybys_count_when_closed_and_voids_leave_the_day() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let (outlet_id, day) = outlet(&sim, 0, "2026-02-20");
    let before = fetch(&sim, &outlet_id, &day).await.sales;
    let victim = before
        .iter()
        .find(|s| s.kind == SaleKind::Sale)
        .unwrap()
        .sale_id
        .clone();
    post(&sim, &format!("/_sim/x/sales/{victim}/void"), json!({})).await;
    let after = check_day(&sim, 0, "2026-02-20").await;
    assert!(!after.iter().any(|s| s.sale_id == victim));
    let later_closed = {
        let now = sim.state().clock.now();
        let store = sim.state().x();
        store
            .sales
            .iter()
            .filter(|s| s.outlet_id == outlet_id && s.revisions.len() == 2)
            .filter(|s| s.revisions[1].status == "LAYBY_CLOSED")
            .filter_map(|s| s.current(now).map(|r| (s.sale_date, r.at)))
            .filter(|(opened, closed)| opened < closed && *closed <= now)
            .map(|(_, closed): (DateTime<Utc>, DateTime<Utc>)| closed)
            .max()
            .unwrap()
    };
    let date = later_closed
        .with_timezone(&chrono_tz::Pacific::Auckland)
        .date_naive()
        .to_string();
    let sales = check_day(&sim, 0, &date).await;
    assert!(sales
        .iter()
        .any(|s| s.counts() && s.closed_at == later_closed));
}

/// The API 1.0 `register_sale` payload (what `sale.update` webhooks carry: legacy status,
/// zone-less timestamps, SKU and name on lines) maps to the same totals, SKUs included.
#[tokio::test]
async fn legacy_register_sale_payloads_add_up_the_same() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let (outlet_id, day) = outlet(&sim, 0, "2026-02-20");
    let candidates: Vec<String> = {
        let now = sim.state().clock.now();
        let store = sim.state().x();
        store
            .sales
            .iter()
            .filter(|s| s.outlet_id == outlet_id && s.sale_date < day.end)
            .filter(|s| s.current(now).is_some_and(|r| r.at >= day.start))
            .map(|s| s.id.clone())
            .collect()
    };
    let http = reqwest::Client::new();
    let mut sales = Vec::new();
    for id in candidates {
        let legacy =
            get_json(http.get(format!("{}/_sim/x/sales/{id}/legacy", sim.base_url()))).await;
        let sale = to_canonical(&legacy).unwrap();
        if day.contains(sale.closed_at) {
            sales.push(sale);
        }
    }
    let want = expected(&sim, &outlet_id, &day);
    assert!(!want.by_sku.is_empty());
    assert_eq!(actual(&sales), want);
}
