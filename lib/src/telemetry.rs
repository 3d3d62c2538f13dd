//! Structured JSON logs. Every line carries the correlation id of the work it belongs to,
//! because handlers run inside [`correlation_span`].

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber once per process. Level from `AWS_LAMBDA_LOG_LEVEL`,
/// else `RUST_LOG`, else `info`.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// What to log: `AWS_LAMBDA_LOG_LEVEL` (a level), else `RUST_LOG`, else `info`. Both take a
/// level (`debug`) or `target=level` pairs (`info,tillbridge::journal=debug`), as
/// [`Targets`] reads them: no span or field filters (the functions carry no regex engine).
/// A value that does not parse is passed over as if unset.
pub fn log_filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let parse = |value: &str| value.trim().to_lowercase().parse::<Targets>().ok();
    lambda_level
        .and_then(parse)
        .or_else(|| rust_log.and_then(parse))
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// As [`init`], writing to `writer` (the local host sends function logs to a file).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = log_filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_writer(writer);
    // try_init: a second call (tests, the local host) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(json)
        .with(filter)
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
    fn log_level_from_lambda_then_rust_log_then_info() {
        use tracing::Level;
        let f = log_filter(Some("DEBUG"), Some("warn"));
        assert!(f.would_enable("tillbridge::journal", &Level::DEBUG));
        assert!(!f.would_enable("tillbridge::journal", &Level::TRACE));
        let f = log_filter(None, Some("warn,tillbridge::journal=debug"));
        assert!(f.would_enable("tillbridge::journal", &Level::DEBUG));
        assert!(!f.would_enable("tillbridge::store", &Level::INFO));
        // An unreadable value is passed over.
        let f = log_filter(Some("tillbridge=loud"), Some("a=b=c"));
        assert!(f.would_enable("tillbridge", &Level::INFO));
        assert!(!f.would_enable("tillbridge", &Level::DEBUG));
    }

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
