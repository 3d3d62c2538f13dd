//! Routes an API Gateway (HTTP API v2) request to its handler and maps every failure to
//! the error envelope. Nothing a caller sends can make this return a Lambda error.

use lambda_http::http::{HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::auth::Caller;
use super::envelope;
use super::routes::{alerts, catalog, integrations, receipts, transfer_logs};
use crate::catalog::{Ingredient, StorageUnit};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::telemetry::{correlation_span, sanitize_correlation_id};

pub const CORRELATION_HEADER: &str = "x-correlation-id";

#[derive(Debug, Clone, Copy)]
enum Route {
    StorageUnits,
    StorageUnit,
    Ingredients,
    Ingredient,
    TransferLogs,
    Alerts,
    AlertAcknowledge,
    Receipts,
    Integrations,
    Integration,
    IntegrationReauthorize,
}

fn router() -> matchit::Router<Route> {
    let mut router = matchit::Router::new();
    let routes = [
        (
            "/v1/companies/{company_id}/storage-units",
            Route::StorageUnits,
        ),
        (
            "/v1/companies/{company_id}/storage-units/{id}",
            Route::StorageUnit,
        ),
        ("/v1/companies/{company_id}/ingredients", Route::Ingredients),
        (
            "/v1/companies/{company_id}/ingredients/{id}",
            Route::Ingredient,
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/transfer-logs",
            Route::TransferLogs,
        ),
        (
            "/v1/companies/{company_id}/ingredients/{id}/receipts",
            Route::Receipts,
        ),
        ("/v1/companies/{company_id}/alerts", Route::Alerts),
        (
            "/v1/companies/{company_id}/integrations",
            Route::Integrations,
        ),
        (
            "/v1/companies/{company_id}/integrations/{id}",
            Route::Integration,
        ),
        (
            "/v1/companies/{company_id}/integrations/{id}/reauthorize",
            Route::IntegrationReauthorize,
        ),
        (
            "/v1/companies/{company_id}/alerts/{id}/acknowledge",
            Route::AlertAcknowledge,
        ),
    ];
    for (path, route) in routes {
        // The table is static; a conflict is a programming error caught by the tests.
        if let Err(err) = router.insert(path, route) {
            tracing::error!(path, error = %err, "route table conflict");
        }
    }
    router
}

fn correlation_id(request: &Request) -> String {
    let from_header = request
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok());
    let from_gateway = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.as_deref(),
        _ => None,
    };
    sanitize_correlation_id(from_header)
        .or_else(|| sanitize_correlation_id(from_gateway))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The admin-api function's handler.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let correlation = correlation_id(&request);
    let span = correlation_span("admin-api", &correlation);
    let mut response = async {
        tracing::info!(method = %request.method(), path = request.uri().path(), "request");
        match dispatch(deps, &request).await {
            Ok(response) => response,
            Err(err) => envelope::error(&err),
        }
    }
    .instrument(span)
    .await;
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    Ok(response)
}

async fn dispatch(deps: &Deps, request: &Request) -> Result<Response<Body>, AppError> {
    let caller = Caller::from_request(request)?;
    let router = router();
    let path = request.uri().path().to_string();
    let matched = router
        .at(&path)
        .map_err(|_| AppError::new(ErrorCode::RouteNotFound, format!("no route for `{path}`")))?;
    let route = *matched.value;
    let company_id = matched
        .params
        .get("company_id")
        .unwrap_or_default()
        .to_string();
    let id = matched.params.get("id").map(str::to_string);
    if !ids::is_valid_id(&company_id) {
        return Err(AppError::new(
            ErrorCode::RouteNotFound,
            "company id is malformed",
        ));
    }
    caller.require_company(&company_id)?;

    let method = request.method();
    let id = id.unwrap_or_default();
    match (route, method) {
        (Route::StorageUnits, &Method::GET) => {
            catalog::list::<StorageUnit>(deps, request, &company_id).await
        }
        (Route::StorageUnits, &Method::POST) => {
            catalog::create::<StorageUnit>(deps, request, &company_id).await
        }
        (Route::StorageUnit, &Method::GET) => {
            catalog::get::<StorageUnit>(deps, &company_id, &id).await
        }
        (Route::StorageUnit, &Method::PATCH) => {
            catalog::update::<StorageUnit>(deps, request, &company_id, &id).await
        }
        (Route::Ingredients, &Method::GET) => {
            catalog::list::<Ingredient>(deps, request, &company_id).await
        }
        (Route::Ingredients, &Method::POST) => {
            catalog::create::<Ingredient>(deps, request, &company_id).await
        }
        (Route::Ingredient, &Method::GET) => {
            catalog::get::<Ingredient>(deps, &company_id, &id).await
        }
        (Route::Ingredient, &Method::PATCH) => {
            catalog::update::<Ingredient>(deps, request, &company_id, &id).await
        }
        (Route::TransferLogs, &Method::GET) => {
            transfer_logs::list(deps, request, &company_id, &id).await
        }
        (Route::Receipts, &Method::GET) => receipts::list(deps, request, &company_id, &id).await,
        (Route::Receipts, &Method::POST) => receipts::create(deps, request, &company_id, &id).await,
        (Route::Integrations, &Method::GET) => integrations::list(deps, &company_id).await,
        (Route::Integrations, &Method::POST) => {
            integrations::connect(deps, request, &company_id).await
        }
        (Route::Integration, &Method::GET) => integrations::get(deps, &company_id, &id).await,
        (Route::IntegrationReauthorize, &Method::POST) => {
            integrations::reauthorize(deps, &company_id, &id).await
        }
        (Route::Alerts, &Method::GET) => alerts::list(deps, request, &company_id).await,
        (Route::AlertAcknowledge, &Method::POST) => {
            alerts::acknowledge(deps, &company_id, &id).await
        }
        _ => Err(AppError::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on `{path}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_has_no_conflicts() {
        let router = router();
        assert!(matches!(
            router.at("/v1/companies/a/storage-units").map(|m| *m.value),
            Ok(Route::StorageUnits)
        ));
        assert!(matches!(
            router.at("/v1/companies/a/ingredients/x").map(|m| *m.value),
            Ok(Route::Ingredient)
        ));
        assert!(matches!(
            router
                .at("/v1/companies/a/locations/l/transfer-logs")
                .map(|m| *m.value),
            Ok(Route::TransferLogs)
        ));
        assert!(router.at("/v1/companies/a").is_err());
    }
}
