//! Dead letters (operators only): list each dead-letter queue's messages with why they
//! failed, and replay one, a filter or all of them to their source queues.

use lambda_http::{Body, Response};
use serde::Deserialize;
use tillbridge::api::envelope;
use tillbridge::dead_letters::{self, DeadLetterReplayInput};
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::ids;
use utoipa::IntoParams;

use super::Limit;
use crate::auth::Operator;

/// `?queue=&company_id=&limit=` of the listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterFilters {
    /// Only this source queue: transfer, migration, sales-events or journal
    #[param(value_type = Option<crate::openapi::schemas::DeadLetterQueueName>)]
    pub queue: Option<String>,
    /// Only messages naming this company
    #[param(value_type = Option<crate::openapi::schemas::QueryId>)]
    pub company_id: Option<String>,
    /// Messages shown per queue, 1–100 (default 50)
    #[serde(default)]
    #[param(value_type = Option<Limit>)]
    pub limit: Limit,
}

pub async fn list(
    deps: &Deps,
    operator: &Operator,
    filters: DeadLetterFilters,
) -> Result<Response<Body>, AppError> {
    if let Some(queue) = filters.queue.as_deref() {
        if dead_letters::queue_named(queue).is_none() {
            return Err(AppError::validation(format!(
                "`queue` must be transfer, migration, sales-events or journal, not `{queue}`"
            )));
        }
    }
    if let Some(company) = filters.company_id.as_deref() {
        if !ids::is_valid_id(company) {
            return Err(AppError::validation("`company_id` is not a valid id"));
        }
    }
    tracing::info!(operator = operator.subject, "dead letters listed");
    let listed = dead_letters::list(
        deps.dead_letters.as_ref(),
        deps.store.as_ref(),
        filters.queue.as_deref(),
        filters.company_id.as_deref(),
        usize::try_from(filters.limit.0).unwrap_or(50),
    )
    .await?;
    Ok(envelope::json(200, &listed))
}

pub async fn replay(
    deps: &Deps,
    operator: &Operator,
    input: DeadLetterReplayInput,
) -> Result<Response<Body>, AppError> {
    tracing::info!(operator = operator.subject, "dead letters replay requested");
    let result = dead_letters::replay(deps, &input).await?;
    Ok(envelope::json(200, &result))
}
