//! The admin API as one axum [`Router`]: served by `lambda_http` in AWS (see the admin-api
//! function) and, through the same API Gateway v2 events, by the local host ([`handle`]).
//!
//! Cross-cutting work is in layers, outermost first: the caller's `x-correlation-id` kept
//! only when well-formed, else API Gateway's request id, else a new one (`tower-http`
//! request id), echoed on every response; a tracing span carrying it; the envelope's
//! correlation id and the HEAD / 405 / 413 details ([`shell`]); the body size limit.
//! Every refusal is the error envelope; nothing a caller sends makes this a Lambda error.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use super::auth::Caller;
use super::envelope;
use super::extract::{company_of, raw_path_params, too_large, Path, Scope, Whole};
use super::routes::{
    accounts, alerts, catalog, integrations, items, journals, ledger, locations, migrations,
    receipts, recipes, transfer_logs, transfers,
};
use crate::catalog::{Ingredient, Recipe, StorageUnit};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::telemetry::{correlation_span, sanitize_correlation_id};

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// API Gateway's payload limit for Lambda integrations.
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The committed OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../openapi/admin-api.json");

type Shared = State<Arc<Deps>>;
type Reply = Result<Response, AppError>;

/// Every path the admin API serves, with its methods (in the order `Allow` names them).
fn routes() -> Vec<(&'static str, MethodRouter<Arc<Deps>>)> {
    vec![
        ("/v1/openapi.json", get(openapi)),
        (
            "/v1/companies/{company_id}/storage-units",
            get(storage_units_list).post(storage_units_create),
        ),
        (
            "/v1/companies/{company_id}/storage-units/{id}",
            get(storage_unit_get).patch(storage_unit_update),
        ),
        (
            "/v1/companies/{company_id}/ingredients",
            get(ingredients_list).post(ingredients_create),
        ),
        (
            "/v1/companies/{company_id}/ingredients/{id}",
            get(ingredient_get)
                .patch(ingredient_update)
                .delete(ingredient_delete),
        ),
        (
            "/v1/companies/{company_id}/ingredients/{id}/receipts",
            get(receipts_list).post(receipts_create),
        ),
        (
            "/v1/companies/{company_id}/recipes",
            get(recipes_list).post(recipes_create),
        ),
        (
            "/v1/companies/{company_id}/recipes/{id}",
            get(recipe_get).patch(recipe_update).delete(recipe_delete),
        ),
        (
            "/v1/companies/{company_id}/recipes/{id}/explosion",
            get(recipe_explosion),
        ),
        ("/v1/companies/{company_id}/locations", get(locations_list)),
        (
            "/v1/companies/{company_id}/locations/sync",
            post(locations_sync),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}",
            get(location_get).patch(location_configure),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/storage-unit",
            put(location_link).delete(location_unlink),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/activate",
            post(location_activate),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/transfer-logs",
            get(transfer_logs_list),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/transfers",
            post(transfers_start),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/migrations",
            post(migrations_create).get(migrations_list),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}",
            get(migration_get),
        ),
        (
            "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}/cancel",
            post(migration_cancel),
        ),
        ("/v1/companies/{company_id}/ledger", get(ledger_list)),
        ("/v1/companies/{company_id}/ledger/{id}", get(ledger_get)),
        ("/v1/companies/{company_id}/items", get(items_list)),
        ("/v1/companies/{company_id}/items/sync", post(items_sync)),
        (
            "/v1/companies/{company_id}/items/{product}/{item_id}",
            get(item_get),
        ),
        (
            "/v1/companies/{company_id}/items/{product}/{item_id}/mapping",
            put(item_mapping_put).delete(item_mapping_delete),
        ),
        (
            "/v1/companies/{company_id}/integrations",
            get(integrations_list).post(integrations_connect),
        ),
        (
            "/v1/companies/{company_id}/integrations/{product}",
            get(integration_get),
        ),
        (
            "/v1/companies/{company_id}/integrations/{product}/reauthorize",
            post(integration_reauthorize),
        ),
        (
            "/v1/companies/{company_id}/account-mappings",
            get(account_mappings_get).put(account_mappings_put),
        ),
        (
            "/v1/companies/{company_id}/account-mappings/sync",
            post(account_mappings_sync),
        ),
        (
            "/v1/companies/{company_id}/account-mappings/erp",
            get(erp_connection_get).put(erp_connection_put),
        ),
        (
            "/v1/companies/{company_id}/account-mappings/locations/{id}",
            put(account_mapping_location_put).delete(account_mapping_location_delete),
        ),
        ("/v1/companies/{company_id}/journals", get(journals_list)),
        (
            "/v1/companies/{company_id}/journals/repost",
            post(journals_repost),
        ),
        ("/v1/companies/{company_id}/journals/{id}", get(journal_get)),
        ("/v1/companies/{company_id}/alerts", get(alerts_list)),
        (
            "/v1/companies/{company_id}/alerts/{id}/acknowledge",
            post(alert_acknowledge),
        ),
    ]
}

/// The path templates served, for the OpenAPI contract test.
pub fn route_paths() -> Vec<&'static str> {
    routes().into_iter().map(|(path, _)| path).collect()
}

/// The admin API.
pub fn router(deps: Arc<Deps>) -> Router {
    let api = routes()
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps);
    let correlation = HeaderName::from_static(CORRELATION_HEADER);
    // As the fallback service of an empty router, the layers wrap the whole API (and so see
    // its routing's answers), not each route one by one.
    Router::new()
        .fallback_service(api)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(middleware::from_fn(shell))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                correlation_span("admin-api", header_text(request, CORRELATION_HEADER))
            }),
        )
        .layer(PropagateRequestIdLayer::new(correlation.clone()))
        .layer(SetRequestIdLayer::new(correlation, MakeCorrelationId))
        .layer(tower::util::MapRequestLayer::new(keep_valid_correlation))
}

/// The admin-api function's handler for one API Gateway request (the local host's entry).
pub async fn handle(
    deps: &Deps,
    request: lambda_http::Request,
) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
    let response = router(Arc::new(deps.clone())).oneshot(request).await?;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await?;
    let body = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => lambda_http::Body::Text(text),
        Err(err) => lambda_http::Body::Binary(err.into_bytes()),
    };
    Ok(lambda_http::Response::from_parts(parts, body))
}

fn header_text<'r>(request: &'r Request, name: &str) -> &'r str {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A caller's correlation id is kept only when short and printable (so log lines cannot be
/// forged or bloated through it); otherwise [`MakeCorrelationId`] picks one.
fn keep_valid_correlation<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let valid = sanitize_correlation_id(
        request
            .headers()
            .get(CORRELATION_HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    request.headers_mut().remove(CORRELATION_HEADER);
    if let Some(value) = valid.and_then(|v| HeaderValue::from_str(&v).ok()) {
        request.headers_mut().insert(CORRELATION_HEADER, value);
    }
    request
}

/// API Gateway's request id when the caller sent no correlation id, else a new UUID.
#[derive(Clone, Copy)]
struct MakeCorrelationId;

impl MakeRequestId for MakeCorrelationId {
    fn make_request_id<B>(&mut self, request: &axum::http::Request<B>) -> Option<RequestId> {
        let from_gateway = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.as_deref(),
            _ => None,
        };
        let id = sanitize_correlation_id(from_gateway)
            .unwrap_or_else(|| crate::random::uuid().to_string());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The method a `HEAD` request is answered as: no route serves `HEAD` (axum would run the
/// `GET` handler), so it is refused with `405` like any other unserved method.
const UNSERVED_HEAD: &[u8] = b"HEAD-UNSERVED";

#[derive(Clone)]
struct OriginalMethod(Method);

/// The envelope's correlation id for the request, the request log line, `HEAD` refused,
/// `Allow` in the API's format, and the body limit's `413` as an envelope.
async fn shell(mut request: Request, next: Next) -> Response {
    let correlation = header_text(&request, CORRELATION_HEADER).to_string();
    tracing::info!(method = %request.method(), path = request.uri().path(), "request");
    if request.method() == Method::HEAD {
        if let Ok(method) = Method::from_bytes(UNSERVED_HEAD) {
            request
                .extensions_mut()
                .insert(OriginalMethod(Method::HEAD));
            *request.method_mut() = method;
        }
    }
    envelope::with_correlation(correlation, async move {
        let mut response = next.run(request).await;
        let is_envelope = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_envelope {
            return too_large().into_response();
        }
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allow = response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .map(|methods| {
                    methods
                        .split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty() && *m != "HEAD")
                        .collect::<Vec<_>>()
                        .join(", ")
                });
            if let Some(value) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                response.headers_mut().insert(header::ALLOW, value);
            }
        }
        response
    })
    .await
}

/// No route: `401` for an unauthenticated caller, else `404`.
async fn route_not_found(request: Request) -> AppError {
    if let Err(err) = Caller::from_request(&request) {
        return err;
    }
    AppError::new(
        ErrorCode::RouteNotFound,
        format!("no route for `{}`", request.uri().path()),
    )
}

/// A served path, an unserved method: the caller and the company are checked first (so a
/// foreign company's path is `403` whatever the method), then `405`.
async fn method_not_allowed(request: Request) -> AppError {
    let (parts, _) = request.into_parts();
    let caller = match Caller::from_request(&parts) {
        Ok(caller) => caller,
        Err(err) => return err,
    };
    match company_of(&caller, &raw_path_params(&parts)) {
        Err(err) => err,
        Ok(None) => AppError::new(
            ErrorCode::MethodNotAllowed,
            "only GET is allowed on the OpenAPI document",
        ),
        Ok(Some(_)) => {
            let method = parts
                .extensions
                .get::<OriginalMethod>()
                .map_or_else(|| parts.method.clone(), |m| m.0.clone());
            AppError::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not allowed on `{}`", parts.uri.path()),
            )
        }
    }
}

async fn openapi(_caller: Caller) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

// Path parameters besides the company (which [`Scope`] carries).
#[derive(serde::Deserialize)]
struct Id {
    id: String,
}
#[derive(serde::Deserialize)]
struct Job {
    id: String,
    job_id: String,
}
#[derive(serde::Deserialize)]
struct Product {
    product: String,
}
#[derive(serde::Deserialize)]
struct ItemPath {
    product: String,
    item_id: String,
}

fn reply(result: Result<lambda_http::Response<lambda_http::Body>, AppError>) -> Reply {
    result.map(envelope::into_axum)
}

// Catalogue: storage units, ingredients, recipes.

async fn storage_units_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(catalog::list::<StorageUnit>(&deps, &r, &s.company_id).await)
}
async fn storage_units_create(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(catalog::create::<StorageUnit>(&deps, &r, &s.company_id).await)
}
async fn storage_unit_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(catalog::get::<StorageUnit>(&deps, &s.company_id, &p.id).await)
}
async fn storage_unit_update(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(catalog::update::<StorageUnit>(&deps, &r, &s.company_id, &p.id).await)
}
async fn ingredients_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(catalog::list::<Ingredient>(&deps, &r, &s.company_id).await)
}
async fn ingredients_create(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(catalog::create::<Ingredient>(&deps, &r, &s.company_id).await)
}
async fn ingredient_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(catalog::get::<Ingredient>(&deps, &s.company_id, &p.id).await)
}
async fn ingredient_update(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(catalog::update::<Ingredient>(&deps, &r, &s.company_id, &p.id).await)
}
async fn ingredient_delete(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(recipes::delete_ingredient(&deps, &s.company_id, &p.id).await)
}
async fn receipts_list(State(deps): Shared, s: Scope, Path(p): Path<Id>, Whole(r): Whole) -> Reply {
    reply(receipts::list(&deps, &r, &s.company_id, &p.id).await)
}
async fn receipts_create(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(receipts::create(&deps, &r, &s.company_id, &p.id).await)
}
async fn recipes_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(catalog::list::<Recipe>(&deps, &r, &s.company_id).await)
}
async fn recipes_create(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(recipes::create(&deps, &r, &s.company_id).await)
}
async fn recipe_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(catalog::get::<Recipe>(&deps, &s.company_id, &p.id).await)
}
async fn recipe_update(State(deps): Shared, s: Scope, Path(p): Path<Id>, Whole(r): Whole) -> Reply {
    reply(recipes::update(&deps, &r, &s.company_id, &p.id).await)
}
async fn recipe_delete(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(recipes::delete(&deps, &s.company_id, &p.id).await)
}
async fn recipe_explosion(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(recipes::explosion(&deps, &r, &s.company_id, &p.id).await)
}

// Locations, transfers and migrations.

async fn locations_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(locations::list(&deps, &r, &s.company_id).await)
}
async fn locations_sync(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(locations::sync(&deps, &r, &s.company_id).await)
}
async fn location_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::get(&deps, &s.company_id, &p.id).await)
}
async fn location_configure(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(locations::configure(&deps, &r, &s.company_id, &p.id).await)
}
async fn location_link(State(deps): Shared, s: Scope, Path(p): Path<Id>, Whole(r): Whole) -> Reply {
    reply(locations::link(&deps, &r, &s.company_id, &p.id).await)
}
async fn location_unlink(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::unlink(&deps, &s.company_id, &p.id).await)
}
async fn location_activate(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::activate(&deps, &s.company_id, &p.id).await)
}
async fn transfer_logs_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(transfer_logs::list(&deps, &r, &s.company_id, &p.id).await)
}
async fn transfers_start(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(transfers::start(&deps, &r, &s.company_id, &p.id).await)
}
async fn migrations_create(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(migrations::create(&deps, &r, &s.company_id, &p.id).await)
}
async fn migrations_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(migrations::list(&deps, &r, &s.company_id, &p.id).await)
}
async fn migration_get(State(deps): Shared, s: Scope, Path(p): Path<Job>) -> Reply {
    reply(migrations::get(&deps, &s.company_id, &p.id, &p.job_id).await)
}
async fn migration_cancel(State(deps): Shared, s: Scope, Path(p): Path<Job>) -> Reply {
    reply(migrations::cancel(&deps, &s.company_id, &p.id, &p.job_id).await)
}

// Ledger, items, integrations, alerts.

async fn ledger_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(ledger::list(&deps, &r, &s.company_id).await)
}
async fn ledger_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(ledger::get(&deps, &s.company_id, &p.id).await)
}
async fn items_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(items::list(&deps, &r, &s.company_id).await)
}
async fn items_sync(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(items::sync(&deps, &r, &s.company_id).await)
}
async fn item_get(State(deps): Shared, s: Scope, Path(p): Path<ItemPath>) -> Reply {
    reply(items::get(&deps, &s.company_id, &p.product, &p.item_id).await)
}
async fn item_mapping_put(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<ItemPath>,
    Whole(r): Whole,
) -> Reply {
    reply(items::put_mapping(&deps, &r, &s.company_id, &p.product, &p.item_id).await)
}
async fn item_mapping_delete(State(deps): Shared, s: Scope, Path(p): Path<ItemPath>) -> Reply {
    reply(items::delete_mapping(&deps, &s.company_id, &p.product, &p.item_id).await)
}
async fn integrations_list(State(deps): Shared, s: Scope) -> Reply {
    reply(integrations::list(&deps, &s.company_id).await)
}
async fn integrations_connect(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(integrations::connect(&deps, &r, &s.company_id).await)
}
async fn integration_get(State(deps): Shared, s: Scope, Path(p): Path<Product>) -> Reply {
    reply(integrations::get(&deps, &s.company_id, &p.product).await)
}
async fn integration_reauthorize(State(deps): Shared, s: Scope, Path(p): Path<Product>) -> Reply {
    reply(integrations::reauthorize(&deps, &s.company_id, &p.product).await)
}
async fn alerts_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(alerts::list(&deps, &r, &s.company_id).await)
}
async fn alert_acknowledge(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(alerts::acknowledge(&deps, &s.company_id, &p.id).await)
}

// Account mappings, the ERP connection and journals.

async fn account_mappings_get(State(deps): Shared, s: Scope) -> Reply {
    reply(accounts::overview(&deps, &s.company_id).await)
}

async fn account_mappings_put(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(accounts::put_company(&deps, &r, &s.company_id).await)
}

async fn account_mappings_sync(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(accounts::sync(&deps, &r, &s.company_id).await)
}

async fn account_mapping_location_put(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Whole(r): Whole,
) -> Reply {
    reply(accounts::put_location(&deps, &r, &s.company_id, &p.id).await)
}

async fn account_mapping_location_delete(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
) -> Reply {
    reply(accounts::delete_location(&deps, &s.company_id, &p.id).await)
}

async fn erp_connection_get(State(deps): Shared, s: Scope) -> Reply {
    reply(accounts::get_erp(&deps, &s.company_id).await)
}

async fn erp_connection_put(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(accounts::put_erp(&deps, &r, &s.company_id).await)
}

async fn journals_list(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(journals::list(&deps, &r, &s.company_id).await)
}

async fn journals_repost(State(deps): Shared, s: Scope, Whole(r): Whole) -> Reply {
    reply(journals::repost(&deps, &r, &s.company_id).await)
}

async fn journal_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(journals::get(&deps, &s.company_id, &p.id).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_registered_once() {
        let paths = route_paths();
        let mut unique = paths.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(paths.len(), unique.len());
        assert!(paths.contains(&"/v1/companies/{company_id}/recipes/{id}/explosion"));
    }
}
