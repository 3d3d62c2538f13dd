//! Reading request bodies: content type first, then JSON, then the typed shape, each with
//! its own error code so a caller knows exactly what to fix.

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode};

pub fn json<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the body as `Content-Type: application/json` (got `{}`)",
                if media_type.is_empty() {
                    "none"
                } else {
                    media_type
                }
            ),
        ));
    }
    let bytes: &[u8] = match request.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        AppError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {err}"),
        )
    })?;
    if !value.is_object() {
        return Err(AppError::new(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        ));
    }
    super::bounds::body(&value)?;
    serde_json::from_value(value).map_err(|err| AppError::validation(err.to_string()))
}
