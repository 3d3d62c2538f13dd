//! The admin API as one axum [`Router`]: served by `lambda_http` in AWS (see the admin-api
//! function) and, through the same API Gateway v2 events, by the local host ([`handle`]).
//!
//! Cross-cutting work is in layers, outermost first: the caller's `x-correlation-id` kept
//! only when well-formed, else API Gateway's request id, else a new one (`tower-http`
//! request id), echoed on every response; a tracing span carrying it; the envelope's
//! correlation id and the HEAD / 405 / 413 details ([`shell`]); the body size limit.
//! Every refusal is the error envelope; nothing a caller sends makes this a Lambda error.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use flate2::read::DeflateDecoder;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use tillbridge::accounts::mapping::AccountMapping;
use tillbridge::accounts::pos_codes;
use tillbridge::api::envelope;
use tillbridge::catalog::receipt::ReceiptInput;
use tillbridge::catalog::recipe::{RecipeInput, RecipePatch};
use tillbridge::catalog::records::CatalogRecord;
use tillbridge::catalog::{Ingredient, Recipe, StorageUnit};
use tillbridge::connection::flow::ConnectInput;
use tillbridge::deps::Deps;
use tillbridge::erp::connection::ConnectionInput;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::handlers::now;
use tillbridge::imports::format::{ColumnMapping, CsvFormat};
use tillbridge::imports::record::ImportRecord;
use tillbridge::items::sync as item_sync;
use tillbridge::location::setup::{DaySettings, NewCsvLocation};
use tillbridge::location::sync as location_sync;
use tillbridge::mapping::setup::MappingInput;
use tillbridge::migration::job::{self, MigrationJob};
use tillbridge::telemetry::{correlation_span, sanitize_correlation_id};
use tillbridge::webhook::closures::{self, RegisterClosure};
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::auth::{Caller, Operator};
use crate::extract::{
    company_of, raw_path_params, too_large, IdempotencyKey, Json, Path, Query, Scope,
};
use crate::openapi::schemas as doc;
use crate::openapi::{
    self, Company, Conflict, Error400, Error401, Error403, Error409, Error415, Error503, NotJson,
    Refused, Unprocessable, UpstreamFailed,
};
use crate::routes::items::ItemPath;
use crate::routes::{self, PageQuery, SyncInput};
use crate::routes::{
    accounts, alerts, catalog, dead_letters, imports, integrations, items, journals, ledger,
    locations, migrations, receipts, recipes, reconciliation, transfer_logs, transfers,
};

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// API Gateway's payload limit for Lambda integrations.
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The committed OpenAPI document of this API (`lib/openapi/admin-api.json`, beside the
/// schemas it is built from), minified and deflated by the build script. A unit test holds
/// it equal to the one utoipa generates ([`openapi::document`]), so the function binary
/// carries the text, not the code that builds it.
const OPENAPI_DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/admin-api.json.deflate"));

/// The OpenAPI document as served, inflated on its first request rather than at start
/// (init time counts); `None` if the embedded bytes do not inflate.
pub fn openapi_json() -> Option<&'static str> {
    static TEXT: OnceLock<Option<String>> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = String::new();
        match DeflateDecoder::new(OPENAPI_DEFLATED).read_to_string(&mut text) {
            Ok(_) => Some(text),
            Err(err) => {
                tracing::error!(error = %err, "the embedded OpenAPI document does not inflate");
                None
            }
        }
    })
    .as_deref()
}

type Shared = State<Arc<Deps>>;
type Reply = Result<Response, AppError>;

/// Every path the admin API serves, with its methods (in the order `Allow` names them).
/// Long because it is the one table of the API's paths, one entry per path.
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
        (
            "/v1/companies/{company_id}/locations",
            get(locations_list).post(csv_location_create),
        ),
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
            "/v1/companies/{company_id}/locations/{id}/register-closures",
            get(register_closures_list),
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
            get(integration_get).delete(integration_disconnect),
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
        (
            "/v1/companies/{company_id}/reconciliation",
            get(reconciliation_list).post(reconciliation_run),
        ),
        ("/v1/companies/{company_id}/kpis", get(kpis_get)),
        (
            "/v1/companies/{company_id}/imports",
            get(imports_list).post(imports_upload),
        ),
        ("/v1/companies/{company_id}/imports/{id}", get(import_get)),
        (
            "/v1/companies/{company_id}/imports/{id}/transfers",
            post(import_transfer_again),
        ),
        (
            "/v1/companies/{company_id}/imports/mappings",
            get(import_mappings_list),
        ),
        (
            "/v1/companies/{company_id}/imports/mappings/{id}",
            get(import_mapping_get)
                .put(import_mapping_put)
                .delete(import_mapping_delete),
        ),
        ("/v1/companies/{company_id}/alerts", get(alerts_list)),
        (
            "/v1/dead-letters",
            get(dead_letters_list).post(dead_letters_replay),
        ),
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

/// The admin API built once, answering API Gateway requests (the local host's entry).
#[derive(Clone)]
pub struct AdminApi {
    router: Router,
}

impl AdminApi {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self {
            router: router(deps),
        }
    }

    /// The admin-api function's answer to one API Gateway request.
    pub async fn handle(
        &self,
        request: lambda_http::Request,
    ) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
        let response = self.router.clone().oneshot(request).await?;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await?;
        let body = match String::from_utf8(bytes.to_vec()) {
            Ok(text) => lambda_http::Body::Text(text),
            Err(err) => lambda_http::Body::Binary(err.into_bytes()),
        };
        Ok(lambda_http::Response::from_parts(parts, body))
    }
}

/// One request against `deps`, building the router for it: for one-off calls (tests); a
/// host that serves many keeps an [`AdminApi`].
pub async fn handle(
    deps: &Deps,
    request: lambda_http::Request,
) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
    AdminApi::new(Arc::new(deps.clone())).handle(request).await
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
            .unwrap_or_else(|| tillbridge::random::uuid().to_string());
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
        if Operator::from_request(&request).is_err() {
            return err;
        }
    }
    AppError::new(
        ErrorCode::RouteNotFound,
        format!("no route for `{}`", request.uri().path()),
    )
}

/// A served path, an unserved method: the caller and the company are checked first (so a
/// foreign company's path is `403` whatever the method), then `405`. The operator paths
/// and the document are `401` without a token, else `405`.
async fn method_not_allowed(request: Request) -> AppError {
    let (parts, _) = request.into_parts();
    let method = parts
        .extensions
        .get::<OriginalMethod>()
        .map_or_else(|| parts.method.clone(), |m| m.0.clone());
    let not_allowed = || {
        AppError::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on `{}`", parts.uri.path()),
        )
    };
    let params = raw_path_params(&parts);
    if !params.iter().any(|(name, _)| name == "company_id") {
        return match (Caller::from_request(&parts), Operator::from_request(&parts)) {
            (Err(err), Err(_)) if err.code == ErrorCode::Unauthenticated => err,
            _ => not_allowed(),
        };
    }
    let caller = match Caller::from_request(&parts) {
        Ok(caller) => caller,
        Err(err) => return err,
    };
    match company_of(&caller, &params) {
        Err(err) => err,
        Ok(_) => not_allowed(),
    }
}

/// Any genuine token: a company's or an operator's (the document is for both).
struct AnyCaller;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AnyCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, AppError> {
        match Caller::from_request(&*parts) {
            Ok(_) => Ok(AnyCaller),
            Err(err) => Operator::from_request(&*parts)
                .map(|_| AnyCaller)
                .map_err(|_| err),
        }
    }
}

#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "meta",
    summary = "This document",
    responses(
        (status = 200, description = "This document", body = doc::OpenApiDocument),
        (status = 401, response = Error401),
    ),
)]
async fn openapi(_caller: AnyCaller) -> Reply {
    let text = openapi_json()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "the OpenAPI document is unavailable"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response())
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

fn reply(result: Result<lambda_http::Response<lambda_http::Body>, AppError>) -> Reply {
    result.map(envelope::into_axum)
}

// Catalogue: storage units, ingredients, recipes.

/// List, create, read and update of a catalogue record type: the same four handlers and
/// annotations for storage units and ingredients, with their paths, names and texts.
macro_rules! catalog_record_ops {
    (
        $record:ident at $list_path:tt and $item_path:tt, pages $page:ident, $id_text:tt:
        $list:ident $list_summary:tt,
        $create:ident $create_summary:tt (replay $replay:tt) from $input:ident,
        $get:ident $get_summary:tt ($got:tt),
        $update:ident $update_summary:tt ($updated:tt) from $patch:ident,
    ) => {
        #[utoipa::path(
                    get, path = $list_path, tag = "catalogue", summary = $list_summary,
                    params(Company, PageQuery),
                    responses((status = 200, description = "One page", body = doc::$page), Refused),
                )]
        async fn $list(State(deps): Shared, s: Scope, Query(q): Query<PageQuery>) -> Reply {
            reply(catalog::list::<$record>(&deps, q, &s.company_id).await)
        }

        #[utoipa::path(
                    post, path = $list_path, tag = "catalogue", summary = $create_summary,
                    params(Company, IdempotencyKey),
                    request_body = doc::$input,
                    responses(
                        (status = 200, description = $replay, body = doc::$record),
                        (status = 201, description = "Created", body = doc::$record),
                        Refused, Conflict, NotJson, Unprocessable,
                    ),
                )]
        async fn $create(
            State(deps): Shared,
            s: Scope,
            key: IdempotencyKey,
            Json(b): Json<<$record as CatalogRecord>::Input>,
        ) -> Reply {
            reply(catalog::create::<$record>(&deps, b, key, &s.company_id).await)
        }

        #[utoipa::path(
                    get, path = $item_path, tag = "catalogue", summary = $get_summary,
                    params(Company, ("id" = doc::PathId, Path, description = $id_text)),
                    responses((status = 200, description = $got, body = doc::$record), Refused),
                )]
        async fn $get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
            reply(catalog::get::<$record>(&deps, &s.company_id, &p.id).await)
        }

        #[utoipa::path(
                    patch, path = $item_path, tag = "catalogue", summary = $update_summary,
                    params(Company, ("id" = doc::PathId, Path, description = $id_text)),
                    request_body = doc::$patch,
                    responses(
                        (status = 200, description = $updated, body = doc::$record),
                        Refused, Conflict, NotJson,
                    ),
                )]
        async fn $update(
            State(deps): Shared,
            s: Scope,
            Path(p): Path<Id>,
            b: Result<Json<<$record as CatalogRecord>::Patch>, AppError>,
        ) -> Reply {
            reply(catalog::update::<$record>(&deps, b, &s.company_id, &p.id).await)
        }
    };
}

catalog_record_ops! {
    StorageUnit at "/v1/companies/{company_id}/storage-units"
        and "/v1/companies/{company_id}/storage-units/{id}",
        pages StorageUnitPage, "Storage unit id":
    storage_units_list "List storage units",
    storage_units_create "Create a storage unit (optional Idempotency-Key header)"
        (replay "Idempotent replay: the unit this Idempotency-Key created") from StorageUnitInput,
    storage_unit_get "Read a storage unit" ("The storage unit"),
    storage_unit_update "Update a storage unit (absent fields unchanged, null clears)"
        ("The updated storage unit") from StorageUnitPatch,
}

catalog_record_ops! {
    Ingredient at "/v1/companies/{company_id}/ingredients"
        and "/v1/companies/{company_id}/ingredients/{id}",
        pages IngredientPage, "Ingredient id":
    ingredients_list "List ingredients",
    ingredients_create "Create an ingredient" (replay "Idempotent replay") from IngredientInput,
    ingredient_get "Read an ingredient with its weighted average cost" ("The ingredient"),
    ingredient_update "Update an ingredient" ("The updated ingredient") from IngredientPatch,
}

#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/ingredients/{id}", tag = "catalogue",
    summary = "Delete an ingredient no recipe or mapping uses (ingredient_in_use otherwise)",
    params(Company, ("id" = doc::PathId, Path, description = "Ingredient id")),
    responses((status = 204, description = "Deleted"), Refused, Conflict),
)]
async fn ingredient_delete(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(recipes::delete_ingredient(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/ingredients/{id}/receipts", tag = "catalogue",
    summary = "List stock receipts",
    params(Company, ("id" = doc::PathId, Path, description = "Ingredient id"), PageQuery),
    responses((status = 200, description = "One page", body = doc::ReceiptPage), Refused),
)]
async fn receipts_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Query(q): Query<PageQuery>,
) -> Reply {
    reply(receipts::list(&deps, q, &s.company_id, &p.id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/ingredients/{id}/receipts", tag = "catalogue",
    summary = "Record a stock receipt (updates the weighted average cost)",
    params(Company, ("id" = doc::PathId, Path, description = "Ingredient id"), IdempotencyKey),
    request_body = doc::ReceiptInput,
    responses(
        (status = 200, description = "Idempotent replay", body = doc::ReceiptCreated),
        (status = 201, description = "Recorded", body = doc::ReceiptCreated),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn receipts_create(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    key: IdempotencyKey,
    b: Result<Json<ReceiptInput>, AppError>,
) -> Reply {
    reply(receipts::create(&deps, b, key, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/recipes", tag = "catalogue",
    summary = "List recipes",
    params(Company, PageQuery),
    responses((status = 200, description = "One page", body = doc::RecipePage), Refused),
)]
async fn recipes_list(State(deps): Shared, s: Scope, Query(q): Query<PageQuery>) -> Reply {
    reply(catalog::list::<Recipe>(&deps, q, &s.company_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/recipes", tag = "catalogue",
    summary = "Create a recipe (lines are ingredients or child recipes)",
    params(Company, IdempotencyKey),
    request_body = doc::RecipeInput,
    responses(
        (status = 200, description = "Idempotent replay", body = doc::Recipe),
        (status = 201, description = "Created", body = doc::Recipe),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn recipes_create(
    State(deps): Shared,
    s: Scope,
    key: IdempotencyKey,
    Json(b): Json<RecipeInput>,
) -> Reply {
    reply(recipes::create(&deps, b, key, &s.company_id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/recipes/{id}", tag = "catalogue",
    summary = "Read a recipe",
    params(Company, ("id" = doc::PathId, Path, description = "Recipe id")),
    responses((status = 200, description = "The recipe", body = doc::Recipe), Refused),
)]
async fn recipe_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(catalog::get::<Recipe>(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    patch, path = "/v1/companies/{company_id}/recipes/{id}", tag = "catalogue",
    summary = "Update a recipe's name or replace its lines",
    params(Company, ("id" = doc::PathId, Path, description = "Recipe id")),
    request_body = doc::RecipePatch,
    responses(
        (status = 200, description = "The updated recipe", body = doc::Recipe),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn recipe_update(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    b: Result<Json<RecipePatch>, AppError>,
) -> Reply {
    reply(recipes::update(&deps, b, &s.company_id, &p.id).await)
}
#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/recipes/{id}", tag = "catalogue",
    summary = "Delete a recipe nothing uses (recipe_in_use otherwise)",
    params(Company, ("id" = doc::PathId, Path, description = "Recipe id")),
    responses((status = 204, description = "Deleted"), Refused, Conflict),
)]
async fn recipe_delete(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(recipes::delete(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/recipes/{id}/explosion", tag = "catalogue",
    summary = "Ingredient quantities for a sold quantity of the recipe",
    params(Company, ("id" = doc::PathId, Path, description = "Recipe id"), recipes::ExplosionQuery),
    responses(
        (status = 200, description = "The explosion", body = doc::Explosion),
        Refused, Unprocessable,
    ),
)]
async fn recipe_explosion(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Query(q): Query<recipes::ExplosionQuery>,
) -> Reply {
    reply(recipes::explosion(&deps, q, &s.company_id, &p.id).await)
}

// Locations, transfers and migrations.

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations", tag = "locations",
    summary = "List locations",
    params(Company, PageQuery, locations::LocationFilters),
    responses((status = 200, description = "One page", body = doc::LocationPage), Refused),
)]
async fn locations_list(
    State(deps): Shared,
    s: Scope,
    Query(page): Query<PageQuery>,
    Query(q): Query<locations::LocationFilters>,
) -> Reply {
    reply(locations::list(&deps, page, q, &s.company_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/locations/sync", tag = "locations",
    summary = "Sync locations from Lightspeed",
    params(Company),
    request_body = doc::SyncInput,
    responses(
        (status = 200, description = "What the sync changed", body = doc::LocationSyncSummary),
        Refused, Conflict, NotJson, UpstreamFailed,
    ),
)]
async fn locations_sync(State(deps): Shared, s: Scope, Json(b): Json<SyncInput>) -> Reply {
    reply(routes::synced(&deps, &s.company_id, &now(), b, location_sync::sync).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations/{id}", tag = "locations",
    summary = "Location detail: health banner, storage unit, configuration, last 10 failed transfers",
    params(Company, ("id" = doc::PathId, Path, description = "Location id (Lightspeed's)")),
    responses(
        (status = 200, description = "The location detail", body = doc::LocationDetail),
        Refused,
    ),
)]
async fn location_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::get(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    patch, path = "/v1/companies/{company_id}/locations/{id}", tag = "locations",
    summary = "Business-day settings and auto-issue pause/resume",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    request_body = doc::LocationSettings,
    responses(
        (status = 200, description = "The updated location", body = doc::Location),
        Refused, Conflict, NotJson,
    ),
)]
async fn location_configure(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Json(b): Json<DaySettings>,
) -> Reply {
    reply(locations::configure(&deps, b, &s.company_id, &p.id).await)
}
#[utoipa::path(
    put, path = "/v1/companies/{company_id}/locations/{id}/storage-unit", tag = "locations",
    summary = "Link a storage unit",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    request_body = doc::LinkInput,
    responses(
        (status = 200, description = "The linked location", body = doc::Location),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn location_link(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Json(b): Json<locations::LinkInput>,
) -> Reply {
    reply(locations::link(&deps, b, &s.company_id, &p.id).await)
}
#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/locations/{id}/storage-unit", tag = "locations",
    summary = "Unlink the storage unit",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    responses(
        (status = 200, description = "The unlinked location", body = doc::Location),
        Refused, Conflict,
    ),
)]
async fn location_unlink(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::unlink(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/locations/{id}/activate", tag = "locations",
    summary = "Activate (one way); requests the 90-day migration",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    responses(
        (status = 200, description = "Already active", body = doc::Activation),
        (status = 201, description = "Activated; the 90-day migration is requested", body = doc::Activation),
        Refused, Conflict, Unprocessable,
    ),
)]
async fn location_activate(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(locations::activate(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations/{id}/register-closures", tag = "locations",
    summary = "An X-Series outlet's register closures (from webhooks), newest first",
    params(Company, ("id" = doc::PathId, Path, description = "Location (outlet) id"), PageQuery),
    responses((status = 200, description = "One page", body = doc::RegisterClosurePage), Refused),
)]
async fn register_closures_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let scope = (s.company_id.as_str(), p.id.as_str());
    reply(routes::location_page::<RegisterClosure>(&deps, &q, scope, closures::list_query).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations/{id}/transfer-logs", tag = "transfers",
    summary = "Transfer logs, newest business date first",
    params(Company, ("id" = doc::PathId, Path, description = "Location id"), PageQuery),
    responses((status = 200, description = "One page", body = doc::TransferLogPage), Refused),
)]
async fn transfer_logs_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Query(q): Query<PageQuery>,
) -> Reply {
    reply(transfer_logs::list(&deps, q, &s.company_id, &p.id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/locations/{id}/transfers", tag = "transfers",
    summary = "Manual transfer of one business date (force refresh by default)",
    description = "Runs the transfer now and answers with its result (200 success or no data; 202 when a Lightspeed 429/5xx scheduled a retry through the queue; the error's status otherwise: 422 storage_unit_required / location_has_no_storage_unit, 424 lightspeed_auth_failed, 502 lightspeed_api_error / max_retries_exhausted). With \"async\": true the request is queued (202).",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    request_body = doc::ManualTransferInput,
    responses(
        (status = 200, description = "The transfer ran", body = doc::TransferResult),
        (status = 202, description = "Queued (async), or failed with a retry scheduled", body = doc::TransferAccepted),
        (status = 400, response = Error400),
        (status = 401, response = Error401),
        (status = 403, response = Error403),
        (status = 404, description = "Not found: the named object (*_not_found) or a malformed company id (route_not_found). A transfer attempt that failed answers with its result (TransferResult) and this status.", body = doc::TransferFailure),
        (status = 409, response = Error409),
        (status = 415, response = Error415),
        (status = 422, description = "Understood but not possible: a rule of the object is broken, a value is out of range (value_out_of_range) or an Idempotency-Key was reused with another body. A transfer attempt that failed answers with its result (TransferResult) and this status.", body = doc::TransferFailure),
        (status = 424, description = "Lightspeed refused the stored credentials (lightspeed_auth_failed): reauthorize. A transfer attempt that failed answers with its result (TransferResult) and this status.", body = doc::TransferFailure),
        (status = 502, description = "Lightspeed answered with an error or unusable data. A transfer attempt that failed answers with its result (TransferResult) and this status.", body = doc::TransferFailure),
        (status = 503, response = Error503),
    ),
)]
async fn transfers_start(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Json(b): Json<transfers::ManualTransfer>,
) -> Reply {
    reply(transfers::start(&deps, b, &s.company_id, &p.id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/locations/{id}/migrations", tag = "migrations",
    summary = "Start the 90-day migration (or re-run it, posting only deltas)",
    description = "The last 90 completed business days ending yesterday in the location's terms; days with a successful transfer are skipped unless `rerun`. Errors: location_not_activated (422), storage_unit_required (422), migration_already_in_progress (409).",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    request_body = Option<doc::MigrationInput>,
    responses(
        (status = 201, description = "The migration job", body = doc::MigrationJob),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn migrations_create(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    b: Option<Json<migrations::StartInput>>,
) -> Reply {
    reply(migrations::create(&deps, b, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations/{id}/migrations", tag = "migrations",
    summary = "Migration jobs of a location, newest first",
    params(Company, ("id" = doc::PathId, Path, description = "Location id"), PageQuery),
    responses((status = 200, description = "One page", body = doc::MigrationJobPage), Refused),
)]
async fn migrations_list(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let scope = (s.company_id.as_str(), p.id.as_str());
    reply(routes::location_page::<MigrationJob>(&deps, &q, scope, job::jobs_query).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}", tag = "migrations",
    summary = "One migration job with its day statuses",
    params(Company, ("id" = doc::PathId, Path, description = "Location id"), ("job_id" = doc::PathId, Path, description = "Migration job id")),
    responses(
        (status = 200, description = "The job with its days", body = doc::MigrationDetail),
        Refused,
    ),
)]
async fn migration_get(State(deps): Shared, s: Scope, Path(p): Path<Job>) -> Reply {
    reply(migrations::get(&deps, &s.company_id, &p.id, &p.job_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/locations/{id}/migrations/{job_id}/cancel", tag = "migrations",
    summary = "Cancel a pending or running migration; workers stop picking its days",
    params(Company, ("id" = doc::PathId, Path, description = "Location id"), ("job_id" = doc::PathId, Path, description = "Migration job id")),
    responses(
        (status = 200, description = "The cancelled job", body = doc::MigrationJob),
        Refused, Conflict,
    ),
)]
async fn migration_cancel(State(deps): Shared, s: Scope, Path(p): Path<Job>) -> Reply {
    reply(migrations::cancel(&deps, &s.company_id, &p.id, &p.job_id).await)
}

// Ledger, items, integrations, alerts.

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/ledger", tag = "ledger",
    summary = "Inventory ledger entries, by storage unit, ingredient, transfer log or sales line",
    description = "Give exactly one selection: storage_unit_id (with optional from/to business dates), ingredient_id (optional from/to), transfer_log_id, or sales_line ({sale_id}/{line_id}) with location_id and date. Entries are ISSUE (stock out, positive quantity) or REVERSAL (stock back, negative), per storage unit, location, business date, ingredient, stream (sales/refunds) and revision; corrections name the entries they reverse.",
    params(Company, ledger::LedgerQuery, PageQuery),
    responses((status = 200, description = "One page", body = doc::LedgerPage), Refused),
)]
async fn ledger_list(
    State(deps): Shared,
    s: Scope,
    Query(page): Query<PageQuery>,
    Query(q): Query<ledger::LedgerQuery>,
) -> Reply {
    reply(ledger::list(&deps, page, q, &s.company_id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/ledger/{id}", tag = "ledger",
    summary = "One ledger entry with the sales lines that fed it",
    params(Company, ("id" = doc::PathId, Path, description = "Ledger entry id")),
    responses(
        (status = 200, description = "The entry and its source lines (from the day's sales cache)", body = doc::LedgerEntryDetail),
        Refused,
    ),
)]
async fn ledger_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(ledger::get(&deps, &s.company_id, &p.id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/items", tag = "items",
    summary = "List items with their mapping",
    params(Company, PageQuery, items::ItemFilters),
    responses((status = 200, description = "One page", body = doc::ItemPage), Refused),
)]
async fn items_list(
    State(deps): Shared,
    s: Scope,
    Query(page): Query<PageQuery>,
    Query(q): Query<items::ItemFilters>,
) -> Reply {
    reply(items::list(&deps, page, q, &s.company_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/items/sync", tag = "items",
    summary = "Sync items from Lightspeed (raises mapped_item_renamed / orphaned_mapping alerts)",
    params(Company),
    request_body = doc::SyncInput,
    responses(
        (status = 200, description = "What the sync changed", body = doc::ItemSyncSummary),
        Refused, Conflict, NotJson, UpstreamFailed,
    ),
)]
async fn items_sync(State(deps): Shared, s: Scope, Json(b): Json<SyncInput>) -> Reply {
    reply(routes::synced(&deps, &s.company_id, &now(), b, item_sync::sync).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/items/{product}/{item_id}", tag = "items",
    summary = "Read an item",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series"), ("item_id" = doc::PathId, Path, description = "Lightspeed item or product id")),
    responses((status = 200, description = "The item with its mapping", body = doc::Item), Refused),
)]
async fn item_get(State(deps): Shared, s: Scope, Path(p): Path<ItemPath>) -> Reply {
    reply(items::get(&deps, &s.company_id, &p).await)
}
#[utoipa::path(
    put, path = "/v1/companies/{company_id}/items/{product}/{item_id}/mapping", tag = "items",
    summary = "Create or replace the item's mapping",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series"), ("item_id" = doc::PathId, Path, description = "Item id")),
    request_body = doc::MappingInput,
    responses(
        (status = 200, description = "The mapping", body = doc::MappingView),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn item_mapping_put(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<ItemPath>,
    b: Result<Json<MappingInput>, AppError>,
) -> Reply {
    reply(items::put_mapping(&deps, b, &s.company_id, &p).await)
}
#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/items/{product}/{item_id}/mapping", tag = "items",
    summary = "Remove the item's mapping",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series"), ("item_id" = doc::PathId, Path, description = "Item id")),
    responses(
        (status = 200, description = "Deleted", body = doc::MappingDeleted),
        Refused, Conflict,
    ),
)]
async fn item_mapping_delete(State(deps): Shared, s: Scope, Path(p): Path<ItemPath>) -> Reply {
    reply(items::delete_mapping(&deps, &s.company_id, &p).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/integrations", tag = "connection",
    summary = "List Lightspeed integrations (status and expiry times, never tokens)",
    params(Company),
    responses(
        (status = 200, description = "Every integration", body = doc::IntegrationPage),
        Refused,
    ),
)]
async fn integrations_list(State(deps): Shared, s: Scope) -> Reply {
    reply(integrations::list(&deps, &s.company_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/integrations", tag = "connection",
    summary = "Start a connection; returns the authorize URL with a signed, expiring state",
    params(Company),
    request_body = doc::ConnectInput,
    responses(
        (status = 201, description = "Authorization started", body = doc::AuthorizationStarted),
        Refused, Conflict, NotJson,
    ),
)]
async fn integrations_connect(State(deps): Shared, s: Scope, Json(b): Json<ConnectInput>) -> Reply {
    reply(integrations::connect(&deps, b, &s.company_id).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/integrations/{product}", tag = "connection",
    summary = "Integration status",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series")),
    responses((status = 200, description = "The integration", body = doc::Integration), Refused),
)]
async fn integration_get(State(deps): Shared, s: Scope, Path(p): Path<Product>) -> Reply {
    reply(integrations::get(&deps, &s.company_id, &p.product).await)
}
#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/integrations/{product}", tag = "connection",
    summary = "Disconnect: this deployment's webhook subscriptions removed, tokens deleted; setup and history kept (reauthorize to connect again)",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series")),
    responses((status = 200, description = "The integration, disconnected", body = doc::Integration), Refused),
)]
async fn integration_disconnect(State(deps): Shared, s: Scope, Path(p): Path<Product>) -> Reply {
    reply(integrations::disconnect(&deps, &s.company_id, &p.product).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/integrations/{product}/reauthorize", tag = "connection",
    summary = "Reauthorize; keeps all setup and history",
    params(Company, ("product" = doc::Product, Path, description = "k_series or x_series")),
    responses(
        (status = 200, description = "Authorization started again", body = doc::AuthorizationStarted),
        Refused, Conflict,
    ),
)]
async fn integration_reauthorize(State(deps): Shared, s: Scope, Path(p): Path<Product>) -> Reply {
    reply(integrations::reauthorize(&deps, &s.company_id, &p.product).await)
}
#[utoipa::path(
    get, path = "/v1/companies/{company_id}/alerts", tag = "alerts",
    summary = "List alerts",
    params(Company, PageQuery, alerts::AlertFilters),
    responses((status = 200, description = "One page", body = doc::AlertPage), Refused),
)]
async fn alerts_list(
    State(deps): Shared,
    s: Scope,
    Query(page): Query<PageQuery>,
    Query(q): Query<alerts::AlertFilters>,
) -> Reply {
    reply(alerts::list(&deps, page, q, &s.company_id).await)
}
#[utoipa::path(
    post, path = "/v1/companies/{company_id}/alerts/{id}/acknowledge", tag = "alerts",
    summary = "Acknowledge an open alert",
    params(Company, ("id" = doc::PathId, Path, description = "Alert id")),
    responses((status = 200, description = "The acknowledged alert", body = doc::Alert), Refused),
)]
async fn alert_acknowledge(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(alerts::acknowledge(&deps, &s.company_id, &p.id).await)
}

// Dead letters (operators).

#[utoipa::path(
    get, path = "/v1/dead-letters", tag = "operations",
    summary = "Each dead-letter queue's messages (operators): kind, company, location and date, the first failure reason, attempts and sent time. Listing hands every message back; nothing is consumed",
    params(dead_letters::DeadLetterFilters),
    responses(
        (status = 200, description = "The dead-letter queues", body = doc::DeadLetterList),
        (status = 400, response = Error400),
        (status = 401, response = Error401),
        (status = 403, description = "The token is not an operator's (operator_scope_required)", body = doc::Error),
        (status = 503, response = Error503),
    ),
)]
async fn dead_letters_list(
    State(deps): Shared,
    operator: Operator,
    Query(q): Query<dead_letters::DeadLetterFilters>,
) -> Reply {
    reply(dead_letters::list(&deps, &operator, q).await)
}

#[utoipa::path(
    post, path = "/v1/dead-letters", tag = "operations",
    summary = "Replay dead letters to their source queues (operators): one by message_id, a filter (queue, company_id, kind) or all. Each is deleted only after its copy was sent; work that already succeeded changes nothing",
    request_body = doc::DeadLetterReplayInput,
    responses(
        (status = 200, description = "What was sent back", body = doc::DeadLetterReplayResult),
        (status = 400, response = Error400),
        (status = 401, response = Error401),
        (status = 403, description = "The token is not an operator's (operator_scope_required)", body = doc::Error),
        (status = 404, response = openapi::Error404),
        (status = 415, response = Error415),
        (status = 503, response = Error503),
    ),
)]
async fn dead_letters_replay(
    State(deps): Shared,
    operator: Operator,
    Json(input): Json<tillbridge::dead_letters::DeadLetterReplayInput>,
) -> Reply {
    reply(dead_letters::replay(&deps, &operator, input).await)
}

// Account mappings, the ERP connection and journals.

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/account-mappings", tag = "journals",
    summary = "The account mapping: company document, location overrides, the POS's codes and those still unmapped, the ERP connection",
    params(Company),
    responses(
        (status = 200, description = "The overview", body = doc::AccountMappingOverview),
        Refused,
    ),
)]
async fn account_mappings_get(State(deps): Shared, s: Scope) -> Reply {
    reply(accounts::overview(&deps, &s.company_id).await)
}

#[utoipa::path(
    put, path = "/v1/companies/{company_id}/account-mappings", tag = "journals",
    summary = "Replace the company's account mapping (it must name discount, service_charge, tips and rounding)",
    params(Company),
    request_body = doc::AccountMappingInput,
    responses(
        (status = 200, description = "Saved", body = doc::AccountMapping),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn account_mappings_put(
    State(deps): Shared,
    s: Scope,
    Json(b): Json<AccountMapping>,
) -> Reply {
    reply(accounts::put_company(&deps, b, &s.company_id).await)
}

#[utoipa::path(
    post, path = "/v1/companies/{company_id}/account-mappings/sync", tag = "journals",
    summary = "Read the POS's payment methods and tax codes from Lightspeed",
    params(Company),
    request_body = doc::SyncInput,
    responses(
        (status = 200, description = "What Lightspeed lists", body = doc::PosCodes),
        Refused, NotJson, UpstreamFailed,
    ),
)]
async fn account_mappings_sync(State(deps): Shared, s: Scope, Json(b): Json<SyncInput>) -> Reply {
    reply(routes::synced(&deps, &s.company_id, &now(), b, pos_codes::sync).await)
}

#[utoipa::path(
    put, path = "/v1/companies/{company_id}/account-mappings/locations/{id}", tag = "journals",
    summary = "Replace a location's override (its entries win over the company's)",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    request_body = doc::AccountMappingInput,
    responses(
        (status = 200, description = "Saved", body = doc::AccountMapping),
        Refused, Conflict, NotJson, Unprocessable,
    ),
)]
async fn account_mapping_location_put(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Json(b): Json<AccountMapping>,
) -> Reply {
    reply(accounts::put_location(&deps, b, &s.company_id, &p.id).await)
}

#[utoipa::path(
    delete, path = "/v1/companies/{company_id}/account-mappings/locations/{id}", tag = "journals",
    summary = "Remove a location's override",
    params(Company, ("id" = doc::PathId, Path, description = "Location id")),
    responses(
        (status = 200, description = "Removed (or there was none)", body = doc::MappingDeleted),
        Refused,
    ),
)]
async fn account_mapping_location_delete(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
) -> Reply {
    reply(accounts::delete_location(&deps, &s.company_id, &p.id).await)
}

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/account-mappings/erp", tag = "journals",
    summary = "The ERP connection (never its key)",
    params(Company),
    responses(
        (status = 200, description = "The connection", body = doc::ErpConnection),
        Refused, Unprocessable,
    ),
)]
async fn erp_connection_get(State(deps): Shared, s: Scope) -> Reply {
    reply(accounts::get_erp(&deps, &s.company_id).await)
}

#[utoipa::path(
    put, path = "/v1/companies/{company_id}/account-mappings/erp", tag = "journals",
    summary = "Connect the ERP (Odoo): URL, database, login and API key (kept in Secrets Manager)",
    params(Company),
    request_body = doc::ErpConnectionInput,
    responses((status = 200, description = "Saved", body = doc::ErpConnection), Refused, NotJson),
)]
async fn erp_connection_put(
    State(deps): Shared,
    s: Scope,
    Json(b): Json<ConnectionInput>,
) -> Reply {
    reply(accounts::put_erp(&deps, b, &s.company_id).await)
}

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/journals", tag = "journals",
    summary = "Day journals with dates in from..=to (at most 366 days), every revision, by location and date",
    params(Company, journals::JournalFilters),
    responses((status = 200, description = "The journals", body = doc::JournalPage), Refused),
)]
async fn journals_list(
    State(deps): Shared,
    s: Scope,
    Query(q): Query<journals::JournalFilters>,
) -> Reply {
    reply(journals::list(&deps, q, &s.company_id).await)
}

#[utoipa::path(
    post, path = "/v1/companies/{company_id}/journals/repost", tag = "journals",
    summary = "Queue a location-day's journal again (posting decides what, if anything, changes)",
    params(Company),
    request_body = doc::JournalRepostInput,
    responses((status = 202, description = "Queued", body = doc::JournalQueued), Refused, NotJson),
)]
async fn journals_repost(
    State(deps): Shared,
    s: Scope,
    Json(b): Json<journals::RepostInput>,
) -> Reply {
    reply(journals::repost(&deps, b, &s.company_id).await)
}

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/journals/{id}", tag = "journals",
    summary = "One journal revision with its lines and ERP move",
    params(Company, ("id" = doc::PathId, Path, description = "<location_id>:<business_date>:<revision>")),
    responses((status = 200, description = "The journal", body = doc::Journal), Refused),
)]
async fn journal_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(journals::get(&deps, &s.company_id, &p.id).await)
}

// Reconciliation and KPIs.

#[utoipa::path(
    post, path = "/v1/companies/{company_id}/reconciliation", tag = "reconciliation",
    summary = "Reconcile a business date or a range (at most 31 days) now: Lightspeed, the ledger and the ERP, per location",
    params(Company),
    request_body = doc::ReconciliationInput,
    responses((status = 200, description = "Every day's report and the company's standing exceptions", body = doc::CompanyRun), Refused, NotJson, Unprocessable),
)]
async fn reconciliation_run(
    State(deps): Shared,
    s: Scope,
    Json(b): Json<reconciliation::RunInput>,
) -> Reply {
    reply(reconciliation::run(&deps, b, &s.company_id).await)
}

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/reconciliation", tag = "reconciliation",
    summary = "Stored reconciliation reports with dates in from..=to (at most 366 days), by location and date",
    params(Company, reconciliation::ReportFilters),
    responses((status = 200, description = "The reports", body = doc::DayReportPage), Refused),
)]
async fn reconciliation_list(
    State(deps): Shared,
    s: Scope,
    Query(q): Query<reconciliation::ReportFilters>,
) -> Reply {
    reply(reconciliation::list(&deps, q, &s.company_id).await)
}

#[utoipa::path(
    get, path = "/v1/companies/{company_id}/kpis", tag = "reconciliation",
    summary = "Reconciliation KPIs over from..=to: days reconciled, unreconciled sales, inventory variance, open alerts, time to resolution",
    params(Company, reconciliation::KpiRange),
    responses((status = 200, description = "The KPIs", body = doc::Kpis), Refused, Unprocessable),
)]
async fn kpis_get(
    State(deps): Shared,
    s: Scope,
    Query(q): Query<reconciliation::KpiRange>,
) -> Reply {
    reply(reconciliation::kpis(&deps, q, &s.company_id).await)
}

// CSV imports: column mappings, uploads, CSV locations.

#[utoipa::path(
    post,
    path = "/v1/companies/{company_id}/locations",
    tag = "imports",
    summary = "Create a CSV location (a site whose sales arrive as files)",
    params(Company),
    request_body = NewCsvLocation,
    responses(
        (status = 201, description = "The location (product `csv`, auto-issue off)", body = doc::Location),
        Refused, Conflict, NotJson,
    ),
)]
async fn csv_location_create(
    State(deps): Shared,
    s: Scope,
    Json(b): Json<NewCsvLocation>,
) -> Reply {
    reply(imports::location_create(&deps, b, &s.company_id).await)
}

#[utoipa::path(
    get,
    path = "/v1/companies/{company_id}/imports/mappings",
    tag = "imports",
    summary = "List saved CSV column mappings",
    params(Company, PageQuery),
    responses(
        (status = 200, description = "One page", body = imports::ColumnMappingPage),
        Refused,
    ),
)]
async fn import_mappings_list(State(deps): Shared, s: Scope, Query(q): Query<PageQuery>) -> Reply {
    reply(imports::mappings_list(&deps, q, &s.company_id).await)
}

#[utoipa::path(
    get,
    path = "/v1/companies/{company_id}/imports/mappings/{id}",
    tag = "imports",
    summary = "One saved column mapping",
    params(Company, ("id" = doc::PathId, Path, description = "Mapping id")),
    responses(
        (status = 200, description = "The mapping", body = ColumnMapping),
        Refused,
    ),
)]
async fn import_mapping_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(imports::mapping_get(&deps, &s.company_id, &p.id).await)
}

#[utoipa::path(
    put,
    path = "/v1/companies/{company_id}/imports/mappings/{id}",
    tag = "imports",
    summary = "Save a column mapping (create or replace)",
    params(Company, ("id" = doc::PathId, Path, description = "Mapping id")),
    request_body = CsvFormat,
    responses(
        (status = 200, description = "The saved mapping", body = ColumnMapping),
        Refused, Conflict, NotJson,
    ),
)]
async fn import_mapping_put(
    State(deps): Shared,
    s: Scope,
    Path(p): Path<Id>,
    Json(b): Json<CsvFormat>,
) -> Reply {
    reply(imports::mapping_put(&deps, b, &s.company_id, &p.id).await)
}

#[utoipa::path(
    delete,
    path = "/v1/companies/{company_id}/imports/mappings/{id}",
    tag = "imports",
    summary = "Delete a column mapping (imports made with it stay)",
    params(Company, ("id" = doc::PathId, Path, description = "Mapping id")),
    responses(
        (status = 200, description = "Deleted", body = doc::MappingDeleted),
        Refused,
    ),
)]
async fn import_mapping_delete(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(imports::mapping_delete(&deps, &s.company_id, &p.id).await)
}

#[utoipa::path(
    post,
    path = "/v1/companies/{company_id}/imports",
    tag = "imports",
    summary = "Upload a CSV file of sales against a saved mapping (all rows or none)",
    description = "The body is the file (`text/csv`, UTF-8, at most 5 MiB and 100,000 rows). Every row is checked before anything is written; a bad row refuses the whole file with each problem listed. The same file again imports nothing (`already_imported`). With `dry_run=true` nothing is written and the answer is what would be imported.",
    params(
        Company,
        ("mapping_id" = doc::PathId, Query, description = "The saved column mapping to read the file with"),
        ("dry_run" = Option<doc::Flag>, Query, description = "true: report only"),
    ),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 201, description = "Imported; each location-day's transfer is queued", body = imports::ImportAnswer),
        (status = 200, description = "A dry run, or a file imported before", body = imports::ImportAnswer),
        (status = 413, description = "The file is over 5 MiB or 100,000 rows, or spans over 2,000 location-days (payload_too_large)", body = doc::Error),
        (status = 422, description = "Rows refused (csv_rows_invalid, with each row), or the file unreadable (csv_invalid, csv_encoding_unsupported)", body = imports::ImportRefusal),
        Refused,
        (status = 415, description = "The body is not sent as text/csv (unsupported_media_type)", body = doc::Error),
    ),
)]
async fn imports_upload(
    State(deps): Shared,
    s: Scope,
    Query(q): Query<imports::ImportQuery>,
    imports::CsvFile(file): imports::CsvFile,
) -> Reply {
    reply(imports::upload(&deps, &s.company_id, q, &file).await)
}

#[utoipa::path(
    get,
    path = "/v1/companies/{company_id}/imports",
    tag = "imports",
    summary = "List imports",
    params(Company, PageQuery),
    responses(
        (status = 200, description = "One page", body = imports::ImportPage),
        Refused,
    ),
)]
async fn imports_list(State(deps): Shared, s: Scope, Query(q): Query<PageQuery>) -> Reply {
    reply(imports::list(&deps, q, &s.company_id).await)
}

#[utoipa::path(
    get,
    path = "/v1/companies/{company_id}/imports/{id}",
    tag = "imports",
    summary = "One import: its file digest, rows, location-days and items",
    params(Company, ("id" = doc::PathId, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import", body = ImportRecord),
        Refused,
    ),
)]
async fn import_get(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(imports::get(&deps, &s.company_id, &p.id).await)
}

#[utoipa::path(
    post,
    path = "/v1/companies/{company_id}/imports/{id}/transfers",
    tag = "imports",
    summary = "Transfer every location-day of an import again (after mapping its items)",
    params(Company, ("id" = doc::PathId, Path, description = "Import id")),
    responses(
        (status = 202, description = "Queued", body = imports::TransfersQueued),
        Refused,
    ),
)]
async fn import_transfer_again(State(deps): Shared, s: Scope, Path(p): Path<Id>) -> Reply {
    reply(imports::transfer_again(&deps, &s.company_id, &p.id).await)
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
