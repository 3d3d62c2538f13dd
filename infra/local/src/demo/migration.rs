//! Step: follow every location's 90-day migration, with a live progress bar per location
//! on a terminal and a line per quarter of progress in a log.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::{step, Demo};
use crate::Error;

/// Longest the demo waits for the migrations.
const DEADLINE: Duration = Duration::from_secs(900);

pub async fn follow(demo: &Demo, locations: &[Value]) -> Result<(), Error> {
    step("90-day migration of every location (migration workers, one business day per message)");
    let started = Instant::now();
    let bars = Bars::new(locations);
    let jobs = loop {
        let jobs = latest_jobs(demo, locations).await?;
        bars.show(&jobs);
        let open = jobs
            .iter()
            .any(|j| matches!(j["status"].as_str(), Some("pending") | Some("running")));
        if !open || started.elapsed() > DEADLINE {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bars.finish();
    for (location, job) in locations.iter().zip(&jobs) {
        println!(
            "    {:<28} {} → {}: {}, {} days processed, {} skipped, {} failed",
            location["name"].as_str().unwrap_or("?"),
            job["start_date"].as_str().unwrap_or("?"),
            job["end_date"].as_str().unwrap_or("?"),
            job["status"].as_str().unwrap_or("none"),
            job["days_processed"],
            job["days_skipped"],
            job["days_failed"]
        );
    }
    println!(
        "    migration wall time {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Each location's newest migration job.
async fn latest_jobs(demo: &Demo, locations: &[Value]) -> Result<Vec<Value>, Error> {
    let mut jobs = Vec::with_capacity(locations.len());
    for location in locations {
        let id = location["location_id"].as_str().unwrap_or_default();
        let (_, body) = demo
            .api
            .get(&format!(
                "{}/locations/{id}/migrations?limit=1",
                demo.company
            ))
            .await?;
        jobs.push(body["items"][0].clone());
    }
    Ok(jobs)
}

fn percent(job: &Value) -> u64 {
    job["progress_percent"].as_u64().unwrap_or(0).min(100)
}

/// One bar per location on a terminal; otherwise a plain line whenever a location passes
/// a quarter, so logs stay short.
struct Bars {
    // Owns the drawing of the bars.
    _multi: MultiProgress,
    bars: Vec<ProgressBar>,
    names: Vec<String>,
    terminal: bool,
    last_quarters: std::cell::RefCell<Vec<u64>>,
}

impl Bars {
    fn new(locations: &[Value]) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let multi = MultiProgress::with_draw_target(if terminal {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = ProgressStyle::with_template("    {prefix:<16} [{bar:30}] {pos:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>.");
        let names: Vec<String> = locations
            .iter()
            .map(|l| {
                l["name"]
                    .as_str()
                    .unwrap_or("?")
                    .trim_start_matches("Copper Pot – ")
                    .to_string()
            })
            .collect();
        let bars = names
            .iter()
            .map(|name| {
                let bar = multi.add(ProgressBar::new(100));
                bar.set_style(style.clone());
                bar.set_prefix(name.clone());
                bar
            })
            .collect();
        Self {
            _multi: multi,
            bars,
            names,
            terminal,
            last_quarters: Default::default(),
        }
    }

    fn show(&self, jobs: &[Value]) {
        for (bar, job) in self.bars.iter().zip(jobs) {
            bar.set_position(percent(job));
            bar.set_message(job["status"].as_str().unwrap_or("none").to_string());
        }
        if self.terminal {
            return;
        }
        let quarters: Vec<u64> = jobs.iter().map(|j| percent(j) / 25).collect();
        if *self.last_quarters.borrow() != quarters {
            let line: Vec<String> = self
                .names
                .iter()
                .zip(jobs)
                .map(|(name, job)| format!("{name} {:>3}%", percent(job)))
                .collect();
            println!("    {}", line.join("  "));
            *self.last_quarters.borrow_mut() = quarters;
        }
    }

    fn finish(&self) {
        // Finished bars stay on screen above the per-location lines.
        for bar in &self.bars {
            bar.finish();
        }
    }
}
