//! Talks to a running simulator over HTTP the way a client would; no simulator internals.
#![allow(dead_code)]

use odoo_sim::{OdooConfig, OdooVersion, RunningOdoo};
use serde_json::{json, Value};

pub struct Sim {
    pub odoo: RunningOdoo,
    pub http: reqwest::Client,
}

pub fn day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::start_version(OdooVersion::V18).await
    }

    pub async fn start_version(version: OdooVersion) -> Sim {
        let odoo = RunningOdoo::start(OdooConfig {
            version,
            today: Some(day()),
            ..OdooConfig::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Sim { odoo, http }
    }

    /// The raw JSON-RPC answer (status must be 200).
    pub async fn rpc(&self, service: &str, method: &str, args: Value) -> Value {
        let (status, body) = self.rpc_status(service, method, args).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub async fn rpc_status(&self, service: &str, method: &str, args: Value) -> (u16, String) {
        let body = json!({"jsonrpc": "2.0", "method": "call", "id": 7,
            "params": {"service": service, "method": method, "args": args}});
        let r = self
            .http
            .post(self.odoo.jsonrpc_url())
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The raw answer of `execute_kw` as the API user (API key as password).
    pub async fn kw(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        self.rpc(
            "object",
            "execute_kw",
            json!([
                self.odoo.db(),
                2,
                self.odoo.api_key(),
                model,
                method,
                args,
                kwargs
            ]),
        )
        .await
    }

    pub async fn kw_status(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
    ) -> (u16, String) {
        self.rpc_status(
            "object",
            "execute_kw",
            json!([
                self.odoo.db(),
                2,
                self.odoo.api_key(),
                model,
                method,
                args,
                kwargs
            ]),
        )
        .await
    }

    /// `result` of an `execute_kw`, failing the test on an error.
    pub async fn ok(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        let answer = self.kw(model, method, args, kwargs).await;
        assert!(answer.get("error").is_none(), "{answer}");
        answer["result"].clone()
    }

    /// Account id by code in a company (through the API, as a client looks it up).
    pub async fn account(&self, company: i64, code: &str) -> i64 {
        let found = self
            .ok(
                "account.account",
                "search_read",
                json!([[["code", "=", code]]]),
                json!({"fields": ["id"], "context": {"allowed_company_ids": [company]}}),
            )
            .await;
        found[0]["id"].as_i64().unwrap()
    }

    pub async fn journal(&self, company: i64, code: &str) -> i64 {
        let found = self
            .ok(
                "account.journal",
                "search_read",
                json!([[["code", "=", code], ["company_id", "=", company]]]),
                json!({"fields": ["id"]}),
            )
            .await;
        found[0]["id"].as_i64().unwrap()
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/_sim/odoo{path}", self.odoo.base_url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The company-1 day entry of the reference: cash 115 / sales 100 / VAT 15.
    pub async fn day_entry(&self, reference: &str) -> Value {
        let misc = self.journal(1, "MISC").await;
        let cash = self.account(1, "101501").await;
        let sales = self.account(1, "400000").await;
        let vat = self.account(1, "251000").await;
        json!({"move_type": "entry", "journal_id": misc, "date": "2026-11-21", "ref": reference,
        "line_ids": [
            [0, 0, {"account_id": cash, "name": "Cash takings", "debit": 115.00, "credit": 0.0}],
            [0, 0, {"account_id": sales, "name": "Sales", "debit": 0.0, "credit": 100.00}],
            [0, 0, {"account_id": vat, "name": "Output VAT 15%", "debit": 0.0, "credit": 15.00}],
        ]})
    }

    pub async fn read_move(&self, id: i64) -> Value {
        self.ok(
            "account.move",
            "read",
            json!([[id]]),
            json!({"fields": ["name", "state", "date", "ref", "line_ids", "reversed_entry_id", "journal_id"]}),
        )
        .await[0]
            .clone()
    }

    pub async fn read_lines(&self, move_id: i64) -> Vec<Value> {
        let m = self.read_move(move_id).await;
        self.ok(
            "account.move.line",
            "read",
            json!([m["line_ids"]]),
            json!({"fields": ["account_id", "name", "debit", "credit", "balance"]}),
        )
        .await
        .as_array()
        .unwrap()
        .clone()
    }
}
