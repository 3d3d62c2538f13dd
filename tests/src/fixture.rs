//! A company set up for transfers through the admin API, plus the test's own, independent
//! arithmetic for what the ledger should hold (recipes walked by hand, no library code).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

use crate::TestEnv;

/// What a POS SKU (or name) is mapped to, as the test remembers it.
#[derive(Debug, Clone)]
pub struct MappedTo {
    pub recipe: Option<String>,
    pub ingredient: Option<String>,
    pub quantity: Decimal,
    pub subtraction: bool,
}

/// A recipe line as the test remembers it.
#[derive(Debug, Clone)]
pub struct TestLine {
    pub ingredient: Option<String>,
    pub recipe: Option<String>,
    pub quantity: Decimal,
    pub trim: Option<Decimal>,
}

pub struct TransferFixture {
    pub env: TestEnv,
    pub company: String,
    /// Location id → (storage unit id, time zone).
    pub locations: BTreeMap<String, (String, String)>,
    pub recipes: HashMap<String, Vec<TestLine>>,
    /// SKU (or name when there is none) → mapping.
    pub mapped: HashMap<String, MappedTo>,
    pub ingredients: Vec<String>,
    /// Ingredient id → receipt (quantity, value).
    pub receipts: HashMap<String, (Decimal, Decimal)>,
}

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

pub fn decimal(value: &Value) -> Decimal {
    match value {
        Value::String(s) => s.parse().expect("decimal string"),
        Value::Number(n) => n.to_string().parse().expect("decimal number"),
        Value::Null => Decimal::ZERO,
        other => panic!("not a decimal: {other}"),
    }
}

pub fn round6(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven)
}

impl TransferFixture {
    /// Connects a fresh company to the simulator and sets up units, ingredients with
    /// receipts, nested recipes with trim, and mappings for four of every five SKUs.
    pub async fn new(prefix: &str) -> Self {
        let (env, company) = TestEnv::connected(prefix, "k_series").await;
        Self::setup(env, company).await
    }

    pub async fn setup(env: TestEnv, company: String) -> Self {
        let api = env.client(&company);
        let base = format!("/v1/companies/{company}");
        let (status, body) = api
            .post(
                &format!("{base}/locations/sync"),
                &json!({"product": "k_series"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let (status, body) = api
            .post(
                &format!("{base}/items/sync"),
                &json!({"product": "k_series"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");

        let mut ingredients = Vec::new();
        let mut receipts = HashMap::new();
        for (name, unit, qty, value) in [
            ("Flour", "kg", "250", "212.50"),
            ("Tomato", "kg", "40", "97.30"),
            ("Mozzarella", "kg", "30", "251.70"),
            ("Beef", "kg", "60", "693.00"),
            ("Bun", "pcs", "600", "174.00"),
            ("Coffee", "kg", "12", "219.36"),
            ("Cola", "bottle", "480", "216.00"),
        ] {
            let (status, body) = api
                .post(
                    &format!("{base}/ingredients"),
                    &json!({"name": name, "unit": unit}),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(status, 201, "{body}");
            let id = body["id"].as_str().unwrap().to_string();
            // The same stock in each currency the simulated locations use, so every
            // location is valued at the same average cost.
            for currency in ["GBP", "NZD"] {
                let (status, body) = api
                    .post(
                        &format!("{base}/ingredients/{id}/receipts"),
                        &json!({"quantity": qty, "value": value, "currency": currency}),
                        None,
                    )
                    .await
                    .unwrap();
                assert_eq!(status, 201, "{body}");
            }
            receipts.insert(id.clone(), (d(qty), d(value)));
            ingredients.push(id);
        }
        let ing = |i: usize| ingredients[i].clone();
        let mut recipes = HashMap::new();
        let create_recipe = |name: &str, lines: Vec<TestLine>| {
            let body = json!({
                "name": name,
                "lines": lines.iter().map(|l| {
                    let mut v = json!({"quantity": l.quantity.to_string()});
                    if let Some(i) = &l.ingredient { v["ingredient_id"] = json!(i); }
                    if let Some(r) = &l.recipe { v["recipe_id"] = json!(r); }
                    if let Some(t) = l.trim { v["trim_pct"] = json!(t.to_string()); }
                    v
                }).collect::<Vec<_>>(),
            });
            (body, lines)
        };
        let line = |ingredient: Option<String>,
                    recipe: Option<String>,
                    q: &str,
                    trim: Option<&str>| TestLine {
            ingredient,
            recipe,
            quantity: d(q),
            trim: trim.map(d),
        };
        let mut ids = Vec::new();
        for (name, lines) in [(
            "Dough base",
            vec![
                line(Some(ing(0)), None, "0.200", None),
                line(Some(ing(1)), None, "0.050", Some("12.5")),
            ],
        )] {
            let (body, lines) = create_recipe(name, lines);
            let (status, created) = api
                .post(&format!("{base}/recipes"), &body, None)
                .await
                .unwrap();
            assert_eq!(status, 201, "{created}");
            let id = created["id"].as_str().unwrap().to_string();
            recipes.insert(id.clone(), lines);
            ids.push(id);
        }
        let base_recipe = ids[0].clone();
        for (name, lines) in [
            (
                "Pizza",
                vec![
                    line(None, Some(base_recipe.clone()), "1", None),
                    line(Some(ing(2)), None, "0.125", Some("5")),
                ],
            ),
            (
                "Burger",
                vec![
                    line(Some(ing(3)), None, "0.180", Some("10")),
                    line(Some(ing(4)), None, "1", None),
                    line(Some(ing(1)), None, "0.030", Some("7")),
                ],
            ),
        ] {
            let (body, lines) = create_recipe(name, lines);
            let (status, created) = api
                .post(&format!("{base}/recipes"), &body, None)
                .await
                .unwrap();
            assert_eq!(status, 201, "{created}");
            let id = created["id"].as_str().unwrap().to_string();
            recipes.insert(id.clone(), lines);
            ids.push(id);
        }
        let (pizza, burger) = (ids[1].clone(), ids[2].clone());

        // Storage units, one per location, linked.
        let (locs, _) = api
            .list_all(&format!("{base}/locations"), 100)
            .await
            .unwrap();
        let mut locations = BTreeMap::new();
        for (i, loc) in locs.iter().enumerate() {
            let id = loc["location_id"].as_str().unwrap().to_string();
            let (status, unit) = api
                .post(
                    &format!("{base}/storage-units"),
                    &json!({"name": format!("Store {i}"), "code": format!("ST{i}")}),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(status, 201, "{unit}");
            let unit_id = unit["id"].as_str().unwrap().to_string();
            let (status, linked) = api
                .request(
                    reqwest::Method::PUT,
                    &format!("{base}/locations/{id}/storage-unit"),
                    Some((
                        "application/json",
                        json!({"storage_unit_id": unit_id}).to_string().into_bytes(),
                    )),
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(status, 200, "{linked}");
            locations.insert(id, (unit_id, loc["timezone"].as_str().unwrap().to_string()));
        }

        // Mappings by SKU: every item with that SKU (both businesses) maps the same way.
        let (items, _) = api
            .list_all(&format!("{base}/items?product=k_series"), 100)
            .await
            .unwrap();
        let mut by_code: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in &items {
            let code = item["sku"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or(item["name"].as_str().unwrap());
            by_code
                .entry(code.to_string())
                .or_default()
                .push(item["item_id"].as_str().unwrap().to_string());
        }
        let mut mapped = HashMap::new();
        for (n, (code, item_ids)) in by_code.iter().enumerate() {
            let target = match n % 5 {
                0 => continue, // left unmapped on purpose
                1 => MappedTo {
                    recipe: Some(pizza.clone()),
                    ingredient: None,
                    quantity: d("1"),
                    subtraction: false,
                },
                2 => MappedTo {
                    recipe: Some(burger.clone()),
                    ingredient: None,
                    quantity: d("1"),
                    subtraction: false,
                },
                3 => MappedTo {
                    recipe: None,
                    ingredient: Some(ing(5)),
                    quantity: d("0.018"),
                    subtraction: false,
                },
                _ => MappedTo {
                    recipe: None,
                    ingredient: Some(ing(6)),
                    quantity: d("1"),
                    subtraction: n % 10 == 9,
                },
            };
            for item_id in item_ids {
                let mut body = json!({"quantity": target.quantity.to_string(), "is_subtraction": target.subtraction});
                if let Some(r) = &target.recipe {
                    body["recipe_id"] = json!(r);
                }
                if let Some(i) = &target.ingredient {
                    body["ingredient_id"] = json!(i);
                }
                let (status, reply) = api
                    .request(
                        reqwest::Method::PUT,
                        &format!("{base}/items/k_series/{item_id}/mapping"),
                        Some(("application/json", body.to_string().into_bytes())),
                        &[],
                    )
                    .await
                    .unwrap();
                assert!(status == 200 || status == 201, "{reply}");
            }
            mapped.insert(code.clone(), target);
        }
        Self {
            env,
            company,
            locations,
            recipes,
            mapped,
            ingredients,
            receipts,
        }
    }

    /// Ingredient quantities per unit of a recipe, walking it by hand, as
    /// (numerator, denominator) pairs: trims divide, and dividing only once at the end keeps
    /// a total that is an exact rounding tie exact.
    pub fn per_unit(&self, recipe: &str) -> Vec<(String, Decimal, Decimal)> {
        let mut out = Vec::new();
        for line in &self.recipes[recipe] {
            let kept = Decimal::ONE - line.trim.unwrap_or_default() / Decimal::ONE_HUNDRED;
            match (&line.ingredient, &line.recipe) {
                (Some(i), _) => out.push((i.clone(), line.quantity, kept)),
                (_, Some(r)) => {
                    for (i, numerator, denominator) in self.per_unit(r) {
                        out.push((i, line.quantity * numerator, kept * denominator));
                    }
                }
                _ => unreachable!(),
            }
        }
        out
    }

    /// `n` (location, date) pairs over the simulator's history, different every run (the
    /// seed is printed): every location once, then at random.
    pub fn sample_days(&self, n: usize) -> Vec<(String, String)> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        println!("sample seed {seed}");
        let locations: Vec<&String> = self.locations.keys().collect();
        let mut state = seed | 1;
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = if i < locations.len() {
                    i
                } else {
                    (state % locations.len() as u64) as usize
                };
                let days_back = 2 + (state >> 8) % 80;
                let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default()
                    - chrono::Days::new(days_back);
                (locations[pick].clone(), date.to_string())
            })
            .collect()
    }

    /// The simulator's ground truth for a location-day.
    pub async fn ground_truth(&self, location_id: &str, date: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/_sim/ground-truth", self.env.sim().base_url()))
            .query(&[
                ("locationId", location_id),
                ("date", date),
                ("cutoffHour", "4"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Expected net quantity per ingredient: ground-truth item quantities pushed through
    /// the mappings and recipes, rounded once per ingredient like a ledger entry.
    pub fn expected_from(&self, truth: &Value) -> BTreeMap<String, Decimal> {
        let mut sales: BTreeMap<(String, Decimal), Decimal> = BTreeMap::new();
        for (code, quantity) in truth["itemQuantities"].as_object().unwrap() {
            let Some(target) = self.mapped.get(code) else {
                continue;
            };
            let sold = decimal(quantity)
                * target.quantity
                * if target.subtraction {
                    -Decimal::ONE
                } else {
                    Decimal::ONE
                };
            let per_unit = match (&target.recipe, &target.ingredient) {
                (Some(r), _) => self.per_unit(r),
                (_, Some(i)) => vec![(i.clone(), Decimal::ONE, Decimal::ONE)],
                _ => unreachable!(),
            };
            for (ingredient, numerator, denominator) in per_unit {
                *sales.entry((ingredient, denominator)).or_default() += sold * numerator;
            }
        }
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for ((ingredient, denominator), numerator) in sales {
            *totals.entry(ingredient).or_default() += numerator / denominator;
        }
        totals
            .into_iter()
            .map(|(k, v)| (k, round6(v)))
            .filter(|(_, v)| !v.is_zero())
            .collect()
    }

    /// The ledger of a location-day, summed per ingredient (all entries, reversals included).
    pub async fn ledger_totals(&self, location_id: &str, date: &str) -> BTreeMap<String, Decimal> {
        let entries = self.ledger_entries(location_id, date).await;
        let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in &entries {
            *out.entry(e["ingredient_id"].as_str().unwrap().to_string())
                .or_default() += decimal(&e["quantity"]);
        }
        out.into_iter().filter(|(_, v)| !v.is_zero()).collect()
    }

    /// The company's alerts as the admin API lists them.
    pub async fn alerts(&self) -> Vec<Value> {
        let (status, body) = self
            .env
            .client(&self.company)
            .get(&format!("/v1/companies/{}/alerts", self.company))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    pub async fn ledger_entries(&self, location_id: &str, date: &str) -> Vec<Value> {
        let unit = &self.locations[location_id].0;
        let (entries, _) = self
            .env
            .client(&self.company)
            .list_all(
                &format!(
                    "/v1/companies/{}/ledger?storage_unit_id={unit}&from={date}&to={date}",
                    self.company
                ),
                100,
            )
            .await
            .unwrap();
        entries
            .into_iter()
            .filter(|e| e["location_id"] == location_id)
            .collect()
    }

    /// A manual transfer through the admin API; returns (HTTP status, result).
    pub async fn transfer(
        &self,
        location_id: &str,
        date: &str,
        force_refresh: bool,
    ) -> (u16, Value) {
        self.env
            .client(&self.company)
            .post(
                &format!(
                    "/v1/companies/{}/locations/{location_id}/transfers",
                    self.company
                ),
                &json!({"date": date, "force_refresh": force_refresh}),
                None,
            )
            .await
            .unwrap()
    }
}

/// Items synced and all mapped to one ingredient (1 unit each), a storage unit linked to the
/// first outlet, the outlet activated; its id, zone and storage unit.
pub async fn activated_outlet(env: &TestEnv, company: &str) -> (String, chrono_tz::Tz, String) {
    let api = env.client(company);
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
    let (_, ingredient) = api
        .post(
            &format!("{base}/ingredients"),
            &json!({"name": "Stock", "unit": "pcs"}),
            None,
        )
        .await
        .unwrap();
    let (items, _) = api
        .list_all(&format!("{base}/items?product=x_series"), 100)
        .await
        .unwrap();
    for item in &items {
        let body = json!({"ingredient_id": ingredient["id"], "quantity": "1"})
            .to_string()
            .into_bytes();
        let path = format!(
            "{base}/items/x_series/{}/mapping",
            item["item_id"].as_str().unwrap()
        );
        let (status, reply) = api
            .request(
                reqwest::Method::PUT,
                &path,
                Some(("application/json", body)),
                &[],
            )
            .await
            .unwrap();
        assert!(status == 200 || status == 201, "{reply}");
    }
    let (_, unit) = api
        .post(
            &format!("{base}/storage-units"),
            &json!({"name": "Shop", "code": "SHOP"}),
            None,
        )
        .await
        .unwrap();
    let (outlet, tz) = {
        let store = env.sim().state().x();
        (store.outlets[0].id.clone(), store.outlets[0].tz)
    };
    let link = json!({"storage_unit_id": unit["id"]})
        .to_string()
        .into_bytes();
    let (status, _) = api
        .request(
            reqwest::Method::PUT,
            &format!("{base}/locations/{outlet}/storage-unit"),
            Some(("application/json", link)),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, activated) = api
        .post(
            &format!("{base}/locations/{outlet}/activate"),
            &json!({}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{activated}");

    (outlet, tz, unit["id"].as_str().unwrap().to_string())
}

/// A fresh company connected to the simulator's X-Series store through the redirect flow:
/// the environment, the company and the store's domain prefix.
pub async fn connected_store(prefix: &str) -> (TestEnv, String, String) {
    let (env, company) = TestEnv::connected(prefix, "x_series").await;
    let (status, integration) = env
        .client(&company)
        .get(&format!("/v1/companies/{company}/integrations/x_series"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{integration}");
    let domain = integration["domain_prefix"].as_str().unwrap().to_string();
    (env, company, domain)
}
