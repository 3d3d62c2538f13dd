//! A company's alerts: list open or resolved ones, acknowledge an open one.

use lambda_http::{Body, Request, Response};

use super::query_param;
use crate::alerts::{self, AlertStatus};
use crate::api::envelope;
use crate::api::pagination::{self, PageBody};
use crate::deps::Deps;
use crate::error::AppError;
use crate::handlers::now;
use crate::store::attr;

pub async fn list(
    deps: &Deps,
    request: &Request,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let status = match query_param(request, "status").as_deref() {
        None | Some("open") => AlertStatus::Open,
        Some("resolved") => AlertStatus::Resolved,
        Some(other) => {
            return Err(AppError::validation(format!(
                "`status` must be `open` or `resolved`, not `{other}`"
            )))
        }
    };
    let limit = pagination::limit(query_param(request, "limit").as_deref())?;
    let partition = alerts::list_partition(company_id);
    let cursor = pagination::decode_cursor(
        query_param(request, "cursor").as_deref(),
        attr::PK,
        &partition,
    )?;
    let (items, last_key) =
        alerts::list(deps.store.as_ref(), company_id, status, limit, cursor).await?;
    Ok(envelope::json(
        200,
        &PageBody {
            items: items.iter().map(alerts::view).collect(),
            next_cursor: pagination::encode_cursor(last_key.as_ref()),
        },
    ))
}

pub async fn acknowledge(
    deps: &Deps,
    company_id: &str,
    alert_id: &str,
) -> Result<Response<Body>, AppError> {
    let alert = alerts::acknowledge(deps.store.as_ref(), company_id, alert_id, &now()).await?;
    Ok(envelope::json(200, &alerts::view(&alert)))
}
