//! The simulated database: companies, currencies and rates, the chart of accounts, journals,
//! taxes, journal entries and their lines, and the default scenario.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password: String,
    pub api_key: String,
    /// The main company (`env.company` without `allowed_company_ids`).
    pub company_id: i64,
    pub company_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub currency_id: i64,
    /// `account_journal_suspense_account_id`: where an automatic balancing line goes when the
    /// journal has no account of its own.
    pub suspense_account_id: Option<i64>,
    /// `fiscalyear_lock_date`: posting on or before it moves the date to the day after.
    pub lock_date: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Currency {
    pub id: i64,
    pub name: String,
    pub symbol: String,
    pub decimal_places: u32,
}

#[derive(Debug, Clone)]
pub struct Rate {
    pub id: i64,
    pub currency_id: i64,
    pub company_id: i64,
    pub date: NaiveDate,
    pub rate: Decimal,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub company_id: i64,
    pub code: String,
    pub name: String,
    pub account_type: String,
    pub deprecated: bool,
    pub reconcile: bool,
}

#[derive(Debug, Clone)]
pub struct Journal {
    pub id: i64,
    pub company_id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub default_account_id: Option<i64>,
    pub suspense_account_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Tax {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub amount: Decimal,
    pub type_tax_use: String,
    pub price_include: bool,
    /// The account of the tax line Odoo adds for a base line carrying this tax.
    pub account_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveState {
    Draft,
    Posted,
    Cancel,
}

impl MoveState {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveState::Draft => "draft",
            MoveState::Posted => "posted",
            MoveState::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Move {
    pub id: i64,
    /// `/` until the first post.
    pub name: String,
    pub reference: Option<String>,
    pub narration: Option<String>,
    pub date: NaiveDate,
    pub journal_id: i64,
    pub company_id: i64,
    pub currency_id: i64,
    pub state: MoveState,
    pub move_type: String,
    pub line_ids: Vec<i64>,
    pub reversed_entry_id: Option<i64>,
    pub create_uid: i64,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub move_id: i64,
    pub account_id: i64,
    pub name: Option<String>,
    pub debit: Decimal,
    pub credit: Decimal,
    pub amount_currency: Decimal,
    pub currency_id: i64,
    pub tax_ids: Vec<i64>,
    pub tax_line_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub display_type: String,
}

impl Line {
    pub fn balance(&self) -> Decimal {
        self.debit - self.credit
    }
}

/// The `account.move.reversal` wizard.
#[derive(Debug, Clone)]
pub struct Reversal {
    pub id: i64,
    pub move_ids: Vec<i64>,
    pub date: NaiveDate,
    pub reason: Option<String>,
    pub journal_id: Option<i64>,
    pub new_move_ids: Vec<i64>,
}

/// All records, keyed by id (ids are never reused, as in PostgreSQL).
#[derive(Debug, Clone, Default)]
pub struct Db {
    pub name: String,
    pub users: BTreeMap<i64, User>,
    pub companies: BTreeMap<i64, Company>,
    pub currencies: BTreeMap<i64, Currency>,
    pub rates: BTreeMap<i64, Rate>,
    pub accounts: BTreeMap<i64, Account>,
    pub journals: BTreeMap<i64, Journal>,
    pub taxes: BTreeMap<i64, Tax>,
    pub moves: BTreeMap<i64, Move>,
    pub lines: BTreeMap<i64, Line>,
    pub reversals: BTreeMap<i64, Reversal>,
    /// Next id per model.
    pub next_ids: BTreeMap<&'static str, i64>,
    /// Sequence counters per (journal, year, month).
    pub sequences: BTreeMap<(i64, i32, u32), u32>,
}

impl Db {
    pub fn next_id(&mut self, model: &'static str) -> i64 {
        let n = self.next_ids.entry(model).or_insert(1);
        let id = *n;
        *n += 1;
        id
    }

    pub fn decimals(&self, currency_id: i64) -> u32 {
        self.currencies
            .get(&currency_id)
            .map(|c| c.decimal_places)
            .unwrap_or(2)
    }

    pub fn account_by_code(&self, company_id: i64, code: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.company_id == company_id && a.code == code)
    }

    pub fn journal_by_code(&self, company_id: i64, code: &str) -> Option<&Journal> {
        self.journals
            .values()
            .find(|j| j.company_id == company_id && j.code == code)
    }

    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        self.users.values().find(|u| u.login == login)
    }

    /// The user whose password or API key this is.
    pub fn check_credentials(&self, uid: i64, secret: &str) -> Option<&User> {
        self.users
            .get(&uid)
            .filter(|u| u.password == secret || u.api_key == secret)
    }

    pub fn user_by_api_key(&self, key: &str) -> Option<&User> {
        self.users.values().find(|u| u.api_key == key)
    }
}

/// Rounds a monetary amount to the currency's decimals, half away from zero (Odoo's HALF-UP).
pub fn round(amount: Decimal, decimals: u32) -> Decimal {
    amount
        .round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// A JSON number (Odoo's float field on the wire) as the exact decimal its shortest text is.
pub fn decimal_from_json(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            text.parse::<Decimal>()
                .ok()
                .or_else(|| Decimal::from_scientific(&text).ok())
        }
        Value::String(s) => s
            .trim()
            .parse::<Decimal>()
            .ok()
            .or_else(|| Decimal::from_scientific(s.trim()).ok()),
        Value::Bool(false) | Value::Null => Some(Decimal::ZERO),
        _ => None,
    }
}

/// A decimal as the JSON float Odoo sends.
pub fn decimal_to_json(amount: Decimal) -> Value {
    use rust_decimal::prelude::ToPrimitive;
    let text = amount.normalize().to_string();
    if let Ok(n) = text.parse::<i64>() {
        // Odoo floats such as 115.0 arrive as 115.0; serde prints f64 115.0 as 115.0 too.
        return json!(n as f64);
    }
    amount.to_f64().map(|f| json!(f)).unwrap_or(json!(0.0))
}

/// The account codes each company of the default scenario gets (generic chart codes, plus
/// what a POS day posts to).
pub const DEFAULT_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("101300", "Account Receivable (PoS)", "asset_receivable"),
    ("101401", "Bank", "asset_cash"),
    ("101402", "Bank Suspense Account", "asset_current"),
    ("101403", "Outstanding Receipts", "asset_current"),
    ("101404", "Outstanding Payments", "asset_current"),
    ("101405", "Card Payments Clearing", "asset_current"),
    ("101501", "Cash", "asset_cash"),
    ("121000", "Account Receivable", "asset_receivable"),
    ("211000", "Account Payable", "liability_payable"),
    ("215000", "Tips Payable", "liability_current"),
    ("216000", "Gift Cards Outstanding", "liability_current"),
    ("251000", "Tax Received", "liability_current"),
    ("252000", "Tax Paid", "asset_current"),
    ("400000", "Product Sales", "income"),
    ("400900", "Old Sales (deprecated)", "income"),
    ("401000", "Discounts Given", "income"),
    ("402000", "Sales Refunds", "income"),
    ("403000", "Service Charge Income", "income"),
    ("442000", "Cash Difference Gain", "income_other"),
    ("443000", "Rounding Gain", "income_other"),
    ("642000", "Cash Difference Loss", "expense"),
    ("643000", "Rounding Loss", "expense"),
    (
        "999999",
        "Undistributed Profits/Losses",
        "equity_unaffected",
    ),
];

/// The codes of [`DEFAULT_ACCOUNTS`] seeded as deprecated.
pub const DEPRECATED_CODES: &[&str] = &["400900"];

/// Who and what the default scenario holds.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub db: String,
    pub login: String,
    pub password: String,
    pub api_key: String,
}

/// The default scenario: database `db`, user `admin` (uid 2) with two companies — a GBP
/// company (id 1, the user's main company) and an NZD company (id 2) — each with the generic
/// chart's accounts, journals MISC, POSS, CSH1 and BNK1, a sales tax and a few rates.
pub fn default_scenario(creds: &Credentials) -> Db {
    let mut db = Db {
        name: creds.db.clone(),
        ..Db::default()
    };
    for (name, symbol, places) in [
        ("GBP", "£", 2),
        ("NZD", "$", 2),
        ("USD", "$", 2),
        ("EUR", "€", 2),
        ("JPY", "¥", 0),
    ] {
        let id = db.next_id("res.currency");
        db.currencies.insert(
            id,
            Currency {
                id,
                name: name.into(),
                symbol: symbol.into(),
                decimal_places: places,
            },
        );
    }
    let companies = [
        (1, "Tillbridge Coffee Ltd", "GBP", ("20%", 20)),
        (2, "Tillbridge Coffee NZ Ltd", "NZD", ("15%", 15)),
    ];
    for (_, name, currency, (tax_name, tax_rate)) in companies {
        let currency_id = db
            .currencies
            .values()
            .find(|c| c.name == currency)
            .map(|c| c.id)
            .unwrap_or(1);
        let company_id = db.next_id("res.company");
        db.companies.insert(
            company_id,
            Company {
                id: company_id,
                name: name.into(),
                currency_id,
                suspense_account_id: None,
                lock_date: None,
            },
        );
        for (code, name, account_type) in DEFAULT_ACCOUNTS {
            let id = db.next_id("account.account");
            db.accounts.insert(
                id,
                Account {
                    id,
                    company_id,
                    code: (*code).into(),
                    name: (*name).into(),
                    account_type: (*account_type).into(),
                    deprecated: DEPRECATED_CODES.contains(code),
                    reconcile: account_type.starts_with("asset_receivable")
                        || account_type.starts_with("liability_payable"),
                },
            );
        }
        let code_id = |db: &Db, code: &str| db.account_by_code(company_id, code).map(|a| a.id);
        let suspense = code_id(&db, "101402");
        if let Some(c) = db.companies.get_mut(&company_id) {
            c.suspense_account_id = suspense;
        }
        let journals = [
            ("MISC", "Miscellaneous Operations", "general", None, None),
            ("POSS", "Point of Sale", "general", None, None),
            ("CSH1", "Cash", "cash", code_id(&db, "101501"), suspense),
            ("BNK1", "Bank", "bank", code_id(&db, "101401"), suspense),
        ];
        for (code, name, kind, default_account_id, suspense_account_id) in journals {
            let id = db.next_id("account.journal");
            db.journals.insert(
                id,
                Journal {
                    id,
                    company_id,
                    code: code.into(),
                    name: name.into(),
                    kind: kind.into(),
                    default_account_id,
                    suspense_account_id,
                },
            );
        }
        let tax_account = code_id(&db, "251000").unwrap_or(0);
        for (name, rate) in [(tax_name, tax_rate), ("0%", 0)] {
            let id = db.next_id("account.tax");
            db.taxes.insert(
                id,
                Tax {
                    id,
                    company_id,
                    name: name.into(),
                    amount: Decimal::from(rate),
                    type_tax_use: "sale".into(),
                    price_include: false,
                    account_id: tax_account,
                },
            );
        }
    }
    let rates: [(i64, &str, &str); 6] = [
        (1, "NZD", "2.1400"),
        (1, "USD", "1.2700"),
        (1, "EUR", "1.1700"),
        (2, "GBP", "0.4673"),
        (2, "USD", "0.5934"),
        (2, "EUR", "0.5467"),
    ];
    for (company_id, currency, rate) in rates {
        let Some(currency_id) = db
            .currencies
            .values()
            .find(|c| c.name == currency)
            .map(|c| c.id)
        else {
            continue;
        };
        let id = db.next_id("res.currency.rate");
        db.rates.insert(
            id,
            Rate {
                id,
                currency_id,
                company_id,
                date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
                rate: rate.parse().unwrap_or(Decimal::ONE),
            },
        );
    }
    // uid 1 is OdooBot (__system__) in a real database; the API user is uid 2.
    db.next_ids.insert("res.users", 2);
    let uid = db.next_id("res.users");
    db.users.insert(
        uid,
        User {
            id: uid,
            login: creds.login.clone(),
            name: "Administrator".into(),
            password: creds.password.clone(),
            api_key: creds.api_key.clone(),
            company_id: 1,
            company_ids: vec![1, 2],
        },
    );
    db
}
