//! X-Series webhook delivery: `POST application/x-www-form-urlencoded` with the entity JSON in the
//! `payload` field, signed `X-Signature: signature=<hex>,algorithm=HMAC-SHA256` where the HMAC
//! is over the raw body bytes keyed with the app's client secret; retried with exponential
//! back-off on timeouts and non-2xx answers.

use crate::config::WebhookPolicy;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The webhook types X-Series documents.
pub const TYPES: &[&str] = &[
    "sale.update",
    "product.update",
    "customer.update",
    "inventory.update",
    "register_closure.create",
    "consignment.send",
    "consignment.receive",
];

/// Hex HMAC-SHA256 of `body` keyed with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Signature` header value (no space after the comma).
pub fn signature_header(secret: &str, body: &[u8]) -> String {
    format!("signature={},algorithm=HMAC-SHA256", sign(secret, body))
}

/// The form body of a delivery.
pub fn form_body(kind: &str, domain_prefix: &str, payload_json: &str) -> String {
    serde_urlencoded::to_string([
        ("domain_prefix", domain_prefix),
        ("environment", "production"),
        ("payload", payload_json),
        ("type", kind),
    ])
    .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub id: String,
    pub retailer_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub active: bool,
}

/// One delivery attempt, kept for tests and the demo.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub event_id: u64,
    pub subscription_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub signature: String,
    pub body: String,
}

#[derive(Debug)]
pub struct Webhooks {
    subs: Mutex<Vec<Subscription>>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    client: reqwest::Client,
    secret: String,
    policy: WebhookPolicy,
    next_id: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Why a subscription was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SubscribeError {
    Duplicate,
    Invalid(String),
}

impl Webhooks {
    pub fn new(secret: String, policy: WebhookPolicy) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(policy.timeout_ms))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Webhooks {
            subs: Mutex::new(Vec::new()),
            attempts: Arc::new(Mutex::new(Vec::new())),
            client,
            secret,
            policy,
            next_id: AtomicU64::new(1),
        })
    }

    pub fn subscribe(
        &self,
        retailer_id: &str,
        kind: &str,
        url: &str,
        active: bool,
    ) -> Result<Subscription, SubscribeError> {
        if !TYPES.contains(&kind) {
            return Err(SubscribeError::Invalid(format!(
                "unknown webhook type '{kind}'"
            )));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(SubscribeError::Invalid("url must be http(s)".into()));
        }
        let mut subs = lock(&self.subs);
        if subs.iter().any(|s| s.kind == kind && s.url == url) {
            return Err(SubscribeError::Duplicate);
        }
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let s = Subscription {
            id: format!("wh-{n:06}"),
            retailer_id: retailer_id.to_string(),
            kind: kind.to_string(),
            url: url.to_string(),
            active,
        };
        subs.push(s.clone());
        Ok(s)
    }

    pub fn list(&self) -> Vec<Subscription> {
        lock(&self.subs).clone()
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut subs = lock(&self.subs);
        let before = subs.len();
        subs.retain(|s| s.id != id);
        subs.len() != before
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        lock(&self.attempts).clone()
    }

    /// Sends `payload_json` to every active subscription of `kind`; returns how many were queued.
    pub fn emit(&self, kind: &str, domain_prefix: &str, payload_json: &str) -> usize {
        let targets: Vec<Subscription> = lock(&self.subs)
            .iter()
            .filter(|s| s.active && s.kind == kind)
            .cloned()
            .collect();
        let body = form_body(kind, domain_prefix, payload_json);
        let signature = signature_header(&self.secret, body.as_bytes());
        for sub in &targets {
            let event_id = self.next_id.fetch_add(1, Ordering::SeqCst);
            let client = self.client.clone();
            let attempts = self.attempts.clone();
            let policy = self.policy.clone();
            let body = body.clone();
            let signature = signature.clone();
            let sub = sub.clone();
            tokio::spawn(async move {
                let mut delay = policy.base_delay_ms;
                for attempt in 1..=policy.max_attempts.max(1) {
                    let res = client
                        .post(&sub.url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("x-signature", signature.clone())
                        .body(body.clone())
                        .send()
                        .await;
                    let (status, error) = match &res {
                        Ok(r) => (Some(r.status().as_u16()), None),
                        Err(e) => (None, Some(e.to_string())),
                    };
                    let ok = status.is_some_and(|s| (200..300).contains(&s));
                    lock(&attempts).push(Attempt {
                        event_id,
                        subscription_id: sub.id.clone(),
                        kind: sub.kind.clone(),
                        url: sub.url.clone(),
                        attempt,
                        status,
                        error,
                        signature: signature.clone(),
                        body: body.clone(),
                    });
                    if ok {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    delay = delay.saturating_mul(2);
                }
            });
        }
        targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_format_has_no_space() {
        let h = signature_header("k", b"payload=%7B%7D");
        assert!(h.starts_with("signature="));
        assert!(h.ends_with(",algorithm=HMAC-SHA256"));
        assert!(!h.contains(' '));
        assert_eq!(sign("k", b"a").len(), 64);
    }
}
