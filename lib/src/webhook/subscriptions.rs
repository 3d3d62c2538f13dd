//! Webhook subscriptions of an X-Series store (SPEC C8): registered through the API when
//! the store is connected or reauthorized, for every type tillbridge acts on. An existing
//! subscription (409 "already exists") counts as registered; a refusal is recorded on the
//! integration, shown in its status, and does not undo the connection. Disconnecting removes
//! them again.

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

/// Removes this deployment's subscriptions (those delivering to `url`) from the store, each
/// reported `removed` or `failed` with the reason (one request to list, one per removal).
pub async fn unsubscribe(
    client: &LightspeedClient,
    connection: &Connection,
    url: &str,
) -> Vec<Subscription> {
    let listed = match client.get_json(connection, "/api/2.0/webhooks", &[]).await {
        Ok(listed) => listed,
        Err(err) => {
            tracing::warn!(error = %err, "webhook subscriptions could not be listed");
            return HANDLED.iter().map(|kind| failed(kind, &err)).collect();
        }
    };
    let ours = listed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| w["url"].as_str() == Some(url));
    let mut out = Vec::new();
    for webhook in ours {
        let kind = webhook["type"].as_str().unwrap_or("?");
        let Some(id) = webhook["id"].as_str() else {
            continue;
        };
        let path = format!("/api/2.0/webhooks/{id}");
        out.push(match client.delete(connection, &path).await {
            // Already gone is removed.
            Ok(_)
            | Err(LightspeedError::Api {
                status: Some(404), ..
            }) => Subscription {
                kind: kind.to_string(),
                status: "removed".into(),
                error: None,
            },
            Err(err) => failed(kind, &err),
        });
    }
    out
}

fn failed(kind: &str, err: &LightspeedError) -> Subscription {
    tracing::warn!(kind, error = %err, "webhook subscription not removed");
    Subscription {
        kind: kind.to_string(),
        status: "failed".into(),
        error: Some(err.to_string()),
    }
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
