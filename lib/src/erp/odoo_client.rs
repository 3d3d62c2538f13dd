//! The Odoo adapter of the [`Erp`] port over HTTP: JSON-RPC `execute_kw` (Odoo 17–21) or
//! JSON-2 (`/json/2/<model>/<method>`, Odoo 19+), chosen by the connection. Every call
//! carries the ERP company in `context.allowed_company_ids` (Odoo 18 resolves account
//! codes per company). 5xx answers, timeouts and bodies that are not Odoo's are
//! `Unavailable` (retried through the queue); Odoo's own errors are classified in [`odoo`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::connection::{ErpConnection, ErpConnector, Transport};
use super::odoo::{self, Ids, Session};
use super::{Erp, ErpError, Move, MoveLine, MoveState, StoredMove};
use crate::money::Money;

/// One Odoo call must answer within this; a slower answer is retried through the queue.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct OdooConnector {
    pub http: reqwest::Client,
}

#[async_trait]
impl ErpConnector for OdooConnector {
    async fn open(
        &self,
        connection: &ErpConnection,
        api_key: SecretString,
        erp_company_id: Option<i64>,
    ) -> Result<Box<dyn Erp>, ErpError> {
        let mut client = OdooClient {
            http: self.http.clone(),
            url: connection.url.clone(),
            database: connection.database.clone(),
            login: connection.login.clone(),
            api_key,
            transport: connection.transport,
            uid: 0,
            company_id: 0,
            next_id: AtomicU64::new(1),
            accounts: Mutex::new(HashMap::new()),
            journals: Mutex::new(HashMap::new()),
        };
        client.uid = client.authenticate().await?;
        client.company_id = match erp_company_id {
            Some(id) => id,
            None => client.default_company().await?,
        };
        Ok(Box::new(client))
    }
}

/// One ERP company's session.
pub struct OdooClient {
    http: reqwest::Client,
    url: String,
    database: String,
    login: String,
    api_key: SecretString,
    transport: Transport,
    uid: i64,
    company_id: i64,
    next_id: AtomicU64,
    /// Account code → id, and back through [`OdooClient::account_codes`].
    accounts: Mutex<HashMap<String, i64>>,
    journals: Mutex<HashMap<String, i64>>,
}

/// A call in the terms both transports can express.
enum Call {
    SearchRead {
        domain: Value,
        fields: Value,
    },
    Read {
        ids: Vec<i64>,
        fields: Value,
    },
    Create {
        values: Value,
    },
    /// A method on records (`action_post`, `unlink`).
    OnRecords {
        method: &'static str,
        ids: Vec<i64>,
    },
}

fn unavailable(err: impl std::fmt::Display) -> ErpError {
    ErpError::Unavailable(err.to_string())
}

impl OdooClient {
    fn context(&self) -> Value {
        json!({ "allowed_company_ids": [self.company_id] })
    }

    async fn authenticate(&self) -> Result<i64, ErpError> {
        if self.transport == Transport::Json2 {
            // JSON-2 has no login step: the key is checked on every call.
            return Ok(0);
        }
        let body = json!({"jsonrpc": "2.0", "method": "call", "id": 0, "params": {
            "service": "common", "method": "authenticate",
            "args": [self.database, self.login, self.api_key.expose_secret(), {}]}});
        let answer = self
            .post_json(&format!("{}/jsonrpc", self.url), &body, None)
            .await?;
        match odoo::result(&answer)? {
            Value::Number(uid) => uid
                .as_i64()
                .ok_or_else(|| unavailable("Odoo answered a login with a non-integer uid")),
            _ => Err(ErpError::AccessDenied(format!(
                "Odoo refused the login `{}` on database `{}`; check the login and API key",
                self.login, self.database
            ))),
        }
    }

    async fn default_company(&self) -> Result<i64, ErpError> {
        let users = self
            .search_read(
                "res.users",
                json!([["login", "=", self.login]]),
                json!(["company_id"]),
                false,
            )
            .await?;
        users[0]["company_id"][0]
            .as_i64()
            .ok_or_else(|| ErpError::Rejected("the ERP user has no company".into()))
    }

    async fn post_json(
        &self,
        url: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> Result<Value, ErpError> {
        let mut request = self.http.post(url).timeout(CALL_TIMEOUT).json(body);
        if let Some(key) = bearer {
            request = request
                .bearer_auth(key)
                .header("X-Odoo-Database", &self.database);
        }
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        let text = response.text().await.map_err(unavailable)?;
        if status.is_server_error() {
            return Err(unavailable(format!("Odoo answered HTTP {status}")));
        }
        if status.is_redirection() {
            return Err(ErpError::Rejected(format!(
                "Odoo answered HTTP {status} at {url}: this server does not offer the {} API",
                if bearer.is_some() {
                    "JSON-2"
                } else {
                    "JSON-RPC"
                }
            )));
        }
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            unavailable(format!(
                "Odoo answered HTTP {status} with a body that is not JSON"
            ))
        })?;
        if bearer.is_some() && !status.is_success() {
            return Err(json2_error(status.as_u16(), &value));
        }
        Ok(value)
    }

    /// One call; `in_company` adds the ERP company to the context.
    async fn call(&self, model: &str, method: Call, in_company: bool) -> Result<Value, ErpError> {
        let context = if in_company {
            self.context()
        } else {
            json!({})
        };
        let (name, args, kwargs, named) = match method {
            Call::SearchRead { domain, fields } => (
                "search_read",
                json!([domain]),
                json!({"fields": fields, "context": context}),
                json!({"domain": domain, "fields": fields, "context": context}),
            ),
            Call::Read { ids, fields } => (
                "read",
                json!([ids]),
                json!({"fields": fields, "context": context}),
                json!({"ids": ids, "fields": fields, "context": context}),
            ),
            Call::Create { values } => (
                "create",
                json!([[values]]),
                json!({"context": context}),
                json!({"vals_list": [values], "context": context}),
            ),
            Call::OnRecords { method, ids } => (
                method,
                json!([ids]),
                json!({"context": context}),
                json!({"ids": ids, "context": context}),
            ),
        };
        self.send(model, name, args, kwargs, named).await
    }

    async fn send(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
        named: Value,
    ) -> Result<Value, ErpError> {
        match self.transport {
            Transport::JsonRpc => {
                let session = Session {
                    db: &self.database,
                    uid: self.uid,
                    password: self.api_key.expose_secret(),
                };
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let body = odoo::execute_kw(id, &session, model, method, args, kwargs);
                let answer = self
                    .post_json(&format!("{}/jsonrpc", self.url), &body, None)
                    .await?;
                odoo::result(&answer)
            }
            Transport::Json2 => {
                let url = format!("{}/json/2/{model}/{method}", self.url);
                self.post_json(&url, &named, Some(self.api_key.expose_secret()))
                    .await
            }
        }
    }

    /// `search_read` on `model`: the `fields` of the records matching `domain`.
    async fn search_read(
        &self,
        model: &str,
        domain: Value,
        fields: Value,
        in_company: bool,
    ) -> Result<Value, ErpError> {
        self.call(model, Call::SearchRead { domain, fields }, in_company)
            .await
    }

    /// Calls `method` on one journal entry (in the company), ignoring its answer.
    async fn on_move(&self, method: &'static str, id: i64) -> Result<(), ErpError> {
        let call = Call::OnRecords {
            method,
            ids: vec![id],
        };
        self.call("account.move", call, true).await.map(|_| ())
    }

    async fn currency_id(&self, code: &str) -> Result<i64, ErpError> {
        let found = self
            .search_read(
                "res.currency",
                json!([["name", "=", code]]),
                json!(["id"]),
                false,
            )
            .await?;
        found[0]["id"].as_i64().ok_or_else(|| {
            ErpError::Rejected(format!(
                "currency {code} does not exist (or is not active) in the ERP"
            ))
        })
    }

    async fn journal_id(&self, code: &str) -> Result<i64, ErpError> {
        if let Some(id) = self.journals.lock().await.get(code) {
            return Ok(*id);
        }
        let found = self
            .search_read(
                "account.journal",
                json!([["code", "=", code], ["company_id", "=", self.company_id]]),
                json!(["id"]),
                true,
            )
            .await?;
        let id = found[0]["id"].as_i64().ok_or_else(|| {
            ErpError::Rejected(format!(
                "journal {code} does not exist in ERP company {}; create it or map another",
                self.company_id
            ))
        })?;
        self.journals.lock().await.insert(code.to_string(), id);
        Ok(id)
    }

    /// Ids of the account codes a move uses (looked up once per session).
    async fn account_ids(&self, codes: &[&str]) -> Result<HashMap<String, i64>, ErpError> {
        let mut known = self.accounts.lock().await;
        let missing: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| !known.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            let found = self
                .search_read(
                    "account.account",
                    json!([["code", "in", missing]]),
                    json!(["id", "code", "deprecated"]),
                    true,
                )
                .await?;
            for account in found.as_array().into_iter().flatten() {
                if let (Some(id), Some(code)) = (account["id"].as_i64(), account["code"].as_str()) {
                    if account["deprecated"].as_bool() != Some(true) {
                        known.insert(code.to_string(), id);
                    }
                }
            }
        }
        Ok(known.clone())
    }

    /// Account id → code for lines read back: from the codes this session already looked
    /// up, asking the ERP only for ids it has not seen (a line on another account, such as
    /// an automatic balancing line).
    async fn account_codes(&self, ids: &[i64]) -> Result<HashMap<i64, String>, ErpError> {
        let mut codes: HashMap<i64, String> = self
            .accounts
            .lock()
            .await
            .iter()
            .map(|(code, id)| (*id, code.clone()))
            .collect();
        let mut unknown: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !codes.contains_key(id))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if unknown.is_empty() {
            return Ok(codes);
        }
        let found = self
            .call(
                "account.account",
                Call::Read {
                    ids: unknown,
                    fields: json!(["code"]),
                },
                true,
            )
            .await?;
        codes.extend(
            found
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| Some((a["id"].as_i64()?, a["code"].as_str()?.to_string()))),
        );
        Ok(codes)
    }

    async fn read_moves(&self, moves: &[Value]) -> Result<Vec<StoredMove>, ErpError> {
        let mut out = Vec::with_capacity(moves.len());
        for found in moves {
            let line_ids: Vec<i64> = found["line_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_i64)
                .collect();
            let lines = self
                .call(
                    "account.move.line",
                    Call::Read {
                        ids: line_ids,
                        fields: json!([
                            "account_id",
                            "name",
                            "debit",
                            "credit",
                            "amount_currency",
                            "currency_id"
                        ]),
                    },
                    true,
                )
                .await?;
            let lines = lines.as_array().cloned().unwrap_or_default();
            let account_ids: Vec<i64> = lines
                .iter()
                .filter_map(|l| l["account_id"][0].as_i64())
                .collect();
            let codes = self.account_codes(&account_ids).await?;
            let lines = lines
                .iter()
                .map(|l| {
                    Ok(MoveLine {
                        account: l["account_id"][0]
                            .as_i64()
                            .and_then(|id| codes.get(&id).cloned())
                            .unwrap_or_default(),
                        label: l["name"].as_str().unwrap_or_default().to_string(),
                        debit: amount(&l["debit"])?,
                        credit: amount(&l["credit"])?,
                        amount_currency: Some(amount(&l["amount_currency"])?),
                    })
                })
                .collect::<Result<Vec<_>, ErpError>>()?;
            out.push(StoredMove {
                id: found["id"].as_i64().unwrap_or_default(),
                state: match found["state"].as_str() {
                    Some("posted") => MoveState::Posted,
                    Some("cancel") => MoveState::Cancelled,
                    _ => MoveState::Draft,
                },
                name: found["name"]
                    .as_str()
                    .filter(|n| *n != "/")
                    .map(str::to_string),
                date: found["date"].as_str().unwrap_or_default().to_string(),
                lines,
            });
        }
        Ok(out)
    }
}

/// An Odoo float amount as the exact cent decimal it stands for (Odoo rounds monetary
/// fields to the currency; the shortest text of the float is that decimal).
fn amount(value: &Value) -> Result<Money, ErpError> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::Bool(false) | Value::Null => "0".into(),
        other => return Err(unavailable(format!("Odoo sent the amount {other}"))),
    };
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| Money(d.normalize()))
        .map_err(|_| unavailable(format!("Odoo sent the amount {text}")))
}

/// A JSON-2 error answer (`{name, message, …}` with the HTTP status) → the port's terms.
fn json2_error(status: u16, body: &Value) -> ErpError {
    let envelope = json!({"error": {"data": {
        "name": body["name"], "message": body["message"]}}});
    match (status, odoo::result(&envelope)) {
        (401 | 403, _) => ErpError::AccessDenied(
            body["message"]
                .as_str()
                .unwrap_or("the API key was refused")
                .to_string(),
        ),
        (_, Err(err)) => err,
        (_, Ok(_)) => unavailable(format!("Odoo answered HTTP {status}")),
    }
}

#[async_trait]
impl Erp for OdooClient {
    async fn find(&self, journal: &str, reference: &str) -> Result<Vec<StoredMove>, ErpError> {
        let journal_id = self.journal_id(journal).await?;
        let found = self
            .search_read(
                "account.move",
                json!([
                    ["ref", "=", reference],
                    ["journal_id", "=", journal_id],
                    ["company_id", "=", self.company_id],
                    ["state", "!=", "cancel"]
                ]),
                json!(["id", "state", "date", "name", "line_ids"]),
                true,
            )
            .await?;
        self.read_moves(found.as_array().map(Vec::as_slice).unwrap_or_default())
            .await
    }

    async fn create_draft(&self, draft: &Move) -> Result<i64, ErpError> {
        let journal_id = self.journal_id(&draft.journal).await?;
        let codes: Vec<&str> = draft.lines.iter().map(|l| l.account.as_str()).collect();
        let accounts = self.account_ids(&codes).await?;
        let lookup = |code: &str| accounts.get(code).copied();
        let currency_id = match &draft.currency {
            Some(code) => Some(self.currency_id(code).await?),
            None => None,
        };
        let values = odoo::move_values(
            draft,
            &Ids {
                journal_id,
                currency_id,
                account_id: &lookup,
            },
        )?;
        let created = self
            .call("account.move", Call::Create { values }, true)
            .await?;
        created
            .as_i64()
            .or_else(|| created[0].as_i64())
            .ok_or_else(|| unavailable("Odoo answered a create without an id"))
    }

    async fn post(&self, id: i64) -> Result<(), ErpError> {
        self.on_move("action_post", id).await
    }

    async fn delete_draft(&self, id: i64) -> Result<(), ErpError> {
        self.on_move("unlink", id).await
    }

    async fn read(&self, id: i64) -> Result<StoredMove, ErpError> {
        let found = self
            .call(
                "account.move",
                Call::Read {
                    ids: vec![id],
                    fields: json!(["id", "state", "date", "name", "line_ids"]),
                },
                true,
            )
            .await?;
        self.read_moves(found.as_array().map(Vec::as_slice).unwrap_or_default())
            .await?
            .pop()
            .ok_or_else(|| ErpError::Rejected(format!("move {id} is gone from the ERP")))
    }

    async fn company_currency(&self) -> Result<String, ErpError> {
        let found = self
            .call(
                "res.company",
                Call::Read {
                    ids: vec![self.company_id],
                    fields: json!(["currency_id"]),
                },
                true,
            )
            .await?;
        found[0]["currency_id"][1]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                ErpError::Rejected(format!("ERP company {} has no currency", self.company_id))
            })
    }

    async fn rate(&self, currency: &str, date: &str) -> Result<Decimal, ErpError> {
        let currency_id = self.currency_id(currency).await?;
        let rows = self
            .search_read(
                "res.currency.rate",
                json!([
                    ["currency_id", "=", currency_id],
                    ["company_id", "=", self.company_id],
                    ["name", "<=", date]
                ]),
                json!(["name", "rate"]),
                true,
            )
            .await?;
        newest_rate(&rows, date).ok_or_else(|| {
            ErpError::Rejected(format!(
                "the ERP has no {currency} rate on or before {date} for company {}; add one",
                self.company_id
            ))
        })
    }
}

/// The newest rate on or before the date, from `res.currency.rate` rows (`name` is the date).
fn newest_rate(rows: &Value, date: &str) -> Option<Decimal> {
    rows.as_array()?
        .iter()
        .filter(|r| r["name"].as_str().is_some_and(|d| d <= date))
        .max_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()))
        .and_then(|r| amount(&r["rate"]).ok())
        .map(|m| m.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odoo_floats_read_back_as_the_cents_they_stand_for() {
        assert_eq!(amount(&json!(14.99)).unwrap(), Money(Decimal::new(1499, 2)));
        assert_eq!(amount(&json!(115)).unwrap(), Money(Decimal::new(115, 0)));
        assert_eq!(amount(&json!(false)).unwrap(), Money::ZERO);
        assert!(amount(&json!("x")).is_err());
    }

    #[test]
    fn the_newest_rate_on_or_before_the_date_applies() {
        let rows = json!([
            {"name": "2026-01-01", "rate": 2.1},
            {"name": "2026-11-01", "rate": 2.14},
            {"name": "2026-12-15", "rate": 2.2}]);
        assert_eq!(newest_rate(&rows, "2026-11-30"), Some(Decimal::new(214, 2)));
        assert_eq!(newest_rate(&rows, "2025-12-31"), None);
    }

    #[test]
    fn json2_errors_keep_their_meaning() {
        let body =
            json!({"name": "odoo.exceptions.UserError", "message": "The entry is not balanced."});
        assert_eq!(
            json2_error(422, &body),
            ErpError::Rejected("UserError: The entry is not balanced.".into())
        );
        assert!(matches!(
            json2_error(401, &json!({})),
            ErpError::AccessDenied(_)
        ));
    }
}
