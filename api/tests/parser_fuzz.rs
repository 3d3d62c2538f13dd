//! Fuzz targets for the admin API's parsers of outside data that take text: list cursors
//! and limits. Each input ends in `Ok` or a typed error, never a panic.
//!
//! Bounded for the suite (256 cases per target by default); a longer run:
//! `PROPTEST_CASES=20000 cargo nextest run -p tillbridge-api --test parser_fuzz`.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

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

#[test]
fn cursor_and_limit_never_panic() {
    proptest!(config(), |(
        cursor in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,300}"],
        limit in prop_oneof![any::<String>(), "-?[0-9]{1,25}"],
    )| {
        let _ = tillbridge_api::pagination::decode_cursor(Some(&cursor), "pk", "CO#a");
        let _ = tillbridge_api::pagination::limit(&limit);
    });
}
