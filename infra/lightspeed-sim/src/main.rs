//! `lightspeed-sim` binary: serves the simulator on 127.0.0.1 and prints its base URL.

use lightspeed_sim::{LastPageToken, PaymentsMode, RefundSign, SimConfig, Simulator};

const USAGE: &str = "lightspeed-sim [--port N] [--seed N] [--days N] [--volume N] [--now ISO8601]
  [--refunds negative|positive] [--payments include|always] [--last-page absent|null|empty]
  [--items array|wrapped] [--items-max-amount N] [--no-x-rate-limit] [--webhook-base-delay-ms N]";

fn value<'a>(args: &'a [String], i: usize, flag: &str) -> Result<&'a str, String> {
    args.get(i + 1)
        .map(String::as_str)
        .ok_or_else(|| format!("{flag} needs a value"))
}

fn num<T: std::str::FromStr>(s: &str, flag: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{flag}: not a number: {s}"))
}

fn parse(args: &[String]) -> Result<SimConfig, String> {
    let mut cfg = SimConfig {
        port: 8710,
        ..SimConfig::default()
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        match flag {
            "--port" => cfg.port = num(value(args, i, flag)?, flag)?,
            "--seed" => cfg.seed = num(value(args, i, flag)?, flag)?,
            "--days" => cfg.days = num(value(args, i, flag)?, flag)?,
            "--volume" => cfg.volume = num(value(args, i, flag)?, flag)?,
            "--now" => {
                let v = value(args, i, flag)?;
                cfg.now = lightspeed_sim::respond::parse_time(v)
                    .ok_or_else(|| format!("--now: bad date-time {v}"))?;
            }
            "--refunds" => {
                cfg.wire.refund_sign = match value(args, i, flag)? {
                    "negative" => RefundSign::Negative,
                    "positive" => RefundSign::Positive,
                    v => return Err(format!("--refunds: {v}")),
                }
            }
            "--payments" => {
                cfg.wire.payments = match value(args, i, flag)? {
                    "include" => PaymentsMode::OnlyWithInclude,
                    "always" => PaymentsMode::Always,
                    v => return Err(format!("--payments: {v}")),
                }
            }
            "--last-page" => {
                cfg.wire.last_page_token = match value(args, i, flag)? {
                    "absent" => LastPageToken::Absent,
                    "null" => LastPageToken::Null,
                    "empty" => LastPageToken::Empty,
                    v => return Err(format!("--last-page: {v}")),
                }
            }
            "--items" => {
                cfg.wire.items_shape = match value(args, i, flag)? {
                    "array" => lightspeed_sim::ItemsShape::BareArray,
                    "wrapped" => lightspeed_sim::ItemsShape::Wrapped,
                    v => return Err(format!("--items: {v}")),
                }
            }
            "--items-max-amount" => cfg.wire.items_max_amount = num(value(args, i, flag)?, flag)?,
            "--webhook-base-delay-ms" => {
                cfg.webhooks.base_delay_ms = num(value(args, i, flag)?, flag)?
            }
            "--no-x-rate-limit" => {
                cfg.x_rate_limit = false;
                i += 1;
                continue;
            }
            "--help" | "-h" => return Err(USAGE.to_string()),
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
    match Simulator::start(cfg).await {
        Ok(sim) => {
            println!("{}", sim.base_url());
            let _ = tokio::signal::ctrl_c().await;
            sim.shutdown().await;
        }
        Err(e) => {
            eprintln!("lightspeed-sim: {e}");
            std::process::exit(1);
        }
    }
}
