//! Routes an API Gateway (HTTP API v2) request to its handler and maps every failure to
//! the error envelope. Nothing a caller sends can make this return a Lambda error.

use lambda_http::http::{HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::auth::Caller;
use super::bounds;
use super::envelope;
use super::routes::{
    alerts, catalog, integrations, items, ledger, locations, migrations, receipts, recipes,
    transfer_logs, transfers,
};
use crate::catalog::{Ingredient, Recipe, StorageUnit};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::telemetry::{correlation_span, sanitize_correlation_id};

pub const CORRELATION_HEADER: &str = "x-correlation-id";

#[derive(Debug, Clone, Copy)]
enum Route {
    OpenApi,
    StorageUnits,
    StorageUnit,
    Ingredients,
    Ingredient,
    TransferLogs,
    Transfers,
    Migrations,
    Migration,
    MigrationCancel,
    Ledger,
    LedgerEntry,
    Alerts,
    AlertAcknowledge,
    Receipts,
    Integrations,
    Integration,
    IntegrationReauthorize,
    Recipes,
    Recipe,
    RecipeExplosion,
    Locations,
    LocationSync,
    Location,
    LocationStorageUnit,
    LocationActivate,
    Items,
    ItemSync,
    Item,
    ItemMapping,
}

/// Every path the admin API serves (methods are in [`dispatch`]).
const ROUTES: &[(&str, Route)] = &[
    ("/v1/openapi.json", Route::OpenApi),
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
        "/v1/companies/{company_id}/ingredients/{id}/receipts",
        Route::Receipts,
    ),
    ("/v1/companies/{company_id}/recipes", Route::Recipes),
    ("/v1/companies/{company_id}/recipes/{id}", Route::Recipe),
    (
        "/v1/companies/{company_id}/recipes/{id}/explosion",
        Route::RecipeExplosion,
    ),
    ("/v1/companies/{company_id}/locations", Route::Locations),
    (
        "/v1/companies/{company_id}/locations/sync",
        Route::LocationSync,
    ),
    ("/v1/companies/{company_id}/locations/{id}", Route::Location),
    (
        "/v1/companies/{company_id}/locations/{id}/storage-unit",
        Route::LocationStorageUnit,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/activate",
        Route::LocationActivate,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/transfer-logs",
        Route::TransferLogs,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/transfers",
        Route::Transfers,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/migrations",
        Route::Migrations,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}",
        Route::Migration,
    ),
    (
        "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}/cancel",
        Route::MigrationCancel,
    ),
    ("/v1/companies/{company_id}/ledger", Route::Ledger),
    ("/v1/companies/{company_id}/ledger/{id}", Route::LedgerEntry),
    ("/v1/companies/{company_id}/items", Route::Items),
    ("/v1/companies/{company_id}/items/sync", Route::ItemSync),
    (
        "/v1/companies/{company_id}/items/{product}/{item_id}",
        Route::Item,
    ),
    (
        "/v1/companies/{company_id}/items/{product}/{item_id}/mapping",
        Route::ItemMapping,
    ),
    (
        "/v1/companies/{company_id}/integrations",
        Route::Integrations,
    ),
    (
        "/v1/companies/{company_id}/integrations/{product}",
        Route::Integration,
    ),
    (
        "/v1/companies/{company_id}/integrations/{product}/reauthorize",
        Route::IntegrationReauthorize,
    ),
    ("/v1/companies/{company_id}/alerts", Route::Alerts),
    (
        "/v1/companies/{company_id}/alerts/{id}/acknowledge",
        Route::AlertAcknowledge,
    ),
];

/// The path templates served, for the OpenAPI contract test.
pub fn route_paths() -> Vec<&'static str> {
    ROUTES.iter().map(|(path, _)| *path).collect()
}

/// The committed OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../openapi/admin-api.json");

fn router() -> matchit::Router<Route> {
    let mut router = matchit::Router::new();
    for (path, route) in ROUTES {
        // The table is static; a conflict is a programming error caught by the tests.
        if let Err(err) = router.insert(*path, *route) {
            tracing::error!(path, error = %err, "route table conflict");
        }
    }
    router
}

fn openapi() -> Response<Body> {
    let mut response = Response::new(Body::Text(OPENAPI.to_string()));
    response.headers_mut().insert(
        lambda_http::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
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
    let request_path = request.uri().path().to_string();
    let span = correlation_span("admin-api", &correlation);
    let mut response = async {
        tracing::info!(method = %request.method(), path = request.uri().path(), "request");
        match envelope::with_correlation(correlation.clone(), dispatch(deps, &request)).await {
            Ok(response) => response,
            Err(err) => envelope::error(&err, &correlation),
        }
    }
    .instrument(span)
    .await;
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    // RFC 9110: a 405 names the methods the resource supports.
    if response.status() == lambda_http::http::StatusCode::METHOD_NOT_ALLOWED {
        if let Some(allow) = allowed_methods(request_path.as_str()) {
            response
                .headers_mut()
                .insert(lambda_http::http::header::ALLOW, allow);
        }
    }
    Ok(response)
}

/// The `Allow` header value of a path the API serves.
fn allowed_methods(path: &str) -> Option<HeaderValue> {
    let router = router();
    let route = *router.at(path).ok()?.value;
    let names: Vec<&str> = methods(route).iter().map(Method::as_str).collect();
    HeaderValue::from_str(&names.join(", ")).ok()
}

/// The methods each route serves (the same pairs as [`dispatch`]), so a wrong method is
/// `405` before any of its path parameters is looked at.
fn methods(route: Route) -> &'static [Method] {
    match route {
        Route::OpenApi => &[Method::GET],
        Route::StorageUnits => &[Method::GET, Method::POST],
        Route::StorageUnit => &[Method::GET, Method::PATCH],
        Route::Ingredients => &[Method::GET, Method::POST],
        Route::Ingredient => &[Method::GET, Method::PATCH, Method::DELETE],
        Route::Recipes => &[Method::GET, Method::POST],
        Route::Recipe => &[Method::GET, Method::PATCH, Method::DELETE],
        Route::RecipeExplosion => &[Method::GET],
        Route::TransferLogs => &[Method::GET],
        Route::Transfers => &[Method::POST],
        Route::Migrations => &[Method::POST, Method::GET],
        Route::Migration => &[Method::GET],
        Route::MigrationCancel => &[Method::POST],
        Route::Ledger => &[Method::GET],
        Route::LedgerEntry => &[Method::GET],
        Route::Receipts => &[Method::GET, Method::POST],
        Route::Integrations => &[Method::GET, Method::POST],
        Route::Integration => &[Method::GET],
        Route::IntegrationReauthorize => &[Method::POST],
        Route::Locations => &[Method::GET],
        Route::LocationSync => &[Method::POST],
        Route::Location => &[Method::GET, Method::PATCH],
        Route::LocationStorageUnit => &[Method::PUT, Method::DELETE],
        Route::LocationActivate => &[Method::POST],
        Route::Items => &[Method::GET],
        Route::ItemSync => &[Method::POST],
        Route::Item => &[Method::GET],
        Route::ItemMapping => &[Method::PUT, Method::DELETE],
        Route::Alerts => &[Method::GET],
        Route::AlertAcknowledge => &[Method::POST],
    }
}

async fn dispatch(deps: &Deps, request: &Request) -> Result<Response<Body>, AppError> {
    let caller = Caller::from_request(request)?;
    let router = router();
    let path = request.uri().path().to_string();
    let matched = router
        .at(&path)
        .map_err(|_| AppError::new(ErrorCode::RouteNotFound, format!("no route for `{path}`")))?;
    let route = *matched.value;
    if let Route::OpenApi = route {
        return match *request.method() {
            Method::GET => Ok(openapi()),
            _ => Err(AppError::new(
                ErrorCode::MethodNotAllowed,
                "only GET is allowed on the OpenAPI document",
            )),
        };
    }
    let company_id = matched
        .params
        .get("company_id")
        .unwrap_or_default()
        .to_string();
    let id = matched
        .params
        .get("id")
        .or(matched.params.get("item_id"))
        .map(str::to_string);
    let product = matched
        .params
        .get("product")
        .unwrap_or_default()
        .to_string();
    let job_id = matched.params.get("job_id").unwrap_or_default().to_string();
    if !ids::is_valid_id(&company_id) {
        return Err(AppError::new(
            ErrorCode::RouteNotFound,
            "company id is malformed",
        ));
    }
    caller.require_company(&company_id)?;
    if !methods(route).contains(request.method()) {
        return Err(AppError::new(
            ErrorCode::MethodNotAllowed,
            format!("{} is not allowed on `{path}`", request.method()),
        ));
    }
    for (name, value) in matched.params.iter() {
        bounds::path_param(name, value)?;
    }
    if let Some(query) = request.query_string_parameters_ref() {
        for (name, value) in query.iter() {
            bounds::query_param(name, value)?;
        }
    }

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
        (Route::Ingredient, &Method::DELETE) => {
            recipes::delete_ingredient(deps, &company_id, &id).await
        }
        (Route::Recipes, &Method::GET) => catalog::list::<Recipe>(deps, request, &company_id).await,
        (Route::Recipes, &Method::POST) => recipes::create(deps, request, &company_id).await,
        (Route::Recipe, &Method::GET) => catalog::get::<Recipe>(deps, &company_id, &id).await,
        (Route::Recipe, &Method::PATCH) => recipes::update(deps, request, &company_id, &id).await,
        (Route::Recipe, &Method::DELETE) => recipes::delete(deps, &company_id, &id).await,
        (Route::RecipeExplosion, &Method::GET) => {
            recipes::explosion(deps, request, &company_id, &id).await
        }
        (Route::TransferLogs, &Method::GET) => {
            transfer_logs::list(deps, request, &company_id, &id).await
        }
        (Route::Transfers, &Method::POST) => {
            transfers::start(deps, request, &company_id, &id).await
        }
        (Route::Migrations, &Method::POST) => {
            migrations::create(deps, request, &company_id, &id).await
        }
        (Route::Migrations, &Method::GET) => {
            migrations::list(deps, request, &company_id, &id).await
        }
        (Route::Migration, &Method::GET) => migrations::get(deps, &company_id, &id, &job_id).await,
        (Route::MigrationCancel, &Method::POST) => {
            migrations::cancel(deps, &company_id, &id, &job_id).await
        }
        (Route::Ledger, &Method::GET) => ledger::list(deps, request, &company_id).await,
        (Route::LedgerEntry, &Method::GET) => ledger::get(deps, &company_id, &id).await,
        (Route::Receipts, &Method::GET) => receipts::list(deps, request, &company_id, &id).await,
        (Route::Receipts, &Method::POST) => receipts::create(deps, request, &company_id, &id).await,
        (Route::Integrations, &Method::GET) => integrations::list(deps, &company_id).await,
        (Route::Integrations, &Method::POST) => {
            integrations::connect(deps, request, &company_id).await
        }
        (Route::Integration, &Method::GET) => integrations::get(deps, &company_id, &product).await,
        (Route::IntegrationReauthorize, &Method::POST) => {
            integrations::reauthorize(deps, &company_id, &product).await
        }
        (Route::Locations, &Method::GET) => locations::list(deps, request, &company_id).await,
        (Route::LocationSync, &Method::POST) => locations::sync(deps, request, &company_id).await,
        (Route::Location, &Method::GET) => locations::get(deps, &company_id, &id).await,
        (Route::Location, &Method::PATCH) => {
            locations::configure(deps, request, &company_id, &id).await
        }
        (Route::LocationStorageUnit, &Method::PUT) => {
            locations::link(deps, request, &company_id, &id).await
        }
        (Route::LocationStorageUnit, &Method::DELETE) => {
            locations::unlink(deps, &company_id, &id).await
        }
        (Route::LocationActivate, &Method::POST) => {
            locations::activate(deps, &company_id, &id).await
        }
        (Route::Items, &Method::GET) => items::list(deps, request, &company_id).await,
        (Route::ItemSync, &Method::POST) => items::sync(deps, request, &company_id).await,
        (Route::Item, &Method::GET) => items::get(deps, &company_id, &product, &id).await,
        (Route::ItemMapping, &Method::PUT) => {
            items::put_mapping(deps, request, &company_id, &product, &id).await
        }
        (Route::ItemMapping, &Method::DELETE) => {
            items::delete_mapping(deps, &company_id, &product, &id).await
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
        assert!(matches!(
            router.at("/v1/companies/a/recipes").map(|m| *m.value),
            Ok(Route::Recipes)
        ));
        assert!(matches!(
            router.at("/v1/companies/a/recipes/r").map(|m| *m.value),
            Ok(Route::Recipe)
        ));
        assert!(matches!(
            router
                .at("/v1/companies/a/recipes/r/explosion")
                .map(|m| *m.value),
            Ok(Route::RecipeExplosion)
        ));
        assert!(router.at("/v1/companies/a").is_err());
    }
}
