//! Structured JSON logs. Every line carries the correlation id of the work it belongs to,
//! because handlers run inside [`correlation_span`].

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once per process. Level from `AWS_LAMBDA_LOG_LEVEL`,
/// else `RUST_LOG`, else `info`.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// As [`init`], writing to `writer` (the local host sends function logs to a file).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level.to_lowercase()).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // try_init: a second call (tests, the local host) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_writer(writer)
        .try_init();
}

/// The span every unit of work runs in; its fields appear on each log line.
pub fn correlation_span(function: &'static str, correlation_id: &str) -> tracing::Span {
    tracing::info_span!("work", function, correlation_id = %correlation_id)
}

/// Accepts a caller-supplied correlation id only if it is short and printable,
/// so log lines cannot be forged or bloated through it.
pub fn sanitize_correlation_id(candidate: Option<&str>) -> Option<String> {
    candidate
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 100)
        .filter(|id| {
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
}

/// What went wrong in an AWS SDK call, in a few words plus the SDK's error chain (never
/// the request, which may hold a secret value). For log lines: the API never shows it.
pub fn sdk_error_detail<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let kind = match err {
        SdkError::ConstructionFailure(_) => "request could not be built",
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "could not reach the service",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ServiceError(_) => "service error",
        _ => "request failed",
    };
    format!("{kind}: {}", DisplayErrorContext(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ids_from_outside_are_checked() {
        assert_eq!(
            sanitize_correlation_id(Some(" abc-1 ")),
            Some("abc-1".into())
        );
        assert_eq!(sanitize_correlation_id(Some("a\nb")), None);
        assert_eq!(sanitize_correlation_id(Some("")), None);
        assert_eq!(sanitize_correlation_id(None), None);
        assert_eq!(sanitize_correlation_id(Some(&"x".repeat(101))), None);
    }
}
