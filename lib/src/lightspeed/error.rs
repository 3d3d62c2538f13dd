//! What can go wrong talking to Lightspeed, typed so callers know whether to retry.

use std::time::Duration;

use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LightspeedError {
    /// 429 or 5xx or a timeout: retry later (after `retry_after` when Lightspeed said so).
    #[error("Lightspeed is unavailable ({status:?}): {message}")]
    Retryable {
        status: Option<u16>,
        retry_after: Option<Duration>,
        message: String,
    },
    /// The refresh token is dead: a person must reauthorize.
    #[error("the Lightspeed connection needs to be reauthorized: {0}")]
    Disconnected(String),
    /// Refreshing failed in a way that may pass (token endpoint 5xx or timeout).
    #[error("refreshing the Lightspeed token failed: {0}")]
    RefreshFailed(String),
    /// No integration or no tokens for it.
    #[error("no active Lightspeed connection: {0}")]
    NotConnected(String),
    /// 403: the authorising user cannot see this location, or a scope is missing.
    #[error("Lightspeed refused access (403): {0}")]
    Forbidden(String),
    /// Any other 4xx, or a body that is not what the API documents.
    #[error("Lightspeed API error ({status:?}): {message}")]
    Api {
        status: Option<u16>,
        message: String,
    },
}

impl LightspeedError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LightspeedError::Retryable { .. } | LightspeedError::RefreshFailed(_)
        )
    }
}

impl From<LightspeedError> for AppError {
    fn from(err: LightspeedError) -> Self {
        let code = match &err {
            LightspeedError::Disconnected(_)
            | LightspeedError::NotConnected(_)
            | LightspeedError::Forbidden(_) => ErrorCode::LightspeedAuthFailed,
            LightspeedError::Retryable { .. }
            | LightspeedError::RefreshFailed(_)
            | LightspeedError::Api { .. } => ErrorCode::LightspeedApiError,
        };
        AppError::new(code, err.to_string())
    }
}

/// `Retry-After` as seconds or an HTTP date, relative to `now_epoch`.
pub fn parse_retry_after(value: &str, now_epoch: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value)
        .ok()?
        .timestamp();
    Some(Duration::from_secs(
        u64::try_from(at - now_epoch).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
