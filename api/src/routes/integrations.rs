//! Connecting Lightspeed: start a connection, reauthorize it, read its status.
//! Token values never appear here; only their expiry times.

use lambda_http::{Body, Response};
use serde::Serialize;
use tillbridge::api::envelope;
use tillbridge::connection::disconnect;
use tillbridge::connection::flow::{self, ConnectInput, Started};
use tillbridge::connection::integration::{self, Integration, IntegrationStatus};
use tillbridge::connection::PosProduct;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::webhook::subscriptions::Subscription;
use utoipa::ToSchema;

use crate::openapi::schemas as doc;
use crate::pagination;

fn epoch_text(epoch: Option<i64>) -> Option<String> {
    epoch
        .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A Lightspeed connection. Token values are never shown, only their expiry times.
#[derive(Serialize, ToSchema)]
#[schema(as = Integration)]
pub struct IntegrationView<'a> {
    company_id: &'a str,
    #[schema(value_type = doc::Product)]
    product: PosProduct,
    #[schema(required)]
    name: Option<&'a str>,
    #[schema(required)]
    domain_prefix: Option<&'a str>,
    #[schema(inline)]
    status: IntegrationStatus,
    #[schema(schema_with = doc::time_or_null, required)]
    access_token_expires_at: Option<String>,
    #[schema(schema_with = doc::time_or_null, required)]
    refresh_token_expires_at: Option<String>,
    #[schema(schema_with = doc::time_or_null, required)]
    last_refresh_at: Option<&'a str>,
    #[schema(schema_with = doc::time_or_null, required)]
    connected_at: Option<&'a str>,
    #[schema(schema_with = doc::time_or_null, required)]
    reauthorized_at: Option<&'a str>,
    #[schema(required)]
    last_error: Option<&'a str>,
    /// X-Series webhook subscriptions registered at connection (empty for K-Series)
    #[schema(inline)]
    webhooks: &'a [Subscription],
    #[schema(schema_with = doc::time)]
    created_at: &'a str,
    #[schema(schema_with = doc::time)]
    updated_at: &'a str,
}

pub fn view(integration: &Integration) -> IntegrationView<'_> {
    IntegrationView {
        company_id: &integration.company_id,
        product: integration.product,
        name: integration.name.as_deref(),
        domain_prefix: integration.domain_prefix.as_deref(),
        status: integration.status,
        access_token_expires_at: epoch_text(integration.access_expires_at),
        refresh_token_expires_at: epoch_text(integration.refresh_expires_at),
        last_refresh_at: integration.last_refresh_at.as_deref(),
        connected_at: integration.connected_at.as_deref(),
        reauthorized_at: integration.reauthorized_at.as_deref(),
        last_error: integration.last_error.as_deref(),
        webhooks: &integration.webhooks,
        created_at: &integration.created_at,
        updated_at: &integration.updated_at,
    }
}

/// Send the user to authorize_url; the OAuth state expires at state_expires_at.
#[derive(Serialize, ToSchema)]
pub struct AuthorizationStarted<'a> {
    #[schema(schema_with = doc::uri)]
    authorize_url: &'a str,
    #[schema(schema_with = doc::time, required)]
    state_expires_at: Option<String>,
    integration: IntegrationView<'a>,
}

fn started(started: &Started) -> AuthorizationStarted<'_> {
    AuthorizationStarted {
        authorize_url: &started.authorize_url,
        state_expires_at: epoch_text(Some(started.state_expires_at)),
        integration: view(&started.integration),
    }
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

pub async fn reauthorize(deps: &Deps, company_id: &str, product: &str) -> super::Answer {
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

/// Disconnects the product: subscriptions removed, tokens deleted, status `disconnected`.
pub async fn disconnect(deps: &Deps, company_id: &str, product: &str) -> super::Answer {
    let product = PosProduct::parse_lightspeed(product)?;
    let integration = disconnect::disconnect(deps, company_id, product, &now()).await?;
    Ok(envelope::json(200, &view(&integration)))
}

/// At most one integration per product, so one page holds them all.
pub async fn list(deps: &Deps, company_id: &str) -> Result<Response<Body>, AppError> {
    let items = integration::list(deps.store.as_ref(), company_id).await?;
    Ok(pagination::reply(items.iter().map(view).collect(), None))
}
