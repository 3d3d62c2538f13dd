//! A company's alerts: list open or resolved ones, acknowledge an open one.

use lambda_http::{Body, Response};
use serde::Deserialize;
use tillbridge::alerts::{self, AlertStatus};
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::store::attr;
use utoipa::IntoParams;

use super::PageQuery;
use crate::openapi::schemas as doc;
use crate::pagination;

/// `?status=open|resolved` (open by default), on top of the page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilters {
    /// open (default) or resolved
    #[param(value_type = Option<doc::AlertStatusFilter>)]
    pub status: Option<String>,
}

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    filters: AlertFilters,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let status = match filters.status.as_deref() {
        None | Some("open") => AlertStatus::Open,
        Some("resolved") => AlertStatus::Resolved,
        Some(other) => {
            return Err(AppError::validation(format!(
                "`status` must be `open` or `resolved`, not `{other}`"
            )))
        }
    };
    let partition = alerts::list_partition(company_id);
    let cursor = pagination::decode_cursor(page.cursor.as_deref(), attr::PK, &partition)?;
    let store = deps.store.as_ref();
    let (items, last_key) = alerts::list(store, company_id, status, page.limit.0, cursor).await?;
    Ok(pagination::reply_after(
        items.iter().map(alerts::view).collect(),
        last_key.as_ref(),
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
