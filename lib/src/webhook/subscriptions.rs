//! Webhook subscriptions of an X-Series store (SPEC C8): registered through the API when
//! the store is connected or reauthorized, for every type tillbridge acts on. An existing
//! subscription (409 "already exists") counts as registered; a refusal is recorded on the
//! integration, shown in its status, and does not undo the connection.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::receipt::HANDLED;
use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subscription {
    #[serde(rename = "type")]
    pub kind: String,
    /// `active`, or `failed` with the reason.
    #[schema(schema_with = crate::api::openapi::schemas::subscription_status)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub error: Option<String>,
}

/// Where Lightspeed delivers: the webhook route beside the OAuth callback of the same API.
pub fn url_beside(redirect_uri: &str) -> Option<String> {
    redirect_uri
        .strip_suffix("/oauth/callback")
        .map(|base| format!("{base}/webhooks/lightspeed"))
}

/// Registers every handled type for `url` (one request each).
pub async fn subscribe(
    client: &LightspeedClient,
    connection: &Connection,
    url: &str,
) -> Vec<Subscription> {
    let mut out = Vec::with_capacity(HANDLED.len());
    for kind in HANDLED {
        let body = json!({"url": url, "active": true, "type": kind});
        let result = client
            .post_json(connection, "/api/2.0/webhooks", &body)
            .await;
        let (status, error) = match result {
            Ok(_)
            | Err(LightspeedError::Api {
                status: Some(409), ..
            }) => ("active", None),
            Err(err) => ("failed", Some(err.to_string())),
        };
        if let Some(error) = &error {
            tracing::warn!(kind, error, "webhook subscription refused");
        }
        out.push(Subscription {
            kind: kind.to_string(),
            status: status.to_string(),
            error,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_url_sits_beside_the_oauth_callback() {
        assert_eq!(
            url_beside("https://api.example.com/oauth/callback").as_deref(),
            Some("https://api.example.com/webhooks/lightspeed")
        );
        assert_eq!(url_beside("https://api.example.com/elsewhere"), None);
    }
}
