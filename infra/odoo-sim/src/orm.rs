//! The models and their public methods, transport-neutral: both `/jsonrpc` and `/json/2`
//! bind their arguments into named parameters and call [`call`].

use crate::domain;
use crate::error::{Kind, OdooError, OdooResult};
use crate::store::{
    decimal_from_json, decimal_to_json, round, Db, Line, Move, MoveState, Reversal,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What the "Automatic Balancing Line" trap does at `account.move` `create`/`write`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalancingMode {
    /// Every unbalanced entry is refused ("The entry is not balanced."), taxes or not.
    #[default]
    Off,
    /// Odoo 18's own rule (`_sync_unbalanced_lines`): when a line carries `tax_ids`, an
    /// unbalanced entry gets an "Automatic Balancing Line" instead of an error.
    Taxes,
    /// Any unbalanced entry gets the line.
    Unbalanced,
    /// Every created entry gets the line (0.00 when the entry balances), to prove detection.
    Always,
}

/// Who calls, in which companies, on which day.
#[derive(Debug, Clone)]
pub struct Env {
    pub uid: i64,
    /// `env.companies`: `context.allowed_company_ids`, or all the user's companies.
    pub companies: Vec<i64>,
    /// `env.company`: the first allowed company, or the user's main company.
    pub company: i64,
    pub today: NaiveDate,
    pub balancing: BalancingMode,
}

impl Env {
    /// Builds the environment from the call's context (`allowed_company_ids`).
    pub fn new(
        db: &Db,
        uid: i64,
        context: &Value,
        today: NaiveDate,
        balancing: BalancingMode,
    ) -> OdooResult<Env> {
        let user = db.users.get(&uid).ok_or_else(OdooError::denied)?;
        let allowed: Option<Vec<i64>> = context
            .get("allowed_company_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .filter(|ids: &Vec<i64>| !ids.is_empty());
        let (companies, company) = match allowed {
            Some(ids) => {
                if ids.iter().any(|id| !user.company_ids.contains(id)) {
                    return Err(OdooError::access(
                        "Access to unauthorized or invalid companies.",
                    ));
                }
                let first = ids[0];
                (ids, first)
            }
            None => (user.company_ids.clone(), user.company_id),
        };
        Ok(Env {
            uid,
            companies,
            company,
            today,
            balancing,
        })
    }
}

/// One public method of a model: its parameters (after `self`) and whether it is
/// `@api.model` (no ids).
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    pub api_model: bool,
    pub params: &'static [&'static str],
}

pub const MODELS: &[&str] = &[
    "res.users",
    "res.company",
    "res.currency",
    "res.currency.rate",
    "account.account",
    "account.journal",
    "account.tax",
    "account.move",
    "account.move.line",
    "account.move.reversal",
];

/// Why a (model, method) pair cannot be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    NoModel,
    Private,
    NoMethod,
}

pub fn resolve(model: &str, method: &str) -> Result<MethodSpec, Unresolved> {
    if !MODELS.contains(&model) {
        return Err(Unresolved::NoModel);
    }
    if method.starts_with('_') {
        return Err(Unresolved::Private);
    }
    let spec = |api_model, params| Ok(MethodSpec { api_model, params });
    match method {
        "search" => spec(true, &["domain", "offset", "limit", "order"]),
        "search_read" => spec(true, &["domain", "fields", "offset", "limit", "order"]),
        "search_count" => spec(true, &["domain", "limit"]),
        "read" => spec(false, &["fields", "load"]),
        "create" => spec(true, &["vals_list"]),
        "write" => spec(false, &["vals"]),
        "unlink" => spec(false, &[]),
        "context_get" if model == "res.users" => spec(true, &[]),
        "action_post" | "button_draft" | "button_cancel" if model == "account.move" => {
            spec(false, &[])
        }
        "refund_moves" if model == "account.move.reversal" => spec(false, &[]),
        "reverse_moves" if model == "account.move.reversal" => spec(false, &["is_modify"]),
        _ => Err(Unresolved::NoMethod),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    Plain,
    M2o(&'static str),
    X2m,
}

fn schema(model: &str) -> &'static [(&'static str, F)] {
    use F::*;
    match model {
        "res.users" => &[
            ("login", Plain),
            ("name", Plain),
            ("company_id", M2o("res.company")),
            ("company_ids", X2m),
            ("active", Plain),
            ("display_name", Plain),
        ],
        "res.company" => &[
            ("name", Plain),
            ("currency_id", M2o("res.currency")),
            ("fiscalyear_lock_date", Plain),
            (
                "account_journal_suspense_account_id",
                M2o("account.account"),
            ),
            ("display_name", Plain),
        ],
        "res.currency" => &[
            ("name", Plain),
            ("symbol", Plain),
            ("decimal_places", Plain),
            ("rounding", Plain),
            ("active", Plain),
            ("display_name", Plain),
        ],
        "res.currency.rate" => &[
            ("name", Plain),
            ("rate", Plain),
            ("currency_id", M2o("res.currency")),
            ("company_id", M2o("res.company")),
            ("display_name", Plain),
        ],
        "account.account" => &[
            ("code", Plain),
            ("name", Plain),
            ("account_type", Plain),
            ("deprecated", Plain),
            ("reconcile", Plain),
            ("company_ids", X2m),
            ("currency_id", M2o("res.currency")),
            ("display_name", Plain),
        ],
        "account.journal" => &[
            ("code", Plain),
            ("name", Plain),
            ("type", Plain),
            ("company_id", M2o("res.company")),
            ("default_account_id", M2o("account.account")),
            ("suspense_account_id", M2o("account.account")),
            ("currency_id", M2o("res.currency")),
            ("active", Plain),
            ("display_name", Plain),
        ],
        "account.tax" => &[
            ("name", Plain),
            ("amount", Plain),
            ("amount_type", Plain),
            ("type_tax_use", Plain),
            ("price_include", Plain),
            ("company_id", M2o("res.company")),
            ("active", Plain),
            ("display_name", Plain),
        ],
        "account.move" => &[
            ("name", Plain),
            ("ref", Plain),
            ("narration", Plain),
            ("date", Plain),
            ("journal_id", M2o("account.journal")),
            ("company_id", M2o("res.company")),
            ("currency_id", M2o("res.currency")),
            ("company_currency_id", M2o("res.currency")),
            ("state", Plain),
            ("move_type", Plain),
            ("line_ids", X2m),
            ("reversed_entry_id", M2o("account.move")),
            ("reversal_move_ids", X2m),
            ("amount_total", Plain),
            ("posted_before", Plain),
            ("create_uid", M2o("res.users")),
            ("display_name", Plain),
        ],
        "account.move.line" => &[
            ("move_id", M2o("account.move")),
            ("move_name", Plain),
            ("account_id", M2o("account.account")),
            ("name", Plain),
            ("debit", Plain),
            ("credit", Plain),
            ("balance", Plain),
            ("amount_currency", Plain),
            ("currency_id", M2o("res.currency")),
            ("company_id", M2o("res.company")),
            ("company_currency_id", M2o("res.currency")),
            ("journal_id", M2o("account.journal")),
            ("date", Plain),
            ("ref", Plain),
            ("parent_state", Plain),
            ("tax_ids", X2m),
            ("tax_line_id", M2o("account.tax")),
            ("partner_id", M2o("res.partner")),
            ("display_type", Plain),
            ("display_name", Plain),
        ],
        "account.move.reversal" => &[
            ("move_ids", X2m),
            ("new_move_ids", X2m),
            ("date", Plain),
            ("reason", Plain),
            ("journal_id", M2o("account.journal")),
            ("display_name", Plain),
        ],
        _ => &[],
    }
}

fn field_names(model: &str) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = vec!["id"];
    names.extend(schema(model).iter().map(|(n, _)| *n));
    names
}

fn m2o(id: Option<i64>) -> Value {
    id.map(Value::from).unwrap_or(Value::Bool(false))
}

fn text(s: &Option<String>) -> Value {
    match s {
        Some(s) if !s.is_empty() => Value::String(s.clone()),
        _ => Value::Bool(false),
    }
}

fn date(d: Option<NaiveDate>) -> Value {
    d.map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(Value::Bool(false))
}

/// The display name of a record (what a many2one reads back as).
pub fn display_name(db: &Db, model: &str, id: i64) -> String {
    match model {
        "res.users" => db.users.get(&id).map(|u| u.name.clone()),
        "res.company" => db.companies.get(&id).map(|c| c.name.clone()),
        "res.currency" => db.currencies.get(&id).map(|c| c.name.clone()),
        "res.currency.rate" => db.rates.get(&id).map(|r| r.date.to_string()),
        "account.account" => db
            .accounts
            .get(&id)
            .map(|a| format!("{} {}", a.code, a.name)),
        "account.journal" => db.journals.get(&id).map(|j| j.name.clone()),
        "account.tax" => db.taxes.get(&id).map(|t| t.name.clone()),
        "account.move" => db.moves.get(&id).map(move_display_name),
        "account.move.line" => db.lines.get(&id).map(|l| {
            let mv = db.moves.get(&l.move_id);
            [
                mv.map(|m| m.name.clone()).filter(|n| n != "/"),
                mv.and_then(|m| m.reference.clone())
                    .map(|r| format!("({r})")),
                l.name.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        }),
        "account.move.reversal" => Some(format!("account.move.reversal,{id}")),
        _ => None,
    }
    .unwrap_or_default()
}

fn move_display_name(m: &Move) -> String {
    if m.state == MoveState::Draft {
        if m.name == "/" {
            format!("Draft Entry (* {})", m.id)
        } else {
            format!("Draft Entry {}", m.name)
        }
    } else {
        m.name.clone()
    }
}

fn company_of(db: &Db, model: &str, id: i64) -> Option<i64> {
    match model {
        "res.currency.rate" => db.rates.get(&id).map(|r| r.company_id),
        "account.account" => db.accounts.get(&id).map(|a| a.company_id),
        "account.journal" => db.journals.get(&id).map(|j| j.company_id),
        "account.tax" => db.taxes.get(&id).map(|t| t.company_id),
        "account.move" => db.moves.get(&id).map(|m| m.company_id),
        "account.move.line" => db
            .lines
            .get(&id)
            .and_then(|l| db.moves.get(&l.move_id))
            .map(|m| m.company_id),
        _ => None,
    }
}

fn all_ids(db: &Db, model: &str) -> Vec<i64> {
    match model {
        "res.users" => db.users.keys().copied().collect(),
        "res.company" => db.companies.keys().copied().collect(),
        "res.currency" => db.currencies.keys().copied().collect(),
        "res.currency.rate" => db.rates.keys().copied().collect(),
        "account.account" => db.accounts.keys().copied().collect(),
        "account.journal" => db.journals.keys().copied().collect(),
        "account.tax" => db.taxes.keys().copied().collect(),
        "account.move" => db.moves.keys().copied().collect(),
        "account.move.line" => db.lines.keys().copied().collect(),
        "account.move.reversal" => db.reversals.keys().copied().collect(),
        _ => Vec::new(),
    }
}

/// Visible to the environment (multi-company record rules).
fn visible(db: &Db, env: &Env, model: &str, id: i64) -> bool {
    company_of(db, model, id).is_none_or(|c| env.companies.contains(&c))
}

/// A record's raw values: many2one as an id or false, x2many as ids.
fn raw(db: &Db, env: &Env, model: &str, id: i64) -> Option<Map<String, Value>> {
    let v = match model {
        "res.users" => {
            let u = db.users.get(&id)?;
            json!({"id": id, "login": u.login, "name": u.name, "company_id": u.company_id,
                "company_ids": u.company_ids, "active": true, "display_name": u.name})
        }
        "res.company" => {
            let c = db.companies.get(&id)?;
            json!({"id": id, "name": c.name, "currency_id": c.currency_id,
                "fiscalyear_lock_date": date(c.lock_date),
                "account_journal_suspense_account_id": m2o(c.suspense_account_id),
                "display_name": c.name})
        }
        "res.currency" => {
            let c = db.currencies.get(&id)?;
            let rounding = Decimal::new(1, c.decimal_places);
            json!({"id": id, "name": c.name, "symbol": c.symbol, "decimal_places": c.decimal_places,
                "rounding": decimal_to_json(rounding), "active": true, "display_name": c.name})
        }
        "res.currency.rate" => {
            let r = db.rates.get(&id)?;
            json!({"id": id, "name": date(Some(r.date)), "rate": decimal_to_json(r.rate),
                "currency_id": r.currency_id, "company_id": r.company_id,
                "display_name": date(Some(r.date))})
        }
        "account.account" => {
            let a = db.accounts.get(&id)?;
            // Odoo 18: `code` is company-dependent, computed for `env.company`.
            let code = if a.company_id == env.company {
                Value::String(a.code.clone())
            } else {
                Value::Bool(false)
            };
            json!({"id": id, "code": code, "name": a.name, "account_type": a.account_type,
                "deprecated": a.deprecated, "reconcile": a.reconcile, "company_ids": [a.company_id],
                "currency_id": false, "display_name": display_name(db, model, id)})
        }
        "account.journal" => {
            let j = db.journals.get(&id)?;
            json!({"id": id, "code": j.code, "name": j.name, "type": j.kind, "company_id": j.company_id,
                "default_account_id": m2o(j.default_account_id),
                "suspense_account_id": m2o(j.suspense_account_id), "currency_id": false,
                "active": true, "display_name": j.name})
        }
        "account.tax" => {
            let t = db.taxes.get(&id)?;
            json!({"id": id, "name": t.name, "amount": decimal_to_json(t.amount), "amount_type": "percent",
                "type_tax_use": t.type_tax_use, "price_include": t.price_include,
                "company_id": t.company_id, "active": true, "display_name": t.name})
        }
        "account.move" => {
            let m = db.moves.get(&id)?;
            let company_currency = db.companies.get(&m.company_id).map(|c| c.currency_id);
            let total: Decimal = m
                .line_ids
                .iter()
                .filter_map(|l| db.lines.get(l))
                .map(|l| l.debit)
                .sum();
            let reversals: Vec<i64> = db
                .moves
                .values()
                .filter(|r| r.reversed_entry_id == Some(id))
                .map(|r| r.id)
                .collect();
            json!({"id": id, "name": m.name, "ref": text(&m.reference), "narration": text(&m.narration),
                "date": date(Some(m.date)), "journal_id": m.journal_id, "company_id": m.company_id,
                "currency_id": m.currency_id, "company_currency_id": m2o(company_currency),
                "state": m.state.as_str(), "move_type": m.move_type, "line_ids": m.line_ids,
                "reversed_entry_id": m2o(m.reversed_entry_id), "reversal_move_ids": reversals,
                "amount_total": decimal_to_json(total), "posted_before": m.name != "/",
                "create_uid": m.create_uid, "display_name": move_display_name(m)})
        }
        "account.move.line" => {
            let l = db.lines.get(&id)?;
            let m = db.moves.get(&l.move_id)?;
            let company_currency = db.companies.get(&m.company_id).map(|c| c.currency_id);
            json!({"id": id, "move_id": l.move_id, "move_name": m.name, "account_id": l.account_id,
                "name": text(&l.name), "debit": decimal_to_json(l.debit),
                "credit": decimal_to_json(l.credit), "balance": decimal_to_json(l.balance()),
                "amount_currency": decimal_to_json(l.amount_currency), "currency_id": l.currency_id,
                "company_id": m.company_id, "company_currency_id": m2o(company_currency),
                "journal_id": m.journal_id, "date": date(Some(m.date)), "ref": text(&m.reference),
                "parent_state": m.state.as_str(), "tax_ids": l.tax_ids, "tax_line_id": m2o(l.tax_line_id),
                "partner_id": m2o(l.partner_id), "display_type": l.display_type,
                "display_name": display_name(db, model, id)})
        }
        "account.move.reversal" => {
            let r = db.reversals.get(&id)?;
            json!({"id": id, "move_ids": r.move_ids, "new_move_ids": r.new_move_ids,
                "date": date(Some(r.date)), "reason": text(&r.reason), "journal_id": m2o(r.journal_id),
                "display_name": display_name(db, model, id)})
        }
        _ => return None,
    };
    match v {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Converts raw values to what `read` answers: many2one as `[id, "name"]`.
fn present(db: &Db, model: &str, raw: &Map<String, Value>, fields: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), raw.get("id").cloned().unwrap_or(Value::Null));
    for f in fields {
        let value = raw.get(f).cloned().unwrap_or(Value::Bool(false));
        let kind = schema(model)
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, k)| *k)
            .unwrap_or(F::Plain);
        let value = match (kind, &value) {
            (F::M2o(comodel), Value::Number(n)) => {
                let id = n.as_i64().unwrap_or_default();
                json!([id, display_name(db, comodel, id)])
            }
            _ => value,
        };
        out.insert(f.clone(), value);
    }
    Value::Object(out)
}

/// Named parameters of one call.
pub type Params = Map<String, Value>;

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    p.get(name).filter(|v| !v.is_null())
}

fn usize_param(p: &Params, name: &str) -> OdooResult<Option<usize>> {
    match param(p, name) {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| OdooError::type_error(format!("{name} must be an integer, got {v}"))),
    }
}

fn fields_param(model: &str, p: &Params) -> OdooResult<Vec<String>> {
    let names = field_names(model);
    let wanted: Vec<String> = match param(p, "fields") {
        None => Vec::new(),
        Some(Value::Array(v)) => v
            .iter()
            .map(|f| f.as_str().unwrap_or_default().to_string())
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => return Err(OdooError::type_error(format!("Invalid fields {other}"))),
    };
    if wanted.is_empty() {
        return Ok(names
            .iter()
            .filter(|n| **n != "id")
            .map(|n| n.to_string())
            .collect());
    }
    for f in &wanted {
        if !names.contains(&f.as_str()) {
            return Err(OdooError::value(format!(
                "Invalid field '{f}' on model '{model}'"
            )));
        }
    }
    Ok(wanted.into_iter().filter(|f| f != "id").collect())
}

fn search_ids(db: &Db, env: &Env, model: &str, p: &Params) -> OdooResult<Vec<i64>> {
    let node = domain::parse(
        model,
        param(p, "domain").unwrap_or(&Value::Null),
        &field_names(model),
    )?;
    let mut rows: Vec<Map<String, Value>> = all_ids(db, model)
        .into_iter()
        .filter(|id| visible(db, env, model, *id))
        .filter_map(|id| raw(db, env, model, id))
        .filter(|r| domain::matches(&node, r))
        .collect();
    if let Some(order) = param(p, "order").and_then(Value::as_str) {
        let keys: Vec<(String, bool)> = order
            .split(',')
            .filter_map(|part| {
                let mut it = part.split_whitespace();
                let field = it.next()?.to_string();
                let desc = it.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                Some((field, desc))
            })
            .collect();
        let names = field_names(model);
        for (f, _) in &keys {
            if !names.contains(&f.as_str()) {
                return Err(OdooError::value(format!(
                    "Invalid field {f:?} on model {model:?}"
                )));
            }
        }
        rows.sort_by(|a, b| {
            for (f, desc) in &keys {
                let (x, y) = (a.get(f), b.get(f));
                let ord = match (x, y) {
                    (Some(Value::Number(x)), Some(Value::Number(y))) => x
                        .as_f64()
                        .partial_cmp(&y.as_f64())
                        .unwrap_or(std::cmp::Ordering::Equal),
                    (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
                    _ => std::cmp::Ordering::Equal,
                };
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let offset = usize_param(p, "offset")?.unwrap_or(0);
    let limit = usize_param(p, "limit")?;
    Ok(rows
        .iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .filter_map(|r| r.get("id").and_then(Value::as_i64))
        .collect())
}

fn check_ids(db: &Db, env: &Env, model: &str, ids: &[i64]) -> OdooResult<()> {
    let existing = all_ids(db, model);
    let missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|i| !existing.contains(i))
        .collect();
    if !missing.is_empty() {
        return Err(OdooError::missing(model, &missing, env.uid));
    }
    if let Some(id) = ids.iter().find(|id| !visible(db, env, model, **id)) {
        return Err(OdooError::access(format!(
            "You do not have access to this record ({model}, id {id}): it belongs to a company outside the allowed companies."
        )));
    }
    Ok(())
}

fn read(db: &Db, env: &Env, model: &str, ids: &[i64], p: &Params) -> OdooResult<Value> {
    let fields = fields_param(model, p)?;
    check_ids(db, env, model, ids)?;
    Ok(Value::Array(
        ids.iter()
            .filter_map(|id| raw(db, env, model, *id))
            .map(|r| present(db, model, &r, &fields))
            .collect(),
    ))
}

/// Calls one public method; `Ok(None)` is Python's `None`.
pub fn call(
    db: &mut Db,
    env: &Env,
    model: &str,
    method: &str,
    ids: Vec<i64>,
    p: &Params,
) -> OdooResult<Option<Value>> {
    let some = |v: Value| Ok(Some(v));
    match method {
        "search" => some(json!(search_ids(db, env, model, p)?)),
        "search_count" => {
            let found = search_ids(db, env, model, p)?;
            let n = match usize_param(p, "limit")? {
                Some(l) => found.len().min(l),
                None => found.len(),
            };
            some(json!(n))
        }
        "search_read" => {
            let fields = fields_param(model, p)?;
            let found = search_ids(db, env, model, p)?;
            some(Value::Array(
                found
                    .iter()
                    .filter_map(|id| raw(db, env, model, *id))
                    .map(|r| present(db, model, &r, &fields))
                    .collect(),
            ))
        }
        "read" => some(read(db, env, model, &ids, p)?),
        "context_get" => some(json!({"lang": "en_US", "tz": "Europe/London", "uid": env.uid})),
        "create" => {
            let vals = param(p, "vals_list").cloned().unwrap_or(json!({}));
            let (list, single) = match vals {
                Value::Object(map) => (vec![map], true),
                Value::Array(items) => {
                    let mut list = Vec::new();
                    for item in items {
                        match item {
                            Value::Object(map) => list.push(map),
                            other => {
                                return Err(OdooError::value(format!(
                                    "create expects dicts of values, got {other}"
                                )))
                            }
                        }
                    }
                    (list, false)
                }
                other => {
                    return Err(OdooError::value(format!(
                        "create expects a dict or a list of dicts, got {other}"
                    )))
                }
            };
            let mut created = Vec::new();
            for vals in &list {
                let id = match model {
                    "account.move" => create_move(db, env, vals)?,
                    "account.move.reversal" => create_reversal(db, env, vals)?,
                    _ => {
                        return Err(OdooError::user(format!(
                            "odoo-sim does not simulate create on {model}; seed it through the control API"
                        )))
                    }
                };
                created.push(id);
            }
            if single {
                some(json!(created.first().copied().unwrap_or_default()))
            } else {
                some(json!(created))
            }
        }
        "write" => {
            let vals = match param(p, "vals") {
                Some(Value::Object(map)) => map.clone(),
                _ => return Err(OdooError::value("write expects a dict of values")),
            };
            check_ids(db, env, model, &ids)?;
            match model {
                "account.move" => {
                    for id in &ids {
                        write_move(db, env, *id, &vals)?;
                    }
                }
                "account.move.line" => {
                    for id in &ids {
                        write_line(db, env, *id, &vals)?;
                    }
                }
                _ => {
                    return Err(OdooError::user(format!(
                        "odoo-sim does not simulate write on {model}"
                    )))
                }
            }
            some(json!(true))
        }
        "unlink" => {
            check_ids(db, env, model, &ids)?;
            match model {
                "account.move" => {
                    for id in &ids {
                        let Some(m) = db.moves.get(id) else { continue };
                        if m.state == MoveState::Posted {
                            return Err(OdooError::user(
                                "You cannot delete an item linked to a posted entry.",
                            ));
                        }
                        if m.name != "/" {
                            return Err(OdooError::user(
                                "You cannot delete this entry, as it has already consumed a sequence number and is not the last one in the chain. You should probably revert it instead.",
                            ));
                        }
                    }
                    for id in &ids {
                        if let Some(m) = db.moves.remove(id) {
                            for l in m.line_ids {
                                db.lines.remove(&l);
                            }
                        }
                    }
                }
                "account.move.reversal" => {
                    for id in &ids {
                        db.reversals.remove(id);
                    }
                }
                _ => {
                    return Err(OdooError::user(format!(
                        "odoo-sim does not simulate unlink on {model}"
                    )))
                }
            }
            some(json!(true))
        }
        "action_post" => {
            check_ids(db, env, model, &ids)?;
            for id in &ids {
                post_move(db, *id)?;
            }
            some(json!(false))
        }
        "button_draft" => {
            check_ids(db, env, model, &ids)?;
            for id in &ids {
                let m = db
                    .moves
                    .get_mut(id)
                    .ok_or_else(|| OdooError::missing(model, &[*id], env.uid))?;
                if m.state == MoveState::Draft {
                    return Err(OdooError::user(
                        "Only posted/cancelled journal entries can be reset to draft.",
                    ));
                }
                m.state = MoveState::Draft;
            }
            Ok(None)
        }
        "button_cancel" => {
            check_ids(db, env, model, &ids)?;
            for id in &ids {
                let m = db
                    .moves
                    .get_mut(id)
                    .ok_or_else(|| OdooError::missing(model, &[*id], env.uid))?;
                if m.state != MoveState::Draft {
                    return Err(OdooError::user(
                        "Only draft journal entries can be cancelled.",
                    ));
                }
                m.state = MoveState::Cancel;
            }
            Ok(None)
        }
        "refund_moves" | "reverse_moves" => {
            check_ids(db, env, model, &ids)?;
            some(refund_moves(db, env, &ids)?)
        }
        other => Err(OdooError::new(
            Kind::AttributeError,
            format!("The method '{model}.{other}' does not exist"),
        )),
    }
}

fn parse_date(value: &Value, field: &str) -> OdooResult<NaiveDate> {
    value
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok())
        .ok_or_else(|| {
            OdooError::value(format!(
                "time data {value} does not match format '%Y-%m-%d' (field {field})"
            ))
        })
}

fn opt_text(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Ids out of an x2many value: `[[6, 0, ids]]`, `[[4, id]]`, or a plain list of ids.
fn x2many_ids(value: &Value) -> OdooResult<Vec<i64>> {
    let mut out = Vec::new();
    for item in value.as_array().into_iter().flatten() {
        match item {
            Value::Number(n) => out.extend(n.as_i64()),
            Value::Array(cmd) => match cmd.first().and_then(Value::as_i64) {
                Some(6) => {
                    out.clear();
                    out.extend(
                        cmd.get(2)
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_i64),
                    );
                }
                Some(4) => out.extend(cmd.get(1).and_then(Value::as_i64)),
                Some(5) => out.clear(),
                Some(3) => {
                    let gone = cmd.get(1).and_then(Value::as_i64);
                    out.retain(|i| Some(*i) != gone);
                }
                _ => {
                    return Err(OdooError::value(format!(
                        "Unsupported many2many command {item}"
                    )))
                }
            },
            other => return Err(OdooError::value(format!("Invalid x2many value {other}"))),
        }
    }
    Ok(out)
}

const MOVE_CREATE_FIELDS: &[&str] = &[
    "move_type",
    "journal_id",
    "date",
    "ref",
    "narration",
    "currency_id",
    "line_ids",
    "partner_id",
    "company_id",
    "auto_post",
];

const LINE_FIELDS: &[&str] = &[
    "account_id",
    "name",
    "debit",
    "credit",
    "balance",
    "amount_currency",
    "currency_id",
    "tax_ids",
    "partner_id",
    "date_maturity",
    "analytic_distribution",
    "tax_tag_ids",
    "display_type",
    "sequence",
];

/// A line as sent, before ids are given.
struct NewLine {
    account_id: i64,
    name: Option<String>,
    balance: Decimal,
    amount_currency: Option<Decimal>,
    currency_id: Option<i64>,
    tax_ids: Vec<i64>,
    tax_line_id: Option<i64>,
    partner_id: Option<i64>,
    display_type: String,
}

fn amount(vals: &Map<String, Value>, field: &str) -> OdooResult<Option<Decimal>> {
    match vals.get(field) {
        None => Ok(None),
        Some(v) => decimal_from_json(v)
            .map(Some)
            .ok_or_else(|| OdooError::value(format!("could not convert {v} to float ({field})"))),
    }
}

fn parse_line(db: &Db, company_id: i64, vals: &Map<String, Value>) -> OdooResult<NewLine> {
    for key in vals.keys() {
        if !LINE_FIELDS.contains(&key.as_str()) {
            return Err(OdooError::value(format!(
                "Invalid field '{key}' on model 'account.move.line'"
            )));
        }
    }
    let account_id = vals
        .get("account_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| OdooError::user("Missing required account on accountable line."))?;
    let account = db
        .accounts
        .get(&account_id)
        .ok_or_else(|| OdooError::missing("account.account", &[account_id], 2))?;
    if account.company_id != company_id {
        let company = db
            .companies
            .get(&company_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        return Err(OdooError::user(format!(
            "Incompatible companies on records:\n- 'Journal Entry' belongs to company '{company}' and 'Account' (account_id: '{} {}') belongs to another company.",
            account.code, account.name
        )));
    }
    let decimals = db.decimals(
        db.companies
            .get(&company_id)
            .map(|c| c.currency_id)
            .unwrap_or(1),
    );
    let balance = match (amount(vals, "debit")?, amount(vals, "credit")?) {
        (None, None) => amount(vals, "balance")?.unwrap_or_default(),
        (d, c) => d.unwrap_or_default() - c.unwrap_or_default(),
    };
    let tax_ids = match vals.get("tax_ids") {
        Some(v) => x2many_ids(v)?,
        None => Vec::new(),
    };
    for t in &tax_ids {
        if !db.taxes.contains_key(t) {
            return Err(OdooError::missing("account.tax", &[*t], 2));
        }
    }
    Ok(NewLine {
        account_id,
        name: opt_text(vals.get("name")),
        balance: round(balance, decimals),
        amount_currency: amount(vals, "amount_currency")?,
        currency_id: vals.get("currency_id").and_then(Value::as_i64),
        tax_ids,
        tax_line_id: None,
        partner_id: vals.get("partner_id").and_then(Value::as_i64),
        display_type: "product".into(),
    })
}

/// Adds the tax lines Odoo computes for base lines carrying `tax_ids`, then settles an
/// unbalanced entry by the balancing mode: an "Automatic Balancing Line" or an error.
fn sync_lines(
    db: &Db,
    env: &Env,
    journal_id: i64,
    company_id: i64,
    lines: &mut Vec<NewLine>,
    creating: bool,
) -> OdooResult<()> {
    let decimals = db.decimals(
        db.companies
            .get(&company_id)
            .map(|c| c.currency_id)
            .unwrap_or(1),
    );
    let taxes_involved = lines.iter().any(|l| !l.tax_ids.is_empty());
    if creating && taxes_involved {
        let mut per_tax: Vec<(i64, Decimal)> = Vec::new();
        for l in lines.iter() {
            for t in &l.tax_ids {
                let Some(tax) = db.taxes.get(t) else { continue };
                let amount = round(l.balance * tax.amount / Decimal::from(100), decimals);
                match per_tax.iter_mut().find(|(id, _)| id == t) {
                    Some((_, sum)) => *sum += amount,
                    None => per_tax.push((*t, amount)),
                }
            }
        }
        for (tax_id, amount) in per_tax {
            let Some(tax) = db.taxes.get(&tax_id) else {
                continue;
            };
            if amount.is_zero() {
                continue;
            }
            lines.push(NewLine {
                account_id: tax.account_id,
                name: Some(tax.name.clone()),
                balance: amount,
                amount_currency: None,
                currency_id: None,
                tax_ids: Vec::new(),
                tax_line_id: Some(tax_id),
                partner_id: None,
                display_type: "tax".into(),
            });
        }
    }
    let total: Decimal = lines.iter().map(|l| l.balance).sum();
    let balancing = match env.balancing {
        BalancingMode::Off => false,
        BalancingMode::Taxes => !total.is_zero() && taxes_involved,
        BalancingMode::Unbalanced => !total.is_zero(),
        BalancingMode::Always => creating || !total.is_zero(),
    };
    if balancing {
        let journal = db.journals.get(&journal_id);
        let account = journal
            .and_then(|j| j.default_account_id.or(j.suspense_account_id))
            .or_else(|| {
                db.companies
                    .get(&company_id)
                    .and_then(|c| c.suspense_account_id)
            });
        if let Some(account_id) = account {
            lines.push(NewLine {
                account_id,
                name: Some("Automatic Balancing Line".into()),
                balance: -total,
                amount_currency: None,
                currency_id: None,
                tax_ids: Vec::new(),
                tax_line_id: None,
                partner_id: None,
                display_type: "product".into(),
            });
            return Ok(());
        }
    }
    if !total.is_zero() {
        return Err(OdooError::user("The entry is not balanced."));
    }
    Ok(())
}

fn insert_lines(db: &mut Db, move_id: i64, company_currency: i64, lines: Vec<NewLine>) -> Vec<i64> {
    let mut out = Vec::new();
    for l in lines {
        let id = db.next_id("account.move.line");
        let currency_id = l.currency_id.unwrap_or(company_currency);
        let amount_currency = if currency_id == company_currency {
            l.balance
        } else {
            round(
                l.amount_currency.unwrap_or(l.balance),
                db.decimals(currency_id),
            )
        };
        db.lines.insert(
            id,
            Line {
                id,
                move_id,
                account_id: l.account_id,
                name: l.name,
                debit: l.balance.max(Decimal::ZERO),
                credit: (-l.balance).max(Decimal::ZERO),
                amount_currency,
                currency_id,
                tax_ids: l.tax_ids,
                tax_line_id: l.tax_line_id,
                partner_id: l.partner_id,
                display_type: l.display_type,
            },
        );
        out.push(id);
    }
    out
}

fn line_commands(db: &Db, company_id: i64, value: &Value) -> OdooResult<Vec<NewLine>> {
    let mut out = Vec::new();
    for cmd in value.as_array().into_iter().flatten() {
        let parts = cmd.as_array().map(Vec::as_slice).unwrap_or_default();
        match (parts.first().and_then(Value::as_i64), parts.get(2)) {
            (Some(0), Some(Value::Object(vals))) => out.push(parse_line(db, company_id, vals)?),
            _ => {
                return Err(OdooError::value(format!(
                    "line_ids on create takes [0, 0, {{values}}] commands, got {cmd}"
                )))
            }
        }
    }
    Ok(out)
}

/// `account.move.create` for one dict of values.
pub fn create_move(db: &mut Db, env: &Env, vals: &Map<String, Value>) -> OdooResult<i64> {
    for key in vals.keys() {
        if !MOVE_CREATE_FIELDS.contains(&key.as_str()) {
            return Err(OdooError::value(format!(
                "Invalid field '{key}' on model 'account.move'"
            )));
        }
    }
    let move_type = opt_text(vals.get("move_type")).unwrap_or_else(|| "entry".into());
    if move_type != "entry" {
        return Err(OdooError::user(format!(
            "odoo-sim only simulates journal entries (move_type 'entry'), not '{move_type}'"
        )));
    }
    let journal_id = match vals.get("journal_id").and_then(Value::as_i64) {
        Some(id) => id,
        None => db
            .journals
            .values()
            .find(|j| j.company_id == env.company && j.kind == "general")
            .map(|j| j.id)
            .ok_or_else(|| {
                OdooError::user(
                    "No journal could be found in company for any of those types: general",
                )
            })?,
    };
    let journal = db
        .journals
        .get(&journal_id)
        .cloned()
        .ok_or_else(|| OdooError::missing("account.journal", &[journal_id], env.uid))?;
    if !env.companies.contains(&journal.company_id) {
        return Err(OdooError::access(format!(
            "The journal {} belongs to a company outside the allowed companies.",
            journal.name
        )));
    }
    let company_id = journal.company_id;
    if let Some(c) = vals.get("company_id").and_then(Value::as_i64) {
        if c != company_id {
            return Err(OdooError::user(
                "The journal and the entry belong to different companies.",
            ));
        }
    }
    let company_currency = db
        .companies
        .get(&company_id)
        .map(|c| c.currency_id)
        .unwrap_or(1);
    let date = match vals.get("date") {
        Some(v) if !v.is_null() && v != &Value::Bool(false) => parse_date(v, "date")?,
        _ => env.today,
    };
    let mut lines = match vals.get("line_ids") {
        Some(v) => line_commands(db, company_id, v)?,
        None => Vec::new(),
    };
    sync_lines(db, env, journal_id, company_id, &mut lines, true)?;
    let id = db.next_id("account.move");
    let line_ids = insert_lines(db, id, company_currency, lines);
    db.moves.insert(
        id,
        Move {
            id,
            name: "/".into(),
            reference: opt_text(vals.get("ref")),
            narration: opt_text(vals.get("narration")),
            date,
            journal_id,
            company_id,
            currency_id: vals
                .get("currency_id")
                .and_then(Value::as_i64)
                .unwrap_or(company_currency),
            state: MoveState::Draft,
            move_type,
            line_ids,
            reversed_entry_id: None,
            create_uid: env.uid,
        },
    );
    Ok(id)
}

const POSTED_READONLY: &[&str] = &[
    "company_id",
    "currency_id",
    "date",
    "journal_id",
    "line_ids",
];

fn write_move(db: &mut Db, env: &Env, id: i64, vals: &Map<String, Value>) -> OdooResult<()> {
    for key in vals.keys() {
        if !MOVE_CREATE_FIELDS.contains(&key.as_str()) && key != "name" {
            return Err(OdooError::value(format!(
                "Invalid field '{key}' on model 'account.move'"
            )));
        }
    }
    let m = db
        .moves
        .get(&id)
        .cloned()
        .ok_or_else(|| OdooError::missing("account.move", &[id], env.uid))?;
    if m.state == MoveState::Posted {
        let touched: Vec<&str> = POSTED_READONLY
            .iter()
            .copied()
            .filter(|f| vals.contains_key(*f))
            .collect();
        if !touched.is_empty() {
            return Err(OdooError::user(format!(
                "You cannot modify the following readonly fields on a posted move: {}",
                touched.join(", ")
            )));
        }
        if vals.contains_key("name") {
            return Err(OdooError::user(
                "You cannot modify the name of a posted entry.",
            ));
        }
    }
    let mut m = m;
    if vals.contains_key("ref") {
        m.reference = opt_text(vals.get("ref"));
    }
    if vals.contains_key("narration") {
        m.narration = opt_text(vals.get("narration"));
    }
    if let Some(v) = vals.get("date") {
        m.date = parse_date(v, "date")?;
    }
    if let Some(name) = opt_text(vals.get("name")) {
        m.name = name;
    }
    if let Some(j) = vals.get("journal_id").and_then(Value::as_i64) {
        let journal = db
            .journals
            .get(&j)
            .ok_or_else(|| OdooError::missing("account.journal", &[j], env.uid))?;
        if journal.company_id != m.company_id {
            return Err(OdooError::user(
                "The journal and the entry belong to different companies.",
            ));
        }
        m.journal_id = j;
    }
    if let Some(cmds) = vals.get("line_ids") {
        let company_currency = db
            .companies
            .get(&m.company_id)
            .map(|c| c.currency_id)
            .unwrap_or(1);
        let mut keep: Vec<i64> = m.line_ids.clone();
        let mut added = Vec::new();
        for cmd in cmds.as_array().into_iter().flatten() {
            let parts = cmd.as_array().map(Vec::as_slice).unwrap_or_default();
            match parts.first().and_then(Value::as_i64) {
                Some(0) => match parts.get(2) {
                    Some(Value::Object(v)) => added.push(parse_line(db, m.company_id, v)?),
                    _ => return Err(OdooError::value(format!("Invalid command {cmd}"))),
                },
                Some(1) => {
                    let lid = parts.get(1).and_then(Value::as_i64).unwrap_or_default();
                    let Some(Value::Object(v)) = parts.get(2) else {
                        return Err(OdooError::value(format!("Invalid command {cmd}")));
                    };
                    if !keep.contains(&lid) {
                        return Err(OdooError::missing("account.move.line", &[lid], env.uid));
                    }
                    apply_line_vals(db, m.company_id, lid, v)?;
                }
                Some(2) | Some(3) => {
                    let lid = parts.get(1).and_then(Value::as_i64).unwrap_or_default();
                    keep.retain(|l| *l != lid);
                    db.lines.remove(&lid);
                }
                Some(5) => {
                    for l in keep.drain(..) {
                        db.lines.remove(&l);
                    }
                }
                _ => return Err(OdooError::value(format!("Unsupported command {cmd}"))),
            }
        }
        // Re-check the balance over the kept and the added lines.
        let mut all: Vec<NewLine> = keep
            .iter()
            .filter_map(|l| db.lines.get(l))
            .map(|l| NewLine {
                account_id: l.account_id,
                name: l.name.clone(),
                balance: l.balance(),
                amount_currency: Some(l.amount_currency),
                currency_id: Some(l.currency_id),
                tax_ids: l.tax_ids.clone(),
                tax_line_id: l.tax_line_id,
                partner_id: l.partner_id,
                display_type: l.display_type.clone(),
            })
            .collect();
        let existing = all.len();
        all.extend(added);
        sync_lines(db, env, m.journal_id, m.company_id, &mut all, false)?;
        let new: Vec<NewLine> = all.into_iter().skip(existing).collect();
        let new_ids = insert_lines(db, m.id, company_currency, new);
        keep.extend(new_ids);
        m.line_ids = keep;
    }
    db.moves.insert(id, m);
    Ok(())
}

fn apply_line_vals(
    db: &mut Db,
    company_id: i64,
    lid: i64,
    vals: &Map<String, Value>,
) -> OdooResult<()> {
    for key in vals.keys() {
        if !LINE_FIELDS.contains(&key.as_str()) {
            return Err(OdooError::value(format!(
                "Invalid field '{key}' on model 'account.move.line'"
            )));
        }
    }
    let decimals = db.decimals(
        db.companies
            .get(&company_id)
            .map(|c| c.currency_id)
            .unwrap_or(1),
    );
    if let Some(a) = vals.get("account_id").and_then(Value::as_i64) {
        let ok = db
            .accounts
            .get(&a)
            .is_some_and(|acc| acc.company_id == company_id);
        if !ok {
            return Err(OdooError::user(
                "Incompatible companies on records: the account belongs to another company.",
            ));
        }
    }
    let debit = amount(vals, "debit")?;
    let credit = amount(vals, "credit")?;
    let balance = amount(vals, "balance")?;
    let Some(l) = db.lines.get_mut(&lid) else {
        return Ok(());
    };
    if let Some(a) = vals.get("account_id").and_then(Value::as_i64) {
        l.account_id = a;
    }
    if vals.contains_key("name") {
        l.name = opt_text(vals.get("name"));
    }
    let new_balance = match (debit, credit, balance) {
        (None, None, None) => None,
        (None, None, Some(b)) => Some(b),
        (d, c, _) => Some(d.unwrap_or(l.debit) - c.unwrap_or(l.credit)),
    };
    if let Some(b) = new_balance {
        let b = round(b, decimals);
        l.debit = b.max(Decimal::ZERO);
        l.credit = (-b).max(Decimal::ZERO);
        l.amount_currency = b;
    }
    Ok(())
}

fn write_line(db: &mut Db, env: &Env, lid: i64, vals: &Map<String, Value>) -> OdooResult<()> {
    let (move_id, state) = db
        .lines
        .get(&lid)
        .and_then(|l| db.moves.get(&l.move_id))
        .map(|m| (m.id, m.state))
        .ok_or_else(|| OdooError::missing("account.move.line", &[lid], env.uid))?;
    let touches_amounts = [
        "account_id",
        "debit",
        "credit",
        "balance",
        "amount_currency",
    ]
    .iter()
    .any(|f| vals.contains_key(*f));
    if state == MoveState::Posted && touches_amounts {
        return Err(OdooError::user(
            "You cannot modify a posted entry of this journal because it is in strict mode.",
        ));
    }
    let company_id = db.moves.get(&move_id).map(|m| m.company_id).unwrap_or(1);
    apply_line_vals(db, company_id, lid, vals)?;
    let total: Decimal = db
        .moves
        .get(&move_id)
        .map(|m| {
            m.line_ids
                .iter()
                .filter_map(|l| db.lines.get(l))
                .map(Line::balance)
                .sum()
        })
        .unwrap_or_default();
    if !total.is_zero() {
        return Err(OdooError::user("The entry is not balanced."));
    }
    Ok(())
}

/// `_post`: checks, lock date, sequence number.
pub fn post_move(db: &mut Db, id: i64) -> OdooResult<()> {
    let m = db
        .moves
        .get(&id)
        .cloned()
        .ok_or_else(|| OdooError::missing("account.move", &[id], 2))?;
    if m.state != MoveState::Draft {
        return Err(OdooError::user(format!(
            "The entry {} (id {}) must be in draft.",
            move_display_name(&m),
            m.id
        )));
    }
    if m.line_ids.is_empty() {
        return Err(OdooError::user("You need to add a line before posting."));
    }
    let lines: Vec<&Line> = m.line_ids.iter().filter_map(|l| db.lines.get(l)).collect();
    if lines
        .iter()
        .any(|l| db.accounts.get(&l.account_id).is_some_and(|a| a.deprecated))
    {
        return Err(OdooError::user(
            "A line of this move is using a deprecated account, you cannot post it.",
        ));
    }
    let total: Decimal = lines.iter().map(|l| l.balance()).sum();
    if !total.is_zero() {
        return Err(OdooError::user("The entry is not balanced."));
    }
    let mut m = m;
    if let Some(lock) = db.companies.get(&m.company_id).and_then(|c| c.lock_date) {
        if m.date <= lock {
            m.date = lock.succ_opt().unwrap_or(lock);
        }
    }
    if m.name == "/" {
        use chrono::Datelike;
        let code = db
            .journals
            .get(&m.journal_id)
            .map(|j| j.code.clone())
            .unwrap_or_default();
        let key = (m.journal_id, m.date.year(), m.date.month());
        let n = db.sequences.entry(key).or_insert(0);
        *n += 1;
        m.name = format!("{code}/{:04}/{:02}/{:04}", key.1, key.2, *n);
    }
    if db.moves.values().any(|o| {
        o.id != m.id
            && o.state == MoveState::Posted
            && o.journal_id == m.journal_id
            && o.name == m.name
    }) {
        return Err(OdooError::validation(format!(
            "Posted journal entry must have an unique sequence number per company.\nProblematic numbers: {}\n",
            m.name
        )));
    }
    m.state = MoveState::Posted;
    db.moves.insert(id, m);
    Ok(())
}

fn create_reversal(db: &mut Db, env: &Env, vals: &Map<String, Value>) -> OdooResult<i64> {
    const FIELDS: &[&str] = &[
        "move_ids",
        "date",
        "reason",
        "journal_id",
        "company_id",
        "date_mode",
    ];
    for key in vals.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return Err(OdooError::value(format!(
                "Invalid field '{key}' on model 'account.move.reversal'"
            )));
        }
    }
    let move_ids = match vals.get("move_ids") {
        Some(v) => x2many_ids(v)?,
        None => Vec::new(),
    };
    if move_ids.is_empty() {
        return Err(OdooError::user(
            "No journal entry to reverse: give move_ids.",
        ));
    }
    check_ids(db, env, "account.move", &move_ids)?;
    if move_ids.iter().any(|id| {
        db.moves
            .get(id)
            .is_some_and(|m| m.state != MoveState::Posted)
    }) {
        return Err(OdooError::user("You can only reverse posted moves."));
    }
    let journal_id = vals.get("journal_id").and_then(Value::as_i64);
    if let Some(j) = journal_id {
        if !db.journals.contains_key(&j) {
            return Err(OdooError::missing("account.journal", &[j], env.uid));
        }
    }
    let date = match vals.get("date") {
        Some(v) if !v.is_null() && v != &Value::Bool(false) => parse_date(v, "date")?,
        _ => env.today,
    };
    let id = db.next_id("account.move.reversal");
    db.reversals.insert(
        id,
        Reversal {
            id,
            move_ids,
            date,
            reason: opt_text(vals.get("reason")),
            journal_id,
            new_move_ids: Vec::new(),
        },
    );
    Ok(id)
}

/// `refund_moves`: one posted reversing entry per move, amounts swapped; an action dict.
fn refund_moves(db: &mut Db, env: &Env, wizard_ids: &[i64]) -> OdooResult<Value> {
    let mut created = Vec::new();
    for wid in wizard_ids {
        let Some(w) = db.reversals.get(wid).cloned() else {
            return Err(OdooError::missing(
                "account.move.reversal",
                &[*wid],
                env.uid,
            ));
        };
        let mut new_ids = Vec::new();
        for mid in &w.move_ids {
            let original = db
                .moves
                .get(mid)
                .cloned()
                .ok_or_else(|| OdooError::missing("account.move", &[*mid], env.uid))?;
            if original.state != MoveState::Posted {
                return Err(OdooError::user("You can only reverse posted moves."));
            }
            let id = db.next_id("account.move");
            let mut line_ids = Vec::new();
            for lid in &original.line_ids {
                let Some(l) = db.lines.get(lid).cloned() else {
                    continue;
                };
                let new_id = db.next_id("account.move.line");
                db.lines.insert(
                    new_id,
                    Line {
                        id: new_id,
                        move_id: id,
                        debit: l.credit,
                        credit: l.debit,
                        amount_currency: -l.amount_currency,
                        ..l
                    },
                );
                line_ids.push(new_id);
            }
            let reference = match &w.reason {
                Some(reason) => format!("Reversal of: {}, {reason}", original.name),
                None => format!("Reversal of: {}", original.name),
            };
            db.moves.insert(
                id,
                Move {
                    id,
                    name: "/".into(),
                    reference: Some(reference),
                    narration: None,
                    date: w.date,
                    journal_id: w.journal_id.unwrap_or(original.journal_id),
                    company_id: original.company_id,
                    currency_id: original.currency_id,
                    state: MoveState::Draft,
                    move_type: original.move_type.clone(),
                    line_ids,
                    reversed_entry_id: Some(original.id),
                    create_uid: env.uid,
                },
            );
            post_move(db, id)?;
            new_ids.push(id);
        }
        if let Some(w) = db.reversals.get_mut(wid) {
            w.new_move_ids = new_ids.clone();
        }
        created.extend(new_ids);
    }
    let mut action = json!({
        "name": "Reverse Moves",
        "type": "ir.actions.act_window",
        "res_model": "account.move",
        "context": {"default_move_type": "entry"},
    });
    if created.len() == 1 {
        action["view_mode"] = json!("form");
        action["res_id"] = json!(created[0]);
    } else {
        action["view_mode"] = json!("list,form");
        action["domain"] = json!([["id", "in", created]]);
    }
    Ok(action)
}

/// Reads raw values for the control API (no company rules).
pub fn raw_unrestricted(db: &Db, model: &str, id: i64) -> Option<Map<String, Value>> {
    let env = Env {
        uid: 2,
        companies: db.companies.keys().copied().collect(),
        company: company_of(db, model, id).unwrap_or(1),
        today: NaiveDate::default(),
        balancing: BalancingMode::Off,
    };
    raw(db, &env, model, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_unknown_names_are_told_apart() {
        assert!(matches!(
            resolve("account.move", "_post"),
            Err(Unresolved::Private)
        ));
        assert!(matches!(
            resolve("account.move", "frobnicate"),
            Err(Unresolved::NoMethod)
        ));
        assert!(matches!(
            resolve("sale.order", "read"),
            Err(Unresolved::NoModel)
        ));
        assert!(resolve("account.move", "action_post").is_ok());
    }
}
