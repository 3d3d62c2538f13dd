//! Transfer benchmarks (SPEC §5): prints figures, asserts nothing.
//!
//! `cargo run --release -p tillbridge-tests --bin transfer-bench -- [engine|day|memory|import|migration|all|table]`
//! * `table`: engine, day, migration and memory, with the function binaries' sizes and init
//!   times from `init-bench`, each against its target in one table (`target/bench/table.json`).
//! * `engine`: the pure derivation (match → explode → sum → entries) and the sales-cache
//!   codec on synthetic 10,000- and 50,000-line days (or the sizes given after `engine`):
//!   line-ingredient deductions per second.
//! * `day`: one location-day of about 10,000 lines end to end on the local stack (DynamoDB
//!   Local, moto, the simulator, the real use case): wall time, DynamoDB requests and write
//!   units per sales line, Lightspeed requests against the minimum number of pages; then the
//!   same day again (force refresh, nothing changed).
//! * `memory`: peak resident memory of a process that transfers a 50,000-line day as the
//!   transfer does (pages parsed one at a time into canonical sales, derive, encode the
//!   cache), then transfers it again (decode the cache, fetch, derive, encode); run alone,
//!   so the figure is that work's.
//! * `import`: a 100,000-row CSV file read, checked row by row and grouped into sales by the
//!   CSV importer's reader (the work an upload does before it writes): rows per second.
//! * `migration`: a 90-day migration of one location at about 5,000 lines a day on the local
//!   stack, as many days at a time as an integration has lanes (2): wall time, DynamoDB
//!   requests and write units.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark binary, not a service

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tillbridge::catalog::explode::{Line, LineTarget};
use tillbridge::connection::PosProduct;
use tillbridge::ledger::derive::{derive, Catalogue, DayInput, Prior};
use tillbridge::lightspeed::settings::KAuthVersion;
use tillbridge::mapping::matching::{LineItemRef, MappedItem, MappingIndex};
use tillbridge::mapping::record::{Mapping, TargetKind};
use tillbridge::money::{Money, Quantity};
use tillbridge::sales::{CanonicalLine, CanonicalSale, SaleKind};
use tillbridge::transfer::cache::{decode, encode, CachedDay};
use tillbridge::transfer::run::{run, Outcome, TransferContext};
use tillbridge::transfer::TransferRequest;
use tillbridge_tests::counting_store::CountingStore;
use tillbridge_tests::fixture::TransferFixture;
use tillbridge_tests::TestEnv;

fn q(text: &str) -> Quantity {
    text.parse().unwrap()
}

/// 200 menu items: 80 recipes (two levels, with trim), 80 direct ingredients, 40 unmapped.
fn synthetic_catalogue() -> Catalogue {
    let mut recipes = HashMap::new();
    recipes.insert(
        "base".to_string(),
        vec![
            Line {
                target: LineTarget::Ingredient("flour".into()),
                quantity: q("0.2"),
                trim_pct: None,
            },
            Line {
                target: LineTarget::Ingredient("tomato".into()),
                quantity: q("0.05"),
                trim_pct: Some(Decimal::new(125, 1)),
            },
        ],
    );
    let mut mapped = Vec::new();
    for i in 0..160 {
        let (kind, target) = if i < 80 {
            let id = format!("r{i}");
            recipes.insert(
                id.clone(),
                vec![
                    Line {
                        target: LineTarget::Recipe("base".into()),
                        quantity: q("1"),
                        trim_pct: None,
                    },
                    Line {
                        target: LineTarget::Ingredient(format!("ing{}", i % 30)),
                        quantity: q("0.125"),
                        trim_pct: Some(Decimal::new(5, 0)),
                    },
                    Line {
                        target: LineTarget::Ingredient(format!("ing{}", (i + 7) % 30)),
                        quantity: q("0.03"),
                        trim_pct: None,
                    },
                ],
            );
            (TargetKind::Recipe, id)
        } else {
            (TargetKind::Ingredient, format!("ing{}", i % 30))
        };
        mapped.push(MappedItem {
            item_id: format!("item{i}"),
            code: Some(format!("SKU{i}")),
            name: format!("Item {i}"),
            mapping: Mapping {
                company_id: "bench".into(),
                product: PosProduct::KSeries,
                item_id: format!("item{i}"),
                target_kind: kind,
                target_id: target,
                quantity: q("1"),
                is_subtraction: false,
                item_name: format!("Item {i}"),
                item_sku: Some(format!("SKU{i}")),
                created_at: String::new(),
                updated_at: String::new(),
                version: 1,
            },
        });
    }
    let mut costs: HashMap<String, Money> = (0..30)
        .map(|i| (format!("ing{i}"), Money(Decimal::new(100 + i, 2))))
        .collect();
    costs.insert("flour".into(), Money(Decimal::new(85, 2)));
    costs.insert("tomato".into(), Money(Decimal::new(243, 2)));
    Catalogue {
        mappings: MappingIndex::new(mapped),
        recipes,
        costs,
        currency: Some("GBP".into()),
        refused_costs: HashMap::new(),
    }
}

/// `lines` lines in sales of ten, one sale in thirty a refund.
fn synthetic_day(lines: usize) -> Vec<CanonicalSale> {
    synthetic_sales(lines).collect()
}

/// The sales of [`synthetic_day`], made one at a time.
fn synthetic_sales(lines: usize) -> impl Iterator<Item = CanonicalSale> {
    let mut n = 0u64;
    (0..lines.div_ceil(10)).map(move |s| {
        let refund = s % 30 == 29;
        let mut sale_lines = Vec::new();
        for l in 0..10.min(lines - s * 10) {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let item = (n >> 33) % 200;
            let quantity = Decimal::from(1 + (n >> 40) % 3)
                * if refund { -Decimal::ONE } else { Decimal::ONE };
            sale_lines.push(CanonicalLine {
                line_id: format!("{l}").into(),
                parent_line_id: None,
                item: LineItemRef {
                    item_id: None,
                    sku: Some(format!("SKU{item}").into()),
                    name: format!("Item {item}").into(),
                },
                quantity: Quantity(quantity),
                net: Money(Decimal::new(1250, 2)),
                gross: Money(Decimal::new(1500, 2)),
                tax: Money(Decimal::new(250, 2)),
                discount: Money::ZERO,
                service_charge: Money::ZERO,
                tax_code: Some("VAT20".into()),
                accounting_group: Some("Food".into()),
            });
        }
        CanonicalSale {
            sale_id: format!("A{s:08}"),
            receipt: Some(format!("R{s}")),
            kind: if refund {
                SaleKind::Refund
            } else {
                SaleKind::Sale
            },
            closed_at: chrono::DateTime::UNIX_EPOCH,
            original_sale_id: refund.then(|| format!("A{:08}", s - 1)),
            currency: Some("GBP".into()),
            lines: sale_lines,
            payments: Vec::new(),
            register_id: None,
        }
    })
}

/// The process's minor page faults so far (`/proc/self/stat`, field 10); 0 where unreadable.
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &stat[stat.rfind(')')? + 2..];
            rest.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Derivations timed per day size; the median is reported (the machine is shared).
const RUNS: usize = 51;

/// The day sizes `engine` times: the arguments after `engine` when given (to see how the
/// cost per line moves with size), else the two the targets name.
fn engine_sizes() -> Vec<usize> {
    let given: Vec<usize> = std::env::args()
        .skip(2)
        .filter_map(|a| a.parse().ok())
        .collect();
    if given.is_empty() {
        vec![10_000, 50_000]
    } else {
        given
    }
}

fn engine(sizes: &[usize]) -> serde_json::Value {
    let catalogue = synthetic_catalogue();
    let mut report = serde_json::Map::new();
    for &lines in sizes {
        let sales = synthetic_day(lines);
        let mut timings = Vec::new();
        let mut faults = Vec::new();
        let mut derived = None;
        for _ in 0..RUNS {
            // The previous result is freed first, as between two transfers.
            drop(derived.take());
            let faults_before = minor_faults();
            let started = Instant::now();
            let d = derive(&DayInput {
                company_id: "bench",
                storage_unit_id: "su",
                location_id: "loc",
                business_date: "2026-03-01",
                sales: &sales,
                catalogue: &catalogue,
                posted: &[],
                prior: &Prior::default(),
                transfer_log_id: "log",
                request_uuid: "req",
                now: "2026-03-02T05:00:00Z",
            });
            timings.push(started.elapsed());
            faults.push(minor_faults().saturating_sub(faults_before));
            derived = Some(d);
        }
        let derived = derived.unwrap();
        // The median, and the fastest run: on a shared VM other tenants only ever add time,
        // so the fastest is the closest to the work's own cost.
        let fastest = timings.iter().min().copied().unwrap();
        let took = median(timings);
        let deductions = derived.stats.deductions as f64;
        let day = CachedDay {
            sales: sales.clone(),
            lines: derived.lines.clone(),
            ..CachedDay::default()
        };
        let started = Instant::now();
        let chunks = encode(&day).unwrap();
        let encode_time = started.elapsed();
        let started = Instant::now();
        let back: CachedDay = decode(&chunks).unwrap();
        let decode_time = started.elapsed();
        assert_eq!(back.sales.len(), day.sales.len());
        let bytes: usize = chunks.iter().map(String::len).sum();
        println!("engine, {lines} lines:");
        println!(
            "  derivation            {:>10.1} ms (median of {RUNS})",
            took.as_secs_f64() * 1e3
        );
        println!(
            "  deductions            {:>10} line × ingredient quantities, {} ledger entries",
            derived.stats.deductions,
            derived.new_entries.len()
        );
        println!(
            "  throughput            {:>10.0} deductions/s, {:.0} lines/s (median run)",
            deductions / took.as_secs_f64(),
            lines as f64 / took.as_secs_f64()
        );
        println!(
            "  fastest run           {:>10.0} deductions/s, {:.1} ms",
            deductions / fastest.as_secs_f64(),
            fastest.as_secs_f64() * 1e3
        );
        faults.sort_unstable();
        println!(
            "  page faults per run   {:>10} (median), {} .. {}",
            faults[faults.len() / 2],
            faults[0],
            faults[faults.len() - 1]
        );
        println!("  sales cache           {:>10} bytes in {} chunk(s), {:.1} bytes/line; encode {:.1} ms, decode {:.1} ms", bytes, chunks.len(), bytes as f64 / lines as f64, encode_time.as_secs_f64() * 1e3, decode_time.as_secs_f64() * 1e3);
        report.insert(
            format!("lines_{lines}"),
            serde_json::json!({
                "derive_ms": took.as_secs_f64() * 1e3,
                "deductions": derived.stats.deductions,
                "deductions_per_second": deductions / took.as_secs_f64(),
                "fastest_ms": fastest.as_secs_f64() * 1e3,
                "fastest_deductions_per_second": deductions / fastest.as_secs_f64(),
                "cache_bytes_per_line": bytes as f64 / lines as f64,
                "cache_chunks": chunks.len(),
                "encode_ms": encode_time.as_secs_f64() * 1e3,
                "decode_ms": decode_time.as_secs_f64() * 1e3,
            }),
        );
    }
    serde_json::Value::Object(report)
}

/// The simulator's volume knob for about `lines` lines in one London location-day.
fn volume_for(lines: usize) -> u32 {
    (lines as u32).div_ceil(1450).max(1)
}

async fn day(lines: usize) -> serde_json::Value {
    let mut config = tillbridge_local::lightspeed::sim_config();
    config.volume = volume_for(lines);
    config.days = 4;
    let env = TestEnv::with_lightspeed(config, KAuthVersion::V2, false).await;
    let company = env.connect("bench", "k_series").await;
    let fixture = TransferFixture::setup(env, company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let date = "2026-03-01";
    // The simulator makes a day's sales on first asking (about 0.1 s for 10,000 lines):
    // made before the clock starts, so the figure is the transfer's alone.
    if let Some(sim) = &fixture.env.sim {
        let k = &sim.state().k;
        let index = k
            .catalog
            .locations
            .iter()
            .position(|l| l.id.to_string() == location);
        let day: chrono::NaiveDate = date.parse().unwrap();
        for offset in -1..=1 {
            if let Some(index) = index {
                k.day(index, day + chrono::Duration::days(offset));
            }
        }
    }
    let deps = fixture.env.deps("transfer-worker").await;
    let counting = CountingStore::new(deps.store.clone());
    let ctx = TransferContext {
        store: &counting,
        queue: deps.queue.as_ref(),
        sales: deps.sales.as_ref(),
        settings: &deps.config.transfer,
        retry_through_queue: true,
    };
    let mut report = serde_json::Map::new();
    for pass in ["first run", "re-run, nothing changed"] {
        counting.reset();
        let request = TransferRequest {
            request_uuid: uuid::Uuid::new_v4().to_string(),
            company_id: fixture.company.clone(),
            location_id: location.clone(),
            business_date: Some(date.into()),
            attempt: 1,
            force_refresh: true,
            requested_at: chrono::Utc::now().to_rfc3339(),
        };
        let started = Instant::now();
        let outcome = run(&ctx, &request, &chrono::Utc::now().to_rfc3339())
            .await
            .unwrap();
        let wall = started.elapsed();
        let Outcome::Logged(log) = outcome else {
            panic!("already logged")
        };
        let stats = log.stats.clone().unwrap();
        let api = &stats.api_response_summary;
        let line_count = api.lines as f64;
        let min_pages = api.sales.div_ceil(100).max(1);
        println!("day end to end ({pass}), location {location} {date}:");
        println!(
            "  wall time             {:>10.0} ms",
            wall.as_secs_f64() * 1e3
        );
        println!("  sales / lines         {:>10} / {}", api.sales, api.lines);
        println!(
            "  ledger entries        {:>10} created",
            stats.ledger_entries_created
        );
        println!(
            "  Lightspeed requests   {:>10} (minimum pages {min_pages})",
            api.requests
        );
        let mut figures = serde_json::Map::new();
        for (name, value) in counting.figures() {
            println!(
                "  DynamoDB {name:<12} {value:>10}  ({:.4} per line)",
                value as f64 / line_count
            );
            figures.insert(name.replace(' ', "_"), value.into());
        }
        report.insert(
            pass.into(),
            serde_json::json!({
                "wall_ms": wall.as_secs_f64() * 1e3,
                "sales": api.sales,
                "lines": api.lines,
                "ledger_entries": stats.ledger_entries_created,
                "lightspeed_requests": api.requests,
                "minimum_pages": min_pages,
                "dynamodb": figures,
            }),
        );
    }
    serde_json::Value::Object(report)
}

async fn migration(lines_per_day: usize) -> serde_json::Value {
    use futures::StreamExt;
    let mut config = tillbridge_local::lightspeed::sim_config_until_today(95);
    config.volume = volume_for(lines_per_day);
    let env = TestEnv::with_lightspeed(config, KAuthVersion::V2, false).await;
    let company = env.connect("bench-mig", "k_series").await;
    let fixture = TransferFixture::setup(env, company).await;
    let location = fixture.locations.keys().next().unwrap().clone();
    let deps = fixture.env.deps("migration-worker").await;
    let counting = CountingStore::new(deps.store.clone());
    let started = Instant::now();
    // Activation starts the job (the job, its guard and 90 day items; not counted below).
    let (status, _) = fixture
        .env
        .client(&fixture.company)
        .request(
            reqwest::Method::POST,
            &format!(
                "/v1/companies/{}/locations/{location}/activate",
                fixture.company
            ),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let job =
        tillbridge::migration::start::open_job(deps.store.as_ref(), &fixture.company, &location)
            .await
            .unwrap()
            .unwrap();
    // The day messages, as the workers would receive them.
    let sqs = fixture.env.sqs().await;
    let url = fixture.env.queue_url("MigrationQueue");
    let mut messages = Vec::new();
    while messages.len() < job.total_days as usize {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(900)
            .send()
            .await
            .unwrap();
        // Taken off the queue at once: a FIFO lane hands out its next day only then.
        for m in received.messages.unwrap_or_default() {
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            messages.push(
                serde_json::from_str::<tillbridge::migration::DayMessage>(m.body().unwrap())
                    .unwrap(),
            );
        }
    }
    let ctx = TransferContext {
        store: &counting,
        queue: deps.queue.as_ref(),
        sales: deps.sales.as_ref(),
        settings: &deps.config.transfer,
        retry_through_queue: false,
    };
    let now = chrono::Utc::now().to_rfc3339();
    let outcomes: Vec<_> = futures::stream::iter(
        messages
            .iter()
            .map(|m| tillbridge::migration::day::process(&ctx, m, &now)),
    )
    .buffer_unordered(deps.config.migration.lanes_per_integration as usize)
    .collect()
    .await;
    let wall = started.elapsed();
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    let job = tillbridge::migration::day::refresh_progress(&counting, &job, &now)
        .await
        .unwrap();
    let lines: u64 = {
        let mut total = 0;
        for m in &messages {
            if let Some(state) = tillbridge::transfer::cache::load_state(
                deps.store.as_ref(),
                &fixture.company,
                &location,
                &m.date,
            )
            .await
            .unwrap()
            {
                total += state.lines_count as u64;
            }
        }
        total
    };
    let figures = counting.figures();
    println!(
        "migration, 90 days of location {location} ({:?}, {failed} errors):",
        job.status
    );
    println!(
        "  wall time             {:>10.1} s ({:.0} ms per day, 2 days at a time)",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1e3 / 90.0
    );
    println!(
        "  sales lines           {:>10} ({:.0} per day)",
        lines,
        lines as f64 / 90.0
    );
    let mut report = serde_json::Map::new();
    for (name, value) in figures {
        println!(
            "  DynamoDB {name:<12} {value:>10}  ({:.4} per line)",
            value as f64 / lines.max(1) as f64
        );
        report.insert(name.replace(' ', "_"), value.into());
    }
    serde_json::json!({"wall_s": wall.as_secs_f64(), "lines": lines, "status": job.status, "dynamodb": report})
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// The day as a transfer receives it: one page of 100 sales at a time, each page's JSON
/// parsed alone and kept only as canonical sales.
fn fetched_in_pages(lines: usize) -> Vec<CanonicalSale> {
    let mut sales = Vec::new();
    let mut made = synthetic_sales(lines).peekable();
    while made.peek().is_some() {
        let page: Vec<CanonicalSale> = made.by_ref().take(100).collect();
        let json = serde_json::to_vec(&page).unwrap();
        drop(page);
        sales.extend(serde_json::from_slice::<Vec<CanonicalSale>>(&json).unwrap());
    }
    sales
}

/// A first transfer of a 50,000-line day (fetch in pages, derive, encode the cache), then
/// the same day again as a forced refresh does it (decode the cache as the prior run,
/// fetch again, derive against what the first run posted, encode).
fn memory() -> serde_json::Value {
    let lines = 50_000;
    static CATALOGUE: std::sync::LazyLock<Catalogue> =
        std::sync::LazyLock::new(synthetic_catalogue);
    fn input<'a>(
        sales: &'a [CanonicalSale],
        posted: &'a [tillbridge::ledger::entry::LedgerEntry],
        prior: &'a Prior,
    ) -> DayInput<'a> {
        DayInput {
            company_id: "bench",
            storage_unit_id: "su",
            location_id: "loc",
            business_date: "2026-03-01",
            sales,
            catalogue: &CATALOGUE,
            posted,
            prior,
            transfer_log_id: "log",
            request_uuid: "req",
            now: "2026-03-02T05:00:00Z",
        }
    }
    let before = peak_rss_kb();
    let sales = fetched_in_pages(lines);
    let first = derive(&input(&sales, &[], &Prior::default()));
    let day = CachedDay {
        sales,
        lines: first.lines,
        ..CachedDay::default()
    };
    let chunks = encode(&day).unwrap();
    drop(day);
    let first_peak = peak_rss_kb();

    let cached: CachedDay = decode(&chunks).unwrap();
    let prior = Prior {
        lines: cached.lines.into_states(),
        revisions: first.revisions,
    };
    let sales = fetched_in_pages(lines);
    let again = derive(&input(&sales, &first.new_entries, &prior));
    let day = CachedDay {
        sales,
        lines: again.lines,
        ..CachedDay::default()
    };
    let chunks_again = encode(&day).unwrap();
    let after = peak_rss_kb();
    println!("memory, {lines} lines (pages parsed into sales, derive, cache encoded; then the re-run: cache decoded, fetched again, derived, encoded):");
    println!(
        "  peak resident         {:>10.1} MB (first run {:.1} MB; process baseline {:.1} MB)",
        after as f64 / 1024.0,
        first_peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    println!(
        "  held                  {:>10} sales of the earlier run, {} cache chunk(s), {} new entries on the re-run",
        cached.sales.len(),
        chunks_again.len(),
        again.new_entries.len()
    );
    serde_json::json!({
        "lines": lines,
        "peak_rss_mb": after as f64 / 1024.0,
        "first_run_peak_rss_mb": first_peak as f64 / 1024.0,
        "baseline_rss_mb": before as f64 / 1024.0,
    })
}

/// The CSV reader on a generated file of `rows` rows over three locations and 28 days.
fn csv_import(rows: usize) -> serde_json::Value {
    use tillbridge::imports::format::CsvFormat;
    use tillbridge::imports::parse::{parse, LocationFacts, ParseInput};
    use tillbridge::location::business_day::DayMode;
    let format: CsvFormat = serde_json::from_value(serde_json::json!({
        "columns": {"date": "Date", "location": "Site", "item_code": "SKU", "item_name": "Item",
            "quantity": "Qty", "net": "Net", "tax": "Tax", "payment_method": "Paid by", "sale_id": "Receipt"},
        "date_format": "%Y-%m-%d %H:%M"
    }))
    .unwrap();
    let mut text = String::from("Receipt,Date,Site,SKU,Item,Qty,Net,Tax,Paid by\n");
    for n in 0..rows {
        let quantity = 1 + n % 3;
        text.push_str(&format!(
            "R{},2026-11-{:02} {:02}:{:02},site-{},SKU{},\"Item {}, large\",{quantity},{}.50,{}.10,{}\n",
            n / 3,
            1 + (n / 3) % 28,
            10 + n % 12,
            n % 60,
            (n / 3) % 3,
            n % 500,
            n % 500,
            quantity * 4,
            quantity,
            ["Card", "Cash"][n % 2],
        ));
    }
    let facts = LocationFacts {
        product: PosProduct::Csv,
        mode: DayMode::Local {
            tz: chrono_tz::Europe::London,
            cutoff_hour: 5,
        },
        currency: Some("GBP".into()),
        storage_unit_linked: true,
    };
    let locations: HashMap<String, LocationFacts> = (0..3)
        .map(|i| (format!("site-{i}"), facts.clone()))
        .collect();
    let input = ParseInput {
        format: &format,
        locations: &locations,
        digest: "0123456789abcdef",
        now: chrono::Utc::now(),
    };
    let started = Instant::now();
    let parsed = parse(text.as_bytes(), &input).unwrap();
    let elapsed = started.elapsed();
    let per_second = rows as f64 / elapsed.as_secs_f64();
    println!(
        "CSV import reader, {rows} rows ({:.1} MB)",
        text.len() as f64 / 1e6
    );
    println!(
        "  read, checked, grouped {:>10.1} ms = {per_second:.0} rows/s, {:.1} MB/s; {} sales",
        elapsed.as_secs_f64() * 1000.0,
        text.len() as f64 / 1e6 / elapsed.as_secs_f64(),
        parsed.sales.len()
    );
    serde_json::json!({"rows": rows, "bytes": text.len(), "ms": elapsed.as_secs_f64() * 1000.0,
        "rows_per_second": per_second, "sales": parsed.sales.len()})
}

/// One row of the summary table: `ratio` ≥ 1 means the target is met.
struct Row {
    figure: &'static str,
    target: String,
    measured: String,
    ratio: Option<f64>,
}

/// A measured figure with its unit, or why there is none.
fn shown(measured: Option<f64>, unit: &str) -> String {
    measured.map_or("not measured".into(), |m| {
        format!("{} {unit}", group_digits(m))
    })
}

/// A figure that must reach at least `target`.
fn at_least(figure: &'static str, unit: &str, target: f64, measured: Option<f64>) -> Row {
    Row {
        figure,
        target: format!("≥ {} {unit}", group_digits(target)),
        measured: shown(measured, unit),
        ratio: measured.map(|m| m / target),
    }
}

/// A figure that must stay at or below `target`.
fn at_most(figure: &'static str, unit: &str, target: f64, measured: Option<f64>) -> Row {
    Row {
        figure,
        target: format!("≤ {} {unit}", group_digits(target)),
        measured: shown(measured, unit),
        ratio: measured.map(|m| if m == 0.0 { f64::INFINITY } else { target / m }),
    }
}

/// `12345678.9` → `12,345,679`; small figures keep up to three significant decimals.
fn group_digits(value: f64) -> String {
    if value.abs() < 100.0 {
        let text = format!("{value:.3}");
        return text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let whole = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (n, digit) in whole.chars().enumerate() {
        if n > 0 && (whole.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn figure(report: &serde_json::Value, path: &[&str]) -> Option<f64> {
    path.iter()
        .try_fold(report, |value, key| value.get(key))
        .and_then(serde_json::Value::as_f64)
}

/// Every performance figure against its target (issue targets; the end-to-end figures'
/// targets are the values they had when the engine work began), printed as one table and
/// written as `target/bench/table.json`. Binary sizes and init times come from
/// `target/bench/binaries.json`, written by `init-bench`.
async fn table(dir: &std::path::Path) -> serde_json::Value {
    let engine = engine(&[10_000, 50_000]);
    let day = day(10_000).await;
    let migration = migration(5_000).await;
    let memory = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("memory")
        .status()
        .ok()
        .filter(|status| status.success())
        .and_then(|_| std::fs::read(dir.join("transfer-bench-memory.json")).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let binaries = std::fs::read(dir.join("binaries.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let functions = binaries
        .as_ref()
        .and_then(|b| b.as_array().or_else(|| b.get("functions")?.as_array()))
        .cloned()
        .unwrap_or_default();
    let largest = |field: &str| {
        functions
            .iter()
            .filter_map(|f| f.get(field).and_then(serde_json::Value::as_f64))
            .reduce(f64::max)
    };
    let per_line = |lines: &str| {
        let ms = figure(&engine, &[lines, "fastest_ms"])?;
        let count: f64 = lines.trim_start_matches("lines_").parse().ok()?;
        Some(ms / count)
    };
    let first = |field: &[&str]| {
        let mut path = vec!["first run"];
        path.extend_from_slice(field);
        figure(&day, &path)
    };
    let again = |field: &[&str]| {
        let mut path = vec!["re-run, nothing changed"];
        path.extend_from_slice(field);
        figure(&day, &path)
    };
    let per = |value: Option<f64>, lines: Option<f64>| Some(value? / lines?.max(1.0));
    // Decimal megabytes, as build-lambdas.sh checks the 8 MB budget (8,000,000 bytes).
    let mb = 1_000_000.0;
    let rows = vec![
        at_least(
            "Engine, 10,000-line day (fastest of 51 runs)",
            "deductions/s",
            5_000_000.0,
            figure(&engine, &["lines_10000", "fastest_deductions_per_second"]),
        ),
        at_least(
            "Engine, 50,000-line day (fastest of 51 runs)",
            "deductions/s",
            5_000_000.0,
            figure(&engine, &["lines_50000", "fastest_deductions_per_second"]),
        ),
        at_least(
            "Engine, 10,000-line day (median run)",
            "deductions/s",
            5_000_000.0,
            figure(&engine, &["lines_10000", "deductions_per_second"]),
        ),
        at_least(
            "Engine, 50,000-line day (median run)",
            "deductions/s",
            5_000_000.0,
            figure(&engine, &["lines_50000", "deductions_per_second"]),
        ),
        at_most(
            "Engine, time per line 50,000 ÷ 10,000 (fastest runs)",
            "×",
            1.0,
            per_line("lines_50000")
                .zip(per_line("lines_10000"))
                .map(|(a, b)| a / b),
        ),
        at_most(
            "Day end to end, 10,000 lines",
            "s",
            0.40,
            first(&["wall_ms"]).map(|ms| ms / 1e3),
        ),
        at_most(
            "Day end to end, Lightspeed requests ÷ minimum pages",
            "×",
            1.0,
            per(first(&["lightspeed_requests"]), first(&["minimum_pages"])),
        ),
        at_most(
            "Day end to end, DynamoDB write units per line",
            "WCU",
            0.069,
            per(first(&["dynamodb", "write_units"]), first(&["lines"])),
        ),
        at_most(
            "Re-run, nothing changed",
            "s",
            0.66,
            again(&["wall_ms"]).map(|ms| ms / 1e3),
        ),
        at_most(
            "Re-run, DynamoDB write units per line",
            "WCU",
            0.001,
            per(again(&["dynamodb", "write_units"]), again(&["lines"])),
        ),
        at_most(
            "90-day migration, one location (~570,000 lines)",
            "s",
            16.0,
            figure(&migration, &["wall_s"]),
        ),
        at_most(
            "Peak memory, 50,000-line day (first run and re-run)",
            "MB",
            128.0,
            memory
                .as_ref()
                .and_then(|m| figure(m, &["memory_50000", "peak_rss_mb"])),
        ),
        at_most(
            "Largest function binary (arm64, stripped)",
            "MB",
            8.0,
            largest("arm64_bytes").map(|bytes| bytes / mb),
        ),
        at_most(
            "Slowest function init (exec → first next, p50)",
            "ms",
            50.0,
            largest("init_ms_p50"),
        ),
    ];
    println!();
    println!("| Figure | Target | Measured | Ratio (≥ 1 meets) |");
    println!("|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {} |",
            row.figure,
            row.target,
            row.measured,
            row.ratio.map_or("–".into(), |r| format!("{r:.2}"))
        );
    }
    serde_json::json!({
        "rows": rows.iter().map(|row| serde_json::json!({
            "figure": row.figure,
            "target": row.target,
            "measured": row.measured,
            "ratio": row.ratio,
            "met": row.ratio.map(|r| r >= 1.0),
        })).collect::<Vec<_>>(),
        "engine": engine,
        "day_10000": day,
        "migration_90_days": migration,
        "memory": memory,
        "binaries": binaries,
    })
}

#[tokio::main]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let root = tillbridge_local::paths::root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .map_or_else(|| root.join("target"), |dir| root.join(dir));
    let dir = target.join("bench");
    let _ = std::fs::create_dir_all(&dir);
    if mode == "table" {
        let table = table(&dir).await;
        let _ = std::fs::write(
            dir.join("table.json"),
            serde_json::to_string_pretty(&table).unwrap(),
        );
        println!("(written to {})", dir.join("table.json").display());
        return;
    }
    let mut report = serde_json::Map::new();
    if mode == "engine" || mode == "all" {
        report.insert("engine".into(), engine(&engine_sizes()));
    }
    if mode == "day" || mode == "all" {
        report.insert("day_10000".into(), day(10_000).await);
    }
    if mode == "migration" {
        report.insert("migration_90_days".into(), migration(5_000).await);
    }
    if mode == "memory" {
        report.insert("memory_50000".into(), memory());
    }
    if mode == "import" || mode == "all" {
        report.insert("csv_import_100000".into(), csv_import(100_000));
    }
    if mode == "all" {
        // Peak memory needs a process of its own.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("memory")
            .status();
        println!("(memory run: {status:?})");
    }
    let _ = std::fs::write(
        dir.join(format!("transfer-bench-{mode}.json")),
        serde_json::to_string_pretty(&report).unwrap(),
    );
}
