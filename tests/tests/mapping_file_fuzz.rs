//! Fuzz target for the mapping CSV reader (`tillbridge_local::mapping_file::parse`): arbitrary
//! text and near-valid files (right columns, hostile values: quotes, separators, decimals at
//! the range's edges, long fields, control characters) end in rows or row-numbered problems,
//! never a panic; every accepted row has a quantity that parses and is greater than zero.
//!
//! Bounded for the suite (256 cases); a longer run:
//! `PROPTEST_CASES=20000 cargo nextest run -p tillbridge-tests --test mapping_file_fuzz`.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use tillbridge_local::mapping_file::parse;

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

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9 ]{0,12}",
        1 => Just("\"a, \"\"quoted\"\" b\"".to_string()),
        1 => Just("\"unterminated".to_string()),
        1 => Just("\u{0}\u{1b}\r".to_string()),
        1 => Just("x".repeat(10_000)),
        1 => any::<String>(),
    ]
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        field(),
        field().prop_map(|f| format!("sku:{f}")),
        Just("sku:".to_string())
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        field().prop_map(|f| format!("ingredient:{f}")),
        field().prop_map(|f| format!("recipe:{f}")),
        Just("ingredient:".to_string()),
        Just("recipe".to_string()),
        field(),
    ]
}

fn quantity() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "-?[0-9]{0,30}(\\.[0-9]{0,30})?",
        1 => proptest::sample::select(vec![
            "79228162514264337593543950335", "79228162514264337593543950336",
            "0.0000000000000000000000000001", "0.00000000000000000000000000001",
            "-1", "0", "1e3", "+1", " 2 ", "", "NaN",
        ]).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

fn flag() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "true", "false", "yes", "no", "1", "0", "", "TRUE", "maybe"
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

fn row() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (item(), target(), quantity(), flag()).prop_map(|(a, b, c, d)| format!("{a},{b},{c},{d}")),
        1 => prop::collection::vec(field(), 0..8).prop_map(|f| f.join(",")),
        1 => Just("# a comment".to_string()),
        1 => Just(String::new()),
    ]
}

fn file() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(row(), 0..20),
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
    )
        .prop_map(|(header, rows, newline)| {
            let mut lines = Vec::new();
            if header {
                lines.push("item,target,quantity,is_subtraction".to_string());
            }
            lines.extend(rows);
            lines.join(newline)
        })
}

#[test]
fn near_valid_mapping_files_give_rows_or_row_numbered_problems() {
    proptest!(config(), |(text in file())| {
        match parse(&text) {
            Ok(rows) => {
                for row in rows {
                    let q = tillbridge::money::parse_decimal(&row.quantity);
                    prop_assert!(q.is_ok_and(|q| q > rust_decimal::Decimal::ZERO), "{:?}", row);
                }
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in problems {
                    prop_assert!(p.starts_with("row "), "{}", p);
                }
            }
        }
    });
}

#[test]
fn arbitrary_text_never_panics_the_mapping_reader() {
    proptest!(config(), |(text in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..512))| {
        let _ = parse(&text);
        let _ = parse(&String::from_utf8_lossy(&bytes));
    });
}
