//! Journals end to end: the admin API, the transfer and journal-poster handlers, DynamoDB
//! Local, moto, the Lightspeed simulator and the Odoo simulator. Expected figures come from
//! the Lightspeed simulator's ground truth; what the ERP holds is read from the Odoo
//! simulator's control API, not through tillbridge.

use std::collections::BTreeMap;

use futures::StreamExt;
use odoo_sim::OdooConfig;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge_tests::books::{Books, DISCOUNT, REVENUE, ROUNDING, TIPS};
use tillbridge_tests::fixture::decimal;

/// Σ (credit − debit) of the journal's lines that `pick` selects.
fn credit_of(journal: &Value, pick: impl Fn(&Value) -> bool) -> Decimal {
    journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| pick(l))
        .map(|l| decimal(&l["credit"]) - decimal(&l["debit"]))
        .sum()
}

/// (account, debit, credit) of lines, sorted: what a move holds regardless of order.
fn line_set(lines: &Value, account: &str) -> Vec<(String, Decimal, Decimal)> {
    let mut out: Vec<_> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l[account].as_str().unwrap().to_string(),
                decimal(&l["debit"]).normalize(),
                decimal(&l["credit"]).normalize(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every figure finance closes on, against the simulator's ground truth for the day.
fn assert_matches_truth(journal: &Value, truth: &Value) {
    let what = format!("{} {}", journal["reference"], journal["business_date"]);
    let debit: Decimal = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| decimal(&l["debit"]))
        .sum();
    let credit: Decimal = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| decimal(&l["credit"]))
        .sum();
    assert_eq!(debit, credit, "{what}: balanced");
    assert_eq!(decimal(&journal["total_debit"]), debit);
    for (code, totals) in truth["taxByCode"].as_object().unwrap() {
        let of_code = |l: &Value| l["tax_code"] == code.as_str();
        let revenue = credit_of(journal, |l| {
            of_code(l) && REVENUE.contains(&l["account"].as_str().unwrap())
        });
        let discount = -credit_of(journal, |l| of_code(l) && l["account"] == DISCOUNT);
        assert_eq!(
            revenue - discount,
            decimal(&totals["net"]),
            "{what}: revenue net of {code}"
        );
    }
    for (method, totals) in truth["payments"].as_object().unwrap() {
        let label = format!("Takings {method}");
        let takings = -credit_of(journal, |l| {
            let text = l["label"].as_str().unwrap();
            text == label || text == format!("Refunds: {label}")
        });
        // The method took the sale's amount and the tip on top.
        let taken = decimal(&totals["amount"]) + decimal(&totals["tip"]);
        assert_eq!(takings, taken, "{what}: takings by {method}");
    }
    assert_eq!(
        credit_of(journal, |l| l["account"] == "403000"),
        decimal(&truth["serviceCharge"]),
        "{what}: service charge"
    );
    assert_eq!(
        credit_of(journal, |l| l["account"] == TIPS),
        decimal(&truth["tips"]),
        "{what}: tips"
    );
    assert_eq!(
        credit_of(journal, |l| l["account"] == ROUNDING),
        decimal(&truth["rounding"]),
        "{what}: the rounding line is the POS's rounding"
    );
}

#[tokio::test]
async fn journals_match_the_ground_truth_and_the_erp_holds_exactly_them() {
    let books = Books::new("jrnl-truth").await;
    for (location, date) in books.fixture.sample_days(4) {
        books.transfer(&location, &date).await;
        books.deliver(&location, &date, 1).await;
        let journal = books.journal(&location, &date, 1).await;
        assert_eq!(journal["status"], "posted", "{journal}");
        let truth = books.fixture.ground_truth(&location, &date).await;
        assert_matches_truth(&journal, &truth);
        let reference = format!("tillbridge:{location}:{date}:1");
        assert_eq!(journal["reference"], reference.as_str());
        let moves = books.moves(&reference).await;
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0]["state"], "posted");
        assert_eq!(moves[0]["date"], date.as_str());
        assert_eq!(
            line_set(&moves[0]["lines"], "account_code"),
            line_set(&journal["lines"], "account")
        );
        // The NZD location posts to the NZD company, the GBP ones to the GBP company.
        let company = if journal["currency"] == "NZD" { 2 } else { 1 };
        assert_eq!(moves[0]["company_id"], company, "{}", moves[0]);
        assert_eq!(journal["erp"]["name"], moves[0]["name"]);
    }
}

/// Net debit − credit per account over the posted moves whose reference starts with
/// `prefix`, as the ERP holds them.
async fn erp_balances(books: &Books, prefix: &str) -> BTreeMap<String, Decimal> {
    let moves: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/_sim/odoo/moves", books.odoo.base_url()))
        .query(&[("state", "posted")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for m in moves
        .iter()
        .filter(|m| m["ref"].as_str().is_some_and(|r| r.starts_with(prefix)))
    {
        for l in m["lines"].as_array().unwrap() {
            *out.entry(l["account_code"].as_str().unwrap().to_string())
                .or_insert(Decimal::ZERO) += decimal(&l["debit"]) - decimal(&l["credit"]);
        }
    }
    out.retain(|_, v| !v.is_zero());
    out
}

/// The same, from one journal's lines.
fn journal_balances(journal: &Value) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for l in journal["lines"].as_array().unwrap() {
        *out.entry(l["account"].as_str().unwrap().to_string())
            .or_insert(Decimal::ZERO) += decimal(&l["debit"]) - decimal(&l["credit"]);
    }
    out.retain(|_, v| !v.is_zero());
    out
}

#[tokio::test]
async fn exactly_one_move_per_day_under_redelivery_concurrency_crashes_and_erp_faults() {
    let books = Books::new("jrnl-once").await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let days = ["2026-02-10", "2026-02-11", "2026-02-12"];
    for day in days {
        books.transfer(&location, day).await;
    }
    // A crash between create and post: the first create commits and the answer is lost.
    books
        .odoo(reqwest::Method::POST, "traps/faults",
            json!({"model": "account.move", "method": "create", "mode": "commit_then_fail", "remaining": 1}))
        .await;
    // And 30 % of every other call fails with a 502 and does nothing.
    books
        .odoo(
            reqwest::Method::POST,
            "traps/faults",
            json!({"mode": "fail", "percent": 30}),
        )
        .await;
    for day in days {
        // Deliveries until the day is posted: each failed one is what a redelivery retries;
        // two at once each round, as two workers would.
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds <= 40, "{day} never posted");
            tokio::join!(
                books.deliver(&location, day, 1),
                books.deliver(&location, day, 1)
            );
            let (status, journal) = books
                .api()
                .get(&books.path(&format!("journals/{location}:{day}:1")))
                .await
                .unwrap();
            if status == 200 && journal["status"] == "posted" {
                break;
            }
        }
        // Once more after success: nothing changes.
        books.deliver(&location, day, 1).await;
    }
    books
        .odoo(reqwest::Method::DELETE, "traps/faults", json!({}))
        .await;
    for day in days {
        let reference = format!("tillbridge:{location}:{day}:1");
        let moves = books.moves(&reference).await;
        assert_eq!(
            moves.len(),
            1,
            "{day}: exactly one move, no leftover draft: {moves:?}"
        );
        assert_eq!(moves[0]["state"], "posted");
        let journal = books.journal(&location, day, 1).await;
        assert_eq!(
            line_set(&moves[0]["lines"], "account_code"),
            line_set(&journal["lines"], "account")
        );
        assert_matches_truth(&journal, &books.fixture.ground_truth(&location, day).await);
    }
    let faults: Value = reqwest::get(format!("{}/_sim/odoo/calls", books.odoo.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fired = faults
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with("fault") || o.starts_with("commit_then_fail"))
        })
        .count();
    assert!(fired > 0, "the faults fired");
}

#[tokio::test]
async fn each_odoo_trap_is_detected_and_alerted_and_clears_when_fixed() {
    let books = Books::new("jrnl-traps").await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let (balancing, locked, duplicate, down) =
        ("2026-02-03", "2026-02-04", "2026-02-05", "2026-02-06");
    for day in [balancing, locked, duplicate, down] {
        books.transfer(&location, day).await;
    }

    // Odoo adds an "Automatic Balancing Line": refused, never posted, alerted.
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/balancing",
            json!({"mode": "always"}),
        )
        .await;
    books.deliver(&location, balancing, 1).await;
    let journal = books.journal(&location, balancing, 1).await;
    assert_eq!(journal["status"], "out_of_balance", "{journal}");
    let reference = format!("tillbridge:{location}:{balancing}:1");
    assert!(books
        .moves(&reference)
        .await
        .iter()
        .all(|m| m["state"] == "draft"));
    let alert = books
        .open_alert("journal_out_of_balance", &location, balancing)
        .await
        .expect("alert");
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("Automatic Balancing Line"),
        "{alert}"
    );
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/balancing",
            json!({"mode": "off"}),
        )
        .await;
    books.deliver(&location, balancing, 1).await;
    assert_eq!(
        books.journal(&location, balancing, 1).await["status"],
        "posted"
    );
    let moves = books.moves(&reference).await;
    assert_eq!(moves.len(), 1, "the refused draft was replaced: {moves:?}");
    assert!(books
        .open_alert("journal_out_of_balance", &location, balancing)
        .await
        .is_none());

    // A lock date moves the date at post: kept, reported.
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/lock-date",
            json!({"company_id": 1, "date": locked}),
        )
        .await;
    books.deliver(&location, locked, 1).await;
    let journal = books.journal(&location, locked, 1).await;
    assert_eq!(journal["status"], "date_moved", "{journal}");
    let moved_to = (chrono::NaiveDate::parse_from_str(locked, "%Y-%m-%d").unwrap()
        + chrono::Days::new(1))
    .to_string();
    assert_eq!(journal["erp"]["date"], moved_to.as_str());
    let alert = books
        .open_alert("journal_date_moved", &location, locked)
        .await
        .expect("alert");
    assert!(
        alert["message"].as_str().unwrap().contains(&moved_to),
        "{alert}"
    );
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/lock-date",
            json!({"company_id": 1, "date": null}),
        )
        .await;

    // Someone else's posted move already carries our reference (nothing in Odoo is unique
    // on `ref`): found by the search, its lines differ, so it is reported, not duplicated.
    let reference = format!("tillbridge:{location}:{duplicate}:1");
    books
        .odoo(reqwest::Method::POST, "moves", json!({"company_id": 1, "journal_code": "POSS",
            "ref": reference, "date": duplicate, "state": "posted",
            "lines": [{"account_code": "101501", "name": "manual", "debit": "10.00", "credit": "0"},
                      {"account_code": "400000", "name": "manual", "debit": "0", "credit": "10.00"}]}))
        .await;
    books.deliver(&location, duplicate, 1).await;
    assert_eq!(
        books.journal(&location, duplicate, 1).await["status"],
        "out_of_balance"
    );
    assert_eq!(
        books.moves(&reference).await.len(),
        1,
        "no second move under the reference"
    );
    assert!(books
        .open_alert("journal_out_of_balance", &location, duplicate)
        .await
        .is_some());

    // Odoo down for good: retried through the queue, then max_retries_exhausted.
    books
        .odoo(
            reqwest::Method::POST,
            "traps/faults",
            json!({"mode": "fail", "status": 503}),
        )
        .await;
    let retries = books.deps.config.transfer.max_retries();
    books.deliver(&location, down, 1).await;
    let (status, _) = books
        .api()
        .get(&books.path(&format!("journals/{location}:{down}:1")))
        .await
        .unwrap();
    assert_eq!(
        status, 404,
        "an unavailable ERP leaves the day to the retry"
    );
    books.deliver(&location, down, retries + 1).await;
    let journal = books.journal(&location, down, 1).await;
    assert_eq!(journal["status"], "failed", "{journal}");
    assert_eq!(journal["error"]["code"], "max_retries_exhausted");
    assert!(books
        .open_alert("max_retries_exhausted", &location, down)
        .await
        .is_some());
    books
        .odoo(reqwest::Method::DELETE, "traps/faults", json!({}))
        .await;
    books.deliver(&location, down, 1).await;
    assert_eq!(books.journal(&location, down, 1).await["status"], "posted");
    assert!(books
        .open_alert("max_retries_exhausted", &location, down)
        .await
        .is_none());
}

#[tokio::test]
async fn a_changed_day_is_reversed_and_replaced_and_the_erp_holds_the_new_truth() {
    let books = Books::new("jrnl-change").await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let day = "2026-02-18";
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    let first = books.journal(&location, day, 1).await;
    assert_eq!(first["status"], "posted");

    // Late offline sales arrive after the day was posted.
    books
        .fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/late-sales",
            Some(json!({"locationId": location.parse::<u64>().unwrap(), "date": day, "count": 4})),
        )
        .await;
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    books.deliver(&location, day, 1).await;
    let first = books.journal(&location, day, 1).await;
    let second = books.journal(&location, day, 2).await;
    assert_eq!(first["status"], "reversed", "{first}");
    assert_eq!(second["status"], "posted", "{second}");
    assert_matches_truth(&second, &books.fixture.ground_truth(&location, day).await);
    let reversal = books
        .moves(&format!("tillbridge:{location}:{day}:1:reversal"))
        .await;
    assert_eq!(reversal.len(), 1);
    assert_eq!(first["reversal"]["name"], reversal[0]["name"]);
    // What the ERP's books hold for the day is exactly the new journal.
    let prefix = format!("tillbridge:{location}:{day}:");
    assert_eq!(
        erp_balances(&books, &prefix).await,
        journal_balances(&second)
    );
    // Nothing changes again: no third revision.
    books.deliver(&location, day, 1).await;
    let (status, _) = books
        .api()
        .get(&books.path(&format!("journals/{location}:{day}:3")))
        .await
        .unwrap();
    assert_eq!(status, 404);
}

#[tokio::test]
async fn json2_posts_on_odoo_19_and_is_refused_clearly_where_odoo_18_lacks_it() {
    let v19 = OdooConfig {
        version: odoo_sim::OdooVersion::V19,
        ..OdooConfig::default()
    };
    let books = Books::with("jrnl-json2", v19, "json2").await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let day = "2026-02-24";
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    books.deliver(&location, day, 1).await;
    let journal = books.journal(&location, day, 1).await;
    assert_eq!(journal["status"], "posted", "{journal}");
    assert_matches_truth(&journal, &books.fixture.ground_truth(&location, day).await);
    let moves = books.moves(&format!("tillbridge:{location}:{day}:1")).await;
    assert_eq!(moves.len(), 1);
    assert_eq!(
        line_set(&moves[0]["lines"], "account_code"),
        line_set(&journal["lines"], "account")
    );
    let calls: Value = reqwest::get(format!("{}/_sim/odoo/calls", books.odoo.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        calls
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["transport"] == "json2"),
        "every call went over JSON-2"
    );

    // The same client against an Odoo 18: JSON-2 is not there (303 to the login page).
    let books = Books::with("jrnl-json2-18", OdooConfig::default(), "json2").await;
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    let journal = books.journal(&location, day, 1).await;
    assert_eq!(journal["status"], "failed", "{journal}");
    assert_eq!(journal["error"]["code"], "erp_rejected");
    assert!(
        journal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON-2"),
        "{journal}"
    );
}

#[tokio::test]
async fn every_day_of_a_90_day_history_balances_and_matches_the_ground_truth() {
    let books = Books::new("jrnl-history").await;
    // One GBP and one NZD location (each in its own ERP company).
    let mut locations = Vec::new();
    for location in books.fixture.locations.keys() {
        let currency = books.location(location).await["currency"].clone();
        if !locations.iter().any(|(_, c)| *c == currency) {
            locations.push((location.clone(), currency));
        }
    }
    assert_eq!(locations.len(), 2, "{locations:?}");
    // Every item mapped, so the history's reconciliation below has nothing to flag.
    books.map_every_item().await;
    let last = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    for (location, _) in &locations {
        // Days run six at a time (each day has its own lease and reference).
        let days: Vec<String> = (0..90)
            .map(|back| (last - chrono::Days::new(back)).to_string())
            .collect();
        futures::stream::iter(days)
            .for_each_concurrent(6, |day| {
                let books = &books;
                async move {
                    books.transfer(location, &day).await;
                    books.deliver(location, &day, 1).await;
                    let journal = books.journal(location, &day, 1).await;
                    assert_eq!(journal["status"], "posted", "{journal}");
                    assert_matches_truth(
                        &journal,
                        &books.fixture.ground_truth(location, &day).await,
                    );
                }
            })
            .await;
        let prefix = format!("tillbridge:{location}:");
        let held = erp_balances(&books, &prefix).await;
        assert_eq!(
            held.values().copied().sum::<Decimal>(),
            Decimal::ZERO,
            "the ERP balances"
        );
        // Reconciled against Lightspeed and read back from the ERP: no false positive.
        for runs in 0..3 {
            let to = last - chrono::Days::new(30 * runs);
            let from = to - chrono::Days::new(29);
            let body =
                json!({"from": from.to_string(), "to": to.to_string(), "location_id": location});
            let (status, run) = books
                .api()
                .post(&books.path("reconciliation"), &body, None)
                .await
                .unwrap();
            assert_eq!(status, 200, "{run}");
            assert_eq!(
                run["summary"],
                json!({"reconciled": 30, "exceptions": 0, "pending": 0}),
                "{location} {from}..{to}"
            );
        }
    }
}
