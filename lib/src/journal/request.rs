//! The journal queue's message: one location and business date (or register closure) to
//! (re)post, sent when a transfer of that day completes, when a register closes, and by the
//! admin API's re-post.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::location::business_day;
use crate::location::record::JournalPeriod;
use crate::location::Location;
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::store::ItemStore;
use crate::webhook::closures::{self, RegisterClosure};

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
    /// Set: the journal of this X-Series register closure (`business_date` is the day it
    /// closed in), not the whole day's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_id: Option<String>,
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
        if let Some(closure) = &self.closure_id {
            ids::check_message_ids(&[("closure_id", closure)])?;
        }
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

    /// The journal's period in keys, ids and references (see [`super::record::period`]).
    pub fn period(&self) -> String {
        super::record::period(&self.business_date, self.closure_id.as_deref())
    }

    pub fn message(&self, delay_seconds: u32) -> Result<OutboundMessage, AppError> {
        Ok(OutboundMessage {
            delay_seconds,
            ..OutboundMessage::json(self, &self.request_uuid)?
        })
    }
}

/// Whether the company posts journals: an ERP connection and an account mapping exist.
async fn posts_journals(store: &dyn ItemStore, company_id: &str) -> Result<bool, AppError> {
    Ok(crate::erp::connection::get(store, company_id)
        .await?
        .is_some()
        && crate::accounts::mapping::get(store, company_id, None)
            .await?
            .is_some())
}

/// The journal request of a register closure: dated the business day it closed in.
fn closure_request(
    location: &Location,
    closure: &RegisterClosure,
    request_uuid: &str,
    now: &str,
) -> Option<JournalRequest> {
    let closed = closure.closed()?;
    Some(JournalRequest {
        request_uuid: request_uuid.to_string(),
        company_id: location.company_id.clone(),
        location_id: location.location_id.clone(),
        business_date: business_day::business_date(location.day_mode(), closed).to_string(),
        attempt: 1,
        requested_at: now.to_string(),
        verify_in_erp: false,
        closure_id: Some(closure.closure_id.clone()),
    })
}

/// After a completed transfer: queues the day's journal when the company posts to an ERP;
/// otherwise nothing. An outlet that journals per register closure gets the journals of
/// the closures that closed in the day or the day after (a shift that runs past the cutoff
/// holds this day's sales) again instead: a late void or sale changes its closure's
/// journal, an unchanged one posts nothing.
pub async fn after_transfer(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    company_id: &str,
    location_id: &str,
    business_date: &str,
    request_uuid: &str,
    now: &str,
) -> Result<bool, AppError> {
    if !posts_journals(store, company_id).await? {
        return Ok(false);
    }
    let location = crate::location::record::get(store, company_id, location_id).await?;
    let requests = match (location.journal_per, ids::strict_date(business_date)) {
        (JournalPeriod::RegisterClosure, Some(date)) => {
            let day = business_day::window(location.day_mode(), date);
            let window = business_day::Window {
                start: day.start,
                end: day.end + chrono::Duration::days(1),
            };
            closures::closed_in(store, company_id, location_id, &window)
                .await?
                .iter()
                .filter_map(|c| closure_request(&location, c, request_uuid, now))
                .collect()
        }
        _ => vec![JournalRequest {
            request_uuid: request_uuid.to_string(),
            company_id: company_id.to_string(),
            location_id: location_id.to_string(),
            business_date: business_date.to_string(),
            attempt: 1,
            requested_at: now.to_string(),
            verify_in_erp: false,
            closure_id: None,
        }],
    };
    for request in &requests {
        queue.send(QueueName::Journal, request.message(0)?).await?;
    }
    Ok(!requests.is_empty())
}

/// A register closed: queues its journal when its outlet journals per register closure
/// and the company posts to an ERP.
pub async fn after_closure(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    location: &Location,
    closure: &RegisterClosure,
    request_uuid: &str,
    now: &str,
) -> Result<bool, AppError> {
    if location.journal_per != JournalPeriod::RegisterClosure
        || !location.is_active()
        || !posts_journals(store, &location.company_id).await?
    {
        return Ok(false);
    }
    let Some(request) = closure_request(location, closure, request_uuid, now) else {
        return Ok(false);
    };
    queue.send(QueueName::Journal, request.message(0)?).await?;
    Ok(true)
}
