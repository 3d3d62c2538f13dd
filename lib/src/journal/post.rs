//! Posting one location-day's journal into the ERP (SPEC C9), exactly once.
//!
//! Under the day's journal lease (one poster per day), the day's cached sales are built
//! into a balanced journal and compared with the latest revision kept:
//! * the same lines already posted → nothing to do;
//! * a posted revision with other lines (a late or edited sale) → its move is reversed in
//!   the ERP and the next revision posted;
//! * a posted revision, and the day now books nothing (its sales voided, or the sale a
//!   settlement paid voided) → its move is reversed and no revision stands;
//! * otherwise the revision is (re)posted: search the ERP by reference before creating
//!   (a crash between create and post, or a redelivery, finds its own move), create a
//!   draft, read it back and compare, post, read back again (a lock date moves the date).
//!
//! A move the ERP changed is never accepted silently: an automatic balancing line or other
//! amounts leave the draft unposted (`journal_out_of_balance`); a moved date is kept and
//! reported (`journal_date_moved`). Each outcome raises or resolves the day's alerts.

use std::time::Duration;

use secrecy::SecretString;

use super::builder::{self, BuildError, Journal};
use super::convert;
use super::record::{self, Conversion, ErpMove, JournalError, JournalRecord, JournalStatus};
use super::request::JournalRequest;
use crate::accounts::mapping::{self as account_mapping, ForeignCurrency, PostingSetup};
use crate::alerts;
use crate::erp::connection::{self as erp_connection, ErpConnector};
use crate::erp::{self, Erp, ErpError, Mismatch, Move, MoveLine, MoveState, StoredMove};
use crate::error::{AppError, ErrorCode};
use crate::location::business_day;
use crate::location::record as location_record;
use crate::money::{minor_units, Money};
use crate::sales::CanonicalSale;
use crate::secrets::SecretVault;
use crate::store::lease::Lease;
use crate::store::{ItemStore, Key};
use crate::transfer::cache;
use crate::webhook::closures;

/// Long enough for a slow ERP's four calls; a crashed poster's lease lapses after it.
const LEASE_HOLD: Duration = Duration::from_secs(180);
const LEASE_WAIT: Duration = Duration::from_secs(10);

/// Every alert code a day's journal can raise; a clean posting resolves them all.
const ALERT_CODES: [ErrorCode; 12] = [
    ErrorCode::AccountMappingMissing,
    ErrorCode::ErpNotConfigured,
    ErrorCode::ValueOutOfRange,
    ErrorCode::PaymentMethodUnmapped,
    ErrorCode::TaxUnmapped,
    ErrorCode::RevenueUnmapped,
    ErrorCode::CurrencyMismatch,
    ErrorCode::JournalOutOfBalance,
    ErrorCode::JournalDateMoved,
    ErrorCode::ErpRejected,
    ErrorCode::ErpAuthFailed,
    ErrorCode::MaxRetriesExhausted,
];

pub struct PostContext<'a> {
    pub store: &'a dyn ItemStore,
    pub connector: &'a dyn ErpConnector,
    pub vault: &'a dyn SecretVault,
    pub secret_prefix: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to post: no sales were transferred for the day, or they book nothing and
    /// no move of the day is in the books.
    NoSales,
    /// The latest revision already says what the sales say.
    Unchanged(Box<JournalRecord>),
    /// A revision was written (posted, blocked, refused…): its status says which.
    Recorded(Box<JournalRecord>),
}

/// The day's subject in alerts.
fn subject(request: &JournalRequest) -> String {
    format!("{}:{}", request.location_id, request.period())
}

/// Posts the request's day. `last_attempt`: an unavailable ERP is recorded as
/// `max_retries_exhausted` instead of returned for another try.
pub async fn post_day(
    ctx: &PostContext<'_>,
    request: &JournalRequest,
    last_attempt: bool,
    now: &str,
) -> Result<Outcome, AppError> {
    request.check()?;
    let key = Key::new(
        cache::partition(
            &request.company_id,
            &request.location_id,
            &request.business_date,
        ),
        match &request.closure_id {
            Some(closure) => format!("JOURNAL_LEASE#{closure}"),
            None => "JOURNAL_LEASE".into(),
        },
    );
    let lease = Lease::acquire(ctx.store, key, LEASE_HOLD, LEASE_WAIT)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::WriteContention,
                format!(
                    "another worker is posting the journal of {}; retried",
                    subject(request)
                ),
            )
        })?;
    let result = async {
        let built = match build_day(ctx.store, request).await? {
            Day::Untransferred => return Ok((Outcome::NoSales, None)),
            Day::BooksNothing => return Ok((withdraw(ctx, request, now).await?, None)),
            Day::Built(built) => *built,
        };
        let threshold = built.setup.as_ref().map(|s| s.rounding_threshold);
        let outcome = post_under_lease(ctx, request, built, last_attempt, now).await?;
        Ok::<_, AppError>((outcome, threshold))
    }
    .await;
    lease.release(ctx.store).await;
    let (outcome, threshold) = result?;
    if let Outcome::Recorded(record) | Outcome::Unchanged(record) = &outcome {
        settle_alerts(ctx.store, request, record, threshold, now).await?;
    }
    Ok(outcome)
}

/// What the day's sales build into, or why they cannot be.
struct Built {
    sales_count: usize,
    currency: String,
    setup: Option<PostingSetup>,
    journal: Result<Journal, AppError>,
}

/// What the transferred day amounts to for its journal.
enum Day {
    /// No transfer has cached the day.
    Untransferred,
    /// Transferred, but nothing to book: no sale or refund closed in it (all voided), or
    /// sales that book nothing (a payment by the receivable itself, zero amounts).
    BooksNothing,
    Built(Box<Built>),
}

/// The period's sales and the window they were read for (`None`: not known yet): a day's
/// from its transfer's cache, a register closure's from the outlet's sales mirror.
async fn period_sales(
    store: &dyn ItemStore,
    request: &JournalRequest,
) -> Result<Option<(Vec<CanonicalSale>, Option<business_day::Window>)>, AppError> {
    let (company, location, date) = (
        &request.company_id,
        &request.location_id,
        &request.business_date,
    );
    if let Some(closure_id) = &request.closure_id {
        let Some(closure) = closures::find(store, company, location, closure_id, date).await?
        else {
            tracing::warn!(
                closure_id,
                "no register closure recorded under this id and date"
            );
            return Ok(None);
        };
        let window = closure.window().ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedApiError,
                format!(
                    "register closure {closure_id} has no readable open and close time; its journal cannot be built"
                ),
            )
        })?;
        let sales = crate::sales::xseries_mirror::day(store, company, location, &window)
            .await?
            .into_iter()
            .filter(|s| s.register_id.as_deref() == Some(closure.register_id.as_str()))
            .collect();
        return Ok(Some((sales, Some(window))));
    }
    let Some(state) = cache::load_state(store, company, location, date).await? else {
        return Ok(None);
    };
    let Some(day) = cache::load(store, &state).await? else {
        return Ok(None);
    };
    let window = day.window();
    Ok(Some((day.sales, window)))
}

async fn build_day(store: &dyn ItemStore, request: &JournalRequest) -> Result<Day, AppError> {
    let (company, location, date) = (
        &request.company_id,
        &request.location_id,
        &request.business_date,
    );
    let Some((sales, cached_window)) = period_sales(store, request).await? else {
        return Ok(Day::Untransferred);
    };
    let sales: Vec<CanonicalSale> = sales.into_iter().filter(|s| s.counts()).collect();
    if sales.is_empty() {
        return Ok(Day::BooksNothing);
    }
    let place = location_record::get(store, company, location).await?;
    let currency = place
        .currency
        .clone()
        .or_else(|| sales.iter().find_map(|s| s.currency.clone()))
        .unwrap_or_default();
    let setup = match account_mapping::setup_for(store, company, location).await {
        Ok(setup) => setup,
        Err(err) if err.code == ErrorCode::AccountMappingMissing => {
            return Ok(Day::Built(Box::new(Built {
                sales_count: sales.len(),
                currency,
                setup: None,
                journal: Err(err),
            })))
        }
        Err(err) => return Err(err),
    };
    let window = match cached_window {
        Some(window) => window,
        None => {
            let date = crate::ids::strict_date(date).ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidDateFormat,
                    format!("`{date}` is not a date"),
                )
            })?;
            business_day::window(place.day_mode(), date)
        }
    };
    let journal = builder::build(
        &sales,
        &window,
        &setup.accounts,
        minor_units(&currency),
        setup.rounding_threshold,
    )
    .map_err(build_error);
    if journal.as_ref().is_ok_and(|j| j.lines.is_empty()) {
        return Ok(Day::BooksNothing);
    }
    Ok(Day::Built(Box::new(Built {
        sales_count: sales.len(),
        currency,
        setup: Some(setup),
        journal,
    })))
}

fn build_error(err: BuildError) -> AppError {
    let code = match &err {
        BuildError::PaymentMethodUnmapped(_) => ErrorCode::PaymentMethodUnmapped,
        BuildError::TaxUnmapped(_) => ErrorCode::TaxUnmapped,
        BuildError::RevenueUnmapped(_) => ErrorCode::RevenueUnmapped,
        BuildError::OutOfRange => ErrorCode::ValueOutOfRange,
    };
    AppError::new(
        code,
        format!("{err}; map them under /account-mappings and re-post the day"),
    )
}

async fn post_under_lease(
    ctx: &PostContext<'_>,
    request: &JournalRequest,
    built: Built,
    last_attempt: bool,
    now: &str,
) -> Result<Outcome, AppError> {
    let revisions = day_revisions(ctx.store, request).await?;
    let mut latest = revisions.last().cloned();
    // At most one revision is posted and not reversed: the one the ERP's books hold now.
    let mut in_books = revisions.iter().rev().find(|r| posted(r)).cloned();
    if let Some(held) = &in_books {
        let same = built.journal.as_ref().is_ok_and(|j| j.lines == held.lines);
        if same && !(request.verify_in_erp && gone_from_erp(ctx, request, &built, held).await?) {
            retire_unposted(ctx.store, latest.as_ref(), held).await?;
            return Ok(Outcome::Unchanged(Box::new(held.clone())));
        }
        if same {
            // Deleted in the ERP: the same revision is posted again under its reference.
            let mut gone = held.clone();
            gone.status = JournalStatus::Failed;
            gone.error = Some(JournalError {
                code: ErrorCode::JournalMissing.as_str().into(),
                message: format!(
                    "the ERP no longer held move {}; posted again",
                    gone.erp
                        .move_id
                        .map(|id| id.to_string())
                        .unwrap_or_default()
                ),
            });
            record::save(ctx.store, &mut gone).await?;
            latest = Some(gone);
            in_books = None;
        }
    }
    let mut next = next_record(request, &built, latest.as_ref(), now)?;
    let (Some(setup), Ok(journal)) = (&built.setup, &built.journal) else {
        // Blocked: nothing goes to the ERP; a posted revision stays as it is.
        return record_outcome(ctx.store, next).await;
    };
    let erp = match open_erp(ctx, request, setup).await {
        Ok(erp) => erp,
        Err(err) => return settle_erp_failure(ctx.store, next, err, last_attempt).await,
    };
    let conversion =
        match conversion(erp.as_ref(), &built.currency, setup, &request.business_date).await {
            Ok(conversion) => conversion,
            Err(err) => return settle_erp_failure(ctx.store, next, err, last_attempt).await,
        };
    next.conversion = conversion.clone();
    if let Some(held) = in_books {
        if let Err(err) = reverse(ctx.store, erp.as_ref(), setup, held, now).await {
            return settle_erp_failure(ctx.store, next, err, last_attempt).await;
        }
    }
    let sent = match move_of(&next, journal, setup) {
        Ok(sent) => sent,
        Err(err) => {
            return settle_erp_failure(ctx.store, next, ErpFailure::App(err), last_attempt).await
        }
    };
    match post_move(erp.as_ref(), &sent).await {
        Ok(result) => {
            apply(&mut next, result);
            record_outcome(ctx.store, next).await
        }
        Err(err) => settle_erp_failure(ctx.store, next, err, last_attempt).await,
    }
}

/// A day that books nothing now (its sales voided after posting, or the sale a settlement
/// paid voided) must not keep a move in the books: the revision the ERP holds is reversed,
/// and no revision stands for the day any more. Nothing in the books: nothing to do.
async fn withdraw(
    ctx: &PostContext<'_>,
    request: &JournalRequest,
    now: &str,
) -> Result<Outcome, AppError> {
    let revisions = day_revisions(ctx.store, request).await?;
    let Some(held) = revisions.into_iter().rev().find(posted) else {
        return Ok(Outcome::NoSales);
    };
    let setup =
        account_mapping::setup_for(ctx.store, &request.company_id, &request.location_id).await?;
    let erp = open_erp(ctx, request, &setup)
        .await
        .map_err(ErpFailure::into_app_error)?;
    let reversed = reverse(ctx.store, erp.as_ref(), &setup, held, now)
        .await
        .map_err(ErpFailure::into_app_error)?;
    tracing::info!(journal = %reversed.reference, "the day books nothing now; its move was reversed");
    Ok(Outcome::Recorded(Box::new(reversed)))
}

/// A newer revision that never reached the books (blocked by a mapping since fixed, refused)
/// is superseded once the day's lines are again what the posted revision holds.
async fn retire_unposted(
    store: &dyn ItemStore,
    latest: Option<&JournalRecord>,
    held: &JournalRecord,
) -> Result<(), AppError> {
    let Some(latest) = latest.filter(|l| l.revision > held.revision) else {
        return Ok(());
    };
    if posted(latest) || latest.status == JournalStatus::Reversed {
        return Ok(());
    }
    let mut retired = latest.clone();
    retired.status = JournalStatus::Superseded;
    record::save(store, &mut retired).await
}

/// Whether the ERP no longer holds `held` posted (an ERP that cannot be read is not proof).
async fn gone_from_erp(
    ctx: &PostContext<'_>,
    request: &JournalRequest,
    built: &Built,
    held: &JournalRecord,
) -> Result<bool, AppError> {
    let Some(setup) = &built.setup else {
        return Ok(false);
    };
    let Ok(erp) = open_erp(ctx, request, setup).await else {
        return Ok(false);
    };
    Ok(match erp.find(&held.journal, &held.reference).await {
        Ok(found) => !found.iter().any(|m| m.state == MoveState::Posted),
        Err(_) => false,
    })
}

fn posted(record: &JournalRecord) -> bool {
    matches!(
        record.status,
        JournalStatus::Posted | JournalStatus::DateMoved
    )
}

/// The revision this run writes: the latest again when it never reached the ERP as
/// posted, else the next one.
fn next_record(
    request: &JournalRequest,
    built: &Built,
    latest: Option<&JournalRecord>,
    now: &str,
) -> Result<JournalRecord, AppError> {
    let (revision, version, created_at, attempts) = match latest {
        Some(l)
            if !posted(l)
                && !matches!(
                    l.status,
                    JournalStatus::Reversed | JournalStatus::Superseded
                ) =>
        {
            (l.revision, l.version, l.created_at.clone(), l.attempts)
        }
        Some(l) => (l.revision + 1, 0, now.to_string(), 0),
        None => (1, 0, now.to_string(), 0),
    };
    let (lines, difference, total_debit, total_credit, error) = match &built.journal {
        Ok(j) => {
            let debit = j.total_debit().ok_or_else(out_of_range)?;
            let credit = j.total_credit().ok_or_else(out_of_range)?;
            (j.lines.clone(), j.difference, debit, credit, None)
        }
        Err(err) => (
            Vec::new(),
            Money::ZERO,
            Money::ZERO,
            Money::ZERO,
            Some(error_of(err)),
        ),
    };
    let setup = built.setup.as_ref();
    Ok(JournalRecord {
        company_id: request.company_id.clone(),
        location_id: request.location_id.clone(),
        business_date: request.business_date.clone(),
        closure_id: request.closure_id.clone(),
        revision,
        reference: erp::reference(&request.location_id, &request.period(), revision),
        status: if error.is_some() {
            JournalStatus::Blocked
        } else {
            JournalStatus::Pending
        },
        currency: built.currency.clone(),
        journal: setup.map(|s| s.journal.clone()).unwrap_or_default(),
        erp_company_id: setup.and_then(|s| s.erp_company_id),
        lines,
        total_debit,
        total_credit,
        difference,
        sales_count: built.sales_count,
        erp: ErpMove::default(),
        conversion: None,
        reversal: None,
        error,
        attempts: attempts.saturating_add(1),
        created_at,
        updated_at: now.to_string(),
        version,
    })
}

fn out_of_range() -> AppError {
    AppError::new(
        ErrorCode::ValueOutOfRange,
        "the day's totals are beyond the exact decimal range",
    )
}

fn error_of(err: &AppError) -> JournalError {
    JournalError {
        code: err.code.as_str().to_string(),
        message: err.message.clone(),
    }
}

async fn record_outcome(
    store: &dyn ItemStore,
    mut next: JournalRecord,
) -> Result<Outcome, AppError> {
    record::save(store, &mut next).await?;
    tracing::info!(
        journal = %next.reference,
        status = ?next.status,
        lines = next.lines.len(),
        "journal recorded"
    );
    Ok(Outcome::Recorded(Box::new(next)))
}

async fn open_erp(
    ctx: &PostContext<'_>,
    request: &JournalRequest,
    setup: &PostingSetup,
) -> Result<Box<dyn Erp>, ErpFailure> {
    let connection = erp_connection::require(ctx.store, &request.company_id)
        .await
        .map_err(ErpFailure::App)?;
    let key = ctx
        .vault
        .get(&erp_connection::secret_id(
            ctx.secret_prefix,
            &request.company_id,
        ))
        .await
        .map_err(|e| ErpFailure::App(e.into()))?;
    ctx.connector
        .open(&connection, SecretString::from(key), setup.erp_company_id)
        .await
        .map_err(ErpFailure::Erp)
}

/// A location in another currency than its ERP company: refused (`currency_mismatch`)
/// unless the mapping says `convert`, then converted at the ERP's rate for the date.
async fn conversion(
    erp: &dyn Erp,
    currency: &str,
    setup: &PostingSetup,
    date: &str,
) -> Result<Option<Conversion>, ErpFailure> {
    let company = erp.company_currency().await?;
    if company == currency {
        return Ok(None);
    }
    if setup.foreign_currency == ForeignCurrency::Refuse {
        return Err(ErpFailure::App(AppError::new(
            ErrorCode::CurrencyMismatch,
            format!(
                "the location sells in {currency} but its ERP company keeps its books in {company}; map the location to an ERP company in {currency}, or set `foreign_currency` to `convert`"
            ),
        )));
    }
    let rate = erp.rate(currency, date).await?;
    Ok(Some(Conversion {
        company_currency: company,
        rate,
    }))
}

/// The move a revision sends: its lines as they are, or converted at its rate.
fn move_of(
    record: &JournalRecord,
    journal: &Journal,
    setup: &PostingSetup,
) -> Result<Move, AppError> {
    let mut sent = Move::from_journal(
        record.reference.clone(),
        &record.business_date,
        &record.journal,
        journal,
    );
    if let Some(conversion) = &record.conversion {
        sent.currency = Some(record.currency.clone());
        sent.lines = convert::to_company_currency(
            journal,
            conversion.rate,
            minor_units(&conversion.company_currency),
            &setup.accounts.rounding,
        )?;
    }
    Ok(sent)
}

/// What came back from the ERP for a move.
struct Held {
    stored: StoredMove,
    mismatch: Option<Mismatch>,
}

enum ErpFailure {
    Erp(ErpError),
    App(AppError),
}

impl ErpFailure {
    /// As an error the worker returns: an unavailable ERP is tried again.
    fn into_app_error(self) -> AppError {
        match self {
            ErpFailure::App(err) => err,
            ErpFailure::Erp(ErpError::Unavailable(why)) => {
                AppError::new(ErrorCode::ErpUnavailable, why)
            }
            ErpFailure::Erp(ErpError::AccessDenied(why)) => {
                AppError::new(ErrorCode::ErpAuthFailed, why)
            }
            ErpFailure::Erp(ErpError::Rejected(why)) => AppError::new(ErrorCode::ErpRejected, why),
        }
    }
}

impl From<ErpError> for ErpFailure {
    fn from(err: ErpError) -> Self {
        ErpFailure::Erp(err)
    }
}

/// Search, create, check, post, check: the move carrying `sent.reference`, posted once.
async fn post_move(erp: &dyn Erp, sent: &Move) -> Result<Held, ErpFailure> {
    let found = erp.find(&sent.journal, &sent.reference).await?;
    if let Some(done) = found.iter().find(|m| m.state == MoveState::Posted) {
        let mismatch = erp::verify(sent, done).err();
        return Ok(Held {
            stored: done.clone(),
            mismatch,
        });
    }
    let mut draft_id = None;
    for draft in found.iter().filter(|m| m.state == MoveState::Draft) {
        // A draft left by a crashed run is posted as it is when it holds what is sent;
        // any other draft under this reference is replaced.
        if draft_id.is_none() && erp::verify(sent, draft).is_ok() {
            draft_id = Some(draft.id);
        } else {
            erp.delete_draft(draft.id).await?;
        }
    }
    let id = match draft_id {
        Some(id) => id,
        None => erp.create_draft(sent).await?,
    };
    let draft = erp.read(id).await?;
    if let Err(mismatch) = erp::verify(sent, &draft) {
        return Ok(Held {
            stored: draft,
            mismatch: Some(mismatch),
        });
    }
    erp.post(id).await?;
    let stored = erp.read(id).await?;
    let mismatch = erp::verify(sent, &stored).err();
    Ok(Held { stored, mismatch })
}

fn erp_move(stored: &StoredMove) -> ErpMove {
    ErpMove {
        move_id: Some(stored.id),
        name: stored.name.clone(),
        date: Some(stored.date.clone()),
    }
}

fn apply(next: &mut JournalRecord, held: Held) {
    next.erp = erp_move(&held.stored);
    let posted = held.stored.state == MoveState::Posted;
    (next.status, next.error) = match held.mismatch {
        None if posted => (JournalStatus::Posted, None),
        None => (JournalStatus::Pending, None),
        Some(Mismatch::Date { .. }) if posted => (
            JournalStatus::DateMoved,
            Some(mismatch_error(
                ErrorCode::JournalDateMoved,
                held.mismatch.as_ref(),
            )),
        ),
        Some(ref other) => (
            JournalStatus::OutOfBalance,
            Some(mismatch_error(ErrorCode::JournalOutOfBalance, Some(other))),
        ),
    };
}

fn mismatch_error(code: ErrorCode, mismatch: Option<&Mismatch>) -> JournalError {
    JournalError {
        code: code.as_str().into(),
        message: format!(
            "{}; nothing was accepted silently: correct it in the ERP (or its lock date) and re-post the day",
            mismatch.map(ToString::to_string).unwrap_or_default()
        ),
    }
}

/// Reverses a posted revision: a move with its lines' sides swapped, dated the same day,
/// under the revision's reference plus `:reversal` (so it, too, is found before created).
async fn reverse(
    store: &dyn ItemStore,
    erp: &dyn Erp,
    setup: &PostingSetup,
    mut latest: JournalRecord,
    now: &str,
) -> Result<JournalRecord, ErpFailure> {
    // What was sent, rebuilt exactly (the same lines, the same rate), sides swapped.
    let journal = Journal {
        lines: latest.lines.clone(),
        difference: latest.difference,
        difference_above_threshold: false,
    };
    let sent = move_of(&latest, &journal, setup).map_err(ErpFailure::App)?;
    let reversal = Move {
        reference: format!("{}:reversal", latest.reference),
        lines: sent.lines.iter().map(reversed_line).collect(),
        ..sent
    };
    let held = post_move(erp, &reversal).await?;
    if let Some(mismatch) = &held.mismatch {
        if !matches!(mismatch, Mismatch::Date { .. }) {
            return Err(ErpFailure::App(AppError::new(
                ErrorCode::JournalOutOfBalance,
                format!(
                    "the reversal of {} was changed by the ERP: {mismatch}",
                    latest.reference
                ),
            )));
        }
    }
    latest.status = JournalStatus::Reversed;
    latest.reversal = Some(erp_move(&held.stored));
    latest.updated_at = now.to_string();
    record::save(store, &mut latest)
        .await
        .map_err(ErpFailure::App)?;
    Ok(latest)
}

/// The day's journal revisions, oldest first.
async fn day_revisions(
    store: &dyn ItemStore,
    request: &JournalRequest,
) -> Result<Vec<JournalRecord>, AppError> {
    record::revisions(
        store,
        &request.company_id,
        &request.location_id,
        &request.period(),
    )
    .await
}

fn reversed_line(line: &MoveLine) -> MoveLine {
    MoveLine {
        account: line.account.clone(),
        label: format!("Reversal: {}", line.label),
        debit: line.credit,
        credit: line.debit,
        amount_currency: line.amount_currency.map(|a| -a),
    }
}

/// An ERP failure: unavailable → retried (or, on the last attempt, recorded as
/// `max_retries_exhausted`); refused → recorded with its code.
async fn settle_erp_failure(
    store: &dyn ItemStore,
    mut next: JournalRecord,
    failure: ErpFailure,
    last_attempt: bool,
) -> Result<Outcome, AppError> {
    let error = match failure {
        ErpFailure::Erp(ErpError::Unavailable(why)) if last_attempt => AppError::new(
            ErrorCode::MaxRetriesExhausted,
            format!(
                "the ERP did not answer after {} attempts: {why}",
                next.attempts
            ),
        ),
        failure => {
            let error = failure.into_app_error();
            // An unavailable ERP or store before the last attempt: tried again.
            if error.code.is_retryable() && !last_attempt {
                return Err(error);
            }
            error
        }
    };
    next.status = match error.code {
        ErrorCode::CurrencyMismatch => JournalStatus::Blocked,
        ErrorCode::JournalOutOfBalance => JournalStatus::OutOfBalance,
        _ => JournalStatus::Failed,
    };
    next.error = Some(error_of(&error));
    record_outcome(store, next).await
}

/// Raises the alert of a record's error (and `rounding_above_threshold` when its rounding
/// line is above the mapping's `threshold`); resolves the day's other journal alerts.
async fn settle_alerts(
    store: &dyn ItemStore,
    request: &JournalRequest,
    record: &JournalRecord,
    threshold: Option<Money>,
    now: &str,
) -> Result<(), AppError> {
    let subject = subject(request);
    let company = &request.company_id;
    let raised = record.error.as_ref().map(|e| e.code.as_str());
    for code in ALERT_CODES {
        if Some(code.as_str()) != raised {
            alerts::resolve(store, company, code.as_str(), &subject, now).await?;
        }
    }
    if let Some(error) = &record.error {
        alerts::raise(store, company, &error.code, &subject, &error.message, now).await?;
    }
    let code = ErrorCode::RoundingAboveThreshold.as_str();
    let above = threshold.filter(|t| record.difference.value().abs() > t.value());
    if let (Some(threshold), false) = (above, record.lines.is_empty()) {
        let message = format!(
            "the rounding line of {} is {} {}, above the threshold of {threshold}",
            record.reference, record.difference, record.currency
        );
        alerts::raise(store, company, code, &subject, &message, now).await?;
    } else {
        alerts::resolve(store, company, code, &subject, now).await?;
    }
    Ok(())
}
