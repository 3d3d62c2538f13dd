//! Helpers the integration tests share.

use serde_json::Value;

/// Sends a request to the simulator and reads its JSON body (panics on any failure).
pub async fn get_json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}
