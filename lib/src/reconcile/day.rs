//! Reconciling one location and business date: Lightspeed's own figures against the cached
//! sales, the ledger against what the mappings imply, and the journal against the ERP.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::compare::{self, Difference};
use super::erp_readback::{ErpReader, Held};
use super::report::{DayReport, DayStatus, Exception, JournalCheck};
use crate::connection::PosProduct;
use crate::error::{AppError, ErrorCode};
use crate::items::record::PosItem;
use crate::journal::record::{self as journal_record, JournalRecord, JournalStatus};
use crate::ledger::derive::{derive, Catalogue, DayInput, Derived, Prior};
use crate::lightspeed::client::Connection;
use crate::lightspeed::LightspeedClient;
use crate::location::business_day::{self, Window};
use crate::location::record::JournalPeriod;
use crate::location::Location;
use crate::money::{OutOfRange, Quantity};
use crate::sales::canonical::totals;
use crate::sales::xseries::ON_ACCOUNT;
use crate::sales::{kseries, CanonicalSale, DayTotals};
use crate::store::ItemStore;
use crate::transfer::cache::{self, CachedDay, DayState};
use crate::transfer::engine::{self, Failure};
use crate::transfer::source::SalesSource;

/// The codes a day's reconciliation decides itself (raised when found, resolved when a
/// later run of the day finds them gone). Journal errors recorded by the poster are
/// reported too, but the poster raises and resolves their alerts.
pub const DAY_CODES: [ErrorCode; 3] = [
    ErrorCode::UnreconciledSales,
    ErrorCode::JournalMissing,
    ErrorCode::JournalOutOfBalance,
];

pub struct DayContext<'a> {
    pub store: &'a dyn ItemStore,
    pub lightspeed: &'a LightspeedClient,
    pub sales: &'a dyn SalesSource,
    pub erp: ErpReader<'a>,
    /// Whether the company posts journals (an ERP is connected).
    pub journals_expected: bool,
    /// Each location's catalogue, read once per run: every day of the run derives under it.
    pub catalogues: HashMap<String, Arc<LoadedCatalogue>>,
}

/// What the derivation needs of the catalogue, and the location's items by id.
pub type LoadedCatalogue = (Catalogue, HashMap<String, PosItem>);

impl DayContext<'_> {
    async fn catalogue(&mut self, location: &Location) -> Result<Arc<LoadedCatalogue>, AppError> {
        if let Some(found) = self.catalogues.get(&location.location_id) {
            return Ok(found.clone());
        }
        let loaded = engine::load_catalogue(self.store, &location.company_id, location)
            .await
            .map_err(failure)?;
        let loaded = Arc::new(loaded);
        self.catalogues
            .insert(location.location_id.clone(), loaded.clone());
        Ok(loaded)
    }
}

/// The alert subject of a location-day (the same the journal poster uses).
pub fn subject(location_id: &str, date: &str) -> String {
    format!("{location_id}:{date}")
}

/// Lightspeed's sales for the day, or why they cannot be read now.
enum PosDay {
    Figures {
        sales: Vec<CanonicalSale>,
        basis: &'static str,
    },
    Pending(String),
}

fn failure(err: Failure) -> AppError {
    match err {
        Failure::Final(err) | Failure::Infrastructure(err) => err,
        Failure::Lightspeed(err) => AppError::new(ErrorCode::LightspeedApiError, err.to_string()),
    }
}

async fn pos_day(
    ctx: &DayContext<'_>,
    location: &Location,
    date: NaiveDate,
    window: &Window,
) -> Result<PosDay, AppError> {
    let unavailable = |err: crate::lightspeed::LightspeedError| {
        PosDay::Pending(format!("Lightspeed could not be read: {err}"))
    };
    match location.product {
        PosProduct::KSeries => {
            let connection = Connection {
                company_id: location.company_id.clone(),
                product: location.product,
                domain_prefix: None,
            };
            let daily = match kseries::fetch_daily(
                ctx.lightspeed,
                &connection,
                &location.location_id,
                date,
            )
            .await
            {
                Ok(daily) => daily,
                Err(err) => return Ok(unavailable(err)),
            };
            if !daily.complete {
                return Ok(PosDay::Pending(
                    "Lightspeed says the day's data is not complete yet".into(),
                ));
            }
            // Lightspeed's day and ours agree when its next day starts where ours ends;
            // otherwise (another cutoff configured here) its sales are read for our window.
            if daily.next_start == Some(window.end) {
                let sales = daily.day.sales;
                return Ok(PosDay::Figures {
                    sales: sales
                        .into_iter()
                        .filter(|s| window.contains(s.closed_at))
                        .collect(),
                    basis: "sales_daily",
                });
            }
            match ctx.sales.fetch_day(location, window).await {
                Ok(day) => Ok(PosDay::Figures {
                    sales: day.sales,
                    basis: "sales",
                }),
                Err(err) => Ok(unavailable(err)),
            }
        }
        PosProduct::XSeries => match ctx.sales.fetch_day(location, window).await {
            Ok(day) => Ok(PosDay::Figures {
                sales: day.sales,
                basis: "sales_feed",
            }),
            Err(err) => Ok(unavailable(err)),
        },
        PosProduct::Csv => Ok(PosDay::Figures {
            sales: crate::imports::sales::day(
                ctx.store,
                &location.company_id,
                &location.location_id,
                window,
            )
            .await?,
            basis: "import",
        }),
    }
}

/// The sales closed in the day as they stood at its end: a payment made later (an
/// on-account sale settled on another day) was still owed then, so it counts as
/// [`ON_ACCOUNT`] — as the day's journal books it — and a later payment changes nothing.
fn closed_in(window: &Window, sales: &[CanonicalSale]) -> Vec<CanonicalSale> {
    sales
        .iter()
        .filter(|s| window.contains(s.closed_at))
        .map(|sale| {
            let mut sale = sale.clone();
            for payment in &mut sale.payments {
                if payment.paid_at.is_some_and(|at| at >= window.end) {
                    payment.method = ON_ACCOUNT.to_string();
                }
            }
            sale
        })
        .collect()
}

fn state_date(state: &DayState) -> Result<NaiveDate, AppError> {
    crate::ids::strict_date(&state.business_date).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidDateFormat,
            format!("day state with date `{}`", state.business_date),
        )
    })
}

/// What a transfer run now would post: the cached sales derived again under today's
/// mappings against the entries already in the ledger.
async fn replay_ledger(
    store: &dyn ItemStore,
    (catalogue, items): &LoadedCatalogue,
    location: &Location,
    state: &DayState,
    cached: &CachedDay,
    now: &str,
) -> Result<Option<Derived>, AppError> {
    let Some(storage_unit_id) = state.storage_unit_id.as_deref() else {
        return Ok(None);
    };
    let (company, location_id, date) = (
        location.company_id.as_str(),
        location.location_id.as_str(),
        state.business_date.as_str(),
    );
    let window = business_day::window(location.day_mode(), state_date(state)?);
    let mut sales = closed_in(&window, &cached.sales);
    engine::name_lines_from_catalogue(&mut sales, items);
    let posted = engine::posted_entries(store, company, location_id, storage_unit_id, date)
        .await
        .map_err(failure)?;
    let prior = Prior {
        lines: cached.lines.to_states(),
        revisions: state.revisions.clone(),
    };
    Ok(Some(derive(&DayInput {
        company_id: company,
        storage_unit_id,
        location_id,
        business_date: date,
        sales: &sales,
        catalogue,
        posted: &posted,
        prior: &prior,
        transfer_log_id: "reconciliation",
        request_uuid: "reconciliation",
        now,
    })))
}

/// Ingredient → quantity still to issue (what the mappings imply less what was issued).
fn variance(derived: &Derived) -> BTreeMap<String, Quantity> {
    let mut out: BTreeMap<String, Quantity> = BTreeMap::new();
    for entry in &derived.new_entries {
        let sum = out.entry(entry.ingredient_id.clone()).or_default();
        *sum = sum.checked_add(entry.quantity).unwrap_or(*sum);
    }
    out.retain(|_, q| !q.is_zero());
    out
}

/// Sales and refunds.
fn counted(totals: &DayTotals) -> u64 {
    u64::try_from(totals.sale_count + totals.refund_count).unwrap_or(u64::MAX)
}

fn unreconciled(location: &Location, date: &str, differences: Vec<Difference>) -> Exception {
    let figures: Vec<String> = differences
        .iter()
        .take(4)
        .map(|d| {
            format!(
                "{} {} (Lightspeed {}, cached {})",
                d.figure, d.difference, d.pos, d.cached
            )
        })
        .collect();
    let mut found = exception(
        ErrorCode::UnreconciledSales,
        subject(&location.location_id, date),
        format!(
            "{} on {date}: Lightspeed's sales differ from the ledger's copy: {}; transfer the day again to take them in",
            location.name,
            figures.join(", ")
        ),
    );
    found.differences = differences;
    found
}

/// One `unmapped_item` per POS name sold and mapped to nothing, largest quantity first.
fn unmapped(location: &Location, date: &str, derived: &Derived) -> Vec<Exception> {
    derived
        .stats
        .unmapped_ranked()
        .into_iter()
        .map(|(name, quantity)| {
            // POS names are outside text: bound the alert key.
            let name: String = name.chars().take(200).collect();
            exception(
                ErrorCode::UnmappedItem,
                name.clone(),
                format!(
                    "`{name}` sold {quantity} at {} on {date} and is mapped to nothing; map it, then transfer the day again",
                    location.name
                ),
            )
        })
        .collect()
}

fn exception(code: ErrorCode, subject: String, message: String) -> Exception {
    Exception {
        code: code.as_str().to_string(),
        subject,
        message,
        differences: Vec::new(),
    }
}

/// Reconciles one location-day; the caller stores the report and settles the alerts.
pub async fn reconcile_day(
    ctx: &mut DayContext<'_>,
    location: &Location,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayReport, AppError> {
    let window = business_day::window(location.day_mode(), date);
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let date_text = date.to_string();
    let day_subject = subject(&location.location_id, &date_text);
    let mut report = DayReport {
        company_id: location.company_id.clone(),
        location_id: location.location_id.clone(),
        business_date: date_text.clone(),
        status: DayStatus::Pending,
        pending_reason: None,
        basis: String::new(),
        pos_sales: 0,
        cached_sales: 0,
        ledger_variance: BTreeMap::new(),
        journal: None,
        exceptions: Vec::new(),
        checked_at: at.clone(),
    };
    if now < window.end {
        report.pending_reason = Some(format!("the business day ends at {}", window.end));
        return Ok(report);
    }
    let store = ctx.store;
    let state = cache::load_state(
        store,
        &location.company_id,
        &location.location_id,
        &date_text,
    )
    .await?;
    let cached = match &state {
        Some(state) => cache::load(store, state).await?,
        None => None,
    };
    // Only sales closed in the day count; a day's cache and the X-Series mirror also hold
    // earlier days' on-account sales paid in it (settlements, for the journal).
    // Both sides name their lines from the catalogue, as the transfer did before caching
    // (X-Series lines carry only the product id on the wire).
    let catalogue = ctx.catalogue(location).await?;
    let items = &catalogue.1;
    let mut cached_sales = closed_in(&window, cached.as_ref().map_or(&[], |c| c.sales.as_slice()));
    engine::name_lines_from_catalogue(&mut cached_sales, items);
    let ours =
        totals(&cached_sales).ok_or_else(|| OutOfRange::computing("the cached day's totals"))?;
    report.cached_sales = counted(&ours);
    // 1. Lightspeed against the cached copy.
    match pos_day(ctx, location, date, &window).await? {
        PosDay::Pending(reason) => report.pending_reason = Some(reason),
        PosDay::Figures { sales, basis } => {
            report.basis = basis.to_string();
            let mut sales = closed_in(&window, &sales);
            engine::name_lines_from_catalogue(&mut sales, items);
            let pos =
                totals(&sales).ok_or_else(|| OutOfRange::computing("Lightspeed's day totals"))?;
            report.pos_sales = counted(&pos);
            let differences = compare::differences(&pos, &ours)?;
            if !differences.is_empty() {
                report
                    .exceptions
                    .push(unreconciled(location, &date_text, differences));
            }
        }
    }
    // 2. The ledger against what today's mappings imply of the cached sales.
    if let (Some(state), Some(cached)) = (&state, &cached) {
        if let Some(derived) =
            replay_ledger(store, &catalogue, location, state, cached, &at).await?
        {
            report.ledger_variance = variance(&derived);
            report
                .exceptions
                .extend(unmapped(location, &date_text, &derived));
        }
    }
    // 3. The journal against the ERP.
    if ctx.journals_expected && report.cached_sales > 0 {
        check_journal(ctx, location, &date_text, &day_subject, &mut report).await?;
    }

    report.status = if !report.exceptions.is_empty() {
        DayStatus::Exceptions
    } else if report.pending_reason.is_some() {
        DayStatus::Pending
    } else {
        DayStatus::Reconciled
    };
    Ok(report)
}

/// The latest journal revision that stands (reversed and superseded ones were replaced).
fn standing(revisions: Vec<JournalRecord>) -> Option<JournalRecord> {
    revisions.into_iter().rev().find(|r| {
        !matches!(
            r.status,
            JournalStatus::Reversed | JournalStatus::Superseded
        )
    })
}

/// The day's journal, or for an outlet that journals per register closure the journal of
/// each closure that closed in the day (none closed yet: pending, not missing).
async fn check_journal(
    ctx: &mut DayContext<'_>,
    location: &Location,
    date: &str,
    day_subject: &str,
    report: &mut DayReport,
) -> Result<(), AppError> {
    if location.journal_per != JournalPeriod::RegisterClosure {
        return check_period(ctx, location, date, date, day_subject, report).await;
    }
    let Some(day) = crate::ids::strict_date(date) else {
        return Ok(());
    };
    let window = crate::location::business_day::window(location.day_mode(), day);
    let closures = crate::webhook::closures::closed_in(
        ctx.store,
        &location.company_id,
        &location.location_id,
        &window,
    )
    .await?;
    if closures.is_empty() {
        // A day journalled whole before the outlet moved to closures keeps its day journal.
        let day_journal =
            journal_record::revisions(ctx.store, &location.company_id, &location.location_id, date)
                .await?;
        if standing(day_journal).is_some() {
            return check_period(ctx, location, date, date, day_subject, report).await;
        }
        report.pending_reason = Some(format!(
            "{} journals per register closure and no register has closed in {date} yet",
            location.name
        ));
        return Ok(());
    }
    for closure in closures {
        let period = journal_record::period(date, Some(&closure.closure_id));
        check_period(ctx, location, &period, date, day_subject, report).await?;
    }
    Ok(())
}

/// One journal period's standing revision, as posted and as the ERP holds it.
async fn check_period(
    ctx: &mut DayContext<'_>,
    location: &Location,
    period: &str,
    date: &str,
    day_subject: &str,
    report: &mut DayReport,
) -> Result<(), AppError> {
    let revisions = journal_record::revisions(
        ctx.store,
        &location.company_id,
        &location.location_id,
        period,
    )
    .await?;
    let Some(record) = standing(revisions) else {
        let what = match period.split_once('~') {
            Some((_, closure)) => format!("no journal of register closure {closure}"),
            None => "no journal".to_string(),
        };
        report.exceptions.push(exception(
            ErrorCode::JournalMissing,
            day_subject.to_string(),
            format!(
                "{} on {date} has {} sales in the ledger but {what}; post it with POST /journals/repost",
                location.name, report.cached_sales
            ),
        ));
        return Ok(());
    };
    report.journal = Some(JournalCheck {
        reference: record.reference.clone(),
        status: serde_json::to_value(record.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        erp_move_id: record.erp.move_id,
    });
    match record.status {
        JournalStatus::Posted | JournalStatus::DateMoved => {}
        JournalStatus::Pending => {
            report.pending_reason = Some(format!("journal {} is being posted", record.reference));
            return Ok(());
        }
        _ => {
            if let Some(error) = &record.error {
                report.exceptions.push(Exception {
                    code: error.code.clone(),
                    subject: day_subject.to_string(),
                    message: error.message.clone(),
                    differences: Vec::new(),
                });
            }
            return Ok(());
        }
    }
    match ctx.erp.check(&record).await {
        Ok(Held::Matches) => {}
        Ok(Held::Missing) => report.exceptions.push(exception(
            ErrorCode::JournalMissing,
            day_subject.to_string(),
            format!(
                "journal {} (ERP move {}) is no longer posted in the ERP; post it again with POST /journals/repost",
                record.reference,
                record.erp.move_id.map(|id| id.to_string()).unwrap_or_else(|| "?".into())
            ),
        )),
        Ok(Held::Differs(what)) => report.exceptions.push(exception(
            ErrorCode::JournalOutOfBalance,
            day_subject.to_string(),
            format!("journal {} in the ERP differs from what was posted: {what}", record.reference),
        )),
        Err(err) => {
            report.pending_reason = Some(format!("the ERP could not be read back: {}", err.message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::business_day::DayMode;
    use crate::mapping::matching::LineItemRef;
    use crate::money::Money;
    use crate::sales::canonical::totals;
    use crate::sales::{CanonicalLine, CanonicalPayment, SaleKind};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn payment(method: &str, amount: &str, paid_at: Option<&str>) -> CanonicalPayment {
        CanonicalPayment {
            method: method.into(),
            description: None,
            amount: amount.parse().unwrap(),
            tip: Money::ZERO,
            rounding: Money::ZERO,
            paid_at: paid_at.map(at),
        }
    }

    fn on_account_sale(payments: Vec<CanonicalPayment>) -> CanonicalSale {
        CanonicalSale {
            sale_id: "s1".into(),
            receipt: None,
            kind: SaleKind::Sale,
            closed_at: at("2026-11-30T12:00:00Z"),
            original_sale_id: None,
            currency: Some("NZD".into()),
            lines: vec![CanonicalLine {
                line_id: "l1".into(),
                parent_line_id: None,
                item: LineItemRef::default(),
                quantity: "1".parse().unwrap(),
                net: "20.00".parse().unwrap(),
                gross: "23.00".parse().unwrap(),
                tax: "3.00".parse().unwrap(),
                discount: Money::ZERO,
                service_charge: Money::ZERO,
                tax_code: None,
                accounting_group: None,
            }],
            payments,
            register_id: None,
        }
    }

    /// Copied when the day was transferred (all owed), read again after the customer paid
    /// on a later day, and a sale closed the next day: the day's figures do not differ.
    #[test]
    fn a_later_payment_does_not_change_the_day_it_was_owed_on() {
        let window = business_day::window(DayMode::Utc, "2026-11-30".parse().unwrap());
        let cached = vec![on_account_sale(vec![
            payment("Cash", "3.00", Some("2026-11-30T12:00:00Z")),
            payment(ON_ACCOUNT, "20.00", None),
        ])];
        let mut now = vec![on_account_sale(vec![
            payment("Cash", "3.00", Some("2026-11-30T12:00:00Z")),
            payment("Cash", "20.00", Some("2026-12-03T09:00:00Z")),
        ])];
        let mut tomorrow = on_account_sale(vec![payment("Cash", "23.00", None)]);
        tomorrow.closed_at = at("2026-12-01T09:00:00Z");
        now.push(tomorrow);
        let (cached, now) = (closed_in(&window, &cached), closed_in(&window, &now));
        assert_eq!(now.len(), 1);
        let (ours, pos) = (totals(&cached).unwrap(), totals(&now).unwrap());
        assert!(compare::differences(&pos, &ours).unwrap().is_empty());
        assert_eq!(pos.payments[ON_ACCOUNT].amount, "20.00".parse().unwrap());
        assert_eq!(pos.payments["Cash"].amount, "3.00".parse().unwrap());
    }
}
