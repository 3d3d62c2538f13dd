//! The transfer worker's use case for one request. Today it validates the request, checks
//! the location, and records the attempt; the sales engine extends the success path.

use super::log::{LogError, TransferLog, TransferStatus};
use super::request::TransferRequest;
use crate::error::{AppError, ErrorCode};
use crate::store::{keys, Condition, ItemStore, StoreError};

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The attempt's log was written.
    Logged(Box<TransferLog>),
    /// A redelivered message: this attempt was already logged, nothing new written.
    AlreadyLogged(String),
}

/// Runs one request. `Err` means the message itself is unusable or the store failed
/// (the caller lets SQS retry, then dead-letter it); everything else is logged.
pub async fn run(
    store: &dyn ItemStore,
    request: &TransferRequest,
    now: &str,
) -> Result<Outcome, AppError> {
    request.check_ids()?;
    let result = check(store, request).await;
    let failure = match result {
        Ok(()) => AppError::new(
            ErrorCode::NotImplemented,
            "the sales engine is not available in this version; the request was recorded",
        ),
        Err(err) if err.code.is_retryable() => return Err(err),
        Err(err) => err,
    };
    let log = TransferLog {
        log_id: TransferLog::id_for(request),
        request_uuid: request.request_uuid.clone(),
        attempt: request.attempt,
        company_id: request.company_id.clone(),
        location_id: request.location_id.clone(),
        date: request.business_date.clone().unwrap_or_default(),
        status: TransferStatus::Failed,
        success: false,
        no_data: false,
        ledger_ids: Vec::new(),
        error: Some(LogError {
            code: failure.code.as_str().to_string(),
            message: failure.message,
        }),
        requested_at: request.requested_at.clone(),
        finished_at: now.to_string(),
    };
    match store.put(log.to_item()?, Condition::NotExists).await {
        Ok(()) => Ok(Outcome::Logged(Box::new(log))),
        Err(StoreError::ConditionFailed) => Ok(Outcome::AlreadyLogged(log.log_id)),
        Err(err) => Err(err.into()),
    }
}

async fn check(store: &dyn ItemStore, request: &TransferRequest) -> Result<(), AppError> {
    let date = request.business_date()?;
    let location = store
        .get(&keys::location(&request.company_id, &request.location_id))
        .await?;
    if location.is_none() {
        return Err(AppError::new(
            ErrorCode::LocationNotFound,
            format!(
                "location `{}` is not synced for company `{}`; sync locations, then transfer {date} again",
                request.location_id, request.company_id
            ),
        ));
    }
    Ok(())
}
