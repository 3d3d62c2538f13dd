//! Books for the end-to-end tests of journals and reconciliation: a company with transfers
//! set up (the K-Series fixture), its own Odoo simulator connected as the ERP and every
//! account mapped, and the calls those tests make (transfer a day, deliver its journal
//! message to the real journal-poster handler, read what the ERP holds).

use odoo_sim::{OdooConfig, RunningOdoo};
use serde_json::{json, Value};
use tillbridge::aws_lambda_events::event::sqs::SqsEvent;

use crate::fixture::TransferFixture;

pub const REVENUE: [&str; 2] = ["400000", "402000"];
pub const DISCOUNT: &str = "401000";
pub const TAX: &str = "251000";
pub const TIPS: &str = "215000";
pub const ROUNDING: &str = "643000";

pub struct Books {
    pub fixture: TransferFixture,
    pub odoo: RunningOdoo,
    pub deps: tillbridge::Deps,
}

pub fn company_mapping() -> Value {
    json!({
        "payment_methods": {"CASH": "101501", "CARD": "101405", "AMEX": "101405",
            "GIFTCARD": "216000", "EFTPOS": "101405"},
        "tax_codes": {"VAT20": TAX, "VAT5": TAX, "VAT0": TAX, "GST15": TAX},
        "accounting_groups": {"Food": "400000", "Drinks": "400000", "Alcohol": "400000", "Takeaway": "400000"},
        "default_revenue": "400000",
        "discount": DISCOUNT, "service_charge": "403000", "tips": TIPS,
        "rounding": ROUNDING, "refunds": "402000",
        "erp_company_id": 1, "journal": "POSS", "rounding_threshold": "5.00"
    })
}

impl Books {
    /// A company with transfers set up, its own Odoo, the ERP connected and every account
    /// mapped (NZD locations to the NZD company).
    pub async fn new(prefix: &str) -> Books {
        Books::with(prefix, OdooConfig::default(), "json_rpc").await
    }

    pub async fn with(prefix: &str, odoo: OdooConfig, transport: &str) -> Books {
        let fixture = TransferFixture::new(prefix).await;
        let odoo = RunningOdoo::start(odoo).await.unwrap();
        let books = Books {
            deps: fixture.env.deps("journal-poster").await,
            fixture,
            odoo,
        };
        let erp = json!({"url": books.odoo.base_url(), "database": books.odoo.db(),
            "login": books.odoo.login(), "api_key": books.odoo.api_key(), "transport": transport});
        books.put("account-mappings/erp", &erp, 200).await;
        books.put("account-mappings", &company_mapping(), 200).await;
        for location in books.fixture.locations.keys() {
            if books.location(location).await["currency"] == "NZD" {
                let path = format!("account-mappings/locations/{location}");
                books.put(&path, &json!({"erp_company_id": 2}), 200).await;
            }
        }
        books
    }

    pub fn api(&self) -> crate::AdminClient {
        self.fixture.env.client(&self.fixture.company)
    }

    pub fn path(&self, rest: &str) -> String {
        format!("/v1/companies/{}/{rest}", self.fixture.company)
    }

    pub async fn put(&self, rest: &str, body: &Value, want: u16) -> Value {
        let (status, reply) = self.api().put(&self.path(rest), body).await.unwrap();
        assert_eq!(status, want, "PUT {rest}: {reply}");
        reply
    }

    pub async fn location(&self, id: &str) -> Value {
        let (status, body) = self
            .api()
            .get(&self.path(&format!("locations/{id}")))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        body["location"].clone()
    }

    pub async fn transfer(&self, location: &str, date: &str) {
        let (status, result) = self.fixture.transfer(location, date, true).await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["success"], true, "{result}");
    }

    /// One delivery of the day's journal message to the real journal-poster handler.
    pub async fn deliver(&self, location: &str, date: &str, attempt: u32) {
        let body = json!({"request_uuid": uuid::Uuid::new_v4().to_string(),
            "company_id": self.fixture.company, "location_id": location, "business_date": date,
            "attempt": attempt, "requested_at": chrono::Utc::now().to_rfc3339()});
        self.deliver_body(&body.to_string()).await;
    }

    async fn deliver_body(&self, body: &str) {
        let path = tillbridge_local::paths::root().join("events/journal-poster.json");
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event["Records"][0]["body"] = json!(body);
        event["Records"][0]["messageId"] = json!(uuid::Uuid::new_v4().to_string());
        let event: SqsEvent = serde_json::from_value(event).unwrap();
        let response =
            tillbridge_local::host::functions::queue("journal-poster", &self.deps, event)
                .await
                .unwrap();
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }

    /// Delivers what waits on this environment's journal queue (an admin re-post, as the
    /// API queued it) to the real journal-poster handler; answers how many messages.
    pub async fn deliver_queued(&self) -> usize {
        let sqs = self.fixture.env.sqs().await;
        let url = self.fixture.env.queue_url("JournalQueue");
        let mut delivered = 0;
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return delivered;
            }
            for message in messages {
                self.deliver_body(message.body.as_deref().unwrap_or_default())
                    .await;
                sqs.delete_message()
                    .queue_url(&url)
                    .receipt_handle(message.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .unwrap();
                delivered += 1;
            }
        }
    }

    pub async fn journal(&self, location: &str, date: &str, revision: u32) -> Value {
        let (status, body) = self
            .api()
            .get(&self.path(&format!("journals/{location}:{date}:{revision}")))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The simulator's moves carrying a reference, as the ERP holds them.
    pub async fn moves(&self, reference: &str) -> Vec<Value> {
        reqwest::Client::new()
            .get(format!("{}/_sim/odoo/moves", self.odoo.base_url()))
            .query(&[("ref", reference)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn odoo(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let reply = reqwest::Client::new()
            .request(method, format!("{}/_sim/odoo/{path}", self.odoo.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.unwrap_or(Value::Null)
    }

    pub async fn open_alert(&self, code: &str, location: &str, date: &str) -> Option<Value> {
        self.fixture
            .alerts()
            .await
            .into_iter()
            .find(|a| a["code"] == code && a["subject"] == format!("{location}:{date}"))
    }

    /// Maps every item the fixture left unmapped (one SKU in five) to the cola ingredient, so
    /// a day's ledger has nothing left to flag.
    pub async fn map_every_item(&self) {
        let api = self.api();
        let (items, _) = api
            .list_all(&self.path("items?product=k_series&mapped=false"), 100)
            .await
            .unwrap();
        let cola = self.fixture.ingredients[6].clone();
        for item in items {
            let path = self.path(&format!(
                "items/k_series/{}/mapping",
                item["item_id"].as_str().unwrap()
            ));
            let (status, reply) = api
                .put(&path, &json!({"ingredient_id": cola, "quantity": "1"}))
                .await
                .unwrap();
            assert!(status == 200 || status == 201, "{reply}");
        }
    }
}
