//! Reconciliation (SPEC C10): run it on demand for a date or a range, list the stored day
//! reports, and the KPIs finance watches.

use std::collections::BTreeMap;

use lambda_http::{Body, Response};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use tillbridge::alerts::{self, AlertStatus};
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::location::record as location_record;
use tillbridge::location::Location;
use tillbridge::money::{Money, Quantity};
use tillbridge::reconcile::report::{self, DayReport, DayStatus};
use tillbridge::reconcile::run::{self, MAX_DAYS};
use utoipa::IntoParams;

use super::journals::{date_param, date_range};
use crate::openapi::schemas as doc;
use crate::pagination;

/// The widest range listed or counted at once (a year of days per location).
const MAX_LIST_DAYS: i64 = 366;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReconciliationInput)]
pub struct RunInput {
    /// The business date, or the first of a range
    #[schema(value_type = doc::BusinessDate)]
    from: String,
    /// The last business date (`from` alone otherwise); at most 31 days in all
    #[schema(value_type = Option<doc::BusinessDate>)]
    to: Option<String>,
    /// One location (every reconciled location otherwise)
    #[schema(value_type = Option<doc::PathId>)]
    location_id: Option<String>,
}

async fn locations(
    deps: &Deps,
    company_id: &str,
    location_id: Option<&str>,
) -> Result<Vec<Location>, AppError> {
    let store = deps.store.as_ref();
    Ok(match location_id {
        Some(id) => vec![location_record::get(store, company_id, id).await?],
        None => location_record::list_all(store, company_id)
            .await?
            .into_iter()
            .filter(run::reconciles)
            .collect(),
    })
}

/// Runs the reconciliation now and answers every day's report.
pub async fn run(
    deps: &Deps,
    input: RunInput,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let from = date_param("from", Some(&input.from))?;
    let to = match &input.to {
        Some(to) => date_param("to", Some(to))?,
        None => from,
    };
    date_range(from, to, MAX_DAYS)?;
    let locations = locations(deps, company_id, input.location_id.as_deref()).await?;
    if let Some(location) = locations.iter().find(|l| !run::reconciles(l)) {
        return Err(AppError::new(
            ErrorCode::StorageUnitRequired,
            format!(
                "location `{}` has no storage unit, so no ledger to reconcile; link one first",
                location.location_id
            ),
        ));
    }
    let done = run::run_company(deps, company_id, &locations, from, to, chrono::Utc::now()).await?;
    Ok(envelope::json(200, &done))
}

/// `from` and `to` (required), `location_id` and `status` (optional).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilters {
    /// First business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub from: Option<String>,
    /// Last business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub to: Option<String>,
    /// One location (all otherwise)
    #[param(value_type = Option<doc::PathId>)]
    pub location_id: Option<String>,
    /// Only days in this status
    #[param(value_type = Option<doc::DayStatusFilter>)]
    pub status: Option<String>,
}

async fn stored(
    deps: &Deps,
    company_id: &str,
    from: Option<&str>,
    to: Option<&str>,
    location_id: Option<&str>,
) -> Result<Vec<DayReport>, AppError> {
    let from = date_param("from", from)?;
    let to = date_param("to", to)?;
    date_range(from, to, MAX_LIST_DAYS)?;
    let store = deps.store.as_ref();
    let mut out = Vec::new();
    for location in locations(deps, company_id, location_id).await? {
        let (f, t) = (from.to_string(), to.to_string());
        out.extend(report::in_range(store, company_id, &location.location_id, &f, &t).await?);
    }
    Ok(out)
}

pub async fn list(
    deps: &Deps,
    filters: ReportFilters,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let status = match filters.status.as_deref() {
        None => None,
        Some("reconciled") => Some(DayStatus::Reconciled),
        Some("exceptions") => Some(DayStatus::Exceptions),
        Some("pending") => Some(DayStatus::Pending),
        Some(other) => {
            return Err(AppError::validation(format!(
                "`status` must be `reconciled`, `exceptions` or `pending`, not `{other}`"
            )))
        }
    };
    let reports = stored(
        deps,
        company_id,
        filters.from.as_deref(),
        filters.to.as_deref(),
        filters.location_id.as_deref(),
    )
    .await?;
    let items: Vec<DayReport> = reports
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .collect();
    Ok(pagination::reply(items, None))
}

/// `from` and `to` (required): the business dates whose reports are counted.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiRange {
    /// First business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub from: Option<String>,
    /// Last business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub to: Option<String>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Kpis {
    /// Days reconciled (status `reconciled`) and days with a stored report.
    pub days_reconciled: usize,
    pub days_total: usize,
    /// Location → the days with `unreconciled_sales`, the sales and refunds that differ
    /// and the gross amount they differ by (absolute sums, in the location's currency).
    pub unreconciled_sales: BTreeMap<String, Unreconciled>,
    /// Location → ingredient → quantity implied by the mappings but not issued.
    #[schema(value_type = BTreeMap<String, BTreeMap<String, String>>)]
    pub inventory_variance: BTreeMap<String, BTreeMap<String, Quantity>>,
    /// Open alerts by code.
    pub open_alerts: BTreeMap<String, usize>,
    /// The company's resolved alerts (the newest 10,000): how many, and the mean and 90th
    /// percentile of the seconds from first seen to resolved.
    pub resolved_alerts: usize,
    pub mean_seconds_to_resolution: Option<i64>,
    pub p90_seconds_to_resolution: Option<i64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Unreconciled {
    pub days: usize,
    pub sales: u64,
    #[schema(value_type = String)]
    pub amount: Money,
}

fn absolute(text: &str) -> Option<rust_decimal::Decimal> {
    text.parse::<rust_decimal::Decimal>().ok().map(|d| d.abs())
}

fn add_report(kpis: &mut Kpis, report: &DayReport) -> Option<()> {
    kpis.days_total += 1;
    if report.status == DayStatus::Reconciled {
        kpis.days_reconciled += 1;
    }
    let code = ErrorCode::UnreconciledSales.as_str();
    for exception in report.exceptions.iter().filter(|e| e.code == code) {
        let figures = kpis
            .unreconciled_sales
            .entry(report.location_id.clone())
            .or_default();
        figures.days += 1;
        for difference in &exception.differences {
            let delta = absolute(&difference.difference)?;
            match difference.figure.as_str() {
                "sales" | "refunds" => {
                    figures.sales = figures.sales.checked_add(delta.to_u64()?)?;
                }
                "gross" => figures.amount = figures.amount.checked_add(Money(delta))?,
                _ => {}
            }
        }
    }
    if !report.ledger_variance.is_empty() {
        let by_ingredient = kpis
            .inventory_variance
            .entry(report.location_id.clone())
            .or_default();
        for (ingredient, quantity) in &report.ledger_variance {
            let sum = by_ingredient.entry(ingredient.clone()).or_default();
            *sum = sum.checked_add(*quantity)?;
        }
    }
    Some(())
}

/// Seconds from first seen to resolved, sorted.
fn resolution_seconds(resolved: &[alerts::Alert]) -> Vec<i64> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let mut out: Vec<i64> = resolved
        .iter()
        .filter_map(|a| {
            let done = parse(a.resolved_at.as_deref()?)?;
            Some((done - parse(&a.first_seen)?).num_seconds())
        })
        .collect();
    out.sort_unstable();
    out
}

/// The 90th percentile by nearest rank.
fn p90(sorted: &[i64]) -> Option<i64> {
    let rank = (sorted.len() * 9).div_ceil(10);
    sorted.get(rank.checked_sub(1)?).copied()
}

/// Most resolved alerts read for the resolution times (newest first).
const MAX_RESOLVED: usize = 10_000;

pub async fn kpis(deps: &Deps, q: KpiRange, company_id: &str) -> Result<Response<Body>, AppError> {
    let reports = stored(deps, company_id, q.from.as_deref(), q.to.as_deref(), None).await?;
    let mut kpis = Kpis::default();
    for report in &reports {
        add_report(&mut kpis, report).ok_or_else(|| {
            AppError::new(
                ErrorCode::ValueOutOfRange,
                "the KPIs' sums are beyond the exact decimal range",
            )
        })?;
    }
    let store = deps.store.as_ref();
    for status in [AlertStatus::Open, AlertStatus::Resolved] {
        let seen = alerts::list_all(store, company_id, status, MAX_RESOLVED).await?;
        if status == AlertStatus::Open {
            for alert in &seen {
                *kpis.open_alerts.entry(alert.code.clone()).or_default() += 1;
            }
        } else {
            let seconds = resolution_seconds(&seen);
            kpis.resolved_alerts = seconds.len();
            let total: i64 = seconds.iter().sum();
            kpis.mean_seconds_to_resolution = i64::try_from(seconds.len())
                .ok()
                .filter(|n| *n > 0)
                .map(|n| total / n);
            kpis.p90_seconds_to_resolution = p90(&seconds);
        }
    }
    Ok(envelope::json(200, &kpis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_is_the_nearest_rank() {
        assert_eq!(p90(&[]), None);
        assert_eq!(p90(&[7]), Some(7));
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(p90(&ten), Some(9));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(p90(&eleven), Some(10));
    }
}
