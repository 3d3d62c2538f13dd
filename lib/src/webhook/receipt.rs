//! Receiving one X-Series webhook delivery (SPEC C8): signature first (over the raw body),
//! then the form (`type`, `domain_prefix`, `payload` JSON), then the retailer. A valid
//! delivery of a handled type becomes one small message on the sales-events queue — ids
//! and version only, the payload being a hint the worker re-fetches — and nothing else
//! happens inline: no Lightspeed call, no ledger work. Unknown retailers and unhandled
//! types are acknowledged (so Lightspeed stops retrying), counted in the logs, and dropped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::signature::{self, SignatureError};
use crate::connection::integration::{self, IntegrationStatus};
use crate::error::{AppError, ErrorCode};
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::store::ItemStore;

/// The largest body accepted (a sale with hundreds of lines is well below it).
pub const MAX_BODY: usize = 1024 * 1024;

/// The webhook types tillbridge acts on.
pub const HANDLED: [&str; 3] = ["sale.update", "product.update", "register_closure.create"];

/// One delivery as the form carries it (pure).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub kind: String,
    pub domain_prefix: Option<String>,
    pub object_id: String,
    /// The entity's global, monotonic version, when the payload has one.
    pub version: Option<u64>,
    pub payload: Value,
}

/// The sales-events queue's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesEvent {
    pub request_uuid: String,
    pub company_id: String,
    pub domain_prefix: String,
    pub event_type: String,
    pub object_id: String,
    pub version: Option<u64>,
    /// `{type}:{object_id}:{version}`: the worker's inbox key (a retried delivery of the
    /// same version changes nothing).
    pub dedupe_key: String,
    pub received_at: String,
    /// For `register_closure.create` only: the closure as delivered (register, outlet,
    /// sequence, open and close times), which nothing else re-fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<serde_json::Map<String, Value>>,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Receipt {
    Queued { dedupe_key: String },
    Ignored { reason: String },
}

fn malformed(why: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::WebhookMalformed, why)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses the form body (pure): `type` and a JSON object `payload` with an `id` are required.
pub fn parse(body: &[u8]) -> Result<Delivery, AppError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| malformed("the body is not an application/x-www-form-urlencoded form"))?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let kind = field("type").ok_or_else(|| malformed("the form has no `type`"))?;
    let raw = field("payload").ok_or_else(|| malformed("the form has no `payload`"))?;
    let payload: Value =
        serde_json::from_str(&raw).map_err(|_| malformed("`payload` is not JSON"))?;
    if !payload.is_object() {
        return Err(malformed("`payload` is not a JSON object"));
    }
    let object_id = text(&payload["id"]).ok_or_else(|| malformed("`payload` has no `id`"))?;
    if !crate::ids::is_valid_id(&object_id) {
        return Err(malformed("`payload.id` is not an id"));
    }
    let version = match &payload["version"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    Ok(Delivery {
        kind,
        domain_prefix: field("domain_prefix")
            .or_else(|| text(&payload["domain_prefix"]))
            .filter(|p| crate::ids::is_valid_id(p)),
        object_id,
        version,
        payload,
    })
}

/// The queue message of a delivery for a company (pure).
pub fn event(delivery: &Delivery, company_id: &str, domain_prefix: &str, now: &str) -> SalesEvent {
    let version = delivery
        .version
        .map_or_else(|| "none".to_string(), |v| v.to_string());
    SalesEvent {
        request_uuid: crate::random::uuid().to_string(),
        company_id: company_id.to_string(),
        domain_prefix: domain_prefix.to_string(),
        event_type: delivery.kind.clone(),
        object_id: delivery.object_id.clone(),
        version: delivery.version,
        dedupe_key: format!("{}:{}:{version}", delivery.kind, delivery.object_id),
        received_at: now.to_string(),
        closure: (delivery.kind == "register_closure.create").then(|| {
            [
                "register_id",
                "outlet_id",
                "register_open_sequence_id",
                "register_open_time",
                "register_close_time",
            ]
            .iter()
            .filter_map(|k| Some((k.to_string(), delivery.payload.get(*k)?.clone())))
            .collect()
        }),
    }
}

fn ignored(reason: &str, kind: &str) -> Receipt {
    // Counted from the logs (one line per ignore, with its reason) and never retried.
    tracing::info!(
        reason,
        webhook_type = kind,
        counter = "webhook_ignored",
        "webhook ignored"
    );
    Receipt::Ignored {
        reason: reason.to_string(),
    }
}

/// Receives one delivery (one message per company connected to the store): `Err` is 401 (signature), 400 (form) or 413 (size) for the caller,
/// or an infrastructure failure (5xx, so Lightspeed retries).
pub async fn receive(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    secret: &[u8],
    signature_header: Option<&str>,
    body: &[u8],
    now: &str,
) -> Result<Receipt, AppError> {
    if body.len() > MAX_BODY {
        return Err(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    signature::verify(signature_header, body, secret).map_err(|err| {
        let what = match err {
            SignatureError::Missing | SignatureError::Malformed => err.to_string(),
            SignatureError::Mismatch => "the signature does not match".to_string(),
        };
        AppError::new(ErrorCode::WebhookSignatureInvalid, what)
    })?;
    let delivery = parse(body)?;
    if !HANDLED.contains(&delivery.kind.as_str()) {
        return Ok(ignored("unhandled_type", &delivery.kind));
    }
    let Some(prefix) = delivery.domain_prefix.clone() else {
        return Ok(ignored("unknown_retailer", &delivery.kind));
    };
    // A disconnected (or not yet connected) company's deliveries have nothing to call with.
    let companies: Vec<String> = integration::of_domain(store, &prefix)
        .await?
        .into_iter()
        .filter(|i| {
            matches!(
                i.status,
                IntegrationStatus::Active | IntegrationStatus::RefreshFailed
            )
        })
        .map(|i| i.company_id)
        .collect();
    if companies.is_empty() {
        return Ok(ignored("unknown_retailer", &delivery.kind));
    }
    let mut dedupe_key = String::new();
    for company_id in &companies {
        let event = event(&delivery, company_id, &prefix, now);
        let message = OutboundMessage::json(&event, &event.request_uuid)?;
        queue.send(QueueName::SalesEvents, message).await?;
        tracing::info!(company_id, dedupe_key = %event.dedupe_key, "webhook queued");
        dedupe_key = event.dedupe_key;
    }
    Ok(Receipt::Queued { dedupe_key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, payload: &str) -> Vec<u8> {
        serde_urlencoded::to_string([
            ("domain_prefix", "copperpot"),
            ("environment", "production"),
            ("payload", payload),
            ("type", kind),
        ])
        .unwrap()
        .into_bytes()
    }

    #[test]
    fn a_delivery_gives_its_type_retailer_object_and_version() {
        let body = form(
            "sale.update",
            r#"{"id":"6f1a-77","version":"123","status":"CLOSED"}"#,
        );
        let delivery = parse(&body).unwrap();
        assert_eq!(delivery.kind, "sale.update");
        assert_eq!(delivery.domain_prefix.as_deref(), Some("copperpot"));
        assert_eq!(delivery.object_id, "6f1a-77");
        assert_eq!(delivery.version, Some(123));
        let event = event(&delivery, "acme", "copperpot", "2026-12-01T00:00:00Z");
        assert_eq!(event.dedupe_key, "sale.update:6f1a-77:123");
    }

    #[test]
    fn garbage_forms_and_payloads_are_malformed() {
        for body in [
            b"\xff\xfe".to_vec(),
            b"type=sale.update".to_vec(),
            form("sale.update", "not json"),
            form("sale.update", "[1,2]"),
            form("sale.update", r#"{"no_id":1}"#),
            form("sale.update", r#"{"id":"has space"}"#),
            form("", r#"{"id":"1"}"#),
        ] {
            assert_eq!(
                parse(&body).unwrap_err().code,
                ErrorCode::WebhookMalformed,
                "{body:?}"
            );
        }
    }
}
