//! The control API under `/_sim/odoo/`: reset, traps, seeding and inspection. Amounts in
//! and out are decimal strings (numbers are accepted on the way in). Documented in README.md.

use crate::orm::{self, BalancingMode, Env};
use crate::server::{json_response, AppState, Shared};
use crate::store::{decimal_from_json, round, Account, Db, Move};
use crate::traps::{Delay, FaultRule};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, patch, post, put};
use axum::Router;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_sim/odoo/health",
            get(|| async { json_response(200, &json!({"ok": true})) }),
        )
        .route("/_sim/odoo/info", get(info))
        .route("/_sim/odoo/reset", post(reset))
        .route("/_sim/odoo/traps", get(traps).delete(traps_clear))
        .route("/_sim/odoo/traps/balancing", put(balancing))
        .route("/_sim/odoo/traps/lock-date", put(lock_date))
        .route(
            "/_sim/odoo/traps/faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .route("/_sim/odoo/traps/delay", put(delay_set).delete(delay_clear))
        .route("/_sim/odoo/moves", get(moves_list).post(moves_seed))
        .route("/_sim/odoo/moves/{id}", get(move_get).delete(move_delete))
        .route("/_sim/odoo/lines/{id}", patch(line_tamper))
        .route("/_sim/odoo/accounts", get(accounts_list).post(account_add))
        .route("/_sim/odoo/accounts/{id}", patch(account_patch))
        .route("/_sim/odoo/calls", get(calls).delete(calls_clear))
}

fn bad(msg: impl Into<String>) -> Response {
    json_response(400, &json!({"error": msg.into()}))
}

fn not_found(msg: impl Into<String>) -> Response {
    json_response(404, &json!({"error": msg.into()}))
}

fn body<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, Response> {
    let b = if b.is_empty() { b"{}".as_slice() } else { b };
    serde_json::from_slice(b).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

fn money(db: &Db, currency_id: i64, amount: Decimal) -> String {
    let mut a = round(amount, db.decimals(currency_id));
    a.rescale(db.decimals(currency_id));
    a.to_string()
}

/// A move with its lines, amounts as exact decimal strings.
pub fn move_json(db: &Db, m: &Move) -> Value {
    let company_currency = db
        .companies
        .get(&m.company_id)
        .map(|c| c.currency_id)
        .unwrap_or(1);
    let lines: Vec<Value> = m
        .line_ids
        .iter()
        .filter_map(|l| db.lines.get(l))
        .map(|l| {
            let account = db.accounts.get(&l.account_id);
            json!({
                "id": l.id,
                "account_id": l.account_id,
                "account_code": account.map(|a| a.code.clone()),
                "name": l.name,
                "debit": money(db, company_currency, l.debit),
                "credit": money(db, company_currency, l.credit),
                "amount_currency": money(db, l.currency_id, l.amount_currency),
                "currency": db.currencies.get(&l.currency_id).map(|c| c.name.clone()),
                "tax_ids": l.tax_ids,
                "tax_line_id": l.tax_line_id,
                "display_type": l.display_type,
            })
        })
        .collect();
    let journal = db.journals.get(&m.journal_id);
    json!({
        "id": m.id,
        "name": m.name,
        "ref": m.reference,
        "date": m.date.to_string(),
        "state": m.state.as_str(),
        "move_type": m.move_type,
        "journal_id": m.journal_id,
        "journal_code": journal.map(|j| j.code.clone()),
        "company_id": m.company_id,
        "currency": db.currencies.get(&m.currency_id).map(|c| c.name.clone()),
        "reversed_entry_id": m.reversed_entry_id,
        "lines": lines,
    })
}

async fn info(State(s): State<Arc<AppState>>) -> Response {
    let g = s.lock();
    let companies: Vec<Value> = g
        .db
        .companies
        .values()
        .map(|c| {
            let journals: Vec<Value> =
                g.db.journals
                    .values()
                    .filter(|j| j.company_id == c.id)
                    .map(|j| json!({"id": j.id, "code": j.code, "name": j.name, "type": j.kind}))
                    .collect();
            json!({
                "id": c.id,
                "name": c.name,
                "currency": g.db.currencies.get(&c.currency_id).map(|x| x.name.clone()),
                "lock_date": c.lock_date.map(|d| d.to_string()),
                "journals": journals,
            })
        })
        .collect();
    json_response(
        200,
        &json!({
            "base_url": s.base_url.get(),
            "version": format!("{}.0", s.cfg.version.major()),
            "db": s.cfg.db,
            "login": s.cfg.login,
            "password": s.cfg.password,
            "api_key": s.cfg.api_key,
            "uid": 2,
            "today": s.today().to_string(),
            "companies": companies,
        }),
    )
}

async fn reset(State(s): State<Arc<AppState>>) -> Response {
    let mut g = s.lock();
    *g = Shared::new(&s.cfg);
    json_response(200, &json!({"ok": true}))
}

fn traps_value(g: &Shared) -> Value {
    let locks: Vec<Value> =
        g.db.companies
            .values()
            .map(|c| json!({"company_id": c.id, "lock_date": c.lock_date.map(|d| d.to_string())}))
            .collect();
    json!({
        "balancing": g.balancing,
        "lock_dates": locks,
        "faults": g.faults,
        "delay": g.delay,
    })
}

async fn traps(State(s): State<Arc<AppState>>) -> Response {
    let g = s.lock();
    json_response(200, &traps_value(&g))
}

async fn traps_clear(State(s): State<Arc<AppState>>) -> Response {
    let mut g = s.lock();
    g.balancing = BalancingMode::Off;
    g.faults.clear();
    g.delay = None;
    for c in g.db.companies.values_mut() {
        c.lock_date = None;
    }
    json_response(200, &traps_value(&g))
}

#[derive(Deserialize)]
struct BalancingBody {
    mode: BalancingMode,
}

async fn balancing(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: BalancingBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    g.balancing = req.mode;
    json_response(200, &traps_value(&g))
}

#[derive(Deserialize)]
struct LockBody {
    company_id: i64,
    date: Option<NaiveDate>,
}

async fn lock_date(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: LockBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    let Some(c) = g.db.companies.get_mut(&req.company_id) else {
        return not_found(format!("no company {}", req.company_id));
    };
    c.lock_date = req.date;
    json_response(200, &traps_value(&g))
}

async fn faults_list(State(s): State<Arc<AppState>>) -> Response {
    let g = s.lock();
    json_response(200, &json!(g.faults))
}

async fn faults_add(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let mut rule: FaultRule = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(status) = rule.status {
        if !(100..=599).contains(&status) {
            return bad("status must be an HTTP status");
        }
    }
    rule.seen = 0;
    rule.fired = 0;
    let mut g = s.lock();
    g.faults.push(rule);
    json_response(200, &json!(g.faults))
}

async fn faults_clear(State(s): State<Arc<AppState>>) -> Response {
    let mut g = s.lock();
    g.faults.clear();
    json_response(200, &json!([]))
}

async fn delay_set(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let d: Delay = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    g.delay = Some(d);
    json_response(200, &traps_value(&g))
}

async fn delay_clear(State(s): State<Arc<AppState>>) -> Response {
    let mut g = s.lock();
    g.delay = None;
    json_response(200, &traps_value(&g))
}

async fn moves_list(
    State(s): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let g = s.lock();
    let company: Option<i64> = q.get("company_id").and_then(|c| c.parse().ok());
    let moves: Vec<Value> =
        g.db.moves
            .values()
            .filter(|m| {
                q.get("ref")
                    .is_none_or(|r| m.reference.as_deref() == Some(r.as_str()))
            })
            .filter(|m| company.is_none_or(|c| m.company_id == c))
            .filter(|m| q.get("state").is_none_or(|st| m.state.as_str() == st))
            .filter(|m| {
                q.get("journal").is_none_or(|code| {
                    g.db.journals
                        .get(&m.journal_id)
                        .is_some_and(|j| &j.code == code)
                })
            })
            .map(|m| move_json(&g.db, m))
            .collect();
    json_response(200, &json!(moves))
}

async fn move_get(State(s): State<Arc<AppState>>, Path(id): Path<i64>) -> Response {
    let g = s.lock();
    match g.db.moves.get(&id) {
        Some(m) => json_response(200, &move_json(&g.db, m)),
        None => not_found(format!("no move {id}")),
    }
}

/// Deletes a move whatever its state ("deleted in the ERP behind the client's back").
async fn move_delete(State(s): State<Arc<AppState>>, Path(id): Path<i64>) -> Response {
    let mut g = s.lock();
    match g.db.moves.remove(&id) {
        Some(m) => {
            for l in &m.line_ids {
                g.db.lines.remove(l);
            }
            json_response(200, &json!({"deleted": id}))
        }
        None => not_found(format!("no move {id}")),
    }
}

#[derive(Deserialize)]
struct SeedLine {
    account_code: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    debit: Option<Value>,
    #[serde(default)]
    credit: Option<Value>,
}

#[derive(Deserialize)]
struct SeedMove {
    #[serde(default = "one")]
    company_id: i64,
    #[serde(default = "misc")]
    journal_code: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    date: Option<String>,
    #[serde(default = "posted")]
    state: String,
    lines: Vec<SeedLine>,
}

fn one() -> i64 {
    1
}
fn misc() -> String {
    "MISC".into()
}
fn posted() -> String {
    "posted".into()
}

/// Creates a move as someone else would have (no traps, no faults), draft or posted.
async fn moves_seed(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: SeedMove = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let today = s.today();
    let mut g = s.lock();
    let Some(journal) =
        g.db.journal_by_code(req.company_id, &req.journal_code)
            .map(|j| j.id)
    else {
        return not_found(format!(
            "no journal {} in company {}",
            req.journal_code, req.company_id
        ));
    };
    let mut lines = Vec::new();
    for l in &req.lines {
        let Some(account) = g.db.account_by_code(req.company_id, &l.account_code) else {
            return not_found(format!(
                "no account {} in company {}",
                l.account_code, req.company_id
            ));
        };
        lines.push(json!([0, 0, {
            "account_id": account.id,
            "name": l.name,
            "debit": l.debit.as_ref().and_then(decimal_from_json).map(|d| d.to_string()).unwrap_or("0".into()),
            "credit": l.credit.as_ref().and_then(decimal_from_json).map(|d| d.to_string()).unwrap_or("0".into()),
        }]));
    }
    let mut vals = Map::new();
    vals.insert("journal_id".into(), json!(journal));
    vals.insert("line_ids".into(), Value::Array(lines));
    if let Some(r) = &req.reference {
        vals.insert("ref".into(), json!(r));
    }
    if let Some(d) = &req.date {
        vals.insert("date".into(), json!(d));
    }
    let env = Env {
        uid: 2,
        companies: g.db.companies.keys().copied().collect(),
        company: req.company_id,
        today,
        balancing: BalancingMode::Off,
    };
    let db = &mut g.db;
    let backup = db.clone();
    let created = orm::create_move(db, &env, &vals).and_then(|id| {
        if req.state == "posted" {
            orm::post_move(db, id).map(|_| id)
        } else {
            Ok(id)
        }
    });
    match created {
        Ok(id) => match g.db.moves.get(&id) {
            Some(m) => json_response(200, &move_json(&g.db, m)),
            None => not_found("the move vanished"),
        },
        Err(e) => {
            g.db = backup;
            bad(e.to_string())
        }
    }
}

#[derive(Deserialize)]
struct Tamper {
    debit: Option<Value>,
    credit: Option<Value>,
    name: Option<String>,
    account_code: Option<String>,
}

/// Changes a line whatever its move's state (tampering in the ERP); no balance check.
async fn line_tamper(State(s): State<Arc<AppState>>, Path(id): Path<i64>, b: Bytes) -> Response {
    let req: Tamper = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    let Some(company) =
        g.db.lines
            .get(&id)
            .and_then(|l| g.db.moves.get(&l.move_id))
            .map(|m| m.company_id)
    else {
        return not_found(format!("no line {id}"));
    };
    let account = match &req.account_code {
        Some(code) => match g.db.account_by_code(company, code) {
            Some(a) => Some(a.id),
            None => return not_found(format!("no account {code}")),
        },
        None => None,
    };
    let Some(line) = g.db.lines.get_mut(&id) else {
        return not_found(format!("no line {id}"));
    };
    if let Some(d) = req.debit.as_ref().and_then(decimal_from_json) {
        line.debit = d;
    }
    if let Some(c) = req.credit.as_ref().and_then(decimal_from_json) {
        line.credit = c;
    }
    line.amount_currency = line.debit - line.credit;
    if let Some(n) = req.name {
        line.name = Some(n);
    }
    if let Some(a) = account {
        line.account_id = a;
    }
    let move_id = line.move_id;
    match g.db.moves.get(&move_id) {
        Some(m) => json_response(200, &move_json(&g.db, m)),
        None => not_found("no move"),
    }
}

fn account_json(a: &Account) -> Value {
    json!({"id": a.id, "company_id": a.company_id, "code": a.code, "name": a.name,
        "account_type": a.account_type, "deprecated": a.deprecated})
}

async fn accounts_list(
    State(s): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let g = s.lock();
    let company: Option<i64> = q.get("company_id").and_then(|c| c.parse().ok());
    let list: Vec<Value> =
        g.db.accounts
            .values()
            .filter(|a| company.is_none_or(|c| a.company_id == c))
            .filter(|a| q.get("code").is_none_or(|c| &a.code == c))
            .map(account_json)
            .collect();
    json_response(200, &json!(list))
}

#[derive(Deserialize)]
struct NewAccount {
    company_id: i64,
    code: String,
    name: String,
    #[serde(default = "income")]
    account_type: String,
    #[serde(default)]
    deprecated: bool,
}

fn income() -> String {
    "income".into()
}

async fn account_add(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: NewAccount = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    if !g.db.companies.contains_key(&req.company_id) {
        return not_found(format!("no company {}", req.company_id));
    }
    if g.db.account_by_code(req.company_id, &req.code).is_some() {
        return bad(format!(
            "account {} exists in company {}",
            req.code, req.company_id
        ));
    }
    let id = g.db.next_id("account.account");
    let account = Account {
        id,
        company_id: req.company_id,
        code: req.code,
        name: req.name,
        account_type: req.account_type,
        deprecated: req.deprecated,
        reconcile: false,
    };
    let out = account_json(&account);
    g.db.accounts.insert(id, account);
    json_response(200, &out)
}

#[derive(Deserialize)]
struct AccountPatch {
    deprecated: Option<bool>,
    name: Option<String>,
}

async fn account_patch(State(s): State<Arc<AppState>>, Path(id): Path<i64>, b: Bytes) -> Response {
    let req: AccountPatch = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut g = s.lock();
    let Some(a) = g.db.accounts.get_mut(&id) else {
        return not_found(format!("no account {id}"));
    };
    if let Some(d) = req.deprecated {
        a.deprecated = d;
    }
    if let Some(n) = req.name {
        a.name = n;
    }
    json_response(200, &account_json(a))
}

async fn calls(State(s): State<Arc<AppState>>) -> Response {
    let g = s.lock();
    json_response(200, &json!(g.calls))
}

async fn calls_clear(State(s): State<Arc<AppState>>) -> Response {
    let mut g = s.lock();
    g.calls.clear();
    json_response(200, &json!([]))
}
