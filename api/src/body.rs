//! Reading request bodies: content type first, then JSON, then the typed shape, each with
//! its own error code so a caller knows exactly what to fix.

use serde::de::DeserializeOwned;
use tillbridge::error::{AppError, ErrorCode};

/// The typed body of a request sent with `content_type` (the header's value, if any).
pub fn parse<T: DeserializeOwned>(content_type: Option<&str>, bytes: &[u8]) -> Result<T, AppError> {
    let media_type = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
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
    crate::bounds::body(&value)?;
    serde_json::from_value(value).map_err(|err| AppError::validation(err.to_string()))
}
