//! Handlers of functions whose capability has not been built yet. They are deployed so
//! the template, IAM and routes are complete, and they say plainly that they do nothing:
//! HTTP callers get 501 `not_implemented`; queue records stay on the queue (and reach the
//! DLQ, where they can be replayed once the capability exists).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response};
use lambda_runtime::LambdaEvent;

use crate::api::envelope;
use crate::error::{AppError, ErrorCode};
use crate::worker::{process_batch, RecordOutcome};

fn not_implemented(function: &str) -> AppError {
    AppError::new(
        ErrorCode::NotImplemented,
        format!("{function} is not implemented in this version of tillbridge"),
    )
}

pub async fn http(
    function: &'static str,
    _request: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation = crate::random::uuid().to_string();
    Ok(envelope::error(&not_implemented(function), &correlation))
}

pub async fn records(
    function: &'static str,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    // Deliberately kept (not rejected): the messages are valid work for a capability
    // still to come, so they reach the DLQ, where they can be replayed.
    Ok(process_batch(function, event.payload, 1, |_| async {
        RecordOutcome::Retry(not_implemented(function))
    })
    .await?)
}
