//! Times generating 90 days × 3 locations of K-Series sales (and the X-Series store).
//! Run: `cargo run --release --bin sim-bench [-- --days 90 --volume 1]`.

use lightspeed_sim::data::retail::XStore;
use lightspeed_sim::data::store::KStore;
use lightspeed_sim::SimConfig;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str, d: u32| -> u32 {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let days = get("--days", 90);
    let volume = get("--volume", 1);
    let cfg = SimConfig::default();
    let start = Instant::now();
    let store = KStore::new(cfg.seed, volume, days, cfg.now);
    let (mut sales, mut lines, mut max_day_lines) = (0usize, 0usize, 0usize);
    for loc in 0..store.catalog.locations.len() {
        let first = store.first_date(loc);
        for d in 0..days {
            let day = store.day(loc, first + chrono::Duration::days(d as i64));
            let l: usize = day.iter().map(|s| s.lines.len()).sum();
            sales += day.len();
            lines += l;
            max_day_lines = max_day_lines.max(l);
        }
    }
    let k_elapsed = start.elapsed();
    let xs = Instant::now();
    let x = XStore::generate(cfg.seed, "bench", days, cfg.now);
    let x_elapsed = xs.elapsed();
    println!(
        "K-Series: {days} days x {} locations at volume {volume}: {sales} sales, {lines} lines (busiest location-day {max_day_lines} lines) in {:.3} s",
        store.catalog.locations.len(),
        k_elapsed.as_secs_f64()
    );
    println!(
        "X-Series: {} sales, {} products in {:.3} s",
        x.sales.len(),
        x.products.len(),
        x_elapsed.as_secs_f64()
    );
}
