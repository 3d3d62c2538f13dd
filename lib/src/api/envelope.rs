//! Responses: JSON bodies and the error envelope
//! `{"error": {"code", "message", "correlation_id"}}`.
//!
//! A server-side failure (5xx) never repeats its internal detail (SDK errors, stored data,
//! secrets) to the caller: the body carries the stable code, a fixed short message and the
//! correlation id; the detail goes to the log line of the same correlation id.

use std::borrow::Cow;

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::{AppError, ErrorCode};

tokio::task_local! {
    /// The correlation id of the request being answered, for responses built deep inside a
    /// route.
    static CORRELATION: String;
}

/// Runs `work` with `correlation_id` as the request's correlation id.
pub async fn with_correlation<F: std::future::Future>(
    correlation_id: String,
    work: F,
) -> F::Output {
    CORRELATION.scope(correlation_id, work).await
}

/// The correlation id of the request being answered (empty outside one).
pub fn current_correlation() -> String {
    CORRELATION.try_with(Clone::clone).unwrap_or_default()
}

pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => build(status, text),
        Err(err) => {
            tracing::error!(error = %err, "response serialisation failed");
            build(
                500,
                error_body(
                    &AppError::new(ErrorCode::Internal, "response serialisation failed"),
                    &current_correlation(),
                ),
            )
        }
    }
}

/// The fixed text a caller sees for a server-side failure of `code`.
fn public_text(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        StoreUnavailable => "the state store is unavailable; retry later",
        QueueUnavailable => "the work queue is unavailable; retry later",
        SecretsUnavailable => "the secret store is unavailable; retry later",
        LightspeedApiError => "Lightspeed answered with an error; retry later",
        MaxRetriesExhausted => "the work failed after every retry",
        _ => "an internal error occurred; quote the correlation id when reporting it",
    }
}

/// What a caller may read of `err`. Client errors (4xx) explain the caller's own input and
/// pass through; of the server errors, only codes whose every message is composed by this
/// crate from configuration names (never from an SDK, a store or a secret) keep theirs.
pub fn public_message(err: &AppError) -> Cow<'_, str> {
    let own_text = matches!(
        err.code,
        ErrorCode::NotImplemented
            | ErrorCode::LightspeedNotConfigured
            | ErrorCode::LightspeedOauthExchangeFailed
    );
    if err.code.http_status() < 500 || own_text {
        Cow::Borrowed(&err.message)
    } else {
        Cow::Borrowed(public_text(err.code))
    }
}

/// The error envelope's JSON for `err`.
pub fn error_body(err: &AppError, correlation_id: &str) -> String {
    json!({"error": {
        "code": err.code.as_str(),
        "message": public_message(err),
        "correlation_id": correlation_id,
    }})
    .to_string()
}

/// The error response for `err`; the full message is logged (at error level for 5xx).
pub fn error(err: &AppError, correlation_id: &str) -> Response<Body> {
    let status = err.code.http_status();
    if status >= 500 {
        tracing::error!(code = %err.code, message = %err.message, "request failed");
    } else {
        tracing::info!(code = %err.code, message = %err.message, "request refused");
    }
    build(status, error_body(err, correlation_id))
}

fn build(status: u16, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A route's response as the router's response.
pub fn into_axum(response: Response<Body>) -> axum::response::Response {
    response.map(|body| match body {
        Body::Empty => axum::body::Body::empty(),
        Body::Text(text) => axum::body::Body::from(text),
        Body::Binary(bytes) => axum::body::Body::from(bytes),
        _ => axum::body::Body::empty(),
    })
}

/// Every refusal the router or an extractor makes is the error envelope, with the
/// correlation id of the request being answered.
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        into_axum(error(&self, &current_correlation()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_carry_no_internal_text() {
        let err = AppError::new(
            ErrorCode::StoreUnavailable,
            "DispatchFailure(ConnectorError { kind: Io, source: hyper::Error(Connect) })",
        );
        let body: serde_json::Value = serde_json::from_str(&error_body(&err, "c-1")).unwrap();
        let error = body["error"].as_object().unwrap();
        assert_eq!(error.len(), 3, "{body}");
        assert_eq!(error["code"], "store_unavailable");
        assert_eq!(error["correlation_id"], "c-1");
        assert!(!body.to_string().contains("Dispatch"), "{body}");
    }

    #[test]
    fn client_errors_keep_their_message() {
        let err = AppError::validation("`name` must not be empty");
        let body: serde_json::Value = serde_json::from_str(&error_body(&err, "c-2")).unwrap();
        assert_eq!(body["error"]["message"], "`name` must not be empty");
    }
}
