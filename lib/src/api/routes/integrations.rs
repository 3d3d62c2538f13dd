//! Connecting Lightspeed: start a connection, reauthorize it, read its status.
//! Token values never appear here; only their expiry times.

use lambda_http::{Body, Response};
use serde_json::{json, Value};

use crate::api::envelope;
use crate::api::pagination;
use crate::connection::flow::{self, ConnectInput, Started};
use crate::connection::integration::{self, Integration};
use crate::connection::PosProduct;
use crate::deps::Deps;
use crate::error::AppError;
use crate::handlers::now;

fn epoch_text(epoch: Option<i64>) -> Value {
    epoch
        .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

pub fn view(integration: &Integration) -> Value {
    json!({
        "company_id": integration.company_id,
        "product": integration.product,
        "name": integration.name,
        "domain_prefix": integration.domain_prefix,
        "status": integration.status,
        "access_token_expires_at": epoch_text(integration.access_expires_at),
        "refresh_token_expires_at": epoch_text(integration.refresh_expires_at),
        "last_refresh_at": integration.last_refresh_at,
        "connected_at": integration.connected_at,
        "reauthorized_at": integration.reauthorized_at,
        "last_error": integration.last_error,
        "webhooks": integration.webhooks,
        "created_at": integration.created_at,
        "updated_at": integration.updated_at,
    })
}

fn started(started: &Started) -> Value {
    json!({
        "authorize_url": started.authorize_url,
        "state_expires_at": epoch_text(Some(started.state_expires_at)),
        "integration": view(&started.integration),
    })
}

pub async fn connect(
    deps: &Deps,
    input: ConnectInput,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let product = PosProduct::parse_lightspeed(&input.product)?;
    let result = flow::start(
        deps,
        company_id,
        product,
        Some(input),
        false,
        &now(),
        chrono::Utc::now().timestamp(),
    )
    .await?;
    Ok(envelope::json(201, &started(&result)))
}

pub async fn reauthorize(
    deps: &Deps,
    company_id: &str,
    product: &str,
) -> Result<Response<Body>, AppError> {
    let product = PosProduct::parse_lightspeed(product)?;
    let result = flow::start(
        deps,
        company_id,
        product,
        None,
        true,
        &now(),
        chrono::Utc::now().timestamp(),
    )
    .await?;
    Ok(envelope::json(200, &started(&result)))
}

pub async fn get(deps: &Deps, company_id: &str, product: &str) -> Result<Response<Body>, AppError> {
    let product = PosProduct::parse_lightspeed(product)?;
    let integration = integration::require(deps.store.as_ref(), company_id, product).await?;
    Ok(envelope::json(200, &view(&integration)))
}

/// At most one integration per product, so one page holds them all.
pub async fn list(deps: &Deps, company_id: &str) -> Result<Response<Body>, AppError> {
    let items = integration::list(deps.store.as_ref(), company_id).await?;
    Ok(pagination::reply(items.iter().map(view).collect(), None))
}
