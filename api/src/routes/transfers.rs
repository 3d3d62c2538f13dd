//! Manual transfer of one location and business date (SPEC C5): force refresh by default,
//! run now and answer with the result, or `"async": true` to queue it.

use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::handlers::now;
use tillbridge::queue::{OutboundMessage, QueueName};
use tillbridge::transfer::run::{run, Outcome};
use tillbridge::transfer::{TransferLog, TransferRequest};

use crate::openapi::schemas as doc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ManualTransferInput)]
pub struct ManualTransfer {
    /// Business date YYYY-MM-DD (missing: date_required; malformed: invalid_date_format).
    #[serde(default)]
    #[schema(value_type = String, required, format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: Option<String>,
    /// Re-fetch from Lightspeed and post reversal/correction entries for what changed; false reuses the cached sales.
    #[serde(default = "yes")]
    #[schema(default = true)]
    force_refresh: bool,
    /// Queue the transfer instead of running it now (202 with the request uuid).
    #[serde(default, rename = "async")]
    #[schema(default = false)]
    queued: bool,
}

/// The answer of an `"async": true` manual transfer: the queued request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TransferQueued {
    request_uuid: String,
    log_id: String,
    #[schema(schema_with = doc::always_true)]
    queued: bool,
}

/// The codes a transfer attempt can end with (their HTTP status answers a manual run).
const TRANSFER_ERRORS: [ErrorCode; 7] = [
    ErrorCode::DateRequired,
    ErrorCode::InvalidDateFormat,
    ErrorCode::LocationNotFound,
    ErrorCode::StorageUnitRequired,
    ErrorCode::LocationHasNoStorageUnit,
    ErrorCode::LightspeedAuthFailed,
    ErrorCode::MaxRetriesExhausted,
];

fn yes() -> bool {
    true
}

/// The result fields of SPEC C5 from an attempt's log.
pub fn result(log: &TransferLog) -> serde_json::Value {
    json!({
        "date": log.date,
        "success": log.success,
        "no_data": log.no_data,
        "log_id": log.log_id,
        "request_uuid": log.request_uuid,
        "attempt": log.attempt,
        "status": log.status,
        "ledger_ids": log.ledger_ids,
        "stats": log.stats,
        "error": log.error,
        "retry": log.retry,
    })
}

pub async fn start(
    deps: &Deps,
    input: ManualTransfer,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let transfer = TransferRequest {
        request_uuid: tillbridge::random::uuid().to_string(),
        company_id: company_id.to_string(),
        location_id: location_id.to_string(),
        business_date: input.date,
        attempt: 1,
        force_refresh: input.force_refresh,
        requested_at: now(),
    };
    transfer.business_date()?;
    tillbridge::location::record::get(deps.store.as_ref(), company_id, location_id).await?;
    if input.queued {
        deps.queue
            .send(
                QueueName::Transfer,
                OutboundMessage {
                    body: serde_json::to_string(&transfer)
                        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?,
                    delay_seconds: 0,
                    correlation_id: transfer.request_uuid.clone(),
                    group: None,
                },
            )
            .await?;
        return Ok(envelope::json(
            202,
            &TransferQueued {
                log_id: TransferLog::id_for(&transfer),
                request_uuid: transfer.request_uuid,
                queued: true,
            },
        ));
    }
    let ctx = deps.transfers(true);
    match run(&ctx, &transfer, &now()).await? {
        Outcome::Logged(log) => {
            let status = match (&log.error, &log.retry) {
                (None, _) => 200,
                (Some(_), Some(_)) => 202,
                (Some(error), None) => TRANSFER_ERRORS
                    .into_iter()
                    .find(|c| c.as_str() == error.code)
                    .map(ErrorCode::http_status)
                    .unwrap_or(500),
            };
            Ok(envelope::json(status, &result(&log)))
        }
        Outcome::AlreadyLogged(log_id) => Err(AppError::new(
            ErrorCode::Internal,
            format!("transfer {log_id} was logged by another process"),
        )),
    }
}
