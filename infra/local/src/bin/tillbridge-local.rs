//! `tillbridge-local`: run the main job, or manage the local stack.
//!
//!   demo     stack up, demo catalogue through the admin API, worker round trip, summary
//!   up       start (or reuse) and provision the stack, then exit
//!   serve    stack up and keep serving the functions (HTTP + queue workers) until Ctrl-C;
//!            `serve --simulator [port]` also starts the Lightspeed simulator and points the
//!            functions at it, to explore the admin API against realistic data
//!   down     stop the stack's processes
//!   status   show whether the stack is running
//!   openapi  write the admin API's OpenAPI document (generated from the code) to
//!            lib/openapi/admin-api.json

use tillbridge_local::{demo, stack, HostOptions, LocalHost};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("demo");
    let result: Result<(), tillbridge_local::Error> = async {
        match command {
            "demo" => {
                // Function logs go to a file so the summary stays readable.
                let log = tillbridge_local::paths::local_dir()
                    .join("logs")
                    .join("functions.log");
                std::fs::create_dir_all(tillbridge_local::paths::local_dir().join("logs"))?;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)?;
                tillbridge::telemetry::init_with_writer(std::sync::Mutex::new(file));
                // Metrics (embedded metric format) go beside them, not into the summary.
                let metrics = tillbridge_local::paths::local_dir()
                    .join("logs")
                    .join("metrics.log");
                let metrics_file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&metrics)?;
                tillbridge::metrics::set_sink(std::sync::Arc::new(
                    tillbridge::metrics::WriterSink(std::sync::Mutex::new(metrics_file)),
                ));
                println!("function logs: {}, metrics: {}", log.display(), metrics.display());
                demo::run().await
            }
            "up" => {
                let stack = stack::ensure_up().await?;
                println!(
                    "DynamoDB {}  moto {}",
                    stack.resources.endpoints.dynamodb, stack.resources.endpoints.moto
                );
                Ok(())
            }
            "serve" => {
                tillbridge::telemetry::init();
                let stack = stack::ensure_up().await?;
                let with_simulator = args.iter().any(|a| a == "--simulator");
                let port = args
                    .iter()
                    .skip(1)
                    .find_map(|p| p.parse().ok())
                    .unwrap_or(0);
                let simulator = if with_simulator {
                    let config = tillbridge_local::lightspeed::sim_config_until_today(
                        tillbridge_local::lightspeed::sim_config().days,
                    );
                    Some(tillbridge_local::lightspeed::start_simulator(config).await?)
                } else {
                    None
                };
                let env = simulator
                    .as_ref()
                    .map(|sim| {
                        tillbridge_local::lightspeed::host_env(
                            sim,
                            tillbridge::lightspeed::settings::KAuthVersion::V2,
                        )
                    })
                    .unwrap_or_default();
                let host = LocalHost::start(
                    &stack,
                    HostOptions {
                        port,
                        workers: true,
                        env,
                        queues: Default::default(),
                    },
                )
                .await?;
                println!("serving functions at {}", host.base_url);
                if let Some(sim) = &simulator {
                    println!(
                        "Lightspeed simulator at {} (connect with POST /v1/companies/{}/integrations)",
                        sim.base_url(),
                        demo::DEMO_COMPANY
                    );
                }
                println!(
                    "admin token for company `{}`: {}",
                    demo::DEMO_COMPANY,
                    host.token(demo::DEMO_COMPANY)
                );
                println!(
                    "operator token (/v1/dead-letters): {}",
                    host.operator_token()
                );
                tokio::signal::ctrl_c().await?;
                Ok(())
            }
            "down" => stack::down(),
            "openapi" => {
                let path = tillbridge_local::paths::root().join("lib/openapi/admin-api.json");
                std::fs::write(&path, tillbridge_api::openapi::document())?;
                println!("wrote {}", path.display());
                Ok(())
            }
            "status" => {
                for line in stack::status().await {
                    println!("{line}");
                }
                Ok(())
            }
            other => Err(
                format!("unknown command `{other}`; use demo, up, serve, down, status or openapi").into(),
            ),
        }
    }
    .await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
