//! The transfer queue's message and its validation.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};
use crate::ids;

/// One location and business date to transfer. Producers: daily-fanout, the admin API,
/// the migration worker, and the transfer worker itself when it re-enqueues a retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    pub request_uuid: String,
    pub company_id: String,
    pub location_id: String,
    /// `YYYY-MM-DD`; kept as text so a bad value is reported as `invalid_date_format`
    /// in the transfer log instead of vanishing as an unparseable message.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    #[serde(default)]
    pub force_refresh: bool,
    /// When the request was first made (RFC 3339); orders the logs of one day.
    pub requested_at: String,
}

fn first_attempt() -> u32 {
    1
}

impl TransferRequest {
    /// Checks the identifiers and the date, in the order a person would fix them.
    pub fn business_date(&self) -> Result<NaiveDate, AppError> {
        let raw = self
            .business_date
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::DateRequired,
                    "`business_date` is required (YYYY-MM-DD)",
                )
            })?;
        ids::strict_date(raw).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidDateFormat,
                format!("`business_date` must be a calendar date as YYYY-MM-DD, got `{raw}`"),
            )
        })
    }

    /// Ids go into table keys, so a malformed one makes the whole message unusable.
    pub fn check_ids(&self) -> Result<(), AppError> {
        ids::check_message_ids(&[
            ("request_uuid", &self.request_uuid),
            ("company_id", &self.company_id),
            ("location_id", &self.location_id),
        ])?;
        if chrono::DateTime::parse_from_rfc3339(&self.requested_at).is_err() {
            return Err(AppError::new(
                ErrorCode::InvalidMessage,
                "`requested_at` must be an RFC 3339 time",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(date: Option<&str>) -> TransferRequest {
        TransferRequest {
            request_uuid: "r1".into(),
            company_id: "c".into(),
            location_id: "l".into(),
            business_date: date.map(str::to_string),
            attempt: 1,
            force_refresh: false,
            requested_at: "2026-11-20T05:00:00Z".into(),
        }
    }

    #[test]
    fn dates_are_required_and_strict() {
        assert_eq!(
            request(None).business_date().unwrap_err().code,
            ErrorCode::DateRequired
        );
        assert_eq!(
            request(Some(" ")).business_date().unwrap_err().code,
            ErrorCode::DateRequired
        );
        for bad in ["2026-02-30", "2026-2-3", "20260203", "yesterday"] {
            assert_eq!(
                request(Some(bad)).business_date().unwrap_err().code,
                ErrorCode::InvalidDateFormat,
                "{bad}"
            );
        }
        assert_eq!(
            request(Some("2024-02-29")).business_date().unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
    }

    #[test]
    fn attempt_defaults_to_one() {
        let parsed: TransferRequest = serde_json::from_str(
            r#"{"request_uuid":"r","company_id":"c","location_id":"l","business_date":"2026-01-01","requested_at":"2026-01-02T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(parsed.attempt, 1);
        assert!(parsed.check_ids().is_ok());
        let mut bad = parsed.clone();
        bad.location_id = "a#b".into();
        assert_eq!(bad.check_ids().unwrap_err().code, ErrorCode::InvalidMessage);
    }
}
