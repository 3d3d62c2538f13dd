//! The journal queue's message: one location and business date to (re)post, sent when a
//! transfer of that day completes and by the admin API's re-post.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::store::ItemStore;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRequest {
    pub request_uuid: String,
    pub company_id: String,
    pub location_id: String,
    pub business_date: String,
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    pub requested_at: String,
    /// Read the posted move back even when the day is unchanged, and post it again if the
    /// ERP no longer holds it (an admin's re-post after `journal_missing`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verify_in_erp: bool,
}

fn first_attempt() -> u32 {
    1
}

impl JournalRequest {
    /// Ids and the date go into table keys and ERP references.
    pub fn check(&self) -> Result<(), AppError> {
        ids::check_message_ids(&[
            ("request_uuid", &self.request_uuid),
            ("company_id", &self.company_id),
            ("location_id", &self.location_id),
        ])?;
        if ids::strict_date(&self.business_date).is_none() {
            return Err(AppError::new(
                ErrorCode::InvalidDateFormat,
                format!(
                    "`business_date` must be YYYY-MM-DD, got `{}`",
                    self.business_date
                ),
            ));
        }
        Ok(())
    }

    pub fn message(&self, delay_seconds: u32) -> Result<OutboundMessage, AppError> {
        Ok(OutboundMessage {
            delay_seconds,
            ..OutboundMessage::json(self, &self.request_uuid)?
        })
    }
}

/// After a completed transfer: queues the day's journal when the company posts to an ERP
/// (an ERP connection and an account mapping exist); otherwise nothing.
pub async fn after_transfer(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    company_id: &str,
    location_id: &str,
    business_date: &str,
    request_uuid: &str,
    now: &str,
) -> Result<bool, AppError> {
    if crate::erp::connection::get(store, company_id)
        .await?
        .is_none()
        || crate::accounts::mapping::get(store, company_id, None)
            .await?
            .is_none()
    {
        return Ok(false);
    }
    let request = JournalRequest {
        request_uuid: request_uuid.to_string(),
        company_id: company_id.to_string(),
        location_id: location_id.to_string(),
        business_date: business_date.to_string(),
        attempt: 1,
        requested_at: now.to_string(),
        verify_in_erp: false,
    };
    queue.send(QueueName::Journal, request.message(0)?).await?;
    Ok(true)
}
