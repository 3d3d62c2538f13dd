//! Odoo's JSON-RPC wire format (`POST /jsonrpc`, `execute_kw`), as checked on Odoo 18:
//! request envelopes, answers whose `result` is left out when the method returned None,
//! error objects by exception name, and `account.move` values with command tuples.
//! Pure: the HTTP adapter sends what these build.

use serde_json::{json, Value};

use super::{ErpError, Move};

/// Who calls: the database, the user id `login` returned, and the password or API key.
pub struct Session<'a> {
    pub db: &'a str,
    pub uid: i64,
    pub password: &'a str,
}

/// The JSON-RPC envelope of one `execute_kw` call.
pub fn execute_kw(
    id: u64,
    session: &Session,
    model: &str,
    method: &str,
    args: Value,
    kwargs: Value,
) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "call",
        "id": id,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [session.db, session.uid, session.password, model, method, args, kwargs],
        }
    })
}

/// The `result` of an answer (null when Odoo left it out: the method returned None and
/// its work is committed), or the error it carries.
pub fn result(answer: &Value) -> Result<Value, ErpError> {
    if let Some(error) = answer.get("error") {
        let name = error["data"]["name"].as_str().unwrap_or_default();
        let message = error["data"]["message"]
            .as_str()
            .or_else(|| error["message"].as_str())
            .unwrap_or("Odoo Server Error")
            .to_string();
        return Err(classify(name, message));
    }
    Ok(answer.get("result").cloned().unwrap_or(Value::Null))
}

/// Odoo's exception names → what posting does about them. Concurrency failures retry
/// (Odoo itself retried them five times already); credentials are their own case;
/// everything else is a refusal of the request as it is.
fn classify(name: &str, message: String) -> ErpError {
    match name {
        "odoo.exceptions.AccessDenied" => ErpError::AccessDenied(message),
        "psycopg2.errors.SerializationFailure"
        | "psycopg2.errors.LockNotAvailable"
        | "psycopg2.errors.DeadlockDetected"
        | "odoo.exceptions.ConcurrencyError" => ErpError::Unavailable(message),
        _ => ErpError::Rejected(format!(
            "{}{message}",
            name.rsplit('.')
                .next()
                .map(|n| format!("{n}: "))
                .unwrap_or_default()
        )),
    }
}

/// Account and journal ids by code, looked up once at connect time.
pub struct Ids<'a> {
    pub journal_id: i64,
    /// The move's own currency, when it is not the company's.
    pub currency_id: Option<i64>,
    pub account_id: &'a dyn Fn(&str) -> Option<i64>,
}

/// The `account.move` `create` values of a move: an entry in the journal, one `[0, 0,
/// {…}]` command per line, amounts as JSON numbers of at most the minor unit's digits
/// (Odoo's float fields). `Err` names an account the ERP does not have.
pub fn move_values(draft: &Move, ids: &Ids) -> Result<Value, ErpError> {
    let mut lines = Vec::with_capacity(draft.lines.len());
    for line in &draft.lines {
        let account_id = (ids.account_id)(&line.account).ok_or_else(|| {
            ErpError::Rejected(format!(
                "account {} does not exist in the ERP; create it or map another",
                line.account
            ))
        })?;
        let mut values = json!({
            "account_id": account_id,
            "name": line.label,
            "debit": number(line.debit.value())?,
            "credit": number(line.credit.value())?,
        });
        if let (Some(currency_id), Some(amount)) = (ids.currency_id, line.amount_currency) {
            values["currency_id"] = json!(currency_id);
            values["amount_currency"] = number(amount.value())?;
        }
        lines.push(json!([0, 0, values]));
    }
    let mut values = json!({
        "move_type": "entry",
        "journal_id": ids.journal_id,
        "date": draft.date,
        "ref": draft.reference,
        "line_ids": lines,
    });
    if let Some(currency_id) = ids.currency_id {
        values["currency_id"] = json!(currency_id);
    }
    Ok(values)
}

/// A cent amount as the JSON number Odoo's float field takes: its shortest text is the
/// decimal's own text, so nothing is lost for amounts of up to 15 significant digits.
fn number(amount: rust_decimal::Decimal) -> Result<Value, ErpError> {
    let text = amount.normalize().to_string();
    serde_json::from_str::<serde_json::Number>(&text)
        .ok()
        .filter(|n| n.to_string() == text || n.as_f64().is_some_and(|f| f.to_string() == text))
        .map(Value::Number)
        .ok_or_else(|| ErpError::Rejected(format!("{amount} cannot travel exactly as a number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::{reference, MoveLine};
    use crate::money::Money;
    use rust_decimal::Decimal;

    #[test]
    fn execute_kw_is_the_documented_envelope() {
        let session = Session {
            db: "db",
            uid: 2,
            password: "key",
        };
        let body = execute_kw(
            7,
            &session,
            "account.move",
            "action_post",
            json!([[5]]),
            json!({}),
        );
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "method": "call", "id": 7, "params": {
                "service": "object", "method": "execute_kw",
                "args": ["db", 2, "key", "account.move", "action_post", [[5]], {}]}})
        );
    }

    #[test]
    fn a_missing_result_is_null_and_errors_are_classified() {
        assert_eq!(result(&json!({"jsonrpc": "2.0", "id": 7})), Ok(Value::Null));
        assert_eq!(
            result(&json!({"jsonrpc": "2.0", "id": 7, "result": false})),
            Ok(json!(false))
        );
        let error = |name: &str, message: &str| {
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
                "data": {"name": name, "message": message, "arguments": [], "debug": "Traceback…"}}})
        };
        assert_eq!(
            result(&error(
                "odoo.exceptions.UserError",
                "The entry is not balanced."
            )),
            Err(ErpError::Rejected(
                "UserError: The entry is not balanced.".into()
            ))
        );
        assert!(matches!(
            result(&error("odoo.exceptions.AccessDenied", "Access Denied")),
            Err(ErpError::AccessDenied(_))
        ));
        assert!(matches!(
            result(&error(
                "psycopg2.errors.SerializationFailure",
                "could not serialize"
            )),
            Err(ErpError::Unavailable(_))
        ));
    }

    #[test]
    fn a_move_becomes_an_entry_with_command_tuples_and_exact_amounts() {
        let draft = Move {
            reference: reference("loc-1", "2026-11-21", 0),
            date: "2026-11-21".into(),
            journal: "MISC".into(),
            currency: None,
            lines: vec![
                MoveLine {
                    account: "1000".into(),
                    label: "Cash takings".into(),
                    debit: Money(Decimal::new(11500, 2)),
                    credit: Money::ZERO,
                    amount_currency: None,
                },
                MoveLine {
                    account: "4000".into(),
                    label: "Sales".into(),
                    debit: Money::ZERO,
                    credit: Money(Decimal::new(11500, 2)),
                    amount_currency: None,
                },
            ],
        };
        let accounts = |code: &str| match code {
            "1000" => Some(11),
            "4000" => Some(40),
            _ => None,
        };
        let ids = Ids {
            journal_id: 3,
            currency_id: None,
            account_id: &accounts,
        };
        let values = move_values(&draft, &ids).unwrap();
        assert_eq!(values["ref"], "tillbridge:loc-1:2026-11-21:0");
        assert_eq!(
            values["line_ids"][0],
            json!([0, 0, {"account_id": 11, "name": "Cash takings", "debit": 115, "credit": 0}])
        );
        assert_eq!(values["line_ids"][1][2]["credit"], json!(115));
        let mut unknown = draft.clone();
        unknown.lines[0].account = "9999".into();
        assert!(
            matches!(move_values(&unknown, &ids), Err(ErpError::Rejected(why)) if why.contains("9999"))
        );
        assert_eq!(number(Decimal::new(1499, 2)).unwrap(), json!(14.99));
    }
}
