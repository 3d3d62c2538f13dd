//! CSV imports end to end: the admin API, the transfer worker on the host's queue workers,
//! DynamoDB Local and moto. The files are written here from a seeded generator, and the
//! expected ledger is computed here from the same rows (quantity × mapping × recipe, the
//! business day by the location's zone and 05:00 cutoff), not read back from tillbridge.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge_tests::fixture::{decimal, round6};
use tillbridge_tests::{eventually, unique_company, AdminClient, TestEnv};

const HEADER: &str = "Receipt,Date,Site,SKU,Item,Qty,Net,Tax,Paid by\n";
/// (code, name, unit price): Mystery stays unmapped.
const ITEMS: [(&str, &str, &str); 4] = [
    ("BURG", "Burger", "12.50"),
    ("FRY", "Fries, large", "3.50"),
    ("COLA", "Cola", "2.80"),
    ("MYST", "Mystery \"special\"", "5.00"),
];
const LOCATIONS: [(&str, &str, &str); 2] = [
    ("csv-north", "Europe/London", "GBP"),
    ("csv-south", "Pacific/Auckland", "NZD"),
];

fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

/// A generated row: what the file says, and the business day it must land in.
struct Row {
    location: &'static str,
    business_date: NaiveDate,
    code: &'static str,
    quantity: Decimal,
    line: String,
}

/// A tiny deterministic generator (the file must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// Receipts of 1–3 lines over `dates` at both locations; some rung between midnight and
/// the 05:00 cutoff (the previous business day), some refunds.
fn generate(seed: u64, dates: &[&str], receipts_per_day: usize) -> Vec<Row> {
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for (location, _, _) in LOCATIONS {
        for date in dates {
            let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            for n in 0..receipts_per_day {
                let late = rng.next(6) == 0;
                let (calendar, hour) = if late {
                    (day.succ_opt().unwrap(), rng.next(5))
                } else {
                    (day, 10 + rng.next(13))
                };
                let at = calendar
                    .and_hms_opt(hour as u32, rng.next(60) as u32, 0)
                    .unwrap();
                let refund = rng.next(10) == 0;
                let receipt = format!("{location}-{seed}-{date}-{n}");
                for _ in 0..=rng.next(3) {
                    let (code, name, price) = ITEMS[rng.next(4) as usize];
                    let mut quantity = Decimal::from(1 + rng.next(3));
                    if refund {
                        quantity = -quantity;
                    }
                    let net = d(price) * quantity;
                    let tax = (net * d("0.2")).round_dp(2);
                    out.push(Row {
                        location,
                        business_date: business_day(at),
                        code,
                        quantity,
                        line: format!(
                            "{receipt},{},{location},{code},\"{}\",{quantity},{net},{tax},{}\n",
                            at.format("%Y-%m-%d %H:%M"),
                            name.replace('"', "\"\""),
                            if refund {
                                "Card"
                            } else {
                                ["Card", "Cash"][rng.next(2) as usize]
                            }
                        ),
                    });
                }
            }
        }
    }
    out
}

/// The business day of a local time with a 05:00 cutoff.
fn business_day(at: NaiveDateTime) -> NaiveDate {
    if at.hour() < 5 {
        at.date().pred_opt().unwrap()
    } else {
        at.date()
    }
}

fn file(rows: &[Row]) -> String {
    let mut text = HEADER.to_string();
    for row in rows {
        text.push_str(&row.line);
    }
    text
}

struct Shop {
    env: TestEnv,
    company: String,
    /// location → storage unit
    units: BTreeMap<&'static str, String>,
    /// code → (ingredient id, quantity per unit sold)
    per_unit: BTreeMap<&'static str, Vec<(String, Decimal)>>,
    ingredients: BTreeMap<&'static str, String>,
    burger_recipe: String,
}

impl Shop {
    /// Ingredients, a burger recipe with trim, two CSV locations with storage units, and
    /// the company's column mapping `till`.
    async fn new(prefix: &str) -> Shop {
        let env = TestEnv::with_workers().await;
        let company = unique_company(prefix);
        let mut shop = Shop {
            env,
            company,
            units: BTreeMap::new(),
            per_unit: BTreeMap::new(),
            ingredients: BTreeMap::new(),
            burger_recipe: String::new(),
        };
        for (name, unit) in [
            ("Beef", "kg"),
            ("Bun", "pcs"),
            ("Potato", "kg"),
            ("Cola", "bottle"),
        ] {
            let created = shop
                .send(
                    Method::POST,
                    "ingredients",
                    json!({"name": name, "unit": unit}),
                    201,
                )
                .await;
            shop.ingredients
                .insert(name, created["id"].as_str().unwrap().to_string());
        }
        let recipe = json!({"name": "Burger", "lines": [
            {"ingredient_id": shop.ingredients["Beef"], "quantity": "0.180", "trim_pct": "10"},
            {"ingredient_id": shop.ingredients["Bun"], "quantity": "1"}]});
        let created = shop.send(Method::POST, "recipes", recipe, 201).await;
        shop.burger_recipe = created["id"].as_str().unwrap().to_string();
        for (i, (location, zone, currency)) in LOCATIONS.iter().enumerate() {
            let created = shop
                .send(
                    Method::POST,
                    "locations",
                    json!({"location_id": location, "name": format!("Site {i}"), "timezone": zone,
                        "currency": currency, "day_cutoff_hour": 5}),
                    201,
                )
                .await;
            assert_eq!(created["product"], "csv");
            assert_eq!(
                created["auto_issue"], false,
                "nothing arrives on a schedule"
            );
            let unit = shop
                .send(
                    Method::POST,
                    "storage-units",
                    json!({"name": format!("Store {i}"), "code": format!("CS{i}")}),
                    201,
                )
                .await;
            let unit = unit["id"].as_str().unwrap().to_string();
            shop.send(
                Method::PUT,
                &format!("locations/{location}/storage-unit"),
                json!({"storage_unit_id": unit}),
                200,
            )
            .await;
            shop.units.insert(location, unit);
        }
        let columns = json!({"date": "Date", "location": "Site", "item_code": "SKU", "item_name": "Item",
            "quantity": "Qty", "net": "Net", "tax": "Tax", "payment_method": "Paid by", "sale_id": "Receipt"});
        shop.send(
            Method::PUT,
            "imports/mappings/till",
            json!({"name": "Till export", "columns": columns, "date_format": "%Y-%m-%d %H:%M"}),
            200,
        )
        .await;
        // 0.180 kg of beef with 10 % trim is 0.2 kg bought per burger.
        shop.per_unit.insert(
            "BURG",
            vec![
                (shop.ingredients["Beef"].clone(), d("0.2")),
                (shop.ingredients["Bun"].clone(), d("1")),
            ],
        );
        shop.per_unit
            .insert("FRY", vec![(shop.ingredients["Potato"].clone(), d("0.25"))]);
        shop.per_unit
            .insert("COLA", vec![(shop.ingredients["Cola"].clone(), d("1"))]);
        shop
    }

    fn api(&self) -> AdminClient {
        self.env.client(&self.company)
    }

    fn path(&self, rest: &str) -> String {
        format!("/v1/companies/{}/{rest}", self.company)
    }

    async fn send(&self, method: Method, rest: &str, body: Value, want: u16) -> Value {
        let bytes = Some(("application/json", body.to_string().into_bytes()));
        let (status, reply) = self
            .api()
            .request(method.clone(), &self.path(rest), bytes, &[])
            .await
            .unwrap();
        assert_eq!(status, want, "{method} {rest}: {reply}");
        reply
    }

    async fn upload(&self, query: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
        self.api()
            .request(
                Method::POST,
                &self.path(&format!("imports?{query}")),
                Some((content_type, bytes)),
                &[],
            )
            .await
            .unwrap()
    }

    async fn import(&self, text: &str) -> (u16, Value) {
        self.upload("mapping_id=till", "text/csv", text.as_bytes().to_vec())
            .await
    }

    async fn list(&self, rest: &str) -> Vec<Value> {
        self.api().list_all(&self.path(rest), 100).await.unwrap().0
    }

    /// The ledger of a location-day, summed per ingredient.
    async fn ledger(&self, location: &str, date: &str) -> BTreeMap<String, Decimal> {
        let unit = &self.units[location];
        let entries = self
            .list(&format!(
                "ledger?storage_unit_id={unit}&from={date}&to={date}"
            ))
            .await;
        let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in entries.iter().filter(|e| e["location_id"] == location) {
            *out.entry(e["ingredient_id"].as_str().unwrap().to_string())
                .or_default() += decimal(&e["quantity"]);
        }
        out.into_iter().filter(|(_, v)| !v.is_zero()).collect()
    }

    /// Successful transfer logs of a location-day.
    async fn successes(&self, location: &str, date: &str) -> usize {
        self.list(&format!("locations/{location}/transfer-logs"))
            .await
            .iter()
            .filter(|l| l["date"] == date && l["success"] == true)
            .count()
    }

    async fn wait_successes(&self, days: &BTreeMap<(String, String), ()>, at_least: usize) {
        for (location, date) in days.keys() {
            eventually(
                &format!("{at_least} successful transfers of {location} {date}"),
                Duration::from_secs(60),
                || async { (self.successes(location, date).await >= at_least).then_some(()) },
            )
            .await;
        }
    }

    /// What the rows imply, per location-day and ingredient.
    fn expected(&self, rows: &[Row]) -> BTreeMap<(String, String), BTreeMap<String, Decimal>> {
        let mut out: BTreeMap<(String, String), BTreeMap<String, Decimal>> = BTreeMap::new();
        for row in rows {
            let day = out
                .entry((row.location.to_string(), row.business_date.to_string()))
                .or_default();
            for (ingredient, per) in self.per_unit.get(row.code).into_iter().flatten() {
                *day.entry(ingredient.clone()).or_default() += row.quantity * per;
            }
        }
        for day in out.values_mut() {
            day.retain(|_, v| !v.is_zero());
            for v in day.values_mut() {
                *v = round6(*v);
            }
        }
        out
    }

    async fn map_items(&self) {
        let targets = [
            (
                "BURG",
                json!({"recipe_id": self.burger_recipe, "quantity": "1"}),
            ),
            (
                "FRY",
                json!({"ingredient_id": self.ingredients["Potato"], "quantity": "0.25"}),
            ),
            (
                "COLA",
                json!({"ingredient_id": self.ingredients["Cola"], "quantity": "1"}),
            ),
        ];
        for (code, body) in targets {
            let (status, reply) = self
                .api()
                .request(
                    Method::PUT,
                    &self.path(&format!("items/csv/{code}/mapping")),
                    Some(("application/json", body.to_string().into_bytes())),
                    &[],
                )
                .await
                .unwrap();
            assert!(status == 200 || status == 201, "{code}: {reply}");
        }
    }

    async fn assert_ledger(
        &self,
        expected: &BTreeMap<(String, String), BTreeMap<String, Decimal>>,
    ) {
        for ((location, date), want) in expected {
            let got = eventually(
                &format!("the ledger of {location} {date}"),
                Duration::from_secs(60),
                || async {
                    let got = self.ledger(location, date).await;
                    (got == *want).then_some(got)
                },
            )
            .await;
            assert_eq!(&got, want, "{location} {date}");
        }
    }
}

fn day_keys(rows: &[Row]) -> BTreeMap<(String, String), ()> {
    rows.iter()
        .map(|r| ((r.location.to_string(), r.business_date.to_string()), ()))
        .collect()
}

#[tokio::test]
async fn an_imported_file_reaches_the_ledger_once() {
    let shop = Shop::new("csv").await;
    let rows = generate(7, &["2026-11-20", "2026-11-21", "2026-11-22"], 40);
    let text = file(&rows);
    let days = day_keys(&rows);

    // A dry run reports and writes nothing.
    let (status, dry) = shop
        .upload(
            "mapping_id=till&dry_run=true",
            "text/csv",
            text.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    let summary = &dry["import"]["summary"];
    assert_eq!(summary["rows"], rows.len());
    assert_eq!(summary["days"].as_array().unwrap().len(), days.len());
    assert_eq!(summary["unmapped_items"], 4);
    assert!(shop.list("imports").await.is_empty());
    assert!(shop.list("items?product=csv").await.is_empty());

    // The import: items recorded, every day transferred (nothing mapped yet: no ledger).
    let (status, imported) = shop.import(&text).await;
    assert_eq!(status, 201, "{imported}");
    let import_id = imported["import"]["import_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(imported["import"]["status"], "committed");
    let reported: Vec<(String, String)> = imported["import"]["summary"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["location_id"].as_str().unwrap().to_string(),
                d["business_date"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reported, days.keys().cloned().collect::<Vec<_>>());
    let items = shop.list("items?product=csv").await;
    let mut names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["Burger", "Cola", "Fries, large", "Mystery \"special\""]
    );
    shop.wait_successes(&days, 1).await;
    for (location, date) in days.keys() {
        assert!(
            shop.ledger(location, date).await.is_empty(),
            "nothing is mapped yet"
        );
    }

    // Mapped, the import's days again: the ledger equals what the rows imply.
    shop.map_items().await;
    let detail = shop
        .send(
            Method::GET,
            &format!("imports/{import_id}"),
            json!(null),
            200,
        )
        .await;
    let unmapped: Vec<&Value> = detail["summary"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["mapped"] == false)
        .collect();
    assert_eq!(detail["summary"]["unmapped_items"], 1, "{detail}");
    assert_eq!(unmapped[0]["item_id"], "MYST");
    let queued = shop
        .send(
            Method::POST,
            &format!("imports/{import_id}/transfers"),
            json!({}),
            202,
        )
        .await;
    assert_eq!(queued["queued"], days.len());
    let expected = shop.expected(&rows);
    assert_eq!(expected.len(), days.len());
    assert!(
        expected.values().all(|day| day.len() == 4),
        "every day deducts all four ingredients"
    );
    assert!(
        rows.iter().any(|r| r.quantity.is_sign_negative()),
        "the file has refunds"
    );
    shop.assert_ledger(&expected).await;
    shop.wait_successes(&days, 2).await;

    // The same file again imports nothing.
    let (status, again) = shop.import(&text).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["already_imported"], true);
    assert_eq!(again["import"]["import_id"], import_id);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for ((location, date), want) in &expected {
        assert_eq!(
            &shop.ledger(location, date).await,
            want,
            "{location} {date}"
        );
        assert_eq!(
            shop.successes(location, date).await,
            2,
            "no transfer was queued again"
        );
    }
    assert_eq!(shop.list("imports").await.len(), 1);

    // A second file uploaded twice at once: one import, its days once in the ledger.
    let later = generate(11, &["2026-11-24"], 25);
    let later_text = file(&later);
    let ((first, a), (second, b)) =
        tokio::join!(shop.import(&later_text), shop.import(&later_text));
    let mut statuses = [first, second];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{a} {b}");
    assert_eq!(a["import"]["import_id"], b["import"]["import_id"]);
    shop.assert_ledger(&shop.expected(&later)).await;
    assert_eq!(shop.list("imports").await.len(), 2);
}

#[tokio::test]
async fn one_bad_row_in_ten_thousand_refuses_the_file() {
    let shop = Shop::new("csvbad").await;
    let mut text = HEADER.to_string();
    for n in 0..10_000 {
        let qty = if n == 5_677 { "two" } else { "1" };
        let code = if n == 9_000 { "NEWITEM" } else { "BURG" };
        text.push_str(&format!(
            "R{n},2026-11-20 12:00,csv-north,{code},Burger,{qty},12.50,2.50,Card\n"
        ));
    }
    let (status, refused) = shop.import(&text).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "csv_rows_invalid");
    assert_eq!(refused["error"]["rows_total"], 1);
    let bad = &refused["error"]["rows"][0];
    // Data row 5,678 is spreadsheet row 5,679 (the header is row 1).
    assert_eq!(bad["row"], 5_679);
    assert_eq!(bad["column"], "Qty");
    assert!(bad["reason"].as_str().unwrap().contains("`two`"), "{bad}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("row 5679"));
    assert!(shop.list("imports").await.is_empty(), "nothing imported");
    assert!(
        shop.list("items?product=csv").await.is_empty(),
        "no item recorded"
    );
    assert!(shop.ledger("csv-north", "2026-11-20").await.is_empty());
}

#[tokio::test]
async fn hostile_files_get_a_clear_refusal() {
    let shop = Shop::new("csvhostile").await;
    let row = "R1,2026-11-20 12:00,csv-north,BURG,Burger,1,12.50,2.50,Card\n";
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "huge field",
            "text/csv",
            format!(
                "{HEADER}R1,2026-11-20 12:00,csv-north,BURG,{},1,12.50,2.50,Card\n",
                "x".repeat(2_000)
            )
            .into_bytes(),
            422,
            "csv_rows_invalid",
        ),
        (
            "unbalanced quote",
            "text/csv",
            format!("{HEADER}R1,2026-11-20 12:00,csv-north,BURG,\"Burger,1,12.50,2.50,Card\n{row}")
                .into_bytes(),
            422,
            "csv_rows_invalid",
        ),
        (
            "binary",
            "text/csv",
            (0..=255u8).cycle().take(4096).collect(),
            422,
            "csv_encoding_unsupported",
        ),
        (
            "Windows-1252",
            "text/csv",
            format!("{HEADER}R1,2026-11-20 12:00,csv-north,BURG,Cr\u{e8}me,1,12.50,2.50,Card\n")
                .replace('\u{e8}', "\u{1}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 1 { 0xE8 } else { b })
                .collect(),
            422,
            "csv_encoding_unsupported",
        ),
        (
            "100,001 rows",
            "text/csv",
            format!("{HEADER}{}", row.repeat(100_001)).into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "over 5 MiB",
            "text/csv",
            format!("{HEADER}{}", row.repeat(5 * 1024 * 1024 / row.len() + 1)).into_bytes(),
            413,
            "payload_too_large",
        ),
        ("no header", "text/csv", b"".to_vec(), 422, "csv_invalid"),
        (
            "JSON body",
            "application/json",
            b"{\"rows\": []}".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (what, content_type, bytes, status, code) in cases {
        let (got, body) = shop.upload("mapping_id=till", content_type, bytes).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
        assert!(
            !body["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{what}"
        );
    }
    let (status, body) = shop
        .upload(
            "mapping_id=nope",
            "text/csv",
            format!("{HEADER}{row}").into_bytes(),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("csv_mapping_not_found"))
    );
    let (status, body) = shop.upload("", "text/csv", row.as_bytes().to_vec()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    assert!(shop.list("imports").await.is_empty());
}

#[tokio::test]
async fn csv_locations_and_mappings_are_checked() {
    let shop = Shop::new("csvsetup").await;
    let (status, body) = shop
        .api()
        .post(
            &shop.path("locations"),
            &json!({"location_id": "csv-north", "name": "Again"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("location_exists"))
    );
    for (bad, field) in [
        (json!({"location_id": "bad id", "name": "X"}), "location_id"),
        (
            json!({"location_id": "x1", "name": "X", "timezone": "Mars/Base"}),
            "IANA",
        ),
        (
            json!({"location_id": "x1", "name": "X", "currency": "pounds"}),
            "currency",
        ),
    ] {
        let (status, body) = shop
            .api()
            .post(&shop.path("locations"), &bad, None)
            .await
            .unwrap();
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    // A CSV location cannot be connected or synced like a Lightspeed one.
    let (status, body) = shop
        .api()
        .post(
            &shop.path("locations/sync"),
            &json!({"product": "csv"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    // Activating a CSV location starts no migration: its history comes with its files.
    shop.map_items_for_activation().await;
    let activated = shop
        .send(Method::POST, "locations/csv-north/activate", json!({}), 201)
        .await;
    assert_eq!(activated["migration_requested"], false, "{activated}");
    assert!(shop.list("locations/csv-north/migrations").await.is_empty());

    let mapping = shop
        .send(Method::GET, "imports/mappings/till", json!(null), 200)
        .await;
    assert_eq!(mapping["format"]["date_format"], "%Y-%m-%d %H:%M");
    let (status, body) = shop
        .api()
        .put(
            &shop.path("imports/mappings/till"),
            &json!({"columns": {"date": "D", "location": "L", "quantity": "Q", "net": "N", "tax": "T", "payment_method": "P"}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 400, "no item column: {body}");
    assert_eq!(mapping["version"], 1, "the refused change left it");
}

impl Shop {
    /// Activation needs one mapping: an item must exist, so a one-row file brings it.
    async fn map_items_for_activation(&self) {
        let text = format!("{HEADER}A1,2026-11-20 12:00,csv-north,COLA,Cola,1,2.80,0.56,Cash\n");
        let (status, body) = self.import(&text).await;
        assert_eq!(status, 201, "{body}");
        let body = json!({"ingredient_id": self.ingredients["Cola"], "quantity": "1"});
        let (status, reply) = self
            .api()
            .put(&self.path("items/csv/COLA/mapping"), &body)
            .await
            .unwrap();
        assert!(status == 200 || status == 201, "{reply}");
    }
}

/// Σ (debit − credit) of the lines `pick` selects.
fn debit_of(lines: &[Value], pick: impl Fn(&Value) -> bool) -> Decimal {
    lines
        .iter()
        .filter(|l| pick(l))
        .map(|l| decimal(&l["debit"]) - decimal(&l["credit"]))
        .sum()
}

#[tokio::test]
async fn an_imported_day_is_journaled_in_the_erp() {
    let shop = Shop::new("csvjrnl").await;
    let odoo = odoo_sim::RunningOdoo::start(odoo_sim::OdooConfig::default())
        .await
        .unwrap();
    let erp = json!({"url": odoo.base_url(), "database": odoo.db(), "login": odoo.login(),
        "api_key": odoo.api_key(), "transport": "json_rpc"});
    shop.send(Method::PUT, "account-mappings/erp", erp, 200)
        .await;
    let accounts = json!({
        "payment_methods": {"CARD": "101405", "CASH": "101501"},
        "tax_codes": {"VAT20": "251000", "VAT0": "251000"},
        "default_revenue": "400000", "discount": "401000", "service_charge": "403000",
        "tips": "215000", "rounding": "643000", "refunds": "402000",
        "erp_company_id": 1, "journal": "POSS", "rounding_threshold": "1.00"
    });
    shop.send(Method::PUT, "account-mappings", accounts, 200)
        .await;
    let mut columns = shop
        .send(Method::GET, "imports/mappings/till", json!(null), 200)
        .await["format"]
        .clone();
    columns["columns"]["tax_code"] = json!("VAT code");
    shop.send(Method::PUT, "imports/mappings/vat", columns, 200)
        .await;
    // (receipt, time, code, quantity, net, tax, tax code, method)
    let rows = [
        (
            "J1",
            "2026-11-20 11:00",
            "BURG",
            "2",
            "25.00",
            "5.00",
            "VAT20",
            "CARD",
        ),
        (
            "J1",
            "2026-11-20 11:00",
            "COLA",
            "1",
            "2.80",
            "0.56",
            "VAT20",
            "CARD",
        ),
        (
            "J2",
            "2026-11-20 12:30",
            "FRY",
            "3",
            "10.50",
            "0.00",
            "VAT0",
            "CASH",
        ),
        (
            "J3",
            "2026-11-20 18:45",
            "BURG",
            "1",
            "12.50",
            "2.50",
            "VAT20",
            "CASH",
        ),
        (
            "J4",
            "2026-11-21 02:10",
            "COLA",
            "-1",
            "-2.80",
            "-0.56",
            "VAT20",
            "CARD",
        ),
    ];
    let mut text = "Receipt,Date,Site,SKU,Item,Qty,Net,Tax,VAT code,Paid by\n".to_string();
    for (receipt, at, code, qty, net, tax, vat, method) in rows {
        text.push_str(&format!(
            "{receipt},{at},csv-north,{code},{code},{qty},{net},{tax},{vat},{method}\n"
        ));
    }
    let (status, imported) = shop
        .upload("mapping_id=vat", "text/csv", text.into_bytes())
        .await;
    assert_eq!(status, 201, "{imported}");

    let date = "2026-11-20";
    let journal = eventually(
        "the day's journal posted",
        Duration::from_secs(60),
        || async {
            let (status, body) = shop
                .api()
                .get(&shop.path(&format!("journals/csv-north:{date}:1")))
                .await
                .unwrap();
            (status == 200 && body["status"] == "posted").then_some(body)
        },
    )
    .await;
    let lines = journal["lines"].as_array().unwrap().clone();
    let net: Decimal = rows.iter().map(|r| d(r.4)).sum();
    let tax: Decimal = rows.iter().map(|r| d(r.5)).sum();
    let gross = |r: &(&str, &str, &str, &str, &str, &str, &str, &str)| d(r.4) + d(r.5);
    assert_eq!(debit_of(&lines, |_| true), Decimal::ZERO, "balanced");
    assert_eq!(
        -debit_of(&lines, |l| l["account"] == "400000"
            || l["account"] == "402000"),
        net,
        "revenue is the file's net"
    );
    assert_eq!(
        -debit_of(&lines, |l| l["account"] == "251000"),
        tax,
        "tax is the file's tax"
    );
    for method in ["CARD", "CASH"] {
        let label = format!("Takings {method}");
        let taken = debit_of(&lines, |l| {
            let text = l["label"].as_str().unwrap();
            text == label || text == format!("Refunds: {label}")
        });
        let expected: Decimal = rows.iter().filter(|r| r.7 == method).map(gross).sum();
        assert_eq!(taken, expected, "takings by {method}");
    }
    assert_eq!(
        debit_of(&lines, |l| l["account"] == "643000"),
        Decimal::ZERO,
        "no rounding: the file's takings are its gross"
    );
    let moves: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/_sim/odoo/moves", odoo.base_url()))
        .query(&[("ref", format!("tillbridge:csv-north:{date}:1"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moves.len(), 1, "one move in the ERP: {moves:?}");
    assert_eq!(moves[0]["state"], "posted");
}
