//! Function init benchmark (issue 18): how long each function binary takes from exec to its
//! first `GET /2018-06-01/runtime/invocation/next`, against a mock Lambda Runtime API on
//! 127.0.0.1. Prints figures; fails only if a function never asks for work.
//!
//! `cargo run --release -p tillbridge-tests --bin init-bench -- [DIR] [--runs N]`: DIR holds
//! the function binaries, either as `DIR/<fn>` (default: `target/release`, the x86_64
//! build of the same release profile, since the arm64 bootstraps cannot run here) or as
//! `DIR/<fn>/bootstrap` (`target/lambda`, where the host can run them). Each function is
//! started N times (default 20), one at a time, with the environment the template gives it
//! (dummy table, queues and credentials; every AWS endpoint pointed at the mock, so nothing
//! leaves the machine), and killed once it has asked for work. Any other request the mock
//! sees before that (an AWS call at init) is counted and printed.
//!
//! Prints, per function: the stripped size of the arm64 bootstrap
//! (`target/lambda/<fn>/bootstrap`, if built by `infra/scripts/build-lambdas.sh`), the size
//! of the binary run, and init p50 and max. Writes `target/bench/binaries.json` (under
//! `CARGO_TARGET_DIR` when set): `[{name, arm64_bytes, native_bytes, init_ms_p50,
//! init_ms_max}]`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark binary, not a service

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use tokio::sync::mpsc;

/// What the mock saw from the function being measured.
#[derive(Debug)]
enum Seen {
    /// The first `invocation/next`: init is over.
    Next(Instant),
    /// `init/error`: the function failed to start; the body says why.
    InitError(String),
}

#[derive(Clone)]
struct Mock {
    seen: mpsc::UnboundedSender<Seen>,
    /// Requests other than the Runtime API's (AWS calls at init), as `METHOD path`.
    other: Arc<Mutex<Vec<String>>>,
}

async fn next(State(mock): State<Mock>) -> StatusCode {
    let _ = mock.seen.send(Seen::Next(Instant::now()));
    // Hold the long poll open as Lambda does between invocations; the process is killed.
    std::future::pending::<()>().await;
    StatusCode::NO_CONTENT
}

async fn init_error(State(mock): State<Mock>, body: String) -> StatusCode {
    let _ = mock.seen.send(Seen::InitError(body));
    StatusCode::ACCEPTED
}

async fn other(State(mock): State<Mock>, request: Request) -> StatusCode {
    mock.other
        .lock()
        .unwrap()
        .push(format!("{} {}", request.method(), request.uri().path()));
    StatusCode::SERVICE_UNAVAILABLE
}

fn root() -> PathBuf {
    tillbridge_local::paths::root()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// The functions of the workspace: one folder each under `functions/`.
fn functions() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `DIR/<fn>`, else `DIR/<fn>/bootstrap`.
fn binary_in(dir: &Path, function: &str) -> Option<PathBuf> {
    [dir.join(function), dir.join(function).join("bootstrap")]
        .into_iter()
        .find(|path| path.is_file())
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// The environment Lambda and the template give each function; nothing real.
fn environment(function: &str, runtime_api: &str) -> Vec<(String, String)> {
    let endpoint = format!("http://{runtime_api}");
    let queue = |name: &str| format!("{endpoint}/000000000000/tillbridge-{name}");
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("tillbridge-{function}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "init-bench".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDINITBENCH".into()),
        ("AWS_SECRET_ACCESS_KEY", "init-bench".into()),
        ("AWS_SESSION_TOKEN", "init-bench".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("TABLE_NAME", "tillbridge".into()),
        ("TRANSFER_QUEUE_URL", queue("transfer")),
        ("MIGRATION_QUEUE_URL", queue("migration")),
        ("SALES_EVENTS_QUEUE_URL", queue("sales-events")),
        ("JOURNAL_QUEUE_URL", queue("journal")),
        ("TRANSFER_DLQ_URL", queue("transfer-dlq")),
        ("MIGRATION_DLQ_URL", queue("migration-dlq")),
        ("SALES_EVENTS_DLQ_URL", queue("sales-events-dlq")),
        ("JOURNAL_DLQ_URL", queue("journal-dlq")),
        ("SECRET_PREFIX", "tillbridge".into()),
        ("APP_SECRET_ID", "tillbridge/app".into()),
        ("DYNAMODB_ENDPOINT", endpoint.clone()),
        ("SQS_ENDPOINT", endpoint.clone()),
        ("SECRETS_ENDPOINT", endpoint),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// One cold start of `binary`: exec → first `invocation/next`, in milliseconds.
async fn one_run(
    binary: &Path,
    env: &[(String, String)],
    seen: &mut mpsc::UnboundedReceiver<Seen>,
) -> Result<f64, String> {
    while seen.try_recv().is_ok() {}
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
    let outcome = tokio::select! {
        got = tokio::time::timeout(Duration::from_secs(10), seen.recv()) => match got {
            Ok(Some(Seen::Next(at))) => Ok(at.duration_since(started).as_secs_f64() * 1000.0),
            Ok(Some(Seen::InitError(body))) => Err(format!("init error: {body}")),
            Ok(None) => Err("mock stopped".to_string()),
            Err(_) => Err("no invocation/next within 10 s".to_string()),
        },
        status = child.wait() => Err(format!("exited before asking for work: {status:?}")),
    };
    let _ = child.start_kill();
    let output = child.wait_with_output().await;
    outcome.map_err(|e| {
        let stderr = output
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        format!("{e}\n{}", stderr.trim())
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut runs = 20usize;
    while let Some(arg) = args.next() {
        if arg == "--runs" {
            runs = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .expect("--runs takes a whole number above 0");
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let target = target_dir();
    let dir = dir.unwrap_or_else(|| target.join("release"));

    let (tx, mut seen) = mpsc::unbounded_channel();
    let mock = Mock {
        seen: tx,
        other: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(other)
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let runtime_api = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    println!(
        "init: exec → first invocation/next, {runs} runs each, binaries from {}",
        dir.display()
    );
    println!(
        "{:<18} {:>12} {:>12} {:>9} {:>9}",
        "function", "arm64 bytes", "run bytes", "p50 ms", "max ms"
    );
    let mut report = Vec::new();
    let mut failed = false;
    for function in functions() {
        let arm64 = size(&target.join("lambda").join(&function).join("bootstrap"));
        let Some(binary) = binary_in(&dir, &function) else {
            println!("{function:<18} not built in {}", dir.display());
            failed = true;
            continue;
        };
        let env = environment(&function, &runtime_api);
        mock.other.lock().unwrap().clear();
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            match one_run(&binary, &env, &mut seen).await {
                Ok(ms) => times.push(ms),
                Err(e) => {
                    println!("{function:<18} failed: {e}");
                    failed = true;
                    break;
                }
            }
        }
        if times.len() < runs {
            continue;
        }
        times.sort_by(f64::total_cmp);
        let (p50, max) = (percentile(&times, 0.5), times[times.len() - 1]);
        let native = size(&binary);
        let shown = |bytes: Option<u64>| bytes.map_or("-".to_string(), |b| b.to_string());
        println!(
            "{function:<18} {:>12} {:>12} {p50:>9.1} {max:>9.1}",
            shown(arm64),
            shown(native)
        );
        let calls = std::mem::take(&mut *mock.other.lock().unwrap());
        if !calls.is_empty() {
            println!("  requests at init ({}): {}", calls.len(), calls.join(", "));
        }
        report.push(json!({
            "name": function,
            "arm64_bytes": arm64,
            "native_bytes": native,
            "init_ms_p50": (p50 * 100.0).round() / 100.0,
            "init_ms_max": (max * 100.0).round() / 100.0,
            "init_requests": calls.len(),
        }));
    }

    let out = target.join("bench");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("binaries.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::Value::Array(report)).unwrap(),
    )
    .unwrap();
    println!("wrote {}", path.display());
    if failed {
        std::process::exit(1);
    }
}
