//! What a connector's day fetch returns: every sale of one business-day window, mapped to
//! the canonical model, with the request counts the transfer reports and benchmarks quote.

use serde::{Deserialize, Serialize};

use super::canonical::CanonicalSale;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedDay {
    pub sales: Vec<CanonicalSale>,
    /// Pages of sales received.
    pub pages: u32,
    /// HTTP requests made for them, retries included.
    pub requests: u32,
}

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};

/// Tries of one page request inside a transfer attempt. A transient fault on one page of
/// many would otherwise cost the whole attempt a 30 s+ trip through the queue.
const PAGE_TRIES: u32 = 3;
/// Longest `Retry-After` waited for in process; longer ones go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

/// GET one page read as `T` (a `Value`, or typed wire structs), retrying transient faults
/// briefly; counts every request made.
pub async fn get_page<T: DeserializeOwned>(
    client: &LightspeedClient,
    connection: &Connection,
    path: &str,
    query: &[(&str, String)],
    requests: &mut u32,
) -> Result<T, LightspeedError> {
    let mut try_number = 0;
    loop {
        try_number += 1;
        *requests += 1;
        match client.get_as(connection, path, query).await {
            Ok(page) => return Ok(page),
            Err(LightspeedError::Retryable {
                status,
                retry_after,
                message,
            }) if try_number < PAGE_TRIES && retry_after.is_none_or(|w| w <= MAX_INLINE_WAIT) => {
                let pause =
                    retry_after.unwrap_or(Duration::from_millis(200 * u64::from(try_number)));
                tracing::warn!(?status, try_number, pause_ms = pause.as_millis() as u64, %message, "Lightspeed page request failed; retrying");
                tokio::time::sleep(pause).await;
            }
            Err(err) => return Err(err),
        }
    }
}
