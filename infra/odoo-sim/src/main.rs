//! `odoo-sim` binary: serves the simulator on 127.0.0.1 and prints its base URL.

use odoo_sim::{OdooConfig, OdooVersion, RunningOdoo};

const USAGE: &str = "odoo-sim [--port N] [--version 18|19] [--db NAME] [--login LOGIN]
  [--password PASSWORD] [--api-key KEY] [--seed N] [--today YYYY-MM-DD]";

fn parse(args: &[String]) -> Result<OdooConfig, String> {
    let mut cfg = OdooConfig {
        port: 8069,
        ..OdooConfig::default()
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .get(i + 1)
            .cloned()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag {
            "--port" => cfg.port = value.parse().map_err(|_| format!("--port: {value}"))?,
            "--version" => {
                cfg.version = match value.as_str() {
                    "18" | "18.0" => OdooVersion::V18,
                    "19" | "19.0" => OdooVersion::V19,
                    v => return Err(format!("--version: {v} (18 or 19)")),
                }
            }
            "--db" => cfg.db = value,
            "--login" => cfg.login = value,
            "--password" => cfg.password = value,
            "--api-key" => cfg.api_key = value,
            "--seed" => cfg.seed = value.parse().map_err(|_| format!("--seed: {value}"))?,
            "--today" => {
                cfg.today = Some(
                    chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                        .map_err(|_| format!("--today: {value}"))?,
                )
            }
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
        i += 2;
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match RunningOdoo::start(cfg).await {
        Ok(odoo) => {
            println!("{}", odoo.base_url());
            let _ = tokio::signal::ctrl_c().await;
            odoo.shutdown().await;
        }
        Err(e) => {
            eprintln!("odoo-sim: {e}");
            std::process::exit(1);
        }
    }
}
