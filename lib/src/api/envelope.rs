//! Responses: JSON bodies and the error envelope `{"error": {"code", "message"}}`.

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::AppError;

pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => build(status, text),
        Err(err) => {
            tracing::error!(error = %err, "response serialisation failed");
            build(
                500,
                error_body("internal_error", "the response could not be encoded"),
            )
        }
    }
}

fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

pub fn error(err: &AppError) -> Response<Body> {
    let status = err.code.http_status();
    if status >= 500 {
        tracing::error!(code = %err.code, message = %err.message, "request failed");
    } else {
        tracing::info!(code = %err.code, message = %err.message, "request refused");
    }
    build(status, error_body(err.code.as_str(), &err.message))
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
