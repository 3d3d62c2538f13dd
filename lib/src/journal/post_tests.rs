//! The posting use case on memory adapters: a store, a vault and an ERP that keeps moves
//! and can reproduce Odoo's traps. (The same behaviours run against the Odoo simulator in
//! the end-to-end suite.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rust_decimal::Decimal;
use secrecy::SecretString;

use super::post::{post_day, Outcome, PostContext};
use super::record::{self, JournalStatus};
use super::request::JournalRequest;
use crate::accounts::mapping::{self, AccountMapping};
use crate::alerts::{self, AlertStatus};
use crate::connection::PosProduct;
use crate::erp::connection::{self, ConnectionInput, ErpConnection, ErpConnector};
use crate::erp::{Erp, ErpError, Move, MoveLine, MoveState, StoredMove, AUTOMATIC_BALANCING_LABEL};
use crate::error::ErrorCode;
use crate::location::record::{new_location, UpstreamLocation};
use crate::mapping::matching::LineItemRef;
use crate::money::{Money, Quantity};
use crate::sales::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};
use crate::secrets::memory::MemoryVault;
use crate::store::memory::MemoryStore;
use crate::store::{Condition, ItemStore};
use crate::transfer::cache::{self, CachedDay, DayState};

const COMPANY: &str = "acme";
const LOCATION: &str = "loc-1";
const DATE: &str = "2026-11-30";
const NOW: &str = "2026-12-01T08:00:00.000Z";

/// What the memory ERP holds and which traps are on.
#[derive(Default)]
struct Books {
    moves: Vec<(String, String, StoredMove)>,
    balancing_line: bool,
    lock_date: Option<String>,
    /// Calls that fail as unavailable, by operation name, the next `n` times.
    unavailable: BTreeMap<&'static str, u32>,
    /// Create commits, then answers as unavailable (a crash or timeout after create).
    fail_after_create: bool,
    currency: String,
    calls: Vec<&'static str>,
}

#[derive(Clone, Default)]
struct MemoryErp(Arc<Mutex<Books>>);

impl MemoryErp {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gate(&self, op: &'static str) -> Result<(), ErpError> {
        let mut books = self.books();
        books.calls.push(op);
        if let Some(n) = books.unavailable.get_mut(op).filter(|n| **n > 0) {
            *n -= 1;
            return Err(ErpError::Unavailable(format!("{op}: HTTP 503")));
        }
        Ok(())
    }

    fn posted(&self) -> Vec<(String, StoredMove)> {
        self.books()
            .moves
            .iter()
            .filter(|(_, _, m)| m.state == MoveState::Posted)
            .map(|(r, _, m)| (r.clone(), m.clone()))
            .collect()
    }
}

#[async_trait]
impl Erp for MemoryErp {
    async fn find(&self, journal: &str, reference: &str) -> Result<Vec<StoredMove>, ErpError> {
        self.gate("find")?;
        Ok(self
            .books()
            .moves
            .iter()
            .filter(|(r, j, m)| r == reference && j == journal && m.state != MoveState::Cancelled)
            .map(|(_, _, m)| m.clone())
            .collect())
    }

    async fn create_draft(&self, draft: &Move) -> Result<i64, ErpError> {
        self.gate("create")?;
        let mut books = self.books();
        let mut lines = draft.lines.clone();
        if books.balancing_line {
            lines.push(MoveLine {
                account: "101402".into(),
                label: AUTOMATIC_BALANCING_LABEL.into(),
                debit: Money(Decimal::new(15, 2)),
                credit: Money::ZERO,
                amount_currency: None,
            });
        }
        let id = books.moves.len() as i64 + 1;
        let stored = StoredMove {
            id,
            state: MoveState::Draft,
            name: None,
            date: draft.date.clone(),
            lines,
        };
        books
            .moves
            .push((draft.reference.clone(), draft.journal.clone(), stored));
        if books.fail_after_create {
            books.fail_after_create = false;
            return Err(ErpError::Unavailable("timeout after create".into()));
        }
        Ok(id)
    }

    async fn post(&self, id: i64) -> Result<(), ErpError> {
        self.gate("post")?;
        let mut books = self.books();
        let lock = books.lock_date.clone();
        let (_, _, stored) = books
            .moves
            .iter_mut()
            .find(|(_, _, m)| m.id == id)
            .ok_or_else(|| ErpError::Rejected("gone".into()))?;
        if stored.state != MoveState::Draft {
            return Err(ErpError::Rejected("UserError: must be in draft".into()));
        }
        stored.state = MoveState::Posted;
        stored.name = Some(format!("MISC/{id:04}"));
        if let Some(lock) = lock.filter(|l| stored.date <= *l) {
            stored.date = "2026-12-01".into();
            let _ = lock;
        }
        Ok(())
    }

    async fn delete_draft(&self, id: i64) -> Result<(), ErpError> {
        self.gate("delete")?;
        self.books()
            .moves
            .retain(|(_, _, m)| !(m.id == id && m.state == MoveState::Draft));
        Ok(())
    }

    async fn read(&self, id: i64) -> Result<StoredMove, ErpError> {
        self.gate("read")?;
        self.books()
            .moves
            .iter()
            .find(|(_, _, m)| m.id == id)
            .map(|(_, _, m)| m.clone())
            .ok_or_else(|| ErpError::Rejected("gone".into()))
    }

    async fn company_currency(&self) -> Result<String, ErpError> {
        self.gate("currency")?;
        Ok(self.books().currency.clone())
    }

    async fn rate(&self, _currency: &str, _date: &str) -> Result<Decimal, ErpError> {
        self.gate("rate")?;
        // USD per GBP.
        Ok(Decimal::new(127, 2))
    }
}

#[async_trait]
impl ErpConnector for MemoryErp {
    async fn open(
        &self,
        _: &ErpConnection,
        key: SecretString,
        _: Option<i64>,
    ) -> Result<Box<dyn Erp>, ErpError> {
        use secrecy::ExposeSecret;
        if key.expose_secret() != "key-1" {
            return Err(ErpError::AccessDenied("wrong key".into()));
        }
        Ok(Box::new(self.clone()))
    }
}

struct World {
    store: MemoryStore,
    vault: MemoryVault,
    erp: MemoryErp,
}

fn cents(c: i64) -> Money {
    Money(Decimal::new(c, 2))
}

/// One sale: `net` food at 20 % VAT paid by `method`.
/// [`sale`], voided after it closed.
fn voided(id: &str, net: i64, method: &str) -> CanonicalSale {
    CanonicalSale {
        kind: SaleKind::Void,
        ..sale(id, net, method)
    }
}

fn sale(id: &str, net: i64, method: &str) -> CanonicalSale {
    let tax = net / 5;
    CanonicalSale {
        sale_id: id.into(),
        receipt: None,
        kind: SaleKind::Sale,
        // Noon of DATE in London: inside the day's window.
        closed_at: "2026-11-30T12:00:00Z".parse().unwrap(),
        original_sale_id: None,
        currency: Some("GBP".into()),
        lines: vec![CanonicalLine {
            line_id: format!("{id}-1").into(),
            parent_line_id: None,
            item: LineItemRef {
                item_id: None,
                sku: None,
                name: "Burger".into(),
            },
            quantity: Quantity(Decimal::ONE),
            net: cents(net),
            gross: cents(net + tax),
            tax: cents(tax),
            discount: Money::ZERO,
            service_charge: Money::ZERO,
            tax_code: Some("VAT20".into()),
            accounting_group: Some("Food".into()),
        }],
        payments: vec![CanonicalPayment {
            method: method.into(),
            description: None,
            amount: cents(net + tax),
            tip: Money::ZERO,
            rounding: Money::ZERO,
            paid_at: None,
        }],
        register_id: None,
    }
}

fn company_mapping() -> AccountMapping {
    let mut mapping = mapping::fixtures::company();
    mapping
        .payment_methods
        .insert("CARD".into(), "101401".into());
    mapping
}

impl World {
    async fn new(sales: Vec<CanonicalSale>) -> World {
        let world = World {
            store: MemoryStore::new(),
            vault: MemoryVault::default(),
            erp: MemoryErp::default(),
        };
        world.erp.books().currency = "GBP".into();
        let upstream = UpstreamLocation {
            location_id: LOCATION.into(),
            name: "Soho".into(),
            business_name: None,
            country: Some("GB".into()),
            timezone: Some("Europe/London".into()),
            currency: Some("GBP".into()),
        };
        let location = new_location(COMPANY, PosProduct::KSeries, &upstream, NOW);
        world
            .store
            .put(location.to_item().unwrap(), Condition::None)
            .await
            .unwrap();
        mapping::put(&world.store, COMPANY, None, company_mapping(), NOW)
            .await
            .unwrap();
        let input = ConnectionInput {
            url: "http://odoo.test".into(),
            database: "db".into(),
            login: "admin".into(),
            api_key: "key-1".into(),
            transport: Default::default(),
        };
        connection::save(&world.store, &world.vault, "tb", COMPANY, input, NOW)
            .await
            .unwrap();
        world.set_sales(sales).await;
        world
    }

    /// Writes the day's cache as a transfer would (a new generation each time).
    async fn set_sales(&self, sales: Vec<CanonicalSale>) {
        let state = cache::load_state(&self.store, COMPANY, LOCATION, DATE)
            .await
            .unwrap()
            .unwrap_or(DayState {
                company_id: COMPANY.into(),
                location_id: LOCATION.into(),
                business_date: DATE.into(),
                ..Default::default()
            });
        let day = CachedDay {
            sales,
            ..Default::default()
        };
        let generation = state.generation + 1;
        let chunks = cache::write_generation(&self.store, &state, generation, &day)
            .await
            .unwrap();
        let next = DayState {
            generation,
            chunks,
            ..state
        };
        cache::save_state(&self.store, &next).await.unwrap();
    }

    async fn post(&self, last_attempt: bool) -> Result<Outcome, crate::error::AppError> {
        let ctx = PostContext {
            store: &self.store,
            connector: &self.erp,
            vault: &self.vault,
            secret_prefix: "tb",
        };
        let request = JournalRequest {
            request_uuid: "req-1".into(),
            company_id: COMPANY.into(),
            location_id: LOCATION.into(),
            business_date: DATE.into(),
            attempt: 1,
            requested_at: NOW.into(),
            verify_in_erp: false,
            closure_id: None,
        };
        post_day(&ctx, &request, last_attempt, NOW).await
    }

    async fn status(&self) -> Vec<(u32, JournalStatus)> {
        record::revisions(&self.store, COMPANY, LOCATION, DATE)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.revision, r.status))
            .collect()
    }

    async fn open_alert(&self, code: ErrorCode) -> Option<alerts::Alert> {
        let (open, _) = alerts::list(&self.store, COMPANY, AlertStatus::Open, 100, None)
            .await
            .unwrap();
        open.into_iter()
            .find(|a| a.code == code.as_str() && a.subject == format!("{LOCATION}:{DATE}"))
    }

    /// The day's open alert `code` names each of `words`.
    async fn assert_alert_names(&self, code: ErrorCode, words: &[&str]) {
        let alert = self.open_alert(code).await.expect("alert");
        for word in words {
            assert!(alert.message.contains(word), "{}", alert.message);
        }
    }

    /// The day has no open alert `code`.
    async fn assert_no_alert(&self, code: ErrorCode) {
        assert!(self.open_alert(code).await.is_none(), "{}", code.as_str());
    }
}

/// The line of `account` in a move.
fn line_of<'a>(stored: &'a StoredMove, account: &str) -> &'a MoveLine {
    stored.lines.iter().find(|l| l.account == account).unwrap()
}

/// [`balances`] of the cash, card, food revenue and VAT accounts, in cents.
fn cash_card_food_vat(cents: [i64; 4]) -> BTreeMap<String, Decimal> {
    let accounts = ["101501", "101401", "400000", "251000"];
    accounts
        .into_iter()
        .zip(cents)
        .map(|(account, cents)| (account.to_string(), Decimal::new(cents, 2)))
        .collect()
}

/// Net debit minus credit per account over the ERP's posted moves.
fn balances(moves: &[(String, StoredMove)]) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for (_, m) in moves {
        for l in &m.lines {
            *out.entry(l.account.clone()).or_insert(Decimal::ZERO) +=
                l.debit.value() - l.credit.value();
        }
    }
    out.retain(|_, v| !v.is_zero());
    out
}

#[tokio::test]
async fn a_day_posts_once_balanced_and_a_redelivery_changes_nothing() {
    let world = World::new(vec![sale("s1", 1000, "CASH"), sale("s2", 2550, "CARD")]).await;
    let outcome = world.post(false).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Recorded(ref r) if r.status == JournalStatus::Posted),
        "{outcome:?}"
    );
    for _ in 0..3 {
        assert!(matches!(
            world.post(false).await.unwrap(),
            Outcome::Unchanged(_)
        ));
    }
    let posted = world.erp.posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].0, "tillbridge:loc-1:2026-11-30:1");
    // Cash 12.00 and card 30.60 in; 35.50 revenue and 7.10 VAT out.
    assert_eq!(
        balances(&posted),
        cash_card_food_vat([1200, 3060, -3550, -710])
    );
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
}

#[tokio::test]
async fn a_crash_between_create_and_post_is_recovered_by_the_search() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().fail_after_create = true;
    let err = world.post(false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ErpUnavailable);
    assert!(err.code.is_retryable());
    assert_eq!(world.erp.books().moves.len(), 1, "the draft was committed");
    world.post(false).await.unwrap();
    assert_eq!(world.erp.books().moves.len(), 1, "no second move");
    assert_eq!(world.erp.posted().len(), 1);
}

#[tokio::test]
async fn an_automatic_balancing_line_is_refused_and_alerted() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().balancing_line = true;
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::OutOfBalance)]);
    assert!(world.erp.posted().is_empty(), "never posted");
    world
        .assert_alert_names(ErrorCode::JournalOutOfBalance, &["101402"])
        .await;
    // Once the ERP stops adding it, a re-post replaces the draft and posts; the alert goes.
    world.erp.books().balancing_line = false;
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    assert_eq!(world.erp.books().moves.len(), 1);
    world.assert_no_alert(ErrorCode::JournalOutOfBalance).await;
}

#[tokio::test]
async fn a_lock_date_that_moves_the_date_is_reported() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().lock_date = Some("2026-11-30".into());
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::DateMoved)]);
    world
        .assert_alert_names(ErrorCode::JournalDateMoved, &["2026-12-01"])
        .await;
}

#[tokio::test]
async fn a_changed_day_is_reversed_and_replaced_and_the_books_hold_the_new_truth() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.post(false).await.unwrap();
    // A late sale arrives after posting.
    world
        .set_sales(vec![sale("s1", 1000, "CASH"), sale("s2", 500, "CARD")])
        .await;
    world.post(false).await.unwrap();
    assert_eq!(
        world.status().await,
        vec![(1, JournalStatus::Reversed), (2, JournalStatus::Posted)]
    );
    let posted = world.erp.posted();
    let refs: Vec<&str> = posted.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        refs,
        [
            "tillbridge:loc-1:2026-11-30:1",
            "tillbridge:loc-1:2026-11-30:1:reversal",
            "tillbridge:loc-1:2026-11-30:2"
        ]
    );
    assert_eq!(
        balances(&posted),
        cash_card_food_vat([1200, 600, -1500, -300])
    );
    assert!(matches!(world.post(false).await.unwrap(), Outcome::Unchanged(r) if r.revision == 2));
}

#[tokio::test]
async fn a_day_whose_sales_are_all_voided_after_posting_is_reversed_out_of_the_books() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.post(false).await.unwrap();
    world.set_sales(vec![voided("s1", 1000, "CASH")]).await;
    let outcome = world.post(false).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Recorded(r) if r.revision == 1 && r.status == JournalStatus::Reversed),
        "{outcome:?}"
    );
    assert_eq!(world.status().await, vec![(1, JournalStatus::Reversed)]);
    let posted = world.erp.posted();
    let refs: Vec<&str> = posted.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        refs,
        [
            "tillbridge:loc-1:2026-11-30:1",
            "tillbridge:loc-1:2026-11-30:1:reversal"
        ]
    );
    // The books net to nothing on every account.
    assert!(
        balances(&posted).values().all(Decimal::is_zero),
        "{:?}",
        balances(&posted)
    );
    // Again: nothing in the books, nothing to do.
    assert_eq!(world.post(false).await.unwrap(), Outcome::NoSales);
    assert_eq!(world.erp.posted().len(), 2);
    // The sale comes back (the void undone by a re-sale): a new revision is posted.
    world.set_sales(vec![sale("s1", 1000, "CASH")]).await;
    world.post(false).await.unwrap();
    assert_eq!(
        world.status().await,
        vec![(1, JournalStatus::Reversed), (2, JournalStatus::Posted)]
    );
    let mut expected = cash_card_food_vat([1200, 0, -1000, -200]);
    expected.retain(|_, amount| !amount.is_zero());
    assert_eq!(balances(&world.erp.posted()), expected);
}

#[tokio::test]
async fn a_day_that_books_nothing_with_the_erp_down_is_tried_again_and_keeps_its_move() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.post(false).await.unwrap();
    world.set_sales(vec![voided("s1", 1000, "CASH")]).await;
    world.erp.books().unavailable.insert("create", 1);
    let err = world.post(false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ErpUnavailable);
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Reversed)]);
}

#[tokio::test]
async fn an_unmapped_payment_method_blocks_the_day_until_it_is_mapped() {
    let world = World::new(vec![sale("s1", 1000, "AMEX")]).await;
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Blocked)]);
    assert!(
        world.erp.books().calls.is_empty(),
        "nothing sent to the ERP"
    );
    world
        .assert_alert_names(ErrorCode::PaymentMethodUnmapped, &["AMEX"])
        .await;
    let mut fixed = company_mapping();
    fixed.payment_methods.insert("AMEX".into(), "101402".into());
    mapping::put(&world.store, COMPANY, None, fixed, NOW)
        .await
        .unwrap();
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    world
        .assert_no_alert(ErrorCode::PaymentMethodUnmapped)
        .await;
}

#[tokio::test]
async fn another_currency_than_the_erp_company_is_refused() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().currency = "USD".into();
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Blocked)]);
    world
        .assert_alert_names(ErrorCode::CurrencyMismatch, &["GBP", "USD"])
        .await;
    assert!(world.erp.books().moves.is_empty());
}

#[tokio::test]
async fn an_unavailable_erp_is_retried_then_recorded_as_exhausted() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().unavailable.insert("find", 2);
    assert_eq!(
        world.post(false).await.unwrap_err().code,
        ErrorCode::ErpUnavailable
    );
    world.post(true).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Failed)]);
    assert!(world
        .open_alert(ErrorCode::MaxRetriesExhausted)
        .await
        .is_some());
    // The ERP is back: the next run posts and resolves the alert.
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    world.assert_no_alert(ErrorCode::MaxRetriesExhausted).await;
    assert_eq!(world.erp.posted().len(), 1);
}

#[tokio::test]
async fn a_foreign_currency_converts_at_the_erp_rate_when_configured() {
    let world = World::new(vec![sale("s1", 1000, "CASH")]).await;
    world.erp.books().currency = "USD".into();
    let mut convert = company_mapping();
    convert.foreign_currency = Some(crate::accounts::ForeignCurrency::Convert);
    mapping::put(&world.store, COMPANY, None, convert, NOW)
        .await
        .unwrap();
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    let posted = world.erp.posted();
    // £12.00 cash at 1.27 USD per GBP… in this ERP the company currency is USD and the
    // rate is GBP per USD, so 12.00 / 1.27 = 9.4488 → 9.45, 10.00 / 1.27 → 7.87,
    // 2.00 / 1.27 → 1.57; 9.45 against 9.44 leaves one cent on the rounding account.
    let cash = line_of(&posted[0].1, "101501");
    assert_eq!(cash.debit, cents(945));
    assert_eq!(cash.amount_currency, Some(cents(1200)));
    let rounding = line_of(&posted[0].1, "642000");
    assert_eq!(rounding.credit, cents(1));
    assert_eq!(balances(&posted).values().sum::<Decimal>(), Decimal::ZERO);
    // A late sale: the reversal mirrors the converted amounts exactly.
    world
        .set_sales(vec![sale("s1", 1000, "CASH"), sale("s2", 500, "CASH")])
        .await;
    world.post(false).await.unwrap();
    let posted = world.erp.posted();
    assert_eq!(posted.len(), 3);
    let reversal = &posted[1].1;
    let cash = line_of(reversal, "101501");
    assert_eq!(
        (cash.credit, cash.amount_currency),
        (cents(945), Some(cents(-1200)))
    );
}

#[tokio::test]
async fn a_rounding_line_above_the_threshold_is_posted_and_alerted() {
    // Paid £2.00 more than the £12.00 due: a £2.00 rounding line, above the £1.00 default.
    let mut over = sale("s1", 1000, "CASH");
    over.payments[0].amount = cents(1400);
    let world = World::new(vec![over]).await;
    world.post(false).await.unwrap();
    assert_eq!(world.status().await, vec![(1, JournalStatus::Posted)]);
    world
        .assert_alert_names(ErrorCode::RoundingAboveThreshold, &["2.00"])
        .await;
    // Within the threshold once the sale is corrected: the alert resolves.
    world.set_sales(vec![sale("s1", 1000, "CASH")]).await;
    world.post(false).await.unwrap();
    world
        .assert_no_alert(ErrorCode::RoundingAboveThreshold)
        .await;
}
