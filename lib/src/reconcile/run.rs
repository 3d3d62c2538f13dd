//! A reconciliation run: locations × business dates of one company, each day's report
//! stored and its alerts raised or resolved, plus the company's standing exceptions
//! (catalogue, migrations, dead letters) that no single day owns.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::day::{self, DayContext};
use super::erp_readback::ErpReader;
use super::report::{self, DayReport, DayStatus, Exception};
use crate::alerts::{self, Alert, AlertStatus};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::items::sync::{MAPPED_ITEM_RENAMED, ORPHANED_MAPPING};
use crate::location::Location;

/// Exceptions a company carries whatever the day: reported with every run.
pub const COMPANY_CODES: [&str; 4] = [
    ORPHANED_MAPPING,
    MAPPED_ITEM_RENAMED,
    "stuck_migration",
    "dlq_not_empty",
];

/// How long a decided (not pending) day's report stands before the schedule checks it again.
const RECHECK_HOURS: i64 = 12;

/// The widest range one run reconciles (a month of closings).
pub const MAX_DAYS: i64 = 31;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    pub reconciled: usize,
    pub exceptions: usize,
    pub pending: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CompanyRun {
    pub company_id: String,
    pub summary: RunSummary,
    pub reports: Vec<DayReport>,
    /// Open exceptions that belong to the company rather than one day.
    pub company_exceptions: Vec<Exception>,
}

/// Whether a location is reconciled: it issues stock into a storage unit (days are
/// transferred into its ledger, automatically once activated or by hand before).
pub fn reconciles(location: &Location) -> bool {
    location.storage_unit_id.is_some() && !location.missing_upstream
}

fn as_exception(alert: &Alert) -> Exception {
    Exception {
        code: alert.code.clone(),
        subject: alert.subject.clone(),
        message: alert.message.clone(),
        differences: Vec::new(),
    }
}

/// Reconciles `locations` over `from..=to` for one company.
pub async fn run_company(
    deps: &Deps,
    company_id: &str,
    locations: &[Location],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<CompanyRun, AppError> {
    let store = deps.store.as_ref();
    let journals_expected = crate::erp::connection::get(store, company_id)
        .await?
        .is_some();
    let mut ctx = DayContext {
        store,
        lightspeed: &deps.lightspeed,
        sales: deps.sales.as_ref(),
        erp: ErpReader::new(
            store,
            deps.erp.as_ref(),
            deps.secrets.as_ref(),
            &deps.config.secret_prefix,
        ),
        journals_expected,
        catalogues: Default::default(),
    };
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let open = alerts::list_all(store, company_id, AlertStatus::Open, usize::MAX).await?;
    let mut run = CompanyRun {
        company_id: company_id.to_string(),
        summary: RunSummary::default(),
        reports: Vec::new(),
        company_exceptions: open
            .iter()
            .filter(|a| COMPANY_CODES.contains(&a.code.as_str()))
            .map(as_exception)
            .collect(),
    };
    for location in locations {
        let mut date = from;
        while date <= to {
            let mut found = day::reconcile_day(&mut ctx, location, date, now).await?;
            add_open_day_alerts(&mut found, &open);
            let previous = report::get(
                store,
                company_id,
                &location.location_id,
                &found.business_date,
            )
            .await?;
            settle_alerts(deps, &found, previous.as_ref(), &at).await?;
            report::save(store, &found).await?;
            crate::metrics::reconciliation_exceptions(
                found.exceptions.len(),
                company_id,
                &found.location_id,
                &found.business_date,
            );
            match found.status {
                DayStatus::Reconciled => run.summary.reconciled += 1,
                DayStatus::Exceptions => run.summary.exceptions += 1,
                DayStatus::Pending => run.summary.pending += 1,
            }
            run.reports.push(found);
            date = date.succ_opt().unwrap_or(date);
            if date == NaiveDate::MAX {
                break;
            }
        }
    }
    let exceptions: usize = run.reports.iter().map(|r| r.exceptions.len()).sum();
    tracing::info!(
        company_id,
        days = run.reports.len(),
        reconciled = run.summary.reconciled,
        with_exceptions = run.summary.exceptions,
        pending = run.summary.pending,
        exceptions,
        company_exceptions = run.company_exceptions.len(),
        "reconciliation done"
    );
    Ok(run)
}

/// Alerts other parts raised for this very day (a rounding line above the threshold, a
/// transfer that failed for good) are the day's exceptions too.
fn add_open_day_alerts(found: &mut DayReport, open: &[Alert]) {
    let subject = day::subject(&found.location_id, &found.business_date);
    let listed: BTreeSet<(String, String)> = found
        .exceptions
        .iter()
        .map(|e| (e.code.clone(), e.subject.clone()))
        .collect();
    // Alerts of the codes this run decides were read before it decided them.
    let decided = |code: &str| day::DAY_CODES.iter().any(|c| c.as_str() == code);
    for alert in open
        .iter()
        .filter(|a| a.subject == subject && !decided(&a.code))
    {
        if !listed.contains(&(alert.code.clone(), alert.subject.clone())) {
            found.exceptions.push(as_exception(alert));
        }
    }
    if !found.exceptions.is_empty() {
        found.status = DayStatus::Exceptions;
    }
}

/// Raises each exception this run decides; resolves those a previous run of the same day
/// found and this one no longer does. A day still pending resolves nothing (it was not
/// fully checked).
async fn settle_alerts(
    deps: &Deps,
    found: &DayReport,
    previous: Option<&DayReport>,
    at: &str,
) -> Result<(), AppError> {
    let store = deps.store.as_ref();
    let company = &found.company_id;
    let decided: BTreeSet<&str> = day::DAY_CODES
        .iter()
        .map(|c| c.as_str())
        .chain([ErrorCode::UnmappedItem.as_str()])
        .collect();
    let mut now_found: BTreeMap<(&str, &str), &Exception> = BTreeMap::new();
    for exception in &found.exceptions {
        if decided.contains(exception.code.as_str()) {
            now_found.insert(
                (exception.code.as_str(), exception.subject.as_str()),
                exception,
            );
        }
    }
    for ((code, subject), exception) in &now_found {
        alerts::raise(store, company, code, subject, &exception.message, at).await?;
    }
    if found.pending_reason.is_some() {
        return Ok(());
    }
    let day_subject = day::subject(&found.location_id, &found.business_date);
    let mut candidates: BTreeSet<(String, String)> = day::DAY_CODES
        .iter()
        .map(|c| (c.as_str().to_string(), day_subject.clone()))
        .collect();
    for exception in previous
        .map(|p| p.exceptions.as_slice())
        .unwrap_or_default()
    {
        if exception.code == ErrorCode::UnmappedItem.as_str() {
            candidates.insert((exception.code.clone(), exception.subject.clone()));
        }
    }
    for (code, subject) in &candidates {
        if now_found.contains_key(&(code.as_str(), subject.as_str())) {
            continue;
        }
        alerts::resolve(store, company, code, subject, at).await?;
    }
    Ok(())
}

/// The daily schedule: every automatically transferred location's last closed business
/// day (its own time zone and cutoff), company by company. One company's failure is
/// logged and does not stop the others.
pub async fn last_closed_days(deps: &Deps, now: DateTime<Utc>) -> Result<RunSummary, AppError> {
    use crate::store::{from_item, query_all, Index, Query};
    let store = deps.store.as_ref();
    let index = Query::partition(crate::fanout::FANOUT_PARTITION).on(Index::Gsi1);
    let mut by_company: BTreeMap<String, Vec<Location>> = BTreeMap::new();
    for item in query_all(store, index).await? {
        match from_item::<Location>(item) {
            Ok(location) if reconciles(&location) => by_company
                .entry(location.company_id.clone())
                .or_default()
                .push(location),
            Ok(_) => {}
            Err(err) => {
                tracing::error!(error = %err, "fan-out index item is not a location; skipped")
            }
        }
    }
    let mut total = RunSummary::default();
    for (company_id, locations) in by_company {
        for location in locations {
            let today = crate::location::business_day::business_date(location.day_mode(), now);
            let Some(yesterday) = today.pred_opt() else {
                continue;
            };
            // The schedule runs every few minutes: a day checked lately is left alone
            // until the next day, a pending one is tried again.
            let date = yesterday.to_string();
            let recent = report::get(store, &company_id, &location.location_id, &date)
                .await?
                .filter(|r| r.status != DayStatus::Pending)
                .and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.checked_at).ok())
                .is_some_and(|at| {
                    now - at.with_timezone(&Utc) < chrono::Duration::hours(RECHECK_HOURS)
                });
            if recent {
                continue;
            }
            match run_company(
                deps,
                &company_id,
                std::slice::from_ref(&location),
                yesterday,
                yesterday,
                now,
            )
            .await
            {
                Ok(run) => {
                    total.reconciled += run.summary.reconciled;
                    total.exceptions += run.summary.exceptions;
                    total.pending += run.summary.pending;
                }
                Err(err) => tracing::error!(
                    company_id, location_id = %location.location_id, code = %err.code,
                    message = %err.message, "reconciliation of a location failed"
                ),
            }
        }
    }
    Ok(total)
}
