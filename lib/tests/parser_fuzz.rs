//! Fuzz targets for every parser of outside data in the library: Lightspeed K-Series and
//! X-Series sales, decimals (and the Quantity / Money fields of request bodies), business-day
//! inputs (dates, time zones, cutoff hours), Lightspeed item and location payloads, the
//! `Retry-After` header and the SQS transfer message (the admin API's list cursors and
//! limits: `api/tests/parser_fuzz.rs`).
//!
//! Each target feeds both arbitrary text or bytes and structure-aware, near-valid JSON (valid
//! shapes with hostile values: the decimal range's edges, 28 decimal places, negatives,
//! empties, exponents, deep nesting, long strings) and asserts no panic: every input ends in
//! `Ok` or a typed error.
//!
//! Bounded for the suite (256 cases per target by default); a longer run:
//! `PROPTEST_CASES=20000 cargo nextest run -p tillbridge --test parser_fuzz`.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{json, Value};
use tillbridge::location::business_day::{self, DayMode};
use tillbridge::money::{parse_decimal, Money, Quantity};
use tillbridge::sales::{canonical, kseries, xseries};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// Decimal texts at and beyond the edges of what an exact decimal can hold.
const HOSTILE_DECIMALS: &[&str] = &[
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "79228162514264337593543950336",
    "792281625142643375935439503350",
    "0.0000000000000000000000000001",
    "-0.0000000000000000000000000001",
    "0.00000000000000000000000000001",
    "7922816251426433759354395033.5",
    "99999999999999999999999999999999999999",
    "1e30",
    "1E-30",
    "-0",
    "+1",
    " 1 ",
    "1_000",
    "1,5",
    ".5",
    "5.",
    "-",
    "",
    "NaN",
    "inf",
    "0x10",
    "١٢٣",
    "12.50",
    "-3",
    "0",
];

fn hostile_decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(HOSTILE_DECIMALS).prop_map(str::to_string),
        2 => "-?[0-9]{0,40}(\\.[0-9]{0,40})?",
        1 => "[-+ .0-9eE_,]{0,12}",
        1 => any::<String>(),
    ]
}

/// A JSON value where a number is expected: hostile texts, integers, floats, and the wrong
/// types.
fn hostile_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => hostile_decimal_text().prop_map(Value::String),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        2 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        1 => Just(json!(1e308)),
        1 => Just(json!(5e-324)),
        1 => Just(Value::Null),
        1 => Just(json!(true)),
        1 => Just(json!([])),
        1 => Just(json!({"value": "1"})),
    ]
}

fn hostile_text() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[A-Za-z0-9 -]{0,16}".prop_map(Value::String),
        1 => any::<String>().prop_map(Value::String),
        1 => Just(Value::String("x".repeat(100_000))),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!({})),
    ]
}

fn hostile_time() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => Just(json!("2026-02-20T12:30:00Z")),
        1 => Just(json!("2026-02-20 12:30:00")),
        1 => Just(json!("+262143-12-31T23:59:59Z")),
        1 => Just(json!("-262143-01-01T00:00:00Z")),
        1 => Just(json!("9999-12-31T23:59:59.999999999+14:00")),
        1 => Just(json!("0000-01-01T00:00:00-14:00")),
        1 => Just(json!("2026-02-30T00:00:00Z")),
        1 => any::<String>().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

/// Nested arrays or objects `depth` deep around `inner`.
fn nest(depth: usize, inner: Value) -> Value {
    (0..depth).fold(inner, |v, i| {
        if i % 2 == 0 {
            json!([v])
        } else {
            json!({ "x": v })
        }
    })
}

/// Any JSON value, small, possibly deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        hostile_number(),
        hostile_text(),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn k_line() -> impl Strategy<Value = Value> {
    (
        hostile_text(),
        hostile_text(),
        hostile_number(),
        hostile_number(),
        hostile_number(),
        hostile_number(),
        hostile_number(),
        hostile_number(),
        prop::option::of(hostile_text()),
    )
        .prop_map(
            |(name, sku, quantity, net, gross, tax, discount, service, currency)| {
                let mut line = json!({
                    "id": "L1", "name": name, "sku": sku, "quantity": quantity,
                    "totalNetAmountWithoutTax": net, "totalNetAmountWithTax": gross,
                    "taxAmount": tax, "totalDiscountAmount": discount, "serviceCharge": service,
                    "accountingGroup": {"name": "Food"}
                });
                if let Some(currency) = currency {
                    line["currency"] = currency;
                }
                line
            },
        )
}

fn k_sale() -> impl Strategy<Value = Value> {
    (
        hostile_text(),
        hostile_time(),
        proptest::sample::select(vec!["SALE", "REFUND", "VOID", "CANCEL", "TRANSFER", ""]),
        any::<bool>(),
        prop::collection::vec(k_line(), 0..5),
        prop::collection::vec(
            (
                hostile_text(),
                hostile_number(),
                hostile_number(),
                hostile_number(),
            ),
            0..3,
        ),
    )
        .prop_map(|(id, closed, kind, cancelled, lines, payments)| {
            json!({
                "accountFiscId": id, "accountReference": "R1", "receiptId": "9",
                "timeClosed": closed, "type": kind, "cancelled": cancelled,
                "source": {"previousAccountId": "P1"},
                "salesLines": lines,
                "payments": payments.into_iter().map(|(code, amount, tip, rounding)| json!({
                    "code": code, "netAmountWithTax": amount, "tip": tip, "roundingAmount": rounding
                })).collect::<Vec<_>>(),
            })
        })
}

fn x_line() -> impl Strategy<Value = Value> {
    (
        hostile_number(),
        prop::option::of(hostile_number()),
        hostile_number(),
        prop::option::of(hostile_number()),
        hostile_number(),
        hostile_number(),
        prop::option::of(any::<bool>()),
        hostile_text(),
    )
        .prop_map(
            |(quantity, total_price, price, total_tax, tax, discount, is_return, product)| {
                let mut line = json!({
                    "id": "l1", "product_id": product, "quantity": quantity, "price": price,
                    "tax": tax, "discount": discount, "sku": "S1", "name": "Pizza"
                });
                if let Some(t) = total_price {
                    line["total_price"] = t;
                }
                if let Some(t) = total_tax {
                    line["total_tax"] = t;
                }
                if let Some(r) = is_return {
                    line["is_return"] = json!(r);
                }
                line
            },
        )
}

fn x_sale() -> impl Strategy<Value = Value> {
    (
        hostile_text(),
        proptest::sample::select(vec![
            "CLOSED",
            "ONACCOUNT_CLOSED",
            "LAYBY",
            "VOIDED",
            "SAVED",
            "",
            "closed",
        ]),
        prop::option::of(proptest::sample::select(vec![
            "closed", "voided", "parked", "pending", "",
        ])),
        hostile_time(),
        prop::collection::vec(x_line(), 0..5),
        prop::collection::vec((hostile_number(), hostile_time(), hostile_text()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(id, status, state, updated, lines, payments, legacy)| {
            let lines_key = if legacy {
                "register_sale_products"
            } else {
                "line_items"
            };
            let payments_key = if legacy {
                "register_sale_payments"
            } else {
                "payments"
            };
            let mut sale = json!({
                "id": id, "outlet_id": "o1", "status": status, "updated_at": updated,
                "sale_date": "2026-02-20 10:00:00", "return_for": "s0", "currency": "EUR",
                lines_key: lines,
                payments_key: payments.into_iter().map(|(amount, at, name)| json!({
                    "amount": amount, "payment_date": at, "name": name
                })).collect::<Vec<_>>(),
            });
            if let Some(state) = state {
                sale["state"] = json!(state);
            }
            sale
        })
}

/// A parsed sale's totals, as reconciliation computes them (two copies, so sums grow).
fn sum_twice(sale: canonical::CanonicalSale) {
    let _ = canonical::totals(&[sale.clone(), sale]);
}

#[test]
fn kseries_sale_json_never_panics() {
    proptest!(config(), |(sale in k_sale())| {
        let _ = kseries::to_canonical(&sale);
    });
}

#[test]
fn kseries_arbitrary_json_never_panics() {
    proptest!(config(), |(value in any_json(), bytes in prop::collection::vec(any::<u8>(), 0..256))| {
        let _ = kseries::to_canonical(&value);
        if let Ok(parsed) = serde_json::from_slice::<Value>(&bytes) {
            let _ = kseries::to_canonical(&parsed);
        }
    });
}

#[test]
fn xseries_sale_json_never_panics() {
    proptest!(config(), |(sale in x_sale())| {
        let _ = xseries::to_canonical(&sale);
        let window = business_day::window(DayMode::Utc, NaiveDate::from_ymd_opt(2026, 2, 20).unwrap());
        let _ = xseries::day_sales(&json!({"data": [sale], "version": {"max": 7}}), "o1", &window);
    });
}

#[test]
fn xseries_arbitrary_json_never_panics() {
    proptest!(config(), |(value in any_json(), bytes in prop::collection::vec(any::<u8>(), 0..256))| {
        let _ = xseries::to_canonical(&value);
        let _ = xseries::next_after(&value, 3);
        if let Ok(parsed) = serde_json::from_slice::<Value>(&bytes) {
            let _ = xseries::to_canonical(&parsed);
        }
    });
}

#[test]
fn parsed_sales_can_be_totalled() {
    proptest!(config(), |(k in k_sale(), x in x_sale())| {
        if let Ok(sale) = kseries::to_canonical(&k) {
            sum_twice(sale);
        }
        // A panic inside the X-Series parse is `xseries_sale_json_never_panics`'s finding;
        // here only what it returns is totalled.
        let parsed = std::panic::catch_unwind(|| xseries::to_canonical(&x));
        if let Ok(Ok(sale)) = parsed {
            sum_twice(sale);
        }
    });
}

/// The smallest inputs of the panics the targets above found, kept as plain cases.
#[test]
fn xseries_unit_price_times_quantity_beyond_the_decimal_range_is_an_error() {
    let sale = json!({
        "id": "s1", "status": "CLOSED", "updated_at": "2026-02-20T12:30:00Z",
        "line_items": [{"id": "l1", "quantity": 2, "price": "79228162514264337593543950335"}]
    });
    let _ = xseries::to_canonical(&sale);
}

#[test]
fn xseries_net_plus_tax_beyond_the_decimal_range_is_an_error() {
    let sale = json!({
        "id": "s1", "status": "CLOSED", "updated_at": "2026-02-20T12:30:00Z",
        "line_items": [{"id": "l1", "quantity": 1,
            "total_price": "79228162514264337593543950335", "total_tax": "79228162514264337593543950335"}]
    });
    let _ = xseries::to_canonical(&sale);
}

#[test]
fn kseries_day_totals_beyond_the_decimal_range_do_not_panic() {
    let line = json!({"id": "l", "name": "Pizza", "quantity": "1",
        "totalNetAmountWithTax": "79228162514264337593543950335",
        "totalNetAmountWithoutTax": "1", "taxAmount": "0"});
    let sale = json!({"accountFiscId": "A1", "timeClosed": "2026-02-20T12:00:00Z", "type": "SALE",
        "salesLines": [line.clone(), line]});
    let sale = kseries::to_canonical(&sale).expect("each value is in range");
    let _ = canonical::totals(&[sale]);
}

#[test]
fn deeply_nested_sales_are_refused_or_read() {
    for depth in [1, 64, 127, 128, 129, 1_000, 10_000] {
        let text = format!(
            "{{\"accountFiscId\": \"A\", \"timeClosed\": \"2026-02-20T12:00:00Z\", \"salesLines\": [{{\"quantity\": {}1{}}}]}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let _ = kseries::to_canonical(&value);
            let _ = xseries::to_canonical(&value);
        }
    }
    let deep = nest(100, json!("1"));
    let _ = kseries::to_canonical(
        &json!({"accountFiscId": "A", "timeClosed": "2026-02-20T12:00:00Z", "salesLines": [{"quantity": deep}]}),
    );
}

#[test]
fn decimal_text_parses_or_is_refused() {
    proptest!(config(), |(text in hostile_decimal_text())| {
        if let Ok(value) = parse_decimal(&text) {
            // What is accepted prints back to the same value.
            prop_assert_eq!(parse_decimal(&value.to_string()), Ok(value));
        }
        let _ = text.parse::<Quantity>();
        let _ = text.parse::<Money>();
    });
}

#[test]
fn quantity_and_money_fields_deserialise_or_are_refused() {
    proptest!(config(), |(value in hostile_number(), raw in any::<String>())| {
        let _ = serde_json::from_value::<Quantity>(value.clone());
        let _ = serde_json::from_value::<Money>(value.clone());
        let _ = serde_json::from_str::<Quantity>(&raw);
        // The request bodies that carry decimals.
        let _ = serde_json::from_value::<tillbridge::catalog::receipt::ReceiptInput>(
            json!({"quantity": value, "value": value}),
        );
        let _ = serde_json::from_value::<tillbridge::mapping::setup::MappingInput>(
            json!({"ingredient_id": "i", "quantity": value}),
        );
        let _ = serde_json::from_value::<tillbridge::catalog::recipe::RecipeInput>(
            json!({"name": "r", "lines": [{"ingredient_id": "i", "quantity": value, "trim_pct": value}]}),
        );
    });
}

#[test]
fn quantities_of_any_size_in_number_form_are_refused_or_exact() {
    for text in [
        "79228162514264337593543950335",
        "79228162514264337593543950336",
        "18446744073709551616",
        "-9223372036854775809",
        "1e400",
        "0.0000000000000000000000000001",
        "-0.0",
    ] {
        let _ = serde_json::from_str::<Quantity>(text);
        let _ = serde_json::from_str::<Money>(text);
    }
}

/// Every IANA zone, plus unknown names.
fn zone() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec()).prop_map(|tz| tz.name().to_string()),
        1 => any::<String>(),
        1 => Just("UTC".to_string()),
        1 => Just("Etc/GMT+12".to_string()),
    ]
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        4 => (1900i32..2200, 1u32..=366).prop_filter_map("a real day", |(y, d)| NaiveDate::from_yo_opt(y, d)),
        1 => (-95_000_000i32..95_000_000).prop_filter_map("in range", NaiveDate::from_num_days_from_ce_opt),
        1 => Just(NaiveDate::MIN),
        1 => Just(NaiveDate::MAX),
    ]
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        4 => (0i64..4_102_444_800).prop_filter_map("in range", |s| DateTime::from_timestamp(s, 0)),
        1 => (-8_200_000_000_000i64..8_200_000_000_000).prop_filter_map("in range", |s| DateTime::from_timestamp(s, 0)),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
    ]
}

fn mode_of(zone: &str, cutoff: u32, utc: bool) -> DayMode {
    match (utc, zone.parse::<chrono_tz::Tz>()) {
        (false, Ok(tz)) => DayMode::Local {
            tz,
            cutoff_hour: cutoff,
        },
        _ => DayMode::Utc,
    }
}

#[test]
fn business_day_inputs_never_panic() {
    proptest!(config(), |(
        zone in zone(),
        cutoff in prop_oneof![0u32..24, any::<u32>()],
        utc in any::<bool>(),
        date in any_date(),
        instant in any_instant(),
        text in prop_oneof!["[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", any::<String>(), Just("+275760-09-13".to_string())],
        span_hours in 0i64..(24 * 40),
    )| {
        let mode = mode_of(&zone, cutoff, utc);
        let _ = tillbridge::ids::strict_date(&text);
        let _ = tillbridge::ledger::query::parse_date("date", Some(&text));
        let window = business_day::window(mode, date);
        let _ = window.hours();
        let day = business_day::business_date(mode, instant);
        if (NaiveDate::from_ymd_opt(1000, 1, 1).unwrap()..NaiveDate::from_ymd_opt(9000, 1, 1).unwrap()).contains(&day) {
            prop_assert!(business_day::window(mode, day).contains(instant), "{instant} not in the window of its business date {day}");
        }
        if let Some(to) = instant.checked_add_signed(chrono::TimeDelta::hours(span_hours)) {
            let _ = business_day::closed_between(mode, instant, to);
        }
    });
}

#[test]
fn business_date_of_the_last_representable_instant_does_not_panic() {
    let tz: chrono_tz::Tz = "Antarctica/Casey".parse().unwrap();
    for instant in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let _ = business_day::business_date(DayMode::Local { tz, cutoff_hour: 0 }, instant);
    }
}

#[test]
fn business_day_settings_and_transfer_messages_parse_or_are_refused() {
    proptest!(config(), |(
        zone in zone(),
        cutoff in any_json(),
        day_mode in hostile_text(),
        date in prop_oneof![hostile_text(), hostile_time()],
        raw in any::<String>(),
    )| {
        let settings = json!({"timezone": zone, "day_cutoff_hour": cutoff, "day_mode": day_mode, "auto_issue": true});
        if let Ok(settings) = serde_json::from_value::<tillbridge::location::setup::DaySettings>(settings) {
            let _ = tillbridge::location::setup::validate(&settings);
        }
        let message = json!({
            "request_uuid": "r", "company_id": "c", "location_id": "l", "business_date": date,
            "attempt": 1, "force_refresh": true, "requested_at": "2026-02-20T00:00:00Z"
        });
        if let Ok(request) = serde_json::from_value::<tillbridge::transfer::TransferRequest>(message) {
            let _ = request.business_date();
        }
        if let Ok(request) = serde_json::from_str::<tillbridge::transfer::TransferRequest>(&raw) {
            let _ = request.business_date();
        }
    });
}

#[test]
fn lightspeed_item_and_location_payloads_never_panic() {
    proptest!(config(), |(value in any_json(), price in hostile_number(), name in hostile_text())| {
        let _ = tillbridge::items::wire::k_series_page(&value);
        let _ = tillbridge::items::wire::k_series_item(&value);
        let _ = tillbridge::items::wire::x_series_product(&value);
        let _ = tillbridge::location::sync::k_series_locations(&value);
        let _ = tillbridge::location::sync::x_series_locations(&value);
        let item = json!({"id": 1, "name": name, "sku": "S", "price": price, "prices": [{"amount": price}], "active": true});
        let _ = tillbridge::items::wire::k_series_price(&item);
        let _ = tillbridge::items::wire::k_series_item(&item);
        let product = json!({"id": "p", "name": name, "sku": "S", "price_including_tax": price, "price_excluding_tax": price, "is_active": true});
        let _ = tillbridge::items::wire::x_series_product(&product);
        let businesses = json!({"_embedded": {"businessList": [{"businessName": name, "businessLocations": [{"blID": price, "blName": name, "timezone": name, "currencyCode": name}]}]}});
        let _ = tillbridge::location::sync::k_series_locations(&businesses);
        let outlets = json!({"data": [{"id": name, "name": name, "time_zone": name, "currency": price}]});
        let _ = tillbridge::location::sync::x_series_locations(&outlets);
    });
}

#[test]
fn retry_after_never_panics() {
    proptest!(config(), |(
        header in prop_oneof![any::<String>(), "[0-9]{1,30}", Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()), Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string())],
        now in 0i64..4_102_444_800,
    )| {
        let _ = tillbridge::lightspeed::error::parse_retry_after(&header, now);
    });
}
