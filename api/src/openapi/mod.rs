//! The admin API's OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! annotations and the named schemas ([`schemas`]). `tillbridge-local openapi` writes it to
//! `lib/openapi/admin-api.json`; a test fails when the committed copy has drifted.

pub mod schemas;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};
use utoipa::{Modify, OpenApi};

use crate::router::{self, CORRELATION_HEADER};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tillbridge admin API",
        version = "0.1.0",
        description = "Company-scoped administration of tillbridge: catalogue, Lightspeed connection, locations, items and mappings, transfers, ledger, migrations, account mappings, journals and alerts. Every error uses the envelope {\"error\": {\"code\", \"message\", \"correlation_id\"?}}; every response carries x-correlation-id. Every list is paginated with limit (1–100, default 50) and an opaque cursor. Exact decimals travel as strings.",
    ),
    servers((url = "/")),
    security(("jwt" = [])),
    paths(
        router::alerts_list,
        router::alert_acknowledge,
        router::ingredients_list,
        router::ingredients_create,
        router::ingredient_get,
        router::ingredient_update,
        router::ingredient_delete,
        router::receipts_list,
        router::receipts_create,
        router::integrations_list,
        router::integrations_connect,
        router::integration_get,
        router::integration_disconnect,
        router::integration_reauthorize,
        router::items_list,
        router::items_sync,
        router::item_get,
        router::item_mapping_put,
        router::item_mapping_delete,
        router::locations_list,
        router::locations_sync,
        router::location_get,
        router::location_configure,
        router::location_activate,
        router::location_link,
        router::location_unlink,
        router::transfer_logs_list,
        router::recipes_list,
        router::recipes_create,
        router::recipe_get,
        router::recipe_update,
        router::recipe_delete,
        router::recipe_explosion,
        router::storage_units_list,
        router::storage_units_create,
        router::storage_unit_get,
        router::storage_unit_update,
        router::openapi,
        router::transfers_start,
        router::ledger_list,
        router::ledger_get,
        router::migrations_create,
        router::migrations_list,
        router::migration_get,
        router::migration_cancel,
        router::account_mappings_get,
        router::account_mappings_put,
        router::account_mappings_sync,
        router::account_mapping_location_put,
        router::account_mapping_location_delete,
        router::erp_connection_get,
        router::erp_connection_put,
        router::journals_list,
        router::journals_repost,
        router::journal_get,
        router::reconciliation_run,
        router::reconciliation_list,
        router::kpis_get,
        router::register_closures_list,
        router::csv_location_create,
        router::import_mappings_list,
        router::import_mapping_get,
        router::import_mapping_put,
        router::import_mapping_delete,
        router::imports_upload,
        router::imports_list,
        router::import_get,
        router::import_transfer_again,
        router::dead_letters_list,
        router::dead_letters_replay,
    ),
    components(
        schemas(
            schemas::Error,
            schemas::Decimal,
            schemas::StorageUnitInput,
            schemas::StorageUnitPatch,
            schemas::IngredientInput,
            schemas::IngredientPatch,
            schemas::ReceiptInput,
            schemas::RecipeLine,
            schemas::RecipeInput,
            schemas::RecipePatch,
            schemas::SyncInput,
            schemas::LocationSettings,
            schemas::LinkInput,
            schemas::MappingInput,
            schemas::ConnectInput,
            schemas::ManualTransferInput,
            schemas::TransferResult,
            schemas::Product,
            schemas::StorageUnit,
            schemas::StorageUnitPage,
            schemas::Ingredient,
            schemas::IngredientPage,
            schemas::RecipeLineView,
            schemas::Recipe,
            schemas::RecipePage,
            schemas::Explosion,
            schemas::Receipt,
            schemas::ReceiptPage,
            schemas::ReceiptCreated,
            schemas::Alert,
            schemas::AlertPage,
            schemas::Integration,
            schemas::IntegrationPage,
            schemas::AuthorizationStarted,
            schemas::MappingView,
            schemas::Item,
            schemas::ItemPage,
            schemas::ItemSyncSummary,
            schemas::MappingDeleted,
            schemas::Location,
            schemas::LocationPage,
            schemas::LocationSyncSummary,
            schemas::LocationDetail,
            schemas::Activation,
            schemas::TransferStats,
            schemas::TransferError,
            schemas::RetryScheduled,
            schemas::TransferLog,
            schemas::TransferLogPage,
            schemas::TransferQueued,
            schemas::MigrationJob,
            schemas::MigrationJobPage,
            schemas::MigrationDay,
            schemas::MigrationDetail,
            schemas::LedgerEntry,
            schemas::LedgerPage,
            schemas::SourceLine,
            schemas::LedgerEntryDetail,
            schemas::OpenApiDocument,
            schemas::PercentInput,
            schemas::TimeZone,
            schemas::MigrationInput,
            schemas::CompanyId,
            schemas::PathId,
            schemas::QueryId,
            schemas::QuantityInput,
            schemas::MoneyInput,
            schemas::CurrencyCode,
            schemas::CostView,
            crate::routes::Limit,
            schemas::Cursor,
            schemas::AlertStatusFilter,
            schemas::Flag,
            schemas::Text,
            schemas::IdempotencyKey,
            schemas::SalesLine,
            schemas::BusinessDate,
            schemas::TransferAccepted,
            schemas::TransferFailure,
            schemas::AccountMappingInput,
            schemas::AccountMapping,
            schemas::AccountMappingOverview,
            schemas::PosCodes,
            schemas::ErpConnectionInput,
            schemas::ErpConnection,
            schemas::Journal,
            schemas::JournalPage,
            schemas::JournalStatusFilter,
            schemas::JournalRepostInput,
            schemas::JournalQueued,
            schemas::RegisterClosure,
            schemas::RegisterClosurePage,
            schemas::ReconciliationInput,
            schemas::CompanyRun,
            schemas::RunSummary,
            schemas::DayReport,
            schemas::DayReportPage,
            schemas::DayStatus,
            schemas::DayStatusFilter,
            schemas::Exception,
            schemas::Difference,
            schemas::JournalCheck,
            schemas::Kpis,
            schemas::Unreconciled,
            schemas::DeadLetterQueueName,
            schemas::DeadLetterKind,
            schemas::DeadLetterView,
            schemas::DeadLetterQueueView,
            schemas::DeadLetterList,
            schemas::DeadLetterReplayInput,
            schemas::DeadLetterReplayed,
            schemas::DeadLetterReplayResult,
        ),
        responses(
            Error400,
            Error401,
            Error403,
            Error404,
            Error409,
            Error415,
            Error422,
            Error424,
            Error502,
            Error503,
        ),
    ),
    modifiers(&Shell),
)]
struct AdminApi;

/// The document as committed: pretty-printed, keys sorted, so regenerating it is stable.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut value = serde_json::to_value(AdminApi::openapi()).unwrap_or_default();
        mark_correlation_headers(&mut value);
        let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
        text.push('\n');
        text
    })
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// utoipa's response header has no `required`: the correlation header is, except where an
/// authorizer in front of the function may answer ([`CORRELATION_IF_ANY`]).
fn mark_correlation_headers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(header)) = map
                .get_mut("headers")
                .and_then(|headers| headers.get_mut(CORRELATION_HEADER))
            {
                let always = header.get("description") != Some(&Value::from(CORRELATION_IF_ANY));
                header.insert("required".into(), Value::Bool(always));
            }
            map.values_mut().for_each(mark_correlation_headers);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_correlation_headers),
        _ => {}
    }
}

fn text_schema(min_length: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min_length))
}

/// The response header every answer of the function carries.
fn correlation_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(text_schema(1))
        .description(Some(description))
        .build()
}

const ANSWERED: &str = "The request's correlation id: the caller's x-correlation-id when it is well formed, else a new one.";

const CORRELATION_IF_ANY: &str = "The correlation id, when the function answered (an authorizer refusal in front of it has none).";

/// The error responses operations name by status: the envelope and the correlation header.
macro_rules! error_responses {
    ($($name:ident => ($status:literal, $description:literal),)*) => {$(
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                let header = if $status == 401 {
                    // An authorizer refusal in front of the function has none.
                    correlation_header(CORRELATION_IF_ANY)
                } else {
                    correlation_header(ANSWERED)
                };
                let response = ResponseBuilder::new()
                    .description($description)
                    .header(CORRELATION_HEADER, header)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Error")))
                            .build(),
                    )
                    .build();
                (stringify!($name), RefOr::T(response))
            }
        }
    )*};
}

error_responses! {
    Error400 => (400, "The request is malformed: invalid_json, validation_failed, invalid_cursor, invalid_date_format, date_required, invalid_state"),
    Error401 => (401, "No token, or a token without a company_id claim (unauthenticated)"),
    Error403 => (403, "The token is for another company (unauthorized_company_access)"),
    Error404 => (404, "Not found: the named object (*_not_found) or a malformed company id (route_not_found)"),
    Error409 => (409, "Conflict: in use, already running, or concurrent writers collided (write_contention; retry)"),
    Error415 => (415, "The body is not sent as application/json (unsupported_media_type)"),
    Error422 => (422, "Understood but not possible: a rule of the object is broken, a value is out of range (value_out_of_range) or an Idempotency-Key was reused with another body"),
    Error424 => (424, "Lightspeed refused the stored credentials (lightspeed_auth_failed): reauthorize"),
    Error502 => (502, "Lightspeed answered with an error or unusable data"),
    Error503 => (503, "A backing service (state store, queue, secret store, Lightspeed configuration) is unavailable; retry later"),
}

/// Sets of error responses, as references to the shared ones, that operations name together.
macro_rules! error_sets {
    ($($name:ident => [$($status:literal),*],)*) => {$(
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                [$($status),*]
                    .into_iter()
                    .map(|status: u16| {
                        let name = format!("Error{status}");
                        (status.to_string(), RefOr::Ref(Ref::from_response_name(name)))
                    })
                    .collect()
            }
        }
    )*};
}

error_sets! {
    Refused => [400, 401, 403, 404, 503],
    Conflict => [409],
    NotJson => [415],
    Unprocessable => [422],
    UpstreamFailed => [424, 502],
}

/// The company path parameter every company-scoped operation has.
pub struct Company;

impl utoipa::IntoParams for Company {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<utoipa::openapi::path::Parameter> {
        vec![ParameterBuilder::new()
            .name("company_id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(
                "The caller's company (must match the token's company_id claim).",
            ))
            .schema(Some(Ref::from_schema_name("CompanyId")))
            .build()]
    }
}

/// What every operation shares: the `jwt` scheme, the optional correlation id parameter,
/// and the correlation header on each of its own (non-shared) responses.
struct Shell;

impl Modify for Shell {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.values_mut().for_each(close_objects);
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token whose company_id claim names the caller's company; the operator routes (/v1/dead-letters) take a token with the claim role: operator instead.",
                    ))
                    .build(),
            ),
        );
        let parameter = ParameterBuilder::new()
            .name(CORRELATION_HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("Correlates the request with its logs; echoed in the x-correlation-id response header. A value that is not 1 to 100 of A-Z a-z 0-9 _ . : - is replaced by a new id."))
            .schema(Some(
                text_schema(1)
                    .max_length(Some(100))
                    .pattern(Some("^[A-Za-z0-9_.:-]+$")),
            ))
            .build();
        // A PATCH body must change something. (Said here rather than with
        // `#[schema(min_properties = 1)]`, which utoipa-gen 5.5 emits as `maxProperties`.)
        let patches: Vec<String> = openapi
            .paths
            .paths
            .values()
            .filter_map(|item| item.patch.as_ref()?.request_body.as_ref())
            .flat_map(|body| body.content.values())
            .filter_map(|content| match &content.schema {
                Some(RefOr::Ref(r)) => r.ref_location.rsplit('/').next().map(str::to_string),
                _ => None,
            })
            .collect();
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in patches {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
                object.min_properties = Some(1);
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                if let Some(body) = operation.request_body.as_mut() {
                    if body.required != Some(Required::True) {
                        body.content
                            .values_mut()
                            .for_each(|content| absent_not_null(&mut content.schema));
                    }
                }
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                parameters
                    .iter_mut()
                    .filter(|p| p.required == Required::False)
                    .for_each(|p| absent_not_null(&mut p.schema));
                parameters.push(parameter.clone());
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response
                            .headers
                            .insert(CORRELATION_HEADER.to_string(), correlation_header(ANSWERED));
                    }
                }
            }
        }
    }
}

/// Every object the API accepts or answers is closed: a field it does not name is refused
/// on the way in and never sent. (A derived schema says so only for `deny_unknown_fields`.)
fn close_objects(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            if object.schema_type == Type::Object.into()
                && !object.properties.is_empty()
                && object.additional_properties.is_none()
            {
                object.additional_properties = Some(Box::new(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                ));
            }
            object.properties.values_mut().for_each(close_objects);
        }
        RefOr::T(Schema::Array(array)) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                close_objects(items);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// utoipa describes an `Option<T>` body or header as `T` or `null`: an optional one is
/// absent, and a `null` one is refused like any other wrong value.
fn absent_not_null(schema: &mut Option<RefOr<Schema>>) {
    if let Some(RefOr::T(Schema::OneOf(one_of))) = schema {
        let not_null = one_of.items.iter().find(|item| {
            !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into())
        });
        if let Some(item) = not_null {
            *schema = Some(item.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = include_str!("../../../lib/openapi/admin-api.json");

    #[test]
    fn the_committed_document_is_the_generated_one() {
        assert!(
            COMMITTED == document(),
            "lib/openapi/admin-api.json differs from the generated document: \
             run `cargo run -p tillbridge-local -- openapi`"
        );
    }

    #[test]
    fn the_served_document_is_the_committed_one_minified() {
        let served = router::openapi_json().unwrap();
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        assert_eq!(served, serde_json::to_string(&committed).unwrap());
    }
}
