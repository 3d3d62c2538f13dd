//! Reconciliation end to end (SPEC C10): the admin API and the real handlers against
//! DynamoDB Local, moto, the Lightspeed simulator and the Odoo simulator. Every discrepancy
//! is seeded through a simulator's control API or the admin API, and what is expected is
//! computed from the simulator's ground truth, never from tillbridge's own answers.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge_tests::books::{company_mapping, Books};
use tillbridge_tests::fixture::{decimal, TransferFixture};
use tillbridge_tests::TestEnv;

async fn reconcile(books: &Books, location: &str, from: &str, to: &str) -> Value {
    let body = json!({"from": from, "to": to, "location_id": location});
    let (status, run) = books
        .api()
        .post(&books.path("reconciliation"), &body, None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{run}");
    run
}

fn report<'a>(run: &'a Value, date: &str) -> &'a Value {
    run["reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["business_date"] == date)
        .unwrap_or_else(|| panic!("no report for {date}: {run}"))
}

/// Each day's status and exception codes, for failure messages.
fn outline(run: &Value) -> String {
    run["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {}",
                r["business_date"],
                r["status"],
                codes(r),
                r["pending_reason"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn difference(exception: &Value, figure: &str) -> Option<Decimal> {
    exception["differences"]
        .as_array()?
        .iter()
        .find(|d| d["figure"] == figure)
        .map(|d| decimal(&d["difference"]))
}

fn days(from: &str, n: u64) -> Vec<String> {
    let first = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    (0..n)
        .map(|i| (first + chrono::Days::new(i)).to_string())
        .collect()
}

async fn open_alerts(books: &Books, code: &str) -> Vec<String> {
    books
        .fixture
        .alerts()
        .await
        .into_iter()
        .filter(|a| a["code"] == code)
        .map(|a| a["subject"].as_str().unwrap().to_string())
        .collect()
}

/// A fully mapped, posted history reconciles with no exception at all; a late sale and an
/// edited sale are each named with the figures that differ (as the ground truth says), show
/// in the KPIs, and resolve once the days are transferred and posted again.
#[tokio::test]
async fn late_and_edited_sales_are_named_counted_and_resolve_on_the_next_run() {
    let books = Books::new("recon-sales").await;
    books.map_every_item().await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let dates = days("2026-02-02", 10);
    for day in &dates {
        books.transfer(&location, day).await;
        books.deliver(&location, day, 1).await;
    }
    let (first, last) = (dates[0].as_str(), dates[9].as_str());
    let clean = reconcile(&books, &location, first, last).await;
    assert_eq!(
        clean["summary"],
        json!({"reconciled": 10, "exceptions": 0, "pending": 0}),
        "{clean}"
    );
    for day in &dates {
        let truth = books.fixture.ground_truth(&location, day).await;
        let counted = truth["saleCount"].as_u64().unwrap() + truth["refundCount"].as_u64().unwrap();
        let found = report(&clean, day);
        assert_eq!(found["status"], "reconciled", "{found}");
        assert_eq!(found["basis"], "sales_daily");
        assert_eq!(found["pos_sales"].as_u64(), Some(counted));
        assert_eq!(found["cached_sales"].as_u64(), Some(counted));
        assert_eq!(found["journal"]["status"], "posted");
        assert_eq!(found["ledger_variance"], json!({}));
    }

    // A late sale after posting, and an edited line, on two days.
    let (late_day, edited_day) = (dates[3].clone(), dates[6].clone());
    let before = books.fixture.ground_truth(&location, &late_day).await;
    books
        .fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/late-sales",
            Some(json!({"locationId": location.parse::<u64>().unwrap(), "date": late_day, "count": 3})),
        )
        .await;
    let after = books.fixture.ground_truth(&location, &late_day).await;
    let late_gross = decimal(&after["gross"]) - decimal(&before["gross"]);
    let entries = books.fixture.ledger_entries(&location, &edited_day).await;
    let (_, detail) = books
        .api()
        .get(&books.path(&format!(
            "ledger/{}",
            entries[0]["entry_id"].as_str().unwrap()
        )))
        .await
        .unwrap();
    let line = &detail["source_lines"][0];
    let edited_before = books.fixture.ground_truth(&location, &edited_day).await;
    books
        .fixture
        .env
        .sim_control(
            reqwest::Method::POST,
            "/_sim/k/sales/edit",
            Some(json!({
                "locationId": location.parse::<u64>().unwrap(),
                "accountFiscId": line["sale_id"],
                "lineId": line["line_id"],
                // Refund lines are negative here and positive on the edit's wire.
                "quantity": (decimal(&line["quantity"]).abs() + Decimal::from(2)).to_string(),
            })),
        )
        .await;
    let edited_after = books.fixture.ground_truth(&location, &edited_day).await;
    let edited_gross = decimal(&edited_after["gross"]) - decimal(&edited_before["gross"]);

    let seen = reconcile(&books, &location, first, last).await;
    assert_eq!(
        seen["summary"],
        json!({"reconciled": 8, "exceptions": 2, "pending": 0}),
        "{}",
        outline(&seen)
    );
    let late = report(&seen, &late_day);
    let subject = format!("{location}:{late_day}");
    assert_eq!(
        codes(late),
        vec![("unreconciled_sales".to_string(), subject.clone())]
    );
    let exception = &late["exceptions"][0];
    assert_eq!(difference(exception, "sales"), Some(Decimal::from(3)));
    assert_eq!(difference(exception, "gross"), Some(late_gross));
    assert!(exception["message"]
        .as_str()
        .unwrap()
        .contains("transfer the day again"));
    let edited = report(&seen, &edited_day);
    let edited_subject = format!("{location}:{edited_day}");
    assert_eq!(
        codes(edited),
        vec![("unreconciled_sales".to_string(), edited_subject.clone())]
    );
    assert_eq!(difference(&edited["exceptions"][0], "sales"), None);
    assert_eq!(
        difference(&edited["exceptions"][0], "gross"),
        Some(edited_gross)
    );
    let open: BTreeSet<String> = open_alerts(&books, "unreconciled_sales")
        .await
        .into_iter()
        .collect();
    assert_eq!(
        open,
        BTreeSet::from([subject.clone(), edited_subject.clone()])
    );

    // The KPIs count what the stored reports say.
    let (status, kpis) = books
        .api()
        .get(&books.path(&format!("kpis?from={first}&to={last}")))
        .await
        .unwrap();
    assert_eq!(status, 200, "{kpis}");
    assert_eq!(
        (
            kpis["days_total"].as_u64(),
            kpis["days_reconciled"].as_u64()
        ),
        (Some(10), Some(8))
    );
    let figures = &kpis["unreconciled_sales"][&location];
    assert_eq!(figures["days"], 2);
    assert_eq!(figures["sales"], 3);
    assert_eq!(
        decimal(&figures["amount"]),
        late_gross.abs() + edited_gross.abs()
    );
    assert_eq!(kpis["open_alerts"]["unreconciled_sales"], 2);

    // Fixed: both days transferred and posted again; the next run resolves the alerts.
    for day in [&late_day, &edited_day] {
        books.transfer(&location, day).await;
        books.deliver(&location, day, 1).await;
    }
    let fixed = reconcile(&books, &location, first, last).await;
    assert_eq!(
        fixed["summary"],
        json!({"reconciled": 10, "exceptions": 0, "pending": 0}),
        "{}\n{}",
        outline(&fixed),
        report(&fixed, &late_day)["exceptions"]
    );
    assert!(open_alerts(&books, "unreconciled_sales").await.is_empty());
    let (_, kpis) = books
        .api()
        .get(&books.path(&format!("kpis?from={first}&to={last}")))
        .await
        .unwrap();
    assert_eq!(kpis["days_reconciled"], 10);
    assert!(kpis["resolved_alerts"].as_u64().unwrap() >= 2, "{kpis}");
    assert!(
        kpis["p90_seconds_to_resolution"].as_i64().is_some(),
        "{kpis}"
    );

    // The stored reports list by status.
    let (status, listed) = books
        .api()
        .get(&books.path(&format!(
            "reconciliation?from={first}&to={last}&status=reconciled"
        )))
        .await
        .unwrap();
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 10);
}

/// The journal side: a move deleted in the ERP is `journal_missing` until re-posted; a
/// posted move edited in the ERP and an automatic balancing line are
/// `journal_out_of_balance`; an unmapped payment method blocks the day's journal and is
/// reported as `payment_method_unmapped`. Each resolves once its cause is fixed.
#[tokio::test]
async fn journal_exceptions_are_found_in_the_erp_and_resolve_when_fixed() {
    let books = Books::new("recon-books").await;
    books.map_every_item().await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let dates = days("2026-02-12", 4);
    for day in &dates {
        books.transfer(&location, day).await;
    }
    // The first three days are posted; the last one is posted below, into a seeded fault.
    for day in &dates[..3] {
        books.deliver(&location, day, 1).await;
    }
    let (deleted, tampered, unmapped, balancing) = (&dates[0], &dates[1], &dates[2], &dates[3]);
    let subject = |day: &str| format!("{location}:{day}");

    // Deleted in the ERP.
    let journal = books.journal(&location, deleted, 1).await;
    let move_id = journal["erp"]["move_id"].as_i64().unwrap();
    books
        .odoo(
            reqwest::Method::DELETE,
            &format!("moves/{move_id}"),
            Value::Null,
        )
        .await;
    // Edited in the ERP after posting: one line's amount moved.
    let journal = books.journal(&location, tampered, 1).await;
    let move_id = journal["erp"]["move_id"].as_i64().unwrap();
    let held: Value = books
        .odoo(
            reqwest::Method::GET,
            &format!("moves/{move_id}"),
            Value::Null,
        )
        .await;
    let line = held["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| decimal(&l["debit"]) > Decimal::ZERO)
        .unwrap()
        .clone();
    let line_id = line["id"].as_i64().unwrap();
    books
        .odoo(
            reqwest::Method::PATCH,
            &format!("lines/{line_id}"),
            json!({"debit": (decimal(&line["debit"]) + Decimal::ONE).to_string()}),
        )
        .await;
    // A payment method left unmapped: the posted day's next revision is blocked.
    let mut mapping = company_mapping();
    mapping["payment_methods"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k == "GIFTCARD");
    books.put("account-mappings", &mapping, 200).await;
    books.deliver(&location, unmapped, 1).await;
    books.put("account-mappings", &company_mapping(), 200).await;
    // Odoo adds an automatic balancing line to the last day's journal.
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/balancing",
            json!({"mode": "always"}),
        )
        .await;
    books.deliver(&location, balancing, 1).await;

    let run = reconcile(&books, &location, &dates[0], &dates[3]).await;
    assert_eq!(
        codes(report(&run, deleted)),
        vec![("journal_missing".into(), subject(deleted))]
    );
    let found = codes(report(&run, tampered));
    assert_eq!(
        found,
        vec![("journal_out_of_balance".into(), subject(tampered))]
    );
    assert_eq!(
        codes(report(&run, unmapped)),
        vec![("payment_method_unmapped".into(), subject(unmapped))]
    );
    assert_eq!(
        codes(report(&run, balancing)),
        vec![("journal_out_of_balance".into(), subject(balancing))]
    );
    assert!(report(&run, balancing)["exceptions"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Automatic Balancing Line"));
    for (code, day) in [
        ("journal_missing", deleted),
        ("journal_out_of_balance", tampered),
        ("payment_method_unmapped", unmapped),
        ("journal_out_of_balance", balancing),
    ] {
        assert!(
            open_alerts(&books, code).await.contains(&subject(day)),
            "{code} {day}"
        );
    }

    // Fixed: the trap off, every day re-posted through the admin API's re-post (which reads
    // an unchanged move back and posts a deleted one again); the tampered line restored.
    books
        .odoo(
            reqwest::Method::PUT,
            "traps/balancing",
            json!({"mode": "off"}),
        )
        .await;
    books
        .odoo(
            reqwest::Method::PATCH,
            &format!("lines/{line_id}"),
            json!({"debit": line["debit"].clone()}),
        )
        .await;
    for day in [deleted, unmapped, balancing] {
        let body = json!({"location_id": location, "business_date": day});
        let (status, queued) = books
            .api()
            .post(&books.path("journals/repost"), &body, None)
            .await
            .unwrap();
        assert_eq!(status, 202, "{queued}");
    }
    // The queue also holds the journal messages the transfers above queued.
    assert!(books.deliver_queued().await >= 3);
    let run = reconcile(&books, &location, &dates[0], &dates[3]).await;
    assert_eq!(
        run["summary"],
        json!({"reconciled": 4, "exceptions": 0, "pending": 0}),
        "{run}"
    );
    for code in [
        "journal_missing",
        "journal_out_of_balance",
        "payment_method_unmapped",
    ] {
        assert!(open_alerts(&books, code).await.is_empty(), "{code}");
    }
    // The blocked revision never reached the books and is no longer needed.
    assert_eq!(
        books.journal(&location, unmapped, 2).await["status"],
        "superseded"
    );
    assert_eq!(
        books.journal(&location, unmapped, 1).await["status"],
        "posted"
    );
    let reposted = books.journal(&location, deleted, 1).await;
    assert_eq!(reposted["status"], "posted");
    assert_ne!(reposted["erp"]["move_id"].as_i64(), Some(move_id));
}

/// Items: one sold but mapped to nothing is `unmapped_item` on the days it sold (the
/// names the ground truth's SKUs say), a renamed and a deleted mapped item are the
/// company's standing exceptions; mapping the item and transferring again resolves it.
#[tokio::test]
async fn unmapped_renamed_and_deleted_items_are_reported() {
    let books = Books::new("recon-items").await;
    let location = books.fixture.locations.keys().next().unwrap().clone();
    let day = "2026-02-21";
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    let truth = books.fixture.ground_truth(&location, day).await;
    let (items, _) = books
        .api()
        .list_all(&books.path("items?product=k_series&mapped=false"), 100)
        .await
        .unwrap();
    let unmapped_skus: BTreeSet<String> = items
        .iter()
        .filter_map(|i| i["sku"].as_str().map(str::to_string))
        .collect();
    let sold_unmapped: BTreeSet<String> = truth["itemQuantities"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(sku, q)| unmapped_skus.contains(*sku) && !decimal(q).is_zero())
        .map(|(sku, _)| sku.clone())
        .collect();
    assert!(
        !sold_unmapped.is_empty(),
        "the fixture leaves sold SKUs unmapped"
    );
    let run = reconcile(&books, &location, day, day).await;
    let found = report(&run, day);
    assert_eq!(found["status"], "exceptions");
    let subjects: BTreeSet<String> = found["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == "unmapped_item")
        .map(|e| e["subject"].as_str().unwrap().to_string())
        .collect();
    let names: BTreeSet<String> = items
        .iter()
        .filter(|i| i["sku"].as_str().is_some_and(|s| sold_unmapped.contains(s)))
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, names, "{found}");

    // A mapped item renamed and another deleted in Lightspeed, then synced.
    let (mapped, _) = books
        .api()
        .list_all(&books.path("items?product=k_series&mapped=true"), 100)
        .await
        .unwrap();
    let (renamed, gone) = (
        mapped[0]["item_id"].as_str().unwrap(),
        mapped[1]["item_id"].as_str().unwrap(),
    );
    let env = &books.fixture.env;
    env.sim_control(
        reqwest::Method::PATCH,
        &format!("/_sim/k/items/{renamed}"),
        Some(json!({"name": "Renamed Special"})),
    )
    .await;
    env.sim_control(
        reqwest::Method::DELETE,
        &format!("/_sim/k/items/{gone}"),
        None,
    )
    .await;
    let (status, synced) = books
        .api()
        .post(
            &books.path("items/sync"),
            &json!({"product": "k_series"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{synced}");

    // Fixed: everything mapped, the day transferred again.
    books.map_every_item().await;
    books.transfer(&location, day).await;
    books.deliver(&location, day, 1).await;
    let run = reconcile(&books, &location, day, day).await;
    let company: BTreeSet<(String, String)> = run["company_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        company.contains(&("mapped_item_renamed".into(), renamed.to_string())),
        "{company:?}"
    );
    assert!(
        company.contains(&("orphaned_mapping".into(), gone.to_string())),
        "{company:?}"
    );
    assert_eq!(report(&run, day)["status"], "reconciled", "{run}");
    assert!(open_alerts(&books, "unmapped_item").await.is_empty());
}

/// The daily schedule reconciles each activated location's last closed business day
/// through the real reconcile handler (on a private table: the schedule acts on every
/// company it finds), and a day not over yet is `pending`, never an exception.
#[tokio::test]
async fn the_schedule_reconciles_the_last_closed_day_and_an_open_day_is_pending() {
    let env = TestEnv::with_lightspeed_private_table(
        tillbridge_local::lightspeed::sim_config(),
        KAuthVersion::V2,
    )
    .await;
    let company = env.connect("recon-schedule", "k_series").await;
    let fixture = TransferFixture::setup(env, company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let api = fixture.env.client(&fixture.company);
    let base = format!("/v1/companies/{}", fixture.company);
    let (status, activated) = api
        .post(
            &format!("{base}/locations/{location}/activate"),
            &json!({}),
            None,
        )
        .await
        .unwrap();
    assert!((200..300).contains(&status), "{activated}");
    let day = "2026-02-25";
    let (status, result) = fixture.transfer(&location, day, true).await;
    assert_eq!(status, 200, "{result}");
    let deps = fixture.env.deps("reconcile").await;
    // Noon UTC the next day: the day (local cutoff 04:00) is closed everywhere simulated.
    let event = json!({"version": "0", "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event", "source": "aws.scheduler", "account": "123456789012",
        "time": "2026-02-26T12:00:00Z", "region": "eu-west-1", "resources": [], "detail": {}});
    tillbridge_local::host::functions::scheduled(
        "reconcile",
        &deps,
        serde_json::from_value(event).unwrap(),
    )
    .await
    .unwrap();
    let (status, listed) = api
        .get(&format!(
            "{base}/reconciliation?from={day}&to={day}&location_id={location}"
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{listed}");
    let found = &listed["items"][0];
    let truth = fixture.ground_truth(&location, day).await;
    let counted = truth["saleCount"].as_u64().unwrap() + truth["refundCount"].as_u64().unwrap();
    assert_eq!(found["basis"], "sales_daily", "{listed}");
    assert_eq!(found["pos_sales"].as_u64(), Some(counted));
    assert_eq!(found["cached_sales"].as_u64(), Some(counted));
    // No ERP here and one SKU in five left unmapped: only `unmapped_item` can be listed.
    assert!(
        found["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "unmapped_item"),
        "{found}"
    );

    // Two hours on, the activation's migration (no worker runs it here) is stuck: the
    // schedule's maintenance alerts it and every reconciliation lists it for the company.
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let event = json!({"version": "0", "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event", "source": "aws.scheduler", "account": "123456789012",
        "time": later, "region": "eu-west-1", "resources": [], "detail": {}});
    tillbridge_local::host::functions::scheduled(
        "reconcile",
        &deps,
        serde_json::from_value(event).unwrap(),
    )
    .await
    .unwrap();

    let today = chrono::Utc::now().date_naive().to_string();
    let body = json!({"from": today, "location_id": location});
    let (status, run) = api
        .post(&format!("{base}/reconciliation"), &body, None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{run}");
    assert_eq!(report(&run, &today)["status"], "pending", "{run}");
    let stuck: Vec<&Value> = run["company_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == "stuck_migration")
        .collect();
    assert_eq!(stuck.len(), 1, "{run}");
    assert!(stuck[0]["subject"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{location}:")));
    let (status, refused) = api
        .post(
            &format!("{base}/reconciliation"),
            &json!({"from": "2026-01-01", "to": "2026-03-01"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
}
