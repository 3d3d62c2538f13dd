//! Every admin route fuzzed from the committed OpenAPI document with schemathesis (pinned
//! and installed into `.local/venv` by `infra/scripts/install.sh`), against a local host
//! with a connected, seeded company, so path ids often name objects that exist.
//!
//! Asserted: no 5xx, no dropped connection, every status documented for its operation,
//! every body and content type as documented, 405 for undocumented methods.
//!
//! Bounded for the suite: `TILLBRIDGE_FUZZ_EXAMPLES` examples per operation (default 8) and
//! `TILLBRIDGE_FUZZ_SECONDS` of wall time (default 120; schemathesis keeps fuzzing until it is
//! spent). A longer run (plain `cargo test`: nextest ends tests after 240 s):
//! `TILLBRIDGE_FUZZ_EXAMPLES=200 TILLBRIDGE_FUZZ_SECONDS=1800 cargo test -p tillbridge-tests
//! --test api_fuzz -- --nocapture`. `TILLBRIDGE_FUZZ_SEED` repeats a run;
//! `TILLBRIDGE_FUZZ_REPORT_DIR` keeps the JUnit report and a pytest file reproducing failures;
//! `TILLBRIDGE_FUZZ_ARGS` appends schemathesis flags (e.g. `--phases fuzzing`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tillbridge_tests::fixture::TransferFixture;

/// The checks run on every response.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,unsupported_method";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

fn ids(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item[field].as_str().map(str::to_string))
        .collect()
}

/// A TOML string literal.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("string")
}

#[tokio::test]
async fn every_admin_route_survives_schemathesis() {
    let root = repo_root();
    let schemathesis = root.join(".local/venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: run infra/scripts/install.sh",
        schemathesis.display()
    );

    // A connected company with units, ingredients, recipes, mappings, one transfer (so
    // ledger entries and a transfer log exist), a migration job and an open alert.
    let fixture = TransferFixture::new("fuzz").await;
    let company = fixture.company.clone();
    let api = fixture.env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (location, (unit, _)) = fixture.locations.iter().next().expect("a location");
    let (status, result) = fixture.transfer(location, "2026-02-20", true).await;
    assert_eq!(status, 200, "{result}");
    let (status, activation) = api
        .post(
            &format!("{base}/locations/{location}/activate"),
            &json!({}),
            None,
        )
        .await
        .unwrap();
    assert!(status == 201 || status == 200, "{activation}");
    let deps = fixture.env.deps("admin-api").await;
    let alert = tillbridge::alerts::raise(
        deps.store.as_ref(),
        &company,
        "disconnected",
        "k_series",
        "fuzz",
        "2026-11-22T01:00:00.000Z",
    )
    .await
    .unwrap();

    let mut known: Vec<String> = Vec::new();
    known.extend(fixture.locations.keys().cloned());
    known.extend(fixture.locations.values().map(|(u, _)| u.clone()));
    known.extend(fixture.ingredients.iter().cloned());
    known.extend(fixture.recipes.keys().cloned());
    known.push(alert.alert_id.clone());
    known.push(result["log_id"].as_str().unwrap_or_default().to_string());
    for (path, field) in [
        (
            format!("{base}/ledger?storage_unit_id={unit}&from=2026-02-20"),
            "entry_id",
        ),
        (format!("{base}/items?limit=10"), "item_id"),
        (format!("{base}/locations/{location}/migrations"), "job_id"),
    ] {
        let (status, page) = api.get(&path).await.unwrap();
        assert_eq!(status, 200, "{path}: {page}");
        known.extend(ids(&page, field).into_iter().take(5));
    }
    known.retain(|id| !id.is_empty());
    known.sort();
    known.dedup();

    let examples = env_number("TILLBRIDGE_FUZZ_EXAMPLES", 8);
    let seconds = env_number("TILLBRIDGE_FUZZ_SECONDS", 120);
    let seed = env_number("TILLBRIDGE_FUZZ_SEED", rand_seed());
    let work = std::env::temp_dir().join(format!("tillbridge-fuzz-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work).unwrap();
    let report_dir = std::env::var("TILLBRIDGE_FUZZ_REPORT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| work.join("report"));
    // Path ids come from the seeded objects most of the time, generated ones otherwise;
    // the company is always the token's (another company's is covered by its own test).
    let config = format!(
        "[dictionaries.known_ids]\nvalues = [{}]\n\n[parameters]\n\"path.company_id\" = {}\n\
         \"path.id\" = {{ dictionary = \"known_ids\", probability = 0.7 }}\n\
         \"path.job_id\" = {{ dictionary = \"known_ids\", probability = 0.7 }}\n\
         \"path.item_id\" = {{ dictionary = \"known_ids\", probability = 0.7 }}\n",
        known
            .iter()
            .map(|id| toml_string(id))
            .collect::<Vec<_>>()
            .join(", "),
        toml_string(&company),
    );
    let config_path = work.join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();

    let url = format!("{}/v1/openapi.json", fixture.env.host.base_url);
    let token = fixture.env.host.token(&company);
    let args: Vec<String> = vec![
        "--config-file".into(),
        config_path.display().to_string(),
        "run".into(),
        url,
        "--checks".into(),
        CHECKS.into(),
        "--max-examples".into(),
        examples.to_string(),
        "--max-time".into(),
        seconds.to_string(),
        "--seed".into(),
        seed.to_string(),
        // One worker: concurrent workers trip a CPython 3.11 `ast.parse` race inside
        // hypothesis ("AST constructor recursion depth mismatch").
        "--workers".into(),
        "1".into(),
        "--phases".into(),
        "examples,coverage,fuzzing".into(),
        "--request-timeout".into(),
        "30".into(),
        "--generation-database".into(),
        "none".into(),
        "--suppress-health-check".into(),
        "all".into(),
        "--no-color".into(),
        "--report".into(),
        "junit,pytest".into(),
        "--report-dir".into(),
        report_dir.display().to_string(),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
    ];
    let mut args = args;
    if let Ok(extra) = std::env::var("TILLBRIDGE_FUZZ_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_string));
    }
    println!(
        "schemathesis {} (seed {seed}, config {})",
        args.iter()
            .map(|a| if a.starts_with("Authorization") {
                "Authorization: Bearer <token>".to_string()
            } else {
                a.clone()
            })
            .collect::<Vec<_>>()
            .join(" "),
        config_path.display()
    );
    // Output streams through, so a long run shows its progress.
    let mut child = tokio::process::Command::new(&schemathesis)
        .args(&args)
        .current_dir(&work)
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("schemathesis starts");
    let status = tokio::time::timeout(Duration::from_secs(seconds + 60), child.wait())
        .await
        .expect("schemathesis finished in time")
        .expect("schemathesis ran");
    assert!(
        status.success(),
        "schemathesis found failures (exit {:?}, seed {seed}); the report is in {}",
        status.code(),
        report_dir.display()
    );
    let _ = std::fs::remove_dir_all(&work);
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(7)
}

/// Hand-picked hostile inputs on every documented operation, each of which must be answered
/// with a 4xx error envelope (never a 5xx or a dropped connection): over-long and odd path
/// ids, out-of-range decimals, a ledger query without dates, repeated receipts that push an
/// ingredient's totals past the decimal range.
#[tokio::test]
async fn hostile_inputs_get_a_4xx_envelope() {
    let env = tillbridge_tests::TestEnv::http().await;
    let company = tillbridge_tests::unique_company("hostile");
    let api = env.client(&company);
    let base = format!("/v1/companies/{company}");
    let (status, unit) = api
        .post(
            &format!("{base}/storage-units"),
            &json!({"name": "U"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{unit}");
    let unit_id = unit["id"].as_str().unwrap().to_string();
    let (status, ingredient) = api
        .post(
            &format!("{base}/ingredients"),
            &json!({"name": "I", "unit": "kg"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{ingredient}");
    let ingredient_id = ingredient["id"].as_str().unwrap().to_string();

    let mut failures: Vec<String> = Vec::new();
    let doc: Value = serde_json::from_str(tillbridge_api::openapi::document()).unwrap();
    let hostile_ids = [
        "a".repeat(201),
        "a".repeat(1_100),
        "a".repeat(3_000),
        "%00".to_string(),
        "%F0%9F%92%A9".to_string(),
        "..".to_string(),
        "a%2Fb".to_string(),
    ];
    for (template, operations) in doc["paths"].as_object().unwrap() {
        if !template.contains("{company_id}") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            for id in &hostile_ids {
                let path = template
                    .replace("{company_id}", &company)
                    .replace("{product}", "k_series")
                    .replace("{id}", id)
                    .replace("{item_id}", id)
                    .replace("{job_id}", id);
                let body = matches!(method.as_str(), "post" | "put" | "patch").then(|| json!({}));
                if let Some(f) = probe(&api, &method.to_uppercase(), path, body).await {
                    failures.push(f);
                }
            }
        }
    }

    let max = "79228162514264337593543950335";
    let hostile_requests: Vec<(&str, String, Option<Value>)> = vec![
        (
            "GET",
            format!("{base}/ledger?storage_unit_id={unit_id}"),
            None,
        ),
        (
            "GET",
            format!("{base}/ledger?ingredient_id={ingredient_id}"),
            None,
        ),
        (
            "GET",
            format!("{base}/ledger?storage_unit_id={unit_id}&to=2026-01-01"),
            None,
        ),
        (
            "GET",
            format!("{base}/ledger?storage_unit_id={}", "a".repeat(3_000)),
            None,
        ),
        (
            "GET",
            format!("{base}/storage-units?limit=99999999999999999999"),
            None,
        ),
        (
            "GET",
            format!("{base}/storage-units?cursor={}", "A".repeat(5_000)),
            None,
        ),
        (
            "GET",
            format!("{base}/recipes/x/explosion?quantity={max}0"),
            None,
        ),
        (
            "POST",
            format!("{base}/ingredients/{ingredient_id}/receipts"),
            Some(
                json!({"quantity": "0.0000000000000000000000000001", "value": max, "currency": "GBP"}),
            ),
        ),
        (
            "POST",
            format!("{base}/ingredients/{ingredient_id}/receipts"),
            Some(json!({"quantity": max, "value": max, "currency": "GBP"})),
        ),
        (
            "POST",
            format!("{base}/ingredients/{ingredient_id}/receipts"),
            Some(json!({"quantity": max, "value": max, "currency": "GBP"})),
        ),
        ("GET", format!("{base}/ingredients/{ingredient_id}"), None),
        (
            "POST",
            format!("{base}/ingredients/{ingredient_id}/receipts"),
            Some(json!({"quantity": "1e400", "value": 1e300, "currency": "GBP"})),
        ),
        (
            "POST",
            format!("{base}/ingredients/{ingredient_id}/receipts"),
            Some(
                json!({"quantity": 18446744073709551616u128.to_string().parse::<f64>().unwrap(), "value": "1", "currency": "GBP"}),
            ),
        ),
        (
            "POST",
            format!("{base}/recipes"),
            Some(
                json!({"name": "R", "lines": [{"ingredient_id": ingredient_id, "quantity": max, "trim_pct": "99.9999999999999999999999999"}]}),
            ),
        ),
        (
            "POST",
            format!("{base}/storage-units"),
            Some(json!({"name": "x".repeat(100_000)})),
        ),
        (
            "POST",
            format!("{base}/storage-units"),
            Some(Value::String("x".repeat(10))),
        ),
    ];
    for (method, path, body) in hostile_requests {
        if let Some(f) = probe(&api, method, path, body).await {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "{} hostile requests were not answered with a 4xx envelope:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `None` when the request is answered with a success or a 4xx error envelope; else what
/// went wrong.
async fn probe(
    api: &tillbridge_tests::AdminClient,
    method: &str,
    path: String,
    body: Option<Value>,
) -> Option<String> {
    let http = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    match api.request(http, &path, body, &[]).await {
        Ok((status, reply))
            if status >= 500 || (status >= 400 && reply["error"]["code"].as_str().is_none()) =>
        {
            Some(format!("{method} {} → {status} {reply}", short(&path)))
        }
        Ok(_) => None,
        Err(err) => Some(format!("{method} {} → no answer: {err}", short(&path))),
    }
}

/// A path with long ids shortened for the report.
fn short(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.len() > 40 {
                format!("{}…({} chars)", &s[..12], s.len())
            } else {
                s.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
