//! Which handler each template function runs: the same call its crate's `main` makes.

use tillbridge::aws_lambda_events::event::eventbridge::EventBridgeEvent;
use tillbridge::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use tillbridge::lambda_http::{Body, Request, Response};
use tillbridge::lambda_runtime::{Diagnostic, LambdaEvent};
use tillbridge::{handlers, Deps};

/// Every binary the host can run, by kind. Kept equal to the template by a test.
pub const HTTP_FUNCTIONS: [&str; 3] = [ADMIN_API, "oauth-callback", "webhook"];
pub const QUEUE_FUNCTIONS: [&str; 3] = ["transfer-worker", "migration-worker", "journal-poster"];
pub const SCHEDULED_FUNCTIONS: [&str; 2] = ["daily-fanout", "reconcile"];

/// The admin API's binary; the host keeps its router built (see `http::serve`).
pub const ADMIN_API: &str = "admin-api";

pub type InvokeError = tillbridge::lambda_runtime::Error;

pub async fn http(
    binary: &str,
    deps: &Deps,
    request: Request,
) -> Result<Response<Body>, InvokeError> {
    match binary {
        ADMIN_API => tillbridge_api::handle(deps, request).await,
        "oauth-callback" => handlers::oauth_callback::handle(deps, request).await,
        "webhook" => handlers::webhook::handle(deps, request).await,
        other => Err(format!("{other} is not an HTTP function").into()),
    }
}

pub async fn queue(
    binary: &str,
    deps: &Deps,
    event: SqsEvent,
) -> Result<SqsBatchResponse, InvokeError> {
    let event = LambdaEvent::new(event, Default::default());
    match binary {
        "transfer-worker" => handlers::transfer_worker::handle(deps, event).await,
        "migration-worker" => handlers::migration_worker::handle(deps, event).await,
        "journal-poster" => handlers::journal_poster::handle(deps, event).await,
        other => Err(format!("{other} is not a queue function").into()),
    }
}

pub async fn scheduled(
    binary: &str,
    deps: &Deps,
    event: EventBridgeEvent,
) -> Result<(), InvokeError> {
    let event = LambdaEvent::new(event, Default::default());
    match binary {
        "daily-fanout" => handlers::daily_fanout::handle(deps, event).await,
        "reconcile" => handlers::reconcile::handle(deps, event).await,
        other => Err(format!("{other} is not a scheduled function").into()),
    }
}

/// The error type and message Lambda would report for a failed invocation.
pub fn describe(err: InvokeError) -> String {
    let diagnostic = Diagnostic::from(err);
    format!("{}: {}", diagnostic.error_type, diagnostic.error_message)
}
